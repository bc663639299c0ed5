#include "services/accrual/decision_order.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mileagebank::accrual {
namespace {

TEST(DecisionOrderTest, ABatchWaitsWhileTheOneBeforeItIsBeingDecided) {
  DecisionOrder order;
  DecisionOrder::Turn first = order.Enter("file-1", 1, 0);
  std::atomic<bool> second_decided = false;
  std::thread second([&] {
    DecisionOrder::Turn turn = order.Enter("file-1", 1001, 1);
    turn.Await();
    second_decided = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(second_decided) << "decided before the batch it follows";
  first.Leave();
  second.join();
  EXPECT_TRUE(second_decided);
}

TEST(DecisionOrderTest, ABatchWhosePredecessorIsNotHereGoesAtOnce) {
  DecisionOrder order;
  // Decided and gone (or sent to another shard, or before a restart).
  order.Enter("file-1", 1, 0).Leave();
  DecisionOrder::Turn turn = order.Enter("file-1", 1001, 1);
  turn.Await();
  // Another file's batch of the same number is no predecessor.
  DecisionOrder::Turn other = order.Enter("file-2", 1, 0);
  DecisionOrder::Turn mine = order.Enter("file-3", 1001, 1);
  mine.Await();
  SUCCEED();
}

TEST(DecisionOrderTest, LeavingByDestructionLetsTheNextGo) {
  DecisionOrder order;
  std::atomic<bool> second_decided = false;
  std::thread second;
  {
    DecisionOrder::Turn first = order.Enter("file-1", 1, 0);
    second = std::thread([&] {
      absl::SleepFor(absl::Milliseconds(20));
      DecisionOrder::Turn turn = order.Enter("file-1", 1001, 1);
      turn.Await();
      second_decided = true;
    });
    absl::SleepFor(absl::Milliseconds(100));
    EXPECT_FALSE(second_decided);
  }  // The first batch failed: its turn ends with it.
  second.join();
  EXPECT_TRUE(second_decided);
}

TEST(DecisionOrderTest, WithoutAKeyNothingIsOrdered) {
  DecisionOrder order;
  DecisionOrder::Turn first = order.Enter("", 1, 0);
  DecisionOrder::Turn second = order.Enter("", 2, 1);
  second.Await();
  SUCCEED();
}

}  // namespace
}  // namespace mileagebank::accrual
