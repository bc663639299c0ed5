// The gateway's gRPC face: the services' public operations (policy.h) on
// one port, under their own service and method names, so a sales office's
// client is the same whether it talks to the gateway or, inside the
// cluster, to a service. Unary calls go through the Dispatcher; client and
// server streams (partner file uploads, downloads, CSV exports) are relayed
// message by message after the same admission, uploads within the size
// limit.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_GRPC_FACE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_GRPC_FACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "services/gateway/dispatcher.h"

namespace mileagebank::gateway {

class GrpcFace {
 public:
  GrpcFace(Dispatcher* dispatcher, int64_t max_upload_bytes);
  ~GrpcFace();

  // One per proto service, to register with the server.
  std::vector<grpc::Service*> services() const;

 private:
  class ProxyService;
  std::vector<std::unique_ptr<ProxyService>> services_;
};

// The credentials a gRPC call carries.
Credentials CredentialsOf(const grpc::ServerContext& context);

// The answer to a call of a method the face does not serve (`method` as
// "/package.Service/Method"): PERMISSION_DENIED for an operation of the
// contracts that is refused to every caller here (the services' internal
// ones), UNIMPLEMENTED for one no contract has.
grpc::Status AnswerUnservedMethod(const std::string& method);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_GRPC_FACE_H_
