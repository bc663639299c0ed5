// WholeSystem: every service of the mileage bank and the gateway as real
// processes, for tests that need all of them (the chaos suite) or some
// (the end-to-end tests, through SystemOptions::services), one way for all.
//
// Membership, accrual and redemption run as `shards` shards each
// (--server.shard_index / --server.shard_count, every *_target flag listing
// a service's shards in shard order); settlement, reporting and the gateway
// once. Each process gets its gRPC port once, at construction, and keeps it
// and the shared data folder across restarts, so a test can SIGKILL any of
// them and start it again where it was.
//
//   SystemOptions options;
//   options.data_dir = testing::FreshTestDir();
//   options.gateway_config = ApiKeyConfig(kKey, {"ADMIN"}, "");
//   WholeSystem system(options);
//   ASSERT_TRUE(system.Start().ok());
//   auto channel = grpc::CreateChannel(system.gateway_address(), ...);
//   system.process(0).Kill();
//   system.process(0).Start();
//
// Thread-compatible.
#ifndef MILEAGEBANK_TESTS_SUPPORT_SYSTEM_H_
#define MILEAGEBANK_TESTS_SUPPORT_SYSTEM_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/support/service_process.h"

namespace mileagebank::testing {

struct SystemOptions {
  // The data folder every process shares (each keeps its store in its own
  // sub-folder). Required.
  std::string data_dir;
  // Shards of membership, accrual and redemption.
  int shards = 1;
  // Flags added to every process of a service, by service name
  // ("membership", ..., "reporting", "gateway").
  std::map<std::string, std::vector<std::string>> flags;
  // The gateway's configuration file's text (its API keys, say).
  std::string gateway_config;
  // When set, each process's output goes to <log_dir>/<process name>.log.
  std::string log_dir;
  // The services Start() starts ("gateway" included); empty means all. The
  // others have their addresses all the same, so a test can start them
  // later (process_of(...).Start()) and everyone finds them there.
  std::set<std::string> services;
};

// Shards of membership, accrual and redemption for a test that runs both
// ways: $MB_TEST_SHARDS, else 1.
int ShardsFromEnvironment();

class WholeSystem {
 public:
  explicit WholeSystem(SystemOptions options);

  // Starts every process that is not running: the services, then the
  // gateway.
  absl::Status Start();

  // The processes: services first (a sharded one as "accrual-0",
  // "accrual-1", ...; unsharded ones by their service's name), the gateway
  // last.
  int process_count() const { return static_cast<int>(processes_.size()); }
  ServiceProcess& process(int index) { return *processes_[index].process; }
  const std::string& process_name(int index) const {
    return processes_[index].name;
  }

  // Shard `shard` of `service` (0 for an unsharded one or the gateway).
  ServiceProcess& process_of(const std::string& service, int shard = 0);
  // SIGKILLs every process (every shard) of `service`.
  void Kill(const std::string& service);

  // Another process of unsharded `service` ("reporting", say), wired to
  // this system's processes as its own would be but on `data_dir` and a
  // free port, with `flags` last; not started. The caller owns it.
  std::unique_ptr<ServiceProcess> NewProcess(
      const std::string& service, const std::string& data_dir,
      const std::vector<std::string>& flags = {}) const;

  // A service's shards' addresses, comma-separated in shard order.
  std::string Targets(const std::string& service) const;
  std::string gateway_address() const;
  int http_port() const { return http_port_; }
  int shards() const { return options_.shards; }

 private:
  struct Named {
    std::string name;
    std::string service;
    std::unique_ptr<ServiceProcess> process;
  };

  // The flags of shard `shard` of `service` besides its data folder and
  // address: whom it calls, the options' flags for it, its shard.
  std::vector<std::string> Flags(const std::string& service, int shard) const;

  SystemOptions options_;
  // Each service's shards' ports, in shard order.
  std::map<std::string, std::vector<int>> ports_;
  int http_port_ = 0;
  std::vector<Named> processes_;
};

// Hex SHA-256 of `text`, as the gateway keeps an API key, computed by the
// system's sha256sum so that tests do not share the gateway's code.
std::string Sha256Hex(const std::string& text);

// A gateway configuration entry (textproto) for API key `key`
// ("mbk_<12 hex key id>_<secret>") with `roles` (gateway.v1.Role names) and
// an office code.
std::string ApiKeyConfig(const std::string& key,
                         const std::vector<std::string>& roles,
                         const std::string& office_code);

}  // namespace mileagebank::testing

#endif  // MILEAGEBANK_TESTS_SUPPORT_SYSTEM_H_
