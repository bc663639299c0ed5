// The accrual service process: configuration, store and wiring.
#include <fstream>
#include <memory>
#include <sstream>

#include "libs/airports/airports.h"
#include "libs/client/event_follower.h"
#include "libs/client/shard_streams.h"
#include "libs/server/admin_service.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/status/status_macros.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "services/accrual/background.h"
#include "services/accrual/ledger.h"
#include "services/accrual/member_directory.h"
#include "services/accrual/partner_directory.h"
#include "services/accrual/service.h"
#include "services/accrual/settlement_lookup.h"
#include "services/accrual/store.h"

namespace mileagebank::accrual {
namespace {

absl::StatusOr<airports::AirportTable> LoadAirports(const std::string& path);

int Run(int argc, char** argv) {
  config::v1::AccrualConfig config;
  auto host = server::ServiceHost::Create("accrual", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  if (config.membership_target().empty()) {
    return server::ExitWithError(absl::InvalidArgumentError(
        "membership_target: required (host:port of the membership service)"));
  }
  if (config.settlement_target().empty()) {
    return server::ExitWithError(absl::InvalidArgumentError(
        "settlement_target: required (host:port of the settlement service, "
        "which owns partners and their earning tables)"));
  }
  auto options = LedgerOptions::FromConfig(config);
  if (!options.ok()) return server::ExitWithError(options.status());
  const config::v1::ServerConfig& server = (*host)->server_config();
  options->shard_index = server.shard_index();
  options->shard_count = server.shard_count();
  // The member replica follows the membership shard of the same number:
  // it holds exactly this shard's members.
  absl::StatusOr<std::string> membership_shard = client::NamesakeTarget(
      "membership_target", config.membership_target(), server.shard_index(),
      server.shard_count());
  if (!membership_shard.ok()) return server::ExitWithError(membership_shard.status());
  auto airports = LoadAirports(config.airport_table_path());
  if (!airports.ok()) return server::ExitWithError(airports.status());

  auto store =
      store::Store::Open({.path = (*host)->StorePath("accrual"),
                          .tables = AccrualTables(),
                          .memtable_bloom_tables = AccrualBloomTables()});
  if (!store.ok()) return server::ExitWithError(store.status());

  LedgerStore ledger_store(store->get());
  GrpcMembershipLookup membership(config.membership_target());
  MemberDirectory members(&ledger_store, &membership);
  GrpcSettlementLookup settlement(config.settlement_target());
  PartnerDirectory partners(&ledger_store, &settlement);
  Ledger ledger(store->get(), &*airports, &partners, &members,
                *std::move(options), (*host)->metrics());

  // Membership's events keep the member replica, and its merges move
  // accounts. A merge is applied before the cursor moves past it, and
  // merging is idempotent, so a restart in between repeats it harmlessly.
  // A message's events go in one batch with the cursor: most are a
  // qualifying activity per credit, of no concern to the replica.
  client::EventFollower membership_events(
      "membership", *membership_shard, store->get(),
      [&](absl::Span<const common::v1::Event> events,
          store::WriteBatch& batch) -> absl::Status {
        for (const common::v1::Event& event : events) {
          absl::StatusOr<std::optional<Merge>> merge =
              members.Apply(event, batch);
          if (!merge.ok()) return merge.status();
          if (*merge) MB_RETURN_IF_ERROR(ledger.MergeAccounts(**merge));
        }
        return absl::OkStatus();
      },
      &(*host)->metrics());
  membership_events.OnlyPayloadTypes(MemberDirectory::EventTypes());
  membership_events.Start();
  // Settlement's events keep the partner replica, so that partners already
  // known are credited while settlement is down.
  client::EventFollower settlement_events(
      "settlement", config.settlement_target(), store->get(),
      [&](const common::v1::Event& event, store::WriteBatch& batch) {
        return partners.Apply(event, batch);
      },
      &(*host)->metrics());
  settlement_events.Start();
  BackgroundJobs jobs(&ledger,
                      absl::Seconds(config.hold_sweep_seconds() > 0
                                        ? config.hold_sweep_seconds()
                                        : 10),
                      !config.disable_daily_expiry(), &(*host)->metrics());

  AccrualService service(&ledger);
  server::EventStreamService events(store->get());
  server::AdminService admin("accrual",
                             (*host)->server_config().data_dir(), store->get());
  (*host)->OnShutdown([&] {
    jobs.Stop();
    membership_events.Stop();
    settlement_events.Stop();
    (*store)->StopWaiters();
  });
  absl::Status serving =
      (*host)->Serve({&service, &events, admin.grpc_service()});
  if (!serving.ok()) return server::ExitWithError(serving);
  (*host)->RunUntilSignalled();
  return 0;
}

absl::StatusOr<airports::AirportTable> LoadAirports(const std::string& path) {
  if (path.empty()) return airports::AirportTable::Builtin();
  std::ifstream file(path);
  if (!file) {
    return absl::InvalidArgumentError("airport_table_path=" + path +
                                      ": cannot be read");
  }
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<airports::AirportTable> table = airports::AirportTable::Parse(text.str());
  if (!table.ok()) {
    return absl::InvalidArgumentError("airport_table_path=" + path + ": " +
                                      std::string(table.status().message()));
  }
  return table;
}

}  // namespace
}  // namespace mileagebank::accrual

int main(int argc, char** argv) { return mileagebank::accrual::Run(argc, argv); }
