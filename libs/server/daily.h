// A job run once a day, at a fixed time of day UTC, by a background thread.
//
//   absl::Notification stop;
//   std::thread runner([&] {
//     server::RunDaily(stop, absl::Hours(2), [&] { return DoTheRun().ok(); });
//   });
//   ...
//   stop.Notify();
//   runner.join();
#ifndef MILEAGEBANK_LIBS_SERVER_DAILY_H_
#define MILEAGEBANK_LIBS_SERVER_DAILY_H_

#include <functional>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace mileagebank::server {

// Runs `job` at once (the run due last may have been missed while the
// process was down, so jobs are idempotent for a day) and then at each
// `time_of_day` past 00:00 UTC, until `stop` is notified. A run that fails
// (`job` returns false) is tried again after `retry` rather than the next
// day.
void RunDaily(absl::Notification& stop, absl::Duration time_of_day,
              const std::function<bool()>& job,
              absl::Duration retry = absl::Minutes(5));

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_DAILY_H_
