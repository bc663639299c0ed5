// The expiring miles report (reporting.proto, report 6): per month of
// expiry dates, the miles left now in lots expiring in it, those lots, and
// the members holding them.
//
// What the events carry: every ledger transaction (CreditPosted /
// DebitPosted) lists its lot movements (accrual.proto LotMovement: lot id,
// signed miles, the lot's expiry date), in the order it touched the lots,
// summing to the transaction's miles: a credit's new lot or the deficits it
// filled, each lot a debit consumed (oldest expiry first), an expiry run's
// lots, a reversal's own lot going negative (a deficit), a merge moving
// every lot whole (the same lot ids out of the source, into the target).
// So the projection folds lot consumption exactly, with no rule of its own
// about which lot a debit uses: per member it keeps each lot's remaining
// miles (liability_records.proto ExpiringLots, in
// "expiring_miles_members"), and counts a lot while its remainder is
// positive. Deficit lots (negative) never expire and are left out, as the
// contract says; a lot's remainder past its expiry that accrual kept for
// active holds is still "left now" and counts in its (past) month.
//
// Tables (keys from libs/store/keys.h):
//   expiring_miles_members  member_number -> ExpiringLots
//   expiring_miles_days     Day(expiry) -> [miles, lots, members]
//   expiring_miles_months   Day(first of the month) -> [miles, lots, members]
// "members" is the number of members with at least one counted lot expiring
// that day / that month (so months are not sums of days for it).
//
// Query: a whole month reads its month row; a month clipped by the range
// sums the day rows inside the range (miles and lots exact). For its
// members: when those days hold all of the month's counted lots, the month
// row's members; otherwise the sum of the days' members, which is exact
// when the lots inside the range expire on one day. Accrual's expiry dates
// are all month ends (the last day of the 36th month; transfers, redeposits
// and merges keep their source lot's date), so a clipped month holds either
// the whole month or nothing and the figure is exact; only hypothetical
// mid-month expiries on several days of a clipped month could count a member
// once per day. At most 60 months: at most 60 rows plus the day rows of two
// clipped months.
//
// Projection cost: the member's lot record is kept decoded in memory (a
// resident table, as plain values: ExpiringLotsRecord) and changed in
// place per ledger transaction that moves lots; counter additions for the
// days and months it touched.
//
// Thread-compatible.
#ifndef MILEAGEBANK_SERVICES_REPORTING_EXPIRING_MILES_H_
#define MILEAGEBANK_SERVICES_REPORTING_EXPIRING_MILES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

inline constexpr char kExpiringMembersTable[] = "expiring_miles_members";
inline constexpr char kExpiringDaysTable[] = "expiring_miles_days";
inline constexpr char kExpiringMonthsTable[] = "expiring_miles_months";

// One member's lots as expiring_miles_members stores them (ExpiringLots),
// held as plain values in one vector: a transaction searches them per lot
// movement, and a parsed message's lots are scattered over the heap.
struct ExpiringLotsRecord final : Record {
  struct Lot {
    std::string lot_id;
    int32_t expiry_day = 0;  // Days since 1970-01-01.
    int64_t remaining_miles = 0;
  };
  // The bytes records::ExpiringLots serialises the same lots to.
  std::string Encode() const override;
  bool Decode(absl::string_view bytes) override;

  std::vector<Lot> lots;
};

class ExpiringMilesProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  std::vector<std::string> ResidentTables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
};

// GetExpiringMilesReport: INVALID_ARGUMENT naming range.from_date or
// range.to_date for a bad range (expiry dates of at most 60 months). The
// figures are the current state whatever the range (it selects expiry
// dates, not event dates). Fills everything but stream_positions and
// generated_at.
absl::StatusOr<v1::GetExpiringMilesReportResponse> ExpiringMilesReport(
    const ViewReader& view, const v1::GetExpiringMilesReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_EXPIRING_MILES_H_
