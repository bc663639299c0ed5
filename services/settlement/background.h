// Background jobs of the settlement service: the watcher of the partners'
// inboxes, and the daily run that writes outbound accrual files.
//
// The watcher looks into every partner's inbox each `inbox_poll`: a ready
// `*.ack.csv` is a partner's acknowledgement of an outbound file, anything
// else an accrual file; both go down the same paths as their uploads. The
// daily run writes the files of the day before at `daily_outbound_hour`
// UTC; at start it catches up the last day if its hour has passed
// (generating a date twice writes nothing new).
//
// Each job runs on its own thread until Stop. Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_BACKGROUND_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_BACKGROUND_H_

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/settlement/accrual_files.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/outbound.h"
#include "services/settlement/partners.h"

namespace mileagebank::settlement {

struct BackgroundOptions {
  absl::Duration inbox_poll = absl::Seconds(1);
  // UTC hour of the daily outbound run; none: no daily run.
  std::optional<int> daily_outbound_hour = 1;
};

class BackgroundJobs {
 public:
  BackgroundJobs(Partners* partners, DropFolders* folders, AccrualFiles* files,
                 Outbound* outbound, BackgroundOptions options);
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;
  ~BackgroundJobs();

  void Stop();

  // One look into every inbox; what the watcher does each inbox_poll.
  void LookIntoInboxes();

 private:
  void WatchLoop();
  void OutboundLoop();
  absl::StatusOr<std::vector<std::string>> PartnerCodes();

  Partners* const partners_;
  DropFolders* const folders_;
  AccrualFiles* const files_;
  Outbound* const outbound_;
  const BackgroundOptions options_;
  absl::Notification stop_;
  std::thread watcher_;
  std::thread outbound_runner_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_BACKGROUND_H_
