// A load generator for the real services on this machine: keeps N requests
// in flight against the accrual (or membership, or redemption) service over
// gRPC for a fixed time, and prints throughput, latency percentiles and
// errors.
//
//   bazel build -c opt //bench:loadgen
//   bazel-bin/bench/loadgen --mode=preload --members=1000 --history=5
//   bazel-bin/bench/loadgen --mode=post-flights --concurrency=64 --duration=10
//   bazel-bin/bench/loadgen --mode=hold-capture            # one busy account
//   bazel-bin/bench/loadgen --mode=redeem-cancel --concurrency=16
//
// Modes:
//   preload       enrols --members members through membership's Enrol, each
//                 with the password --member_password, and writes their
//                 numbers to --members_file; unless --history=0,
//                 then posts --history own flights per member through accrual,
//                 --credit_flights long first-class flights per member and
//                 --rich_flights more to the first member, so holds succeed.
//                 (With --history=0 accrual is not contacted at all.)
//                 Preloading again with the same --run_id and --seed replays
//                 the same enrolments (and, the same day, flights): the
//                 members file comes out the same (and membership keeps the
//                 password the members were first enrolled with).
//   post-flights  PostOwnFlight: unique tickets, coupon 1, carrier FM, real
//                 routes, recent dates.
//   balances      GetBalance of random members.
//   hold-capture  one op = CreateHold (--hold_miles) then CaptureHold of it.
//   hold-release  one op = CreateHold then ReleaseHold of it.
//   get-members   GetMember of random members through membership (exercises
//                 the generator without the accrual service).
//   gateway-dashboard  members' web sessions through the gateway's REST
//                 face (--gateway_http): each of --concurrency workers logs
//                 in as its share of the members (--member_password; not
//                 measured), then one op = GET the member's dashboard (every
//                 --statement_every-th op a statement page instead). See
//                 loadgen_gateway.h. Start the gateway with a rate limit
//                 above the load (--rate_limit_per_second).
//   redeem-cancel one op = redemption's CreateRedemption then
//                 CancelRedemption of the new redemption: a STANDARD_AWARD,
//                 ONE_WAY, ECONOMY, for a random member alone, on one own
//                 flight (see AwardFlight: consecutive ops on different
//                 flight-dates, so the 4 award seats of one are rarely all
//                 taken; a full one is FAILED_PRECONDITION, an error), made
//                 by a call centre agent with the member's password
//                 (--member_password; membership verifies it with Argon2id,
//                 which is slow by design and limits this mode: on the
//                 2-core machine about 18 ops/s from 8 in flight, and since
//                 redemption gives VerifyPassword 3 s, from about 48 in flight
//                 most creates fail DEADLINE_EXCEEDED; use --concurrency=16
//                 or so). Members need miles (12,000 per award in flight):
//                 preload with --history of 1 or more. One op first, outside
//                 the figures, checks the password: a wrong one ends the run
//                 (exit 2) rather than count toward every member's lockout.
// Every mode but preload reads the members file and spreads load over its
// first --members members (default 1000; hold modes default to 1, the
// single-busy-account case).
//
// Measurement: ops completing during --warmup are not counted; then ops
// completing during --duration are. ops_per_s counts successful ops; any
// non-OK status (an overdraft's FAILED_PRECONDITION included) is an error,
// and the first distinct error messages go to stderr. Latency is that of
// successful ops, from the op's first request to its last response.
//
// Output: human lines on stdout, and as the last line exactly
//   ops_per_s=<n> p50_ms=<x.xxx> p99_ms=<y.yyy> errors=<k>
// Exit status: 0 when it ran (even with errors), 2 on bad flags, a missing
// members file or (redeem-cancel) a wrong --member_password, 3 when a target
// does not answer at start.
//
// The requests are made with gRPC's asynchronous API: --threads completion
// queues, each polled by one thread, over --channels channels per target
// that do not share a connection. (On the 2-core machine, against
// membership's GetMember with 64 in flight, this gave 16-17k ops/s where a
// thread per request with synchronous stubs gave 12-14k.)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loadgen_requests.h"
#include "bench/loadgen_gateway.h"
#include "bench/loadgen_stats.h"
#include "grpcpp/grpcpp.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"

namespace mileagebank::loadgen {
namespace {

using accrual::v1::Accrual;
using membership::v1::Membership;
using redemption::v1::Redemption;
using Clock = std::chrono::steady_clock;

constexpr int kExitRan = 0;
constexpr int kExitBadFlags = 2;
constexpr int kExitUnreachable = 3;

// Deadline of the calls that check a target answers at start.
constexpr auto kProbeDeadline = std::chrono::seconds(2);

enum class Mode {
  kPreload,
  kPostFlights,
  kBalances,
  kHoldCapture,
  kHoldRelease,
  kGetMembers,
  kRedeemCancel,
  kGatewayDashboard,
};

struct ModeName {
  Mode mode;
  const char* name;
};
constexpr ModeName kModeNames[] = {
    {Mode::kPreload, "preload"},
    {Mode::kPostFlights, "post-flights"},
    {Mode::kBalances, "balances"},
    {Mode::kHoldCapture, "hold-capture"},
    {Mode::kHoldRelease, "hold-release"},
    {Mode::kGetMembers, "get-members"},
    {Mode::kRedeemCancel, "redeem-cancel"},
    {Mode::kGatewayDashboard, "gateway-dashboard"},
};

const char* NameOf(Mode mode) {
  for (const ModeName& entry : kModeNames) {
    if (entry.mode == mode) return entry.name;
  }
  return "?";
}

bool IsHoldMode(Mode mode) {
  return mode == Mode::kHoldCapture || mode == Mode::kHoldRelease;
}

// ---------------------------------------------------------------------------
// Flags

struct Options {
  std::optional<Mode> mode;
  // Targets, "host:port" on this machine.
  std::string accrual = "127.0.0.1:7102";
  std::string membership = "127.0.0.1:7101";
  std::string redemption = "127.0.0.1:7103";
  // gateway-dashboard: the gateway's REST face.
  std::string gateway_http = "127.0.0.1:8080";
  // gateway-dashboard: every n-th op reads a statement page; 0 never.
  int statement_every = 0;
  // Ops in flight at once.
  int concurrency = 64;
  // Seconds measured, after `warmup` seconds not measured.
  double duration_s = 10;
  double warmup_s = 1;
  // Members to spread load over (preload: to enrol); 0 = the mode's default.
  int64_t members = 0;
  // Whether --members was given (else fewer in the file is no surprise).
  bool members_given = false;
  std::string members_file = "/tmp/mb-loadgen-members.txt";
  // Preload: own flights per member; 0 skips accrual entirely.
  int history = 5;
  // Preload (history > 0): PEK-JFK F flights per member, and extra ones to
  // the first member, the default single hold member.
  int credit_flights = 3;
  int rich_flights = 500;
  // Hold modes: miles per hold.
  int64_t hold_miles = 10;
  // Preload: every member's password; redeem-cancel: the one sent.
  std::string member_password = kDefaultMemberPassword;
  // redeem-cancel: redeem as the member's own logged-in web session (channel
  // WEB with the gateway's session metadata), so no password is checked.
  bool web_session = false;
  uint64_t seed = 1;
  // Mixed into every idempotency key; default from the time.
  std::string run_id;
  // Channels per target and completion-queue threads.
  int channels = 4;
  int threads = 2;
  // Deadline of each request, seconds.
  double timeout_s = 10;
  bool help = false;
};

constexpr char kUsage[] =
    R"(usage: loadgen --mode=MODE [flags]
modes: preload | post-flights | balances | hold-capture | hold-release |
       get-members | redeem-cancel | gateway-dashboard
  --accrual=HOST:PORT        accrual service (default 127.0.0.1:7102)
  --gateway_http=HOST:PORT   gateway-dashboard: the gateway's REST face
                             (default 127.0.0.1:8080)
  --statement_every=N        gateway-dashboard: every N-th op reads a
                             statement page instead (default 0: never)
  --membership=HOST:PORT     membership service (default 127.0.0.1:7101)
  --redemption=HOST:PORT     redemption service (default 127.0.0.1:7103)
  --concurrency=N            requests in flight (default 64)
  --duration=SECONDS         measured time (default 10)
  --warmup=SECONDS           time before measuring (default 1)
  --members=N                members to use or (preload) enrol (default 1000;
                             hold modes 1)
  --members_file=PATH        written by preload, read by the other modes
                             (default /tmp/mb-loadgen-members.txt)
  --history=K                preload: own flights per member; 0 = no accrual
                             calls at all (default 5)
  --credit_flights=N         preload: PEK-JFK F flights per member (default 3)
  --rich_flights=N           preload: more of them to the first member
                             (default 500)
  --hold_miles=N             miles per hold (default 10)
  --web_session=true         redeem-cancel: redeem as the members' own web
                             sessions (channel WEB, the gateway's session
                             metadata), as the portal does: no password check
  --member_password=TEXT     preload: every member's password; redeem-cancel:
                             the password sent, which must be the preload's
                             (8-128 characters, default loadgen-pass-1)
  --seed=N                   random seed (default 1)
  --run_id=ID                mixed into ticket numbers and request ids, 1-32
                             of A-Z a-z 0-9 . _ - (default: from the time)
  --channels=N               gRPC channels per target (default 4)
  --threads=N                completion-queue threads (default 2)
  --timeout=SECONDS          deadline of each request (default 10)
Hosts must be on this machine (localhost, 127.x.x.x, ::1).
The last line is: ops_per_s=<n> p50_ms=<x> p99_ms=<y> errors=<k>
)";

bool ParseInt(absl::string_view text, int64_t min, int64_t max,
              int64_t* value) {
  return absl::SimpleAtoi(text, value) && *value >= min && *value <= max;
}

bool ParseInt(absl::string_view text, int min, int max, int* value) {
  int64_t wide = 0;
  if (!ParseInt(text, int64_t{min}, int64_t{max}, &wide)) return false;
  *value = static_cast<int>(wide);
  return true;
}

bool ParseSeconds(absl::string_view text, double min, double* value) {
  return absl::SimpleAtod(text, value) && *value >= min && *value <= 86400;
}

// "host:port" with a loopback host and a port of 1-65535.
bool IsLocalTarget(absl::string_view target) {
  const size_t colon = target.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view host = target.substr(0, colon);
  int port = 0;
  if (!ParseInt(target.substr(colon + 1), 1, 65535, &port)) return false;
  return host == "localhost" || host == "[::1]" ||
         (absl::StartsWith(host, "127.") && host.size() <= 15 &&
          std::all_of(host.begin(), host.end(), [](char c) {
            return absl::ascii_isdigit(c) || c == '.';
          }));
}

// Fills `options` from --name=value arguments ("-" and "_" alike in names).
absl::Status ParseFlags(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view argument = argv[i];
    if (!absl::StartsWith(argument, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", argument, "'"));
    }
    const size_t equals = argument.find('=');
    const std::string name =
        absl::StrReplaceAll(argument.substr(2, equals == absl::string_view::npos
                                                   ? absl::string_view::npos
                                                   : equals - 2),
                            {{"-", "_"}});
    if (name == "help") {
      options->help = true;
      continue;
    }
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value (--", name, "=...)"));
    }
    const absl::string_view value = argument.substr(equals + 1);
    bool good = true;
    if (name == "mode") {
      good = false;
      for (const ModeName& entry : kModeNames) {
        if (value == entry.name) {
          options->mode = entry.mode;
          good = true;
        }
      }
    } else if (name == "accrual") {
      options->accrual = std::string(value);
      good = IsLocalTarget(value);
    } else if (name == "membership") {
      options->membership = std::string(value);
      good = IsLocalTarget(value);
    } else if (name == "gateway_http") {
      options->gateway_http = std::string(value);
      good = IsLocalTarget(value);
    } else if (name == "statement_every") {
      good = absl::SimpleAtoi(value, &options->statement_every) &&
             options->statement_every >= 0;
    } else if (name == "redemption") {
      options->redemption = std::string(value);
      good = IsLocalTarget(value);
    } else if (name == "concurrency") {
      good = ParseInt(value, 1, 10000, &options->concurrency);
    } else if (name == "duration") {
      good = ParseSeconds(value, 0.001, &options->duration_s);
    } else if (name == "warmup") {
      good = ParseSeconds(value, 0, &options->warmup_s);
    } else if (name == "members") {
      good =
          ParseInt(value, int64_t{1}, int64_t{10'000'000}, &options->members);
      options->members_given = true;
    } else if (name == "members_file") {
      options->members_file = std::string(value);
      good = !value.empty();
    } else if (name == "history") {
      good = ParseInt(value, 0, 10000, &options->history);
    } else if (name == "credit_flights") {
      good = ParseInt(value, 0, 10000, &options->credit_flights);
    } else if (name == "rich_flights") {
      good = ParseInt(value, 0, 1'000'000, &options->rich_flights);
    } else if (name == "hold_miles") {
      good = ParseInt(value, int64_t{1}, int64_t{10'000'000},
                      &options->hold_miles);
    } else if (name == "member_password") {
      options->member_password = std::string(value);
      good = IsValidPassword(value);
    } else if (name == "web_session") {
      good = value == "true" || value == "false";
      options->web_session = value == "true";
    } else if (name == "seed") {
      good = absl::SimpleAtoi(value, &options->seed);
    } else if (name == "run_id") {
      options->run_id = std::string(value);
      good = IsValidRunId(value);
    } else if (name == "channels") {
      good = ParseInt(value, 1, 64, &options->channels);
    } else if (name == "threads") {
      good = ParseInt(value, 1, 64, &options->threads);
    } else if (name == "timeout") {
      good = ParseSeconds(value, 0.001, &options->timeout_s);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!good && name == "member_password") {
      return absl::InvalidArgumentError(
          "bad value for --member_password: must be 8 to 128 characters");
    }
    if (!good) {
      const bool is_target =
          name == "accrual" || name == "membership" || name == "redemption";
      return absl::InvalidArgumentError(absl::StrCat(
          "bad value for --", name, ": '", value, "'",
          is_target ? " (must be HOST:PORT on this machine: localhost, "
                      "127.x.x.x or [::1])"
                    : ""));
    }
  }
  if (options->help) return absl::OkStatus();
  if (!options->mode.has_value()) {
    return absl::InvalidArgumentError("--mode is required");
  }
  if (options->members == 0) {
    options->members = IsHoldMode(*options->mode) ? 1 : 1000;
  }
  if (options->run_id.empty()) {
    options->run_id = DefaultRunId(absl::Now(), std::random_device()());
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Targets

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "CODE_?";
  }
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat(CodeName(status.error_code()), ": ",
                      status.error_message());
}

// `count` channels to `target` that do not share a connection: each has its
// own subchannel pool, and an argument that makes it distinct.
std::vector<std::shared_ptr<grpc::Channel>> MakeChannels(
    const std::string& target, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetInt("mileagebank.loadgen_channel", i);
    arguments.SetMaxReceiveMessageSize(64 << 20);
    channels.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), arguments));
  }
  return channels;
}

// OK when the service answered `probe` at all (any status but those that
// mean no answer, or no such service); otherwise why not, naming it.
absl::Status CheckAnswers(absl::string_view service, const std::string& target,
                          const grpc::Status& probe) {
  switch (probe.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(absl::StrCat(
          service, " at ", target, " is unreachable: ", Describe(probe)));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnavailableError(
          absl::StrCat(target, " answers but is not the ", service,
                       " service: ", Describe(probe)));
    default:
      return absl::OkStatus();
  }
}

// Whether every channel connects; the first one that does not is named.
absl::Status ConnectAll(
    absl::string_view service, const std::string& target,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  for (size_t i = 0; i < channels.size(); ++i) {
    if (!channels[i]->WaitForConnected(std::chrono::system_clock::now() +
                                       kProbeDeadline)) {
      return absl::UnavailableError(absl::StrCat(
          service, " at ", target, ": channel ", i, " did not connect"));
    }
  }
  return absl::OkStatus();
}

// Also gives the probe's status and, when OK, the member's balance.
absl::Status ProbeAccrual(
    const std::string& target,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::string& member_number, grpc::Status* probe,
    accrual::v1::Balance* balance) {
  auto stub = Accrual::NewStub(channels.front());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kProbeDeadline);
  accrual::v1::GetBalanceRequest request;
  request.set_member_number(member_number);
  accrual::v1::GetBalanceResponse response;
  const grpc::Status status = stub->GetBalance(&context, request, &response);
  absl::Status answers = CheckAnswers("accrual", target, status);
  if (!answers.ok()) return answers;
  *probe = status;
  *balance = response.balance();
  return ConnectAll("accrual", target, channels);
}

absl::Status ProbeMembership(
    const std::string& target,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::string& member_number) {
  auto stub = Membership::NewStub(channels.front());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kProbeDeadline);
  membership::v1::GetMemberRequest request;
  request.set_member_number(member_number);
  membership::v1::GetMemberResponse response;
  absl::Status answers = CheckAnswers(
      "membership", target, stub->GetMember(&context, request, &response));
  if (!answers.ok()) return answers;
  return ConnectAll("membership", target, channels);
}

// Whether redemption answers (GetAwardSeats, which only reads) and every
// channel connects.
absl::Status ProbeRedemption(
    const std::string& target,
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    absl::CivilDay today) {
  auto stub = Redemption::NewStub(channels.front());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kProbeDeadline);
  redemption::v1::GetAwardSeatsRequest request;
  request.set_flight_number(1);
  *request.mutable_flight_date() = validation::ToProtoDate(today + 1);
  redemption::v1::GetAwardSeatsResponse response;
  absl::Status answers = CheckAnswers(
      "redemption", target, stub->GetAwardSeats(&context, request, &response));
  if (!answers.ok()) return answers;
  return ConnectAll("redemption", target, channels);
}

// Waits until accrual knows every member (GetBalance is not NOT_FOUND): it
// may learn of new members from membership's event stream a little later.
absl::Status WaitUntilAccrualKnows(
    const std::shared_ptr<grpc::Channel>& channel,
    const std::vector<std::string>& members, absl::Duration patience) {
  auto stub = Accrual::NewStub(channel);
  const absl::Time give_up = absl::Now() + patience;
  bool said = false;
  for (const std::string& member : members) {
    for (;;) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kProbeDeadline);
      accrual::v1::GetBalanceRequest request;
      request.set_member_number(member);
      accrual::v1::GetBalanceResponse response;
      const grpc::Status status =
          stub->GetBalance(&context, request, &response);
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) break;
      if (absl::Now() > give_up) {
        return absl::DeadlineExceededError(absl::StrCat(
            "accrual still does not know member ", member, " after ",
            absl::FormatDuration(patience), ": ", Describe(status)));
      }
      if (!said) {
        std::cout << "waiting for accrual to know the new members\n";
        said = true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The members file: one member number a line; "#" lines are comments.

absl::StatusOr<std::vector<std::string>> ReadMembersFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "members file ", path,
        " is missing: run --mode=preload first, or pass --members_file"));
  }
  std::vector<std::string> members;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || absl::StartsWith(text, "#")) continue;
    absl::Status valid =
        validation::ValidateMemberNumber("member_number", text);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " line ", number, ": not a member number: ", valid.message()));
    }
    members.emplace_back(text);
  }
  if (members.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "members file ", path, " has no member numbers: run --mode=preload"));
  }
  return members;
}

absl::Status WriteMembersFile(const std::string& path, absl::string_view run_id,
                              const std::vector<std::string>& members) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# mb-loadgen members, run_id=" << run_id
        << " count=" << members.size() << "\n";
    for (const std::string& member : members) out << member << "\n";
    out.close();
    if (!out) {
      return absl::InternalError(absl::StrCat("cannot write ", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The engine: slots, each one op in flight at a time, on completion queues.

// What every slot of a run shares. Slots only read it, except `next` and
// their own entries of `enrolled`.
struct Shared {
  std::vector<std::unique_ptr<Accrual::Stub>> accrual;        // per channel
  std::vector<std::unique_ptr<Membership::Stub>> membership;  // per channel
  std::vector<std::unique_ptr<Redemption::Stub>> redemption;  // per channel
  std::string run_id;
  absl::CivilDay today;
  std::chrono::system_clock::duration timeout;
  int64_t hold_miles = 0;
  // Preload: set on enrolment; redeem-cancel: sent.
  std::string member_password;
  bool web_session = false;
  // The members load is spread over.
  std::vector<std::string> members;
  // The next unique number: ticket counter, request_id counter or work item.
  std::atomic<int64_t> next{0};
  // Preload: the number of the member enrolled as index i ("" if it failed).
  std::vector<std::string> enrolled;
  // Preload: the flights to post.
  std::vector<accrual::v1::PostOwnFlightRequest> postings;
};

// One unary call; the reader lives in the call's arena, so it goes first.
template <typename Response>
struct UnaryCall {
  grpc::ClientContext context;
  Response response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

template <typename Stub, typename Request, typename Response>
using PrepareMethod =
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> (Stub::*)(
        grpc::ClientContext*, const Request&, grpc::CompletionQueue*);

// One op at a time: Start begins an op's first call; when a call completes
// the worker calls Step, which either begins the op's next call or ends the
// op. The slot itself is the completion queue tag.
class Slot {
 public:
  Slot(Shared& shared, int index, grpc::CompletionQueue* cq, uint64_t seed)
      : shared_(shared), index_(index), cq_(cq), rng_(seed) {}
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  virtual ~Slot() = default;

  // Begins an op; false when there is no work left.
  virtual bool Start() = 0;
  // The call begun last completed (status()); true when the op is over.
  virtual bool Step() { return true; }

  // The status of the call completed last: the op's result once it is over.
  const grpc::Status& status() const { return status_; }
  // The error report's line for a failed op.
  virtual std::string DescribeError() const { return Describe(status_); }

  // Set by the worker when the op starts.
  Clock::time_point op_start;

 protected:
  template <typename Stub, typename Request, typename Response>
  void Begin(Stub& stub, PrepareMethod<Stub, Request, Response> prepare,
             const Request& request, std::optional<UnaryCall<Response>>& call,
             const std::map<std::string, std::string>& metadata = {}) {
    call.emplace();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               shared_.timeout);
    for (const auto& [key, value] : metadata) {
      call->context.AddMetadata(key, value);
    }
    call->reader = (stub.*prepare)(&call->context, request, cq_);
    call->reader->StartCall();
    call->reader->Finish(&call->response, &status_, this);
  }

  Accrual::Stub& accrual() {
    return *shared_.accrual[index_ % shared_.accrual.size()];
  }
  Membership::Stub& membership() {
    return *shared_.membership[index_ % shared_.membership.size()];
  }
  Redemption::Stub& redemption() {
    return *shared_.redemption[index_ % shared_.redemption.size()];
  }
  const std::string& RandomMember() {
    return shared_.members[std::uniform_int_distribution<size_t>(
        0, shared_.members.size() - 1)(rng_)];
  }

  Shared& shared_;
  const int index_;
  grpc::CompletionQueue* const cq_;
  std::mt19937_64 rng_;
  grpc::Status status_;
};

class PostFlightSlot final : public Slot {
 public:
  using Slot::Slot;
  bool Start() override {
    const int64_t n = shared_.next.fetch_add(1);
    Begin(accrual(), &Accrual::Stub::PrepareAsyncPostOwnFlight,
          RandomOwnFlight(RandomMember(),
                          TicketNumber(shared_.run_id, "post-flights", n),
                          shared_.today, rng_),
          call_);
    return true;
  }

 private:
  std::optional<UnaryCall<accrual::v1::PostOwnFlightResponse>> call_;
};

class BalanceSlot final : public Slot {
 public:
  using Slot::Slot;
  bool Start() override {
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(RandomMember());
    Begin(accrual(), &Accrual::Stub::PrepareAsyncGetBalance, request, call_);
    return true;
  }

 private:
  std::optional<UnaryCall<accrual::v1::GetBalanceResponse>> call_;
};

class GetMemberSlot final : public Slot {
 public:
  using Slot::Slot;
  bool Start() override {
    membership::v1::GetMemberRequest request;
    request.set_member_number(RandomMember());
    Begin(membership(), &Membership::Stub::PrepareAsyncGetMember, request,
          call_);
    return true;
  }

 private:
  std::optional<UnaryCall<membership::v1::GetMemberResponse>> call_;
};

// CreateHold, then CaptureHold (capture) or ReleaseHold of the new hold.
class HoldSlot final : public Slot {
 public:
  HoldSlot(Shared& shared, int index, grpc::CompletionQueue* cq, uint64_t seed,
           bool capture)
      : Slot(shared, index, cq, seed), capture_(capture) {}

  bool Start() override {
    accrual::v1::CreateHoldRequest request;
    request.set_member_number(RandomMember());
    request.set_miles(shared_.hold_miles);
    request.set_request_id(
        RequestId(shared_.run_id, "h", shared_.next.fetch_add(1)));
    request.mutable_actor()->set_channel(common::v1::WEB);
    created_ = false;
    Begin(accrual(), &Accrual::Stub::PrepareAsyncCreateHold, request, create_);
    return true;
  }

  bool Step() override {
    if (created_ || !status_.ok()) return true;
    created_ = true;
    const std::string& hold_id = create_->response.hold().hold_id();
    if (capture_) {
      accrual::v1::CaptureHoldRequest request;
      request.set_hold_id(hold_id);
      request.mutable_actor()->set_channel(common::v1::SYSTEM);
      Begin(accrual(), &Accrual::Stub::PrepareAsyncCaptureHold, request,
            capture_call_);
    } else {
      accrual::v1::ReleaseHoldRequest request;
      request.set_hold_id(hold_id);
      request.mutable_actor()->set_channel(common::v1::WEB);
      Begin(accrual(), &Accrual::Stub::PrepareAsyncReleaseHold, request,
            release_call_);
    }
    return false;
  }

 private:
  const bool capture_;
  bool created_ = false;
  std::optional<UnaryCall<accrual::v1::CreateHoldResponse>> create_;
  std::optional<UnaryCall<accrual::v1::CaptureHoldResponse>> capture_call_;
  std::optional<UnaryCall<accrual::v1::ReleaseHoldResponse>> release_call_;
};

// CreateRedemption, then CancelRedemption of the new redemption. Errors say
// which of the two failed: a failed cancel leaves the redemption HELD, its
// seat taken and its miles held until the hold expires.
class RedeemCancelSlot final : public Slot {
 public:
  using Slot::Slot;

  bool Start() override {
    created_ = false;
    const std::string& member = RandomMember();
    redemption::v1::CreateRedemptionRequest request =
        RedeemRequestFor(member, shared_.member_password, shared_.run_id,
                         shared_.next.fetch_add(1), shared_.today);
    std::map<std::string, std::string> metadata;
    if (shared_.web_session) {
      request.clear_member_password();
      request.mutable_actor()->Clear();
      request.mutable_actor()->set_channel(common::v1::WEB);
      metadata["x-mb-session-member"] = member;
    }
    Begin(redemption(), &Redemption::Stub::PrepareAsyncCreateRedemption, request,
          create_, metadata);
    return true;
  }

  bool Step() override {
    if (created_ || !status_.ok()) return true;
    created_ = true;
    Begin(redemption(), &Redemption::Stub::PrepareAsyncCancelRedemption,
          CancelRequestFor(create_->response.redemption().redemption_id()),
          cancel_);
    return false;
  }

  std::string DescribeError() const override {
    return absl::StrCat(created_ ? "CancelRedemption" : "CreateRedemption",
                        ": ", Describe(status_));
  }

 private:
  bool created_ = false;
  std::optional<UnaryCall<redemption::v1::CreateRedemptionResponse>> create_;
  std::optional<UnaryCall<redemption::v1::CancelRedemptionResponse>> cancel_;
};

// Preload: enrols member i for each work item i < enrolled.size().
class EnrolSlot final : public Slot {
 public:
  using Slot::Slot;
  bool Start() override {
    item_ = shared_.next.fetch_add(1);
    if (item_ >= static_cast<int64_t>(shared_.enrolled.size())) return false;
    Begin(membership(), &Membership::Stub::PrepareAsyncEnrol,
          EnrolRequestFor(shared_.run_id, item_, shared_.member_password),
          call_);
    return true;
  }
  bool Step() override {
    if (status_.ok()) {
      shared_.enrolled[item_] = call_->response.member().member_number();
    }
    return true;
  }

 private:
  int64_t item_ = 0;
  std::optional<UnaryCall<membership::v1::EnrolResponse>> call_;
};

// Preload: posts postings[i] for each work item i.
class PostingSlot final : public Slot {
 public:
  using Slot::Slot;
  bool Start() override {
    const int64_t item = shared_.next.fetch_add(1);
    if (item >= static_cast<int64_t>(shared_.postings.size())) return false;
    Begin(accrual(), &Accrual::Stub::PrepareAsyncPostOwnFlight,
          shared_.postings[item], call_);
    return true;
  }

 private:
  std::optional<UnaryCall<accrual::v1::PostOwnFlightResponse>> call_;
};

// What a worker counted.
struct Tally {
  // Latencies of the successful ops completed in the measured window.
  LatencySample latencies;
  int64_t ok = 0;
  int64_t errors = 0;
  // Completed before the measured window.
  int64_t warmup_ok = 0;
  int64_t warmup_errors = 0;
  // Completed after it (begun before its end; not counted).
  int64_t late = 0;

  void Merge(const Tally& other) {
    latencies.Merge(other.latencies);
    ok += other.ok;
    errors += other.errors;
    warmup_ok += other.warmup_ok;
    warmup_errors += other.warmup_errors;
    late += other.late;
  }
};

// Ops completing in [measure_start, stop) are measured; none starts at or
// after stop.
struct Window {
  Clock::time_point measure_start;
  Clock::time_point stop;
};

// One completion queue and the slots on it, driven by one thread; the tally
// is the thread's own.
class Worker {
 public:
  Worker(const Window& window, ErrorTally* errors)
      : window_(window), errors_(errors) {}

  grpc::CompletionQueue* cq() { return &cq_; }
  void Add(std::unique_ptr<Slot> slot) { slots_.push_back(std::move(slot)); }
  const Tally& tally() const { return tally_; }

  // Runs until no slot has work or time is up and every op has ended.
  void Run() {
    int active = 0;
    for (const std::unique_ptr<Slot>& slot : slots_) {
      if (StartOp(*slot)) ++active;
    }
    if (active == 0) cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      Slot& slot = *static_cast<Slot*>(tag);
      if (!slot.Step()) continue;
      Record(slot);
      if (!StartOp(slot) && --active == 0) cq_.Shutdown();
    }
  }

 private:
  bool StartOp(Slot& slot) {
    const Clock::time_point now = Clock::now();
    if (now >= window_.stop) return false;
    slot.op_start = now;
    return slot.Start();
  }

  void Record(const Slot& slot) {
    const Clock::time_point end = Clock::now();
    const bool ok = slot.status().ok();
    if (!ok) errors_->Add(slot.DescribeError());
    if (end < window_.measure_start) {
      ++(ok ? tally_.warmup_ok : tally_.warmup_errors);
    } else if (end < window_.stop) {
      if (ok) {
        ++tally_.ok;
        tally_.latencies.Add(
            std::chrono::duration_cast<std::chrono::microseconds>(end -
                                                                  slot.op_start)
                .count());
      } else {
        ++tally_.errors;
      }
    } else {
      ++tally_.late;
    }
  }

  const Window window_;
  ErrorTally* const errors_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Tally tally_;
};

using SlotFactory = std::function<std::unique_ptr<Slot>(
    int index, grpc::CompletionQueue* cq, uint64_t seed)>;

struct PhaseResult {
  Tally tally;
  // The measured window (timed phases) or the whole phase (finite ones).
  double seconds = 0;
};

std::chrono::nanoseconds ToChrono(double seconds) {
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

// Runs `slot_count` slots over the options' threads; a timed phase when
// `duration_s` is set, otherwise until the slots run out of work.
PhaseResult RunPhase(const Options& options, int slot_count,
                     const SlotFactory& factory, ErrorTally* errors,
                     std::optional<double> duration_s) {
  const Clock::time_point start = Clock::now();
  Window window;
  if (duration_s.has_value()) {
    window.measure_start = start + ToChrono(options.warmup_s);
    window.stop = window.measure_start + ToChrono(*duration_s);
  } else {
    window.measure_start = start;
    window.stop = Clock::time_point::max();
  }
  const int thread_count = std::min(options.threads, std::max(slot_count, 1));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < thread_count; ++t) {
    workers.push_back(std::make_unique<Worker>(window, errors));
  }
  for (int i = 0; i < slot_count; ++i) {
    Worker& worker = *workers[i % thread_count];
    worker.Add(
        factory(i, worker.cq(), options.seed * 0x9E3779B97F4A7C15ull + i + 1));
  }
  std::vector<std::thread> threads;
  for (const std::unique_ptr<Worker>& worker : workers) {
    threads.emplace_back([&worker] { worker->Run(); });
  }
  for (std::thread& thread : threads) thread.join();
  const Clock::time_point end = Clock::now();

  PhaseResult result;
  for (const std::unique_ptr<Worker>& worker : workers) {
    result.tally.Merge(worker->tally());
  }
  result.seconds =
      std::chrono::duration<double>(duration_s.has_value()
                                        ? window.stop - window.measure_start
                                        : end - start)
          .count();
  return result;
}

// ---------------------------------------------------------------------------
// Reporting

std::string Ms(double micros) { return absl::StrFormat("%.3f", micros / 1000); }

void PrintPhase(absl::string_view label, const PhaseResult& result) {
  const Tally& tally = result.tally;
  const LatencySummary summary = tally.latencies.Summarize();
  const double rate = result.seconds > 0 ? tally.ok / result.seconds : 0;
  std::cout << absl::StrFormat(
      "%s: %.3f s, ops=%d (ok=%d errors=%d), %.0f ok ops/s\n", label,
      result.seconds, tally.ok + tally.errors, tally.ok, tally.errors, rate);
  std::cout << absl::StrCat(
      label, " latency ms: mean=", Ms(summary.mean_us),
      " p50=", Ms(summary.p50_us), " p90=", Ms(summary.p90_us),
      " p99=", Ms(summary.p99_us), " p99.9=", Ms(summary.p999_us),
      " max=", Ms(summary.max_us), "\n");
}

void PrintErrors(const ErrorTally& errors) {
  const std::vector<std::string> lines = errors.Report();
  if (lines.empty()) return;
  std::cerr << "errors (" << errors.total()
            << " in all, warmup included), first distinct messages:\n";
  for (const std::string& line : lines) std::cerr << "  " << line << "\n";
}

void PrintResult(const PhaseResult& result) {
  const LatencySummary summary = result.tally.latencies.Summarize();
  const double rate = result.seconds > 0 ? result.tally.ok / result.seconds : 0;
  std::cout << ResultLine(rate, summary.p50_us, summary.p99_us,
                          result.tally.errors)
            << std::endl;
}

// Stubs on the channels of the targets used (no stubs for no channels).
void Fill(
    Shared& shared, const Options& options,
    const std::vector<std::shared_ptr<grpc::Channel>>& accrual_channels,
    const std::vector<std::shared_ptr<grpc::Channel>>& membership_channels,
    const std::vector<std::shared_ptr<grpc::Channel>>& redemption_channels =
        {}) {
  for (const auto& channel : accrual_channels) {
    shared.accrual.push_back(Accrual::NewStub(channel));
  }
  for (const auto& channel : membership_channels) {
    shared.membership.push_back(Membership::NewStub(channel));
  }
  for (const auto& channel : redemption_channels) {
    shared.redemption.push_back(Redemption::NewStub(channel));
  }
  shared.run_id = options.run_id;
  shared.today = validation::UtcDay(absl::Now());
  shared.timeout =
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          ToChrono(options.timeout_s));
  shared.hold_miles = options.hold_miles;
  shared.member_password = options.member_password;
  shared.web_session = options.web_session;
}

// Redeem-cancel's first op (number 0), synchronous and outside the figures,
// for the first member: a wrong password stops the run here (kExitBadFlags)
// rather than count toward the lockout of every member; other failures are
// only reported, the run will count them.
int CheckRedeemCancel(Shared& shared) {
  Redemption::Stub& stub = *shared.redemption.front();
  const std::string& member = shared.members.front();
  grpc::ClientContext create_context;
  create_context.set_deadline(std::chrono::system_clock::now() +
                              shared.timeout);
  redemption::v1::CreateRedemptionResponse created;
  redemption::v1::CreateRedemptionRequest request =
      RedeemRequestFor(member, shared.member_password, shared.run_id,
                       shared.next.fetch_add(1), shared.today);
  if (shared.web_session) {
    request.clear_member_password();
    request.mutable_actor()->Clear();
    request.mutable_actor()->set_channel(common::v1::WEB);
    create_context.AddMetadata("x-mb-session-member", member);
  }
  const grpc::Status create =
      stub.CreateRedemption(&create_context, request, &created);
  if (create.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    std::cerr << "loadgen: the first CreateRedemption, for member " << member
              << ", was refused: " << Describe(create)
              << "\nloadgen: give --member_password the password the members "
                 "were preloaded with (members preloaded without one need "
                 "preloading anew, with a new --run_id); stopping now rather "
                 "than count a wrong password toward every member's "
                 "lockout\n";
    return kExitBadFlags;
  }
  if (!create.ok()) {
    std::cerr << "loadgen: warning: the first CreateRedemption, for member "
              << member << ", failed: " << Describe(create) << "\n";
    return kExitRan;
  }
  const std::string& id = created.redemption().redemption_id();
  grpc::ClientContext cancel_context;
  cancel_context.set_deadline(std::chrono::system_clock::now() +
                              shared.timeout);
  redemption::v1::CancelRedemptionResponse cancelled;
  const grpc::Status cancel =
      stub.CancelRedemption(&cancel_context, CancelRequestFor(id), &cancelled);
  if (!cancel.ok()) {
    std::cerr << "loadgen: warning: the first CancelRedemption, of " << id
              << ", failed: " << Describe(cancel) << "\n";
    return kExitRan;
  }
  std::cout << "first op: member " << member << " redeemed "
            << created.redemption().total_miles() << " miles as " << id
            << " and cancelled it\n";
  return kExitRan;
}

// ---------------------------------------------------------------------------
// Modes

int RunPreload(const Options& options) {
  const bool use_accrual = options.history > 0;
  std::cout << absl::StrFormat(
      "mode=preload membership=%s accrual=%s members=%d history=%d "
      "credit_flights=%d rich_flights=%d concurrency=%d run_id=%s\n",
      options.membership, use_accrual ? options.accrual : "(not used)",
      options.members, options.history,
      use_accrual ? options.credit_flights : 0,
      use_accrual ? options.rich_flights : 0, options.concurrency,
      options.run_id);

  // Any well-formed number will do: a NOT_FOUND answer shows the service.
  const std::string probe_member =
      validation::MemberNumberFromSerial(validation::kMinMemberSerial);
  const auto membership_channels =
      MakeChannels(options.membership, options.channels);
  absl::Status reachable =
      ProbeMembership(options.membership, membership_channels, probe_member);
  std::vector<std::shared_ptr<grpc::Channel>> accrual_channels;
  if (reachable.ok() && use_accrual) {
    accrual_channels = MakeChannels(options.accrual, options.channels);
    grpc::Status probe;
    accrual::v1::Balance balance;
    reachable = ProbeAccrual(options.accrual, accrual_channels, probe_member,
                             &probe, &balance);
  }
  if (!reachable.ok()) {
    std::cerr << "loadgen: " << reachable.message() << "\n";
    return kExitUnreachable;
  }

  Shared shared;
  Fill(shared, options, accrual_channels, membership_channels);
  shared.enrolled.assign(options.members, "");
  ErrorTally errors;
  const int enrol_slots =
      static_cast<int>(std::min<int64_t>(options.concurrency, options.members));
  PhaseResult enrol = RunPhase(
      options, enrol_slots,
      [&](int index, grpc::CompletionQueue* cq, uint64_t seed) {
        return std::make_unique<EnrolSlot>(shared, index, cq, seed);
      },
      &errors, std::nullopt);
  PrintPhase("enrol", enrol);

  std::vector<std::string> members;
  for (const std::string& member : shared.enrolled) {
    if (!member.empty()) members.push_back(member);
  }
  PhaseResult total = enrol;
  if (members.empty()) {
    std::cerr << "loadgen: no member was enrolled; " << options.members_file
              << " is left as it was\n";
  } else {
    absl::Status written =
        WriteMembersFile(options.members_file, options.run_id, members);
    if (!written.ok()) {
      std::cerr << "loadgen: " << written.message() << "\n";
    } else {
      std::cout << "wrote " << members.size() << " member numbers to "
                << options.members_file << "\n";
    }
    if (members.size() < shared.enrolled.size()) {
      std::cerr << "loadgen: " << shared.enrolled.size() - members.size()
                << " enrolments failed; the file lists the others\n";
    }
  }

  if (use_accrual && !members.empty()) {
    absl::Status known = WaitUntilAccrualKnows(accrual_channels.front(),
                                               members, absl::Seconds(60));
    if (!known.ok()) std::cerr << "loadgen: " << known.message() << "\n";
    std::mt19937_64 rng(options.seed);
    int64_t ticket = 0;
    // Dated, so that preloading again the same day replays the same flights
    // and another day posts new ones (flight dates are relative to today).
    const std::string purpose =
        absl::StrCat("preload-", validation::FormatDate(shared.today));
    auto next_ticket = [&] {
      return TicketNumber(options.run_id, purpose, ticket++);
    };
    for (const std::string& member : members) {
      for (int i = 0; i < options.history; ++i) {
        shared.postings.push_back(
            RandomOwnFlight(member, next_ticket(), shared.today, rng));
      }
      for (int i = 0; i < options.credit_flights; ++i) {
        shared.postings.push_back(
            LargeOwnFlight(member, next_ticket(), shared.today, rng));
      }
    }
    for (int i = 0; i < options.rich_flights; ++i) {
      shared.postings.push_back(
          LargeOwnFlight(members.front(), next_ticket(), shared.today, rng));
    }
    shared.next = 0;
    const int post_slots = static_cast<int>(std::min<int64_t>(
        options.concurrency, static_cast<int64_t>(shared.postings.size())));
    PhaseResult post = RunPhase(
        options, post_slots,
        [&](int index, grpc::CompletionQueue* cq, uint64_t seed) {
          return std::make_unique<PostingSlot>(shared, index, cq, seed);
        },
        &errors, std::nullopt);
    PrintPhase("post", post);
    std::cout << "first member (the default hold member): " << members.front()
              << "\n";
    total.tally.Merge(post.tally);
    total.seconds += post.seconds;
  }
  std::cout << absl::StrFormat("mode=preload ops=%d errors=%d\n",
                               total.tally.ok + total.tally.errors,
                               total.tally.errors);
  PrintErrors(errors);
  PrintResult(total);
  return kExitRan;
}

int RunLoad(const Options& options) {
  const Mode mode = *options.mode;
  absl::StatusOr<std::vector<std::string>> file =
      ReadMembersFile(options.members_file);
  if (!file.ok()) {
    std::cerr << "loadgen: " << file.status().message() << "\n";
    return kExitBadFlags;
  }
  std::vector<std::string> members = *std::move(file);
  if (static_cast<int64_t>(members.size()) > options.members) {
    members.resize(options.members);
  } else if (static_cast<int64_t>(members.size()) < options.members &&
             options.members_given) {
    std::cerr << "loadgen: --members=" << options.members << " but "
              << options.members_file << " lists " << members.size()
              << "; using those\n";
  }

  const bool on_membership = mode == Mode::kGetMembers;
  const bool on_redemption = mode == Mode::kRedeemCancel;
  const bool on_accrual = !on_membership && !on_redemption;
  const std::string& target = on_membership   ? options.membership
                              : on_redemption ? options.redemption
                                              : options.accrual;
  std::cout << absl::StrFormat(
      "mode=%s target=%s concurrency=%d duration_s=%g warmup_s=%g members=%d "
      "channels=%d threads=%d run_id=%s\n",
      NameOf(mode), target, options.concurrency, options.duration_s,
      options.warmup_s, members.size(), options.channels, options.threads,
      options.run_id);

  const auto channels = MakeChannels(target, options.channels);
  grpc::Status probe;
  accrual::v1::Balance balance;
  absl::Status reachable =
      on_membership ? ProbeMembership(target, channels, members.front())
      : on_redemption
          ? ProbeRedemption(target, channels, validation::UtcDay(absl::Now()))
          : ProbeAccrual(target, channels, members.front(), &probe, &balance);
  if (!reachable.ok()) {
    std::cerr << "loadgen: " << reachable.message() << "\n";
    return kExitUnreachable;
  }
  if (IsHoldMode(mode) && !probe.ok()) {
    std::cerr << "loadgen: warning: GetBalance of the hold member "
              << members.front() << ": " << Describe(probe) << "\n";
  } else if (IsHoldMode(mode)) {
    std::cout << absl::StrFormat(
        "hold member %s: balance=%d held=%d available=%d (%d holds of %d)\n",
        members.front(), balance.balance(), balance.held(), balance.available(),
        balance.available() / options.hold_miles, options.hold_miles);
    if (balance.available() < options.hold_miles * 100'000) {
      std::cerr << "loadgen: warning: the hold member has room for fewer than "
                   "100,000 holds; holds may fail for insufficient miles "
                   "(preload with --history of 1 or more credits miles)\n";
    }
  }

  Shared shared;
  const decltype(channels) none;
  Fill(shared, options, on_accrual ? channels : none,
       on_membership ? channels : none, on_redemption ? channels : none);
  shared.members = std::move(members);
  if (mode == Mode::kRedeemCancel) {
    const int checked = CheckRedeemCancel(shared);
    if (checked != kExitRan) return checked;
  }
  ErrorTally errors;
  SlotFactory factory = [&](int index, grpc::CompletionQueue* cq,
                            uint64_t seed) -> std::unique_ptr<Slot> {
    switch (mode) {
      case Mode::kPostFlights:
        return std::make_unique<PostFlightSlot>(shared, index, cq, seed);
      case Mode::kBalances:
        return std::make_unique<BalanceSlot>(shared, index, cq, seed);
      case Mode::kHoldCapture:
      case Mode::kHoldRelease:
        return std::make_unique<HoldSlot>(shared, index, cq, seed,
                                          mode == Mode::kHoldCapture);
      case Mode::kGetMembers:
        return std::make_unique<GetMemberSlot>(shared, index, cq, seed);
      case Mode::kRedeemCancel:
        return std::make_unique<RedeemCancelSlot>(shared, index, cq, seed);
      case Mode::kPreload:
      case Mode::kGatewayDashboard:
        break;
    }
    return nullptr;
  };
  PhaseResult result = RunPhase(options, options.concurrency, factory, &errors,
                                options.duration_s);
  std::cout << absl::StrFormat(
      "warmup: %.3f s, ops=%d (errors=%d); after the window: %d ops not "
      "counted\n",
      options.warmup_s, result.tally.warmup_ok + result.tally.warmup_errors,
      result.tally.warmup_errors, result.tally.late);
  PrintPhase("measured", result);
  std::cout << absl::StrFormat(
      "mode=%s concurrency=%d duration_s=%g ops=%d errors=%d\n", NameOf(mode),
      options.concurrency, options.duration_s,
      result.tally.ok + result.tally.errors, result.tally.errors);
  PrintErrors(errors);
  PrintResult(result);
  return kExitRan;
}

int Main(int argc, char** argv) {
  Options options;
  absl::Status parsed = ParseFlags(argc, argv, &options);
  if (!parsed.ok()) {
    std::cerr << "loadgen: " << parsed.message() << "\n" << kUsage;
    return kExitBadFlags;
  }
  if (options.help) {
    std::cout << kUsage;
    return kExitRan;
  }
  if (*options.mode == Mode::kGatewayDashboard) {
    absl::StatusOr<std::vector<std::string>> members =
        ReadMembersFile(options.members_file);
    if (!members.ok()) {
      std::cerr << "loadgen: " << members.status().message() << "\n";
      return kExitBadFlags;
    }
    if (static_cast<int64_t>(members->size()) > options.members) {
      members->resize(options.members);
    }
    return RunGatewayLoad(GatewayLoad{
        .http_address = options.gateway_http,
        .members = *std::move(members),
        .member_password = options.member_password,
        .concurrency = options.concurrency,
        .duration_s = options.duration_s,
        .warmup_s = options.warmup_s,
        .statement_every = options.statement_every,
    });
  }
  return *options.mode == Mode::kPreload ? RunPreload(options)
                                         : RunLoad(options);
}

}  // namespace
}  // namespace mileagebank::loadgen

int main(int argc, char** argv) {
  return mileagebank::loadgen::Main(argc, argv);
}
