// Counter rows by period: the one layout of the figures that reports sum
// over a date range (accrual analysis, sales offices, redemptions).
//
// A fact dated D with dimensions `dims` (a key part built with
// libs/store/keys.h) is added to three rows of one table, those of its
// year, its month and its day, keyed
//
//   Int64(period) Day(the period's first day) dims
//
// A range is read as year rows for the calendar years wholly inside it,
// month rows for the other whole months, and day rows for the ragged ends
// (at most two partial months). A year's report therefore reads one row per
// dimension value whatever the length of the history, and any range at most
// one period's rows per year, month or day it is cut into (~12 + ~60).
//
// Rebuilding from an empty store, a projection may defer a table's year and
// month rows (DeferRollUps in Projection::DeferDerived): AddToPeriods then
// writes only the day row, a third of the writes, until DeriveRollUps (in
// Projection::DeriveDeferred) sums the days into them once. Meanwhile
// ScanPeriods reads days alone.
//
//   MB_RETURN_IF_ERROR(AddToPeriods(state, kTable, day, dims, {1, miles}));
//   MB_RETURN_IF_ERROR(ScanPeriods(
//       view, kTable, range, /*dims_prefix=*/"",
//       [&](absl::string_view dims, const std::vector<int64_t>& values) {
//         ...;
//         return absl::OkStatus();
//       }));
//
// Thread-compatible functions of their arguments.
#ifndef MILEAGEBANK_SERVICES_REPORTING_BUCKETS_H_
#define MILEAGEBANK_SERVICES_REPORTING_BUCKETS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

// The period of a row, as stored. Day rows sort after every year and month
// row, so that a new day's keys are above every stored key and the ingest
// knows them absent without reading (BufferedViewState).
enum class Period : int64_t { kYear = 0, kMonth = 1, kDay = 2 };

// One period: its kind and first day.
struct PeriodStart {
  Period period;
  absl::CivilDay first;

  bool operator==(const PeriodStart& other) const {
    return period == other.period && first == other.first;
  }
};

// The periods that cover exactly the days of `range`, in date order:
// whole years, then whole months, then days.
std::vector<PeriodStart> PeriodsCovering(const ReportRange& range);

// Adds `values` to the rows of `day`'s year, month and day under `dims`
// (the day's alone while the table's roll-ups are deferred).
absl::Status AddToPeriods(ViewState& state, absl::string_view table,
                          absl::CivilDay day, absl::string_view dims,
                          absl::Span<const int64_t> values);

// May find a row's dimensions unreadable (DATA_LOSS).
using PeriodVisit = std::function<absl::Status(
    absl::string_view dims, const std::vector<int64_t>& values)>;

// Visits the rows covering exactly the days of `range` whose dimensions
// start with `dims_prefix` (a whole number of key parts; "" for all), with
// the dimensions part of their key. DATA_LOSS for a row that is not a
// counter row or a key shorter than period and day; the first error of
// `visit` ends the scan and is returned.
absl::Status ScanPeriods(const ViewReader& view, absl::string_view table,
                         const ReportRange& range, absl::string_view dims_prefix,
                         const PeriodVisit& visit);

// Marks the year and month rows of each of `tables` deferred (a row of its
// own, keyed below every period row).
void DeferRollUps(ViewState& state,
                  absl::Span<const absl::string_view> tables);

// For each of `tables` whose roll-ups are deferred: writes its year and
// month rows, summed from its day rows in `view` (everything applied), and
// clears the mark. DATA_LOSS for a day row that is not a counter row or
// too short a key.
absl::Status DeriveRollUps(const ViewReader& view, ViewState& state,
                           absl::Span<const absl::string_view> tables);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_BUCKETS_H_
