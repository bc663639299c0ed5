// ServiceHost: the one way a mileage bank service process starts, serves and
// stops.
//
//   int main(int argc, char** argv) {
//     config::v1::MembershipConfig config;
//     auto host = server::ServiceHost::Create("membership", argc, argv, &config);
//     if (!host.ok()) return server::ExitWithError(host.status());
//     ... open the store under (*host)->server_config().data_dir(), build services ...
//     MB_CHECK_OK((*host)->Serve({&membership, &events}));
//     (*host)->RunUntilSignalled();
//   }
//
// Create blocks SIGTERM/SIGINT (before any thread exists, so that only the
// host sees them), loads and validates the configuration (see
// config_loader.h; the service's config message has a `server` field of type
// mileagebank.config.v1.ServerConfig), sets up structured logs and starts the
// Prometheus endpoint. Serve starts the gRPC server with the standard health
// service, server reflection and per-method metrics
// (mileagebank_rpc_requests_total{service,method,code} and
// mileagebank_rpc_duration_seconds{service,method}; method "unknown" for a
// name no contract has), and answers a method it does not serve with a
// status that names it (AnswerUnknownMethods). RunUntilSignalled waits
// for SIGTERM/SIGINT, then shuts down gracefully: health turns NOT_SERVING,
// shutdown hooks run (stop background work, end event streams), and in-flight
// calls get the configured grace before being cancelled. The caller then
// destroys its store, which flushes and closes it.
//
// Thread-safe after Serve.
#ifndef MILEAGEBANK_LIBS_SERVER_SERVICE_HOST_H_
#define MILEAGEBANK_LIBS_SERVER_SERVICE_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "mileagebank/config/v1/server.pb.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace mileagebank::server {

class ServiceHost {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(
      absl::string_view service_name, int argc, const char* const* argv,
      google::protobuf::Message* config);

  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;
  ~ServiceHost();

  // The `server` block, with defaults applied.
  const config::v1::ServerConfig& server_config() const { return config_; }
  // The folder of the store named `service` under data_dir: one per shard
  // when the service is sharded ("accrual-2").
  std::string StorePath(absl::string_view service) const;
  // Where services register their own metrics, once, at start.
  prometheus::Registry& metrics() { return *registry_; }
  int metrics_port() const { return metrics_port_; }

  // Starts serving `services` (owned by the caller, alive until the host is
  // destroyed). Fails when the address cannot be bound.
  absl::Status Serve(const std::vector<grpc::Service*>& services);
  int grpc_port() const { return grpc_port_; }

  // Before Serve: the listener's credentials (TLS, say) instead of plain
  // text.
  void UseCredentials(std::shared_ptr<grpc::ServerCredentials> credentials) {
    credentials_ = std::move(credentials);
  }
  // Before Serve: another listener of the process (the gateway's HTTP port),
  // written to the port file as "<name>=<port>".
  void AddPortFileEntry(std::string name, int port) {
    extra_ports_.emplace_back(std::move(name), port);
  }

  // Before Serve: how a call of a method that none of the served services
  // has is answered, given the method's path
  // ("/mileagebank.membership.v1.Membership/VerifyPassword"). By default
  // UNIMPLEMENTED, naming the method and this service.
  void AnswerUnknownMethods(
      std::function<grpc::Status(const std::string& method)> answer) {
    unknown_method_answer_ = std::move(answer);
  }

  // Runs before in-flight calls are drained, in the order added.
  void OnShutdown(std::function<void()> hook);

  // Blocks until SIGTERM or SIGINT, then shuts down gracefully.
  void RunUntilSignalled();
  // Shuts down gracefully now (idempotent); for tests and RunUntilSignalled.
  void Shutdown();

 private:
  ServiceHost() = default;

  std::string service_name_;
  config::v1::ServerConfig config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int metrics_port_ = 0;
  std::function<grpc::Status(const std::string& method)> unknown_method_answer_;
  std::unique_ptr<grpc::CallbackGenericService> unknown_methods_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::vector<std::pair<std::string, int>> extra_ports_;
  int grpc_port_ = 0;
  std::vector<std::function<void()>> shutdown_hooks_;
  bool shut_down_ = false;
};

// The contract method at `path` ("/package.Service/Method") among the
// protobuf descriptors linked into this program; null when there is none.
const google::protobuf::MethodDescriptor* ContractMethod(
    absl::string_view path);

// Logs `status` as the reason the process cannot start and ends the process
// at once with exit status 2, without running destructors. Typed int so
// that main reads `return ExitWithError(...)`; it never returns.
int ExitWithError(const absl::Status& status);

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_SERVICE_HOST_H_
