#include "services/reporting/expiring_miles.h"

#include <array>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/reporting/liability_records.pb.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = accrual::v1;

const absl::CivilDay kEpoch(1970, 1, 1);

// Columns of the day and month rows.
enum Column : int { kMiles = 0, kLots, kMembers, kColumns };
using Row = std::array<int64_t, kColumns>;

std::string DayKey(absl::CivilDay day) {
  return store::KeyBuilder().Day(day).Build();
}

std::string MonthKey(absl::CivilMonth month) {
  return DayKey(absl::CivilDay(month));
}

absl::CivilDay DayOf(int32_t number) { return kEpoch + number; }

// Miles and lots that count (positive remainders) per expiry day and month
// among `lots`, and whether the member has any, for the days and months in
// `days` / `months` only.
struct Figures {
  std::map<int32_t, Row> days;
  std::map<absl::CivilMonth, Row> months;
};

Figures Count(const records::ExpiringLots& lots, const std::set<int32_t>& days,
              const std::set<absl::CivilMonth>& months) {
  Figures figures;
  for (int32_t day : days) figures.days[day] = Row{};
  for (absl::CivilMonth month : months) figures.months[month] = Row{};
  for (const records::ExpiringLots::Lot& lot : lots.lots()) {
    if (lot.remaining_miles() <= 0) continue;
    auto day = figures.days.find(lot.expiry_day());
    if (day != figures.days.end()) {
      day->second[kMiles] += lot.remaining_miles();
      day->second[kLots] += 1;
      day->second[kMembers] = 1;
    }
    auto month = figures.months.find(absl::CivilMonth(DayOf(lot.expiry_day())));
    if (month != figures.months.end()) {
      month->second[kMiles] += lot.remaining_miles();
      month->second[kLots] += 1;
      month->second[kMembers] = 1;
    }
  }
  return figures;
}

Row Minus(const Row& after, const Row& before) {
  Row delta;
  for (int i = 0; i < kColumns; ++i) delta[i] = after[i] - before[i];
  return delta;
}

bool IsZero(const Row& row) { return row == Row{}; }

absl::Status ApplyTransaction(const av1::Transaction& transaction,
                              ViewState& state) {
  if (transaction.lot_movements().empty()) return absl::OkStatus();
  const std::string& member = transaction.member_number();
  records::ExpiringLots lots;
  absl::StatusOr<bool> found =
      state.GetProto(kExpiringMembersTable, member, &lots);
  if (!found.ok()) return found.status();

  std::map<std::string, int> index;
  for (int i = 0; i < lots.lots_size(); ++i) index[lots.lots(i).lot_id()] = i;
  std::set<int32_t> days;
  std::set<absl::CivilMonth> months;
  // A lot keeps the expiry it was first seen with; a new one enters at 0
  // miles, so that it counts only once the movements below are applied.
  for (const av1::LotMovement& movement : transaction.lot_movements()) {
    auto known = index.find(movement.lot_id());
    if (known != index.end()) {
      days.insert(lots.lots(known->second).expiry_day());
      continue;
    }
    absl::StatusOr<absl::CivilDay> expiry = validation::ToCivilDay(
        "lot_movements.expiry_date", movement.expiry_date());
    if (!expiry.ok()) {
      return absl::DataLossError(absl::StrCat(
          "accrual transaction ", transaction.transaction_id(), " lot ",
          movement.lot_id(), ": ", expiry.status().message()));
    }
    records::ExpiringLots::Lot* lot = lots.add_lots();
    lot->set_lot_id(movement.lot_id());
    lot->set_expiry_day(static_cast<int32_t>(*expiry - kEpoch));
    index[movement.lot_id()] = lots.lots_size() - 1;
    days.insert(lot->expiry_day());
  }
  for (int32_t day : days) months.insert(absl::CivilMonth(DayOf(day)));

  Figures before = Count(lots, days, months);
  for (const av1::LotMovement& movement : transaction.lot_movements()) {
    records::ExpiringLots::Lot* lot =
        lots.mutable_lots(index.at(movement.lot_id()));
    lot->set_remaining_miles(lot->remaining_miles() + movement.miles());
  }
  // Lots that came back to zero leave the record (before counting, so that
  // a brand-new lot at 0 does not linger either).
  records::ExpiringLots kept;
  for (records::ExpiringLots::Lot& lot : *lots.mutable_lots()) {
    if (lot.remaining_miles() != 0) *kept.add_lots() = std::move(lot);
  }
  Figures after = Count(kept, days, months);

  if (kept.lots().empty()) {
    if (*found) state.Delete(kExpiringMembersTable, member);
  } else {
    state.PutProto(kExpiringMembersTable, member, kept);
  }
  for (int32_t day : days) {
    const Row delta = Minus(after.days[day], before.days[day]);
    if (IsZero(delta)) continue;
    absl::Status status =
        state.Add(kExpiringDaysTable, DayKey(DayOf(day)), delta);
    if (!status.ok()) return status;
  }
  for (absl::CivilMonth month : months) {
    const Row delta = Minus(after.months[month], before.months[month]);
    if (IsZero(delta)) continue;
    absl::Status status =
        state.Add(kExpiringMonthsTable, MonthKey(month), delta);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

Row ToRow(const std::vector<int64_t>& values) {
  Row row{};
  for (size_t i = 0; i < values.size() && i < row.size(); ++i) {
    row[i] = values[i];
  }
  return row;
}

}  // namespace

std::vector<std::string> ExpiringMilesProjection::Tables() const {
  return {kExpiringMembersTable, kExpiringDaysTable, kExpiringMonthsTable};
}

absl::Status ExpiringMilesProjection::Apply(absl::string_view source,
                                            const common::v1::Event& event,
                                            ViewState& state) {
  if (source != kAccrualSource) return absl::OkStatus();
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<av1::CreditPosted>()) {
    av1::CreditPosted credit;
    if (!payload.UnpackTo(&credit)) {
      return absl::DataLossError("accrual CreditPosted: unreadable payload");
    }
    return ApplyTransaction(credit.transaction(), state);
  }
  if (payload.Is<av1::DebitPosted>()) {
    av1::DebitPosted debit;
    if (!payload.UnpackTo(&debit)) {
      return absl::DataLossError("accrual DebitPosted: unreadable payload");
    }
    return ApplyTransaction(debit.transaction(), state);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetExpiringMilesReportResponse> ExpiringMilesReport(
    const ViewReader& view, const v1::GetExpiringMilesReportRequest& request,
    const ReportContext&) {
  absl::StatusOr<ReportRange> range =
      CheckRange(request.range(), /*max_months=*/60);
  if (!range.ok()) return range.status();

  v1::GetExpiringMilesReportResponse response;
  int64_t total = 0;
  for (absl::CivilMonth month : range->Months()) {
    absl::StatusOr<std::vector<int64_t>> whole =
        view.Counters(kExpiringMonthsTable, MonthKey(month));
    if (!whole.ok()) return whole.status();
    Row figures = ToRow(*whole);
    const absl::CivilDay first = range->FirstDayIn(month);
    const absl::CivilDay last = range->LastDayIn(month);
    if (first != absl::CivilDay(month) ||
        last != validation::LastDayOfMonth(month)) {
      Row clipped{};
      absl::Status status = view.ScanCounters(
          kExpiringDaysTable, {DayKey(first), DayKey(last + 1)},
          [&](absl::string_view, const std::vector<int64_t>& values) {
            const Row day = ToRow(values);
            for (int i = 0; i < kColumns; ++i) clipped[i] += day[i];
            return true;
          });
      if (!status.ok()) return status;
      // Holding every counted lot of the month, the clipped days hold its
      // members too; otherwise the days' members (see the header).
      if (clipped[kLots] == figures[kLots])
        clipped[kMembers] = figures[kMembers];
      figures = clipped;
    }
    v1::ExpiringMonthRow* row = response.add_monthly();
    row->set_year(static_cast<int32_t>(month.year()));
    row->set_month(month.month());
    row->set_miles(figures[kMiles]);
    row->set_lots(figures[kLots]);
    row->set_members(figures[kMembers]);
    total += figures[kMiles];
  }
  response.set_total_miles(total);
  return response;
}

}  // namespace mileagebank::reporting
