#include "tests/support/system.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mileagebank::testing {
namespace {

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

bool Sharded(const std::string& service) {
  return service == "membership" || service == "accrual" ||
         service == "redemption";
}

// Whom each process calls or follows.
const std::map<std::string, std::vector<std::string>>& Neighbours() {
  static const auto* neighbours =
      new std::map<std::string, std::vector<std::string>>{
          {"membership", {"accrual"}},
          {"accrual", {"membership", "settlement"}},
          {"redemption", {"membership", "accrual", "settlement"}},
          {"settlement", {"membership", "accrual", "redemption"}},
          {"reporting", {"membership", "accrual", "redemption", "settlement"}},
          {"gateway",
           {"membership", "accrual", "redemption", "settlement", "reporting"}},
      };
  return *neighbours;
}

}  // namespace

WholeSystem::WholeSystem(SystemOptions options) : options_(std::move(options)) {
  const std::vector<std::string> services = {"membership", "accrual", "redemption",
                                             "settlement", "reporting"};
  for (const std::string& service : services) {
    const int count = Sharded(service) ? options_.shards : 1;
    for (int shard = 0; shard < count; ++shard) {
      ports_[service].push_back(PickFreePort());
    }
  }
  ports_["gateway"].push_back(PickFreePort());
  http_port_ = PickFreePort();

  auto add = [&](const std::string& service, int shard,
                 std::vector<std::string> flags) {
    flags.push_back("--server.data_dir=" + options_.data_dir);
    flags.push_back("--server.listen_address=" + Address(ports_[service][shard]));
    for (std::string& flag : Flags(service, shard))
      flags.push_back(std::move(flag));
    std::string name = service;
    if (Sharded(service) && options_.shards > 1)
      absl::StrAppend(&name, "-", shard);
    auto process = std::make_unique<ServiceProcess>(
        RunfilePath("services/" + service + "/" + service), flags);
    if (!options_.log_dir.empty()) {
      process->set_log_file(options_.log_dir + "/" + name + ".log");
    }
    processes_.push_back({name, service, std::move(process)});
  };
  for (const std::string& service : services) {
    for (int shard = 0; shard < static_cast<int>(ports_[service].size()); ++shard) {
      add(service, shard, {});
    }
  }
  const std::string config = options_.data_dir + "/gateway.textproto";
  add("gateway", 0,
      {"--config=" + config, "--http_listen_address=" + Address(http_port_)});
}

std::vector<std::string> WholeSystem::Flags(const std::string& service,
                                            int shard) const {
  std::vector<std::string> flags;
  for (const std::string& neighbour : Neighbours().at(service)) {
    flags.push_back("--" + neighbour + "_target=" + Targets(neighbour));
  }
  auto extra = options_.flags.find(service);
  if (extra != options_.flags.end()) {
    flags.insert(flags.end(), extra->second.begin(), extra->second.end());
  }
  if (Sharded(service) && options_.shards > 1) {
    flags.push_back(absl::StrCat("--server.shard_index=", shard));
    flags.push_back(absl::StrCat("--server.shard_count=", options_.shards));
  }
  return flags;
}

absl::Status WholeSystem::Start() {
  std::filesystem::create_directories(options_.data_dir);
  const std::string config = options_.data_dir + "/gateway.textproto";
  if (!(std::ofstream(config) << options_.gateway_config)) {
    return absl::InternalError("cannot write " + config);
  }
  for (Named& named : processes_) {
    if (named.process->running()) continue;
    if (!options_.services.empty() &&
        options_.services.count(named.service) == 0) {
      continue;
    }
    absl::Status started = named.process->Start();
    if (!started.ok()) {
      return absl::Status(started.code(),
                          absl::StrCat(named.name, ": ", started.message()));
    }
  }
  return absl::OkStatus();
}

ServiceProcess& WholeSystem::process_of(const std::string& service, int shard) {
  int seen = 0;
  for (Named& named : processes_) {
    if (named.service == service && seen++ == shard) return *named.process;
  }
  std::fprintf(stderr, "WholeSystem: no shard %d of %s\n", shard,
               service.c_str());
  std::abort();
}

void WholeSystem::Kill(const std::string& service) {
  for (Named& named : processes_) {
    if (named.service == service) named.process->Kill();
  }
}

std::unique_ptr<ServiceProcess> WholeSystem::NewProcess(
    const std::string& service, const std::string& data_dir,
    const std::vector<std::string>& flags) const {
  std::vector<std::string> args = {"--server.data_dir=" + data_dir,
                                   "--server.listen_address=127.0.0.1:0"};
  for (std::string& flag : Flags(service, 0)) args.push_back(std::move(flag));
  args.insert(args.end(), flags.begin(), flags.end());
  return std::make_unique<ServiceProcess>(
      RunfilePath("services/" + service + "/" + service), args);
}

std::string WholeSystem::Targets(const std::string& service) const {
  std::vector<std::string> addresses;
  for (int port : ports_.at(service)) addresses.push_back(Address(port));
  return absl::StrJoin(addresses, ",");
}

std::string WholeSystem::gateway_address() const {
  return Address(ports_.at("gateway").front());
}

int ShardsFromEnvironment() {
  const char* shards = std::getenv("MB_TEST_SHARDS");
  return shards == nullptr ? 1 : std::max(1, std::atoi(shards));
}

std::string Sha256Hex(const std::string& text) {
  FILE* pipe = popen(("printf %s '" + text + "' | sha256sum").c_str(), "r");
  char digest[65] = {};
  if (pipe == nullptr) return "";
  if (fread(digest, 1, 64, pipe) != 64) digest[0] = '\0';
  pclose(pipe);
  return digest;
}

std::string ApiKeyConfig(const std::string& key,
                         const std::vector<std::string>& roles,
                         const std::string& office_code) {
  // "mbk_<key id>_<secret>"
  const std::string key_id = key.substr(4, 12);
  std::string entry = absl::StrCat("api_keys { key { key_id: \"", key_id,
                                   "\" label: \"test\"");
  for (const std::string& role : roles) absl::StrAppend(&entry, " roles: ", role);
  if (!office_code.empty()) {
    absl::StrAppend(&entry, " office_code: \"", office_code, "\"");
  }
  absl::StrAppend(&entry, " } sha256: \"", Sha256Hex(key), "\" }\n");
  return entry;
}

}  // namespace mileagebank::testing
