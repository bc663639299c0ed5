#include "services/redemption/redemptions.h"

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"

namespace mileagebank::redemption {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;
using ::mileagebank::testing::NamesField;

class FakeMembership : public MembershipGateway {
 public:
  absl::StatusOr<mv1::Member> GetMember(absl::string_view number) override {
    absl::MutexLock lock(&mutex_);
    auto it = members_.find(std::string(number));
    if (it == members_.end()) return absl::NotFoundError("member_number: no member");
    return it->second;
  }
  absl::StatusOr<mv1::VerifyPasswordResponse> VerifyPassword(
      absl::string_view number, absl::string_view password) override {
    mv1::VerifyPasswordResponse response;
    response.set_verified(password == "right-password");
    return response;
  }
  void Add(const std::string& number) {
    mv1::Member member;
    member.set_member_number(number);
    member.set_status(mv1::ACTIVE);
    member.mutable_profile()->set_family_name("Li");
    member.mutable_profile()->set_given_name("Wei");
    mv1::Nominee* nominee = member.add_nominees();
    nominee->set_nominee_id("1");
    nominee->set_family_name("Li");
    nominee->set_given_name("Na");
    absl::MutexLock lock(&mutex_);
    members_[number] = member;
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, mv1::Member> members_;
};

// Holds against a balance per member, as accrual keeps them.
class FakeAccrual : public AccrualGateway {
 public:
  void SetBalance(const std::string& member, int64_t miles) {
    absl::MutexLock lock(&mutex_);
    balance_[member] = miles;
  }
  int64_t Available(const std::string& member) {
    absl::MutexLock lock(&mutex_);
    int64_t held = 0;
    for (const auto& [id, hold] : holds_) {
      if (hold.member_number() == member && hold.state() == av1::HOLD_ACTIVE) {
        held += hold.miles();
      }
    }
    return balance_[member] - held;
  }
  int64_t Balance(const std::string& member) {
    absl::MutexLock lock(&mutex_);
    return balance_[member];
  }
  std::atomic<bool> down{false};

  absl::StatusOr<av1::Hold> CreateHold(absl::string_view member, int64_t miles,
                                       absl::string_view request_id,
                                       absl::Duration ttl,
                                       absl::string_view) override {
    if (down) return absl::UnavailableError("accrual down");
    const std::string key = absl::StrCat(member, "/", request_id);
    {
      absl::MutexLock lock(&mutex_);
      auto keyed = by_request_.find(key);
      if (keyed != by_request_.end()) return holds_[keyed->second];
    }
    if (Available(std::string(member)) < miles) {
      return absl::FailedPreconditionError("miles: too few available");
    }
    absl::MutexLock lock(&mutex_);
    av1::Hold hold;
    hold.set_hold_id(absl::StrCat("H", holds_.size() + 1));
    hold.set_member_number(std::string(member));
    hold.set_miles(miles);
    hold.set_state(av1::HOLD_ACTIVE);
    *hold.mutable_expires_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(absl::Now() + ttl));
    holds_[hold.hold_id()] = hold;
    by_request_[key] = hold.hold_id();
    return hold;
  }
  absl::StatusOr<av1::Hold> CaptureHold(absl::string_view hold_id) override {
    if (down) return absl::UnavailableError("accrual down");
    absl::MutexLock lock(&mutex_);
    av1::Hold& hold = holds_[std::string(hold_id)];
    if (hold.state() == av1::HOLD_ACTIVE) {
      hold.set_state(av1::HOLD_CAPTURED);
      balance_[hold.member_number()] -= hold.miles();
    } else if (hold.state() != av1::HOLD_CAPTURED) {
      return absl::FailedPreconditionError("hold_id: released");
    }
    return hold;
  }
  absl::StatusOr<av1::Hold> ReleaseHold(absl::string_view hold_id,
                                        absl::string_view) override {
    if (down) return absl::UnavailableError("accrual down");
    absl::MutexLock lock(&mutex_);
    av1::Hold& hold = holds_[std::string(hold_id)];
    if (hold.state() == av1::HOLD_ACTIVE) hold.set_state(av1::HOLD_RELEASED);
    return hold;
  }
  absl::StatusOr<av1::Hold> RedepositHold(absl::string_view hold_id,
                                          int64_t fee) override {
    if (down) return absl::UnavailableError("accrual down");
    absl::MutexLock lock(&mutex_);
    av1::Hold& hold = holds_[std::string(hold_id)];
    if (hold.redeposit_transaction_id().empty()) {
      hold.set_redeposit_transaction_id("T");
      balance_[hold.member_number()] += hold.miles() - fee;
    }
    return hold;
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, int64_t> balance_;
  std::map<std::string, av1::Hold> holds_;
  std::map<std::string, std::string> by_request_;
};

// Settlement behind its interface: its partners, and whether it answers.
class FakeSettlement : public SettlementGateway {
 public:
  void Put(const std::string& code, settlement::v1::PartnerType type,
           settlement::v1::PartnerStatus status = settlement::v1::ACTIVE) {
    settlement::v1::Partner partner;
    partner.set_partner_code(code);
    partner.set_type(type);
    partner.set_status(status);
    absl::MutexLock lock(&mutex_);
    partners_[code] = partner;
  }
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view code) override {
    if (down) {
      return absl::UnavailableError(
          "settlement service at 127.0.0.1:1: connection refused");
    }
    absl::MutexLock lock(&mutex_);
    auto it = partners_.find(std::string(code));
    if (it == partners_.end()) return absl::NotFoundError("no partner");
    return it->second;
  }
  std::atomic<bool> down{false};

 private:
  absl::Mutex mutex_;
  std::map<std::string, settlement::v1::Partner> partners_;
};

common::v1::Date InDays(int days) {
  return validation::ToProtoDate(validation::UtcDay(absl::Now()) + days);
}

class RedemptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mileagebank::testing::FreshTestDir();
    member_ = validation::MemberNumberFromSerial(100000000);
    membership_.Add(member_);
    accrual_.SetBalance(member_, 100'000);
    settlement_.Put("CA", settlement::v1::AIRLINE);
    Restart();
  }

  // Opens the store in dir_ and a Redemptions over it, as a process start
  // does (closing the ones before, as its end does).
  void Restart(RedemptionOptions options = {}) {
    redemptions_.reset();
    store_.reset();
    store_ = std::move(*store::Store::Open({.path = dir_, .tables = RedemptionTables()}));
    options.recovery_grace = absl::ZeroDuration();
    registry_ = std::make_unique<prometheus::Registry>();
    redemptions_ = std::make_unique<Redemptions>(
        store_.get(), &airports::AirportTable::Builtin(), &membership_,
        &accrual_, &settlement_, options, *registry_);
  }

  // Holds an award (on `flight`) and issues it from the web: the numbers
  // the stock gave.
  std::vector<std::string> IssueOnTheWeb(const std::string& request_id,
                                         int flight = 1501, int passengers = 1) {
    auto held = redemptions_->CreateRedemption(Redeem(request_id, flight, passengers), "");
    EXPECT_TRUE(held.ok()) << held.status();
    auto issued = redemptions_->IssueRedemption(WebIssue(held->redemption().redemption_id()));
    EXPECT_TRUE(issued.ok()) << issued.status();
    return {issued->redemption().award_ticket_numbers().begin(),
            issued->redemption().award_ticket_numbers().end()};
  }

  static v1::IssueRedemptionRequest WebIssue(const std::string& redemption_id) {
    v1::IssueRedemptionRequest issue;
    issue.set_redemption_id(redemption_id);
    issue.mutable_actor()->set_channel(common::v1::WEB);
    return issue;
  }

  static v1::Segment Segment(const std::string& from, const std::string& to,
                             int days, int flight = 1501,
                             const std::string& carrier = "FM") {
    v1::Segment segment;
    segment.set_carrier(carrier);
    segment.set_flight_number(flight);
    *segment.mutable_flight_date() = InDays(days);
    segment.set_origin(from);
    segment.set_destination(to);
    return segment;
  }

  v1::CreateRedemptionRequest Redeem(const std::string& request_id,
                                     int flight = 1501, int passengers = 1) {
    v1::CreateRedemptionRequest request;
    request.set_member_number(member_);
    auto* itinerary = request.mutable_standard()->mutable_itinerary();
    itinerary->set_journey_type(v1::ONE_WAY);
    *itinerary->mutable_outbound()->add_segments() = Segment("PEK", "PVG", 30, flight);
    request.mutable_standard()->set_cabin(v1::ECONOMY);
    request.add_passengers()->set_member(true);
    if (passengers > 1) request.add_passengers()->set_nominee_id("1");
    request.set_member_password("right-password");
    request.mutable_actor()->set_channel(common::v1::CALL_CENTRE);
    request.mutable_actor()->set_operator_id("agent-1");
    request.set_request_id(request_id);
    return request;
  }

  int SeatsTaken(int flight) {
    v1::GetAwardSeatsRequest request;
    request.set_flight_number(flight);
    *request.mutable_flight_date() = InDays(30);
    return redemptions_->GetAwardSeats(request)->seats().cabins(0).taken();
  }

  std::string dir_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<store::Store> store_;
  std::string member_;
  FakeMembership membership_;
  FakeAccrual accrual_;
  FakeSettlement settlement_;
  std::unique_ptr<Redemptions> redemptions_;
};

TEST_F(RedemptionsTest, HeldThenIssuedThenRefundedLessTheFee) {
  auto held = redemptions_->CreateRedemption(Redeem("r1", 1501, 2), "");
  ASSERT_TRUE(held.ok()) << held.status();
  const v1::RedemptionRecord& redemption = held->redemption();
  EXPECT_EQ(redemption.state(), v1::HELD);
  EXPECT_EQ(redemption.miles_per_passenger(), 12'000);  // PEK-PVG 683 miles.
  EXPECT_EQ(redemption.total_miles(), 24'000);
  EXPECT_EQ(redemption.passengers(1).given_name(), "Na");
  EXPECT_EQ(accrual_.Available(member_), 76'000);
  EXPECT_EQ(SeatsTaken(1501), 2);

  v1::IssueRedemptionRequest issue;
  issue.set_redemption_id(redemption.redemption_id());
  issue.add_award_ticket_numbers("7810000000001");
  issue.add_award_ticket_numbers("7810000000002");
  issue.mutable_actor()->set_operator_id("agent-1");
  auto issued = redemptions_->IssueRedemption(issue);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->redemption().state(), v1::ISSUED);
  EXPECT_EQ(accrual_.Balance(member_), 76'000);
  EXPECT_TRUE(redemptions_->IssueRedemption(issue).ok());  // Idempotent.

  v1::RefundRedemptionRequest refund;
  refund.set_redemption_id(redemption.redemption_id());
  auto refunded = redemptions_->RefundRedemption(refund);
  ASSERT_TRUE(refunded.ok()) << refunded.status();
  EXPECT_EQ(refunded->redemption().state(), v1::REFUNDED);
  EXPECT_EQ(refunded->redemption().redeposit_fee_miles(), 1'000);
  EXPECT_EQ(accrual_.Balance(member_), 99'000);
  EXPECT_EQ(SeatsTaken(1501), 0);
}

TEST_F(RedemptionsTest, TheWebIssuesFromTheStockOnceAndStaffNumbersNeverCollide) {
  auto held = redemptions_->CreateRedemption(Redeem("r1", 1501, 2), "");
  ASSERT_TRUE(held.ok()) << held.status();
  const std::string id = held->redemption().redemption_id();
  v1::IssueRedemptionRequest picked = WebIssue(id);
  picked.add_award_ticket_numbers("7810000000001");
  EXPECT_TRUE(NamesField(redemptions_->IssueRedemption(picked).status(),
                         "award_ticket_numbers"));

  auto issued = redemptions_->IssueRedemption(WebIssue(id));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->redemption().state(), v1::ISSUED);
  EXPECT_EQ(std::vector<std::string>(issued->redemption().award_ticket_numbers().begin(),
                                     issued->redemption().award_ticket_numbers().end()),
            (std::vector<std::string>{"7740000000000", "7740000000001"}));
  EXPECT_EQ(accrual_.Balance(member_), 76'000);
  // Again: the same redemption, the same numbers, nothing more taken.
  auto again = redemptions_->IssueRedemption(WebIssue(id));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->redemption().SerializeAsString(),
            issued->redemption().SerializeAsString());
  v1::IssueRedemptionRequest staff;
  staff.set_redemption_id(id);
  staff.add_award_ticket_numbers("7810000000001");
  staff.add_award_ticket_numbers("7810000000002");
  staff.mutable_actor()->set_operator_id("agent-1");
  EXPECT_EQ(redemptions_->IssueRedemption(staff).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Staff record a number of the stock by hand: the stock skips it, and a
  // number the stock gave is refused to staff.
  auto by_hand = redemptions_->CreateRedemption(Redeem("r2", 1502), "");
  staff.set_redemption_id(by_hand->redemption().redemption_id());
  staff.clear_award_ticket_numbers();
  staff.add_award_ticket_numbers("7740000000000");
  EXPECT_EQ(redemptions_->IssueRedemption(staff).status().code(),
            absl::StatusCode::kAlreadyExists);
  staff.set_award_ticket_numbers(0, "7740000000002");
  ASSERT_TRUE(redemptions_->IssueRedemption(staff).ok());
  EXPECT_EQ(IssueOnTheWeb("r3", 1503), std::vector<std::string>{"7740000000003"});
}

TEST_F(RedemptionsTest, TheStockGoesOnAfterARestart) {
  EXPECT_EQ(IssueOnTheWeb("r1", 1501), std::vector<std::string>{"7740000000000"});
  Restart();
  // The next serial was written with the number (not found again by
  // skipping the numbers recorded).
  EXPECT_EQ(RedemptionStore(store_.get()).LatestStockSerial("774").value(), 1);
  EXPECT_EQ(IssueOnTheWeb("r2", 1502), std::vector<std::string>{"7740000000001"});
  // Another stock configured: its own serials.
  RedemptionOptions options;
  options.award_ticket_prefix = "781";
  Restart(options);
  EXPECT_EQ(IssueOnTheWeb("r3", 1503), std::vector<std::string>{"7810000000000"});
}

TEST_F(RedemptionsTest, ShardsTakeDisjointNumbers) {
  RedemptionOptions options;
  options.shard_count = 2;
  options.shard_index = 0;
  Restart(options);
  std::vector<std::string> first = IssueOnTheWeb("r1", 1501, 2);
  options.shard_index = 1;
  dir_ = mileagebank::testing::FreshTestDir();
  Restart(options);
  std::vector<std::string> second = IssueOnTheWeb("r2", 1502, 2);
  EXPECT_EQ(first, (std::vector<std::string>{"7740000000000", "7740000000002"}));
  EXPECT_EQ(second, (std::vector<std::string>{"7740000000001", "7740000000003"}));
}

TEST_F(RedemptionsTest, TheStockIssuesFromItsBlockOnItsShardsLine) {
  RedemptionOptions options;
  options.award_ticket_first_serial = 5'000'000'000;
  options.award_ticket_last_serial = 5'000'000'004;
  options.shard_count = 2;
  options.shard_index = 1;
  Restart(options);
  EXPECT_EQ(IssueOnTheWeb("r1", 1501, 2),
            (std::vector<std::string>{"7745000000001", "7745000000003"}));
  auto held = redemptions_->CreateRedemption(Redeem("r2", 1502), "");
  ASSERT_TRUE(held.ok()) << held.status();
  absl::Status used_up =
      redemptions_->IssueRedemption(WebIssue(held->redemption().redemption_id()))
          .status();
  EXPECT_EQ(used_up.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(used_up.message(), "used up")) << used_up;
  // The block moved on: the kept serial (5,000,000,005) is brought into the
  // new block, on shard 1's line (first + 1 + 2k).
  options.award_ticket_first_serial = 6'000'000'000;
  options.award_ticket_last_serial = 6'999'999'999;
  Restart(options);
  EXPECT_EQ(IssueOnTheWeb("r3", 1503), std::vector<std::string>{"7746000000001"});
}

TEST(RedemptionOptionsTest, TheTicketStockIsThreeDigits) {
  config::v1::RedemptionConfig config;
  EXPECT_EQ(RedemptionOptions::FromConfig(config)->award_ticket_prefix, "774");
  config.set_award_ticket_prefix("781");
  EXPECT_EQ(RedemptionOptions::FromConfig(config)->award_ticket_prefix, "781");
  for (const char* wrong : {"78", "7810", "78A"}) {
    config.set_award_ticket_prefix(wrong);
    absl::Status status = RedemptionOptions::FromConfig(config).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << wrong;
    EXPECT_TRUE(absl::StartsWith(status.message(), "award_ticket_prefix:")) << status;
  }
  config.set_award_ticket_prefix("781");
  config.set_award_ticket_first_serial(10);
  EXPECT_EQ(RedemptionOptions::FromConfig(config)->award_ticket_last_serial,
            9'999'999'999);
  for (auto [first, last] : std::vector<std::pair<int64_t, int64_t>>{
           {-1, 5}, {10, 5}, {0, 10'000'000'000}}) {
    config.set_award_ticket_first_serial(first);
    config.set_award_ticket_last_serial(last);
    absl::Status status = RedemptionOptions::FromConfig(config).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << first;
    EXPECT_TRUE(absl::StartsWith(status.message(), "award_ticket_first_serial"))
        << status;
  }
}

TEST_F(RedemptionsTest, CancelGivesSeatsAndMilesBack) {
  auto held = redemptions_->CreateRedemption(Redeem("r1"), "");
  ASSERT_TRUE(held.ok());
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(held->redemption().redemption_id());
  cancel.set_reason("CHANGE_OF_PLANS");
  EXPECT_EQ(redemptions_->CancelRedemption(cancel)->redemption().state(),
            v1::CANCELLED);
  EXPECT_EQ(redemptions_->CancelRedemption(cancel)->redemption().state(),
            v1::CANCELLED);
  EXPECT_EQ(accrual_.Available(member_), 100'000);
  EXPECT_EQ(SeatsTaken(1501), 0);
  v1::RefundRedemptionRequest refund;
  refund.set_redemption_id(held->redemption().redemption_id());
  EXPECT_EQ(redemptions_->RefundRedemption(refund).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RedemptionsTest, RequestIdMakesCreationIdempotent) {
  auto first = redemptions_->CreateRedemption(Redeem("r1"), "");
  auto again = redemptions_->CreateRedemption(Redeem("r1"), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->redemption().redemption_id(), first->redemption().redemption_id());
  EXPECT_EQ(SeatsTaken(1501), 1);
  v1::CreateRedemptionRequest other = Redeem("r1", 1502);
  EXPECT_EQ(redemptions_->CreateRedemption(other, "").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RedemptionsTest, PasswordUnlessTheMembersOwnWebSession) {
  v1::CreateRedemptionRequest request = Redeem("r1");
  request.set_member_password("wrong");
  EXPECT_EQ(redemptions_->CreateRedemption(request, "").status().code(),
            absl::StatusCode::kUnauthenticated);
  request.clear_member_password();
  EXPECT_TRUE(NamesField(redemptions_->CreateRedemption(request, "").status(),
                         "member_password"));
  request.mutable_actor()->set_channel(common::v1::WEB);
  request.mutable_actor()->clear_operator_id();
  // Another member's session does not vouch for this one.
  EXPECT_TRUE(NamesField(
      redemptions_->CreateRedemption(request, "1000000016").status(),
      "member_password"));
  EXPECT_TRUE(redemptions_->CreateRedemption(request, member_).ok());
}

TEST_F(RedemptionsTest, PassengersAreTheMemberOrNominees) {
  v1::CreateRedemptionRequest request = Redeem("r1");
  request.add_passengers()->set_nominee_id("9");
  EXPECT_EQ(redemptions_->CreateRedemption(request, "").status().code(),
            absl::StatusCode::kNotFound);
  request = Redeem("r2");
  request.add_passengers()->set_member(true);
  EXPECT_TRUE(NamesField(redemptions_->CreateRedemption(request, "").status(),
                         "passengers[1]"));
}

TEST_F(RedemptionsTest, TooFewMilesGivesTheSeatsBack) {
  accrual_.SetBalance(member_, 5'000);
  EXPECT_EQ(redemptions_->CreateRedemption(Redeem("r1"), "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SeatsTaken(1501), 0);
  accrual_.SetBalance(member_, 50'000);
  EXPECT_TRUE(redemptions_->CreateRedemption(Redeem("r1"), "").ok());
}

TEST_F(RedemptionsTest, SeatsNeverOversoldUnderConcurrency) {
  accrual_.SetBalance(member_, 10'000'000);
  std::atomic<int> held{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (redemptions_->CreateRedemption(Redeem(absl::StrCat("c", t, "-", i)), "")
                .ok()) {
          ++held;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(held, 4);  // The default ECONOMY award capacity.
  EXPECT_EQ(SeatsTaken(1501), 4);
}

TEST_F(RedemptionsTest, StaffChangeCapacityButNeverBelowTaken) {
  ASSERT_TRUE(redemptions_->CreateRedemption(Redeem("r1", 1501, 2), "").ok());
  v1::SetAwardSeatCapacityRequest set;
  set.set_flight_number(1501);
  *set.mutable_flight_date() = InDays(30);
  set.set_cabin(v1::ECONOMY);
  set.set_capacity(1);
  set.mutable_actor()->set_operator_id("supervisor-1");
  EXPECT_EQ(redemptions_->SetAwardSeatCapacity(set).status().code(),
            absl::StatusCode::kFailedPrecondition);
  set.set_capacity(9);
  auto seats = redemptions_->SetAwardSeatCapacity(set);
  ASSERT_TRUE(seats.ok());
  EXPECT_EQ(seats->seats().cabins(0).available(), 7);
  EXPECT_TRUE(seats->seats().cabins(0).overridden());
}

TEST_F(RedemptionsTest, RecoveryFinishesStepsLeftOpenWhenAccrualWasDown) {
  accrual_.down = true;
  absl::Status status = redemptions_->CreateRedemption(Redeem("r1"), "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SeatsTaken(1501), 1);  // Seats stay taken for the open step.
  accrual_.down = false;
  EXPECT_EQ(*redemptions_->Recover(), 1);
  v1::ListRedemptionsRequest list;
  list.set_member_number(member_);
  auto listed = redemptions_->ListRedemptions(list);
  ASSERT_EQ(listed->redemptions_size(), 1);
  EXPECT_EQ(listed->redemptions(0).state(), v1::HELD);
  EXPECT_EQ(accrual_.Available(member_), 88'000);

  accrual_.down = true;
  v1::CancelRedemptionRequest cancel;
  cancel.set_redemption_id(listed->redemptions(0).redemption_id());
  EXPECT_EQ(redemptions_->CancelRedemption(cancel).status().code(),
            absl::StatusCode::kUnavailable);
  accrual_.down = false;
  EXPECT_EQ(*redemptions_->Recover(), 1);
  EXPECT_EQ(redemptions_->ListRedemptions(list)->redemptions(0).state(),
            v1::CANCELLED);
  EXPECT_EQ(accrual_.Available(member_), 100'000);
  EXPECT_EQ(SeatsTaken(1501), 0);
}

TEST_F(RedemptionsTest, QuotesRoundTripsAndPartnerAwards) {
  v1::QuoteAwardRequest quote;
  quote.mutable_itinerary()->set_journey_type(v1::ROUND_TRIP);
  *quote.mutable_itinerary()->mutable_outbound()->add_segments() =
      Segment("PEK", "JFK", 30, 981, "CA");
  *quote.mutable_itinerary()->mutable_inbound()->add_segments() =
      Segment("JFK", "PEK", 40, 982, "CA");
  quote.set_cabin(v1::BUSINESS);
  quote.set_passengers(2);
  auto priced = redemptions_->QuoteAward(quote);
  ASSERT_TRUE(priced.ok()) << priced.status();
  EXPECT_EQ(priced->miles_per_passenger(), 200'000);  // 2 x 100,000 (5,001+).
  EXPECT_EQ(priced->total_miles(), 400'000);
  EXPECT_EQ(priced->partner_code(), "CA");
  EXPECT_EQ(priced->seats_size(), 0);  // Partner seats are the partner's.
  quote.mutable_itinerary()->mutable_outbound()->mutable_segments(0)->set_carrier("ZZ");
  quote.mutable_itinerary()->mutable_inbound()->mutable_segments(0)->set_carrier("ZZ");
  EXPECT_EQ(redemptions_->QuoteAward(quote).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RedemptionsTest, PartnerAirlinesAreSettlementsActiveAirlines) {
  auto quote_on = [&](const std::string& carrier) {
    v1::QuoteAwardRequest quote;
    quote.mutable_itinerary()->set_journey_type(v1::ONE_WAY);
    *quote.mutable_itinerary()->mutable_outbound()->add_segments() =
        Segment("PEK", "PVG", 30, 981, carrier);
    quote.set_cabin(v1::ECONOMY);
    quote.set_passengers(1);
    return redemptions_->QuoteAward(quote).status();
  };
  const char* kField = "itinerary.outbound.segments[0].carrier";
  EXPECT_TRUE(quote_on("CA").ok());
  settlement_.Put("MU", settlement::v1::AIRLINE, settlement::v1::SUSPENDED);
  absl::Status suspended = quote_on("MU");
  EXPECT_EQ(suspended.code(), absl::StatusCode::kFailedPrecondition)
      << suspended;
  EXPECT_TRUE(NamesField(suspended, kField)) << suspended;
  // A hotel whose code looks like an airline's sells no flights.
  settlement_.Put("H1", settlement::v1::HOTEL);
  absl::Status hotel = quote_on("H1");
  EXPECT_EQ(hotel.code(), absl::StatusCode::kNotFound) << hotel;
  EXPECT_TRUE(NamesField(hotel, kField)) << hotel;

  // Partner seats are the partner's: a redemption on CA takes none of ours.
  v1::CreateRedemptionRequest request = Redeem("partner-1");
  request.mutable_standard()
      ->mutable_itinerary()
      ->mutable_outbound()
      ->mutable_segments(0)
      ->set_carrier("CA");
  auto held = redemptions_->CreateRedemption(request, "");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->redemption().state(), v1::HELD);
  EXPECT_EQ(SeatsTaken(981), 0);
  v1::CreateRedemptionRequest on_hotel = Redeem("partner-2");
  on_hotel.mutable_standard()
      ->mutable_itinerary()
      ->mutable_outbound()
      ->mutable_segments(0)
      ->set_carrier("H1");
  absl::Status refused = redemptions_->CreateRedemption(on_hotel, "").status();
  EXPECT_TRUE(
      NamesField(refused, "standard.itinerary.outbound.segments[0].carrier"))
      << refused;
}

TEST_F(RedemptionsTest, WithSettlementDownPartnerAwardsAreUnavailable) {
  // Settlement is asked every time: no answer kept hides it being down.
  RedemptionOptions options;
  options.partner_ttl = absl::ZeroDuration();
  Restart(options);
  settlement_.down = true;
  v1::CreateRedemptionRequest request = Redeem("partner-1");
  request.mutable_standard()
      ->mutable_itinerary()
      ->mutable_outbound()
      ->mutable_segments(0)
      ->set_carrier("CA");
  absl::Status status = redemptions_->CreateRedemption(request, "").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  for (const char* part : {"standard.itinerary.outbound.segments[0].carrier",
                           "CA", "settlement service"}) {
    EXPECT_NE(status.message().find(part), absl::string_view::npos)
        << part << " in " << status;
  }
  EXPECT_EQ(accrual_.Available(member_), 100'000);  // Nothing held.
  // Own flights do not need settlement.
  EXPECT_TRUE(redemptions_->CreateRedemption(Redeem("own-1"), "").ok());
  // A partner redemption made before settlement went away is returned on a
  // repeat: nothing needs checking.
  settlement_.down = false;
  auto held = redemptions_->CreateRedemption(request, "");
  ASSERT_TRUE(held.ok()) << held.status();
  settlement_.down = true;
  auto again = redemptions_->CreateRedemption(request, "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->redemption().redemption_id(),
            held->redemption().redemption_id());
}

}  // namespace
}  // namespace mileagebank::redemption
