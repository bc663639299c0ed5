#include "services/gateway/state_service.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/util/time_util.h"
#include "libs/crypto/password.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Timestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

}  // namespace

GatewayStateService::GatewayStateService(ApiKeys* api_keys, Sessions* sessions,
                                         AuditLog* audit, std::string secret)
    : api_keys_(api_keys),
      sessions_(sessions),
      audit_(audit),
      secret_(std::move(secret)),
      epoch_(crypto::RandomHex(8)) {}

absl::Status GatewayStateService::Admit(
    const grpc::ServerContext& context) const {
  auto found = context.client_metadata().find(kGatewayStateMetadata);
  if (found == context.client_metadata().end() ||
      !ConstantTimeEquals(
          absl::string_view(found->second.data(), found->second.size()),
          secret_)) {
    return absl::PermissionDeniedError(
        "x-mb-gateway-state: missing or wrong; GatewayState serves gateway "
        "replicas sharing the token key only");
  }
  return absl::OkStatus();
}

grpc::Status GatewayStateService::CreateApiKey(
    grpc::ServerContext* context, const v1::StateCreateApiKeyRequest* request,
    v1::StateCreateApiKeyResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::CreateApiKeyResponse> made =
        api_keys_->Create(request->key());
    status = made.status();
    if (made.ok()) {
      *response->mutable_key() = made->key();
      response->set_secret(made->secret());
    }
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::RevokeApiKey(
    grpc::ServerContext* context, const v1::StateRevokeApiKeyRequest* request,
    v1::StateRevokeApiKeyResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::ApiKey> revoked = api_keys_->Revoke(request->key_id());
    status = revoked.status();
    if (revoked.ok()) *response->mutable_key() = *std::move(revoked);
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::ListApiKeyDigests(
    grpc::ServerContext* context, const v1::ListApiKeyDigestsRequest*,
    v1::ListApiKeyDigestsResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    for (auto& [record, sha256] : api_keys_->Digests()) {
      v1::ApiKeyDigest* digest = response->add_keys();
      *digest->mutable_key() = std::move(record);
      digest->set_sha256(std::move(sha256));
    }
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::StartSession(
    grpc::ServerContext* context, const v1::StartSessionRequest* request,
    v1::StartSessionResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::LoginResponse> started =
        sessions_->Start(request->member_number());
    status = started.status();
    if (started.ok()) *response->mutable_session() = *std::move(started);
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::RefreshSession(
    grpc::ServerContext* context, const v1::RefreshSessionRequest* request,
    v1::RefreshSessionResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::LoginResponse> next =
        sessions_->Refresh(request->refresh_token());
    status = next.status();
    if (next.ok()) *response->mutable_session() = *std::move(next);
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::EndSession(
    grpc::ServerContext* context, const v1::EndSessionRequest* request,
    v1::EndSessionResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<absl::Time> until =
        sessions_->EndUntil(request->session_id());
    status = until.status();
    if (until.ok()) *response->mutable_forget_after() = Timestamp(*until);
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::ListEndedSessions(
    grpc::ServerContext* context, const v1::ListEndedSessionsRequest* request,
    v1::ListEndedSessionsResponse* response) {
  absl::Status status = Admit(*context);
  if (!status.ok()) return ToGrpcStatus(status);
  const int page_size = request->page_size() <= 0
                            ? kMaxEndedPage
                            : std::min(request->page_size(), kMaxEndedPage);
  // A cursor of another run means nothing here: start from the beginning
  // (every ended session still mattering was reloaded from the store).
  const int64_t after = request->epoch() == epoch_
                            ? std::max<int64_t>(request->after_cursor(), 0)
                            : 0;
  const EndedSessions& ended = sessions_->ended();
  // Read before the page: a session ended meanwhile has a later cursor and
  // comes next time.
  const int64_t last = ended.last_cursor();
  std::vector<EndedSessions::Entry> page =
      ended.After(after, static_cast<size_t>(page_size));
  response->set_epoch(epoch_);
  for (const EndedSessions::Entry& entry : page) {
    v1::EndedSession* session = response->add_sessions();
    session->set_session_id(entry.session_id);
    *session->mutable_forget_after() = Timestamp(entry.forget_after);
  }
  response->set_more(static_cast<int>(page.size()) == page_size);
  int64_t next = response->more() ? page.back().cursor : std::max(after, last);
  if (!page.empty()) next = std::max(next, page.back().cursor);
  response->set_next_cursor(next);
  return grpc::Status::OK;
}

grpc::Status GatewayStateService::AppendAudit(
    grpc::ServerContext* context, const v1::AppendAuditRequest* request,
    v1::AppendAuditResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::AuditRecord> kept = audit_->Append(request->record());
    status = kept.status();
    if (kept.ok()) *response->mutable_record() = *std::move(kept);
  }
  return ToGrpcStatus(status);
}

grpc::Status GatewayStateService::QueryAudit(
    grpc::ServerContext* context, const v1::StateQueryAuditRequest* request,
    v1::StateQueryAuditResponse* response) {
  absl::Status status = Admit(*context);
  if (status.ok()) {
    absl::StatusOr<v1::QueryAuditResponse> page =
        audit_->Query(request->query());
    status = page.status();
    if (page.ok()) *response->mutable_page() = *std::move(page);
  }
  return ToGrpcStatus(status);
}

}  // namespace mileagebank::gateway
