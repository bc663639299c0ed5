// The demo data loader: makes a fresh local system (deploy/local/up.sh)
// look lived in. Through the gateway's gRPC face, as the airline's staff
// would, it
//   - makes API keys (with the installation's ADMIN key) for three sales
//     offices (a supervisor and counters each), finance and a partner, and
//     writes them to <data_dir>/demo-keys.txt;
//   - enrols --members members (the first --password_members with a
//     password, written with two of them to <data_dir>/demo-logins.txt);
//   - credits their own flights over the past year, submits retro claims
//     (some approved, some rejected, some left pending), and makes awards
//     for the members with a password (issued, refunded, cancelled, held);
//   - drops an accrual file of --partner (a hotel chain) into its inbox, for
//     settlement to pick up (bench/partnerfile's generator).
// Each office key is one worker, kept under the gateway's per-key rate
// limit. Every call carries an idempotency key (request ids, ticket
// numbers, the ids themselves), so a run that failed half-way is run again
// safely: the keys are then read back from demo-keys.txt.
//
//   load_demo --data_dir=./data [--members=2000] [--gateway=127.0.0.1:7100]
//
// Exit status: 0 when everything was loaded, 1 when some calls failed (the
// first errors are printed), 2 on bad settings or a missing ADMIN key.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/partnerfile/generator.h"
#include "grpcpp/grpcpp.h"
#include "libs/client/client.h"
#include "libs/server/config_loader.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/gateway/v1/gateway.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "tools/demo/demo_data.h"
#include "tools/demo/demo_options.pb.h"

namespace mileagebank::demo {
namespace {

using accrual::v1::Accrual;
using gateway::v1::Gateway;
using membership::v1::Membership;
using redemption::v1::Redemption;

constexpr int kExitIncomplete = 1;
constexpr int kExitBadSetup = 2;
constexpr int kMaxAttempts = 8;
constexpr int kShownErrors = 5;
constexpr absl::Duration kCallDeadline = absl::Seconds(30);
constexpr char kClaimReason[] = "NOT_ON_MANIFEST";
constexpr char kAwardReason[] = "CHANGE_OF_PLANS";

absl::Status ApplyDefaults(DemoOptions* options) {
  if (options->data_dir().empty()) {
    return absl::InvalidArgumentError("--data_dir: is required");
  }
  if (options->gateway().empty()) options->set_gateway("127.0.0.1:7100");
  if (options->members() == 0) options->set_members(2000);
  if (options->password_members() == 0) options->set_password_members(20);
  if (options->member_password().empty()) {
    options->set_member_password("Demo-pass-2026");
  }
  if (options->counters_per_office() == 0) options->set_counters_per_office(3);
  if (options->calls_per_second_per_key() == 0) {
    options->set_calls_per_second_per_key(45);
  }
  if (options->partner().empty()) options->set_partner("HILTON");
  if (options->partner_records() == 0) options->set_partner_records(300);
  if (options->seed() == 0) options->set_seed(1);
  if (options->members() < 2)
    return absl::InvalidArgumentError("--members: at least 2");
  if (options->password_members() < 2) {
    return absl::InvalidArgumentError("--password_members: at least 2");
  }
  if (options->counters_per_office() < 1 ||
      options->calls_per_second_per_key() < 1) {
    return absl::InvalidArgumentError(
        "--counters_per_office, --calls_per_second_per_key: at least 1");
  }
  return absl::OkStatus();
}

// One API key's calls through the gateway: paced under its rate limit, and
// tried again while the system is busy or restarting (every call the
// loader makes is idempotent).
class KeyedCaller {
 public:
  KeyedCaller(std::string api_key, int calls_per_second)
      : api_key_(std::move(api_key)),
        interval_(absl::Seconds(1) / calls_per_second) {}

  template <typename Stub, typename Request, typename Response>
  absl::Status Call(Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response) {
    absl::Duration backoff = absl::Milliseconds(200);
    for (int attempt = 1;; ++attempt) {
      Pace();
      grpc::ClientContext context;
      context.AddMetadata("x-api-key", api_key_);
      context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
      const grpc::Status status = (stub.*method)(&context, request, response);
      const bool transient =
          status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
          status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
      if (status.ok() || !transient || attempt == kMaxAttempts) {
        return FromGrpcStatus(status);
      }
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }

 private:
  void Pace() {
    const absl::Time now = absl::Now();
    if (next_ > now) absl::SleepFor(next_ - now);
    next_ = std::max(next_, now) + interval_;
  }

  const std::string api_key_;
  const absl::Duration interval_;
  absl::Time next_ = absl::InfinitePast();
};

// Failed calls of a phase, counted, with the first few messages.
class Failures {
 public:
  void Add(absl::string_view what, const absl::Status& status) {
    absl::MutexLock lock(&mutex_);
    if (++count_ <= kShownErrors) {
      std::fprintf(stderr, "load_demo: %s: %s\n", std::string(what).c_str(),
                   status.ToString().c_str());
    }
  }
  int count() const {
    absl::MutexLock lock(&mutex_);
    return count_;
  }

 private:
  mutable absl::Mutex mutex_;
  int count_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Runs `work(i, caller)` for i in [0, count), item i on caller i % size, one
// thread per caller.
void ParallelFor(int count, std::vector<KeyedCaller*>& callers,
                 const std::function<void(int, KeyedCaller&)>& work) {
  std::vector<std::thread> threads;
  const int workers = static_cast<int>(callers.size());
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < count; i += workers) work(i, *callers[w]);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

struct DemoKey {
  gateway::v1::ApiKey key;
  std::string secret;
};

std::string RoleName(const gateway::v1::ApiKey& key) {
  return gateway::v1::Role_Name(key.roles(0));
}

std::string KeysPath(const DemoOptions& options) {
  return options.data_dir() + "/demo-keys.txt";
}

// Keys made by an earlier run: "<role> <office or partner or -> <key> <label>".
absl::StatusOr<std::vector<DemoKey>> ReadKeys(const DemoOptions& options) {
  std::ifstream file(KeysPath(options));
  std::vector<DemoKey> keys;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::MaxSplits(' ', 3));
    gateway::v1::Role role;
    if (parts.size() < 3 || !gateway::v1::Role_Parse(parts[0], &role)) {
      return absl::FailedPreconditionError(
          absl::StrCat(KeysPath(options), ": not a key line: ", line));
    }
    DemoKey key;
    key.key.add_roles(role);
    if (role == gateway::v1::PARTNER) {
      key.key.set_partner_code(parts[1]);
    } else if (parts[1] != "-") {
      key.key.set_office_code(parts[1]);
    }
    key.secret = parts[2];
    if (parts.size() > 3) key.key.set_label(parts[3]);
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::Status WriteKeys(const DemoOptions& options,
                       const std::vector<DemoKey>& keys) {
  std::string text =
      "# API keys made by the demo loader: role, office (or partner), key,\n"
      "# label. Use one with mbctl: export MBCTL_API_KEY=<key>\n";
  for (const DemoKey& key : keys) {
    const std::string& scope = key.key.partner_code().empty()
                                   ? key.key.office_code()
                                   : key.key.partner_code();
    absl::StrAppend(&text, RoleName(key.key), " ", scope.empty() ? "-" : scope,
                    " ", key.secret, " ", key.key.label(), "\n");
  }
  const std::string path = KeysPath(options);
  {
    std::ofstream file(path + ".tmp", std::ios::trunc);
    file << text;
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  std::filesystem::permissions(
      path + ".tmp",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(path + ".tmp", path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DemoKey>> MakeKeys(const DemoOptions& options,
                                              KeyedCaller& admin,
                                              Gateway::Stub& gateway) {
  if (std::filesystem::exists(KeysPath(options))) return ReadKeys(options);
  std::vector<DemoKey> keys;
  for (const gateway::v1::ApiKey& wanted :
       DemoKeys(options.counters_per_office(), options.partner())) {
    gateway::v1::CreateApiKeyRequest request;
    *request.mutable_key() = wanted;
    gateway::v1::CreateApiKeyResponse made;
    MB_RETURN_IF_ERROR(
        admin.Call(gateway, &Gateway::Stub::CreateApiKey, request, &made));
    keys.push_back({made.key(), made.secret()});
  }
  MB_RETURN_IF_ERROR(WriteKeys(options, keys));
  return keys;
}

// Writes the partner's accrual file into its inbox under a hidden name
// first, so that settlement never picks up half of it; nothing when a file
// of that name was already dropped.
absl::StatusOr<std::string> DropPartnerFile(
    const DemoOptions& options,
    const std::vector<partnerfile::GeneratedMember>& members) {
  const std::string folder =
      absl::StrCat(options.data_dir(), "/partners/", options.partner());
  const std::string name = absl::StrCat(options.partner(), "_000001.acc.csv");
  if (std::filesystem::exists(folder + "/inbox/" + name) ||
      std::filesystem::exists(folder + "/processed/" + name)) {
    return folder + "/inbox/" + name;
  }
  std::filesystem::create_directories(folder + "/inbox");
  partnerfile::GeneratorOptions file;
  file.partner = options.partner();
  file.seq = 1;
  file.created = absl::Now();
  file.records = options.partner_records();
  file.airline = false;
  file.members = members;
  file.seed = options.seed();
  const std::string hidden = absl::StrCat(folder, "/inbox/.", name, ".part");
  {
    std::ofstream out(hidden, std::ios::binary | std::ios::trunc);
    MB_RETURN_IF_ERROR(partnerfile::GenerateAccrualFile(file, &out));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", hidden));
  }
  std::filesystem::rename(hidden, folder + "/inbox/" + name);
  return folder + "/inbox/" + name;
}

int Main(int argc, char** argv) {
  DemoOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help") {
      std::printf("Usage: load_demo [settings]\n\nSettings:\n%s",
                  server::DescribeFlags(options.GetDescriptor()).c_str());
      return 0;
    }
  }
  absl::Status ready = server::LoadConfig(argc, argv, &options);
  if (ready.ok()) ready = ApplyDefaults(&options);
  std::string admin_key;
  if (ready.ok()) {
    std::ifstream file(options.data_dir() + "/admin.key");
    std::getline(file, admin_key);
    admin_key = std::string(absl::StripAsciiWhitespace(admin_key));
    if (admin_key.empty()) {
      ready = absl::FailedPreconditionError(
          absl::StrCat(options.data_dir(),
                       "/admin.key: cannot be read (is the system up?)"));
    }
  }
  if (!ready.ok()) {
    std::fprintf(stderr, "load_demo: %s\n", ready.ToString().c_str());
    return kExitBadSetup;
  }

  const absl::Time started = absl::Now();
  const absl::CivilDay today = validation::UtcDay(absl::Now());
  auto channel = client::ChannelFor(options.gateway());
  Gateway::Stub gateway(channel);
  Membership::Stub membership(channel);
  Accrual::Stub accrual(channel);
  Redemption::Stub redemption(channel);

  KeyedCaller admin(admin_key, options.calls_per_second_per_key());
  absl::StatusOr<std::vector<DemoKey>> keys = MakeKeys(options, admin, gateway);
  if (!keys.ok()) {
    std::fprintf(stderr, "load_demo: API keys: %s\n",
                 keys.status().ToString().c_str());
    return kExitIncomplete;
  }
  // The office keys do the work, one worker each; supervisors decide claims.
  std::vector<std::unique_ptr<KeyedCaller>> owned;
  std::vector<KeyedCaller*> workers;
  std::vector<KeyedCaller*> supervisors;
  for (const DemoKey& key : *keys) {
    if (key.key.office_code().empty()) continue;
    owned.push_back(std::make_unique<KeyedCaller>(
        key.secret, options.calls_per_second_per_key()));
    workers.push_back(owned.back().get());
    if (key.key.roles(0) == gateway::v1::OFFICE_SUPERVISOR) {
      supervisors.push_back(owned.back().get());
    }
  }
  if (supervisors.empty()) {
    std::fprintf(stderr, "load_demo: %s: no office supervisor key\n",
                 KeysPath(options).c_str());
    return kExitIncomplete;
  }
  std::printf("API keys: %zu, in %s\n", keys->size(),
              KeysPath(options).c_str());

  Failures failures;
  const int members = options.members();
  const int password_members = std::min(options.password_members(), members);
  std::vector<std::string> numbers(members);
  ParallelFor(members, workers, [&](int i, KeyedCaller& caller) {
    membership::v1::EnrolResponse enrolled;
    absl::Status status = caller.Call(
        membership, &Membership::Stub::Enrol,
        DemoEnrolment(i, i < password_members ? options.member_password() : ""),
        &enrolled);
    if (status.ok()) {
      numbers[i] = enrolled.member().member_number();
    } else {
      failures.Add(absl::StrCat("enrol member ", i), status);
    }
  });
  std::printf("members enrolled: %d\n", members - failures.count());

  std::atomic<int> flights{0};
  ParallelFor(members, workers, [&](int i, KeyedCaller& caller) {
    if (numbers[i].empty()) return;
    for (const auto& flight :
         DemoFlights(numbers[i], i, password_members, today, options.seed())) {
      accrual::v1::PostOwnFlightResponse credited;
      absl::Status status = caller.Call(accrual, &Accrual::Stub::PostOwnFlight,
                                        flight, &credited);
      // The demo's own ticket, credited by an earlier run (on another day,
      // so dated differently).
      if (status.ok() || absl::IsAlreadyExists(status)) {
        ++flights;
      } else {
        failures.Add(absl::StrCat("flight of ", numbers[i]), status);
      }
    }
  });
  std::printf("own flights credited: %d\n", flights.load());

  std::vector<std::pair<int, std::string>> claims;  // Member index, claim id.
  absl::Mutex claims_mutex;
  ParallelFor(members, workers, [&](int i, KeyedCaller& caller) {
    if (numbers[i].empty() || !HasRetroClaim(i)) return;
    accrual::v1::SubmitRetroClaimResponse submitted;
    absl::Status status =
        caller.Call(accrual, &Accrual::Stub::SubmitRetroClaim,
                    DemoRetroClaim(numbers[i], i, today), &submitted);
    if (absl::IsAlreadyExists(status)) return;  // By an earlier run.
    if (!status.ok()) {
      failures.Add(absl::StrCat("retro claim of ", numbers[i]), status);
      return;
    }
    absl::MutexLock lock(&claims_mutex);
    claims.emplace_back(i, submitted.claim().claim_id());
  });
  ParallelFor(
      static_cast<int>(claims.size()), supervisors,
      [&](int c, KeyedCaller& supervisor) {
        const auto& [i, claim_id] = claims[c];
        absl::Status status;
        if (RetroClaimOutcome(i) == ClaimOutcome::kApproved) {
          accrual::v1::ApproveRetroClaimRequest request;
          request.set_claim_id(claim_id);
          accrual::v1::ApproveRetroClaimResponse approved;
          status = supervisor.Call(accrual, &Accrual::Stub::ApproveRetroClaim,
                                   request, &approved);
        } else if (RetroClaimOutcome(i) == ClaimOutcome::kRejected) {
          accrual::v1::RejectRetroClaimRequest request;
          request.set_claim_id(claim_id);
          request.set_reason(kClaimReason);
          request.set_note("The flight's manifest does not list the member.");
          accrual::v1::RejectRetroClaimResponse rejected;
          status = supervisor.Call(accrual, &Accrual::Stub::RejectRetroClaim,
                                   request, &rejected);
        }
        if (!status.ok())
          failures.Add(absl::StrCat("claim ", claim_id), status);
      });
  std::printf("retro claims: %zu\n", claims.size());

  std::atomic<int> awards{0};
  ParallelFor(password_members, workers, [&](int i, KeyedCaller& caller) {
    if (numbers[i].empty()) return;
    redemption::v1::CreateRedemptionResponse created;
    absl::Status status = caller.Call(
        redemption, &Redemption::Stub::CreateRedemption,
        DemoAward(numbers[i], i, options.member_password(), today), &created);
    if (absl::IsAlreadyExists(status)) return;  // By an earlier run.
    if (!status.ok()) {
      failures.Add(absl::StrCat("award of ", numbers[i]), status);
      return;
    }
    // A run again finds the award where the last one left it.
    const std::string& id = created.redemption().redemption_id();
    redemption::v1::RedemptionState state = created.redemption().state();
    const AwardOutcome outcome = AwardOutcomeOf(i);
    if (state == redemption::v1::HELD && (outcome == AwardOutcome::kIssued ||
                                          outcome == AwardOutcome::kRefunded)) {
      redemption::v1::IssueRedemptionRequest issue;
      issue.set_redemption_id(id);
      issue.add_award_ticket_numbers(DemoAwardTicket(i));
      redemption::v1::IssueRedemptionResponse issued;
      status = caller.Call(redemption, &Redemption::Stub::IssueRedemption,
                           issue, &issued);
      state = issued.redemption().state();
    }
    if (status.ok() && state == redemption::v1::ISSUED &&
        outcome == AwardOutcome::kRefunded) {
      redemption::v1::RefundRedemptionRequest refund;
      refund.set_redemption_id(id);
      refund.set_reason(kAwardReason);
      redemption::v1::RefundRedemptionResponse refunded;
      status = caller.Call(redemption, &Redemption::Stub::RefundRedemption,
                           refund, &refunded);
    }
    if (status.ok() && state == redemption::v1::HELD &&
        outcome == AwardOutcome::kCancelled) {
      redemption::v1::CancelRedemptionRequest cancel;
      cancel.set_redemption_id(id);
      cancel.set_reason(kAwardReason);
      redemption::v1::CancelRedemptionResponse cancelled;
      status = caller.Call(redemption, &Redemption::Stub::CancelRedemption,
                           cancel, &cancelled);
    }
    if (status.ok()) {
      ++awards;
    } else {
      failures.Add(absl::StrCat("award ", id), status);
    }
  });
  std::printf("awards: %d (issued, refunded, cancelled, held)\n",
              awards.load());

  // Every fifth member is the partner's customer too.
  std::vector<partnerfile::GeneratedMember> flyers;
  for (int i = 4; i < members; i += 5) {
    if (numbers[i].empty()) continue;
    const membership::v1::Profile profile = DemoEnrolment(i, "").profile();
    flyers.push_back({numbers[i], profile.family_name(), profile.given_name()});
  }
  if (!flyers.empty()) {
    absl::StatusOr<std::string> dropped = DropPartnerFile(options, flyers);
    if (dropped.ok()) {
      std::printf("partner file: %s\n", dropped->c_str());
    } else {
      failures.Add("partner file", dropped.status());
    }
  }

  // Two members to log in to the portal as, with their balances.
  std::string logins = absl::StrCat(
      "# Members who log in to the portal (member number or e-mail, and\n"
      "# password); the first ",
      password_members, " members all have this password.\n");
  for (int i = 0; i < 2; ++i) {
    if (numbers[i].empty()) continue;
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(numbers[i]);
    accrual::v1::GetBalanceResponse balance;
    absl::Status status = workers.front()->Call(
        accrual, &Accrual::Stub::GetBalance, request, &balance);
    if (!status.ok()) failures.Add("balance of " + numbers[i], status);
    const membership::v1::Profile profile =
        DemoEnrolment(i, options.member_password()).profile();
    absl::StrAppend(&logins, numbers[i], " ", options.member_password(), " ",
                    profile.email(), " ", profile.given_name(), " ",
                    profile.family_name(), " (", balance.balance().available(),
                    " miles)\n");
  }
  std::ofstream(options.data_dir() + "/demo-logins.txt", std::ios::trunc)
      << logins;
  std::printf("%s", logins.c_str());
  std::printf("done in %.0f s; %d failed calls\n",
              absl::ToDoubleSeconds(absl::Now() - started), failures.count());
  return failures.count() == 0 ? 0 : kExitIncomplete;
}

}  // namespace
}  // namespace mileagebank::demo

int main(int argc, char** argv) { return mileagebank::demo::Main(argc, argv); }
