#include "services/accrual/background.h"

#include "absl/time/clock.h"
#include "libs/log/log.h"
#include "libs/server/daily.h"
#include "libs/validation/dates.h"

namespace mileagebank::accrual {

namespace {

prometheus::Gauge* LastSweepGauge(prometheus::Registry* metrics) {
  if (metrics == nullptr) return nullptr;
  return &prometheus::BuildGauge()
              .Name(
                  "mileagebank_accrual_hold_sweep_last_success_timestamp_"
                  "seconds")
              .Help(
                  "When the hold sweep last finished without error (Unix "
                  "time; the process's start before its first sweep)")
              .Register(*metrics)
              .Add({});
}

}  // namespace

BackgroundJobs::BackgroundJobs(Ledger* ledger, absl::Duration sweep_every,
                               bool daily_expiry, prometheus::Registry* metrics)
    : ledger_(ledger),
      sweep_every_(sweep_every),
      last_sweep_(LastSweepGauge(metrics)) {
  // A process that has not swept yet is not behind: its first sweep is one
  // interval away.
  if (last_sweep_ != nullptr) last_sweep_->SetToCurrentTime();
  sweeper_ = std::thread([this] { SweepLoop(); });
  if (daily_expiry) expirer_ = std::thread([this] { ExpiryLoop(); });
}

BackgroundJobs::~BackgroundJobs() { Stop(); }

void BackgroundJobs::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (sweeper_.joinable()) sweeper_.join();
  if (expirer_.joinable()) expirer_.join();
}

void BackgroundJobs::SweepLoop() {
  while (!stop_.WaitForNotificationWithTimeout(sweep_every_)) {
    absl::StatusOr<int> swept = ledger_->SweepExpiredHolds();
    if (!swept.ok()) {
      log::Error("hold_sweep_failed", {{"reason", swept.status().ToString()}});
    } else if (last_sweep_ != nullptr) {
      last_sweep_->SetToCurrentTime();
    }
  }
}

void BackgroundJobs::ExpiryLoop() {
  server::RunDaily(stop_, absl::ZeroDuration(), [this] {
    v1::RunExpiryRequest request;
    *request.mutable_run_date() =
        validation::ToProtoDate(validation::UtcDay(absl::Now()));
    request.mutable_actor()->set_channel(common::v1::SYSTEM);
    absl::StatusOr<v1::RunExpiryResponse> run = ledger_->RunExpiry(request);
    if (!run.ok()) {
      log::Error("daily_expiry_failed", {{"reason", run.status().ToString()}});
    }
    return run.ok();
  });
}

}  // namespace mileagebank::accrual
