#include "services/gateway/rate_limiter.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace mileagebank::gateway {

RateLimiterOptions RateLimiterOptionsFromConfig(
    const config::v1::GatewayConfig& config) {
  RateLimiterOptions options;
  if (config.rate_limit_per_second() > 0) {
    options.per_second = config.rate_limit_per_second();
  }
  if (config.rate_limit_burst() > 0) options.burst = config.rate_limit_burst();
  return options;
}

RateLimiter::RateLimiter(RateLimiterOptions options, Clock clock)
    : options_([&] {
        // Nonsense limits would refuse everybody or divide by zero; the
        // nearest sensible ones are meant.
        options.per_second = std::max(options.per_second, 1e-3);
        options.burst = std::max(options.burst, 1.0);
        options.max_callers = std::max<size_t>(options.max_callers, kShards);
        return options;
      }()),
      clock_(std::move(clock)),
      refill_time_(absl::Seconds(options_.burst / options_.per_second)),
      max_per_shard_(options_.max_callers / kShards) {}

bool RateLimiter::Allow(absl::string_view caller_key) {
  Shard& shard = shards_[absl::Hash<absl::string_view>()(caller_key) % kShards];
  absl::MutexLock lock(&shard.mutex);
  const absl::Time now = clock_();
  if (now - shard.last_sweep >= refill_time_ ||
      shard.buckets.size() >= max_per_shard_) {
    Sweep(shard, now);
  }
  auto [it, inserted] =
      shard.buckets.try_emplace(caller_key, Bucket{options_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.updated) {
    bucket.tokens =
        std::min(options_.burst,
                 bucket.tokens +
                     absl::ToDoubleSeconds(now - bucket.updated) *
                         options_.per_second);
    bucket.updated = now;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

void RateLimiter::Sweep(Shard& shard, absl::Time now) {
  shard.last_sweep = now;
  absl::erase_if(shard.buckets, [&](const auto& entry) {
    const Bucket& bucket = entry.second;
    return bucket.updated + absl::Seconds((options_.burst - bucket.tokens) /
                                          options_.per_second) <=
           now;
  });
  if (shard.buckets.size() >= max_per_shard_) {
    shard.buckets.erase(shard.buckets.begin());
  }
}

size_t RateLimiter::tracked() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mutex);
    total += shard.buckets.size();
  }
  return total;
}

}  // namespace mileagebank::gateway
