// Report 5, Top and near-tier members (reporting.proto
// GetTopMembersReport). It reads the tables MembersProjection keeps
// (members.h): there is no projection of its own, since the ranking
// indexes change with the same per-member record the members report keeps.
//
// Top members: QM and QS are per calendar year of the activity date (the
// figures membership decides tiers by), indexed by (year, QM desc, QS desc,
// member_number). A ranking by the activity dates of an arbitrary range
// would need per-member daily figures summed at query time, too slow for
// 1,000,000 members; so the ranking is by the QM and QS of the calendar
// years the range touches, whole. It is exact for a range of whole
// calendar years (the usual question); for a range inside one year it
// ranks by that year's figures. A range over several years merges the
// years' indexes with the threshold algorithm (read each year's index
// best-first in batches, total each member met over the years, stop once
// the N-th best total beats the sum of the years' current positions), so
// it reads a few thousand entries, not every member.
//
// Near-tier members: the calendar year of to_date, with every activity of
// that year known now (activity dated after to_date in the same year is
// included; for a to_date of today or later this is exactly "the year so
// far"). The tier is the one that year and the one before give with the
// totals known now. The query reads only the index bands within
// near_tier_percent below each tier's thresholds.
//
// Both lists hold ACTIVE members only (status now), with names and consent
// as membership holds them now. Tier thresholds: context.config->tiers()
// (zero values mean libs/tiers' defaults); they must be the ones the
// MembersProjection was built with.
//
// Thread-safe: reads only.
#ifndef MILEAGEBANK_SERVICES_REPORTING_TOP_MEMBERS_H_
#define MILEAGEBANK_SERVICES_REPORTING_TOP_MEMBERS_H_

#include "absl/status/statusor.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

absl::StatusOr<v1::GetTopMembersReportResponse> TopMembersReport(
    const ViewReader& view, const v1::GetTopMembersReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_TOP_MEMBERS_H_
