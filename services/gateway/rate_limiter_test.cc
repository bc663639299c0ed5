#include "services/gateway/rate_limiter.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace mileagebank::gateway {
namespace {

class RateLimiterTest : public ::testing::Test {
 protected:
  RateLimiter::Clock Clock() {
    return [this] { return now_; };
  }
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(RateLimiterTest, AllowsBurstThenRefuses) {
  RateLimiter limiter({.per_second = 10, .burst = 5}, Clock());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("a")) << i;
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST_F(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter({.per_second = 10, .burst = 5}, Clock());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Allow("a"));
  now_ += absl::Milliseconds(150);  // 1.5 tokens.
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  now_ += absl::Milliseconds(50);  // 0.5 + 0.5.
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  now_ += absl::Hours(1);  // Never more than the burst.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("a")) << i;
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST_F(RateLimiterTest, CallersAreLimitedApart) {
  RateLimiter limiter({.per_second = 1, .burst = 2}, Clock());
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));
  EXPECT_TRUE(limiter.Allow("b"));
  EXPECT_FALSE(limiter.Allow("b"));
}

TEST_F(RateLimiterTest, ForgetsIdleCallersWithoutChangingAnswers) {
  RateLimiter limiter({.per_second = 10, .burst = 10}, Clock());
  for (int i = 0; i < 1000; ++i) limiter.Allow("caller" + std::to_string(i));
  EXPECT_EQ(limiter.tracked(), 1000u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Allow("busy"));
  now_ += absl::Seconds(1);  // Every idle bucket is full again.
  // Shards are swept as they are used: 200 new callers reach all 16.
  for (int i = 0; i < 200; ++i) limiter.Allow("new" + std::to_string(i));
  EXPECT_LE(limiter.tracked(), 200u);
  // A forgotten caller starts with a full bucket, as it would have had.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Allow("caller7")) << i;
  EXPECT_FALSE(limiter.Allow("caller7"));
}

TEST_F(RateLimiterTest, MemoryStaysBoundedUnderAFloodOfCallers) {
  RateLimiter limiter({.per_second = 1, .burst = 100, .max_callers = 160},
                      Clock());
  for (int i = 0; i < 10000; ++i) limiter.Allow("flood" + std::to_string(i));
  EXPECT_LE(limiter.tracked(), 160u);
}

TEST_F(RateLimiterTest, ConcurrentCallsNeverExceedTheBurst) {
  RateLimiter limiter({.per_second = 1, .burst = 100}, Clock());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) allowed += limiter.Allow("shared");
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 100);
}

TEST(RateLimiterOptionsTest, ConfigWithDefaults) {
  config::v1::GatewayConfig config;
  RateLimiterOptions defaults = RateLimiterOptionsFromConfig(config);
  EXPECT_EQ(defaults.per_second, 50);
  EXPECT_EQ(defaults.burst, 100);
  config.set_rate_limit_per_second(5);
  config.set_rate_limit_burst(7);
  RateLimiterOptions set = RateLimiterOptionsFromConfig(config);
  EXPECT_EQ(set.per_second, 5);
  EXPECT_EQ(set.burst, 7);
}

}  // namespace
}  // namespace mileagebank::gateway
