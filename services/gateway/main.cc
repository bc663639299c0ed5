// The gateway process: configuration, its own store (sessions, API keys,
// audit trail), the two faces and their wiring.
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
#include "services/gateway/rest_face.h"
#include "services/gateway/sessions.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

void ApplyDefaults(config::v1::GatewayConfig* config) {
  if (config->http_listen_address().empty()) {
    config->set_http_listen_address("127.0.0.1:8080");
  }
  if (config->max_request_bytes() == 0) config->set_max_request_bytes(1 << 20);
  if (config->max_upload_bytes() == 0) config->set_max_upload_bytes(1LL << 30);
  if (config->rate_limit_per_second() == 0) config->set_rate_limit_per_second(50);
  if (config->rate_limit_burst() == 0) config->set_rate_limit_burst(100);
  if (config->backend_deadline_ms() == 0) config->set_backend_deadline_ms(5000);
}

absl::Status CheckConfig(const config::v1::GatewayConfig& config) {
  if ((config.tls_certificate_file().empty()) !=
      (config.tls_private_key_file().empty())) {
    return absl::InvalidArgumentError(
        "tls_certificate_file, tls_private_key_file: set both or neither");
  }
  for (const auto& [field, value] :
       {std::pair{"max_request_bytes", int64_t{config.max_request_bytes()}},
        std::pair{"max_upload_bytes", config.max_upload_bytes()},
        std::pair{"rate_limit_per_second",
                  int64_t{config.rate_limit_per_second()}},
        std::pair{"rate_limit_burst", int64_t{config.rate_limit_burst()}},
        std::pair{"backend_deadline_ms", int64_t{config.backend_deadline_ms()}}}) {
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must not be negative"));
    }
  }
  return absl::OkStatus();
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

  std::vector<std::string> tables = Sessions::Tables();
  for (const auto& part : {ApiKeys::Tables(), AuditLog::Tables()}) {
    tables.insert(tables.end(), part.begin(), part.end());
  }
  auto store = store::Store::Open({.path = data_dir + "/store", .tables = tables});
  if (!store.ok()) return server::ExitWithError(store.status());

  auto key = LoadOrCreateTokenKey(config.token_key_file().empty()
                                      ? data_dir + "/token.key"
                                      : config.token_key_file());
  if (!key.ok()) return server::ExitWithError(key.status());
  auto signer = TokenSigner::Create(*std::move(key));
  if (!signer.ok()) return server::ExitWithError(signer.status());
  auto sessions = Sessions::Open(store->get(), *std::move(signer),
                                 SessionOptionsFromConfig(config));
  if (!sessions.ok()) return server::ExitWithError(sessions.status());
  auto api_keys = ApiKeys::Open(
      store->get(), {config.api_keys().begin(), config.api_keys().end()});
  if (!api_keys.ok()) return server::ExitWithError(api_keys.status());
  auto audit = AuditLog::Open(store->get());
  if (!audit.ok()) return server::ExitWithError(audit.status());
  RateLimiter limiter(RateLimiterOptionsFromConfig(config));
  auto backends = Backends::Create(config);
  if (!backends.ok()) return server::ExitWithError(backends.status());

  const absl::Duration backend_deadline =
      absl::Milliseconds(config.backend_deadline_ms());
  client::ServiceClient<membership::v1::Membership> membership(
      config.membership_target());
  GrpcMemberDirectory directory(&membership, backend_deadline);
  MemberLogin login(&directory, sessions->get());
  GatewayOperations local(&login, sessions->get(), api_keys->get(), audit->get());
  Dispatcher dispatcher(
      Dispatcher::Parts{.backends = backends->get(),
                        .sessions = sessions->get(),
                        .api_keys = api_keys->get(),
                        .audit = audit->get(),
                        .limiter = &limiter,
                        .local = &local,
                        .backend_deadline = backend_deadline},
      (*host)->metrics());

  RestOptions rest{.listen_address = config.http_listen_address(),
                   .portal_dir = config.portal_dir().empty()
                                     ? DefaultPortalDir(argv[0])
                                     : config.portal_dir(),
                   .max_request_bytes = config.max_request_bytes(),
                   .threads = (*host)->server_config().max_threads()};
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
  server::AdminService admin("gateway", (*host)->server_config().data_dir(),
                             store->get(), GatewayAdminGuard(&dispatcher));
  std::vector<grpc::Service*> services = grpc_face.services();
  services.push_back(admin.grpc_service());
  absl::Status serving = (*host)->Serve(services);
  if (!serving.ok()) return server::ExitWithError(serving);
  log::Info("gateway ready", {{"http_port", (*rest_face)->port()},
                              {"portal_dir", rest.portal_dir}});
  (*host)->OnShutdown([&rest_face] { rest_face->reset(); });
  (*host)->RunUntilSignalled();
  return 0;
}

}  // namespace
}  // namespace mileagebank::gateway

int main(int argc, char** argv) { return mileagebank::gateway::Run(argc, argv); }
