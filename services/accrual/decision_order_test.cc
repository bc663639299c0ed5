#include "services/accrual/decision_order.h"

#include <atomic>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mileagebank::accrual {
namespace {

TEST(DecisionOrderTest, ABatchWaitsUntilTheOneBeforeItIsDecided) {
  DecisionOrder order(absl::Seconds(30));
  std::atomic<bool> second_decided = false;
  std::thread second([&] {
    ASSERT_TRUE(order.AwaitDecided("file-1", 1));
    second_decided = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(second_decided) << "decided before the batch it follows";
  order.Decided("file-1", 1);
  second.join();
  EXPECT_TRUE(second_decided);
}

TEST(DecisionOrderTest, APredecessorNeverDecidedHereIsWaitedForOnlySoLong) {
  DecisionOrder order(absl::Milliseconds(50));
  // Another sequence's batch of the same number is no predecessor.
  order.Decided("file-2", 1);
  EXPECT_FALSE(order.AwaitDecided("file-1", 1));
  // A batch decided earlier than the one named is not enough either.
  order.Decided("file-1", 1);
  EXPECT_FALSE(order.AwaitDecided("file-1", 1001));
}

TEST(DecisionOrderTest, ALaterBatchDecidedPassesTheOneNamed) {
  // A batch sent again after it was decided: its predecessor is long past.
  DecisionOrder order(absl::Milliseconds(50));
  order.Decided("file-1", 2001);
  order.Decided("file-1", 1001);  // A replay does not go back.
  EXPECT_TRUE(order.AwaitDecided("file-1", 1));
  EXPECT_TRUE(order.AwaitDecided("file-1", 2001));
  EXPECT_FALSE(order.AwaitDecided("file-1", 3001));
}

TEST(DecisionOrderTest, ForgettingSequencesOnlyMakesBatchesWait) {
  DecisionOrder order(absl::Milliseconds(50));
  order.Decided("file-0", 1);
  for (int i = 1; i <= 2000; ++i) order.Decided("file-" + std::to_string(i), 1);
  EXPECT_FALSE(order.AwaitDecided("file-0", 1)) << "still remembered";
  EXPECT_TRUE(order.AwaitDecided("file-2000", 1));
}

}  // namespace
}  // namespace mileagebank::accrual
