// RateLimiter: a token bucket per caller, so that one API key, member or
// client address cannot take the backends' capacity from everybody else.
//
// Each caller's bucket holds up to `burst` tokens and refills at
// `per_second`; a request takes one token, or is refused when none is left
// (the gateway answers RESOURCE_EXHAUSTED / HTTP 429). Callers are keyed by
// whatever the gateway chooses ("key:<key_id>", "member:<number>",
// "ip:<address>").
//
// Memory stays bounded whoever calls: a bucket that has refilled completely
// is the same as no bucket, so idle callers are forgotten by a sweep, and
// beyond `max_callers` active ones an arbitrary bucket is dropped to make
// room (its caller merely starts again with a full bucket).
//
//   RateLimiter limiter(RateLimiterOptionsFromConfig(config));
//   if (!limiter.Allow(absl::StrCat("key:", principal.key_id))) { ... 429 }
//
// Thread-safe; callers are spread over shards with a lock each, so
// concurrent requests of different callers rarely wait for one another.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_RATE_LIMITER_H_
#define MILEAGEBANK_SERVICES_GATEWAY_RATE_LIMITER_H_

#include <array>
#include <cstddef>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mileagebank/config/v1/gateway.pb.h"

namespace mileagebank::gateway {

struct RateLimiterOptions {
  // Sustained requests per second per caller; above 0.
  double per_second = 50;
  // Requests a caller may make at once after being idle; at least 1.
  double burst = 100;
  // Callers tracked at most (spread over the shards).
  size_t max_callers = 100000;
};

// The limits of `config`, with the defaults for fields left at 0.
RateLimiterOptions RateLimiterOptionsFromConfig(
    const config::v1::GatewayConfig& config);

class RateLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  explicit RateLimiter(RateLimiterOptions options, Clock clock = absl::Now);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes a token from `caller_key`'s bucket: false when it is empty.
  bool Allow(absl::string_view caller_key);

  // Callers currently tracked (for tests and a gauge).
  size_t tracked() const;

 private:
  static constexpr size_t kShards = 16;

  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  struct Shard {
    mutable absl::Mutex mutex;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mutex);
    absl::Time last_sweep ABSL_GUARDED_BY(mutex) = absl::InfinitePast();
  };

  // Drops the buckets of `shard` that are full by `now`, and one more when
  // it is still at its cap.
  void Sweep(Shard& shard, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);

  const RateLimiterOptions options_;
  const Clock clock_;
  // How long an empty bucket takes to fill: also how often a shard is swept.
  const absl::Duration refill_time_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_RATE_LIMITER_H_
