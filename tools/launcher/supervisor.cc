#include "tools/launcher/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/client/client.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"

namespace mileagebank::launcher {
namespace {

// Healthy this long, a process's next death starts a new row of backoffs.
constexpr absl::Duration kStableFor = absl::Minutes(1);
constexpr absl::Duration kPollEvery = absl::Milliseconds(100);

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal ", WTERMSIG(wait_status));
  }
  return "unknown";
}

const char* StateName(int state) {
  static constexpr const char* kNames[] = {"not_started", "starting", "healthy",
                                           "waiting_to_restart", "stopped"};
  return kNames[state];
}

// Whether the process has written its port file: it listens.
bool WrotePortFile(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("grpc_port=", 0) == 0) return true;
  }
  return false;
}

bool AnswersServing(const std::string& address) {
  auto health = grpc::health::v1::Health::NewStub(client::ChannelFor(address));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  grpc::health::v1::HealthCheckResponse response;
  return health->Check(&context, {}, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

Supervisor::Supervisor(LauncherOptions options, std::vector<Process> plan)
    : options_(std::move(options)) {
  for (Process& process : plan) {
    children_.push_back(Child{.process = std::move(process)});
  }
}

void Supervisor::BlockSignals() {
  sigset_t set = StopSignals();
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::Status Supervisor::Spawn(Child& child) {
  const Process& process = child.process;
  const std::string binary = BinaryPath(options_, process);
  const std::string log_path = LogPath(options_, process);
  const std::string port_file = PortFilePath(options_, process);
  std::remove(port_file.c_str());
  // Everything the child needs is made before fork: after it, in a process
  // with gRPC's threads, only async-signal-safe calls are allowed.
  std::string config_flag = "--config=" + ConfigPath(options_, process);
  char* argv[] = {const_cast<char*>(binary.c_str()), config_flag.data(),
                  nullptr};
  const int log_fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return fileio::ErrnoError("cannot open", log_path);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return fileio::ErrnoError("cannot open", "/dev/null");
  }
  sigset_t none;
  sigemptyset(&none);
  struct sigaction by_default {};
  by_default.sa_handler = SIG_DFL;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(1);  // The launcher died meanwhile.
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // Whatever the launcher was started with (nohup, a shell's background
    // job), a service gets the signals' usual meaning.
    for (int signal : {SIGHUP, SIGINT, SIGQUIT, SIGTERM}) {
      ::sigaction(signal, &by_default, nullptr);
    }
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv);
    static constexpr char kFailed[] = "launcher: cannot execute the binary\n";
    [[maybe_unused]] ssize_t written =
        ::write(STDERR_FILENO, kFailed, sizeof(kFailed) - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    errno = fork_errno;
    return fileio::ErrnoError("cannot fork for", binary);
  }
  child.pid = pid;
  child.state = State::kStarting;
  log::Info("process_started", {{"process", process.name},
                                {"pid", static_cast<int64_t>(pid)},
                                {"restarts", child.restarts},
                                {"log", log_path}});
  WriteStatus();
  return absl::OkStatus();
}

absl::Status Supervisor::WaitHealthy(const std::vector<Child*>& children) {
  const absl::Time deadline =
      absl::Now() + absl::Seconds(options_.start_timeout_seconds());
  std::vector<Child*> waiting = children;
  while (!waiting.empty()) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      Child& child = **it;
      int wait_status = 0;
      if (::waitpid(child.pid, &wait_status, WNOHANG) == child.pid) {
        const std::string exit = DescribeExit(wait_status);
        OnExit(child, wait_status);
        return absl::UnavailableError(absl::StrCat(
            child.process.name, " exited (", exit, ") before it served; see ",
            LogPath(options_, child.process)));
      }
      if (WrotePortFile(PortFilePath(options_, child.process)) &&
          AnswersServing(child.process.grpc_address())) {
        child.state = State::kHealthy;
        child.healthy_since = absl::Now();
        log::Info("process_healthy", {{"process", child.process.name},
                                      {"grpc", child.process.grpc_address()}});
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    if (waiting.empty()) break;
    if (StopRequested(kPollEvery)) {
      return absl::CancelledError("stop requested while starting");
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(waiting.front()->process.name,
                       " did not answer its health check within ",
                       options_.start_timeout_seconds(), " s; see ",
                       LogPath(options_, waiting.front()->process)));
    }
  }
  WriteStatus();
  return absl::OkStatus();
}

absl::Status Supervisor::StartAll() {
  std::filesystem::create_directories(options_.data_dir() + "/logs");
  std::filesystem::create_directories(RunDir(options_));
  for (size_t first = 0; first < children_.size();) {
    std::vector<Child*> stage;
    for (size_t i = first;
         i < children_.size() &&
         children_[i].process.stage == children_[first].process.stage;
         ++i) {
      stage.push_back(&children_[i]);
    }
    first += stage.size();
    for (Child* child : stage) {
      absl::Status spawned = Spawn(*child);
      if (!spawned.ok()) {
        state_ = "failed";
        return spawned;
      }
    }
    absl::Status healthy = WaitHealthy(stage);
    if (!healthy.ok()) {
      if (!absl::IsCancelled(healthy)) state_ = "failed";
      return healthy;
    }
  }
  log::Info("all_healthy",
            {{"processes", static_cast<int64_t>(children_.size())}});
  state_ = "running";
  WriteStatus();
  return absl::OkStatus();
}

absl::Duration Supervisor::ScheduleRestart(Child& child) {
  const absl::Time now = absl::Now();
  const bool was_stable =
      child.state == State::kHealthy && now - child.healthy_since >= kStableFor;
  child.deaths_in_a_row = was_stable ? 1 : child.deaths_in_a_row + 1;
  const absl::Duration backoff =
      std::min(absl::Seconds(1) *
                   (int64_t{1} << std::min(child.deaths_in_a_row - 1, 20)),
               absl::Seconds(options_.max_restart_backoff_seconds()));
  child.pid = -1;
  child.state = State::kWaiting;
  child.restart_at = now + backoff;
  return backoff;
}

void Supervisor::OnExit(Child& child, int wait_status) {
  const pid_t pid = child.pid;
  const absl::Duration backoff = ScheduleRestart(child);
  log::Warning("process_exited",
               {{"process", child.process.name},
                {"pid", static_cast<int64_t>(pid)},
                {"how", DescribeExit(wait_status)},
                {"restarts", child.restarts},
                {"restart_in_s", absl::ToDoubleSeconds(backoff)}});
}

void Supervisor::ReapExited() {
  int wait_status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &wait_status, WNOHANG)) > 0) {
    for (Child& child : children_) {
      if (child.pid == pid) OnExit(child, wait_status);
    }
  }
}

void Supervisor::Restart(Child& child) {
  ++child.restarts;
  absl::Status started = Spawn(child);
  if (!started.ok()) {
    log::Error("restart_failed", {{"process", child.process.name},
                                  {"error", started.ToString()}});
    ScheduleRestart(child);
    return;
  }
  started = WaitHealthy({&child});
  if (started.ok()) {
    log::Info("process_restarted",
              {{"process", child.process.name}, {"restarts", child.restarts}});
    return;
  }
  if (absl::IsCancelled(started)) return;
  log::Error("restart_failed",
             {{"process", child.process.name}, {"error", started.ToString()}});
  // One that exited while starting is scheduled already (OnExit); one
  // alive but not serving is started afresh rather than waited on.
  if (child.pid > 0) {
    ::kill(child.pid, SIGKILL);
    int wait_status = 0;
    ::waitpid(child.pid, &wait_status, 0);
    OnExit(child, wait_status);
  }
}

void Supervisor::SuperviseUntilSignalled() {
  const sigset_t stop = StopSignals();
  sigset_t watched = stop;
  sigaddset(&watched, SIGCHLD);
  while (!stop_requested_) {
    ReapExited();
    absl::Time next = absl::Now() + absl::Seconds(1);
    for (Child& child : children_) {
      if (child.state != State::kWaiting) continue;
      if (child.restart_at <= absl::Now()) {
        Restart(child);
        if (stop_requested_) return;
      }
      if (child.state == State::kWaiting)
        next = std::min(next, child.restart_at);
    }
    WriteStatus();
    const timespec wait =
        absl::ToTimespec(std::max(next - absl::Now(), absl::Milliseconds(1)));
    const int signal = ::sigtimedwait(&watched, nullptr, &wait);
    if (signal > 0 && sigismember(&stop, signal)) {
      stop_requested_ = true;
      log::Info("stop_requested", {{"signal", signal}});
    }
  }
}

bool Supervisor::StopRequested(absl::Duration wait) {
  if (stop_requested_) return true;
  const sigset_t stop = StopSignals();
  const timespec timeout = absl::ToTimespec(wait);
  const int signal = ::sigtimedwait(&stop, nullptr, &timeout);
  if (signal > 0) {
    stop_requested_ = true;
    log::Info("stop_requested", {{"signal", signal}});
  }
  return stop_requested_;
}

void Supervisor::StopAll() {
  const bool failed = state_ == "failed";
  state_ = "stopping";
  WriteStatus();
  for (int stage = children_.empty() ? -1 : children_.back().process.stage;
       stage >= 0; --stage) {
    std::vector<Child*> running;
    for (Child& child : children_) {
      if (child.process.stage != stage) continue;
      if (child.pid > 0) {
        ::kill(child.pid, SIGTERM);
        running.push_back(&child);
      } else {
        child.state = State::kStopped;
      }
    }
    const absl::Time deadline =
        absl::Now() + absl::Seconds(options_.stop_timeout_seconds());
    while (!running.empty()) {
      for (auto it = running.begin(); it != running.end();) {
        Child& child = **it;
        int wait_status = 0;
        const bool late = absl::Now() > deadline;
        if (late) {
          ::kill(child.pid, SIGKILL);
          ::waitpid(child.pid, &wait_status, 0);
        }
        if (late || ::waitpid(child.pid, &wait_status, WNOHANG) == child.pid) {
          log::Write(late ? log::Level::kWarning : log::Level::kInfo,
                     late ? "process_killed" : "process_stopped",
                     {{"process", child.process.name},
                      {"how", DescribeExit(wait_status)}});
          child.pid = -1;
          child.state = State::kStopped;
          std::remove(PortFilePath(options_, child.process).c_str());
          it = running.erase(it);
        } else {
          ++it;
        }
      }
      if (!running.empty()) absl::SleepFor(absl::Milliseconds(50));
    }
    WriteStatus();
  }
  state_ = failed ? "failed" : "stopped";
  WriteStatus();
}

void Supervisor::WriteStatus() {
  std::string text =
      absl::StrCat("launcher pid=", ::getpid(), " state=", state_,
                   " shards=", options_.shards(), "\n");
  for (const Child& child : children_) {
    absl::StrAppend(&text, child.process.name,
                    " pid=", child.pid > 0 ? absl::StrCat(child.pid) : "-",
                    " state=", StateName(static_cast<int>(child.state)),
                    " restarts=", child.restarts,
                    " grpc=", child.process.grpc_address(),
                    " metrics=", child.process.metrics_address(), "\n");
  }
  const std::string path = StatusPath(options_);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << text;
  }
  // Renamed into place, so that a reader never sees half of it.
  std::rename(temporary.c_str(), path.c_str());
}

}  // namespace mileagebank::launcher
