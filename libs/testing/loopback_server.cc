#include "libs/testing/loopback_server.h"

namespace mileagebank::testing {

LoopbackServer ServeOnLoopback(const std::vector<grpc::Service*>& services) {
  LoopbackServer served;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &served.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  served.server = builder.BuildAndStart();
  served.target = "127.0.0.1:" + std::to_string(served.port);
  return served;
}

}  // namespace mileagebank::testing
