#include "tools/launcher/run_layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "libs/crypto/password.h"
#include "libs/fileio/fileio.h"
#include "libs/server/config_loader.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "mileagebank/config/v1/membership.pb.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/config/v1/settlement.pb.h"

namespace mileagebank::launcher {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

struct Service {
  const char* name;
  int port_offset;
  bool member_keyed;
};

// In start order.
constexpr Service kServices[] = {
    {"membership", 1, true}, {"settlement", 4, false}, {"accrual", 2, true},
    {"redemption", 3, true}, {"reporting", 5, false},  {"gateway", 0, false},
};

constexpr int kShardPortStride = 10;
constexpr int kMaxShards = 16;

std::unique_ptr<Message> NewConfig(absl::string_view service) {
  if (service == "membership") {
    return std::make_unique<config::v1::MembershipConfig>();
  }
  if (service == "accrual")
    return std::make_unique<config::v1::AccrualConfig>();
  if (service == "redemption") {
    return std::make_unique<config::v1::RedemptionConfig>();
  }
  if (service == "settlement") {
    return std::make_unique<config::v1::SettlementConfig>();
  }
  if (service == "reporting") {
    return std::make_unique<config::v1::ReportingConfig>();
  }
  return std::make_unique<config::v1::GatewayConfig>();
}

bool IsService(absl::string_view name) {
  for (const Service& service : kServices) {
    if (name == service.name) return true;
  }
  return false;
}

class ParseErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    absl::StrAppend(&text_, text_.empty() ? "" : "; ", "line ", line + 1,
                    " column ", column + 1, ": ", message);
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// "mbk_" + 12 hex digits + "_" + the secret (services/gateway/api_keys.h).
constexpr size_t kKeyIdAt = 4;
constexpr size_t kKeyIdLength = 12;

bool LooksLikeApiKey(absl::string_view key) {
  return absl::StartsWith(key, "mbk_") &&
         key.size() > kKeyIdAt + kKeyIdLength + 1 &&
         key[kKeyIdAt + kKeyIdLength] == '_';
}

absl::StatusOr<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream file(path);
  if (!file) return fileio::ErrnoError("cannot read", path);
  std::string line;
  std::getline(file, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

// Writes `text` to `path` readable by its owner only, durably, replacing it
// whole.
absl::Status WritePrivateFile(const std::string& path, absl::string_view text) {
  const std::string temporary = path + ".tmp";
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fileio::ErrnoError("cannot create", temporary);
  absl::Status written = fileio::WriteAll(fd, text, temporary);
  if (written.ok() && ::fsync(fd) != 0) {
    written = fileio::ErrnoError("cannot sync", temporary);
  }
  ::close(fd);
  MB_RETURN_IF_ERROR(written);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return fileio::ErrnoError("cannot rename to", path);
  }
  return fileio::SyncFolder(std::filesystem::path(path).parent_path().string());
}

}  // namespace

std::string Process::grpc_address() const {
  return absl::StrCat(host, ":", grpc_port);
}

std::string Process::metrics_address() const {
  return absl::StrCat(host, ":", metrics_port);
}

absl::Status ApplyDefaults(LauncherOptions* options) {
  FieldErrors errors;
  if (options->data_dir().empty()) errors.Add("data_dir", "is required");
  if (options->config_dir().empty()) errors.Add("config_dir", "is required");
  if (options->bin_dir().empty()) errors.Add("bin_dir", "is required");
  if (options->shards() == 0) options->set_shards(1);
  if (options->shards() < 1 || options->shards() > kMaxShards) {
    errors.Add("shards", absl::StrCat("must be 1 to ", kMaxShards));
  }
  if (options->host().empty()) options->set_host("127.0.0.1");
  if (options->grpc_port_base() == 0) options->set_grpc_port_base(7100);
  if (options->metrics_port_base() == 0) options->set_metrics_port_base(9100);
  if (options->http_port() == 0) options->set_http_port(8080);
  // The highest port is that of the last shard of the last service.
  const int span = kShardPortStride * (kMaxShards - 1) + 5;
  if (options->grpc_port_base() < 1 ||
      options->grpc_port_base() + span > 65535) {
    errors.Add("grpc_port_base", absl::StrCat("must be 1 to ", 65535 - span));
  }
  if (options->metrics_port_base() < 1 ||
      options->metrics_port_base() + span > 65535) {
    errors.Add("metrics_port_base",
               absl::StrCat("must be 1 to ", 65535 - span));
  }
  if (options->http_port() < 1 || options->http_port() > 65535) {
    errors.Add("http_port", "must be 1 to 65535");
  }
  if (options->start_timeout_seconds() == 0) {
    options->set_start_timeout_seconds(60);
  }
  if (options->stop_timeout_seconds() == 0)
    options->set_stop_timeout_seconds(30);
  if (options->max_restart_backoff_seconds() == 0) {
    options->set_max_restart_backoff_seconds(30);
  }
  if (options->start_timeout_seconds() < 1) {
    errors.Add("start_timeout_seconds", "must be positive");
  }
  if (options->stop_timeout_seconds() < 1) {
    errors.Add("stop_timeout_seconds", "must be positive");
  }
  if (options->max_restart_backoff_seconds() < 1) {
    errors.Add("max_restart_backoff_seconds", "must be positive");
  }
  if (!options->data_dir().empty()) {
    options->set_data_dir(
        std::filesystem::absolute(options->data_dir()).lexically_normal());
  }
  return errors.ToStatus();
}

std::vector<Process> PlanProcesses(const LauncherOptions& options) {
  std::vector<Process> plan;
  for (int stage = 0; stage < static_cast<int>(std::size(kServices)); ++stage) {
    const Service& service = kServices[stage];
    const int count = service.member_keyed ? options.shards() : 1;
    for (int shard = 0; shard < count; ++shard) {
      Process process;
      process.service = service.name;
      process.name = count == 1 ? std::string(service.name)
                                : absl::StrCat(service.name, "-", shard);
      process.stage = stage;
      process.shard_index = shard;
      process.shard_count = count;
      process.host = options.host();
      const int offset = service.port_offset + kShardPortStride * shard;
      process.grpc_port = options.grpc_port_base() + offset;
      process.metrics_port = options.metrics_port_base() + offset;
      plan.push_back(std::move(process));
    }
  }
  return plan;
}

std::string TargetsOf(absl::string_view service,
                      const std::vector<Process>& plan) {
  std::vector<std::string> addresses;
  for (const Process& process : plan) {
    if (process.service == service) addresses.push_back(process.grpc_address());
  }
  return absl::StrJoin(addresses, ",");
}

std::string RunDir(const LauncherOptions& options) {
  return absl::StrCat(options.data_dir(), "/run");
}

std::string LogPath(const LauncherOptions& options, const Process& process) {
  return absl::StrCat(options.data_dir(), "/logs/", process.name, ".log");
}

std::string PortFilePath(const LauncherOptions& options,
                         const Process& process) {
  return absl::StrCat(RunDir(options), "/", process.name, ".ports");
}

std::string ConfigPath(const LauncherOptions& options, const Process& process) {
  return absl::StrCat(RunDir(options), "/", process.name, ".textproto");
}

std::string BaseConfigPath(const LauncherOptions& options,
                           const Process& process) {
  return absl::StrCat(options.config_dir(), "/", process.service, ".textproto");
}

std::string BinaryPath(const LauncherOptions& options, const Process& process) {
  return absl::StrCat(options.bin_dir(), "/services/", process.service, "/",
                      process.service);
}

std::string StatusPath(const LauncherOptions& options) {
  return absl::StrCat(RunDir(options), "/status");
}

std::string AdminKeyPath(const LauncherOptions& options) {
  return absl::StrCat(options.data_dir(), "/admin.key");
}

absl::StatusOr<std::string> RunConfig(const Process& process,
                                      const std::vector<Process>& plan,
                                      const LauncherOptions& options,
                                      absl::string_view base_text,
                                      absl::string_view admin_key) {
  std::unique_ptr<Message> config = NewConfig(process.service);
  google::protobuf::TextFormat::Parser parser;
  ParseErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(base_text), config.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat(BaseConfigPath(options, process), ": ", errors.text()));
  }
  const std::pair<const char*, std::string> settings[] = {
      {"server.listen_address", process.grpc_address()},
      {"server.metrics_address", process.metrics_address()},
      {"server.data_dir", options.data_dir()},
      {"server.port_file", PortFilePath(options, process)},
      {"server.shard_index", absl::StrCat(process.shard_index)},
      {"server.shard_count", absl::StrCat(process.shard_count)},
  };
  for (const auto& [path, value] : settings) {
    MB_RETURN_IF_ERROR(server::SetField(config.get(), path, value));
  }
  // Every neighbour the service is configured to call, whatever its
  // configuration calls it, is pointed at this run's processes.
  const google::protobuf::Descriptor* descriptor = config->GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    absl::string_view name = field->name();
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING ||
        field->is_repeated() || !absl::ConsumeSuffix(&name, "_target") ||
        !IsService(name)) {
      continue;
    }
    config->GetReflection()->SetString(config.get(), field,
                                       TargetsOf(name, plan));
  }
  if (process.service == "gateway") {
    auto& gateway = static_cast<config::v1::GatewayConfig&>(*config);
    gateway.set_http_listen_address(
        absl::StrCat(options.host(), ":", options.http_port()));
    if (!options.portal_dir().empty()) {
      gateway.set_portal_dir(options.portal_dir());
    }
    if (!LooksLikeApiKey(admin_key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          AdminKeyPath(options), ": must hold a key mbk_<key id>_<secret>"));
    }
    config::v1::ConfiguredApiKey& admin = *gateway.add_api_keys();
    admin.mutable_key()->set_key_id(
        std::string(admin_key.substr(kKeyIdAt, kKeyIdLength)));
    admin.mutable_key()->set_label("installation admin (launcher)");
    admin.mutable_key()->add_roles(gateway::v1::ADMIN);
    crypto::Sha256 sha;
    sha.Update(admin_key);
    admin.set_sha256(sha.HexDigest());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(*config, &text);
  return absl::StrCat("# Written by the launcher for this run from ",
                      BaseConfigPath(options, process),
                      ": change that file, not this one.\n", text);
}

absl::StatusOr<std::string> EnsureAdminKey(const LauncherOptions& options) {
  const std::string path = AdminKeyPath(options);
  if (::access(path.c_str(), F_OK) == 0) {
    MB_ASSIGN_OR_RETURN(std::string key, ReadFirstLine(path));
    if (!LooksLikeApiKey(key)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": must hold a key mbk_<key id>_<secret>"));
    }
    return key;
  }
  // 256 random bits of secret, in the gateway's alphabet.
  const std::string key = absl::StrCat(
      "mbk_", crypto::RandomHex(kKeyIdLength / 2), "_", crypto::RandomHex(32));
  MB_RETURN_IF_ERROR(WritePrivateFile(path, key + "\n"));
  return key;
}

absl::Status CheckShardCount(const LauncherOptions& options) {
  const std::string path = absl::StrCat(options.data_dir(), "/shards");
  if (::access(path.c_str(), F_OK) != 0) {
    // A folder from before the count was kept has unsharded stores.
    const bool unsharded_stores =
        std::filesystem::exists(options.data_dir() + "/membership");
    if (unsharded_stores && options.shards() != 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "shards=", options.shards(), ": ", options.data_dir(),
          " holds a run with 1 shard; its members cannot be spread anew"));
    }
    return WritePrivateFile(path, absl::StrCat(options.shards(), "\n"));
  }
  MB_ASSIGN_OR_RETURN(std::string line, ReadFirstLine(path));
  int kept = 0;
  if (!absl::SimpleAtoi(line, &kept) || kept < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": must hold the shard count"));
  }
  if (kept != options.shards()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "shards=", options.shards(), ": ", options.data_dir(),
        " holds a run with ", kept, " shard", kept == 1 ? "" : "s",
        "; its members cannot be spread anew (use another data folder)"));
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::launcher
