// Background jobs of the accrual service: the sweep that expires holds past
// their time-to-live, and the daily expiry run at 00:00 UTC.
//
// With a metrics registry the sweep reports when it last finished
// (mileagebank_accrual_hold_sweep_last_success_timestamp_seconds), so that a
// sweep that fails, hangs or runs far longer than its interval shows as that
// time falling behind the clock.
//
// Each job runs on its own thread until Stop. Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/accrual/ledger.h"

namespace mileagebank::accrual {

class BackgroundJobs {
 public:
  // `metrics`: where the sweep reports (null: not reported), outliving the
  // jobs.
  BackgroundJobs(Ledger* ledger, absl::Duration sweep_every, bool daily_expiry,
                 prometheus::Registry* metrics = nullptr);
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;
  ~BackgroundJobs();

  void Stop();

 private:
  void SweepLoop();
  void ExpiryLoop();

  Ledger* ledger_;
  const absl::Duration sweep_every_;
  // Null without a registry.
  prometheus::Gauge* const last_sweep_;
  absl::Notification stop_;
  std::thread sweeper_;
  std::thread expirer_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_
