// Background jobs of the accrual service: the sweep that expires holds past
// their time-to-live, and the daily expiry run at 00:00 UTC.
//
// Each job runs on its own thread until Stop. Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/accrual/ledger.h"

namespace mileagebank::accrual {

class BackgroundJobs {
 public:
  BackgroundJobs(Ledger* ledger, absl::Duration sweep_every, bool daily_expiry);
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;
  ~BackgroundJobs();

  void Stop();

 private:
  void SweepLoop();
  void ExpiryLoop();

  Ledger* ledger_;
  const absl::Duration sweep_every_;
  absl::Notification stop_;
  std::thread sweeper_;
  std::thread expirer_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_BACKGROUND_H_
