// Respond: the last line of every gRPC method, turning a domain result into
// the response and status on the wire.
//
//   return server::Respond(members_->Enrol(*request), response);
#ifndef MILEAGEBANK_LIBS_SERVER_RESPOND_H_
#define MILEAGEBANK_LIBS_SERVER_RESPOND_H_

#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::server {

template <typename Response>
grpc::Status Respond(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_RESPOND_H_
