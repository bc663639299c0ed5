// The membership service process: configuration, store and wiring.
#include <memory>
#include <thread>

#include "libs/client/event_follower.h"
#include "libs/client/shard_streams.h"
#include "libs/log/log.h"
#include "libs/server/admin_service.h"
#include "libs/server/daily.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/store/store.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/config/v1/membership.pb.h"
#include "services/membership/members.h"
#include "services/membership/service.h"
#include "services/membership/store.h"

namespace mileagebank {
namespace {

int Run(int argc, char** argv) {
  config::v1::MembershipConfig config;
  auto host = server::ServiceHost::Create("membership", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  auto options = membership::MembershipOptions::FromConfig(config);
  if (!options.ok()) return server::ExitWithError(options.status());
  const config::v1::ServerConfig& server = (*host)->server_config();
  options->shard_index = server.shard_index();
  options->shard_count = server.shard_count();

  auto store = store::Store::Open(
      {.path = (*host)->StorePath("membership"),
       .tables = membership::MembershipTables(),
       .memtable_bloom_tables = membership::MembershipBloomTables(),
       .rewritten_tables = membership::MembershipRewrittenTables()});
  if (!store.ok()) return server::ExitWithError(store.status());
  auto members = membership::Members::Create(store->get(), *options,
                                             (*host)->metrics());
  if (!members.ok()) return server::ExitWithError(members.status());

  // Qualifying activity arrives from accrual's stream, a message's events
  // (up to 512) in one batch with the cursor. Recording it is also
  // idempotent on the credit's id.
  std::unique_ptr<client::EventFollower> accrual_events;
  if (!config.accrual_target().empty()) {
    // This shard's members earn on the accrual shard of the same number.
    absl::StatusOr<std::string> accrual = client::NamesakeTarget(
        "accrual_target", config.accrual_target(), server.shard_index(),
        server.shard_count());
    if (!accrual.ok()) return server::ExitWithError(accrual.status());
    membership::Members* operations = members->get();
    accrual_events = std::make_unique<client::EventFollower>(
        "accrual", *accrual, store->get(),
        [operations](absl::Span<const common::v1::Event> events,
                     store::WriteBatch& batch) {
          return operations->ApplyAccrualEvents(events, batch);
        },
        &(*host)->metrics());
    accrual_events->OnlyPayloadTypes(membership::Members::AccrualEventTypes());
    accrual_events->Start();
  }

  membership::MembershipService service(members->get());
  server::EventStreamService events(store->get());
  server::AdminService admin("membership",
                             (*host)->server_config().data_dir(), store->get());
  // Tiers that lapse at a year end are announced just after midnight UTC
  // (and at each start, for a 1 January the process was down at).
  absl::Notification stop_lapses;
  std::thread lapses;
  (*host)->OnShutdown([&] {
    stop_lapses.Notify();
    if (lapses.joinable()) lapses.join();
    if (accrual_events) accrual_events->Stop();
    (*store)->StopWaiters();
  });
  absl::Status serving =
      (*host)->Serve({&service, &events, admin.grpc_service()});
  if (!serving.ok()) return server::ExitWithError(serving);
  lapses = std::thread([&stop_lapses, operations = members->get()] {
    server::RunDaily(stop_lapses, absl::ZeroDuration(), [operations] {
      absl::StatusOr<int64_t> lapsed = operations->LapseTiers();
      if (!lapsed.ok()) {
        log::Error("tier_lapse_failed",
                   {{"reason", lapsed.status().ToString()}});
      }
      return lapsed.ok();
    });
  });
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank

int main(int argc, char** argv) { return mileagebank::Run(argc, argv); }
