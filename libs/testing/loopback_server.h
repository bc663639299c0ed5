// A real gRPC server on a free loopback port, for tests and benchmarks that
// stand in for a neighbouring service behind its contract.
#ifndef MILEAGEBANK_LIBS_TESTING_LOOPBACK_SERVER_H_
#define MILEAGEBANK_LIBS_TESTING_LOOPBACK_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace mileagebank::testing {

struct LoopbackServer {
  // Null when the server could not start.
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  // "127.0.0.1:<port>".
  std::string target;
};

// Serves `services` (owned by the caller, alive until the server is shut
// down) on 127.0.0.1 at a port the system picks.
LoopbackServer ServeOnLoopback(const std::vector<grpc::Service*>& services);

}  // namespace mileagebank::testing

#endif  // MILEAGEBANK_LIBS_TESTING_LOOPBACK_SERVER_H_
