// The all-in-one launcher (tools/launcher) with the real service binaries
// on a fresh data folder: it starts everything healthy, restarts a service
// killed outright, serves the demo loader (tools/demo) through the gateway,
// and on SIGTERM stops everything, leaving no process behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"

namespace mileagebank {
namespace {

using testing::Eventually;
using testing::RunfilePath;

// One line of the launcher's status file.
struct ProcessStatus {
  pid_t pid = -1;
  std::string state;
  int restarts = 0;
  std::string grpc;
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::map<std::string, ProcessStatus> ReadStatus(const std::string& data_dir) {
  std::map<std::string, ProcessStatus> status;
  for (absl::string_view line : absl::StrSplit(
           ReadFile(data_dir + "/run/status"), '\n', absl::SkipEmpty())) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    ProcessStatus& process = status[words[0]];
    for (size_t i = 1; i < words.size(); ++i) {
      std::vector<std::string> pair = absl::StrSplit(words[i], '=');
      if (pair.size() != 2) continue;
      if (pair[0] == "pid" && !absl::SimpleAtoi(pair[1], &process.pid)) {
        process.pid = -1;
      }
      if (pair[0] == "state") process.state = pair[1];
      if (pair[0] == "restarts")
        (void)absl::SimpleAtoi(pair[1], &process.restarts);
      if (pair[0] == "grpc") process.grpc = pair[1];
    }
  }
  return status;
}

bool PortIsFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool bound =
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

// A base port whose layout (gRPC base + 0..29, metrics base + 50..79, HTTP
// base + 99) is free: the launcher's processes must know each other's fixed
// addresses before they start.
int PickPortBase() {
  std::mt19937 rng(static_cast<unsigned>(getpid()) ^
                   static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  for (;;) {
    const int base =
        20000 + 100 * std::uniform_int_distribution<int>(0, 399)(rng);
    bool free = PortIsFree(base + 99);
    for (int offset = 0; free && offset < 30; ++offset) {
      free = PortIsFree(base + offset) && PortIsFree(base + 50 + offset);
    }
    if (free) return base;
  }
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& arg : args)
      argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    freopen(log.c_str(), "a", stdout);
    freopen(log.c_str(), "a", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The exit code of `pid`, or -1 when it has not exited within `timeout`.
int WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return -1;
}

bool Serving(const std::string& address) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::health::v1::HealthCheckResponse response;
  return health->Check(&context, {}, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

bool Alive(pid_t pid) {
  return pid > 1 && (kill(pid, 0) == 0 || errno != ESRCH);
}

class LauncherE2eTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshTestDir();
    std::filesystem::create_directories(data_dir_ + "/logs");
    base_ = PickPortBase();
    launcher_ = Spawn(
        {RunfilePath("tools/launcher/launcher"), "--data_dir=" + data_dir_,
         "--config_dir=" + RunfilePath("deploy/local"),
         "--bin_dir=" + RunfilePath(""), absl::StrCat("--shards=", GetParam()),
         absl::StrCat("--grpc_port_base=", base_),
         absl::StrCat("--metrics_port_base=", base_ + 50),
         absl::StrCat("--http_port=", base_ + 99)},
        launcher_log());
    ASSERT_GT(launcher_, 1);
  }

  void TearDown() override {
    // A failed test leaves nothing running either.
    if (launcher_ > 1 && WaitForExit(launcher_, absl::ZeroDuration()) == -1) {
      kill(launcher_, SIGKILL);
      waitpid(launcher_, nullptr, 0);
    }
  }

  // Where deploy/local/up.sh writes it too.
  std::string launcher_log() const { return data_dir_ + "/logs/launcher.log"; }
  std::string gateway() const { return absl::StrCat("127.0.0.1:", base_); }

  std::string data_dir_;
  int base_ = 0;
  pid_t launcher_ = -1;
};

TEST_P(LauncherE2eTest, StartsRestartsServesTheDemoAndStopsCleanly) {
  const int shards = GetParam();
  ASSERT_TRUE(Eventually(
      [&] { return ReadStatus(data_dir_)["launcher"].state == "running"; },
      absl::Seconds(180)))
      << ReadFile(launcher_log());
  std::map<std::string, ProcessStatus> status = ReadStatus(data_dir_);
  ASSERT_EQ(status.size(), 1u + 3u + 3u * shards);
  std::set<pid_t> pids;
  for (const auto& [name, process] : status) {
    if (name == "launcher") continue;
    EXPECT_EQ(process.state, "healthy") << name;
    EXPECT_TRUE(Serving(process.grpc)) << name;
    EXPECT_TRUE(std::filesystem::exists(data_dir_ + "/logs/" + name + ".log"))
        << name;
    pids.insert(process.pid);
  }
  EXPECT_TRUE(std::filesystem::exists(data_dir_ + "/admin.key"));

  // A crash: the launcher notices, restarts it after its backoff, and it
  // serves again on the same address.
  const std::string victim = shards == 1 ? "accrual" : "accrual-1";
  const pid_t killed = status[victim].pid;
  ASSERT_GT(killed, 1);
  ASSERT_EQ(kill(killed, SIGKILL), 0);
  ASSERT_TRUE(Eventually(
      [&] {
        ProcessStatus now = ReadStatus(data_dir_)[victim];
        return now.pid > 1 && now.pid != killed && now.state == "healthy" &&
               now.restarts == 1;
      },
      absl::Seconds(60)))
      << ReadFile(launcher_log());
  status = ReadStatus(data_dir_);
  pids.insert(status[victim].pid);
  EXPECT_TRUE(Serving(status[victim].grpc));
  EXPECT_NE(ReadFile(launcher_log()).find("\"event\":\"process_exited\""),
            std::string::npos);

  // The demo through the gateway, the restarted service included.
  const std::string demo_log = data_dir_ + "/logs/load_demo.log";
  const pid_t demo =
      Spawn({RunfilePath("tools/demo/load_demo"), "--data_dir=" + data_dir_,
             "--gateway=" + gateway(), "--members=50", "--password_members=4",
             "--partner_records=40"},
            demo_log);
  ASSERT_EQ(WaitForExit(demo, absl::Seconds(180)), 0) << ReadFile(demo_log);

  std::string agent_key;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(data_dir_ + "/demo-keys.txt"), '\n')) {
    if (absl::StartsWith(line, "AGENT ")) {
      agent_key = std::vector<std::string>(absl::StrSplit(line, ' '))[2];
      break;
    }
  }
  ASSERT_FALSE(agent_key.empty()) << ReadFile(data_dir_ + "/demo-keys.txt");
  std::string member;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(data_dir_ + "/demo-logins.txt"), '\n')) {
    if (!line.empty() && line[0] != '#') {
      member = std::vector<std::string>(absl::StrSplit(line, ' '))[0];
      break;
    }
  }
  ASSERT_FALSE(member.empty()) << ReadFile(data_dir_ + "/demo-logins.txt");

  // Member 0 flew four long-haul first-class flights and redeemed one
  // 12,000-mile award: well over 40,000 miles, read through the gateway.
  auto accrual = accrual::v1::Accrual::NewStub(
      grpc::CreateChannel(gateway(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", agent_key);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  accrual::v1::GetBalanceRequest request;
  request.set_member_number(member);
  accrual::v1::GetBalanceResponse balance;
  grpc::Status read = accrual->GetBalance(&context, request, &balance);
  ASSERT_TRUE(read.ok()) << read.error_message();
  EXPECT_GT(balance.balance().balance(), 40000);

  // Settlement picks the partner's file up from its inbox and answers it.
  EXPECT_TRUE(Eventually(
      [&] {
        return std::filesystem::exists(
            data_dir_ + "/partners/HILTON/outbox/HILTON_000001.ack.csv");
      },
      absl::Seconds(60)));

  // SIGTERM: everything stops in order, and nothing is left.
  ASSERT_EQ(kill(launcher_, SIGTERM), 0);
  EXPECT_EQ(WaitForExit(launcher_, absl::Seconds(240)), 0)
      << ReadFile(launcher_log());
  launcher_ = -1;
  for (const auto& [name, process] : ReadStatus(data_dir_)) {
    EXPECT_EQ(process.state, "stopped") << name;
  }
  for (pid_t pid : pids) EXPECT_FALSE(Alive(pid)) << pid;
  for (const auto& [name, process] : status) {
    if (name != "launcher") EXPECT_FALSE(Serving(process.grpc)) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, LauncherE2eTest, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat(info.param, "Shard");
                         });

}  // namespace
}  // namespace mileagebank
