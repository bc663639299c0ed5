#include "libs/server/daily.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace mileagebank::server {

void RunDaily(absl::Notification& stop, absl::Duration time_of_day,
              const std::function<bool()>& job, absl::Duration retry) {
  while (true) {
    const bool ran = job();
    const absl::Time now = absl::Now();
    const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
    absl::Time next = absl::FromCivil(today, absl::UTCTimeZone()) + time_of_day;
    if (next <= now) {
      next = absl::FromCivil(today + 1, absl::UTCTimeZone()) + time_of_day;
    }
    const absl::Duration wait = ran ? next - now : std::min(next - now, retry);
    if (stop.WaitForNotificationWithTimeout(wait)) return;
  }
}

}  // namespace mileagebank::server
