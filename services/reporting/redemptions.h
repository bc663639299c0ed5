// The redemptions report (product rules section 7.4; GetRedemptionsReport in
// reporting.proto): awards by route, cabin, channel and state, miles
// redeemed, cancellations and refunds.
//
//   RedemptionsProjection projection;   // given to the ingest
//   absl::StatusOr<v1::GetRedemptionsReportResponse> report =
//       RedemptionsReport(reader, request, context);
//
// What it folds: the redemption stream's RedemptionHeld, RedemptionIssued,
// RedemptionCancelled, RedemptionExpired and RedemptionRefunded. Each carries
// the whole redemption after the transition, so every dimension of the cube
// (route, journey type, award type, cabin, channel, partner) and the day it
// was created are at hand without reading anything back. The transition's
// previous state is implied by the event: ISSUED, CANCELLED and EXPIRED leave
// HELD, REFUNDED leaves ISSUED.
//
// Tables (keys from libs/store/keys.h; values are counter rows):
//   redemptions_cube        period rows (buckets.h) by creation day, with
//                           the dimensions Cell State
//                           -> [redemptions, passengers, miles]
//   redemptions_late        Day(created) Day(transition) Cell State(from)
//                           State(to) -> [redemptions, passengers, miles]
//   redemptions_daily       Day(transition)
//                           -> [issued, issued miles, cancellations,
//                               expirations, refunds, refunded miles,
//                               redeposit fee miles]
// where Cell is String(origin) String(destination) Int64(journey_type)
// Int64(award_type) Int64(cabin) Int64(channel) String(partner_code).
//
// The cube holds each redemption in the cell of its current state: a
// transition moves one count from the old state's cell to the new one's
// (Adds to the year, month and day rows, no read). The query reads whole
// years and months from their roll-ups and the ragged ends by day, so a
// year's range reads one row per cell. Cells are gathered by their stored
// bytes (which sort as the dimensions do) and decoded once each.
//
// "State at the end of to_date" when to_date is before today: a redemption
// created in the range may have moved after to_date. Only transitions dated
// after the redemption's creation day can be such (one on its creation day
// is never after a to_date that creation day is in), so those, and only
// those, are also written to redemptions_late, keyed by creation day first.
// The query reads, for each creation day of the range, only its late
// transitions dated after to_date (the key's second day), and undoes them
// (moving the count back to the state it left; a chain
// HELD->ISSUED->REFUNDED undoes step by step). That is one short seek per
// day of the range, and none when to_date is today or later, where the
// contract asks for the current state.
//
// Dates: creation by created_at, transitions by issued_at, cancelled_at,
// expired_at, refunded_at (UTC), each falling back to the event's
// recorded_at when unset. Route: the outbound journey's first origin and
// last destination; for an UPGRADE_AWARD (no itinerary) the upgraded
// flight's origin and destination, with journey_type left UNSPECIFIED.
//
// Thread-compatible: the projection is applied by one thread; the query is a
// pure function of its reader.
#ifndef MILEAGEBANK_SERVICES_REPORTING_REDEMPTIONS_H_
#define MILEAGEBANK_SERVICES_REPORTING_REDEMPTIONS_H_

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

inline constexpr char kRedemptionsCubeTable[] = "redemptions_cube";
inline constexpr char kRedemptionsLateTable[] = "redemptions_late";
inline constexpr char kRedemptionsDailyTable[] = "redemptions_daily";

class RedemptionsProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
  // A rebuild defers the year and month rows of its period tables
  // (DeferRollUps).
  void DeferDerived(ViewState& state) override;
  absl::Status DeriveDeferred(const ViewReader& view,
                              ViewState& state) override;
};

// INVALID_ARGUMENT naming range.from_date / range.to_date (CheckRange).
// Everything but stream_positions and generated_at is filled.
absl::StatusOr<v1::GetRedemptionsReportResponse> RedemptionsReport(
    const ViewReader& view, const v1::GetRedemptionsReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_REDEMPTIONS_H_
