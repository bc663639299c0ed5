// The redemption service process: configuration, store and wiring.
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "libs/airports/airports.h"
#include "libs/log/log.h"
#include "libs/server/admin_service.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "services/redemption/neighbours.h"
#include "services/redemption/redemptions.h"
#include "services/redemption/service.h"
#include "services/redemption/store.h"

namespace mileagebank::redemption {
namespace {

int Run(int argc, char** argv) {
  config::v1::RedemptionConfig config;
  auto host = server::ServiceHost::Create("redemption", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  if (config.membership_target().empty() || config.accrual_target().empty() ||
      config.settlement_target().empty()) {
    return server::ExitWithError(absl::InvalidArgumentError(
        "membership_target, accrual_target, settlement_target: required "
        "(host:port of each)"));
  }
  auto options = RedemptionOptions::FromConfig(config);
  if (!options.ok()) return server::ExitWithError(options.status());
  options->shard_index = (*host)->server_config().shard_index();
  options->shard_count = (*host)->server_config().shard_count();
  auto store = store::Store::Open(
      {.path = (*host)->StorePath("redemption"),
       .tables = RedemptionTables()});
  if (!store.ok()) return server::ExitWithError(store.status());

  GrpcMembership membership(config.membership_target());
  GrpcAccrual accrual(config.accrual_target());
  GrpcSettlement settlement(config.settlement_target());
  Redemptions redemptions(store->get(), &airports::AirportTable::Builtin(),
                          &membership, &accrual, &settlement,
                          *std::move(options), (*host)->metrics());

  // Recovery: everything left open by an earlier run at start, then what
  // stays open past the grace (and holds that ran out) on a timer.
  absl::Notification stop;
  const absl::Duration every =
      absl::Seconds(config.recovery_seconds() > 0 ? config.recovery_seconds() : 10);
  std::thread recovery([&] {
    bool everything = true;
    do {
      absl::StatusOr<int> settled = redemptions.Recover(everything);
      if (!settled.ok()) {
        log::Error("recovery_failed", {{"reason", settled.status().ToString()}});
      } else {
        everything = false;
      }
    } while (!stop.WaitForNotificationWithTimeout(every));
  });

  RedemptionService service(&redemptions);
  server::EventStreamService events(store->get());
  server::AdminService admin("redemption",
                             (*host)->server_config().data_dir(), store->get());
  (*host)->OnShutdown([&] {
    stop.Notify();
    recovery.join();
    (*store)->StopWaiters();
  });
  absl::Status serving =
      (*host)->Serve({&service, &events, admin.grpc_service()});
  if (!serving.ok()) return server::ExitWithError(serving);
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::redemption

int main(int argc, char** argv) {
  return mileagebank::redemption::Run(argc, argv);
}
