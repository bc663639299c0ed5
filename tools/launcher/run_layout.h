// The layout of a local run of the mileage bank: which processes, in which
// order, on which ports, with which files, and each one's configuration.
//
// Start order: membership, settlement, accrual, redemption, reporting,
// gateway (each serves before the next starts: accrual asks settlement for
// partners, reporting follows the four event streams, the gateway fronts
// them all). The member-keyed services run as `shards` processes each,
// shard k on the service's ports plus 10 k; every `<service>_target`
// setting of every configuration lists that service's processes in shard
// order, comma-separated (libs/client/shards.h).
//
//   LauncherOptions options = ...;
//   MB_RETURN_IF_ERROR(ApplyDefaults(&options));
//   std::vector<Process> plan = PlanProcesses(options);
//   absl::StatusOr<std::string> config =
//       RunConfig(plan[0], plan, options, base_text, admin_key);
//
// Thread-safe: pure functions, except the ones that touch the data folder.
#ifndef MILEAGEBANK_TOOLS_LAUNCHER_RUN_LAYOUT_H_
#define MILEAGEBANK_TOOLS_LAUNCHER_RUN_LAYOUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/launcher/launcher_options.pb.h"

namespace mileagebank::launcher {

// One process of the run.
struct Process {
  // "membership", or "membership-2" for shard 2 when there are several:
  // names its log, port file and configuration.
  std::string name;
  std::string service;
  // Its place in the start order; the shards of a service share one.
  int stage = 0;
  int shard_index = 0;
  // 1 for the services that are not member-keyed.
  int shard_count = 1;
  std::string host;
  int grpc_port = 0;
  int metrics_port = 0;

  std::string grpc_address() const;
  std::string metrics_address() const;
};

// Fills in the defaults (see launcher_options.proto); INVALID_ARGUMENT
// naming the flag for a missing or out-of-range setting.
absl::Status ApplyDefaults(LauncherOptions* options);

// Every process of the run, in start order.
std::vector<Process> PlanProcesses(const LauncherOptions& options);

// The gRPC addresses of `service`'s processes, in shard order, joined by
// commas: the value of a `<service>_target` setting.
std::string TargetsOf(absl::string_view service,
                      const std::vector<Process>& plan);

// Files of the run under the data folder.
std::string RunDir(const LauncherOptions& options);
std::string LogPath(const LauncherOptions& options, const Process& process);
std::string PortFilePath(const LauncherOptions& options,
                         const Process& process);
std::string ConfigPath(const LauncherOptions& options, const Process& process);
std::string BaseConfigPath(const LauncherOptions& options,
                           const Process& process);
std::string BinaryPath(const LauncherOptions& options, const Process& process);
// What the launcher reports: one line for itself, then one per process.
std::string StatusPath(const LauncherOptions& options);
std::string AdminKeyPath(const LauncherOptions& options);

// The configuration `process` runs with, as a textproto: `base_text` (its
// service's file in config_dir) with the run's addresses, data folder, port
// file and shard, every `<service>_target` set from the plan, and for the
// gateway its HTTP address, portal folder and the installation's ADMIN key
// `admin_key` (its hash only). INVALID_ARGUMENT when `base_text` does not
// parse as the service's configuration.
absl::StatusOr<std::string> RunConfig(const Process& process,
                                      const std::vector<Process>& plan,
                                      const LauncherOptions& options,
                                      absl::string_view base_text,
                                      absl::string_view admin_key);

// The installation's ADMIN key ("mbk_<key id>_<secret>") from the data
// folder's admin.key, made (readable by its owner only) when missing.
absl::StatusOr<std::string> EnsureAdminKey(const LauncherOptions& options);

// A data folder's members are spread over its shards by their count, so it
// keeps the count of its first run (in <data_dir>/shards): FAILED_PRECONDITION
// when `options.shards` differs from it.
absl::Status CheckShardCount(const LauncherOptions& options);

}  // namespace mileagebank::launcher

#endif  // MILEAGEBANK_TOOLS_LAUNCHER_RUN_LAYOUT_H_
