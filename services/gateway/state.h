// The gateway's own state as the rest of the gateway sees it: API keys,
// member sessions and the audit trail, each behind an interface with two
// implementations.
//
// - Kept here, in this process's store: ApiKeys (api_keys.h), Sessions
//   (sessions.h) and AuditLog (audit_log.h). The one-machine layout, and the
//   state owner of a scaled-out gateway, which serves them to the others
//   through GatewayState (state_service.h).
// - Kept by the owner, reached through GatewayState: RemoteApiKeys,
//   RemoteSessions and RemoteAuditLog (remote_state.h), in each stateless
//   front (GatewayConfig.state_target).
//
// The Dispatcher, GatewayOperations, MemberLogin and the admin guard depend
// only on these interfaces. Implementations are thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_STATE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_STATE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "services/gateway/principal.h"

namespace mileagebank::gateway {

// Staff and partner API keys (api_keys.h describes keys and their rules).
class ApiKeyRegistry {
 public:
  virtual ~ApiKeyRegistry() = default;

  // A new key with `key`'s label, roles, office and partner (key_id,
  // created and revoked are assigned): the record and the whole key, which
  // is not kept. Durable before it returns.
  virtual absl::StatusOr<v1::CreateApiKeyResponse> Create(
      const v1::ApiKey& key) = 0;

  // Every key, configured and created, revoked ones included, by key_id.
  virtual absl::StatusOr<std::vector<v1::ApiKey>> List() = 0;

  // Revokes `key_id`; revoking a revoked key returns it unchanged.
  // NOT_FOUND for an unknown key, FAILED_PRECONDITION for a configured one.
  virtual absl::StatusOr<v1::ApiKey> Revoke(absl::string_view key_id) = 0;

  // The caller a presented key stands for: kind kApiKey, key_id, roles,
  // office_code, partner_code. UNAUTHENTICATED "API key is not valid" for a
  // malformed, unknown, wrong or revoked key alike.
  virtual absl::StatusOr<Principal> Authenticate(
      absl::string_view presented) = 0;
};

// Members' sessions (sessions.h describes the two tokens and their rules).
class SessionRegistry {
 public:
  virtual ~SessionRegistry() = default;

  // A new session of `member_number` (whose password was just checked), and
  // its first pair of tokens; durable before it returns.
  virtual absl::StatusOr<v1::LoginResponse> Start(
      absl::string_view member_number) = 0;

  // The member and session of a valid access token: kind kMember, with
  // member_number and session_id. UNAUTHENTICATED when the token is
  // malformed, forged or expired, or its session is known to have ended.
  // Never a disk read or a call.
  virtual absl::StatusOr<Principal> Authenticate(
      absl::string_view access_token) const = 0;

  // A new pair for a refresh token, which is used up by it. UNAUTHENTICATED
  // when the token is unknown, expired, or its session has ended; a token
  // already exchanged ends its session and is UNAUTHENTICATED too.
  virtual absl::StatusOr<v1::LoginResponse> Refresh(
      absl::string_view refresh_token) = 0;

  // Ends `session_id`: its refresh token and every access token of it stop
  // working. Ending an ended session is OK; NOT_FOUND for an unknown one.
  virtual absl::Status End(absl::string_view session_id) = 0;
};

// The trail of staff and partner writes (audit_log.h).
class AuditTrail {
 public:
  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 1000;

  virtual ~AuditTrail() = default;

  // Appends `record` with the next sequence and the time now (whatever it
  // had there is replaced) and returns it once it is durable.
  virtual absl::StatusOr<v1::AuditRecord> Append(v1::AuditRecord record) = 0;

  // The records after `after_sequence` matching every filter given, oldest
  // first, at most page_size (default 100; INVALID_ARGUMENT outside 0-1000).
  // `from` is inclusive and `to` exclusive. next_after_sequence is the last
  // record's sequence when more match, 0 otherwise.
  virtual absl::StatusOr<v1::QueryAuditResponse> Query(
      const v1::QueryAuditRequest& request) const = 0;

  // OK unless the trail is known to be out of reach just now (UNAVAILABLE):
  // an audited write is then refused before it is made, rather than made
  // and left out of the trail.
  virtual absl::Status Writable() const { return absl::OkStatus(); }
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_STATE_H_
