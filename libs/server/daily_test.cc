#include "libs/server/daily.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace mileagebank::server {
namespace {

TEST(RunDailyTest, RunsAtOnceRetriesFailuresSoonAndStopsWhenTold) {
  absl::Notification stop;
  std::atomic<int> runs{0};
  absl::Notification third_run;
  // The daily time just passed: the next run is a day away.
  const absl::Time now = absl::Now();
  const absl::Duration since_midnight =
      now - absl::FromCivil(absl::ToCivilDay(now, absl::UTCTimeZone()),
                            absl::UTCTimeZone());
  const absl::Duration time_of_day = since_midnight >= absl::Minutes(1)
                                         ? since_midnight - absl::Minutes(1)
                                         : since_midnight + absl::Hours(23);
  std::thread runner([&] {
    RunDaily(
        stop, time_of_day,
        [&] {
          if (++runs == 3) third_run.Notify();
          return runs >= 3;  // The first two fail.
        },
        /*retry=*/absl::Milliseconds(10));
  });
  ASSERT_TRUE(third_run.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // A success waits for the next day, which the stop cuts short.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs, 3);
  stop.Notify();
  runner.join();
  EXPECT_EQ(runs, 3);
}

}  // namespace
}  // namespace mileagebank::server
