// Report 8, sales offices (reporting.proto GetSalesOfficeReport): what each
// channel, office and agent did in a date range.
//
//   SalesOfficesProjection projection;   // given to the ingest
//   absl::StatusOr<v1::GetSalesOfficeReportResponse> report =
//       SalesOfficeReport(view, request, context);
//
// What it folds, each attributed to an Actor and dated by a timestamp the
// event carries (UTC date; the event's recorded_at when that is unset):
// - membership MemberEnrolled: member.enrolment, dated enrolled_at.
// - accrual RetroClaimSubmitted: claim.submitted_by, dated submitted_at.
// - accrual RetroClaimApproved / RetroClaimRejected: also claim.submitted_by
//   ("approvals by the claim's submitter"), dated decided_at. The claim
//   travels whole in every claim event, so no per-claim record is kept.
// - redemption RedemptionHeld: redemption.created_by, dated created_at
//   (a redemption is held once, when it is created).
// - redemption RedemptionIssued: redemption.created_by, dated issued_at,
//   with total_miles.
//
// Table sales_offices_activity: period rows (buckets.h) with the
// dimensions channel, office_code, operator_id -> [enrolments, retro-claims
// submitted, approved, rejected, redemptions created, issued, issued miles].
// Each event adds to its year's, month's and day's row, so a year's range
// reads one row per agent, and a ragged range also the days of its edge
// months. Office totals are the sums of their agents' rows.
//
// Rows whose figures are all zero in the range are left out.
//
// Thread-compatible: the projection is applied from one thread; queries
// read only their ViewReader.
#ifndef MILEAGEBANK_SERVICES_REPORTING_SALES_OFFICES_H_
#define MILEAGEBANK_SERVICES_REPORTING_SALES_OFFICES_H_

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

inline constexpr char kSalesOfficesActivityTable[] = "sales_offices_activity";

class SalesOfficesProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
  // A rebuild defers the year and month rows of its period tables
  // (DeferRollUps).
  void DeferDerived(ViewState& state) override;
  absl::Status DeriveDeferred(const ViewReader& view,
                              ViewState& state) override;
};

// INVALID_ARGUMENT for a bad range or an office_code longer than 32
// characters.
absl::StatusOr<v1::GetSalesOfficeReportResponse> SalesOfficeReport(
    const ViewReader& view, const v1::GetSalesOfficeReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_SALES_OFFICES_H_
