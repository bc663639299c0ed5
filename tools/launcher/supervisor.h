// Supervisor: starts the processes of a run (run_layout.h) in order, keeps
// them running, and stops them.
//
//   Supervisor::BlockSignals();  // first thing in main, before any thread
//   Supervisor supervisor(options, PlanProcesses(options));
//   absl::Status started = supervisor.StartAll();
//   if (started.ok()) supervisor.SuperviseUntilSignalled();
//   supervisor.StopAll();
//
// - A process is started with its per-run configuration (written before by
//   the caller at ConfigPath), its output appended to its log, in a process
//   group of its own (a Ctrl-C at a terminal reaches the launcher alone,
//   which stops the processes in order) and with SIGTERM as its
//   parent-death signal (a launcher killed outright leaves nothing behind).
// - It is healthy once it has written its port file and answers the
//   standard grpc.health.v1 Check with SERVING. Each stage (the shards of a
//   service) starts together and must be healthy before the next starts.
// - A process that dies is restarted after a wait that starts at 1 s and
//   doubles with each death in a row (up to max_restart_backoff_seconds; a
//   minute of health ends the row); each death and restart is logged and
//   counted.
// - SIGTERM or SIGINT stops everything in reverse start order: SIGTERM,
//   up to stop_timeout_seconds to exit, then SIGKILL.
// - The status file (StatusPath) always says what runs: a line for the
//   launcher, then one per process, e.g.
//     launcher pid=4100 state=running shards=1
//     membership pid=4101 state=healthy restarts=0 grpc=127.0.0.1:7101 ...
//   (pid=- when the process is not running).
//
// Thread-compatible: used by the main thread only, which must be the one
// that created it (parent-death signals follow the thread that forked).
#ifndef MILEAGEBANK_TOOLS_LAUNCHER_SUPERVISOR_H_
#define MILEAGEBANK_TOOLS_LAUNCHER_SUPERVISOR_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/launcher/launcher_options.pb.h"
#include "tools/launcher/run_layout.h"

namespace mileagebank::launcher {

class Supervisor {
 public:
  Supervisor(LauncherOptions options, std::vector<Process> plan);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Blocks SIGTERM, SIGINT and SIGCHLD (taken by the supervisor when it
  // looks for them) and SIGHUP (a closed terminal stops nothing), for this
  // thread and every thread started after: call first in main.
  static void BlockSignals();

  // Starts every process, stage by stage. On failure (a process exits or
  // is not healthy within start_timeout_seconds, or a stop signal came)
  // the error names the process and its log; what was started is still
  // running: call StopAll.
  absl::Status StartAll();

  // Restarts processes that die, until SIGTERM or SIGINT.
  void SuperviseUntilSignalled();

  // Stops every process in reverse start order; the status file then says
  // `stopped` (or `failed`, after a failed start).
  void StopAll();

 private:
  enum class State { kNotStarted, kStarting, kHealthy, kWaiting, kStopped };

  struct Child {
    Process process;
    pid_t pid = -1;
    State state = State::kNotStarted;
    // Restarts so far.
    int restarts = 0;
    // Deaths since the process was last healthy for a minute.
    int deaths_in_a_row = 0;
    absl::Time healthy_since;
    absl::Time restart_at;
  };

  absl::Status Spawn(Child& child);
  // Waits until each of `children` is healthy; the first failure.
  absl::Status WaitHealthy(const std::vector<Child*>& children);
  // Records that `child` exited with `wait_status` and when to restart it.
  void OnExit(Child& child, int wait_status);
  // Sets when `child` is next started, after its backoff (returned).
  absl::Duration ScheduleRestart(Child& child);
  void Restart(Child& child);
  // Reaps every child that has exited.
  void ReapExited();
  // Waits up to `wait` for SIGTERM or SIGINT; whether one has come (now or
  // ever before).
  bool StopRequested(absl::Duration wait);
  void WriteStatus();

  const LauncherOptions options_;
  std::vector<Child> children_;
  bool stop_requested_ = false;
  // The launcher's line of the status file: starting, running, stopping,
  // stopped, or failed (a start that failed).
  std::string state_ = "starting";
};

}  // namespace mileagebank::launcher

#endif  // MILEAGEBANK_TOOLS_LAUNCHER_SUPERVISOR_H_
