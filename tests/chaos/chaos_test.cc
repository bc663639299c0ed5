// The chaos suite: the whole mileage bank (membership, accrual and
// redemption as --shards shards each, settlement, reporting, the gateway)
// as real processes, a mixed workload from many clients through the
// gateway, and a killer that SIGKILLs a random process every few seconds
// and starts it again on the same ports and data. When the time is up the
// killing stops, the system is given time to recover, and checks.h holds
// it to everything its clients were told.
//
//   bazel test //tests/chaos:chaos_test                  # 3 minutes, 3 shards
//   bazel test //tests/chaos:chaos_test --test_timeout=1800
//       --test_arg=--duration=20m
//
// Flags: --duration (3m), --shards (1; the BUILD target passes 3),
// --clients (8), --seed (the time), --kill_every (mean pause between kills,
// 4s), --patience (how long the system may take to settle after the last
// kill, 120s), --hold_ttl_minutes (redemption holds' time to live; 0 for
// the service's 72 hours; the BUILD target passes 1, so that HELD awards
// expire during the run).
//
// The journal of every request, answer, outcome and kill, each process's
// log and the violations go to $TEST_UNDECLARED_OUTPUTS_DIR. The last line
// printed sums it up:
//   chaos: 12345 operations (12000 acknowledged, 300 refused, 45 unknown), 37 kills, 0 violations
// and the exit status is 1 when there is any violation.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/client/client.h"
#include "libs/validation/dates.h"
#include "tests/chaos/book.h"
#include "tests/chaos/checks.h"
#include "tests/chaos/journal.h"
#include "tests/chaos/workload.h"
#include "tests/support/system.h"

namespace mileagebank::chaos {
namespace {

// The clients' key: a supervisor of office PEK01 (enrols, credits, approves
// claims, redeems, issues), finance (reports) and admin (partners, seats).
constexpr char kApiKey[] =
    "mbk_00000000c4a0_chaoschaoschaoschaoschaoschaoschaoschaos0123";

struct Options {
  absl::Duration duration = absl::Minutes(3);
  int shards = 1;
  int clients = 8;
  uint32_t seed = static_cast<uint32_t>(absl::ToUnixMicros(absl::Now()));
  absl::Duration kill_every = absl::Seconds(4);
  absl::Duration patience = absl::Seconds(120);
  int hold_ttl_minutes = 0;
};

bool ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view argument = argv[i];
    const size_t equals = argument.find('=');
    if (!absl::StartsWith(argument, "--") || equals == absl::string_view::npos) {
      std::cerr << "chaos: bad argument " << argv[i] << "\n";
      return false;
    }
    const absl::string_view name = argument.substr(2, equals - 2);
    const std::string value(argument.substr(equals + 1));
    bool ok = false;
    if (name == "duration") ok = absl::ParseDuration(value, &options->duration);
    if (name == "kill_every") ok = absl::ParseDuration(value, &options->kill_every);
    if (name == "patience") ok = absl::ParseDuration(value, &options->patience);
    if (name == "shards") ok = absl::SimpleAtoi(value, &options->shards) && options->shards > 0;
    if (name == "clients") ok = absl::SimpleAtoi(value, &options->clients) && options->clients > 0;
    if (name == "seed") ok = absl::SimpleAtoi(value, &options->seed);
    if (name == "hold_ttl_minutes") ok = absl::SimpleAtoi(value, &options->hold_ttl_minutes);
    if (!ok) {
      std::cerr << "chaos: bad or unknown flag " << argv[i] << "\n";
      return false;
    }
  }
  return true;
}

// Kills random processes until told to stop, starting each again after a
// short random pause; what it could not do is a violation.
class Killer {
 public:
  Killer(testing::WholeSystem& system, Journal& journal, absl::Duration every,
         uint32_t seed)
      : system_(system), journal_(journal), every_(every), random_(seed) {}

  void Run() {
    while (Pause(Uniform(0.5, 1.5) * every_)) {
      Reap();
      // Now and then two at once, so that a process restarts while a
      // neighbour is down too.
      std::vector<int> victims = {Pick()};
      if (Uniform(0, 1) < 0.2) victims.push_back(Pick());
      for (int victim : victims) {
        if (!system_.process(victim).running()) continue;
        journal_.Note("killer", "KILL", system_.process_name(victim), "SIGKILL");
        system_.process(victim).Kill();
        ++kills_;
      }
      absl::SleepFor(Uniform(0.1, 3.0) * absl::Seconds(1));
      for (int victim : victims) Restart(victim);
    }
  }

  void Stop() { stop_ = true; }
  int kills() const { return kills_; }

  // Processes that ended by themselves are violations; they are started
  // again so the checks can run.
  void Reap() {
    for (int i = 0; i < system_.process_count(); ++i) {
      if (system_.process(i).running() && !system_.process(i).Alive()) {
        journal_.Note("killer", "DIED", system_.process_name(i), "ended by itself");
        AddViolation(system_.process_name(i) + " ended by itself (see its log)");
        Restart(i);
      }
    }
  }

  std::vector<std::string> violations() {
    absl::MutexLock lock(&mutex_);
    return violations_;
  }

 private:
  int Pick() {
    return std::uniform_int_distribution<int>(0, system_.process_count() - 1)(random_);
  }
  double Uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(random_);
  }
  bool Pause(absl::Duration duration) {
    const absl::Time until = absl::Now() + duration;
    while (!stop_ && absl::Now() < until) absl::SleepFor(absl::Milliseconds(50));
    return !stop_;
  }
  void Restart(int index) {
    testing::ServiceProcess& process = system_.process(index);
    if (process.running()) return;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      absl::Status started = process.Start();
      journal_.Note("killer", "RESTART", system_.process_name(index),
                    started.ok() ? "serving" : started.ToString());
      if (started.ok()) return;
    }
    AddViolation(system_.process_name(index) + " did not start again (see its log)");
  }
  void AddViolation(std::string text) {
    absl::MutexLock lock(&mutex_);
    violations_.push_back(std::move(text));
  }

  testing::WholeSystem& system_;
  Journal& journal_;
  const absl::Duration every_;
  std::mt19937 random_;
  std::atomic<bool> stop_{false};
  std::atomic<int> kills_{0};
  absl::Mutex mutex_;
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mutex_);
};

// Under `bazel run` there is no test environment: runfiles beside the
// binary, a scratch folder under /tmp.
void DefaultTestEnvironment(const char* argv0) {
  if (std::getenv("TEST_SRCDIR") == nullptr) {
    const char* runfiles = std::getenv("RUNFILES_DIR");
    const std::string dir = runfiles != nullptr ? runfiles : absl::StrCat(argv0, ".runfiles");
    setenv("TEST_SRCDIR", dir.c_str(), 1);
  }
  if (std::getenv("TEST_TMPDIR") == nullptr) {
    char scratch[] = "/tmp/chaos-XXXXXX";
    setenv("TEST_TMPDIR", mkdtemp(scratch), 1);
  }
  if (std::getenv("TEST_UNDECLARED_OUTPUTS_DIR") == nullptr) {
    setenv("TEST_UNDECLARED_OUTPUTS_DIR", std::getenv("TEST_TMPDIR"), 1);
  }
}

int Main(int argc, char** argv) {
  Options options;
  if (!ParseFlags(argc, argv, &options)) return 2;
  DefaultTestEnvironment(argv[0]);
  const std::string outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string data = absl::StrCat(std::getenv("TEST_TMPDIR"), "/chaos-data");
  std::filesystem::remove_all(data);
  std::filesystem::create_directories(data);
  std::filesystem::create_directories(outputs + "/logs");
  Journal journal(outputs + "/chaos-journal.tsv");
  std::cout << "chaos: " << absl::FormatDuration(options.duration) << ", "
            << options.shards << " shard(s), " << options.clients
            << " clients, seed " << options.seed << "; journal and logs in "
            << outputs << std::endl;
  journal.Note("main", "START", absl::StrCat("seed ", options.seed),
               absl::StrCat(options.shards, " shards, ", options.clients, " clients"));

  testing::SystemOptions layout;
  layout.data_dir = data;
  layout.shards = options.shards;
  layout.log_dir = outputs + "/logs";
  layout.gateway_config =
      testing::ApiKeyConfig(kApiKey, {"OFFICE_SUPERVISOR", "FINANCE", "ADMIN"}, "PEK01");
  layout.flags["membership"] = {"--password_hash_ops=1", "--password_hash_memory_kib=8"};
  layout.flags["accrual"] = {"--disable_daily_expiry"};
  // Open steps are settled within seconds, so that the checks need not
  // wait for the production grace.
  layout.flags["redemption"] = {"--recovery_seconds=1", "--recovery_grace_seconds=3"};
  if (options.hold_ttl_minutes > 0) {
    layout.flags["redemption"].push_back(
        absl::StrCat("--hold_ttl_minutes=", options.hold_ttl_minutes));
  }
  layout.flags["settlement"] = {"--inbox_poll_ms=200", "--disable_daily_outbound"};
  layout.flags["gateway"] = {"--rate_limit_per_second=100000",
                             "--rate_limit_burst=100000"};
  testing::WholeSystem system(layout);
  if (absl::Status started = system.Start(); !started.ok()) {
    std::cout << "chaos: the system did not start: " << started << std::endl;
    return 1;
  }

  Workload workload;
  workload.gateway = client::ChannelFor(system.gateway_address());
  workload.api_key = kApiKey;
  workload.today = validation::UtcDay(absl::Now());
  workload.journal = &journal;
  // Few seats on few flights: the clients compete for them.
  for (int i = 0; i < 6; ++i) {
    workload.flights.push_back({8101 + i, workload.today + 30 + i, 5});
  }
  Book book;
  if (absl::Status prepared = PrepareWorkload(workload, book); !prepared.ok()) {
    std::cout << "chaos: could not prepare the workload: " << prepared << std::endl;
    return 1;
  }

  std::mt19937 seeds(options.seed);
  Killer killer(system, journal, options.kill_every, seeds());
  std::vector<Book> books(options.clients + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < options.clients; ++i) {
    const uint32_t seed = seeds();
    threads.emplace_back([&, i, seed] { books[i] = RunClient(workload, i, seed); });
  }
  const uint32_t partner_seed = seeds();
  threads.emplace_back(
      [&] { books[options.clients] = RunPartner(workload, partner_seed); });
  std::thread killing([&] { killer.Run(); });

  absl::SleepFor(options.duration);
  journal.Note("main", "STOP", "", "clients and killer told to stop");
  killer.Stop();
  killing.join();
  workload.stop = true;
  for (std::thread& thread : threads) thread.join();
  killer.Reap();
  if (absl::Status started = system.Start(); !started.ok()) {
    std::cout << "chaos: the system did not start again: " << started << std::endl;
    return 1;
  }
  for (Book& client_book : books) book.Merge(std::move(client_book));
  journal.Note("main", "CHECK", "",
               absl::StrCat(book.operations(), " operations"));

  std::vector<std::string> violations = killer.violations();
  Targets targets;
  targets.membership = system.Targets("membership");
  targets.accrual = system.Targets("accrual");
  targets.redemption = system.Targets("redemption");
  targets.settlement = system.Targets("settlement");
  targets.reporting = system.Targets("reporting");
  std::string looked;
  for (std::string& violation :
       CheckEverything(book, workload, targets, options.patience, &looked)) {
    violations.push_back(std::move(violation));
  }
  std::cout << "chaos: checked " << looked << std::endl;

  std::ofstream report(outputs + "/chaos-violations.txt");
  for (size_t i = 0; i < violations.size(); ++i) {
    report << violations[i] << "\n";
    journal.Note("main", "VIOLATION", "", violations[i]);
    if (i < 100) std::cout << "violation: " << violations[i] << "\n";
  }
  journal.Flush();
  std::cout << "chaos: " << book.operations() << " operations (" << book.acknowledged
            << " acknowledged, " << book.refused << " refused, " << book.unknown
            << " unknown), " << killer.kills() << " kills, " << violations.size()
            << " violations" << std::endl;
  // Bazel keeps the test's folder; a clean run's stores (about a GB) are of
  // no use to anyone. A run with violations keeps them to be looked at.
  if (violations.empty()) std::filesystem::remove_all(data);
  return violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace mileagebank::chaos

int main(int argc, char** argv) { return mileagebank::chaos::Main(argc, argv); }
