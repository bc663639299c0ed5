// The gateway process: configuration, its state (sessions, API keys, audit
// trail: in its own store, or at the state owner when state_target is set),
// the two faces and their wiring.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/client/client.h"
#include "libs/log/log.h"
#include "libs/server/admin_service.h"
#include "libs/server/service_host.h"
#include "libs/status/status_macros.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "services/gateway/admin_guard.h"
#include "services/gateway/api_keys.h"
#include "services/gateway/audit_log.h"
#include "services/gateway/backends.h"
#include "services/gateway/dispatcher.h"
#include "services/gateway/gateway_operations.h"
#include "services/gateway/grpc_face.h"
#include "services/gateway/login.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/remote_state.h"
#include "services/gateway/rest_face.h"
#include "services/gateway/sessions.h"
#include "services/gateway/state.h"
#include "services/gateway/state_service.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

void ApplyDefaults(config::v1::GatewayConfig* config) {
  if (config->http_listen_address().empty()) {
    config->set_http_listen_address("127.0.0.1:8080");
  }
  if (config->http_threads() == 0) config->set_http_threads(16);
  if (config->max_request_bytes() == 0) config->set_max_request_bytes(1 << 20);
  if (config->max_upload_bytes() == 0) config->set_max_upload_bytes(1LL << 30);
  if (config->rate_limit_per_second() == 0) config->set_rate_limit_per_second(50);
  if (config->rate_limit_burst() == 0) config->set_rate_limit_burst(100);
  if (config->backend_deadline_ms() == 0) config->set_backend_deadline_ms(5000);
  if (config->state_keys_poll_ms() == 0) config->set_state_keys_poll_ms(2000);
  if (config->state_ended_poll_ms() == 0) config->set_state_ended_poll_ms(1000);
}

absl::Status CheckConfig(const config::v1::GatewayConfig& config) {
  if ((config.tls_certificate_file().empty()) !=
      (config.tls_private_key_file().empty())) {
    return absl::InvalidArgumentError(
        "tls_certificate_file, tls_private_key_file: set both or neither");
  }
  for (const auto& [field, value] :
       {std::pair{"http_threads", int64_t{config.http_threads()}},
        std::pair{"max_request_bytes", int64_t{config.max_request_bytes()}},
        std::pair{"max_upload_bytes", config.max_upload_bytes()},
        std::pair{"rate_limit_per_second",
                  int64_t{config.rate_limit_per_second()}},
        std::pair{"rate_limit_burst", int64_t{config.rate_limit_burst()}},
        std::pair{"backend_deadline_ms", int64_t{config.backend_deadline_ms()}},
        std::pair{"state_keys_poll_ms", int64_t{config.state_keys_poll_ms()}},
        std::pair{"state_ended_poll_ms",
                  int64_t{config.state_ended_poll_ms()}}}) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must not be negative"));
    }
  }
  if (!config.state_target().empty() && config.token_key_file().empty()) {
    return absl::InvalidArgumentError(
        "token_key_file: required with state_target (the state owner's key: "
        "every replica must check the tokens the others sign)");
  }
  return absl::OkStatus();
}

// The gateway's state, and whichever parts hold it: kept in this process's
// store, or reached at the state owner. Members are destroyed in reverse
// order, so the follower stops before the copies it fills.
struct State {
  ApiKeyRegistry* api_keys = nullptr;
  SessionRegistry* sessions = nullptr;
  AuditTrail* audit = nullptr;

  // Kept here.
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ApiKeys> stored_keys;
  std::unique_ptr<Sessions> stored_sessions;
  std::unique_ptr<AuditLog> stored_audit;
  std::unique_ptr<SessionPurger> purger;

  // At the owner.
  std::unique_ptr<StateClient> client;
  std::unique_ptr<RemoteApiKeys> remote_keys;
  std::unique_ptr<RemoteSessions> remote_sessions;
  std::unique_ptr<RemoteAuditLog> remote_audit;
  std::unique_ptr<StateFollower> follower;
};

absl::Status OpenOwnState(const config::v1::GatewayConfig& config,
                          const std::string& data_dir, TokenSigner signer,
                          State* state) {
  std::vector<std::string> tables = Sessions::Tables();
  for (const auto& part : {ApiKeys::Tables(), AuditLog::Tables()}) {
    tables.insert(tables.end(), part.begin(), part.end());
  }
  MB_ASSIGN_OR_RETURN(state->store, store::Store::Open({.path = data_dir + "/store",
                                                        .tables = tables}));
  MB_ASSIGN_OR_RETURN(state->stored_sessions,
                      Sessions::Open(state->store.get(), std::move(signer),
                                     SessionOptionsFromConfig(config)));
  MB_ASSIGN_OR_RETURN(
      state->stored_keys,
      ApiKeys::Open(state->store.get(),
                    {config.api_keys().begin(), config.api_keys().end()}));
  MB_ASSIGN_OR_RETURN(state->stored_audit, AuditLog::Open(state->store.get()));
  state->purger = std::make_unique<SessionPurger>(
      state->stored_sessions.get(),
      absl::Seconds(config.session_purge_seconds() > 0
                        ? config.session_purge_seconds()
                        : 3600));
  state->api_keys = state->stored_keys.get();
  state->sessions = state->stored_sessions.get();
  state->audit = state->stored_audit.get();
  return absl::OkStatus();
}

void ConnectToOwner(const config::v1::GatewayConfig& config,
                    absl::string_view token_key, TokenSigner signer,
                    State* state) {
  state->client = std::make_unique<StateClient>(
      config.state_target(), GatewayStateSecret(token_key),
      absl::Milliseconds(config.backend_deadline_ms()));
  state->remote_keys = std::make_unique<RemoteApiKeys>(state->client.get());
  state->remote_sessions =
      std::make_unique<RemoteSessions>(state->client.get(), std::move(signer));
  state->remote_audit = std::make_unique<RemoteAuditLog>(state->client.get());
  state->follower = std::make_unique<StateFollower>(
      state->remote_keys.get(), state->remote_sessions.get(),
      absl::Milliseconds(config.state_keys_poll_ms()),
      absl::Milliseconds(config.state_ended_poll_ms()));
  state->api_keys = state->remote_keys.get();
  state->sessions = state->remote_sessions.get();
  state->audit = state->remote_audit.get();
}

absl::StatusOr<std::string> ReadFile(const std::string& field,
                                     const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read ", path));
  }
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// The portal next to the binary when it runs from Bazel's outputs.
std::string DefaultPortalDir(const char* argv0) {
  std::string runfiles = absl::StrCat(argv0, ".runfiles/mileagebank/services/gateway/portal");
  struct stat info;
  return stat(runfiles.c_str(), &info) == 0 ? runfiles : "";
}

int Run(int argc, char** argv) {
  config::v1::GatewayConfig config;
  auto host = server::ServiceHost::Create("gateway", argc, argv, &config);
  if (!host.ok()) return server::ExitWithError(host.status());
  ApplyDefaults(&config);
  absl::Status configured = CheckConfig(config);
  if (!configured.ok()) return server::ExitWithError(configured);
  const std::string data_dir = (*host)->server_config().data_dir() + "/gateway";

  const bool front = !config.state_target().empty();
  const std::string key_file = config.token_key_file().empty()
                                   ? data_dir + "/token.key"
                                   : config.token_key_file();
  struct stat key_info;
  if (front && stat(key_file.c_str(), &key_info) != 0) {
    // Made here, it would sign tokens no other replica accepts.
    return server::ExitWithError(absl::InvalidArgumentError(absl::StrCat(
        "token_key_file: ", key_file,
        " does not exist; a front needs the state owner's key")));
  }
  auto key = LoadOrCreateTokenKey(key_file);
  if (!key.ok()) return server::ExitWithError(key.status());
  auto signer = TokenSigner::Create(*key);
  if (!signer.ok()) return server::ExitWithError(signer.status());
  State state;
  if (front) {
    if (config.api_keys_size() > 0) {
      log::Warning("configured_api_keys_ignored",
                   {{"reason", "a front uses the state owner's keys; configure "
                               "them there"}});
    }
    ConnectToOwner(config, *key, *std::move(signer), &state);
  } else {
    absl::Status opened =
        OpenOwnState(config, data_dir, *std::move(signer), &state);
    if (!opened.ok()) return server::ExitWithError(opened);
  }
  RateLimiter limiter(RateLimiterOptionsFromConfig(config));
  auto backends = Backends::Create(config);
  if (!backends.ok()) return server::ExitWithError(backends.status());

  const absl::Duration backend_deadline =
      absl::Milliseconds(config.backend_deadline_ms());
  client::ServiceClient<membership::v1::Membership> membership(
      config.membership_target());
  GrpcMemberDirectory directory(&membership, backend_deadline);
  MemberLogin login(&directory, state.sessions);
  GatewayOperations local(&login, state.sessions, state.api_keys, state.audit);
  Dispatcher dispatcher(
      Dispatcher::Parts{.backends = backends->get(),
                        .sessions = state.sessions,
                        .api_keys = state.api_keys,
                        .audit = state.audit,
                        .limiter = &limiter,
                        .local = &local,
                        .backend_deadline = backend_deadline},
      (*host)->metrics());

  RestOptions rest{.listen_address = config.http_listen_address(),
                   .portal_dir = config.portal_dir().empty()
                                     ? DefaultPortalDir(argv[0])
                                     : config.portal_dir(),
                   .max_request_bytes = config.max_request_bytes(),
                   .threads = config.http_threads()};
  if (!config.tls_certificate_file().empty()) {
    auto certificate =
        ReadFile("tls_certificate_file", config.tls_certificate_file());
    auto private_key =
        ReadFile("tls_private_key_file", config.tls_private_key_file());
    if (!certificate.ok()) return server::ExitWithError(certificate.status());
    if (!private_key.ok()) return server::ExitWithError(private_key.status());
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({*private_key, *certificate});
    (*host)->UseCredentials(grpc::SslServerCredentials(tls));
    rest.tls_certificate_file = config.tls_certificate_file();
    rest.tls_private_key_file = config.tls_private_key_file();
  }
  auto rest_face = RestFace::Start(rest, &dispatcher, (*host)->metrics());
  if (!rest_face.ok()) return server::ExitWithError(rest_face.status());
  (*host)->AddPortFileEntry("http_port", (*rest_face)->port());

  GrpcFace grpc_face(&dispatcher, config.max_upload_bytes());
  std::vector<grpc::Service*> services = grpc_face.services();
  // The owner serves its store to the fronts and backs it up; a front has
  // neither (operators back up the owner: docs/operations.md).
  std::unique_ptr<GatewayStateService> state_service;
  std::unique_ptr<server::AdminService> admin;
  if (!front) {
    state_service = std::make_unique<GatewayStateService>(
        state.stored_keys.get(), state.stored_sessions.get(),
        state.stored_audit.get(), GatewayStateSecret(*key));
    admin = std::make_unique<server::AdminService>(
        "gateway", (*host)->server_config().data_dir(), state.store.get(),
        GatewayAdminGuard(&dispatcher));
    services.push_back(state_service.get());
    services.push_back(admin->grpc_service());
  }
  (*host)->AnswerUnknownMethods(AnswerUnservedMethod);
  absl::Status serving = (*host)->Serve(services);
  if (!serving.ok()) return server::ExitWithError(serving);
  log::Info("gateway ready", {{"http_port", (*rest_face)->port()},
                              {"portal_dir", rest.portal_dir},
                              {"state_target", config.state_target()}});
  (*host)->OnShutdown([&rest_face] { rest_face->reset(); });
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::gateway

int main(int argc, char** argv) { return mileagebank::gateway::Run(argc, argv); }
