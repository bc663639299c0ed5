// The all-in-one launcher: runs the whole mileage bank on one machine,
// every process under one data folder, and keeps it running until SIGTERM
// or SIGINT (deploy/local/up.sh starts it in the background, down.sh
// signals it). See supervisor.h for what it does and run_layout.h for the
// layout; `launcher --help` lists the settings.
//
//   launcher --data_dir=./data --config_dir=deploy/local
//            --bin_dir=bazel-bin --portal_dir=services/gateway/portal
//
// Exit status: 0 after stopping on a signal, 1 when the system could not
// be started (the log says which process and where its log is), 2 on bad
// settings or a data folder in use by another launcher.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"
#include "libs/server/config_loader.h"
#include "libs/status/status_macros.h"
#include "tools/launcher/launcher_options.pb.h"
#include "tools/launcher/run_layout.h"
#include "tools/launcher/supervisor.h"

namespace mileagebank::launcher {
namespace {

constexpr int kExitNotStarted = 1;
constexpr int kExitBadSetup = 2;

// Holds the data folder's lock for the life of the process (the kernel
// drops it when the process ends, however it ends): one launcher per data
// folder, since two would run two sets of services on one set of stores.
absl::Status LockDataFolder(const LauncherOptions& options) {
  const std::string path = RunDir(options) + "/launcher.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fileio::ErrnoError("cannot open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::ifstream pid_file(RunDir(options) + "/launcher.pid");
    std::string pid = "unknown";
    pid_file >> pid;
    return absl::FailedPreconditionError(absl::StrCat(
        options.data_dir(), " is in use by another launcher (pid ", pid, ")"));
  }
  std::ofstream(RunDir(options) + "/launcher.pid", std::ios::trunc)
      << ::getpid() << "\n";
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return fileio::ErrnoError("cannot read", path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Writes each process's configuration for this run.
absl::Status WriteRunConfigs(const LauncherOptions& options,
                             const std::vector<Process>& plan,
                             const std::string& admin_key) {
  for (const Process& process : plan) {
    MB_ASSIGN_OR_RETURN(std::string base,
                        ReadFile(BaseConfigPath(options, process)));
    MB_ASSIGN_OR_RETURN(std::string config,
                        RunConfig(process, plan, options, base, admin_key));
    const std::string path = ConfigPath(options, process);
    std::ofstream file(path, std::ios::trunc);
    file << config;
    if (!file) return fileio::ErrnoError("cannot write", path);
  }
  return absl::OkStatus();
}

absl::Status Prepare(LauncherOptions* options) {
  MB_RETURN_IF_ERROR(ApplyDefaults(options));
  std::error_code error;
  std::filesystem::create_directories(options->data_dir() + "/logs", error);
  std::filesystem::create_directories(RunDir(*options), error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir=", options->data_dir(), ": ", error.message()));
  }
  MB_RETURN_IF_ERROR(LockDataFolder(*options));
  return CheckShardCount(*options);
}

int Main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the mask.
  Supervisor::BlockSignals();
  log::SetService("launcher");
  LauncherOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help") {
      std::printf("Usage: launcher [settings]\n\nSettings:\n%s",
                  server::DescribeFlags(options.GetDescriptor()).c_str());
      return 0;
    }
  }
  absl::Status ready = server::LoadConfig(argc, argv, &options);
  if (ready.ok()) ready = Prepare(&options);
  const std::vector<Process> plan = PlanProcesses(options);
  if (ready.ok()) {
    absl::StatusOr<std::string> admin_key = EnsureAdminKey(options);
    ready = admin_key.ok() ? WriteRunConfigs(options, plan, *admin_key)
                           : admin_key.status();
  }
  if (!ready.ok()) {
    log::Error("cannot_start", {{"reason", ready.ToString()}});
    return kExitBadSetup;
  }
  log::Info("launching", {{"data_dir", options.data_dir()},
                          {"shards", options.shards()},
                          {"processes", static_cast<int64_t>(plan.size())}});

  Supervisor supervisor(options, plan);
  absl::Status started = supervisor.StartAll();
  if (started.ok()) {
    supervisor.SuperviseUntilSignalled();
  } else if (!absl::IsCancelled(started)) {
    log::Error("cannot_start", {{"reason", started.ToString()}});
  }
  supervisor.StopAll();
  std::remove((RunDir(options) + "/launcher.pid").c_str());
  log::Info("stopped");
  return started.ok() || absl::IsCancelled(started) ? 0 : kExitNotStarted;
}

}  // namespace
}  // namespace mileagebank::launcher

int main(int argc, char** argv) {
  return mileagebank::launcher::Main(argc, argv);
}
