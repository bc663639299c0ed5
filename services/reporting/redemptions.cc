#include "services/reporting/redemptions.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "services/reporting/buckets.h"
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

// A cube row's dimensions: the cell, then the state.
std::string CubeDims(const Cell& cell, rv1::RedemptionState state) {
  store::KeyBuilder key;
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

// The redemption a transition event carries, with the state it left and
// the one it entered and when it moved (null for a creation); a null
// record for other events.
struct Transition {
  const rv1::RedemptionRecord* record = nullptr;
  rv1::RedemptionState from = rv1::REDEMPTION_STATE_UNSPECIFIED;
  rv1::RedemptionState to = rv1::REDEMPTION_STATE_UNSPECIFIED;
  const google::protobuf::Timestamp* moved_at = nullptr;
};

// `Payload` (one of the events) as a transition from `from` to `to`.
template <typename Payload>
absl::Status Take(const SourceEvent& event, rv1::RedemptionState from,
                  rv1::RedemptionState to,
                  const google::protobuf::Timestamp& (
                      rv1::RedemptionRecord::*moved_at)() const,
                  Transition* transition) {
  if (transition->record != nullptr) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(const Payload* payload, event.Payload<Payload>());
  if (payload == nullptr) return absl::OkStatus();
  transition->record = &payload->redemption();
  transition->from = from;
  transition->to = to;
  if (moved_at != nullptr) {
    transition->moved_at = &(transition->record->*moved_at)();
  }
  return absl::OkStatus();
}

absl::StatusOr<Transition> TransitionOf(const SourceEvent& event) {
  using R = rv1::RedemptionRecord;
  Transition t;
  MB_RETURN_IF_ERROR(Take<rv1::RedemptionHeld>(
      event, rv1::REDEMPTION_STATE_UNSPECIFIED, rv1::HELD, nullptr, &t));
  MB_RETURN_IF_ERROR(Take<rv1::RedemptionIssued>(event, rv1::HELD, rv1::ISSUED,
                                                 &R::issued_at, &t));
  MB_RETURN_IF_ERROR(Take<rv1::RedemptionCancelled>(
      event, rv1::HELD, rv1::CANCELLED, &R::cancelled_at, &t));
  MB_RETURN_IF_ERROR(Take<rv1::RedemptionExpired>(
      event, rv1::HELD, rv1::EXPIRED, &R::expired_at, &t));
  MB_RETURN_IF_ERROR(Take<rv1::RedemptionRefunded>(
      event, rv1::ISSUED, rv1::REFUNDED, &R::refunded_at, &t));
  return t;
}

// The cube cells the query has gathered, by their dimensions as stored
// (CubeDims): they sort as (Cell, state) do, and are decoded only once
// each, for the answer.
using Gathered = absl::flat_hash_map<std::string, CubeCounts>;

void AddCounts(const std::vector<int64_t>& values, int64_t sign,
               CubeCounts* into) {
  for (size_t i = 0; i < into->size() && i < values.size(); ++i) {
    (*into)[i] += sign * values[i];
  }
}

// Moves back what was moved after `to` by redemptions created in
// [from, to]: per creation day, only its transitions dated after `to`.
absl::Status UndoLateTransitions(const ViewReader& view, absl::CivilDay from,
                                 absl::CivilDay to, Gathered* gathered) {
  // Day(created) Day(moved) before the cell; Int64(from) Int64(to) after.
  constexpr size_t kDays = 16;
  constexpr size_t kStates = 16;
  bool corrupt = false;
  for (absl::CivilDay created = from; created <= to; ++created) {
    store::ScanRange range;
    range.start = store::KeyBuilder().Day(created).Day(to + 1).Build();
    range.end = DayKey(created + 1);
    MB_RETURN_IF_ERROR(view.ScanCounters(
        kRedemptionsLateTable, range,
        [&](absl::string_view key, const std::vector<int64_t>& values) {
          if (key.size() < kDays + kStates) {
            corrupt = true;
            return false;
          }
          const absl::string_view cell =
              key.substr(kDays, key.size() - kDays - kStates);
          const absl::string_view left = key.substr(key.size() - kStates, 8);
          const absl::string_view entered = key.substr(key.size() - 8);
          AddCounts(values, -1, &(*gathered)[absl::StrCat(cell, entered)]);
          AddCounts(values, +1, &(*gathered)[absl::StrCat(cell, left)]);
          return true;
        }));
    if (corrupt) return Corrupt(kRedemptionsLateTable);
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> RedemptionsProjection::Tables() const {
  return {kRedemptionsCubeTable, kRedemptionsLateTable,
          kRedemptionsDailyTable};
}

void RedemptionsProjection::DeferDerived(ViewState& state) {
  DeferRollUps(state, {kRedemptionsCubeTable});
}

absl::Status RedemptionsProjection::DeriveDeferred(const ViewReader& view,
                                                   ViewState& state) {
  return DeriveRollUps(view, state, {kRedemptionsCubeTable});
}

absl::Status RedemptionsProjection::Apply(const SourceEvent& source_event,
                                          ViewState& state) {
  if (source_event.source() != kRedemptionSource) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(const Transition transition, TransitionOf(source_event));
  if (transition.record == nullptr) return absl::OkStatus();
  const rv1::RedemptionRecord& record = *transition.record;
  const rv1::RedemptionState from = transition.from;
  const rv1::RedemptionState to = transition.to;
  const google::protobuf::Timestamp* moved_at = transition.moved_at;
  const common::v1::Event& event = source_event.event();

  const Cell cell = CellOf(record);
  const absl::CivilDay created = DayOf(record.created_at(), event);
  const CubeCounts counts = {1, record.passengers_size(), record.total_miles()};
  const CubeCounts minus = {-counts[0], -counts[1], -counts[2]};
  MB_RETURN_IF_ERROR(AddToPeriods(state, kRedemptionsCubeTable, created,
                                  CubeDims(cell, to), counts));
  if (moved_at == nullptr) return absl::OkStatus();
  MB_RETURN_IF_ERROR(AddToPeriods(state, kRedemptionsCubeTable, created,
                                  CubeDims(cell, from), minus));

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

  // The cube: whole years and months from their roll-ups, the rest by day.
  Gathered gathered;
  MB_RETURN_IF_ERROR(ScanPeriods(
      view, kRedemptionsCubeTable, range, /*dims_prefix=*/"",
      [&](absl::string_view dims, const std::vector<int64_t>& values) {
        AddCounts(values, +1, &gathered[dims]);
        return absl::OkStatus();
      }));
  if (range.to < validation::UtcDay(context.now)) {
    MB_RETURN_IF_ERROR(
        UndoLateTransitions(view, range.from, range.to, &gathered));
  }

  std::vector<std::pair<const std::string*, const CubeCounts*>> cells;
  for (const auto& [dims, counts] : gathered) {
    if (counts[kRedemptions] != 0) cells.emplace_back(&dims, &counts);
  }
  // Ties in the dimensions' order, for stable output.
  std::sort(cells.begin(), cells.end(), [](const auto& a, const auto& b) {
    if ((*a.second)[kRedemptions] != (*b.second)[kRedemptions]) {
      return (*a.second)[kRedemptions] > (*b.second)[kRedemptions];
    }
    return *a.first < *b.first;
  });
  for (const auto& [dims, counts] : cells) {
    store::KeyReader key(*dims);
    Cell cell;
    int64_t state = 0;
    if (!ReadCell(key, &cell) || !key.Int64(&state) || !key.done()) {
      return Corrupt(kRedemptionsCubeTable);
    }
    v1::RedemptionCubeRow* row = response.add_rows();
    row->set_origin(cell.origin);
    row->set_destination(cell.destination);
    row->set_journey_type(static_cast<rv1::JourneyType>(cell.journey_type));
    row->set_award_type(static_cast<rv1::AwardType>(cell.award_type));
    row->set_cabin(static_cast<rv1::Cabin>(cell.cabin));
    row->set_channel(static_cast<common::v1::Channel>(cell.channel));
    row->set_partner_code(cell.partner_code);
    row->set_state(static_cast<rv1::RedemptionState>(state));
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
