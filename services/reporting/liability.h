// The mileage liability report (reporting.proto, report 2): outstanding
// miles in total and per tier, valued at the configured cost per 1,000
// miles, and the month-by-month movement of the liability.
//
// What is counted: every ledger transaction appears in exactly one
// CreditPosted or DebitPosted of the accrual stream (accrual.proto), so
// those two events are the only ones folded for miles; LotExpired,
// CreditReversed, AdjustmentPosted and AccountMerged repeat amounts and are
// ignored. Each transaction lands in one column of its day by type:
//   issued    OWN_FLIGHT PARTNER_FLIGHT PARTNER_ACTIVITY RETRO_CLAIM PURCHASE
//   reversed  REVERSAL (positive)
//   redeemed  REDEMPTION, less REDEPOSIT
//   expired   EXPIRE (positive)
//   adjusted  ADJUSTMENT (signed)
//   fees      TRANSFER_FEE REDEPOSIT_FEE (positive)
//   moved     TRANSFER_OUT/IN and MERGE_OUT/IN (and any type unknown to
//             this build), not shown: they net to zero
// so a day's change of the liability is issued - reversed - redeemed -
// expired + adjusted - fees + moved, and each mile is counted once.
//
// Dates: a transaction is dated by its posting_date (the contract's "by
// posting date"), except the two legs of a transfer or merge: accrual posts
// them in one write but stamps each with its own clock reading, so around
// midnight UTC they could fall on two days and break "transfers and merges
// net to zero". They are dated by the write's Event.recorded_at instead,
// which both legs share. Stock figures (outstanding at the end of a day,
// per tier) are the sums of those same daily changes, so the monthly
// identity closing = opening + issued - reversed - redeemed - expired +
// adjusted - fees holds exactly and the last month's closing equals the
// summary (when to_date is before today; from today on the summary is the
// current state, which only differs by transactions dated after to_date).
//
// Tiers: per member the projection keeps {balance, tier}
// ("liability_members"). The tier is the one membership's events last gave
// (MemberEnrolled, TierChanged; a merge's effect on the target's tier comes
// as a TierChanged); a member whose enrolment has not been applied yet is
// counted as BLUE, the tier every enrolment starts in. A ledger transaction
// adds its miles to the member's current tier on its day; a tier change
// moves the member's whole balance from the old tier to the new one on the
// day it was recorded. The current split by tier is therefore exact
// whatever the interleaving of the streams, and a past day's split is exact
// when the streams were applied in recorded order (the ingest's normal
// state; during catch-up one stream may run ahead, and a balance then moves
// tier on the tier change's day with the miles already applied). A tier
// that lapses at a year end comes as a TierChanged too, recorded when
// membership's lapse run gets to it, just after midnight UTC.
//
// Tables (keys from libs/store/keys.h):
//   liability_members    member_number -> [balance, tier enum value]
//   liability_days       Day -> [issued, reversed, redeemed, expired,
//                                adjusted, fees, moved]
//   liability_tier_days  Day, Int64(tier) -> [miles, members with a
//                                non-zero balance]  (changes of that day)
//   liability_tiers      Int64(tier) -> [miles, members]  (running totals)
//
// Query cost: the tier figures at the end of to_date are the running totals
// less the tier-day rows after to_date; the monthly rows and the opening
// come from one scan of the day rows from from_date on (opening = current
// total - everything since from_date). Both scans are at most one row per
// day (per tier) of history after from_date: a few thousand rows, whatever
// the number of members or events.
//
// Projection cost: one read of the member's counter row per ledger or tier
// event, the rest are counter additions.
//
// Thread-compatible: the projection is applied by one thread; queries read
// their own snapshot.
#ifndef MILEAGEBANK_SERVICES_REPORTING_LIABILITY_H_
#define MILEAGEBANK_SERVICES_REPORTING_LIABILITY_H_

#include <cstdint>
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

inline constexpr char kLiabilityMembersTable[] = "liability_members";
inline constexpr char kLiabilityDaysTable[] = "liability_days";
inline constexpr char kLiabilityTierDaysTable[] = "liability_tier_days";
inline constexpr char kLiabilityTiersTable[] = "liability_tiers";

class LiabilityProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  std::vector<std::string> ResidentTables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
};

// GetLiabilityReport: INVALID_ARGUMENT naming range.from_date or
// range.to_date for a bad range; OUT_OF_RANGE if a value does not fit in
// int64 minor units. Fills everything but stream_positions and
// generated_at.
absl::StatusOr<v1::GetLiabilityReportResponse> LiabilityReport(
    const ViewReader& view, const v1::GetLiabilityReportRequest& request,
    const ReportContext& context);

// For the consistency check.
// Outstanding miles now as the report computes them: the sum of every
// day's change (the monthly movements from the start of history).
absl::StatusOr<int64_t> LiabilityTotal(const ViewReader& view);
// The sum of the per-member balances the projection keeps (a full scan of
// liability_members; only the consistency check uses it).
absl::StatusOr<int64_t> SumOfMemberBalances(const ViewReader& view);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_LIABILITY_H_
