// What every call through the gateway goes through, whichever face it came
// in by: who is calling (Authenticate), whether they may (Admit: the rate
// limit, policy.h's table, a member's own data only, the actor set from the
// credentials rather than trusted from the request), the call itself with
// the caller's identity and deadline, personal data masked in the answer,
// and the audit trail of staff and partner writes (refused up front while
// the trail is out of reach: AuditTrail::Writable).
//
// Backend errors reach the caller with their code, message and field
// details; an unreachable backend or an internal failure is reported without
// internal detail (logged instead).
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_DISPATCHER_H_
#define MILEAGEBANK_SERVICES_GATEWAY_DISPATCHER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/gateway/backends.h"
#include "services/gateway/gateway_operations.h"
#include "services/gateway/policy.h"
#include "services/gateway/principal.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/state.h"

namespace mileagebank::gateway {

// The metadata that carries credentials, on both faces.
inline constexpr char kApiKeyHeader[] = "x-api-key";
inline constexpr char kAuthorizationHeader[] = "authorization";

// What the services trust the gateway to have set; stripped from callers.
inline constexpr char kSessionMemberMetadata[] = "x-mb-session-member";
inline constexpr char kPartnerMetadata[] = "x-mb-partner";

struct Credentials {
  // "Bearer <token>", as sent.
  std::string authorization;
  std::string api_key;
  // The client's address.
  std::string peer;
};

class Dispatcher {
 public:
  struct Parts {
    Backends* backends;
    SessionRegistry* sessions;
    ApiKeyRegistry* api_keys;
    AuditTrail* audit;
    RateLimiter* limiter;
    GatewayOperations* local;
    absl::Duration backend_deadline = absl::Seconds(5);
  };
  Dispatcher(Parts parts, prometheus::Registry& metrics);

  // Anonymous without credentials; UNAUTHENTICATED for bad ones.
  absl::StatusOr<Principal> Authenticate(const Credentials& credentials) const;

  // Everything before the call: rate limit, authorisation, a member's own
  // data only, the actor. May change `request` (member number, actor).
  // `record_of`: the member a REST path names above a record the request
  // names by its own id (.../members/{m}/redemptions/{id}); the record must
  // be theirs (NOT_FOUND otherwise; for a member's session, {m} must be the
  // member).
  absl::Status Admit(const Principal& principal, const Operation& operation,
                     google::protobuf::Message* request, absl::Time deadline,
                     absl::string_view record_of = "");

  // Admit, call, mask, audit. `response` is of the method's output type.
  absl::Status Unary(const Principal& principal, const Operation& operation,
                     google::protobuf::Message* request,
                     google::protobuf::Message* response, absl::Time deadline,
                     absl::string_view record_of = "");

  // For streams, which the gRPC face relays itself: the context of a call
  // to a backend on behalf of `principal`.
  void PrepareBackendContext(const Principal& principal, absl::Time deadline,
                             grpc::ClientContext* context) const;
  // The caller-facing form of a backend's status.
  absl::Status FromBackend(const Operation& operation,
                           const grpc::Status& status) const;
  // Records a staff or partner write (no-op for reads and members); the
  // response, when there is one, names the member an enrolment made.
  void Audit(const Principal& principal, const Operation& operation,
             const google::protobuf::Message* request,
             const absl::Status& outcome,
             const google::protobuf::Message* response = nullptr);

  const Backends& backends() const { return *parts_.backends; }

 private:
  absl::Status CheckOwnership(const Principal& principal,
                              const Operation& operation,
                              google::protobuf::Message* request,
                              absl::Time deadline);
  absl::Status CheckRecordOf(const Principal& principal,
                             const Operation& operation,
                             const google::protobuf::Message& request,
                             absl::string_view member_number,
                             absl::Time deadline);
  // The member whose record (a redemption, a claim) `request` names by its
  // id, looked up at its service; nullopt for operations on no such record.
  absl::StatusOr<std::optional<std::string>> RecordOwner(
      const Principal& principal, const Operation& operation,
      const google::protobuf::Message& request, absl::Time deadline);
  absl::Status Forward(const Principal& principal, const Operation& operation,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* response,
                       absl::Time deadline);
  // Forward's call to one shard of the operation's service.
  absl::Status ForwardToShard(int shard, const Principal& principal,
                              const Operation& operation,
                              const google::protobuf::Message& request,
                              google::protobuf::Message* response,
                              absl::Time deadline);

  Parts parts_;
  prometheus::Family<prometheus::Counter>& denied_;
};

// A new, empty message of `type` from the generated pool.
std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor* type);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_DISPATCHER_H_
