#include "services/reporting/buckets.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"

namespace mileagebank::reporting {
namespace {

// Int64(period) and Day: 8 bytes each.
constexpr size_t kPeriodKeyBytes = 16;

const absl::CivilDay kEpoch(1970, 1, 1);

// Below every period (kYear is 0): the key of the mark DeferRollUps writes.
constexpr int64_t kRollUpsDeferredPeriod = -1;

const std::string& RollUpsDeferredKey() {
  static const std::string* const key = new std::string(
      store::KeyBuilder().Int64(kRollUpsDeferredPeriod).Build());
  return *key;
}

template <typename View>
absl::StatusOr<bool> RollUpsDeferred(View& view, absl::string_view table) {
  absl::StatusOr<std::optional<std::string>> mark =
      view.Get(table, RollUpsDeferredKey());
  if (!mark.ok()) return mark.status();
  return mark->has_value();
}

absl::Status ShortKey(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": a key shorter than a period"));
}

std::string PeriodKey(Period period, absl::CivilDay first,
                      absl::string_view dims) {
  return store::KeyBuilder()
      .Int64(static_cast<int64_t>(period))
      .Day(first)
      .Raw(dims)
      .Build();
}

std::vector<PeriodStart> DaysCovering(const ReportRange& range) {
  std::vector<PeriodStart> days;
  for (absl::CivilDay day = range.from; day <= range.to; ++day) {
    days.push_back({Period::kDay, day});
  }
  return days;
}

absl::Status DeriveTableRollUps(const ViewReader& view, ViewState& state,
                                absl::string_view table) {
  MB_ASSIGN_OR_RETURN(const bool deferred, RollUpsDeferred(state, table));
  if (!deferred) return absl::OkStatus();
  // Far fewer than the day rows: a month's or year's row per dimension.
  absl::flat_hash_map<std::string, std::vector<int64_t>> roll_ups;
  const std::string days =
      store::KeyBuilder().Int64(static_cast<int64_t>(Period::kDay)).Build();
  MB_RETURN_IF_ERROR(view.ScanCounters(
      table, store::PrefixRange(days),
      [&](absl::string_view key,
          const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
        absl::CivilDay day;
        if (key.size() < kPeriodKeyBytes ||
            !store::KeyReader(key.substr(days.size())).Day(&day)) {
          return ShortKey(table);
        }
        const absl::string_view dims = key.substr(kPeriodKeyBytes);
        AddCounters(
            values,
            &roll_ups[PeriodKey(Period::kMonth,
                                absl::CivilDay(absl::CivilMonth(day)), dims)]);
        AddCounters(
            values,
            &roll_ups[PeriodKey(Period::kYear,
                                absl::CivilDay(absl::CivilYear(day)), dims)]);
        return true;
      }));
  for (const auto& [key, values] : roll_ups) {
    state.PutUnread(table, key, EncodeCounters(values));
  }
  state.Delete(table, RollUpsDeferredKey());
  return absl::OkStatus();
}

}  // namespace

std::vector<PeriodStart> PeriodsCovering(const ReportRange& range) {
  std::vector<PeriodStart> periods;
  absl::CivilDay day = range.from;
  while (day <= range.to) {
    const absl::CivilYear year(day);
    const absl::CivilMonth month(day);
    if (day == absl::CivilDay(year) && absl::CivilDay(year + 1) - 1 <= range.to) {
      periods.push_back({Period::kYear, day});
      day = absl::CivilDay(year + 1);
    } else if (day == absl::CivilDay(month) &&
               validation::LastDayOfMonth(month) <= range.to) {
      periods.push_back({Period::kMonth, day});
      day = absl::CivilDay(month + 1);
    } else {
      periods.push_back({Period::kDay, day});
      ++day;
    }
  }
  return periods;
}

absl::Status AddToPeriods(ViewState& state, absl::string_view table,
                          absl::CivilDay day, absl::string_view dims,
                          absl::Span<const int64_t> values) {
  // Days since 1970-01-01, as KeyBuilder::Day stores a day (taken as a
  // number here: converting a date is the costly part of a key, and a
  // fact's three periods need only one conversion).
  const int64_t number = day - kEpoch;
  const std::pair<Period, int64_t> periods[] = {
      {Period::kDay, number},
      {Period::kMonth, number - (day.day() - 1)},
      {Period::kYear, number - (absl::GetYearDay(day) - 1)}};
  MB_ASSIGN_OR_RETURN(const bool deferred, RollUpsDeferred(state, table));
  // Reused: three keys per fact, several facts per event.
  thread_local store::KeyBuilder key;
  for (const auto& [period, first] :
       absl::MakeConstSpan(periods, deferred ? 1 : 3)) {
    key.Clear().Int64(static_cast<int64_t>(period)).Int64(first).Raw(dims);
    absl::Status status = state.Add(table, key.Build(), values);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ScanPeriods(const ViewReader& view, absl::string_view table,
                         const ReportRange& range, absl::string_view dims_prefix,
                         const PeriodVisit& visit) {
  auto on_row =
      [&](absl::string_view key,
          const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
    if (key.size() < kPeriodKeyBytes) return ShortKey(table);
    MB_RETURN_IF_ERROR(visit(key.substr(kPeriodKeyBytes), values));
    return true;
  };
  MB_ASSIGN_OR_RETURN(const bool deferred, RollUpsDeferred(view, table));
  const std::vector<PeriodStart> periods =
      deferred ? DaysCovering(range) : PeriodsCovering(range);
  for (size_t i = 0; i < periods.size(); ++i) {
    store::ScanRange scan;
    // A run of consecutive days is one scan when every dimension is wanted.
    size_t last = i;
    if (dims_prefix.empty() && periods[i].period == Period::kDay) {
      while (last + 1 < periods.size() &&
             periods[last + 1].period == Period::kDay) {
        ++last;
      }
      scan.start = PeriodKey(Period::kDay, periods[i].first, "");
      scan.end = PeriodKey(Period::kDay, periods[last].first + 1, "");
    } else {
      scan = store::PrefixRange(
          PeriodKey(periods[i].period, periods[i].first, dims_prefix));
    }
    i = last;
    MB_RETURN_IF_ERROR(view.ScanCounters(table, scan, on_row));
  }
  return absl::OkStatus();
}

void DeferRollUps(ViewState& state,
                  absl::Span<const absl::string_view> tables) {
  for (const absl::string_view table : tables) {
    state.Put(table, RollUpsDeferredKey(), "");
  }
}

absl::Status DeriveRollUps(const ViewReader& view, ViewState& state,
                           absl::Span<const absl::string_view> tables) {
  for (const absl::string_view table : tables) {
    MB_RETURN_IF_ERROR(DeriveTableRollUps(view, state, table));
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::reporting
