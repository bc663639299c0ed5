// The one way a service or tool calls another service.
//
// - One channel per target address, shared by every stub that talks to it.
// - Every call has a deadline.
// - Idempotent calls are retried with exponential backoff and jitter when the
//   other side is unavailable or the deadline passed; other calls are never
//   retried, as a retry could apply them twice.
// - ServiceClient<Service> routes member-keyed calls: ForMember picks the
//   stub of the member's shard (libs/client/shards.h); a target setting
//   lists a sharded service's shards, comma-separated, in shard order.
//
//   ServiceClient<membership::v1::Membership> membership("127.0.0.1:7101");
//   membership::v1::GetMemberResponse response;
//   absl::Status status = Call(membership.ForMember(number),
//       &membership::v1::Membership::Stub::GetMember, request, &response,
//       CallPolicy{.idempotent = true});
//
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_CLIENT_CLIENT_H_
#define MILEAGEBANK_LIBS_CLIENT_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/client/shards.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::client {

struct CallPolicy {
  // Deadline of each attempt.
  absl::Duration deadline = absl::Seconds(5);
  // Safe to send again (a read, or a write carrying an idempotency key).
  bool idempotent = false;
  // Attempts in all, for idempotent calls.
  int max_attempts = 4;
  // Wait before the first retry; doubles each time, with jitter.
  absl::Duration initial_backoff = absl::Milliseconds(50);
};

// The shared channel to `target` ("host:port").
std::shared_ptr<grpc::Channel> ChannelFor(const std::string& target);

// Whether a failed attempt may be tried again under `policy`.
bool ShouldRetry(const grpc::Status& status, const CallPolicy& policy);

// Calls `method` on `stub` under `policy`; the status keeps the callee's
// error details (see libs/status/grpc_status.h).
template <typename Stub, typename Request, typename Response>
absl::Status Call(Stub& stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*,
                                               const Request&, Response*),
                  const Request& request, Response* response,
                  const CallPolicy& policy = CallPolicy()) {
  absl::Duration backoff = policy.initial_backoff;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + policy.deadline));
    status = (stub.*method)(&context, request, response);
    if (status.ok() || attempt >= policy.max_attempts ||
        !ShouldRetry(status, policy)) {
      break;
    }
    absl::SleepFor(backoff * absl::Uniform(absl::BitGen(), 0.5, 1.5));
    backoff *= 2;
  }
  return FromGrpcStatus(status);
}

// Stubs of one service, routed by member.
template <typename Service>
class ServiceClient {
 public:
  // `targets`: the service's shards' addresses, comma-separated, in shard
  // order (one for an unsharded service).
  explicit ServiceClient(absl::string_view targets) {
    for (const std::string& target : SplitTargets(targets)) {
      stubs_.push_back(Service::NewStub(ChannelFor(target)));
    }
    // An empty setting fails at the first call (UNAVAILABLE), as a wrong
    // address would, rather than crash here.
    if (stubs_.empty()) stubs_.push_back(Service::NewStub(ChannelFor("")));
  }

  int shard_count() const { return static_cast<int>(stubs_.size()); }

  // The stub of the shard holding `member_number`.
  typename Service::Stub& ForMember(absl::string_view member_number) {
    return *stubs_[ShardOfMember(member_number, shard_count())];
  }
  // The stub of the shard `request` is keyed to (RouteOf in shards.h), such
  // as the member of a hold id.
  typename Service::Stub& For(const google::protobuf::Message& request) {
    return *stubs_[RouteOf(request, shard_count()).shard];
  }
  // The stub of shard `index`.
  typename Service::Stub& Shard(int index) { return *stubs_[index]; }
  // The stub of an unsharded service.
  typename Service::Stub& Any() { return *stubs_.front(); }

 private:
  std::vector<std::unique_ptr<typename Service::Stub>> stubs_;
};

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_CLIENT_H_
