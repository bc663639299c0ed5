// Figures of a load generator run: the latencies of completed operations,
// their percentiles, the tally of distinct errors, and the one-line summary
// that scripts read.
//
//   LatencySample sample;            // one per worker thread
//   sample.Add(1234);                // microseconds
//   merged.Merge(sample);            // after the workers stopped
//   LatencySummary s = merged.Summarize();
//   std::cout << ResultLine(ops_per_s, s.p50_us, s.p99_us, errors) << "\n";
//   // ops_per_s=18234 p50_ms=3.412 p99_ms=9.050 errors=0
//
// Thread-safety: LatencySample is not thread-safe (give each thread its own
// and merge them afterwards); ErrorTally is thread-safe; the functions are
// pure.
#ifndef MILEAGEBANK_BENCH_LOADGEN_STATS_H_
#define MILEAGEBANK_BENCH_LOADGEN_STATS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mileagebank::loadgen {

// Percentiles of a set of latencies, in microseconds; all 0 for an empty set.
struct LatencySummary {
  int64_t count = 0;
  double mean_us = 0;
  int64_t p50_us = 0;
  int64_t p90_us = 0;
  int64_t p99_us = 0;
  int64_t p999_us = 0;
  int64_t max_us = 0;
};

// Every latency recorded, exactly (a run of a few hundred thousand operations
// takes a few megabytes), so percentiles are exact rather than bucketed.
class LatencySample {
 public:
  void Add(int64_t micros) { micros_.push_back(micros); }
  void Merge(const LatencySample& other);
  int64_t count() const { return static_cast<int64_t>(micros_.size()); }

  // Sorts a copy; the sample is unchanged.
  LatencySummary Summarize() const;

 private:
  std::vector<int64_t> micros_;
};

// The nearest-rank percentile of `sorted` (ascending): the smallest value
// such that at least `percent` percent of the values are at most it.
// `percent` in (0, 100]; 0 for an empty vector.
int64_t NearestRankPercentile(const std::vector<int64_t>& sorted,
                              double percent);

// The last line of every run, exactly
// "ops_per_s=<integer> p50_ms=<x.xxx> p99_ms=<y.yyy> errors=<k>";
// ops_per_s is rounded to the nearest integer, the milliseconds are the
// microseconds written with three decimals (no rounding involved).
std::string ResultLine(double ops_per_s, int64_t p50_us, int64_t p99_us,
                       int64_t errors);

// Counts errors and keeps the first `max_distinct` distinct messages with
// how often each occurred, for a short report on stderr.
class ErrorTally {
 public:
  explicit ErrorTally(int max_distinct = 5) : max_distinct_(max_distinct) {}
  ErrorTally(const ErrorTally&) = delete;
  ErrorTally& operator=(const ErrorTally&) = delete;

  void Add(absl::string_view message) ABSL_LOCKS_EXCLUDED(mutex_);
  int64_t total() const ABSL_LOCKS_EXCLUDED(mutex_);

  // "<count> x <message>" for each kept message in order of first
  // occurrence, then "<n> more errors with other messages" when some were
  // not kept. Empty when there were no errors.
  std::vector<std::string> Report() const ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  const int max_distinct_;
  mutable absl::Mutex mutex_;
  std::vector<std::pair<std::string, int64_t>> kept_ ABSL_GUARDED_BY(mutex_);
  int64_t not_kept_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t total_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace mileagebank::loadgen

#endif  // MILEAGEBANK_BENCH_LOADGEN_STATS_H_
