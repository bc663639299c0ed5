#include "services/gateway/policy.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace mileagebank::gateway {
namespace {

constexpr v1::Role kAgent = v1::AGENT;
constexpr v1::Role kSupervisor = v1::OFFICE_SUPERVISOR;
constexpr v1::Role kCallCentre = v1::CALL_CENTRE;
constexpr v1::Role kPartner = v1::PARTNER;
constexpr v1::Role kFinance = v1::FINANCE;
constexpr v1::Role kAdmin = v1::ADMIN;

// Staff who serve members: the front line.
const std::vector<v1::Role> kFrontLine = {kAgent, kSupervisor, kCallCentre};

std::vector<Operation> BuildOperations() {
  const std::string membership = "/mileagebank.membership.v1.Membership/";
  const std::string accrual = "/mileagebank.accrual.v1.Accrual/";
  const std::string redemption = "/mileagebank.redemption.v1.Redemption/";
  const std::string settlement = "/mileagebank.settlement.v1.Settlement/";
  const std::string reporting = "/mileagebank.reporting.v1.Reporting/";
  const std::string gateway = "/mileagebank.gateway.v1.Gateway/";
  const std::string admin = "/mileagebank.common.v1.";
  using M = MemberAccess;
  // Settlement scopes a PARTNER key to its own partner by the x-mb-partner
  // metadata the gateway sets; the partner's operations below rely on that.
  return {
      // Membership. VerifyPassword and the qualifying-activity calls are
      // between services only.
      {membership + "Enrol", kFrontLine, M::kAnyone, true},
      {membership + "GetMember", {kAgent, kSupervisor, kCallCentre, kAdmin},
       M::kOwnMember},
      {membership + "UpdateProfile", kFrontLine, M::kOwnMember, true},
      {membership + "FindMembers", kFrontLine},
      {membership + "ChangeStatus", {kSupervisor, kAdmin}, M::kNone, true},
      {membership + "MergeMembers", {kSupervisor, kAdmin}, M::kNone, true},
      {membership + "SetPassword", {kSupervisor, kCallCentre}, M::kOwnMember,
       true},
      {membership + "AddNominee", kFrontLine, M::kOwnMember, true},
      {membership + "RemoveNominee", kFrontLine, M::kOwnMember, true},
      {membership + "ListNominees", kFrontLine, M::kOwnMember},
      {membership + "GetTier", kFrontLine, M::kOwnMember},
      {membership + "ImportMembers", {kAdmin}, M::kNone, true},
      // Accrual. Holds are redemption's, PostActivities settlement's.
      {accrual + "PostOwnFlight", {kAgent, kSupervisor}, M::kNone, true},
      {accrual + "PostPartnerFlight", {kSupervisor}, M::kNone, true},
      {accrual + "PostPartnerActivity", {kSupervisor}, M::kNone, true},
      {accrual + "SubmitRetroClaim", kFrontLine, M::kOwnMember, true},
      {accrual + "GetRetroClaim", kFrontLine, M::kOwnClaim},
      {accrual + "ListRetroClaims", kFrontLine, M::kOwnMember},
      {accrual + "ApproveRetroClaim", {kSupervisor}, M::kNone, true},
      {accrual + "RejectRetroClaim", {kSupervisor}, M::kNone, true},
      // An agent cannot adjust miles; a supervisor can.
      {accrual + "AdjustMiles", {kSupervisor}, M::kNone, true},
      {accrual + "ReverseCredit", {kSupervisor}, M::kNone, true},
      {accrual + "PurchaseMiles", kFrontLine, M::kNone, true},
      {accrual + "TransferMiles", kFrontLine, M::kNone, true},
      {accrual + "GetHold", kFrontLine},
      {accrual + "GetBalance", kFrontLine, M::kOwnMember},
      {accrual + "GetTransaction", kFrontLine},
      {accrual + "GetStatement", kFrontLine, M::kOwnMember},
      {accrual + "ListLots", kFrontLine, M::kOwnMember},
      {accrual + "RunExpiry", {kAdmin}, M::kNone, true},
      {accrual + "VerifyLedger", {kFinance, kAdmin}},
      // Redemption.
      {redemption + "QuoteAward", kFrontLine, M::kAnySession},
      {redemption + "QuoteUpgrade", kFrontLine, M::kAnySession},
      {redemption + "GetAwardSeats", kFrontLine, M::kAnySession},
      {redemption + "SetAwardSeatCapacity", {kAdmin}, M::kNone, true},
      {redemption + "CreateRedemption", kFrontLine, M::kOwnMember, true},
      // A member's own issue is the WEB channel's: the service takes the
      // ticket numbers from its stock.
      {redemption + "IssueRedemption", {kAgent, kSupervisor},
       M::kOwnRedemption, true},
      {redemption + "CancelRedemption", kFrontLine, M::kOwnRedemption, true},
      {redemption + "RefundRedemption", kFrontLine, M::kOwnRedemption, true},
      {redemption + "GetRedemption", kFrontLine, M::kOwnRedemption},
      {redemption + "ListRedemptions", kFrontLine, M::kOwnMember},
      // Settlement.
      {settlement + "RegisterPartner", {kAdmin}, M::kNone, true},
      {settlement + "UpdatePartner", {kAdmin}, M::kNone, true},
      {settlement + "ChangePartnerStatus", {kAdmin}, M::kNone, true},
      {settlement + "GetPartner", {kPartner, kFinance, kAdmin}},
      {settlement + "ListPartners", {kPartner, kFinance, kAdmin}},
      {settlement + "GetEarningTable", {kPartner, kFinance, kAdmin}},
      {settlement + "UploadAccrualFile", {kPartner, kAdmin}, M::kNone, true},
      {settlement + "GetAccrualFile", {kPartner, kFinance, kAdmin}},
      {settlement + "ListAccrualFiles", {kPartner, kFinance, kAdmin}},
      {settlement + "GetAcknowledgement", {kPartner, kFinance, kAdmin}},
      {settlement + "ListOutboxFiles", {kPartner, kFinance, kAdmin}},
      {settlement + "DownloadFile", {kPartner, kFinance, kAdmin}},
      {settlement + "SubmitOutboundFlights", {kAdmin}, M::kNone, true},
      {settlement + "GenerateOutboundFiles", {kAdmin}, M::kNone, true},
      {settlement + "UploadOutboundAcknowledgement", {kPartner, kAdmin},
       M::kNone, true},
      {settlement + "ListOutboundRecords", {kPartner, kFinance, kAdmin}},
      {settlement + "ResendOutboundRecord", {kAdmin}, M::kNone, true},
      {settlement + "GetStatement", {kPartner, kFinance, kAdmin}},
      {settlement + "ListStatements", {kPartner, kFinance, kAdmin}},
      // FINANCE issues and settles statements.
      {settlement + "IssueStatement", {kFinance}, M::kNone, true},
      {settlement + "SettleStatement", {kFinance}, M::kNone, true},
      // Reporting: finance reads reports; a supervisor their office's sales.
      {reporting + "GetMembersReport", {kFinance, kAdmin}},
      {reporting + "GetLiabilityReport", {kFinance, kAdmin}},
      {reporting + "GetAccrualAnalysisReport", {kFinance, kAdmin}},
      {reporting + "GetRedemptionsReport", {kFinance, kAdmin}},
      {reporting + "GetTopMembersReport", {kFinance, kAdmin}},
      {reporting + "GetExpiringMilesReport", {kFinance, kAdmin}},
      {reporting + "GetPartnerSettlementReport", {kFinance, kAdmin}},
      {reporting + "GetSalesOfficeReport", {kSupervisor, kFinance, kAdmin}},
      {reporting + "ExportReportCsv", {kFinance, kAdmin}},
      {reporting + "CheckConsistency", {kFinance, kAdmin}},
      // Each service's online backup of its store (admin.proto); the
      // gateway's own store's is GatewayBackupOperation().
      {admin + "MembershipAdmin/Backup", {kAdmin}, M::kNone, true},
      {admin + "AccrualAdmin/Backup", {kAdmin}, M::kNone, true},
      {admin + "RedemptionAdmin/Backup", {kAdmin}, M::kNone, true},
      {admin + "SettlementAdmin/Backup", {kAdmin}, M::kNone, true},
      {admin + "ReportingAdmin/Backup", {kAdmin}, M::kNone, true},
      // The gateway's own.
      {gateway + "Login", {}, M::kAnyone},
      {gateway + "Refresh", {}, M::kAnyone},
      {gateway + "Logout", {}, M::kAnySession},
      {gateway + "CreateApiKey", {kAdmin}, M::kNone, true},
      {gateway + "ListApiKeys", {kAdmin}},
      {gateway + "RevokeApiKey", {kAdmin}, M::kNone, true},
      {gateway + "QueryAudit", {kAdmin}},
  };
}

}  // namespace

const std::vector<Operation>& Operations() {
  static const auto* operations = new std::vector<Operation>(BuildOperations());
  return *operations;
}

const Operation& GatewayBackupOperation() {
  static const auto* operation =
      new Operation{"/mileagebank.common.v1.GatewayAdmin/Backup",
                    {kAdmin},
                    MemberAccess::kNone,
                    true};
  return *operation;
}

const Operation* FindOperation(absl::string_view method) {
  static const auto* by_method = [] {
    auto* map = new absl::flat_hash_map<std::string, const Operation*>();
    for (const Operation& operation : Operations()) {
      (*map)[operation.method] = &operation;
    }
    return map;
  }();
  auto found = by_method->find(method);
  return found == by_method->end() ? nullptr : found->second;
}

absl::Status Authorize(const Principal& principal, const Operation& operation) {
  if (operation.member == MemberAccess::kAnyone) return absl::OkStatus();
  switch (principal.kind) {
    case Principal::Kind::kAnonymous:
      return absl::UnauthenticatedError(
          "credentials required: an access token (Authorization: Bearer) or "
          "an API key (x-api-key)");
    case Principal::Kind::kMember:
      if (operation.member != MemberAccess::kNone) return absl::OkStatus();
      break;
    case Principal::Kind::kApiKey:
      for (v1::Role role : operation.roles) {
        if (principal.HasRole(role)) return absl::OkStatus();
      }
      break;
  }
  return absl::PermissionDeniedError(
      absl::StrCat("not allowed to call ", operation.method));
}

bool SeesPersonalData(const Principal& principal) {
  // A member sees their own; an anonymous caller reaches only the public
  // operations, whose answers are about what they just sent (their
  // enrolment, their session).
  if (principal.kind != Principal::Kind::kApiKey) return true;
  for (v1::Role role : kFrontLine) {
    if (principal.HasRole(role)) return true;
  }
  return false;
}

std::string RoleName(v1::Role role) { return v1::Role_Name(role); }

}  // namespace mileagebank::gateway
