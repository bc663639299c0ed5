#include "services/gateway/routes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace mileagebank::gateway {
namespace {

constexpr char kMembership[] = "/mileagebank.membership.v1.Membership/";
constexpr char kAccrual[] = "/mileagebank.accrual.v1.Accrual/";
constexpr char kRedemption[] = "/mileagebank.redemption.v1.Redemption/";
constexpr char kGateway[] = "/mileagebank.gateway.v1.Gateway/";

std::vector<Route> BuildRoutes() {
  const std::string member = "/v1/members/{member_number}";
  const std::string redemption = member + "/redemptions/{redemption_id}";
  auto op = [](const char* service, const char* method) {
    return std::string(service) + method;
  };
  return {
      {"POST", "/v1/session", op(kGateway, "Login"),
       "Log in with member number or e-mail and password"},
      {"POST", "/v1/session/refresh", op(kGateway, "Refresh"),
       "Exchange a refresh token for a new session"},
      {"DELETE", "/v1/session", op(kGateway, "Logout"), "Log out"},
      {"POST", "/v1/members", op(kMembership, "Enrol"), "Join the programme"},
      {"GET", member, op(kMembership, "GetMember"), "A member"},
      {"GET", std::string(kDashboardPath), "",
       "Member, balance, tier and lots in one answer"},
      {"PATCH", member + "/profile", op(kMembership, "UpdateProfile"),
       "Change profile fields named by update_mask"},
      {"GET", member + "/tier", op(kMembership, "GetTier"),
       "Tier and progress toward the next"},
      {"GET", member + "/balance", op(kAccrual, "GetBalance"), "Miles"},
      {"GET", member + "/statement", op(kAccrual, "GetStatement"),
       "Ledger transactions, filtered and paged"},
      {"GET", member + "/lots", op(kAccrual, "ListLots"),
       "Mileage lots and their expiry"},
      {"GET", member + "/claims", op(kAccrual, "ListRetroClaims"),
       "Claims for missing miles"},
      {"POST", member + "/claims", op(kAccrual, "SubmitRetroClaim"),
       "Claim missing miles for a flight"},
      {"GET", member + "/nominees", op(kMembership, "ListNominees"),
       "Nominees"},
      {"POST", member + "/nominees", op(kMembership, "AddNominee"),
       "Add a nominee"},
      {"DELETE", member + "/nominees/{nominee_id}",
       op(kMembership, "RemoveNominee"), "Remove a nominee"},
      {"POST", member + "/password", op(kMembership, "SetPassword"),
       "Change password"},
      {"POST", "/v1/awards/quote", op(kRedemption, "QuoteAward"),
       "Miles and taxes for an award"},
      {"POST", "/v1/awards/seats", op(kRedemption, "GetAwardSeats"),
       "Award seats left on a flight"},
      {"GET", member + "/redemptions", op(kRedemption, "ListRedemptions"),
       "Redemptions"},
      {"POST", member + "/redemptions", op(kRedemption, "CreateRedemption"),
       "Redeem an award"},
      {"GET", redemption, op(kRedemption, "GetRedemption"), "A redemption"},
      {"POST", redemption + "/issue", op(kRedemption, "IssueRedemption"),
       "Issue a held redemption's award tickets"},
      {"POST", redemption + "/cancel", op(kRedemption, "CancelRedemption"),
       "Cancel a redemption not yet issued"},
      {"POST", redemption + "/refund", op(kRedemption, "RefundRedemption"),
       "Refund an issued redemption"},
  };
}

bool MatchPath(absl::string_view pattern, absl::string_view path,
               PathParameters* parameters) {
  std::vector<absl::string_view> want = absl::StrSplit(pattern, '/');
  std::vector<absl::string_view> got = absl::StrSplit(path, '/');
  if (want.size() != got.size()) return false;
  PathParameters found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (absl::StartsWith(want[i], "{")) {
      if (got[i].empty()) return false;
      found.emplace_back(want[i].substr(1, want[i].size() - 2), got[i]);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  *parameters = std::move(found);
  return true;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& DashboardParts() {
  static const auto* parts = new std::vector<std::pair<std::string, std::string>>{
      {"member", std::string(kMembership) + "GetMember"},
      {"balance", std::string(kAccrual) + "GetBalance"},
      {"tier", std::string(kMembership) + "GetTier"},
      {"lots", std::string(kAccrual) + "ListLots"},
  };
  return *parts;
}

const std::vector<Route>& Routes() {
  static const auto* routes = new std::vector<Route>(BuildRoutes());
  return *routes;
}

const Route* MatchRoute(absl::string_view http_method, absl::string_view path,
                        PathParameters* parameters, bool* path_matched) {
  *path_matched = false;
  for (const Route& route : Routes()) {
    PathParameters found;
    if (!MatchPath(route.path, path, &found)) continue;
    *path_matched = true;
    if (route.http_method == http_method) {
      *parameters = std::move(found);
      return &route;
    }
  }
  return nullptr;
}

}  // namespace mileagebank::gateway
