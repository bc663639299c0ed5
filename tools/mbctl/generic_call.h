// One unary gRPC call by method name, for messages known only by reflection.
//
//   absl::Status status = CallUnary(
//       {.target = "127.0.0.1:7101"},
//       "/mileagebank.membership.v1.Membership/GetMember", request,
//       response.get(), absl::Seconds(10));
//
// The request is serialized into a grpc::ByteBuffer and sent through a
// grpc::GenericStub on the shared channel of libs/client, with the route's
// API key (route.h); the reply bytes are parsed into `response`. The call is made once, never retried: a command
// may not be safe to repeat.
//
// Thread-safe.
#ifndef MILEAGEBANK_TOOLS_MBCTL_GENERIC_CALL_H_
#define MILEAGEBANK_TOOLS_MBCTL_GENERIC_CALL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "tools/mbctl/route.h"

namespace mileagebank::mbctl {

// Calls `method` ("/<package>.<Service>/<Method>") along `route` with a
// deadline of `timeout`. The status is the service's, with its error
// details (libs/status/grpc_status.h); INTERNAL when the reply does not parse
// as `response`'s type.
absl::Status CallUnary(const Route& route, const std::string& method,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* response,
                       absl::Duration timeout);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_GENERIC_CALL_H_
