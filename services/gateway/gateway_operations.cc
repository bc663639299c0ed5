#include "services/gateway/gateway_operations.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/status/status_macros.h"

namespace mileagebank::gateway {
namespace {

template <typename T>
const T& As(const google::protobuf::Message& message) {
  return static_cast<const T&>(message);
}
template <typename T>
T* As(google::protobuf::Message* message) {
  return static_cast<T*>(message);
}

}  // namespace

absl::Status GatewayOperations::Call(const Principal& principal,
                                     absl::string_view method,
                                     const google::protobuf::Message& request,
                                     google::protobuf::Message* response) {
  absl::string_view name = method.substr(method.rfind('/') + 1);
  if (name == "Login") {
    const auto& login = As<v1::LoginRequest>(request);
    MB_ASSIGN_OR_RETURN(*As<v1::LoginResponse>(response),
                        login_->Login(login.login(), login.password()));
  } else if (name == "Refresh") {
    MB_ASSIGN_OR_RETURN(
        *As<v1::RefreshResponse>(response)->mutable_session(),
        sessions_->Refresh(As<v1::RefreshRequest>(request).refresh_token()));
  } else if (name == "Logout") {
    if (principal.kind != Principal::Kind::kMember) {
      return absl::FailedPreconditionError(
          "logout ends a member's session; API keys are revoked instead");
    }
    MB_RETURN_IF_ERROR(sessions_->End(principal.session_id));
  } else if (name == "CreateApiKey") {
    MB_ASSIGN_OR_RETURN(
        *As<v1::CreateApiKeyResponse>(response),
        api_keys_->Create(As<v1::CreateApiKeyRequest>(request).key()));
  } else if (name == "ListApiKeys") {
    MB_ASSIGN_OR_RETURN(std::vector<v1::ApiKey> keys, api_keys_->List());
    for (v1::ApiKey& key : keys) {
      *As<v1::ListApiKeysResponse>(response)->add_keys() = std::move(key);
    }
  } else if (name == "RevokeApiKey") {
    MB_ASSIGN_OR_RETURN(
        *As<v1::RevokeApiKeyResponse>(response)->mutable_key(),
        api_keys_->Revoke(As<v1::RevokeApiKeyRequest>(request).key_id()));
  } else if (name == "QueryAudit") {
    MB_ASSIGN_OR_RETURN(
        *As<v1::QueryAuditResponse>(response),
        audit_->Query(As<v1::QueryAuditRequest>(request)));
  } else {
    return absl::UnimplementedError(absl::StrCat(method, " is not served"));
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::gateway
