#include "services/reporting/expiring_miles.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "libs/status/status_macros.h"
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

// DayKey(DayOf(number)) without the date conversion (KeyBuilder::Day
// stores the number of days since 1970-01-01): a few per transaction.
std::string DayNumberKey(int32_t number) {
  return store::KeyBuilder().Int64(number).Build();
}

// The expiry days and months a transaction touches, and their figures
// (miles and lots that count, i.e. positive remainders, and whether the
// member has any) before and after it. A transaction touches one to a few
// days, so plain vectors searched in order beat maps.
struct Touched {
  std::vector<int32_t> days;
  // Each month as its first and last day number, to place a lot by
  // comparing numbers rather than converting dates.
  std::vector<std::pair<int32_t, int32_t>> months;

  void AddDay(int32_t day) {
    if (std::find(days.begin(), days.end(), day) != days.end()) return;
    days.push_back(day);
    const absl::CivilMonth month(DayOf(day));
    const std::pair<int32_t, int32_t> span(
        static_cast<int32_t>(absl::CivilDay(month) - kEpoch),
        static_cast<int32_t>(absl::CivilDay(month + 1) - kEpoch) - 1);
    if (std::find(months.begin(), months.end(), span) == months.end()) {
      months.push_back(span);
    }
  }
};

using Lot = ExpiringLotsRecord::Lot;

// `sign` x the figures of `lots` on the touched days and months, added to
// `days` / `months` (indexed as in `touched`).
void Count(const std::vector<Lot>& lots, const Touched& touched, int64_t sign,
           std::vector<Row>& days, std::vector<Row>& months) {
  std::vector<Row> day_rows(touched.days.size(), Row{});
  std::vector<Row> month_rows(touched.months.size(), Row{});
  for (const Lot& lot : lots) {
    if (lot.remaining_miles <= 0) continue;
    for (size_t i = 0; i < touched.days.size(); ++i) {
      if (touched.days[i] != lot.expiry_day) continue;
      day_rows[i][kMiles] += lot.remaining_miles;
      day_rows[i][kLots] += 1;
      day_rows[i][kMembers] = 1;
    }
    for (size_t i = 0; i < touched.months.size(); ++i) {
      const auto& [first, last] = touched.months[i];
      if (lot.expiry_day < first || lot.expiry_day > last) continue;
      month_rows[i][kMiles] += lot.remaining_miles;
      month_rows[i][kLots] += 1;
      month_rows[i][kMembers] = 1;
    }
  }
  for (size_t i = 0; i < days.size(); ++i) {
    for (int c = 0; c < kColumns; ++c) days[i][c] += sign * day_rows[i][c];
  }
  for (size_t i = 0; i < months.size(); ++i) {
    for (int c = 0; c < kColumns; ++c) months[i][c] += sign * month_rows[i][c];
  }
}

bool IsZero(const Row& row) { return row == Row{}; }

Lot* FindLot(std::vector<Lot>& lots, const std::string& lot_id) {
  for (Lot& lot : lots) {
    if (lot.lot_id == lot_id) return &lot;
  }
  return nullptr;
}

absl::Status ApplyTransaction(const av1::Transaction& transaction,
                              ViewState& state) {
  if (transaction.lot_movements().empty()) return absl::OkStatus();
  const std::string& member = transaction.member_number();
  // Kept by member number: one is changed per ledger transaction.
  const std::optional<uint64_t> number = MemberNumberValue(member);
  bool found = false;
  MB_ASSIGN_OR_RETURN(
      ExpiringLotsRecord * record,
      number.has_value()
          ? state.MutableNumbered<ExpiringLotsRecord>(
                kExpiringMembersTable, kMemberNumberKeys, *number, &found)
          : state.MutableRecord<ExpiringLotsRecord>(kExpiringMembersTable,
                                                    member, &found));
  std::vector<Lot>& lots = record->lots;

  // A lot keeps the expiry it was first seen with; a new one enters at 0
  // miles, so that it counts only once the movements below are applied.
  Touched touched;
  for (const av1::LotMovement& movement : transaction.lot_movements()) {
    if (const Lot* known = FindLot(lots, movement.lot_id())) {
      touched.AddDay(known->expiry_day);
      continue;
    }
    std::optional<absl::CivilDay> expiry = ExactDay(movement.expiry_date());
    if (!expiry.has_value()) {
      absl::StatusOr<absl::CivilDay> broken = validation::ToCivilDay(
          "lot_movements.expiry_date", movement.expiry_date());
      return absl::DataLossError(absl::StrCat(
          "accrual transaction ", transaction.transaction_id(), " lot ",
          movement.lot_id(), ": ", broken.status().message()));
    }
    lots.push_back(
        Lot{movement.lot_id(), static_cast<int32_t>(*expiry - kEpoch), 0});
    touched.AddDay(lots.back().expiry_day);
  }

  std::vector<Row> days(touched.days.size(), Row{});
  std::vector<Row> months(touched.months.size(), Row{});
  Count(lots, touched, -1, days, months);
  for (const av1::LotMovement& movement : transaction.lot_movements()) {
    FindLot(lots, movement.lot_id())->remaining_miles += movement.miles();
  }
  // Lots that came back to zero leave the record (before counting, so that
  // a brand-new lot at 0 does not linger either), the others in order.
  lots.erase(
      std::remove_if(lots.begin(), lots.end(),
                     [](const Lot& lot) { return lot.remaining_miles == 0; }),
      lots.end());
  Count(lots, touched, +1, days, months);

  if (lots.empty()) {
    if (number.has_value()) {
      state.DeleteNumbered(kExpiringMembersTable, kMemberNumberKeys, *number);
    } else {
      state.Delete(kExpiringMembersTable, member);
    }
  }
  for (size_t i = 0; i < days.size(); ++i) {
    if (IsZero(days[i])) continue;
    MB_RETURN_IF_ERROR(
        state.Add(kExpiringDaysTable, DayNumberKey(touched.days[i]), days[i]));
  }
  for (size_t i = 0; i < months.size(); ++i) {
    if (IsZero(months[i])) continue;
    MB_RETURN_IF_ERROR(state.Add(kExpiringMonthsTable,
                                 DayNumberKey(touched.months[i].first),
                                 months[i]));
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

std::string ExpiringLotsRecord::Encode() const {
  // records::ExpiringLots' wire format, written directly (proto3: fields at
  // zero are left out; an int32 is sign-extended); a test checks it
  // against the message's own serialisation. Sized first, then written
  // straight into the string: through a stream it cost ~3,000
  // instructions a record.
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  auto lot_size = [](const Lot& lot) {
    size_t size = 0;
    if (!lot.lot_id.empty()) size += 1 + WireFormatLite::StringSize(lot.lot_id);
    if (lot.expiry_day != 0) {
      size += 1 + WireFormatLite::Int32Size(lot.expiry_day);
    }
    if (lot.remaining_miles != 0) {
      size += 1 + WireFormatLite::Int64Size(lot.remaining_miles);
    }
    return size;
  };
  size_t total = 0;
  for (const Lot& lot : lots) {
    const size_t size = lot_size(lot);
    total += 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(size)) +
             size;
  }
  std::string bytes(total, '\0');
  auto* out = reinterpret_cast<uint8_t*>(&bytes[0]);
  for (const Lot& lot : lots) {
    out = WireFormatLite::WriteTagToArray(
        1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out = CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(lot_size(lot)), out);
    if (!lot.lot_id.empty()) {
      out = WireFormatLite::WriteStringToArray(1, lot.lot_id, out);
    }
    if (lot.expiry_day != 0) {
      out = WireFormatLite::WriteInt32ToArray(2, lot.expiry_day, out);
    }
    if (lot.remaining_miles != 0) {
      out = WireFormatLite::WriteInt64ToArray(3, lot.remaining_miles, out);
    }
  }
  return bytes;
}

bool ExpiringLotsRecord::Decode(absl::string_view bytes) {
  records::ExpiringLots message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return false;
  }
  lots.clear();
  lots.reserve(message.lots_size());
  for (const records::ExpiringLots::Lot& lot : message.lots()) {
    lots.push_back(Lot{lot.lot_id(), lot.expiry_day(), lot.remaining_miles()});
  }
  return true;
}

std::vector<std::string> ExpiringMilesProjection::Tables() const {
  return {kExpiringMembersTable, kExpiringDaysTable, kExpiringMonthsTable};
}

std::vector<std::string> ExpiringMilesProjection::ResidentTables() const {
  return {kExpiringMembersTable};
}

absl::Status ExpiringMilesProjection::Apply(const SourceEvent& event,
                                            ViewState& state) {
  if (event.source() != kAccrualSource) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(const av1::CreditPosted* credit,
                      event.Payload<av1::CreditPosted>());
  if (credit != nullptr) return ApplyTransaction(credit->transaction(), state);
  MB_ASSIGN_OR_RETURN(const av1::DebitPosted* debit,
                      event.Payload<av1::DebitPosted>());
  if (debit != nullptr) return ApplyTransaction(debit->transaction(), state);
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
