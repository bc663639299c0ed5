#include "tests/support/service_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace mileagebank::testing {

std::string RunfilePath(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  return absl::StrCat(root == nullptr ? "." : root, "/mileagebank/", path);
}

namespace {

absl::Mutex port_mutex(absl::kConstInit);
// Ports given out: the socket holding each, -1 once released.
absl::flat_hash_map<int, int>& GivenPorts() {
  static auto* given = new absl::flat_hash_map<int, int>();
  return *given;
}

}  // namespace

int PickFreePort() {
  // Drawn below the kernel's ephemeral range: bind(0) and outgoing
  // connections of tests running at the same time take ports from that
  // range, and one could take a port between its release and the service
  // binding it. Below it only another PickFreePort could, by picking the
  // same port of thousands in that moment.
  static const int ephemeral_low = [] {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    return range >> low ? low : 0;
  }();
  constexpr int kLowestPort = 10'000;
  const bool below = ephemeral_low > kLowestPort + 1'000;
  static absl::Mutex random_mutex(absl::kConstInit);
  static std::mt19937* random = new std::mt19937(std::random_device{}());
  for (;;) {
    int candidate = 0;
    if (below) {
      absl::MutexLock lock(&random_mutex);
      candidate = std::uniform_int_distribution<int>(
          kLowestPort, ephemeral_low - 1)(*random);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(candidate));
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      close(fd);  // Taken (or lingering): another one.
      continue;
    }
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const int port = ntohs(address.sin_port);
    absl::MutexLock lock(&port_mutex);
    // A port released and handed out again would be given to two
    // services of this test.
    if (GivenPorts().emplace(port, fd).second) return port;
    close(fd);
  }
}

void ReleasePort(int port) {
  absl::MutexLock lock(&port_mutex);
  auto it = GivenPorts().find(port);
  if (it == GivenPorts().end() || it->second < 0) return;
  close(it->second);
  it->second = -1;
}

ServiceProcess::ServiceProcess(std::string binary, std::vector<std::string> args)
    : binary_(std::move(binary)), args_(std::move(args)) {
  static std::atomic<int> count{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  port_file_ = absl::StrCat(tmp == nullptr ? "/tmp" : tmp, "/ports-", getpid(),
                            "-", count++);
}

ServiceProcess::~ServiceProcess() {
  if (running()) Kill();
}

std::string ServiceProcess::address() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

absl::Status ServiceProcess::Start(absl::Duration timeout) {
  // A second copy would fail on the store's lock while the port of the first
  // made it look served.
  if (Alive()) {
    return absl::FailedPreconditionError(
        absl::StrCat(binary_, " is already running"));
  }
  std::remove(port_file_.c_str());
  std::vector<std::string> argv = {binary_};
  argv.insert(argv.end(), args_.begin(), args_.end());
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  argv.push_back("--server.port_file=" + port_file_);
  // The ports it listens on (flags "--...listen_address=host:port"), held
  // since PickFreePort, are its now.
  for (const std::string& arg : argv) {
    const size_t equals = arg.find('=');
    const size_t colon = arg.rfind(':');
    int port = 0;
    if (equals != std::string::npos && colon != std::string::npos &&
        colon > equals &&
        absl::StrContains(arg.substr(0, equals), "listen_address") &&
        absl::SimpleAtoi(arg.substr(colon + 1), &port)) {
      ReleasePort(port);
    }
  }
  // Everything the child needs is made before fork: in a test with other
  // threads, only async-signal-safe calls are safe between fork and exec.
  std::vector<char*> raw;
  for (std::string& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  const char* log = log_file_.empty() ? nullptr : log_file_.c_str();
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    if (log != nullptr) {
      int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
    }
    execv(raw[0], raw.data());
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat(
          binary_, " exited at start with ",
          WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status))
                            : absl::StrCat("signal ", WTERMSIG(status))));
    }
    std::ifstream file(port_file_);
    std::string line;
    while (std::getline(file, line)) {
      std::vector<std::string> parts = absl::StrSplit(line, '=');
      if (parts.size() != 2) continue;
      if (parts[0] == "grpc_port") (void)absl::SimpleAtoi(parts[1], &grpc_port_);
      if (parts[0] == "metrics_port") {
        (void)absl::SimpleAtoi(parts[1], &metrics_port_);
      }
    }
    if (grpc_port_ > 0) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  Kill();
  return absl::DeadlineExceededError(absl::StrCat(binary_, " did not serve"));
}

bool ServiceProcess::Alive() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, nullptr, WNOHANG) != pid_) return true;
  pid_ = -1;
  grpc_port_ = 0;
  return false;
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  grpc_port_ = 0;
}

int ServiceProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  grpc_port_ = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace mileagebank::testing
