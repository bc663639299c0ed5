#include "libs/client/client.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace mileagebank::client {

std::shared_ptr<grpc::Channel> ChannelFor(const std::string& target) {
  static absl::Mutex mutex;
  static auto* channels =
      new absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>>();
  absl::MutexLock lock(&mutex);
  std::shared_ptr<grpc::Channel>& channel = (*channels)[target];
  if (channel == nullptr) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(64 << 20);
    // gRPC's default backoff grows to two minutes, so a neighbour restarted
    // after a crash would look down long after it is back; services here are
    // on the same network, where a few seconds between tries costs nothing.
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    channel = grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), arguments);
  }
  return channel;
}

bool ShouldRetry(const grpc::Status& status, const CallPolicy& policy) {
  if (!policy.idempotent) return false;
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace mileagebank::client
