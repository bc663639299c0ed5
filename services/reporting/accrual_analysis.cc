#include "services/reporting/accrual_analysis.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "services/reporting/buckets.h"
#include "mileagebank/accrual/v1/accrual.pb.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = ::mileagebank::accrual::v1;
using store::KeyBuilder;
using store::KeyReader;

// The tables of AddToPeriods rows, whose roll-ups a rebuild defers.
constexpr absl::string_view kPeriodTables[] = {kAccrualAnalysisSourceTable,
                                               kAccrualAnalysisRouteTable,
                                               kAccrualAnalysisClassTable};

constexpr int64_t kYearPeriod = 0;
constexpr int64_t kMonthPeriod = 1;

// Source row columns.
enum SourceColumn {
  kTransactions,
  kMiles,
  kReversedMiles,
  kQualifyingMiles,
  kSegments,
  kQualifyingSegments,
  kSourceColumns
};

absl::CivilDay MonthStart(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day));
}

absl::CivilDay PostingDay(const av1::Transaction& transaction,
                          const common::v1::Event& event) {
  const common::v1::Date& date = transaction.posting_date();
  if (date.year() != 0) {
    return absl::CivilDay(date.year(), date.month(), date.day());
  }
  if (transaction.has_posted_at()) {
    return validation::UtcDay(
        validation::FromProtoTimestamp(transaction.posted_at()));
  }
  return validation::UtcDay(
      validation::FromProtoTimestamp(event.recorded_at()));
}

std::string SourceDims(v1::AccrualSource source, absl::string_view partner) {
  return KeyBuilder().Int64(source).String(partner).Build();
}

// The route and class rows of one partner (they lead with the partner);
// "" (every row) without a filter.
std::string PartnerPrefix(absl::string_view partner_filter) {
  return partner_filter.empty() ? ""
                                : KeyBuilder().String(partner_filter).Build();
}

// A member-year row: [segments in the year, in each month].
using MemberYearRow = CountersRecord<13>;

// Member-year keys as numbers: year x 10^10 + the member number's value.
constexpr uint64_t kMemberValues = 10'000'000'000;

std::string MemberYearKey(uint64_t number) {
  return KeyBuilder()
      .Int64(static_cast<int64_t>(number / kMemberValues))
      .String(MemberNumberDigits(number % kMemberValues))
      .Build();
}

bool MemberYearNumber(absl::string_view key, uint64_t* number) {
  KeyReader reader(key);
  int64_t year = 0;
  std::string member;
  if (!reader.Int64(&year) || !reader.String(&member) || !reader.done() ||
      year < 0 || year > 9999) {
    return false;
  }
  const std::optional<uint64_t> value = MemberNumberValue(member);
  if (value.has_value()) *number = year * kMemberValues + *value;
  return value.has_value();
}

// Read and added to per flight event.
const NumberedKeys kMemberYearKeys = {&MemberYearKey, &MemberYearNumber};

// Moves one member's net flight segment count by `delta` (+1 a credit, -1
// a reversal) on `day`, keeping the per-period distributions exact.
absl::Status CountSegment(ViewState& state, const std::string& member,
                          absl::string_view partner, absl::CivilDay day,
                          int64_t delta) {
  const int month = day.month();
  // Reused: keys are built per flight event.
  thread_local KeyBuilder key;
  std::array<int64_t, 13> deltas{};
  deltas[0] = delta;
  deltas[month] = delta;
  bool found = false;
  const std::optional<uint64_t> number = MemberNumberValue(member);
  absl::StatusOr<MemberYearRow*> row =
      number.has_value() && day.year() >= 0 && day.year() <= 9999
          ? state.MutableNumbered<MemberYearRow>(
                kAccrualAnalysisMemberYearTable, kMemberYearKeys,
                day.year() * kMemberValues + *number, &found)
          : state.MutableRecord<MemberYearRow>(
                kAccrualAnalysisMemberYearTable,
                key.Clear().Int64(day.year()).String(member).Build(), &found);
  if (!row.ok()) return row.status();
  (*row)->Add(deltas);
  absl::Status status;

  const std::pair<int64_t, absl::CivilDay> periods[] = {
      {kYearPeriod, absl::CivilDay(day.year(), 1, 1)},
      {kMonthPeriod, MonthStart(day)}};
  const int64_t before[] = {(*row)->At(0) - delta, (*row)->At(month) - delta};
  for (int i = 0; i < 2; ++i) {
    const int64_t after = before[i] + delta;
    const std::pair<int64_t, int64_t> moves[] = {{before[i], -1}, {after, 1}};
    for (const auto& [count, change] : moves) {
      if (count == 0) continue;
      key.Clear()
          .Int64(periods[i].first)
          .Day(periods[i].second)
          .Int64(count);
      status = state.Add(kAccrualAnalysisDistributionTable, key.Build(),
                         {change});
      if (!status.ok()) return status;
    }
  }

  key.Clear().Day(day).String(partner).String(member);
  status = state.Add(kAccrualAnalysisMemberDayTable, key.Build(), {delta});
  if (!status.ok()) return status;
  if (!partner.empty()) {
    key.Clear().String(partner).Int64(day.year()).String(member);
    status = state.Add(kAccrualAnalysisPartnerMemberYearTable, key.Build(),
                       deltas);
  }
  return status;
}

absl::Status ApplyCredit(const av1::Transaction& t, absl::CivilDay day,
                         ViewState& state) {
  v1::AccrualSource source;
  absl::string_view partner;
  bool flight = false;
  switch (t.type()) {
    case av1::OWN_FLIGHT:
    case av1::RETRO_CLAIM:
      source = v1::SOURCE_OWN_FLIGHTS;
      flight = true;
      break;
    case av1::PARTNER_FLIGHT:
      source = v1::SOURCE_PARTNER;
      partner = t.partner_code();
      flight = true;
      break;
    case av1::PARTNER_ACTIVITY:
      source = v1::SOURCE_PARTNER;
      partner = t.partner_code();
      break;
    case av1::PURCHASE:
      source = v1::SOURCE_PURCHASES;
      break;
    case av1::ADJUSTMENT:
      source = v1::SOURCE_ADJUSTMENTS;
      break;
    default:
      return absl::OkStatus();
  }
  std::array<int64_t, kSourceColumns> values{};
  values[kTransactions] = 1;
  values[kMiles] = t.miles();
  values[kQualifyingMiles] = t.qualifying_miles();
  if (flight) {
    values[kSegments] = 1;
    values[kQualifyingSegments] = t.qualifying_segments();
  }
  // Reused: dimensions are built for every credit.
  thread_local KeyBuilder dims;
  dims.Clear().Int64(source).String(partner);
  absl::Status status = AddToPeriods(state, kAccrualAnalysisSourceTable, day,
                                     dims.Build(), values);
  if (!status.ok() || !flight) return status;

  const av1::Flight& f = t.flight();
  dims.Clear()
      .String(partner)
      .String(f.carrier())
      .String(f.origin())
      .String(f.destination());
  status = AddToPeriods(state, kAccrualAnalysisRouteTable, day, dims.Build(),
                        {1, t.miles(), t.qualifying_miles()});
  if (!status.ok()) return status;
  dims.Clear().String(partner).String(f.carrier()).String(f.booking_class());
  status = AddToPeriods(state, kAccrualAnalysisClassTable, day, dims.Build(),
                        {1, t.miles()});
  if (!status.ok()) return status;
  return CountSegment(state, t.member_number(), partner, day, 1);
}

absl::Status ApplyDebit(const av1::Transaction& t, absl::CivilDay day,
                        ViewState& state) {
  if (t.type() == av1::ADJUSTMENT) {
    std::vector<int64_t> values(kSourceColumns, 0);
    values[kTransactions] = 1;
    values[kMiles] = t.miles();
    return AddToPeriods(state, kAccrualAnalysisSourceTable, day,
                     SourceDims(v1::SOURCE_ADJUSTMENTS, ""), values);
  }
  if (t.type() != av1::REVERSAL) return absl::OkStatus();
  // Only OWN_FLIGHT, RETRO_CLAIM, PARTNER_FLIGHT, PARTNER_ACTIVITY and
  // PURCHASE credits can be reversed; the reversal carries their partner
  // code and flight.
  const bool flight = !t.flight().origin().empty();
  const v1::AccrualSource source = !t.partner_code().empty()
                                       ? v1::SOURCE_PARTNER
                                   : flight ? v1::SOURCE_OWN_FLIGHTS
                                            : v1::SOURCE_PURCHASES;
  std::vector<int64_t> values(kSourceColumns, 0);
  values[kReversedMiles] = -t.miles();
  absl::Status status = AddToPeriods(state, kAccrualAnalysisSourceTable, day,
                                  SourceDims(source, t.partner_code()), values);
  if (!status.ok() || !flight) return status;
  return CountSegment(state, t.member_number(), t.partner_code(), day, -1);
}

// A row whose key does not hold the table's dimensions.
absl::Status BadKey(absl::string_view table) {
  return absl::DataLossError(absl::StrCat("reporting: a bad key in ", table));
}

bool IsPartnerCode(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 8 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

absl::Status FillSources(const ViewReader& view, const ReportRange& range,
                         const std::string& partner_filter,
                         v1::GetAccrualAnalysisReportResponse& response) {
  std::map<std::pair<int, std::string>, std::vector<int64_t>> rows;
  if (partner_filter.empty()) {
    for (v1::AccrualSource source :
         {v1::SOURCE_OWN_FLIGHTS, v1::SOURCE_ADJUSTMENTS,
          v1::SOURCE_PURCHASES}) {
      rows[{source, ""}].assign(kSourceColumns, 0);
    }
  } else {
    rows[{v1::SOURCE_PARTNER, partner_filter}].assign(kSourceColumns, 0);
  }
  const std::string only =
      partner_filter.empty() ? ""
                             : SourceDims(v1::SOURCE_PARTNER, partner_filter);
  absl::Status status = ScanPeriods(
      view, kAccrualAnalysisSourceTable, range, only,
      [&](absl::string_view key, const std::vector<int64_t>& values) {
        KeyReader dims(key);
        int64_t source;
        std::string partner;
        if (!dims.Int64(&source) || !dims.String(&partner)) {
          return BadKey(kAccrualAnalysisSourceTable);
        }
        if (!std::all_of(values.begin(), values.end(),
                         [](int64_t v) { return v == 0; })) {
          AddCounters(values, &rows[{static_cast<int>(source), partner}]);
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  for (const auto& [dims, values] : rows) {
    v1::AccrualSourceRow* row = response.add_by_source();
    row->set_source(static_cast<v1::AccrualSource>(dims.first));
    row->set_partner_code(dims.second);
    row->set_transactions(CounterAt(values, kTransactions));
    row->set_miles(CounterAt(values, kMiles));
    row->set_reversed_miles(CounterAt(values, kReversedMiles));
    row->set_qualifying_miles(CounterAt(values, kQualifyingMiles));
    row->set_segments(CounterAt(values, kSegments));
    row->set_qualifying_segments(CounterAt(values, kQualifyingSegments));
  }
  return absl::OkStatus();
}

absl::Status FillRoutes(const ViewReader& view, const ReportRange& range,
                        const std::string& partner_filter,
                        v1::GetAccrualAnalysisReportResponse& response) {
  using Route = std::tuple<std::string, std::string, std::string>;
  std::map<Route, std::vector<int64_t>> routes;
  absl::Status status = ScanPeriods(
      view, kAccrualAnalysisRouteTable, range, PartnerPrefix(partner_filter),
      [&](absl::string_view key, const std::vector<int64_t>& values) {
        KeyReader dims(key);
        std::string partner, carrier, origin, destination;
        if (!dims.String(&partner) || !dims.String(&carrier) ||
            !dims.String(&origin) || !dims.String(&destination)) {
          return BadKey(kAccrualAnalysisRouteTable);
        }
        AddCounters(values, &routes[{carrier, origin, destination}]);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  std::vector<std::pair<Route, std::vector<int64_t>>> sorted;
  for (auto& [route, values] : routes) {
    if (CounterAt(values, 0) == 0 && CounterAt(values, 1) == 0 && CounterAt(values, 2) == 0)
      continue;
    sorted.emplace_back(route, std::move(values));
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) {
                     return CounterAt(a.second, 0) > CounterAt(b.second, 0);
                   });
  for (const auto& [route, values] : sorted) {
    v1::AccrualRouteRow* row = response.add_by_route();
    row->set_carrier(std::get<0>(route));
    row->set_origin(std::get<1>(route));
    row->set_destination(std::get<2>(route));
    row->set_segments(CounterAt(values, 0));
    row->set_miles(CounterAt(values, 1));
    row->set_qualifying_miles(CounterAt(values, 2));
  }
  return absl::OkStatus();
}

absl::Status FillClasses(const ViewReader& view, const ReportRange& range,
                         const std::string& partner_filter,
                         v1::GetAccrualAnalysisReportResponse& response) {
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> classes;
  absl::Status status = ScanPeriods(
      view, kAccrualAnalysisClassTable, range, PartnerPrefix(partner_filter),
      [&](absl::string_view key, const std::vector<int64_t>& values) {
        KeyReader dims(key);
        std::string partner, carrier, booking_class;
        if (!dims.String(&partner) || !dims.String(&carrier) ||
            !dims.String(&booking_class)) {
          return BadKey(kAccrualAnalysisClassTable);
        }
        AddCounters(values, &classes[{carrier, booking_class}]);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  for (const auto& [dims, values] : classes) {
    if (CounterAt(values, 0) == 0 && CounterAt(values, 1) == 0) continue;
    v1::AccrualClassRow* row = response.add_by_booking_class();
    row->set_carrier(dims.first);
    row->set_booking_class(dims.second);
    row->set_segments(CounterAt(values, 0));
    row->set_miles(CounterAt(values, 1));
  }
  return absl::OkStatus();
}

// The precomputed distribution of one calendar year or month.
absl::Status DistributionFromPeriod(const ViewReader& view, int64_t period,
                                    absl::CivilDay start,
                                    std::map<int64_t, int64_t>& members) {
  return view.ScanCounters(
      kAccrualAnalysisDistributionTable,
      store::PrefixRange(KeyBuilder().Int64(period).Day(start).Build()),
      [&](absl::string_view key,
          const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
        KeyReader reader(key);
        int64_t kind, segments;
        absl::CivilDay day;
        if (!reader.Int64(&kind) || !reader.Day(&day) ||
            !reader.Int64(&segments)) {
          return BadKey(kAccrualAnalysisDistributionTable);
        }
        if (segments > 0 && CounterAt(values, 0) != 0) {
          members[segments] += CounterAt(values, 0);
        }
        return true;
      });
}

// Exact, from per-member rows: the member-year rows of every year the
// range touches (summing the months wholly inside it) and the member-day
// rows of clipped edge months.
absl::Status DistributionFromMembers(const ViewReader& view,
                                     const ReportRange& range,
                                     const std::string& partner_filter,
                                     std::map<int64_t, int64_t>& members) {
  std::unordered_map<std::string, int64_t> counts;
  std::map<int, std::vector<int>> whole_months;  // year -> months
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> day_spans;
  for (absl::CivilMonth month : range.Months()) {
    const absl::CivilDay first = range.FirstDayIn(month);
    const absl::CivilDay last = range.LastDayIn(month);
    if (first == absl::CivilDay(month) &&
        last == absl::CivilDay(month + 1) - 1) {
      whole_months[static_cast<int>(month.year())].push_back(month.month());
    } else {
      day_spans.emplace_back(first, last);
    }
  }
  // One year's whole months only: a member is on one row, so its count
  // goes straight to the distribution without gathering members.
  const bool one_row_each = day_spans.empty() && whole_months.size() == 1;
  for (const auto& [year, months] : whole_months) {
    const std::string prefix =
        partner_filter.empty()
            ? KeyBuilder().Int64(year).Build()
            : KeyBuilder().String(partner_filter).Int64(year).Build();
    const bool whole_year = months.size() == 12;
    const absl::string_view table =
        partner_filter.empty() ? kAccrualAnalysisMemberYearTable
                               : kAccrualAnalysisPartnerMemberYearTable;
    MB_RETURN_IF_ERROR(view.ScanCounters(
        table, store::PrefixRange(prefix),
        [&](absl::string_view key,
            const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
          int64_t sum = 0;
          if (whole_year) {
            sum = CounterAt(values, 0);
          } else {
            for (int month : months) sum += CounterAt(values, month);
          }
          if (one_row_each) {
            if (sum > 0) ++members[sum];
            return true;
          }
          KeyReader reader(key.substr(prefix.size()));
          std::string member;
          if (!reader.String(&member)) return BadKey(table);
          if (sum != 0) counts[member] += sum;
          return true;
        }));
  }
  for (const auto& [first, last] : day_spans) {
    store::ScanRange scan;
    scan.start = KeyBuilder().Day(first).Build();
    scan.end = KeyBuilder().Day(last + 1).Build();
    MB_RETURN_IF_ERROR(view.ScanCounters(
        kAccrualAnalysisMemberDayTable, scan,
        [&](absl::string_view key,
            const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
          KeyReader reader(key);
          absl::CivilDay day;
          std::string partner, member;
          if (!reader.Day(&day) || !reader.String(&partner) ||
              !reader.String(&member)) {
            return BadKey(kAccrualAnalysisMemberDayTable);
          }
          if (!partner_filter.empty() && partner != partner_filter) return true;
          if (CounterAt(values, 0) != 0) counts[member] += CounterAt(values, 0);
          return true;
        }));
  }
  for (const auto& [member, count] : counts) {
    if (count > 0) ++members[count];
  }
  return absl::OkStatus();
}

absl::Status FillSegmentsPerMember(
    const ViewReader& view, const ReportRange& range,
    const std::string& partner_filter,
    v1::GetAccrualAnalysisReportResponse& response) {
  std::map<int64_t, int64_t> members;
  absl::Status status;
  const bool one_year = range.from == absl::CivilDay(range.from.year(), 1, 1) &&
                        range.to == absl::CivilDay(range.from.year(), 12, 31);
  const bool one_month =
      range.from == MonthStart(range.from) &&
      range.to == absl::CivilDay(absl::CivilMonth(range.from) + 1) - 1;
  if (partner_filter.empty() && one_year) {
    status = DistributionFromPeriod(view, kYearPeriod, range.from, members);
  } else if (partner_filter.empty() && one_month) {
    status = DistributionFromPeriod(view, kMonthPeriod, range.from, members);
  } else {
    status = DistributionFromMembers(view, range, partner_filter, members);
  }
  if (!status.ok()) return status;
  for (const auto& [segments, count] : members) {
    if (count == 0) continue;
    v1::SegmentsPerMemberRow* row = response.add_segments_per_member();
    row->set_segments(segments);
    row->set_members(count);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> AccrualAnalysisProjection::Tables() const {
  return {kAccrualAnalysisSourceTable,
          kAccrualAnalysisRouteTable,
          kAccrualAnalysisClassTable,
          kAccrualAnalysisMemberYearTable,
          kAccrualAnalysisPartnerMemberYearTable,
          kAccrualAnalysisMemberDayTable,
          kAccrualAnalysisDistributionTable};
}

std::vector<std::string> AccrualAnalysisProjection::ResidentTables() const {
  return {kAccrualAnalysisMemberYearTable,
          kAccrualAnalysisPartnerMemberYearTable};
}

void AccrualAnalysisProjection::DeferDerived(ViewState& state) {
  DeferRollUps(state, kPeriodTables);
}

absl::Status AccrualAnalysisProjection::DeriveDeferred(const ViewReader& view,
                                                       ViewState& state) {
  return DeriveRollUps(view, state, kPeriodTables);
}

absl::Status AccrualAnalysisProjection::Apply(const SourceEvent& event,
                                              ViewState& state) {
  if (event.source() != kAccrualSource) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(const av1::CreditPosted* credit,
                      event.Payload<av1::CreditPosted>());
  if (credit != nullptr) {
    return ApplyCredit(credit->transaction(),
                       PostingDay(credit->transaction(), event.event()), state);
  }
  MB_ASSIGN_OR_RETURN(const av1::DebitPosted* debit,
                      event.Payload<av1::DebitPosted>());
  if (debit != nullptr) {
    return ApplyDebit(debit->transaction(),
                      PostingDay(debit->transaction(), event.event()), state);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetAccrualAnalysisReportResponse> AccrualAnalysisReport(
    const ViewReader& view, const v1::GetAccrualAnalysisReportRequest& request,
    const ReportContext& context) {
  (void)context;
  absl::StatusOr<ReportRange> range = CheckRange(request.range());
  if (!range.ok()) return range.status();
  const std::string& partner = request.partner_code();
  if (!partner.empty() && !IsPartnerCode(partner)) {
    return InvalidField("partner_code",
                        "must be 2-8 characters of A-Z and 0-9, or empty");
  }
  v1::GetAccrualAnalysisReportResponse response;
  absl::Status status = FillSources(view, *range, partner, response);
  if (status.ok()) status = FillRoutes(view, *range, partner, response);
  if (status.ok()) status = FillClasses(view, *range, partner, response);
  if (status.ok()) {
    status = FillSegmentsPerMember(view, *range, partner, response);
  }
  if (!status.ok()) return status;
  return response;
}

}  // namespace mileagebank::reporting
