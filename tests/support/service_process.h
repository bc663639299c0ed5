// ServiceProcess: runs a real service binary for end-to-end tests.
//
// Starts the binary with a fresh port file and port 0 listeners, waits until
// it serves, and can kill it (SIGKILL, as a crash) or stop it (SIGTERM) and
// start it again on the same data folder.
//
//   ServiceProcess membership(RunfilePath("services/membership/membership"),
//                             {"--server.data_dir=" + dir});
//   ASSERT_TRUE(membership.Start().ok());
//   auto channel = grpc::CreateChannel(membership.address(), ...);
//
// Thread-compatible.
#ifndef MILEAGEBANK_TESTS_SUPPORT_SERVICE_PROCESS_H_
#define MILEAGEBANK_TESTS_SUPPORT_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mileagebank::testing {

// The path of a file of this repository in the test's runfiles.
std::string RunfilePath(const std::string& path);

// A loopback port that was free a moment ago (below the kernel's range of
// ephemeral ports), for processes that must know each other's address
// before either starts. The port stays bound (not
// listening) by this process until ReleasePort, so that no other test
// running at the same time is handed it by the kernel meanwhile (gRPC
// binds with SO_REUSEPORT: two servers on one port would both start and
// share its calls). ServiceProcess::Start releases the ports its arguments
// listen on just before the process starts.
int PickFreePort();
// Lets the port PickFreePort gave be bound by another socket; nothing for a
// port it did not give or already released.
void ReleasePort(int port);

class ServiceProcess {
 public:
  ServiceProcess(std::string binary, std::vector<std::string> args);
  ~ServiceProcess();

  // Starts the process and waits (up to `timeout`) until it serves; a
  // process that ends first is INTERNAL naming its exit status ("exited at
  // start with exit status 2"); one still running is FAILED_PRECONDITION.
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL, then reaps it.
  void Kill();
  // SIGTERM, then waits for it to exit; its exit status.
  int Stop();
  bool running() const { return pid_ > 0; }
  // Whether a started process is still there; one that ended by itself is
  // reaped and no longer running.
  bool Alive();
  // Appends the process's stdout and stderr to `path` from the next Start
  // on, rather than sharing the test's.
  void set_log_file(std::string path) { log_file_ = std::move(path); }
  // Flags put after the constructor's from the next Start on, replacing
  // any set before; a later flag wins over an earlier one (a crash point
  // for one run, another data folder).
  void set_extra_args(std::vector<std::string> args) {
    extra_args_ = std::move(args);
  }

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const;

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::vector<std::string> extra_args_;
  std::string port_file_;
  std::string log_file_;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace mileagebank::testing

#endif  // MILEAGEBANK_TESTS_SUPPORT_SERVICE_PROCESS_H_
