#include "services/gateway/remote_state.h"

#include <algorithm>

#include "google/protobuf/util/time_util.h"
#include "libs/client/client.h"
#include "libs/log/log.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "services/gateway/api_keys.h"
#include "services/gateway/sessions.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;
using Stub = v1::GatewayState::Stub;

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
}

}  // namespace

StateClient::StateClient(const std::string& target, std::string secret,
                         absl::Duration deadline)
    : stub_(v1::GatewayState::NewStub(client::ChannelFor(target))),
      secret_(std::move(secret)),
      deadline_(deadline) {}

absl::Status StateClient::Outcome(const grpc::Status& status) {
  const grpc::StatusCode code = status.error_code();
  reachable_ = code != grpc::StatusCode::UNAVAILABLE &&
               code != grpc::StatusCode::DEADLINE_EXCEEDED;
  switch (code) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(
          "gateway state is unavailable; try again shortly");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          "gateway state did not answer in time");
    // The owner refuses a front without its key as PERMISSION_DENIED, which
    // none of its operations answers otherwise: a misconfiguration here,
    // nothing the caller did.
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      log::Error("gateway_state_call_failed",
                 {{"code", static_cast<int>(status.error_code())},
                  {"detail", status.error_message()}});
      return absl::InternalError("internal error");
    default:
      return FromGrpcStatus(status);
  }
}

absl::StatusOr<v1::CreateApiKeyResponse> RemoteApiKeys::Create(
    const v1::ApiKey& key) {
  v1::StateCreateApiKeyRequest request;
  *request.mutable_key() = key;
  v1::StateCreateApiKeyResponse made;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::CreateApiKey, request, &made));
  Put(made.key(), Sha256Bytes(made.secret()));
  v1::CreateApiKeyResponse response;
  *response.mutable_key() = made.key();
  response.set_secret(made.secret());
  return response;
}

absl::StatusOr<std::vector<v1::ApiKey>> RemoteApiKeys::List() {
  return FetchList();
}

absl::StatusOr<v1::ApiKey> RemoteApiKeys::Revoke(absl::string_view key_id) {
  v1::StateRevokeApiKeyRequest request;
  request.set_key_id(std::string(key_id));
  v1::StateRevokeApiKeyResponse revoked;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::RevokeApiKey, request, &revoked));
  {
    absl::MutexLock lock(&mutex_);
    auto it = keys_.find(key_id);
    if (it != keys_.end()) it->second.first = revoked.key();
  }
  return revoked.key();
}

absl::StatusOr<Principal> RemoteApiKeys::Authenticate(
    absl::string_view presented) {
  MB_ASSIGN_OR_RETURN(std::string key_id, PresentedKeyId(presented));
  bool fetch = false;
  {
    absl::MutexLock lock(&mutex_);
    auto it = keys_.find(key_id);
    if (it != keys_.end()) {
      return MatchApiKey(presented, it->second.first, it->second.second);
    }
    const absl::Time now = clock_();
    if (now - last_miss_fetch_ >= miss_gap_) {
      last_miss_fetch_ = now;
      fetch = true;
    }
  }
  // Unknown here: perhaps made through another front since the last poll.
  if (fetch) {
    absl::Status fetched = Fetch();
    if (!fetched.ok()) {
      log::Warning("api_keys_not_fetched",
                   {{"error", std::string(fetched.message())}});
    }
  }
  absl::ReaderMutexLock lock(&mutex_);
  auto it = keys_.find(key_id);
  if (it == keys_.end())
    return absl::UnauthenticatedError("API key is not valid");
  return MatchApiKey(presented, it->second.first, it->second.second);
}

absl::Status RemoteApiKeys::Fetch() { return FetchList().status(); }

absl::StatusOr<std::vector<v1::ApiKey>> RemoteApiKeys::FetchList() {
  v1::ListApiKeyDigestsResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::ListApiKeyDigests,
                                   v1::ListApiKeyDigestsRequest(), &response));
  absl::flat_hash_map<std::string, std::pair<v1::ApiKey, std::string>> keys;
  std::vector<v1::ApiKey> list;
  for (v1::ApiKeyDigest& digest : *response.mutable_keys()) {
    list.push_back(digest.key());
    std::string key_id = digest.key().key_id();
    keys[std::move(key_id)] = {std::move(*digest.mutable_key()),
                               std::move(*digest.mutable_sha256())};
  }
  {
    absl::MutexLock lock(&mutex_);
    keys_ = std::move(keys);
  }
  return list;
}

void RemoteApiKeys::Put(const v1::ApiKey& record, std::string sha256) {
  absl::MutexLock lock(&mutex_);
  keys_[record.key_id()] = {record, std::move(sha256)};
}

absl::StatusOr<v1::LoginResponse> RemoteSessions::Start(
    absl::string_view member_number) {
  v1::StartSessionRequest request;
  request.set_member_number(std::string(member_number));
  v1::StartSessionResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::StartSession, request, &response));
  return std::move(*response.mutable_session());
}

absl::StatusOr<Principal> RemoteSessions::Authenticate(
    absl::string_view access_token) const {
  return AuthenticateAccessToken(signer_, ended_, access_token, clock_());
}

absl::StatusOr<v1::LoginResponse> RemoteSessions::Refresh(
    absl::string_view refresh_token) {
  v1::RefreshSessionRequest request;
  request.set_refresh_token(std::string(refresh_token));
  v1::RefreshSessionResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::RefreshSession, request, &response));
  return std::move(*response.mutable_session());
}

absl::Status RemoteSessions::End(absl::string_view session_id) {
  v1::EndSessionRequest request;
  request.set_session_id(std::string(session_id));
  v1::EndSessionResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::EndSession, request, &response));
  ended_.Add(std::string(session_id), TimeOf(response.forget_after()),
             clock_());
  return absl::OkStatus();
}

absl::Status RemoteSessions::SyncEnded() {
  absl::MutexLock lock(&sync_mutex_);
  v1::ListEndedSessionsResponse response;
  do {
    v1::ListEndedSessionsRequest request;
    request.set_epoch(epoch_);
    request.set_after_cursor(cursor_);
    response.Clear();
    MB_RETURN_IF_ERROR(
        client_->Call(&Stub::ListEndedSessions, request, &response));
    const absl::Time now = clock_();
    for (const v1::EndedSession& session : response.sessions()) {
      ended_.Add(session.session_id(), TimeOf(session.forget_after()), now);
    }
    epoch_ = response.epoch();
    cursor_ = response.next_cursor();
  } while (response.more());
  return absl::OkStatus();
}

absl::Status RemoteAuditLog::Writable() const {
  if (client_->reachable()) return absl::OkStatus();
  return absl::UnavailableError(
      "gateway state is unavailable, so the audit trail cannot record this "
      "write; try again shortly");
}

absl::StatusOr<v1::AuditRecord> RemoteAuditLog::Append(v1::AuditRecord record) {
  v1::AppendAuditRequest request;
  *request.mutable_record() = std::move(record);
  v1::AppendAuditResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::AppendAudit, request, &response));
  return std::move(*response.mutable_record());
}

absl::StatusOr<v1::QueryAuditResponse> RemoteAuditLog::Query(
    const v1::QueryAuditRequest& request) const {
  v1::StateQueryAuditRequest query;
  *query.mutable_query() = request;
  v1::StateQueryAuditResponse response;
  MB_RETURN_IF_ERROR(client_->Call(&Stub::QueryAudit, query, &response));
  return std::move(*response.mutable_page());
}

StateFollower::StateFollower(RemoteApiKeys* keys, RemoteSessions* sessions,
                             absl::Duration keys_poll,
                             absl::Duration ended_poll)
    : keys_(keys), sessions_(sessions) {
  thread_ = std::thread(
      [this, keys_poll, ended_poll] { Run(keys_poll, ended_poll); });
}

StateFollower::~StateFollower() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void StateFollower::Run(absl::Duration keys_poll, absl::Duration ended_poll) {
  absl::Time keys_due = absl::Now();
  absl::Time ended_due = keys_due;
  bool failing = false;
  while (true) {
    const absl::Time now = absl::Now();
    absl::Status status;
    if (now >= keys_due) {
      status.Update(keys_->Fetch());
      keys_due = now + keys_poll;
    }
    if (now >= ended_due) {
      status.Update(sessions_->SyncEnded());
      ended_due = now + ended_poll;
    }
    if (!status.ok() && !failing) {
      log::Warning("gateway_state_unreachable",
                   {{"error", std::string(status.message())}});
    } else if (status.ok() && failing) {
      log::Info("gateway_state_reachable");
    }
    failing = !status.ok();
    absl::MutexLock lock(&mutex_);
    if (mutex_.AwaitWithDeadline(absl::Condition(&stopping_),
                                 std::min(keys_due, ended_due))) {
      return;
    }
  }
}

}  // namespace mileagebank::gateway
