#include "services/reporting/redemptions.h"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::reporting {
namespace {

namespace rv1 = redemption::v1;

// One cube cell's dimensions, the state aside.
struct Cell {
  std::string origin;
  std::string destination;
  int64_t journey_type = 0;
  int64_t award_type = 0;
  int64_t cabin = 0;
  int64_t channel = 0;
  std::string partner_code;

  auto Tie() const {
    return std::tie(origin, destination, journey_type, award_type, cabin,
                    channel, partner_code);
  }
  bool operator<(const Cell& other) const { return Tie() < other.Tie(); }
};

// Counter row of the cube and late tables.
enum CubeColumn { kRedemptions = 0, kPassengers, kMiles, kCubeColumns };
using CubeCounts = std::array<int64_t, kCubeColumns>;

// Counter row of the daily table.
enum DailyColumn {
  kIssued = 0,
  kIssuedMiles,
  kCancellations,
  kExpirations,
  kRefunds,
  kRefundedMiles,
  kRedepositFeeMiles,
  kDailyColumns
};

Cell CellOf(const rv1::RedemptionRecord& record) {
  Cell cell;
  if (record.award_type() == rv1::UPGRADE_AWARD &&
      !record.itinerary().has_outbound()) {
    cell.origin = record.upgrade().segment().origin();
    cell.destination = record.upgrade().segment().destination();
  } else {
    const auto& segments = record.itinerary().outbound().segments();
    if (!segments.empty()) {
      cell.origin = segments.begin()->origin();
      cell.destination = segments.rbegin()->destination();
    }
  }
  cell.journey_type = record.itinerary().journey_type();
  cell.award_type = record.award_type();
  cell.cabin = record.cabin();
  cell.channel = record.created_by().channel();
  cell.partner_code = record.partner_code();
  return cell;
}

void AppendCell(store::KeyBuilder& key, const Cell& cell) {
  key.String(cell.origin)
      .String(cell.destination)
      .Int64(cell.journey_type)
      .Int64(cell.award_type)
      .Int64(cell.cabin)
      .Int64(cell.channel)
      .String(cell.partner_code);
}

bool ReadCell(store::KeyReader& key, Cell* cell) {
  return key.String(&cell->origin) && key.String(&cell->destination) &&
         key.Int64(&cell->journey_type) && key.Int64(&cell->award_type) &&
         key.Int64(&cell->cabin) && key.Int64(&cell->channel) &&
         key.String(&cell->partner_code);
}

std::string CubeKey(absl::CivilDay day, const Cell& cell,
                    rv1::RedemptionState state) {
  store::KeyBuilder key;
  key.Day(day);
  AppendCell(key, cell);
  key.Int64(state);
  return key.Build();
}

std::string LateKey(absl::CivilDay created, absl::CivilDay moved,
                    const Cell& cell, rv1::RedemptionState from,
                    rv1::RedemptionState to) {
  store::KeyBuilder key;
  key.Day(created).Day(moved);
  AppendCell(key, cell);
  key.Int64(from).Int64(to);
  return key.Build();
}

std::string DayKey(absl::CivilDay day) {
  return store::KeyBuilder().Day(day).Build();
}

absl::CivilDay DayOf(const google::protobuf::Timestamp& time,
                     const common::v1::Event& event) {
  if (time.seconds() != 0 || time.nanos() != 0) {
    return validation::UtcDay(validation::FromProtoTimestamp(time));
  }
  return validation::UtcDay(
      validation::FromProtoTimestamp(event.recorded_at()));
}

absl::Status Corrupt(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": unreadable key"));
}

// One cube count in both granularities.
absl::Status AddToCube(ViewState& state, absl::CivilDay created,
                       const Cell& cell, rv1::RedemptionState redemption_state,
                       const CubeCounts& counts) {
  MB_RETURN_IF_ERROR(state.Add(kRedemptionsCubeDayTable,
                               CubeKey(created, cell, redemption_state),
                               counts));
  return state.Add(kRedemptionsCubeMonthTable,
                   CubeKey(absl::CivilDay(absl::CivilMonth(created)), cell,
                           redemption_state),
                   counts);
}

template <typename Payload>
bool UnpackRecord(const google::protobuf::Any& any,
                  rv1::RedemptionRecord* record) {
  Payload payload;
  if (!any.UnpackTo(&payload)) return false;
  *record = std::move(*payload.mutable_redemption());
  return true;
}

// The cube cells the query has gathered.
using Gathered = std::map<std::pair<Cell, int64_t>, CubeCounts>;

void AddCounts(const std::vector<int64_t>& values, int64_t sign,
               CubeCounts* into) {
  for (size_t i = 0; i < into->size() && i < values.size(); ++i) {
    (*into)[i] += sign * values[i];
  }
}

absl::Status GatherCube(const ViewReader& view, absl::string_view table,
                        absl::CivilDay from, absl::CivilDay end,
                        Gathered* gathered) {
  store::ScanRange range;
  range.start = DayKey(from);
  range.end = DayKey(end);
  bool corrupt = false;
  MB_RETURN_IF_ERROR(view.ScanCounters(
      table, range,
      [&](absl::string_view raw, const std::vector<int64_t>& values) {
        store::KeyReader key(raw);
        absl::CivilDay day;
        Cell cell;
        int64_t state = 0;
        if (!key.Day(&day) || !ReadCell(key, &cell) || !key.Int64(&state) ||
            !key.done()) {
          corrupt = true;
          return false;
        }
        AddCounts(values, +1, &(*gathered)[{std::move(cell), state}]);
        return true;
      }));
  return corrupt ? Corrupt(table) : absl::OkStatus();
}

// Moves back what was moved after `to` by redemptions created in
// [from, to].
absl::Status UndoLateTransitions(const ViewReader& view, absl::CivilDay from,
                                 absl::CivilDay to, Gathered* gathered) {
  store::ScanRange range;
  range.start = DayKey(from);
  range.end = DayKey(to + 1);
  bool corrupt = false;
  MB_RETURN_IF_ERROR(view.ScanCounters(
      kRedemptionsLateTable, range,
      [&](absl::string_view raw, const std::vector<int64_t>& values) {
        store::KeyReader key(raw);
        absl::CivilDay created;
        absl::CivilDay moved;
        if (!key.Day(&created) || !key.Day(&moved)) {
          corrupt = true;
          return false;
        }
        if (moved <= to) return true;
        Cell cell;
        int64_t left = 0;
        int64_t entered = 0;
        if (!ReadCell(key, &cell) || !key.Int64(&left) ||
            !key.Int64(&entered) || !key.done()) {
          corrupt = true;
          return false;
        }
        AddCounts(values, -1, &(*gathered)[{cell, entered}]);
        AddCounts(values, +1, &(*gathered)[{std::move(cell), left}]);
        return true;
      }));
  return corrupt ? Corrupt(kRedemptionsLateTable) : absl::OkStatus();
}

}  // namespace

std::vector<std::string> RedemptionsProjection::Tables() const {
  return {kRedemptionsCubeDayTable, kRedemptionsCubeMonthTable,
          kRedemptionsLateTable, kRedemptionsDailyTable};
}

absl::Status RedemptionsProjection::Apply(absl::string_view source,
                                          const common::v1::Event& event,
                                          ViewState& state) {
  if (source != kRedemptionSource) return absl::OkStatus();
  const google::protobuf::Any& payload = event.payload();
  rv1::RedemptionRecord record;
  rv1::RedemptionState from = rv1::REDEMPTION_STATE_UNSPECIFIED;
  rv1::RedemptionState to = rv1::REDEMPTION_STATE_UNSPECIFIED;
  const google::protobuf::Timestamp* moved_at = nullptr;
  bool unpacked = false;
  if (payload.Is<rv1::RedemptionHeld>()) {
    unpacked = UnpackRecord<rv1::RedemptionHeld>(payload, &record);
    to = rv1::HELD;
  } else if (payload.Is<rv1::RedemptionIssued>()) {
    unpacked = UnpackRecord<rv1::RedemptionIssued>(payload, &record);
    from = rv1::HELD;
    to = rv1::ISSUED;
    moved_at = &record.issued_at();
  } else if (payload.Is<rv1::RedemptionCancelled>()) {
    unpacked = UnpackRecord<rv1::RedemptionCancelled>(payload, &record);
    from = rv1::HELD;
    to = rv1::CANCELLED;
    moved_at = &record.cancelled_at();
  } else if (payload.Is<rv1::RedemptionExpired>()) {
    unpacked = UnpackRecord<rv1::RedemptionExpired>(payload, &record);
    from = rv1::HELD;
    to = rv1::EXPIRED;
    moved_at = &record.expired_at();
  } else if (payload.Is<rv1::RedemptionRefunded>()) {
    unpacked = UnpackRecord<rv1::RedemptionRefunded>(payload, &record);
    from = rv1::ISSUED;
    to = rv1::REFUNDED;
    moved_at = &record.refunded_at();
  } else {
    return absl::OkStatus();
  }
  if (!unpacked) {
    return absl::DataLossError(absl::StrCat(
        "redemption event ", event.sequence(), ": unreadable payload"));
  }

  const Cell cell = CellOf(record);
  const absl::CivilDay created = DayOf(record.created_at(), event);
  const CubeCounts counts = {1, record.passengers_size(), record.total_miles()};
  const CubeCounts minus = {-counts[0], -counts[1], -counts[2]};
  MB_RETURN_IF_ERROR(AddToCube(state, created, cell, to, counts));
  if (moved_at == nullptr) return absl::OkStatus();
  MB_RETURN_IF_ERROR(AddToCube(state, created, cell, from, minus));

  const absl::CivilDay moved = DayOf(*moved_at, event);
  if (moved > created) {
    MB_RETURN_IF_ERROR(state.Add(kRedemptionsLateTable,
                                 LateKey(created, moved, cell, from, to),
                                 counts));
  }
  std::array<int64_t, kDailyColumns> daily{};
  switch (to) {
    case rv1::ISSUED:
      daily[kIssued] = 1;
      daily[kIssuedMiles] = record.total_miles();
      break;
    case rv1::CANCELLED:
      daily[kCancellations] = 1;
      break;
    case rv1::EXPIRED:
      daily[kExpirations] = 1;
      break;
    case rv1::REFUNDED:
      daily[kRefunds] = 1;
      daily[kRefundedMiles] = record.total_miles();
      daily[kRedepositFeeMiles] = record.redeposit_fee_miles();
      break;
    default:
      break;
  }
  return state.Add(kRedemptionsDailyTable, DayKey(moved), daily);
}

absl::StatusOr<v1::GetRedemptionsReportResponse> RedemptionsReport(
    const ViewReader& view, const v1::GetRedemptionsReportRequest& request,
    const ReportContext& context) {
  MB_ASSIGN_OR_RETURN(const ReportRange range, CheckRange(request.range()));
  v1::GetRedemptionsReportResponse response;

  // The cube: whole months from the month table, the rest by day.
  Gathered gathered;
  const absl::CivilMonth first_month(range.from);
  const absl::CivilMonth last_month(range.to);
  const absl::CivilMonth first_full =
      range.from == absl::CivilDay(first_month) ? first_month : first_month + 1;
  const absl::CivilMonth last_full =
      range.to == validation::LastDayOfMonth(last_month) ? last_month
                                                         : last_month - 1;
  if (first_full <= last_full) {
    MB_RETURN_IF_ERROR(GatherCube(view, kRedemptionsCubeMonthTable,
                                  absl::CivilDay(first_full),
                                  absl::CivilDay(last_full + 1), &gathered));
    if (range.from < absl::CivilDay(first_full)) {
      MB_RETURN_IF_ERROR(GatherCube(view, kRedemptionsCubeDayTable, range.from,
                                    absl::CivilDay(first_full), &gathered));
    }
    if (absl::CivilDay(last_full + 1) <= range.to) {
      MB_RETURN_IF_ERROR(GatherCube(view, kRedemptionsCubeDayTable,
                                    absl::CivilDay(last_full + 1), range.to + 1,
                                    &gathered));
    }
  } else {
    MB_RETURN_IF_ERROR(GatherCube(view, kRedemptionsCubeDayTable, range.from,
                                  range.to + 1, &gathered));
  }
  if (range.to < validation::UtcDay(context.now)) {
    MB_RETURN_IF_ERROR(
        UndoLateTransitions(view, range.from, range.to, &gathered));
  }

  std::vector<std::pair<const std::pair<Cell, int64_t>*, const CubeCounts*>>
      cells;
  for (const auto& [key, counts] : gathered) {
    if (counts[kRedemptions] != 0) cells.emplace_back(&key, &counts);
  }
  // Ties keep the dimensions' order (the map's), for stable output.
  std::stable_sort(
      cells.begin(), cells.end(), [](const auto& a, const auto& b) {
        return (*a.second)[kRedemptions] > (*b.second)[kRedemptions];
      });
  for (const auto& [key, counts] : cells) {
    const Cell& cell = key->first;
    v1::RedemptionCubeRow* row = response.add_rows();
    row->set_origin(cell.origin);
    row->set_destination(cell.destination);
    row->set_journey_type(static_cast<rv1::JourneyType>(cell.journey_type));
    row->set_award_type(static_cast<rv1::AwardType>(cell.award_type));
    row->set_cabin(static_cast<rv1::Cabin>(cell.cabin));
    row->set_channel(static_cast<common::v1::Channel>(cell.channel));
    row->set_partner_code(cell.partner_code);
    row->set_state(static_cast<rv1::RedemptionState>(key->second));
    row->set_redemptions((*counts)[kRedemptions]);
    row->set_passengers((*counts)[kPassengers]);
    row->set_miles((*counts)[kMiles]);
  }

  // Transitions dated in the range, per month and in all.
  const std::vector<absl::CivilMonth> months = range.Months();
  std::vector<std::array<int64_t, kDailyColumns>> per_month(months.size());
  store::ScanRange days;
  days.start = DayKey(range.from);
  days.end = DayKey(range.to + 1);
  bool corrupt = false;
  MB_RETURN_IF_ERROR(view.ScanCounters(
      kRedemptionsDailyTable, days,
      [&](absl::string_view raw, const std::vector<int64_t>& values) {
        store::KeyReader key(raw);
        absl::CivilDay day;
        if (!key.Day(&day) || !key.done()) {
          corrupt = true;
          return false;
        }
        auto& sums = per_month[absl::CivilMonth(day) - months.front()];
        for (size_t i = 0; i < sums.size() && i < values.size(); ++i) {
          sums[i] += values[i];
        }
        return true;
      }));
  if (corrupt) return Corrupt(kRedemptionsDailyTable);
  v1::RedemptionsSummary* summary = response.mutable_summary();
  for (size_t i = 0; i < months.size(); ++i) {
    const auto& sums = per_month[i];
    v1::RedemptionMonthRow* row = response.add_monthly();
    row->set_year(static_cast<int32_t>(months[i].year()));
    row->set_month(months[i].month());
    row->set_awards_issued(sums[kIssued]);
    row->set_miles_redeemed(sums[kIssuedMiles] - sums[kRefundedMiles]);
    row->set_cancellations(sums[kCancellations]);
    row->set_expirations(sums[kExpirations]);
    row->set_refunds(sums[kRefunds]);
    row->set_refunded_miles(sums[kRefundedMiles]);
    row->set_redeposit_fee_miles(sums[kRedepositFeeMiles]);
    summary->set_awards_issued(summary->awards_issued() + row->awards_issued());
    summary->set_miles_redeemed(summary->miles_redeemed() +
                                row->miles_redeemed());
    summary->set_cancellations(summary->cancellations() + row->cancellations());
    summary->set_expirations(summary->expirations() + row->expirations());
    summary->set_refunds(summary->refunds() + row->refunds());
    summary->set_refunded_miles(summary->refunded_miles() +
                                row->refunded_miles());
    summary->set_redeposit_fee_miles(summary->redeposit_fee_miles() +
                                     row->redeposit_fee_miles());
  }
  return response;
}

}  // namespace mileagebank::reporting
