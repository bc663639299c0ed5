// A real Prometheus (Debian's /usr/bin/prometheus) with the shipped
// configuration and rules (deploy/prometheus/prometheus.yml, alerts.yml)
// scrapes the whole running system: the five services and the gateway as
// real processes on free ports. After a few calls its HTTP API answers with
// every service's request counter, every target is up, and every rule
// evaluates without error on the real series.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/server/http_get.h"
#include "libs/testing/testing.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "mileagebank/reporting/v1/reporting.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"

namespace mileagebank {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
// The order deploy/local/up.sh starts them in: each after what it reads.
const char* const kServices[] = {"membership", "settlement", "accrual",
                                 "redemption", "reporting"};

std::string Address(int port) { return absl::StrCat("127.0.0.1:", port); }

// The mileage bank on fresh data, every process on free ports.
class System {
 public:
  System() {
    const std::string data = testing::FreshTestDir("system");
    for (const char* name : kServices) ports_[name] = testing::PickFreePort();
    auto targets = [&](std::vector<std::string> names) {
      std::vector<std::string> flags = {"--server.data_dir=" + data};
      for (const std::string& name : names) {
        flags.push_back("--" + name + "_target=" + Address(ports_[name]));
      }
      return flags;
    };
    std::map<std::string, std::vector<std::string>> flags = {
        {"membership", targets({"accrual"})},
        {"settlement", targets({"membership", "accrual", "redemption"})},
        {"accrual", targets({"membership", "settlement"})},
        {"redemption", targets({"membership", "accrual", "settlement"})},
        {"reporting",
         targets({"membership", "accrual", "redemption", "settlement"})},
        {"gateway", targets({"membership", "accrual", "redemption",
                             "settlement", "reporting"})}};
    flags["accrual"].push_back("--disable_daily_expiry");
    flags["gateway"].push_back("--http_listen_address=" +
                               Address(testing::PickFreePort()));
    for (const auto& [name, port] : ports_) {
      flags[name].push_back("--server.listen_address=" + Address(port));
    }
    for (const char* name : kServices) Start(name, flags[name]);
    flags["gateway"].push_back("--server.listen_address=127.0.0.1:0");
    Start("gateway", flags["gateway"]);
  }

  const std::map<std::string, std::unique_ptr<testing::ServiceProcess>>&
  processes() const {
    return processes_;
  }
  std::shared_ptr<grpc::Channel> Channel(const std::string& name) const {
    return grpc::CreateChannel(processes_.at(name)->address(),
                               grpc::InsecureChannelCredentials());
  }

 private:
  void Start(const std::string& name, std::vector<std::string> flags) {
    auto process = std::make_unique<testing::ServiceProcess>(
        testing::RunfilePath("services/" + name + "/" + name), flags);
    absl::Status started = process->Start();
    EXPECT_TRUE(started.ok()) << name << ": " << started;
    processes_[name] = std::move(process);
  }

  std::map<std::string, int> ports_;
  std::map<std::string, std::unique_ptr<testing::ServiceProcess>> processes_;
};

// Debian's Prometheus on a free port, with deploy/prometheus's
// prometheus.yml and alerts.yml and a target file naming `targets`
// (metrics port -> service).
class Prometheus {
 public:
  explicit Prometheus(const std::map<int, std::string>& targets) {
    const std::string dir = testing::FreshTestDir("prometheus");
    std::filesystem::create_directories(dir + "/targets");
    for (const char* file : {"prometheus.yml", "alerts.yml"}) {
      std::filesystem::copy_file(
          testing::RunfilePath(absl::StrCat("deploy/prometheus/", file)),
          absl::StrCat(dir, "/", file));
    }
    // As targets/local.yml lists up.sh's processes.
    std::ofstream list(dir + "/targets/e2e.yml");
    for (const auto& [port, service] : targets) {
      list << "- targets: [\"" << Address(port)
           << "\"]\n  labels: {service: " << service << "}\n";
    }
    list.close();

    port_ = testing::PickFreePort();
    std::vector<std::string> argv = {
        kPrometheus, "--config.file=" + dir + "/prometheus.yml",
        "--storage.tsdb.path=" + dir + "/data",
        "--web.listen-address=" + Address(port_), "--log.level=warn"};
    const std::string log = dir + "/prometheus.log";
    testing::ReleasePort(port_);
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::fopen(log.c_str(), "w");
      if (out != nullptr) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(out), STDERR_FILENO);
      }
      std::vector<char*> raw;
      for (std::string& arg : argv) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    EXPECT_TRUE(testing::Eventually([&] {
      auto ready = server::HttpRequest(port_, "GET", "/-/ready");
      return ready.ok() && ready->status == 200;
    })) << "Prometheus did not become ready; see "
        << log;
  }

  ~Prometheus() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  // The `data` of GET <path>, or an empty Struct when the answer is not a
  // success.
  Struct Api(const std::string& path) {
    auto response = server::HttpRequest(port_, "GET", path);
    Struct answer;
    if (!response.ok() || response->status != 200 ||
        !google::protobuf::util::JsonStringToMessage(response->body, &answer)
             .ok() ||
        answer.fields().at("status").string_value() != "success") {
      ADD_FAILURE() << path << ": "
                    << (response.ok() ? response->body
                                      : response.status().ToString());
      return Struct();
    }
    return answer.fields().at("data").struct_value();
  }

  // The instant vector of `expression`: one (labels, value) per series.
  std::vector<std::pair<std::map<std::string, std::string>, double>> Query(
      const std::string& expression) {
    std::vector<std::pair<std::map<std::string, std::string>, double>> series;
    Struct data = Api("/api/v1/query?query=" + UrlEncode(expression));
    if (!data.fields().contains("result")) return series;
    for (const Value& item : data.fields().at("result").list_value().values()) {
      std::map<std::string, std::string> labels;
      for (const auto& [name, value] :
           item.struct_value().fields().at("metric").struct_value().fields()) {
        labels[name] = value.string_value();
      }
      const ListValue& sample =
          item.struct_value().fields().at("value").list_value();
      series.emplace_back(labels, std::stod(sample.values(1).string_value()));
    }
    return series;
  }

 private:
  static std::string UrlEncode(const std::string& text) {
    std::string encoded;
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        absl::StrAppend(&encoded, "%", absl::Hex(c, absl::kZeroPad2));
      }
    }
    return encoded;
  }

  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(PrometheusE2eTest, ScrapesEveryServiceAndEvaluatesEveryRule) {
  ASSERT_EQ(access(kPrometheus, X_OK), 0)
      << "no " << kPrometheus
      << ": install Debian's prometheus (tools/install-deps.sh)";
  System system;
  std::map<int, std::string> targets;
  for (const auto& [name, process] : system.processes()) {
    ASSERT_TRUE(process->running()) << name;
    targets[process->metrics_port()] = name;
  }
  Prometheus prometheus(targets);

  // A member enrols through the gateway (the gateway's and membership's
  // counters); each other service answers one call of its own.
  grpc::ClientContext enrol_context;
  membership::v1::EnrolResponse enrolled;
  grpc::Status enrol =
      membership::v1::Membership::NewStub(system.Channel("gateway"))
          ->Enrol(&enrol_context, testing::SampleEnrolment(1), &enrolled);
  ASSERT_TRUE(enrol.ok()) << enrol.error_message();
  const std::string member = enrolled.member().member_number();
  {
    grpc::ClientContext context;
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(member);
    accrual::v1::GetBalanceResponse response;
    // The member reaches accrual through membership's stream: NOT_FOUND
    // until then is an answer too, and counted.
    (void)accrual::v1::Accrual::NewStub(system.Channel("accrual"))
        ->GetBalance(&context, request, &response);
  }
  {
    grpc::ClientContext context;
    redemption::v1::ListRedemptionsRequest request;
    request.set_member_number(member);
    redemption::v1::ListRedemptionsResponse response;
    (void)redemption::v1::Redemption::NewStub(system.Channel("redemption"))
        ->ListRedemptions(&context, request, &response);
  }
  {
    grpc::ClientContext context;
    settlement::v1::ListPartnersResponse response;
    grpc::Status status =
        settlement::v1::Settlement::NewStub(system.Channel("settlement"))
            ->ListPartners(&context, settlement::v1::ListPartnersRequest(),
                           &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext context;
    reporting::v1::GetMembersReportRequest request;
    common::v1::Date* from = request.mutable_range()->mutable_from_date();
    from->set_year(2025);
    from->set_month(1);
    from->set_day(1);
    *request.mutable_range()->mutable_to_date() = *from;
    reporting::v1::GetMembersReportResponse response;
    (void)reporting::v1::Reporting::NewStub(system.Channel("reporting"))
        ->GetMembersReport(&context, request, &response);
  }

  // Prometheus scrapes every 15 s (prometheus.yml): within a minute every
  // service's counter is there, from its own endpoint.
  std::map<std::string, double> requests;
  const bool scraped = testing::Eventually(
      [&] {
        requests.clear();
        for (const auto& [labels, value] : prometheus.Query(
                 "sum by (service, job) (mileagebank_rpc_requests_total)")) {
          if (labels.at("job") == "mileagebank") {
            requests[labels.at("service")] = value;
          }
        }
        return requests.size() == 6;
      },
      absl::Seconds(90));
  EXPECT_TRUE(scraped);
  for (const auto& [name, process] : system.processes()) {
    EXPECT_GE(requests[name], 1) << name;
  }
  // The enrolment, counted where it was served and where it was forwarded.
  for (const std::string service : {"gateway", "membership"}) {
    auto enrolments = prometheus.Query(
        "mileagebank_rpc_requests_total{service=\"" + service +
        "\",method=\"/mileagebank.membership.v1.Membership/Enrol\","
        "code=\"OK\"}");
    ASSERT_EQ(enrolments.size(), 1u) << service;
    EXPECT_EQ(enrolments[0].second, 1) << service;
  }

  std::set<std::string> up;
  for (const auto& [labels, value] : prometheus.Query("up == 1")) {
    up.insert(labels.at("service"));
  }
  EXPECT_EQ(up.size(), 6u);

  // Reporting follows four streams; the lag of each is recorded.
  std::set<std::string> lagging_sources;
  EXPECT_TRUE(testing::Eventually(
      [&] {
        lagging_sources.clear();
        for (const auto& [labels, value] : prometheus.Query(
                 "source:mileagebank_event_stream_lag:events{service="
                 "\"reporting\"}")) {
          lagging_sources.insert(labels.at("source"));
        }
        return lagging_sources.size() == 4;
      },
      absl::Seconds(60)));

  // The services' own followers, and accrual's hold sweep.
  std::set<std::pair<std::string, std::string>> followed;
  EXPECT_TRUE(testing::Eventually(
      [&] {
        followed.clear();
        for (const auto& [labels, value] :
             prometheus.Query("source:mileagebank_event_stream_lag:events")) {
          followed.insert({labels.at("service"), labels.at("source")});
        }
        return followed.size() == 9;  // Reporting's four and these five.
      },
      absl::Seconds(60)));
  for (const auto& pair : std::set<std::pair<std::string, std::string>>{
           {"membership", "accrual"}, {"accrual", "membership"},
           {"accrual", "settlement"}, {"settlement", "accrual"},
           {"settlement", "redemption"}}) {
    EXPECT_TRUE(followed.count(pair)) << pair.first << " <- " << pair.second;
  }
  auto sweep =
      prometheus.Query("instance:mileagebank_accrual_hold_sweep_age:seconds");
  ASSERT_EQ(sweep.size(), 1u);
  EXPECT_LT(sweep[0].second, 60);

  // Every rule evaluated, none with an error (a rule's health stays
  // "unknown" until its first evaluation).
  std::vector<std::string> rule_errors;
  int rules_evaluated = 0;
  EXPECT_TRUE(testing::Eventually(
      [&] {
        Struct rules = prometheus.Api("/api/v1/rules");
        if (!rules.fields().contains("groups")) return false;
        int total = 0;
        rule_errors.clear();
        rules_evaluated = 0;
        for (const Value& group :
             rules.fields().at("groups").list_value().values()) {
          for (const Value& rule : group.struct_value()
                                       .fields()
                                       .at("rules")
                                       .list_value()
                                       .values()) {
            const auto& fields = rule.struct_value().fields();
            const std::string& health = fields.at("health").string_value();
            ++total;
            if (health == "ok") ++rules_evaluated;
            if (health == "err") {
              rule_errors.push_back(
                  absl::StrCat(fields.at("name").string_value(), ": ",
                               fields.at("lastError").string_value()));
            }
          }
        }
        return !rule_errors.empty() || (total > 0 && rules_evaluated == total);
      },
      absl::Seconds(60)));
  EXPECT_TRUE(rule_errors.empty()) << absl::StrJoin(rule_errors, "\n");
  EXPECT_GT(rules_evaluated, 0);
}

}  // namespace
}  // namespace mileagebank
