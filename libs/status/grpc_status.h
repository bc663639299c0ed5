// The one mapping between absl::Status and grpc::Status.
//
// The codes are numerically identical. ErrorDetails carried by an
// absl::Status travel in gRPC's binary details as a
// mileagebank.common.v1.Status (wire-compatible with google.rpc.Status), so
// clients in any language can read the fields at fault.
#ifndef MILEAGEBANK_LIBS_STATUS_GRPC_STATUS_H_
#define MILEAGEBANK_LIBS_STATUS_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace mileagebank {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, keeping the ErrorDetails, for clients of other services.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace mileagebank

#endif  // MILEAGEBANK_LIBS_STATUS_GRPC_STATUS_H_
