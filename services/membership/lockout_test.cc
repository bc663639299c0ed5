#include "services/membership/lockout.h"

#include "gtest/gtest.h"

namespace mileagebank::membership {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(LockoutTest, FiveWrongInARowLockForFifteenMinutes) {
  LockoutPolicy policy;
  LockoutState state;
  for (int i = 0; i < 4; ++i) {
    state = AfterAttempt(state, false, kStart, policy);
    EXPECT_FALSE(IsLocked(state, kStart));
  }
  EXPECT_EQ(AttemptsRemaining(state, policy), 1);
  state = AfterAttempt(state, false, kStart, policy);
  EXPECT_TRUE(IsLocked(state, kStart));
  EXPECT_TRUE(IsLocked(state, kStart + absl::Minutes(15) - absl::Seconds(1)));
  EXPECT_FALSE(IsLocked(state, kStart + absl::Minutes(15)));
  EXPECT_EQ(AttemptsRemaining(state, policy), 5);
}

TEST(LockoutTest, RightPasswordResetsTheRun) {
  LockoutPolicy policy;
  LockoutState state;
  for (int i = 0; i < 4; ++i) state = AfterAttempt(state, false, kStart, policy);
  state = AfterAttempt(state, true, kStart, policy);
  EXPECT_EQ(state, LockoutState{});
  for (int i = 0; i < 4; ++i) state = AfterAttempt(state, false, kStart, policy);
  EXPECT_FALSE(IsLocked(state, kStart));
}

TEST(LockoutTest, PolicyIsConfigurable) {
  LockoutPolicy policy{.max_attempts = 2, .lockout = absl::Minutes(1)};
  LockoutState state = AfterAttempt({}, false, kStart, policy);
  state = AfterAttempt(state, false, kStart, policy);
  EXPECT_TRUE(IsLocked(state, kStart + absl::Seconds(59)));
  EXPECT_FALSE(IsLocked(state, kStart + absl::Seconds(60)));
}

}  // namespace
}  // namespace mileagebank::membership
