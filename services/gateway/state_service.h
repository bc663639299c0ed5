// GatewayStateService: the state owner's side of GatewayState
// (mileagebank/gateway/v1/gateway_state.proto): its store-backed API keys,
// sessions and audit trail, served to the stateless gateway fronts.
//
// Served on the owner's gRPC port beside the public face, so each call must
// carry kGatewayStateMetadata with GatewayStateSecret(token key) (tokens.h):
// anything else is PERMISSION_DENIED before any state is touched.
//
//   GatewayStateService state(api_keys.get(), sessions.get(), audit.get(),
//                             GatewayStateSecret(token_key));
//   services.push_back(&state);
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_STATE_SERVICE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_STATE_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "mileagebank/gateway/v1/gateway_state.grpc.pb.h"
#include "services/gateway/api_keys.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/sessions.h"

namespace mileagebank::gateway {

class GatewayStateService final : public v1::GatewayState::Service {
 public:
  // The three outlive the service; `secret` is what callers must present.
  GatewayStateService(ApiKeys* api_keys, Sessions* sessions, AuditLog* audit,
                      std::string secret);

  grpc::Status CreateApiKey(grpc::ServerContext* context,
                            const v1::StateCreateApiKeyRequest* request,
                            v1::StateCreateApiKeyResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context,
                            const v1::StateRevokeApiKeyRequest* request,
                            v1::StateRevokeApiKeyResponse* response) override;
  grpc::Status ListApiKeyDigests(
      grpc::ServerContext* context, const v1::ListApiKeyDigestsRequest* request,
      v1::ListApiKeyDigestsResponse* response) override;
  grpc::Status StartSession(grpc::ServerContext* context,
                            const v1::StartSessionRequest* request,
                            v1::StartSessionResponse* response) override;
  grpc::Status RefreshSession(grpc::ServerContext* context,
                              const v1::RefreshSessionRequest* request,
                              v1::RefreshSessionResponse* response) override;
  grpc::Status EndSession(grpc::ServerContext* context,
                          const v1::EndSessionRequest* request,
                          v1::EndSessionResponse* response) override;
  grpc::Status ListEndedSessions(
      grpc::ServerContext* context, const v1::ListEndedSessionsRequest* request,
      v1::ListEndedSessionsResponse* response) override;
  grpc::Status AppendAudit(grpc::ServerContext* context,
                           const v1::AppendAuditRequest* request,
                           v1::AppendAuditResponse* response) override;
  grpc::Status QueryAudit(grpc::ServerContext* context,
                          const v1::StateQueryAuditRequest* request,
                          v1::StateQueryAuditResponse* response) override;

  // Most ended sessions in one ListEndedSessions answer.
  static constexpr int kMaxEndedPage = 10000;

 private:
  // OK when `context` carries the secret.
  absl::Status Admit(const grpc::ServerContext& context) const;

  ApiKeys* const api_keys_;
  Sessions* const sessions_;
  AuditLog* const audit_;
  const std::string secret_;
  // Names this process's run: the ended sessions' cursors restart with it.
  const std::string epoch_;
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_STATE_SERVICE_H_
