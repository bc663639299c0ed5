// The gateway's state (state.h) as a stateless front sees it: kept by the
// state owner and reached through GatewayState (gateway_state.proto) at
// GatewayConfig.state_target.
//
// Writes (key changes, logins, refreshes, logouts, audit records) and reads
// that must be current (ListApiKeys, QueryAudit) are calls to the owner
// under the backend deadline; while it is down they fail as UNAVAILABLE
// ("gateway state is unavailable; try again shortly"), as a backend's
// would. The two checks on every request stay local, so they keep working
// while the owner is down:
// - an access token is checked by its signature (the signing key is shared)
//   and against this front's copy of the ended sessions, which
//   StateFollower brings up to date every `ended_poll` (and a logout through
//   this front adds at once): a logout through another front stops the
//   session here within that interval;
// - an API key is checked against this front's copy of the owner's keys and
//   their hashes, fetched every `keys_poll`, and at once for a key id the
//   copy lacks (at most once per `miss_gap`, so that made-up keys cannot
//   flood the owner): a key made through another front works here at once,
//   a revocation through another front takes effect here within
//   `keys_poll`.
//
//   StateClient client(config.state_target(), GatewayStateSecret(key),
//                      absl::Seconds(5));
//   RemoteApiKeys keys(&client);
//   RemoteSessions sessions(&client, signer);
//   RemoteAuditLog audit(&client);
//   StateFollower follower(&keys, &sessions, absl::Seconds(2),
//                          absl::Seconds(1));
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_REMOTE_STATE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_REMOTE_STATE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "mileagebank/gateway/v1/gateway_state.grpc.pb.h"
#include "services/gateway/ended_sessions.h"
#include "services/gateway/state.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {

// Calls to the state owner: its address, the secret every call carries and
// the deadline of each.
class StateClient {
 public:
  StateClient(const std::string& target, std::string secret,
              absl::Duration deadline);

  // Calls `method` once. The owner's errors come back with their code,
  // message and field details; the owner down or slow is UNAVAILABLE or
  // DEADLINE_EXCEEDED with a message saying so; a refusal of this front
  // (wrong key) or an internal failure is INTERNAL "internal error"
  // (logged).
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::GatewayState::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    context.AddMetadata(kGatewayStateMetadata, secret_);
    return Outcome((stub_.get()->*method)(&context, request, response));
  }

  // False since a call found the owner down or slow, until one gets an
  // answer (StateFollower's polls call at least every second).
  bool reachable() const { return reachable_.load(); }

 private:
  absl::Status Outcome(const grpc::Status& status);

  std::unique_ptr<v1::GatewayState::Stub> stub_;
  std::atomic<bool> reachable_{true};
  const std::string secret_;
  const absl::Duration deadline_;
};

class RemoteApiKeys final : public ApiKeyRegistry {
 public:
  using Clock = std::function<absl::Time()>;

  // `client` outlives this. The copy starts empty: Fetch fills it.
  explicit RemoteApiKeys(StateClient* client,
                         absl::Duration miss_gap = absl::Seconds(1),
                         Clock clock = absl::Now)
      : client_(client), miss_gap_(miss_gap), clock_(std::move(clock)) {}

  // ApiKeyRegistry: Create, List and Revoke call the owner (and update the
  // copy); Authenticate reads the copy, fetching it first for an unknown
  // key id when the last such fetch is at least `miss_gap` old.
  absl::StatusOr<v1::CreateApiKeyResponse> Create(
      const v1::ApiKey& key) override;
  absl::StatusOr<std::vector<v1::ApiKey>> List() override;
  absl::StatusOr<v1::ApiKey> Revoke(absl::string_view key_id) override;
  absl::StatusOr<Principal> Authenticate(absl::string_view presented) override;

  // Replaces the copy with the owner's keys.
  absl::Status Fetch();

 private:
  // Fetch, answering the owner's list.
  absl::StatusOr<std::vector<v1::ApiKey>> FetchList();
  void Put(const v1::ApiKey& record, std::string sha256);

  StateClient* const client_;
  const absl::Duration miss_gap_;
  const Clock clock_;

  mutable absl::Mutex mutex_;
  // key_id -> the record and the raw SHA-256 of the whole key.
  absl::flat_hash_map<std::string, std::pair<v1::ApiKey, std::string>> keys_
      ABSL_GUARDED_BY(mutex_);
  absl::Time last_miss_fetch_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
};

class RemoteSessions final : public SessionRegistry {
 public:
  using Clock = std::function<absl::Time()>;

  // `client` outlives this; `signer` holds the owner's key.
  RemoteSessions(StateClient* client, TokenSigner signer,
                 Clock clock = absl::Now)
      : client_(client), signer_(std::move(signer)), clock_(std::move(clock)) {}

  // SessionRegistry: Start, Refresh and End call the owner (End also
  // remembers the session here at once); Authenticate is local.
  absl::StatusOr<v1::LoginResponse> Start(
      absl::string_view member_number) override;
  absl::StatusOr<Principal> Authenticate(
      absl::string_view access_token) const override;
  absl::StatusOr<v1::LoginResponse> Refresh(
      absl::string_view refresh_token) override;
  absl::Status End(absl::string_view session_id) override;

  // Brings the copy of the ended sessions up to date with the owner's.
  absl::Status SyncEnded();

 private:
  StateClient* const client_;
  const TokenSigner signer_;
  const Clock clock_;
  EndedSessions ended_;

  // Where SyncEnded left off in the owner's feed; only SyncEnded uses it.
  absl::Mutex sync_mutex_;
  std::string epoch_ ABSL_GUARDED_BY(sync_mutex_);
  int64_t cursor_ ABSL_GUARDED_BY(sync_mutex_) = 0;
};

class RemoteAuditLog final : public AuditTrail {
 public:
  // `client` outlives this.
  explicit RemoteAuditLog(StateClient* client) : client_(client) {}

  absl::StatusOr<v1::AuditRecord> Append(v1::AuditRecord record) override;
  absl::StatusOr<v1::QueryAuditResponse> Query(
      const v1::QueryAuditRequest& request) const override;
  // UNAVAILABLE while the client finds the owner unreachable.
  absl::Status Writable() const override;

 private:
  StateClient* const client_;
};

// Keeps a front's copies current: a thread calling keys->Fetch() every
// `keys_poll` and sessions->SyncEnded() every `ended_poll`, from
// construction (each once at once) to destruction. A failure is logged when
// the owner stops answering and when it answers again, not on each poll.
class StateFollower {
 public:
  // Both outlive the follower.
  StateFollower(RemoteApiKeys* keys, RemoteSessions* sessions,
                absl::Duration keys_poll, absl::Duration ended_poll);
  StateFollower(const StateFollower&) = delete;
  StateFollower& operator=(const StateFollower&) = delete;
  ~StateFollower();

 private:
  void Run(absl::Duration keys_poll, absl::Duration ended_poll);

  RemoteApiKeys* const keys_;
  RemoteSessions* const sessions_;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_REMOTE_STATE_H_
