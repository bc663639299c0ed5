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
