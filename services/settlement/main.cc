// The settlement service process: configuration, store and wiring.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/airports/airports.h"
#include "libs/client/event_follower.h"
#include "libs/client/shard_streams.h"
#include "libs/log/log.h"
#include "libs/server/admin_service.h"
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

  // The statements follow accrual's and redemption's streams, one follower
  // per shard; issuing a month waits until all have been read up to their
  // heads.
  std::map<std::string, std::unique_ptr<client::EventFollower>> followers;
  std::map<std::string, GrpcStreamProgress::Source> sources;
  std::vector<std::pair<client::ShardStream, bool>> streams;  // true: accrual
  for (const client::ShardStream& stream :
       client::ShardStreams(kAccrualStream, config.accrual_target())) {
    streams.push_back({stream, true});
  }
  for (const client::ShardStream& stream :
       client::ShardStreams(kRedemptionStream, config.redemption_target())) {
    streams.push_back({stream, false});
  }
  for (const auto& [stream, from_accrual] : streams) {
    sources[stream.source] = {stream.target, [&followers, name = stream.source] {
                                return followers.at(name)->position();
                              }};
  }
  GrpcStreamProgress progress(sources);
  StatementBook statements(store->get(), &partners, &folders, &progress);
  for (const auto& [stream, from_accrual] : streams) {
    // A stream message's events at once: a partner file's credits add to
    // the same few figures records, read and written once per message.
    client::EventFollower::ApplyMany apply;
    if (from_accrual) {
      apply = [&](absl::Span<const common::v1::Event> events,
                  store::WriteBatch& batch) {
        return statements.ApplyAccrualEvents(events, batch);
      };
    } else {
      apply = [&](absl::Span<const common::v1::Event> events,
                  store::WriteBatch& batch) {
        return statements.ApplyRedemptionEvents(events, batch);
      };
    }
    followers[stream.source] = std::make_unique<client::EventFollower>(
        stream.source, stream.target, store->get(), std::move(apply),
        &(*host)->metrics());
    followers[stream.source]->OnlyPayloadTypes(
        from_accrual ? StatementBook::AccrualEventTypes()
                     : StatementBook::RedemptionEventTypes());
  }

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

  for (auto& [name, follower] : followers) follower->Start();
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
  server::AdminService admin("settlement",
                             (*host)->server_config().data_dir(), store->get());
  (*host)->OnShutdown([&] {
    jobs.Stop();
    files.Stop();
    for (auto& [name, follower] : followers) follower->Stop();
    (*store)->StopWaiters();
  });
  absl::Status serving =
      (*host)->Serve({&service, &events, admin.grpc_service()});
  if (!serving.ok()) return server::ExitWithError(serving);
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::settlement

int main(int argc, char** argv) {
  return mileagebank::settlement::Run(argc, argv);
}
