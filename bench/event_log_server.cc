// Serves a store's event log as the EventStream service, with the same
// EventStreamService every service process registers beside its own API,
// and nothing else: the four sources of bench/reporting_ingest.sh, whose
// logs `reporting_scale_benchmark --write_sources` wrote. A real service
// rebuilding reporting would serve the same bytes the same way, besides
// doing its own (here idle) work.
//
//   bazel-bin/bench/event_log_server --store=/tmp/sources/accrual
//       --listen_address=127.0.0.1:7502   (one command line)
//
// Prints "ready <address> head <sequence>" once it serves; runs until
// killed (it only reads).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "libs/server/event_stream_service.h"
#include "libs/store/store.h"

int main(int argc, char** argv) {
  std::string path, address;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--store=")) {
      path = std::string(arg.substr(8));
    } else if (absl::StartsWith(arg, "--listen_address=")) {
      address = std::string(arg.substr(17));
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (path.empty() || address.empty()) {
    std::fprintf(stderr, "--store and --listen_address: required\n");
    return 2;
  }
  auto store = mileagebank::store::Store::Open({.path = path});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  mileagebank::server::EventStreamService events(store->get());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&events);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::printf("ready %s head %llu\n", address.c_str(),
              static_cast<unsigned long long>((*store)->LastSequence()));
  std::fflush(stdout);
  server->Wait();
  return 0;
}
