// Runs the loadgen binary against in-process fakes of the accrual,
// membership and redemption services that check every request against the
// contracts' field rules (so a malformed request shows up as an error in
// loadgen's figures), keep idempotency keys, hold miles like the real
// accrual service, keep passwords like membership and award seats like
// redemption.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"

namespace mileagebank::loadgen {
namespace {

grpc::Status Invalid(const std::string& what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, what);
}

bool IsDigits(const std::string& text, size_t size) {
  return text.size() == size &&
         std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

bool IsAirportCode(const std::string& code) {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), absl::ascii_isupper);
}

// accrual.proto's request_id rule.
bool IsRequestId(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return absl::ascii_isalnum(c) || absl::StrContains("-_.:/", c);
         });
}

class FakeAccrual final : public accrual::v1::Accrual::Service {
 public:
  explicit FakeAccrual(int64_t available) : available_(available) {}

  grpc::Status PostOwnFlight(grpc::ServerContext*,
                             const accrual::v1::PostOwnFlightRequest* request,
                             accrual::v1::PostOwnFlightResponse*) override {
    if (!validation::ValidateMemberNumber("m", request->member_number()).ok()) {
      return Invalid("member_number");
    }
    const std::string& ticket = request->flight_identity().ticket_number();
    if (!IsDigits(ticket, 13)) return Invalid("ticket_number " + ticket);
    if (request->flight_identity().coupon_number() != 1) {
      return Invalid("coupon_number");
    }
    const accrual::v1::Flight& flight = request->flight();
    if (flight.carrier() != "FM") return Invalid("flight.carrier");
    if (flight.flight_number() < 1 || flight.flight_number() > 9999) {
      return Invalid("flight.flight_number");
    }
    if (!IsAirportCode(flight.origin()) ||
        !IsAirportCode(flight.destination()) ||
        flight.origin() == flight.destination()) {
      return Invalid("flight.origin/destination");
    }
    if (flight.booking_class().size() != 1 ||
        !absl::ascii_isupper(flight.booking_class()[0])) {
      return Invalid("flight.booking_class");
    }
    auto day = validation::ToCivilDay("flight_date", flight.flight_date());
    const absl::CivilDay today = validation::UtcDay(absl::Now());
    if (!day.ok() || *day > today || *day < today - 31) {
      return Invalid("flight.flight_date");
    }
    absl::MutexLock lock(&mutex_);
    if (!tickets_.insert(ticket).second) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "ticket " + ticket);
    }
    if (flight.origin() == "PEK" && flight.destination() == "JFK" &&
        flight.booking_class() == "F") {
      ++large_flights_[request->member_number()];
    }
    return grpc::Status::OK;
  }

  grpc::Status GetBalance(grpc::ServerContext*,
                          const accrual::v1::GetBalanceRequest* request,
                          accrual::v1::GetBalanceResponse* response) override {
    if (!validation::ValidateMemberNumber("m", request->member_number()).ok()) {
      return Invalid("member_number");
    }
    absl::MutexLock lock(&mutex_);
    if (unknown_for_ > 0) {
      --unknown_for_;
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "member");
    }
    ++balances_;
    response->mutable_balance()->set_available(available_);
    response->mutable_balance()->set_balance(available_ + held_);
    response->mutable_balance()->set_held(held_);
    return grpc::Status::OK;
  }

  grpc::Status CreateHold(grpc::ServerContext*,
                          const accrual::v1::CreateHoldRequest* request,
                          accrual::v1::CreateHoldResponse* response) override {
    if (!validation::ValidateMemberNumber("m", request->member_number()).ok()) {
      return Invalid("member_number");
    }
    if (request->miles() < 1) return Invalid("miles");
    if (!IsRequestId(request->request_id())) return Invalid("request_id");
    absl::MutexLock lock(&mutex_);
    if (!request_ids_.insert(request->request_id()).second) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "request_id");
    }
    if (request->miles() > available_) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "miles: more than the available miles");
    }
    available_ -= request->miles();
    held_ += request->miles();
    const std::string id = absl::StrCat("H", holds_.size() + 1);
    holds_[id] = {request->miles(), accrual::v1::HOLD_ACTIVE};
    response->mutable_hold()->set_hold_id(id);
    response->mutable_hold()->set_state(accrual::v1::HOLD_ACTIVE);
    return grpc::Status::OK;
  }

  grpc::Status CaptureHold(grpc::ServerContext*,
                           const accrual::v1::CaptureHoldRequest* request,
                           accrual::v1::CaptureHoldResponse*) override {
    return Resolve(request->hold_id(), accrual::v1::HOLD_CAPTURED);
  }

  grpc::Status ReleaseHold(grpc::ServerContext*,
                           const accrual::v1::ReleaseHoldRequest* request,
                           accrual::v1::ReleaseHoldResponse*) override {
    return Resolve(request->hold_id(), accrual::v1::HOLD_RELEASED);
  }

  void SetAvailable(int64_t available) {
    absl::MutexLock lock(&mutex_);
    available_ = available;
  }
  // The next `calls` GetBalance calls answer NOT_FOUND, as accrual does
  // until it has followed membership's events to a new member.
  void UnknownFor(int calls) {
    absl::MutexLock lock(&mutex_);
    unknown_for_ = calls;
  }
  int64_t posts() {
    absl::MutexLock lock(&mutex_);
    return static_cast<int64_t>(tickets_.size());
  }
  int64_t large_flights(const std::string& member) {
    absl::MutexLock lock(&mutex_);
    return large_flights_[member];
  }
  int64_t balances() {
    absl::MutexLock lock(&mutex_);
    return balances_;
  }
  // Holds by state.
  std::map<accrual::v1::HoldState, int64_t> hold_states() {
    absl::MutexLock lock(&mutex_);
    std::map<accrual::v1::HoldState, int64_t> states;
    for (const auto& [id, hold] : holds_) ++states[hold.state];
    return states;
  }

 private:
  struct Hold {
    int64_t miles;
    accrual::v1::HoldState state;
  };

  grpc::Status Resolve(const std::string& hold_id, accrual::v1::HoldState to) {
    absl::MutexLock lock(&mutex_);
    auto hold = holds_.find(hold_id);
    if (hold == holds_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "hold " + hold_id);
    }
    if (hold->second.state != accrual::v1::HOLD_ACTIVE) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "resolved");
    }
    hold->second.state = to;
    held_ -= hold->second.miles;
    if (to == accrual::v1::HOLD_RELEASED) available_ += hold->second.miles;
    return grpc::Status::OK;
  }

  absl::Mutex mutex_;
  int64_t available_ ABSL_GUARDED_BY(mutex_);
  int64_t held_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t balances_ ABSL_GUARDED_BY(mutex_) = 0;
  int unknown_for_ ABSL_GUARDED_BY(mutex_) = 0;
  std::set<std::string> tickets_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> request_ids_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Hold> holds_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int64_t> large_flights_ ABSL_GUARDED_BY(mutex_);
};

class FakeMembership final : public membership::v1::Membership::Service {
 public:
  grpc::Status Enrol(grpc::ServerContext*,
                     const membership::v1::EnrolRequest* request,
                     membership::v1::EnrolResponse* response) override {
    const membership::v1::Profile& profile = request->profile();
    if (profile.family_name().empty()) return Invalid("family_name");
    if (!validation::IsE164(profile.mobile_phone())) {
      return Invalid("mobile_phone");
    }
    if (!validation::IsCountryCode(profile.nationality())) {
      return Invalid("nationality");
    }
    const std::string& document = profile.identity_document().number();
    if (document.empty() || document.size() > 20) return Invalid("document");
    if (request->actor().channel() == common::v1::CHANNEL_UNSPECIFIED) {
      return Invalid("actor.channel");
    }
    if (request->request_id().empty()) return Invalid("request_id");
    const std::string& password = request->password();
    if (!password.empty() && (password.size() < 8 || password.size() > 128)) {
      return Invalid("password");
    }
    absl::MutexLock lock(&mutex_);
    std::string& number = by_request_[request->request_id()];
    if (number.empty()) {
      if (!documents_.insert(document).second) {
        return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "document");
      }
      number = validation::MemberNumberFromSerial(validation::kMinMemberSerial +
                                                  members_.size());
      members_.insert(number);
      if (!password.empty()) passwords_[number] = password;
    }
    response->mutable_member()->set_member_number(number);
    return grpc::Status::OK;
  }

  grpc::Status GetMember(grpc::ServerContext*,
                         const membership::v1::GetMemberRequest* request,
                         membership::v1::GetMemberResponse* response) override {
    absl::MutexLock lock(&mutex_);
    if (members_.count(request->member_number()) == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "member");
    }
    response->mutable_member()->set_member_number(request->member_number());
    return grpc::Status::OK;
  }

  int64_t members() {
    absl::MutexLock lock(&mutex_);
    return static_cast<int64_t>(members_.size());
  }
  // "" when the member has none.
  std::string password_of(const std::string& member) {
    absl::MutexLock lock(&mutex_);
    auto password = passwords_.find(member);
    return password == passwords_.end() ? "" : password->second;
  }

  // VerifyPassword, as redemption calls it: NOT_FOUND for an unknown member,
  // UNAUTHENTICATED for a wrong password (or none set), counted.
  grpc::Status Verify(const std::string& member, const std::string& password) {
    absl::MutexLock lock(&mutex_);
    if (members_.count(member) == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "member " + member);
    }
    auto right = passwords_.find(member);
    if (right == passwords_.end() || right->second != password) {
      ++wrong_passwords_;
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "member_password: wrong password");
    }
    return grpc::Status::OK;
  }
  int64_t wrong_passwords() {
    absl::MutexLock lock(&mutex_);
    return wrong_passwords_;
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, std::string> by_request_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> documents_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> members_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::string> passwords_ ABSL_GUARDED_BY(mutex_);
  int64_t wrong_passwords_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Redemption's CreateRedemption and CancelRedemption as far as loadgen uses
// them (STANDARD_AWARDs on own flights for the member): the request's fields
// checked, the member and password checked with FakeMembership, request ids
// kept per member, ECONOMY award seats taken and given back.
class FakeRedemption final : public redemption::v1::Redemption::Service {
 public:
  explicit FakeRedemption(FakeMembership* membership)
      : membership_(membership) {}

  grpc::Status GetAwardSeats(
      grpc::ServerContext*, const redemption::v1::GetAwardSeatsRequest* request,
      redemption::v1::GetAwardSeatsResponse* response) override {
    if (request->flight_number() < 1 || request->flight_number() > 9999) {
      return Invalid("flight_number");
    }
    auto day = validation::ToCivilDay("flight_date", request->flight_date());
    if (!day.ok()) return Invalid("flight_date");
    absl::MutexLock lock(&mutex_);
    const int taken = taken_[FlightDate(request->flight_number(), *day)];
    redemption::v1::AwardSeats& seats = *response->mutable_seats();
    seats.set_carrier("FM");
    seats.set_flight_number(request->flight_number());
    *seats.mutable_flight_date() = request->flight_date();
    redemption::v1::CabinSeats& economy = *seats.add_cabins();
    economy.set_cabin(redemption::v1::ECONOMY);
    economy.set_capacity(capacity_);
    economy.set_taken(taken);
    economy.set_available(std::max(capacity_ - taken, 0));
    return grpc::Status::OK;
  }

  grpc::Status CreateRedemption(
      grpc::ServerContext*,
      const redemption::v1::CreateRedemptionRequest* request,
      redemption::v1::CreateRedemptionResponse* response) override {
    const std::string& member = request->member_number();
    if (!validation::ValidateMemberNumber("m", member).ok()) {
      return Invalid("member_number");
    }
    if (!request->has_standard()) return Invalid("standard");
    const redemption::v1::StandardAward& award = request->standard();
    if (award.cabin() == redemption::v1::CABIN_UNSPECIFIED) {
      return Invalid("standard.cabin");
    }
    const redemption::v1::Itinerary& itinerary = award.itinerary();
    if (itinerary.journey_type() != redemption::v1::ONE_WAY ||
        itinerary.inbound().segments_size() != 0) {
      return Invalid("standard.itinerary.journey_type");
    }
    const auto& segments = itinerary.outbound().segments();
    if (segments.empty() || segments.size() > 8) {
      return Invalid("standard.itinerary.outbound.segments");
    }
    const absl::CivilDay today = validation::UtcDay(absl::Now());
    std::vector<std::string> flights;
    for (const redemption::v1::Segment& segment : segments) {
      if (segment.carrier() != "FM") return Invalid("segments.carrier");
      if (segment.flight_number() < 1 || segment.flight_number() > 9999) {
        return Invalid("segments.flight_number");
      }
      auto day = validation::ToCivilDay("flight_date", segment.flight_date());
      if (!day.ok() || *day < today || *day > today + 365) {
        return Invalid("segments.flight_date");
      }
      if (!IsAirportCode(segment.origin()) ||
          !IsAirportCode(segment.destination()) ||
          segment.origin() == segment.destination()) {
        return Invalid("segments.origin/destination");
      }
      flights.push_back(FlightDate(segment.flight_number(), *day));
    }
    if (request->passengers().empty() || request->passengers_size() > 9) {
      return Invalid("passengers");
    }
    for (const redemption::v1::Passenger& passenger : request->passengers()) {
      // No nominees here: each passenger is the member, once.
      if (!passenger.member() || request->passengers_size() != 1) {
        return Invalid("passengers[i]");
      }
    }
    const common::v1::Actor& actor = request->actor();
    switch (actor.channel()) {
      case common::v1::WEB:
        break;
      case common::v1::CALL_CENTRE:
      case common::v1::COUNTER:
      case common::v1::SALES_OFFICE:
        if (actor.operator_id().empty() || actor.office_code().empty()) {
          return Invalid("actor.operator_id/office_code");
        }
        break;
      default:
        return Invalid("actor.channel");
    }
    if (!IsRequestId(request->request_id())) return Invalid("request_id");
    // Loadgen never has the web session that would make it optional.
    if (request->member_password().empty()) return Invalid("member_password");
    grpc::Status verified =
        membership_->Verify(member, request->member_password());
    if (!verified.ok()) return verified;

    absl::MutexLock lock(&mutex_);
    const std::string key = member + "/" + request->request_id();
    if (by_request_.count(key) != 0) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          "request_id " + request->request_id());
    }
    for (const std::string& flight : flights) {
      if (taken_[flight] + request->passengers_size() > capacity_) {
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                            "no award seats left on " + flight);
      }
    }
    for (const std::string& flight : flights) {
      taken_[flight] += request->passengers_size();
    }
    const std::string id = absl::StrCat("R", redemptions_.size() + 1);
    by_request_[key] = id;
    redemption::v1::RedemptionRecord& record = redemptions_[id].record;
    redemptions_[id].flights = flights;
    record.set_redemption_id(id);
    record.set_member_number(member);
    record.set_state(redemption::v1::HELD);
    record.set_award_type(redemption::v1::STANDARD_AWARD);
    record.set_total_miles(12'000 * request->passengers_size());
    record.set_request_id(request->request_id());
    *response->mutable_redemption() = record;
    return grpc::Status::OK;
  }

  grpc::Status CancelRedemption(
      grpc::ServerContext*,
      const redemption::v1::CancelRedemptionRequest* request,
      redemption::v1::CancelRedemptionResponse* response) override {
    const std::string& reason = request->reason();
    if (reason.size() > 32 ||
        !std::all_of(reason.begin(), reason.end(), [](char c) {
          return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
        })) {
      return Invalid("reason");
    }
    if (request->actor().channel() == common::v1::CHANNEL_UNSPECIFIED) {
      return Invalid("actor.channel");
    }
    absl::MutexLock lock(&mutex_);
    auto found = redemptions_.find(request->redemption_id());
    if (found == redemptions_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "redemption " + request->redemption_id());
    }
    Held& held = found->second;
    if (held.record.state() == redemption::v1::HELD) {
      held.record.set_state(redemption::v1::CANCELLED);
      for (const std::string& flight : held.flights) --taken_[flight];
    } else if (held.record.state() != redemption::v1::CANCELLED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "state");
    }
    *response->mutable_redemption() = held.record;
    return grpc::Status::OK;
  }

  // ECONOMY award seats of every flight-date.
  void SetCapacity(int capacity) {
    absl::MutexLock lock(&mutex_);
    capacity_ = capacity;
  }
  std::map<redemption::v1::RedemptionState, int64_t> states() {
    absl::MutexLock lock(&mutex_);
    std::map<redemption::v1::RedemptionState, int64_t> states;
    for (const auto& [id, held] : redemptions_) ++states[held.record.state()];
    return states;
  }
  // Seats taken on all flights.
  int64_t seats_taken() {
    absl::MutexLock lock(&mutex_);
    int64_t taken = 0;
    for (const auto& [flight, seats] : taken_) taken += seats;
    return taken;
  }
  // Distinct flight-dates redeemed on.
  int64_t flight_dates() {
    absl::MutexLock lock(&mutex_);
    return static_cast<int64_t>(taken_.size());
  }

 private:
  struct Held {
    redemption::v1::RedemptionRecord record;
    std::vector<std::string> flights;
  };

  static std::string FlightDate(int flight_number, absl::CivilDay day) {
    return absl::StrCat("FM", flight_number, "/", validation::FormatDate(day));
  }

  FakeMembership* const membership_;
  absl::Mutex mutex_;
  int capacity_ ABSL_GUARDED_BY(mutex_) = 4;
  std::map<std::string, int> taken_ ABSL_GUARDED_BY(mutex_);
  // "<member>/<request_id>" to the redemption.
  std::map<std::string, std::string> by_request_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Held> redemptions_ ABSL_GUARDED_BY(mutex_);
};

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string last_line;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class LoadgenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(accrual_.get());
    builder.RegisterService(&membership_);
    builder.RegisterService(&redemption_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override { server_->Shutdown(); }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string members_file() const {
    return absl::StrCat(getenv("TEST_TMPDIR"), "/members.txt");
  }

  // Runs bench/loadgen with `flags` after the targets and members file.
  Result Run(const std::string& flags) {
    const std::string err_path =
        absl::StrCat(getenv("TEST_TMPDIR"), "/stderr.txt");
    const std::string command = absl::StrCat(
        "bench/loadgen --accrual=", target(), " --membership=", target(),
        " --redemption=", target(), " --members_file=", members_file(), " ",
        flags, " 2>", err_path);
    Result result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    size_t read = 0;
    while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      result.out.append(buffer, read);
    }
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.err = ReadFile(err_path);
    std::vector<std::string> lines =
        absl::StrSplit(result.out, '\n', absl::SkipEmpty());
    if (!lines.empty()) result.last_line = lines.back();
    return result;
  }

  // The numbers written by preload.
  std::vector<std::string> Members() {
    std::vector<std::string> members;
    for (absl::string_view line :
         absl::StrSplit(ReadFile(members_file()), '\n', absl::SkipEmpty())) {
      if (!absl::StartsWith(line, "#")) members.emplace_back(line);
    }
    return members;
  }

  int port_ = 0;
  FakeMembership membership_;
  std::unique_ptr<FakeAccrual> accrual_ =
      std::make_unique<FakeAccrual>(/*available=*/1'000'000);
  FakeRedemption redemption_{&membership_};
  std::unique_ptr<grpc::Server> server_;
};

// The figures every run ends with.
const std::regex kLastLine(
    R"(ops_per_s=[0-9]+ p50_ms=[0-9]+\.[0-9]{3} p99_ms=[0-9]+\.[0-9]{3} errors=([0-9]+))");

int64_t ErrorsOf(const Result& result) {
  std::smatch match;
  if (!std::regex_match(result.last_line, match, kLastLine)) return -1;
  return std::stoll(match[1]);
}

constexpr char kShort[] = "--duration=0.5 --warmup=0.2 --concurrency=16";

TEST_F(LoadgenTest, PreloadEnrolsWritesTheFileAndPostsFlights) {
  Result result =
      Run("--mode=preload --members=20 --history=2 --credit_flights=1 "
          "--rich_flights=5 --run_id=t1");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_EQ(membership_.members(), 20);
  const std::vector<std::string> members = Members();
  ASSERT_EQ(members.size(), 20u);
  // 2 history and 1 large flight each, and 5 more large ones to the first.
  EXPECT_EQ(accrual_->posts(), 20 * 3 + 5);
  EXPECT_EQ(accrual_->large_flights(members.front()), 6);
  EXPECT_EQ(accrual_->large_flights(members.back()), 1);
}

TEST_F(LoadgenTest, PreloadWaitsUntilAccrualKnowsTheNewMembers) {
  // The probe and then two checks of the first member find no account.
  accrual_->UnknownFor(3);
  Result result =
      Run("--mode=preload --members=4 --history=1 --rich_flights=1");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.out, "waiting for accrual"))
      << result.out;
  EXPECT_EQ(accrual_->posts(), 4 * (1 + 3) + 1);
}

TEST_F(LoadgenTest, PreloadAgainWithTheSameRunIdReplaysTheEnrolments) {
  ASSERT_EQ(
      Run("--mode=preload --members=10 --history=0 --run_id=t2").exit_code, 0);
  const std::vector<std::string> first = Members();
  Result again = Run("--mode=preload --members=10 --history=0 --run_id=t2");
  EXPECT_EQ(ErrorsOf(again), 0) << again.out << again.err;
  EXPECT_EQ(Members(), first);
  EXPECT_EQ(membership_.members(), 10);
}

TEST_F(LoadgenTest, PreloadWithoutHistoryNeverCallsAccrual) {
  // Accrual is named at a port where nothing listens.
  const std::string command_flags =
      "--mode=preload --members=5 --history=0 --accrual=127.0.0.1:1";
  Result result = Run(command_flags);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_EQ(accrual_->posts(), 0);
  EXPECT_EQ(Members().size(), 5u);
}

TEST_F(LoadgenTest, PostFlightsSendsValidUniqueFlights) {
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=post-flights ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_GT(accrual_->posts(), 100);
  EXPECT_FALSE(absl::StrContains(result.err, "errors")) << result.err;
}

TEST_F(LoadgenTest, BalancesReadsBalances) {
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=balances ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_GT(accrual_->balances(), 100);
}

TEST_F(LoadgenTest, HoldCaptureCapturesEveryHoldItCreates) {
  ASSERT_EQ(Run("--mode=preload --members=3 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=hold-capture ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  auto states = accrual_->hold_states();
  EXPECT_GT(states[accrual::v1::HOLD_CAPTURED], 100);
  EXPECT_EQ(states[accrual::v1::HOLD_ACTIVE], 0);
  EXPECT_EQ(states[accrual::v1::HOLD_RELEASED], 0);
}

TEST_F(LoadgenTest, HoldReleaseReleasesEveryHoldItCreates) {
  ASSERT_EQ(Run("--mode=preload --members=3 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=hold-release ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  auto states = accrual_->hold_states();
  EXPECT_GT(states[accrual::v1::HOLD_RELEASED], 100);
  EXPECT_EQ(states[accrual::v1::HOLD_ACTIVE], 0);
  EXPECT_EQ(states[accrual::v1::HOLD_CAPTURED], 0);
}

TEST_F(LoadgenTest, OverdraftsAreCountedAsErrorsAndReported) {
  accrual_->SetAvailable(500);  // 50 holds of 10 miles, then overdrafts.
  ASSERT_EQ(Run("--mode=preload --members=3 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=hold-capture ", kShort));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_GT(ErrorsOf(result), 0) << result.out;
  EXPECT_TRUE(absl::StrContains(result.err, "FAILED_PRECONDITION: miles"))
      << result.err;
  EXPECT_LE(accrual_->hold_states()[accrual::v1::HOLD_CAPTURED], 50);
}

TEST_F(LoadgenTest, PreloadGivesEveryMemberThePassword) {
  ASSERT_EQ(Run("--mode=preload --members=3 --history=0").exit_code, 0);
  for (const std::string& member : Members()) {
    EXPECT_EQ(membership_.password_of(member), "loadgen-pass-1") << member;
  }
  ASSERT_EQ(Run("--mode=preload --members=2 --history=0 "
                "--member_password=another-pass-2")
                .exit_code,
            0);
  for (const std::string& member : Members()) {
    EXPECT_EQ(membership_.password_of(member), "another-pass-2") << member;
  }
}

TEST_F(LoadgenTest, RedeemCancelCancelsEveryRedemptionItCreates) {
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=redeem-cancel ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_FALSE(absl::StrContains(result.err, "errors")) << result.err;
  EXPECT_TRUE(
      absl::StrContains(result.out, "mode=redeem-cancel target=" + target()))
      << result.out;
  auto states = redemption_.states();
  EXPECT_GT(states[redemption::v1::CANCELLED], 100);
  EXPECT_EQ(states[redemption::v1::HELD], 0);
  EXPECT_EQ(redemption_.seats_taken(), 0);
  EXPECT_EQ(membership_.wrong_passwords(), 0);
}

TEST_F(LoadgenTest, RedeemCancelOpsInFlightTogetherAreOnDifferentFlights) {
  // One seat per flight-date: any two ops in flight on one would collide.
  redemption_.SetCapacity(1);
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=redeem-cancel ", kShort));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out << result.err;
  EXPECT_GT(redemption_.flight_dates(), 100);
}

TEST_F(LoadgenTest, RedeemCancelCountsFullFlightsAsErrorsAndReportsThem) {
  redemption_.SetCapacity(0);
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=redeem-cancel ", kShort));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_GT(ErrorsOf(result), 0) << result.out;
  EXPECT_TRUE(absl::StrContains(
      result.err, "CreateRedemption: FAILED_PRECONDITION: no award seats"))
      << result.err;
  EXPECT_TRUE(redemption_.states().empty());
}

TEST_F(LoadgenTest, RedeemCancelWithAWrongPasswordStopsAtTheFirstOp) {
  ASSERT_EQ(Run("--mode=preload --members=10 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=redeem-cancel ", kShort,
                                   " --member_password=wrong-pass-0"));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "UNAUTHENTICATED")) << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "--member_password")) << result.err;
  // One wrong attempt, on one member, and nothing redeemed.
  EXPECT_EQ(membership_.wrong_passwords(), 1);
  EXPECT_TRUE(redemption_.states().empty());
}

TEST_F(LoadgenTest, RedeemCancelForUnknownMembersReportsNotFound) {
  {
    std::ofstream out(members_file(), std::ios::trunc);
    out << validation::MemberNumberFromSerial(validation::kMinMemberSerial + 7)
        << "\n";
  }
  Result result = Run(absl::StrCat("--mode=redeem-cancel ", kShort));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_GT(ErrorsOf(result), 0) << result.out;
  EXPECT_TRUE(absl::StrContains(result.err, "CreateRedemption: NOT_FOUND"))
      << result.err;
}

TEST_F(LoadgenTest, LastLineHasTheExactFormat) {
  ASSERT_EQ(Run("--mode=preload --members=5 --history=0").exit_code, 0);
  Result result = Run(absl::StrCat("--mode=get-members ", kShort));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::regex_match(result.last_line, kLastLine))
      << result.last_line;
  EXPECT_EQ(ErrorsOf(result), 0) << result.out;
}

TEST_F(LoadgenTest, UnreachableTargetExitsThreeNamingIt) {
  ASSERT_EQ(Run("--mode=preload --members=5 --history=0").exit_code, 0);
  Result result =
      Run(absl::StrCat("--mode=balances --accrual=127.0.0.1:1 ", kShort));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_TRUE(absl::StrContains(result.err, "accrual at 127.0.0.1:1"))
      << result.err;
}

TEST_F(LoadgenTest, UnreachableRedemptionExitsThreeNamingIt) {
  ASSERT_EQ(Run("--mode=preload --members=5 --history=0").exit_code, 0);
  Result result = Run(
      absl::StrCat("--mode=redeem-cancel --redemption=127.0.0.1:1 ", kShort));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_TRUE(absl::StrContains(result.err, "redemption at 127.0.0.1:1"))
      << result.err;
}

TEST_F(LoadgenTest, MissingMembersFileExitsTwo) {
  std::remove(members_file().c_str());
  Result result = Run(absl::StrCat("--mode=balances ", kShort));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result.err, "is missing")) << result.err;
}

TEST_F(LoadgenTest, BadFlagsExitTwo) {
  EXPECT_EQ(Run("--mode=nonsense").exit_code, 2);
  EXPECT_EQ(Run("--mode=balances --concurrency=0").exit_code, 2);
  EXPECT_EQ(Run("--mode=balances --accrual=192.0.2.1:7102").exit_code, 2);
  EXPECT_EQ(Run("--mode=balances --no_such_flag=1").exit_code, 2);
  EXPECT_EQ(Run("--mode=redeem-cancel --redemption=10.0.0.1:7103").exit_code,
            2);
  EXPECT_EQ(Run("--mode=redeem-cancel --member_password=short").exit_code, 2);
}

}  // namespace
}  // namespace mileagebank::loadgen
