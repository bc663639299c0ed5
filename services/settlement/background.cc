#include "services/settlement/background.h"

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "libs/log/log.h"
#include "libs/server/daily.h"
#include "libs/validation/dates.h"

namespace mileagebank::settlement {

BackgroundJobs::BackgroundJobs(Partners* partners, DropFolders* folders,
                               AccrualFiles* files, Outbound* outbound,
                               BackgroundOptions options)
    : partners_(partners),
      folders_(folders),
      files_(files),
      outbound_(outbound),
      options_(options) {
  watcher_ = std::thread([this] { WatchLoop(); });
  if (options_.daily_outbound_hour) {
    outbound_runner_ = std::thread([this] { OutboundLoop(); });
  }
}

BackgroundJobs::~BackgroundJobs() { Stop(); }

void BackgroundJobs::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (watcher_.joinable()) watcher_.join();
  if (outbound_runner_.joinable()) outbound_runner_.join();
}

absl::StatusOr<std::vector<std::string>> BackgroundJobs::PartnerCodes() {
  std::vector<std::string> codes;
  v1::ListPartnersRequest request;
  request.mutable_page()->set_page_size(1000);
  while (true) {
    absl::StatusOr<v1::ListPartnersResponse> page =
        partners_->ListPartners(request);
    if (!page.ok()) return page.status();
    for (const v1::Partner& partner : page->partners()) {
      codes.push_back(partner.partner_code());
    }
    if (page->page().next_page_token().empty()) return codes;
    request.mutable_page()->set_page_token(page->page().next_page_token());
  }
}

void BackgroundJobs::LookIntoInboxes() {
  absl::StatusOr<std::vector<std::string>> codes = PartnerCodes();
  if (!codes.ok()) {
    log::Error("inbox_watch_failed", {{"reason", codes.status().ToString()}});
    return;
  }
  for (const std::string& code : *codes) {
    absl::Status ensured = folders_->Ensure(code);
    if (!ensured.ok()) {
      log::Error("drop_folder_unusable",
                 {{"partner", code}, {"reason", ensured.ToString()}});
    }
  }
  for (const InboxFile& file : folders_->ReadyInboxFiles(*codes)) {
    absl::Status taken;
    if (absl::EndsWith(file.file_name, ".ack.csv")) {
      taken = outbound_->ReceiveInboxAcknowledgement(file).status();
    } else {
      taken = files_->ReceiveInboxFile(file);
    }
    // Left in the inbox: the next look tries again.
    if (!taken.ok()) {
      log::Warning("inbox_file_not_taken", {{"partner", file.partner_code},
                                            {"file", file.file_name},
                                            {"reason", taken.ToString()}});
    }
  }
}

void BackgroundJobs::WatchLoop() {
  do {
    LookIntoInboxes();
  } while (!stop_.WaitForNotificationWithTimeout(options_.inbox_poll));
}

void BackgroundJobs::OutboundLoop() {
  const absl::Duration hour = absl::Hours(*options_.daily_outbound_hour);
  server::RunDaily(stop_, hour, [this, hour] {
    const absl::Time now = absl::Now();
    const absl::CivilDay today = validation::UtcDay(now);
    // The last run due: today's once its hour has come, else yesterday's.
    const absl::CivilDay run_day =
        now >= absl::FromCivil(today, absl::UTCTimeZone()) + hour ? today
                                                                  : today - 1;
    v1::GenerateOutboundFilesRequest request;
    *request.mutable_file_date() = validation::ToProtoDate(run_day - 1);
    request.mutable_actor()->set_channel(common::v1::SYSTEM);
    absl::StatusOr<v1::GenerateOutboundFilesResponse> run =
        outbound_->GenerateOutboundFiles(request);
    if (!run.ok()) {
      log::Error("daily_outbound_failed",
                 {{"reason", run.status().ToString()}});
    }
    return run.ok();
  });
}

}  // namespace mileagebank::settlement
