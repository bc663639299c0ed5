#include "services/reporting/sales_offices.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "services/reporting/buckets.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = ::mileagebank::accrual::v1;
namespace mv1 = ::mileagebank::membership::v1;
namespace rv1 = ::mileagebank::redemption::v1;
using store::KeyBuilder;
using store::KeyReader;

constexpr size_t kMaxOfficeCode = 32;

enum Column {
  kEnrolments,
  kClaimsSubmitted,
  kClaimsApproved,
  kClaimsRejected,
  kRedemptionsCreated,
  kRedemptionsIssued,
  kRedemptionMiles,
  kColumns
};

absl::CivilDay DayOf(const google::protobuf::Timestamp& at,
                     const common::v1::Event& event) {
  const google::protobuf::Timestamp& when =
      (at.seconds() != 0 || at.nanos() != 0) ? at : event.recorded_at();
  return validation::UtcDay(validation::FromProtoTimestamp(when));
}

absl::Status Count(ViewState& state, const common::v1::Actor& actor,
                   absl::CivilDay day, Column column, int64_t miles = 0) {
  std::vector<int64_t> values(kColumns, 0);
  values[column] = 1;
  if (column == kRedemptionsIssued) values[kRedemptionMiles] = miles;
  return AddToPeriods(state, kSalesOfficesActivityTable, day,
                      KeyBuilder()
                          .Int64(actor.channel())
                          .String(actor.office_code())
                          .String(actor.operator_id())
                          .Build(),
                      values);
}

absl::Status ApplyMembership(const SourceEvent& event, ViewState& state) {
  MB_ASSIGN_OR_RETURN(const mv1::MemberEnrolled* enrolled,
                      event.Payload<mv1::MemberEnrolled>());
  if (enrolled == nullptr) return absl::OkStatus();
  const mv1::Member& member = enrolled->member();
  return Count(state, member.enrolment(),
               DayOf(member.enrolled_at(), event.event()), kEnrolments);
}

// The claim of a claim event and the column it counts in; null for other
// events.
absl::StatusOr<std::pair<const av1::RetroClaim*, Column>> ClaimOf(
    const SourceEvent& event) {
  MB_ASSIGN_OR_RETURN(const av1::RetroClaimSubmitted* submitted,
                      event.Payload<av1::RetroClaimSubmitted>());
  if (submitted != nullptr) {
    return std::make_pair(&submitted->claim(), kClaimsSubmitted);
  }
  MB_ASSIGN_OR_RETURN(const av1::RetroClaimApproved* approved,
                      event.Payload<av1::RetroClaimApproved>());
  if (approved != nullptr) {
    return std::make_pair(&approved->claim(), kClaimsApproved);
  }
  MB_ASSIGN_OR_RETURN(const av1::RetroClaimRejected* rejected,
                      event.Payload<av1::RetroClaimRejected>());
  if (rejected != nullptr) {
    return std::make_pair(&rejected->claim(), kClaimsRejected);
  }
  return std::make_pair(nullptr, kColumns);
}

absl::Status ApplyAccrual(const SourceEvent& event, ViewState& state) {
  MB_ASSIGN_OR_RETURN(auto claim, ClaimOf(event));
  const auto& [retro_claim, column] = claim;
  if (retro_claim == nullptr) return absl::OkStatus();
  const google::protobuf::Timestamp& at = column == kClaimsSubmitted
                                              ? retro_claim->submitted_at()
                                              : retro_claim->decided_at();
  return Count(state, retro_claim->submitted_by(), DayOf(at, event.event()),
               column);
}

absl::Status ApplyRedemption(const SourceEvent& event, ViewState& state) {
  MB_ASSIGN_OR_RETURN(const rv1::RedemptionHeld* held,
                      event.Payload<rv1::RedemptionHeld>());
  if (held != nullptr) {
    const rv1::RedemptionRecord& r = held->redemption();
    return Count(state, r.created_by(), DayOf(r.created_at(), event.event()),
                 kRedemptionsCreated);
  }
  MB_ASSIGN_OR_RETURN(const rv1::RedemptionIssued* issued,
                      event.Payload<rv1::RedemptionIssued>());
  if (issued != nullptr) {
    const rv1::RedemptionRecord& r = issued->redemption();
    return Count(state, r.created_by(), DayOf(r.issued_at(), event.event()),
                 kRedemptionsIssued, r.total_miles());
  }
  return absl::OkStatus();
}

void FillRow(int channel, const std::string& office, const std::string& agent,
             const std::vector<int64_t>& values, v1::SalesOfficeRow* row) {
  row->set_channel(static_cast<common::v1::Channel>(channel));
  row->set_office_code(office);
  row->set_operator_id(agent);
  row->set_enrolments(CounterAt(values, kEnrolments));
  row->set_retro_claims_submitted(CounterAt(values, kClaimsSubmitted));
  row->set_retro_claims_approved(CounterAt(values, kClaimsApproved));
  row->set_retro_claims_rejected(CounterAt(values, kClaimsRejected));
  row->set_redemptions_created(CounterAt(values, kRedemptionsCreated));
  row->set_redemptions_issued(CounterAt(values, kRedemptionsIssued));
  row->set_redemption_miles(CounterAt(values, kRedemptionMiles));
}

bool AllZero(const std::vector<int64_t>& values) {
  return std::all_of(values.begin(), values.end(),
                     [](int64_t v) { return v == 0; });
}

}  // namespace

std::vector<std::string> SalesOfficesProjection::Tables() const {
  return {kSalesOfficesActivityTable};
}

void SalesOfficesProjection::DeferDerived(ViewState& state) {
  DeferRollUps(state, {kSalesOfficesActivityTable});
}

absl::Status SalesOfficesProjection::DeriveDeferred(const ViewReader& view,
                                                    ViewState& state) {
  return DeriveRollUps(view, state, {kSalesOfficesActivityTable});
}

absl::Status SalesOfficesProjection::Apply(const SourceEvent& event,
                                           ViewState& state) {
  if (event.source() == kMembershipSource) {
    return ApplyMembership(event, state);
  }
  if (event.source() == kAccrualSource) return ApplyAccrual(event, state);
  if (event.source() == kRedemptionSource) {
    return ApplyRedemption(event, state);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetSalesOfficeReportResponse> SalesOfficeReport(
    const ViewReader& view, const v1::GetSalesOfficeReportRequest& request,
    const ReportContext& context) {
  (void)context;
  absl::StatusOr<ReportRange> range = CheckRange(request.range());
  if (!range.ok()) return range.status();
  const std::string& office_filter = request.office_code();
  if (office_filter.size() > kMaxOfficeCode) {
    return InvalidField("office_code",
                        absl::StrCat("at most ", kMaxOfficeCode,
                                     " characters, or empty for every office"));
  }

  using Agent = std::tuple<int, std::string, std::string>;
  std::map<Agent, std::vector<int64_t>> agents;
  MB_RETURN_IF_ERROR(ScanPeriods(
      view, kSalesOfficesActivityTable, *range, /*dims_prefix=*/"",
      [&](absl::string_view key, const std::vector<int64_t>& values) {
        if (AllZero(values)) return absl::OkStatus();
        KeyReader reader(key);
        int64_t channel;
        std::string office, agent;
        if (!reader.Int64(&channel) || !reader.String(&office) ||
            !reader.String(&agent)) {
          return absl::DataLossError(absl::StrCat("reporting: a bad key in ",
                                                  kSalesOfficesActivityTable));
        }
        if (office_filter.empty() || office == office_filter) {
          AddCounters(values,
                      &agents[{static_cast<int>(channel), office, agent}]);
        }
        return absl::OkStatus();
      }));

  v1::GetSalesOfficeReportResponse response;
  std::map<std::pair<int, std::string>, std::vector<int64_t>> offices;
  for (const auto& [agent, values] : agents) {
    if (AllZero(values)) continue;
    AddCounters(values, &offices[{std::get<0>(agent), std::get<1>(agent)}]);
    FillRow(std::get<0>(agent), std::get<1>(agent), std::get<2>(agent), values,
            response.add_by_agent());
  }
  for (const auto& [office, values] : offices) {
    FillRow(office.first, office.second, "", values, response.add_by_office());
  }
  return response;
}

}  // namespace mileagebank::reporting
