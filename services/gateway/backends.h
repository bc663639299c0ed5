// The services behind the gateway, and calls forwarded to them as raw
// protobuf bytes: the gateway relays a service's messages without needing
// a handler per method.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_BACKENDS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_BACKENDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "mileagebank/config/v1/gateway.pb.h"

namespace mileagebank::gateway {

class Backends {
 public:
  // Takes the *_target settings; fails naming one that is missing.
  static absl::StatusOr<std::unique_ptr<Backends>> Create(
      const config::v1::GatewayConfig& config);

  // The channel to the (first) shard of the service of `method`
  // ("/mileagebank.accrual.v1.Accrual/GetBalance"), or nullptr when no
  // backend serves it.
  std::shared_ptr<grpc::Channel> ChannelFor(absl::string_view method) const;

  // How many shards the service of `method` has (0: not served).
  int ShardCount(absl::string_view method) const;

  // One unary call to shard `shard`; `method` must live as long as the
  // Backends (the operation table's strings do).
  grpc::Status Unary(const std::string& method, int shard,
                     grpc::ClientContext* context,
                     const grpc::ByteBuffer& request,
                     grpc::ByteBuffer* response) const;

 private:
  Backends() = default;
  // Keyed by the service's full name, e.g. "mileagebank.accrual.v1.Accrual";
  // one channel per shard, in shard order.
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<grpc::Channel>>>
      channels_;
};

// "mileagebank.accrual.v1.Accrual" from "/mileagebank.accrual.v1.Accrual/X".
absl::string_view ServiceOf(absl::string_view method);

// Bytes to and from a ByteBuffer.
grpc::ByteBuffer ToByteBuffer(const std::string& bytes);
std::string FromByteBuffer(const grpc::ByteBuffer& buffer);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_BACKENDS_H_
