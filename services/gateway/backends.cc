#include "services/gateway/backends.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "libs/client/client.h"
#include "libs/client/shards.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/common/v1/admin.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::gateway {

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(
    const config::v1::GatewayConfig& config) {
  auto backends = std::unique_ptr<Backends>(new Backends());
  const std::vector<std::pair<const char*, const std::string*>> targets = {
      {"membership_target", &config.membership_target()},
      {"accrual_target", &config.accrual_target()},
      {"redemption_target", &config.redemption_target()},
      {"settlement_target", &config.settlement_target()},
      {"reporting_target", &config.reporting_target()},
  };
  // Naming each contract through its generated code also links it in, so
  // that the descriptor pool knows every method the gateway serves.
  const google::protobuf::ServiceDescriptor* services[] = {
      membership::v1::GetMemberRequest::descriptor()->file()->service(0),
      accrual::v1::GetBalanceRequest::descriptor()->file()->service(0),
      redemption::v1::GetRedemptionRequest::descriptor()->file()->service(0),
      settlement::v1::GetPartnerRequest::descriptor()->file()->service(0),
      reporting::v1::GetMembersReportRequest::descriptor()->file()->service(0)};
  for (size_t i = 0; i < targets.size(); ++i) {
    std::vector<std::string> shards = client::SplitTargets(*targets[i].second);
    if (shards.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          targets[i].first, ": required (host:port, or one per shard)"));
    }
    for (const std::string& shard : shards) {
      backends->channels_[services[i]->full_name()].push_back(
          client::ChannelFor(shard));
    }
    // The same processes serve their admin service (admin.proto's
    // AccrualAdmin for Accrual).
    const google::protobuf::ServiceDescriptor* admin =
        common::v1::BackupRequest::descriptor()->file()->FindServiceByName(
            services[i]->name() + "Admin");
    std::vector<std::shared_ptr<grpc::Channel>> same =
        backends->channels_[services[i]->full_name()];
    backends->channels_[admin->full_name()] = std::move(same);
  }
  return backends;
}

std::shared_ptr<grpc::Channel> Backends::ChannelFor(
    absl::string_view method) const {
  auto found = channels_.find(ServiceOf(method));
  return found == channels_.end() ? nullptr : found->second.front();
}

int Backends::ShardCount(absl::string_view method) const {
  auto found = channels_.find(ServiceOf(method));
  return found == channels_.end() ? 0 : static_cast<int>(found->second.size());
}

grpc::Status Backends::Unary(const std::string& method, int shard,
                             grpc::ClientContext* context,
                             const grpc::ByteBuffer& request,
                             grpc::ByteBuffer* response) const {
  auto found = channels_.find(ServiceOf(method));
  if (found == channels_.end() || shard < 0 ||
      shard >= static_cast<int>(found->second.size())) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        absl::StrCat(method, " is not served"));
  }
  grpc::Channel* channel = found->second[shard].get();
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel,
      grpc::internal::RpcMethod(method.c_str(),
                                grpc::internal::RpcMethod::NORMAL_RPC),
      context, request, response);
}

absl::string_view ServiceOf(absl::string_view method) {
  if (!method.empty() && method[0] == '/') method.remove_prefix(1);
  return method.substr(0, method.find('/'));
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

}  // namespace mileagebank::gateway
