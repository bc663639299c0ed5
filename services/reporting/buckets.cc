#include "services/reporting/buckets.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"

namespace mileagebank::reporting {
namespace {

// Int64(period) and Day: 8 bytes each.
constexpr size_t kPeriodKeyBytes = 16;

const absl::CivilDay kEpoch(1970, 1, 1);

std::string PeriodKey(Period period, absl::CivilDay first,
                      absl::string_view dims) {
  return store::KeyBuilder()
      .Int64(static_cast<int64_t>(period))
      .Day(first)
      .Raw(dims)
      .Build();
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
      {Period::kYear, number - (absl::GetYearDay(day) - 1)},
      {Period::kMonth, number - (day.day() - 1)},
      {Period::kDay, number}};
  // Reused: three keys per fact, several facts per event.
  thread_local store::KeyBuilder key;
  for (const auto& [period, first] : periods) {
    key.Clear().Int64(static_cast<int64_t>(period)).Int64(first).Raw(dims);
    absl::Status status = state.Add(table, key.Build(), values);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ScanPeriods(const ViewReader& view, absl::string_view table,
                         const ReportRange& range, absl::string_view dims_prefix,
                         const PeriodVisit& visit) {
  absl::Status bad;
  auto on_row = [&](absl::string_view key, const std::vector<int64_t>& values) {
    if (key.size() < kPeriodKeyBytes) {
      bad = absl::DataLossError(
          absl::StrCat("reporting ", table, ": a key shorter than a period"));
      return false;
    }
    visit(key.substr(kPeriodKeyBytes), values);
    return true;
  };
  const std::vector<PeriodStart> periods = PeriodsCovering(range);
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
    absl::Status status = view.ScanCounters(table, scan, on_row);
    if (!status.ok()) return status;
    if (!bad.ok()) return bad;
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::reporting
