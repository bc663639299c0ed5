// The settlement service process: configuration, store and wiring.
#include <memory>
#include <string>

#include "libs/log/log.h"
#include "libs/server/event_stream_service.h"
#include "libs/server/service_host.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/settlement.pb.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/partners.h"
#include "services/settlement/service.h"

namespace mileagebank::settlement {
namespace {

int Run(int argc, char** argv) {
  config::v1::SettlementConfig config;
  auto host = server::ServiceHost::Create("settlement", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  const std::string host_carrier =
      config.host_carrier().empty() ? "FM" : config.host_carrier();
  const std::string data_dir = (*host)->server_config().data_dir();
  auto store = store::Store::Open(
      {.path = data_dir + "/settlement",
       .tables = {kPartnersTable, kOutboxTable}});
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

  SettlementService service(&partners, &folders);
  server::EventStreamService events(store->get());
  (*host)->OnShutdown([&] { (*store)->StopWaiters(); });
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
