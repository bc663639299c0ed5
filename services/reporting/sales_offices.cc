#include "services/reporting/sales_offices.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/errors.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
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

constexpr int64_t kMonthRow = 0;
constexpr int64_t kDayRow = 1;
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
  const std::string dims = KeyBuilder()
                               .Int64(actor.channel())
                               .String(actor.office_code())
                               .String(actor.operator_id())
                               .Build();
  std::string month_key = KeyBuilder()
                              .Int64(kMonthRow)
                              .Day(absl::CivilDay(absl::CivilMonth(day)))
                              .Build();
  month_key += dims;
  absl::Status status =
      state.Add(kSalesOfficesActivityTable, month_key, values);
  if (!status.ok()) return status;
  std::string day_key = KeyBuilder().Int64(kDayRow).Day(day).Build();
  day_key += dims;
  return state.Add(kSalesOfficesActivityTable, day_key, values);
}

template <typename Message>
absl::StatusOr<bool> Unpack(const common::v1::Event& event, Message* message) {
  if (!event.payload().Is<Message>()) return false;
  if (!event.payload().UnpackTo(message)) {
    return absl::DataLossError(absl::StrCat("reporting: an unreadable ",
                                            Message::descriptor()->name()));
  }
  return true;
}

absl::Status ApplyMembership(const common::v1::Event& event, ViewState& state) {
  mv1::MemberEnrolled enrolled;
  absl::StatusOr<bool> is = Unpack(event, &enrolled);
  if (!is.ok() || !*is) return is.status();
  const mv1::Member& member = enrolled.member();
  return Count(state, member.enrolment(), DayOf(member.enrolled_at(), event),
               kEnrolments);
}

absl::Status ApplyAccrual(const common::v1::Event& event, ViewState& state) {
  const google::protobuf::Any& payload = event.payload();
  const av1::RetroClaim* claim = nullptr;
  Column column = kColumns;
  av1::RetroClaimSubmitted submitted;
  av1::RetroClaimApproved approved;
  av1::RetroClaimRejected rejected;
  absl::StatusOr<bool> is = false;
  if (payload.Is<av1::RetroClaimSubmitted>()) {
    is = Unpack(event, &submitted);
    claim = &submitted.claim();
    column = kClaimsSubmitted;
  } else if (payload.Is<av1::RetroClaimApproved>()) {
    is = Unpack(event, &approved);
    claim = &approved.claim();
    column = kClaimsApproved;
  } else if (payload.Is<av1::RetroClaimRejected>()) {
    is = Unpack(event, &rejected);
    claim = &rejected.claim();
    column = kClaimsRejected;
  }
  if (!is.ok() || !*is) return is.status();
  const google::protobuf::Timestamp& at =
      column == kClaimsSubmitted ? claim->submitted_at() : claim->decided_at();
  return Count(state, claim->submitted_by(), DayOf(at, event), column);
}

absl::Status ApplyRedemption(const common::v1::Event& event, ViewState& state) {
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<rv1::RedemptionHeld>()) {
    rv1::RedemptionHeld held;
    absl::StatusOr<bool> is = Unpack(event, &held);
    if (!is.ok()) return is.status();
    const rv1::RedemptionRecord& r = held.redemption();
    return Count(state, r.created_by(), DayOf(r.created_at(), event),
                 kRedemptionsCreated);
  }
  if (payload.Is<rv1::RedemptionIssued>()) {
    rv1::RedemptionIssued issued;
    absl::StatusOr<bool> is = Unpack(event, &issued);
    if (!is.ok()) return is.status();
    const rv1::RedemptionRecord& r = issued.redemption();
    return Count(state, r.created_by(), DayOf(r.issued_at(), event),
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

absl::Status SalesOfficesProjection::Apply(absl::string_view source,
                                           const common::v1::Event& event,
                                           ViewState& state) {
  if (source == kMembershipSource) return ApplyMembership(event, state);
  if (source == kAccrualSource) return ApplyAccrual(event, state);
  if (source == kRedemptionSource) return ApplyRedemption(event, state);
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
  absl::Status bad;
  auto on_row = [&](absl::string_view key, const std::vector<int64_t>& values) {
    KeyReader reader(key);
    int64_t granularity, channel;
    absl::CivilDay day;
    std::string office, agent;
    if (!reader.Int64(&granularity) || !reader.Day(&day) ||
        !reader.Int64(&channel) || !reader.String(&office) ||
        !reader.String(&agent)) {
      bad = absl::DataLossError(
          absl::StrCat("reporting: a bad key in ", kSalesOfficesActivityTable));
      return false;
    }
    if (!office_filter.empty() && office != office_filter) return true;
    if (AllZero(values)) return true;
    AddCounters(values, &agents[{static_cast<int>(channel), office, agent}]);
    return true;
  };
  for (absl::CivilMonth month : range->Months()) {
    const absl::CivilDay first = range->FirstDayIn(month);
    const absl::CivilDay last = range->LastDayIn(month);
    store::ScanRange scan;
    if (first == absl::CivilDay(month) &&
        last == absl::CivilDay(month + 1) - 1) {
      scan =
          store::PrefixRange(KeyBuilder().Int64(kMonthRow).Day(first).Build());
    } else {
      scan.start = KeyBuilder().Int64(kDayRow).Day(first).Build();
      scan.end = KeyBuilder().Int64(kDayRow).Day(last + 1).Build();
    }
    absl::Status status =
        view.ScanCounters(kSalesOfficesActivityTable, scan, on_row);
    if (!status.ok()) return status;
    if (!bad.ok()) return bad;
  }

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
