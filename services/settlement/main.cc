// The settlement service process: configuration, store and wiring.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/airports/airports.h"
#include "libs/client/event_follower.h"
#include "libs/log/log.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/settlement.pb.h"
#include "services/settlement/accrual_files.h"
#include "services/settlement/background.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/neighbours.h"
#include "services/settlement/outbound.h"
#include "services/settlement/partners.h"
#include "services/settlement/service.h"
#include "services/settlement/statement_book.h"

namespace mileagebank::settlement {
namespace {

absl::Status CheckConfig(const config::v1::SettlementConfig& config) {
  for (const auto& [field, target] :
       {std::pair{"membership_target", &config.membership_target()},
        std::pair{"accrual_target", &config.accrual_target()},
        std::pair{"redemption_target", &config.redemption_target()}}) {
    if (target->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": required (host:port)"));
    }
  }
  if (config.credit_batch_size() < 0 || config.credit_batch_size() > 1000) {
    return absl::InvalidArgumentError("credit_batch_size: must be 1 to 1,000");
  }
  if (config.inbox_poll_ms() < 0) {
    return absl::InvalidArgumentError("inbox_poll_ms: must not be negative");
  }
  if (config.daily_outbound_hour() < 0 || config.daily_outbound_hour() > 23) {
    return absl::InvalidArgumentError("daily_outbound_hour: must be 0 to 23");
  }
  return absl::OkStatus();
}

std::vector<std::string> SettlementTables() {
  std::vector<std::string> tables = {kPartnersTable, kOutboxTable};
  for (const auto& part : {AccrualFiles::Tables(), Outbound::Tables(),
                           StatementBook::Tables()}) {
    tables.insert(tables.end(), part.begin(), part.end());
  }
  return tables;
}

int Run(int argc, char** argv) {
  config::v1::SettlementConfig config;
  auto host = server::ServiceHost::Create("settlement", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  absl::Status configured = CheckConfig(config);
  if (!configured.ok()) return server::ExitWithError(configured);
  const std::string host_carrier =
      config.host_carrier().empty() ? "FM" : config.host_carrier();
  const std::string data_dir = (*host)->server_config().data_dir();
  auto store = store::Store::Open(
      {.path = data_dir + "/settlement", .tables = SettlementTables()});
  if (!store.ok()) return server::ExitWithError(store.status());

  Partners partners(store->get(), host_carrier);
  for (const v1::Partner& seed : config.seed_partners()) {
    absl::Status seeded = partners.Seed(seed);
    if (!seeded.ok()) {
      return server::ExitWithError(absl::InvalidArgumentError(absl::StrCat(
          "seed_partners ", seed.partner_code(), ": ", seeded.message())));
    }
  }
  DropFolders folders(store->get(), config.drop_folder_root().empty()
                                        ? data_dir + "/partners"
                                        : config.drop_folder_root());
  const airports::AirportTable& airports = airports::AirportTable::Builtin();

  // The statements follow accrual's and redemption's streams; issuing a
  // month waits until both have been read up to their heads.
  std::unique_ptr<client::EventFollower> accrual_events;
  std::unique_ptr<client::EventFollower> redemption_events;
  GrpcStreamProgress progress(
      {{"accrual",
        {config.accrual_target(), [&] { return accrual_events->position(); }}},
       {"redemption",
        {config.redemption_target(),
         [&] { return redemption_events->position(); }}}});
  StatementBook statements(store->get(), &partners, &folders, &progress);
  accrual_events = std::make_unique<client::EventFollower>(
      "accrual", config.accrual_target(), store->get(),
      [&](const common::v1::Event& event, store::WriteBatch& batch) {
        return statements.ApplyAccrualEvent(event, batch);
      });
  redemption_events = std::make_unique<client::EventFollower>(
      "redemption", config.redemption_target(), store->get(),
      [&](const common::v1::Event& event, store::WriteBatch& batch) {
        return statements.ApplyRedemptionEvent(event, batch);
      });

  GrpcMembership membership(config.membership_target());
  GrpcAccrual accrual(config.accrual_target());
  AccrualFiles files(store->get(), &partners, &folders, &membership, &accrual,
                     &airports,
                     {.work_dir = data_dir + "/settlement-work",
                      .credit_batch_size = config.credit_batch_size(),
                      .crash_after_credit_batches =
                          config.crash_after_credit_batches()},
                     &(*host)->metrics());
  Outbound outbound(store->get(), &partners, &folders, &statements,
                    host_carrier, &airports);

  accrual_events->Start();
  redemption_events->Start();
  files.Start();
  BackgroundJobs jobs(
      &partners, &folders, &files, &outbound,
      {.inbox_poll = absl::Milliseconds(
           config.inbox_poll_ms() > 0 ? config.inbox_poll_ms() : 1000),
       .daily_outbound_hour =
           config.disable_daily_outbound()
               ? std::nullopt
               : std::optional<int>(config.has_daily_outbound_hour()
                                        ? config.daily_outbound_hour()
                                        : 1)});

  SettlementService service({.partners = &partners,
                             .folders = &folders,
                             .files = &files,
                             .outbound = &outbound,
                             .statements = &statements});
  server::EventStreamService events(store->get());
  (*host)->OnShutdown([&] {
    jobs.Stop();
    files.Stop();
    accrual_events->Stop();
    redemption_events->Stop();
    (*store)->StopWaiters();
  });
  absl::Status serving = (*host)->Serve({&service, &events});
  if (!serving.ok()) return server::ExitWithError(serving);
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::settlement

int main(int argc, char** argv) {
  return mileagebank::settlement::Run(argc, argv);
}
