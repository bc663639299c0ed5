#include "libs/server/service_host.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/log/log.h"
#include "libs/server/config_loader.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"

namespace mileagebank::server {
namespace {

constexpr char kDefaultAddress[] = "127.0.0.1:0";
constexpr int kDefaultGraceSeconds = 10;
constexpr int kDefaultMaxMessageBytes = 4 << 20;
constexpr int kDefaultMaxThreads = 128;

sigset_t ShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

absl::Status ApplyDefaultsAndValidate(config::v1::ServerConfig* config) {
  if (config->listen_address().empty()) {
    config->set_listen_address(kDefaultAddress);
  }
  if (config->metrics_address().empty()) {
    config->set_metrics_address(kDefaultAddress);
  }
  if (config->shutdown_grace_seconds() == 0) {
    config->set_shutdown_grace_seconds(kDefaultGraceSeconds);
  }
  if (config->max_message_bytes() == 0) {
    config->set_max_message_bytes(kDefaultMaxMessageBytes);
  }
  if (config->max_threads() == 0) config->set_max_threads(kDefaultMaxThreads);
  if (config->log_level().empty()) config->set_log_level("info");

  if (config->data_dir().empty()) {
    return absl::InvalidArgumentError(
        "server.data_dir: required (the folder of the service's store)");
  }
  if (config->shard_count() == 0) config->set_shard_count(1);
  if (config->shard_count() < 1 || config->shard_count() > 1024) {
    return absl::InvalidArgumentError("server.shard_count: must be 1-1024");
  }
  if (config->shard_index() < 0 ||
      config->shard_index() >= config->shard_count()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server.shard_index: must be 0 to server.shard_count - 1 (",
        config->shard_count() - 1, ")"));
  }
  for (const auto& [name, address] :
       {std::pair<const char*, const std::string&>{"server.listen_address",
                                                   config->listen_address()},
        {"server.metrics_address", config->metrics_address()}}) {
    size_t colon = address.rfind(':');
    int port = -1;
    if (colon == std::string::npos || colon == 0 ||
        !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, "=", address, ": must be host:port with port 0-65535"));
    }
  }
  if (config->shutdown_grace_seconds() < 0 ||
      config->shutdown_grace_seconds() > 300) {
    return absl::InvalidArgumentError(
        "server.shutdown_grace_seconds: must be 1-300");
  }
  if (config->max_message_bytes() < 0 ||
      config->max_message_bytes() > (1 << 30)) {
    return absl::InvalidArgumentError(
        "server.max_message_bytes: must be 1 to 1073741824");
  }
  if (config->max_threads() < 2 || config->max_threads() > 4096) {
    return absl::InvalidArgumentError("server.max_threads: must be 2-4096");
  }
  log::Level level;
  if (!log::ParseLevel(config->log_level(), &level)) {
    return absl::InvalidArgumentError(
        "server.log_level: must be debug, info, warning or error");
  }
  return absl::OkStatus();
}

// Metric families, created once per process.
struct RpcMetrics {
  explicit RpcMetrics(prometheus::Registry& registry)
      : requests(prometheus::BuildCounter()
                     .Name("mileagebank_rpc_requests_total")
                     .Help("gRPC calls finished, by method and status code")
                     .Register(registry)),
        duration(prometheus::BuildHistogram()
                     .Name("mileagebank_rpc_duration_seconds")
                     .Help("gRPC call latency, from arrival to status")
                     .Register(registry)) {}
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
};

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
  return *buckets;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS",   "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",       "OUT_OF_RANGE",
      "UNIMPLEMENTED",    "INTERNAL",          "UNAVAILABLE",
      "DATA_LOSS",        "UNAUTHENTICATED"};
  int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : "UNKNOWN";
}

// Counts and times every call, whatever the service and API style.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(const std::string& service, std::string method,
                     RpcMetrics* metrics)
      : service_(service),
        method_(std::move(method)),
        metrics_(metrics),
        start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      metrics_->requests
          .Add({{"service", service_},
                {"method", method_},
                {"code", CodeName(status.error_code())}})
          .Increment();
      metrics_->duration
          .Add({{"service", service_}, {"method", method_}}, LatencyBuckets())
          .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string& service_;
  std::string method_;
  RpcMetrics* metrics_;
  absl::Time start_;
};

// A method's path ("/package.Service/Method") as the metrics label it is
// counted under: "unknown" for one no contract of this program has, so that
// made-up names cannot add series without end. gRPC's own health service
// is served without descriptors in the program.
std::string MethodLabel(absl::string_view path) {
  if (ContractMethod(path) != nullptr ||
      path == "/grpc.health.v1.Health/Check" ||
      path == "/grpc.health.v1.Health/Watch") {
    return std::string(path);
  }
  return "unknown";
}

// Answers a call of a method no served service has at once, without reading
// its messages.
class UnknownMethods : public grpc::CallbackGenericService {
 public:
  explicit UnknownMethods(
      std::function<grpc::Status(const std::string& method)> answer)
      : answer_(std::move(answer)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    class Answer : public grpc::ServerGenericBidiReactor {
     public:
      explicit Answer(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Answer(answer_(context->method()));
  }

 private:
  const std::function<grpc::Status(const std::string& method)> answer_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(std::string service, prometheus::Registry& registry)
      : service_(std::move(service)), metrics_(registry) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(service_, MethodLabel(info->method()),
                                  &metrics_);
  }

 private:
  std::string service_;
  RpcMetrics metrics_;
};

}  // namespace

const google::protobuf::MethodDescriptor* ContractMethod(
    absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/")) return nullptr;
  const size_t slash = path.find('/');
  if (slash == absl::string_view::npos) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat(path.substr(0, slash), ".", path.substr(slash + 1)));
}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(
    absl::string_view service_name, int argc, const char* const* argv,
    google::protobuf::Message* config) {
  // Before any thread starts, so that every thread inherits the mask and the
  // signals wait for RunUntilSignalled.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian's Abseil checks every mutex acquisition for lock-order cycles,
  // which costs more than the locking; tests keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  log::SetService(service_name);
  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--help") {
      std::fprintf(stdout, "Usage: %s [settings]\n\nSettings:\n%s",
                   std::string(service_name).c_str(),
                   DescribeFlags(config->GetDescriptor()).c_str());
      std::exit(0);
    }
  }
  absl::Status loaded = LoadConfig(argc, argv, config);
  if (!loaded.ok()) return loaded;

  const google::protobuf::FieldDescriptor* server_field =
      config->GetDescriptor()->FindFieldByName("server");
  if (server_field == nullptr ||
      server_field->message_type() !=
          config::v1::ServerConfig::descriptor()) {
    return absl::InternalError(absl::StrCat(
        config->GetDescriptor()->full_name(),
        " has no field `server` of type mileagebank.config.v1.ServerConfig"));
  }
  auto* server_config = static_cast<config::v1::ServerConfig*>(
      config->GetReflection()->MutableMessage(config, server_field));
  absl::Status valid = ApplyDefaultsAndValidate(server_config);
  if (!valid.ok()) return valid;
  log::Level level;
  log::ParseLevel(server_config->log_level(), &level);
  log::SetMinLevel(level);

  auto host = std::unique_ptr<ServiceHost>(new ServiceHost());
  host->service_name_ = std::string(service_name);
  host->config_ = *server_config;
  host->registry_ = std::make_shared<prometheus::Registry>();
  try {
    host->exposer_ =
        std::make_unique<prometheus::Exposer>(server_config->metrics_address());
  } catch (const std::exception& error) {
    // civetweb reports a busy port by throwing; this is the one place the
    // project meets an exception, and it becomes a status here.
    return absl::UnavailableError(
        absl::StrCat("server.metrics_address=", server_config->metrics_address(),
                     ": cannot listen (", error.what(), ")"));
  }
  host->exposer_->RegisterCollectable(host->registry_);
  std::vector<int> ports = host->exposer_->GetListeningPorts();
  host->metrics_port_ = ports.empty() ? 0 : ports.front();
  return host;
}

ServiceHost::~ServiceHost() { Shutdown(); }

std::string ServiceHost::StorePath(absl::string_view service) const {
  if (config_.shard_count() <= 1) return absl::StrCat(config_.data_dir(), "/", service);
  return absl::StrCat(config_.data_dir(), "/", service, "-", config_.shard_index());
}

absl::Status ServiceHost::Serve(const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      config_.listen_address(),
      credentials_ != nullptr ? credentials_ : grpc::InsecureServerCredentials(),
      &grpc_port_);
  builder.SetMaxReceiveMessageSize(config_.max_message_bytes());
  // Calls block on fsync, so many run at once. gRPC keeps at most
  // MAX_POLLERS idle threads and starts a new one per call beyond that;
  // keeping enough threads alive avoids creating and destroying a thread
  // (with its stack's page faults and TLB flushes) for every call.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              std::min(8, config_.max_threads()));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              config_.max_threads());
  grpc::ResourceQuota quota(service_name_);
  quota.SetMaxThreads(config_.max_threads());
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::function<grpc::Status(const std::string&)> answer =
      unknown_method_answer_;
  if (answer == nullptr) {
    answer = [service = service_name_](const std::string& method) {
      return grpc::Status(
          grpc::StatusCode::UNIMPLEMENTED,
          absl::StrCat(method, ": no such method in ", service));
    };
  }
  unknown_methods_ = std::make_unique<UnknownMethods>(std::move(answer));
  builder.RegisterCallbackGenericService(unknown_methods_.get());
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<MetricsInterceptorFactory>(service_name_, *registry_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "server.listen_address=", config_.listen_address(), ": cannot listen"));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  if (!config_.port_file().empty()) {
    std::string temporary = config_.port_file() + ".tmp";
    {
      std::ofstream file(temporary, std::ios::trunc);
      file << "grpc_port=" << grpc_port_ << "\nmetrics_port=" << metrics_port_
           << "\n";
      for (const auto& [name, port] : extra_ports_) {
        file << name << "=" << port << "\n";
      }
      if (!file) {
        return absl::UnavailableError(absl::StrCat(
            "server.port_file=", config_.port_file(), ": cannot be written"));
      }
    }
    // Renamed into place so that a reader never sees half a file.
    if (std::rename(temporary.c_str(), config_.port_file().c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "server.port_file=", config_.port_file(), ": cannot be written"));
    }
  }
  log::Info("serving", {{"grpc_port", grpc_port_},
                        {"metrics_port", metrics_port_},
                        {"data_dir", config_.data_dir()},
                        {"shard", absl::StrCat(config_.shard_index(), "/",
                                               config_.shard_count())}});
  return absl::OkStatus();
}

void ServiceHost::OnShutdown(std::function<void()> hook) {
  shutdown_hooks_.push_back(std::move(hook));
}

void ServiceHost::RunUntilSignalled() {
  sigset_t signals = ShutdownSignals();
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log::Info("shutdown_requested", {{"signal", signal_number}});
  Shutdown();
}

void ServiceHost::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  for (const auto& hook : shutdown_hooks_) hook();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(
        absl::Now() + absl::Seconds(config_.shutdown_grace_seconds())));
    server_->Wait();
  }
  log::Info("stopped");
}

int ExitWithError(const absl::Status& status) {
  log::Error("cannot_start", {{"reason", status.ToString()}});
  // Threads started before the failure (an event follower, the store's
  // writer) still run: returning from main would destroy what they use
  // under them (seen as a SIGSEGV instead of this status when a port was
  // taken). The log line is already written (one write(2)).
  std::_Exit(2);
}

}  // namespace mileagebank::server
