#include "bench/loadgen_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mileagebank::loadgen {

void LatencySample::Merge(const LatencySample& other) {
  micros_.insert(micros_.end(), other.micros_.begin(), other.micros_.end());
}

LatencySummary LatencySample::Summarize() const {
  LatencySummary summary;
  if (micros_.empty()) return summary;
  std::vector<int64_t> sorted = micros_;
  std::sort(sorted.begin(), sorted.end());
  summary.count = static_cast<int64_t>(sorted.size());
  double sum = 0;
  for (int64_t micros : sorted) sum += static_cast<double>(micros);
  summary.mean_us = sum / static_cast<double>(sorted.size());
  summary.p50_us = NearestRankPercentile(sorted, 50);
  summary.p90_us = NearestRankPercentile(sorted, 90);
  summary.p99_us = NearestRankPercentile(sorted, 99);
  summary.p999_us = NearestRankPercentile(sorted, 99.9);
  summary.max_us = sorted.back();
  return summary;
}

int64_t NearestRankPercentile(const std::vector<int64_t>& sorted,
                              double percent) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // The small slack keeps an exact product (50% of 10 = 5) from becoming the
  // next rank through floating-point error.
  int64_t rank = static_cast<int64_t>(std::ceil(percent / 100.0 * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(sorted.size()));
  return sorted[rank - 1];
}

namespace {

// Microseconds as milliseconds with exactly three decimals.
std::string Millis(int64_t micros) {
  const char* sign = micros < 0 ? "-" : "";
  const int64_t magnitude = micros < 0 ? -micros : micros;
  return absl::StrFormat("%s%d.%03d", sign, magnitude / 1000, magnitude % 1000);
}

}  // namespace

std::string ResultLine(double ops_per_s, int64_t p50_us, int64_t p99_us,
                       int64_t errors) {
  return absl::StrCat("ops_per_s=", std::llround(ops_per_s),
                      " p50_ms=", Millis(p50_us), " p99_ms=", Millis(p99_us),
                      " errors=", errors);
}

void ErrorTally::Add(absl::string_view message) {
  absl::MutexLock lock(&mutex_);
  ++total_;
  for (auto& [kept_message, count] : kept_) {
    if (kept_message == message) {
      ++count;
      return;
    }
  }
  if (static_cast<int>(kept_.size()) < max_distinct_) {
    kept_.emplace_back(std::string(message), 1);
  } else {
    ++not_kept_;
  }
}

int64_t ErrorTally::total() const {
  absl::MutexLock lock(&mutex_);
  return total_;
}

std::vector<std::string> ErrorTally::Report() const {
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> lines;
  for (const auto& [message, count] : kept_) {
    lines.push_back(absl::StrCat(count, " x ", message));
  }
  if (not_kept_ > 0) {
    lines.push_back(
        absl::StrCat(not_kept_, " more errors with other messages"));
  }
  return lines;
}

}  // namespace mileagebank::loadgen
