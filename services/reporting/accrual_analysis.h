// Report 3, accrual analysis (reporting.proto GetAccrualAnalysisReport):
// where miles came from, by source, route and booking class, and how many
// flight segments members had credited, all by posting date.
//
//   AccrualAnalysisProjection projection;   // given to the ingest
//   absl::StatusOr<v1::GetAccrualAnalysisReportResponse> report =
//       AccrualAnalysisReport(view, request, context);
//
// What it folds (accrual stream only):
// - CreditPosted: OWN_FLIGHT and RETRO_CLAIM (SOURCE_OWN_FLIGHTS),
//   PARTNER_FLIGHT and PARTNER_ACTIVITY (SOURCE_PARTNER, per partner),
//   PURCHASE (SOURCE_PURCHASES), ADJUSTMENT credits (SOURCE_ADJUSTMENTS).
// - DebitPosted: ADJUSTMENT debits (counted and signed), and REVERSAL
//   debits, whose reversed miles go to the reversed credit's source. The
//   REVERSAL transaction is used rather than CreditReversed because only it
//   carries the credit's partner_code and flight (accrual copies them onto
//   it); the source follows from them: a partner code means SOURCE_PARTNER,
//   else a flight means SOURCE_OWN_FLIGHTS, else SOURCE_PURCHASES (the only
//   other reversible credit). AdjustmentPosted repeats the ADJUSTMENT
//   transaction's amount and is not summed again.
//
// Tables (keys from libs/store/keys.h):
// - accrual_analysis_source / _route / _class: period rows (buckets.h):
//   each event is added to its year's, month's and day's row, then the
//   dimensions (route and class rows lead with the partner, so that a
//   partner_code reads only that partner's rows). A year's range reads one
//   row per dimension value; a ragged one also the days of its edge months.
// - accrual_analysis_member_year: (year, member) -> [year, Jan .. Dec] net
//   flight segments; _partner_member_year: the same per partner flown;
//   _member_day: (day, partner, member) -> [net segments].
// - accrual_analysis_distribution: (0 = year | 1 = month, first day of the
//   period, net segments) -> [members]. Kept exact as each flight credit or
//   reversal moves a member from one count to the next (one read of the
//   member's year row per flight event; the member-year tables are kept in
//   memory by the ingest).
//
// Choices the contract leaves open:
// - Route and class rows count flight credits posted in the range (gross,
//   like by_source.segments; reversals show in by_source.reversed_miles).
// - by_source always lists OWN_FLIGHTS, ADJUSTMENTS and PURCHASES (zeros
//   included) and the partners with activity in the range; with
//   partner_code, only that partner's row (zeros included).
// - segments_per_member is net of reversals dated (posted) in the range:
//   a reversal counts in the month it was posted, not in the credit's, so
//   a member whose credit was before the range and its reversal in it nets
//   below one and is left out, like members with none.
// - segments_per_member and the 200 ms budget: a range that is exactly one
//   calendar year, or exactly one calendar month, with no partner_code, is
//   answered from the precomputed distribution (a few hundred rows). Any
//   other range is answered exactly by summing per-member rows: the
//   member-year rows of each year the range touches (one row per member
//   who flew that year, i.e. up to ~1M rows), plus member-day rows for
//   clipped edge months. That is exact but can take longer than 200 ms at
//   1M members; partner_code uses the per-partner member rows, which are
//   as many as that partner's flyers (for whole months of one year, each
//   member's row goes straight into the distribution).
// - A member merged into another keeps the segments credited before the
//   merge (AccountMerged moves miles, not flight credits).
//
// Thread-compatible: the projection is applied from one thread; queries
// read only their ViewReader.
#ifndef MILEAGEBANK_SERVICES_REPORTING_ACCRUAL_ANALYSIS_H_
#define MILEAGEBANK_SERVICES_REPORTING_ACCRUAL_ANALYSIS_H_

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

inline constexpr char kAccrualAnalysisSourceTable[] = "accrual_analysis_source";
inline constexpr char kAccrualAnalysisRouteTable[] = "accrual_analysis_route";
inline constexpr char kAccrualAnalysisClassTable[] = "accrual_analysis_class";
inline constexpr char kAccrualAnalysisMemberYearTable[] =
    "accrual_analysis_member_year";
inline constexpr char kAccrualAnalysisPartnerMemberYearTable[] =
    "accrual_analysis_partner_member_year";
inline constexpr char kAccrualAnalysisMemberDayTable[] =
    "accrual_analysis_member_day";
inline constexpr char kAccrualAnalysisDistributionTable[] =
    "accrual_analysis_distribution";

class AccrualAnalysisProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  std::vector<std::string> ResidentTables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
  // A rebuild defers the year and month rows of its period tables
  // (DeferRollUps).
  void DeferDerived(ViewState& state) override;
  absl::Status DeriveDeferred(const ViewReader& view,
                              ViewState& state) override;
};

// INVALID_ARGUMENT for a bad range or a partner_code that is not 2-8
// characters of A-Z and 0-9.
absl::StatusOr<v1::GetAccrualAnalysisReportResponse> AccrualAnalysisReport(
    const ViewReader& view, const v1::GetAccrualAnalysisReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_ACCRUAL_ANALYSIS_H_
