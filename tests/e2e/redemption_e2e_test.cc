// End to end: the real membership, accrual and redemption processes. An award
// is redeemed, issued and refunded, and the member's balance and statement
// tell exactly that story; the redemption process is killed at each step of
// a redemption's life and, once restarted, settles it so that the redemption
// and its hold agree; and many clients redeeming at once never oversell a
// flight nor overdraw a member. With the real settlement process too: awards
// are sold on a partner airline registered there, and not once settlement
// cannot be asked. Membership, accrual and redemption run as
// $MB_TEST_SHARDS shards; each shard sells its own share of a flight's
// award seats, and together they never sell more than the flight has.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

using accrual::v1::Accrual;
using membership::v1::Membership;
using redemption::v1::Redemption;
using settlement::v1::Settlement;
namespace rv1 = redemption::v1;
namespace sv1 = settlement::v1;

class RedemptionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SystemOptions options;
    options.data_dir = testing::FreshTestDir();
    options.shards = testing::ShardsFromEnvironment();
    // Settlement runs only where a test needs partner airlines (it starts
    // it).
    options.services = {"membership", "accrual", "redemption"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    options.flags["redemption"] = {"--partner_cache_seconds=1",
                                   "--recovery_seconds=1",
                                   "--recovery_grace_seconds=1"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    ASSERT_TRUE(system_->Start().ok());
    members_ = std::make_unique<client::ServiceClient<Membership>>(
        system_->Targets("membership"));
    ledger_ = std::make_unique<client::ServiceClient<Accrual>>(
        system_->Targets("accrual"));
    awards_ = std::make_unique<client::ServiceClient<Redemption>>(
        system_->Targets("redemption"));
    partners_ = std::make_unique<client::ServiceClient<Settlement>>(
        system_->Targets("settlement"));
  }

  // (Re)starts the redemption shard of `member`, crashing itself at
  // `crash_at`.
  void StartRedemption(const std::string& member, const std::string& crash_at) {
    testing::ServiceProcess& redemption = system_->process_of(
        "redemption", client::ShardOfMember(member, system_->shards()));
    if (redemption.running()) redemption.Stop();
    redemption.set_extra_args(
        crash_at.empty() ? std::vector<std::string>{}
                         : std::vector<std::string>{"--crash_at=" + crash_at});
    ASSERT_TRUE(redemption.Start().ok());
  }

  std::string Enrol(int n) {
    membership::v1::EnrolRequest request;
    auto* profile = request.mutable_profile();
    profile->set_family_name("Wang");
    profile->set_given_name("Award");
    profile->mutable_date_of_birth()->set_year(1970 + n % 30);
    profile->mutable_date_of_birth()->set_month(1 + n % 12);
    profile->mutable_date_of_birth()->set_day(1 + n % 28);
    profile->set_nationality("CN");
    profile->mutable_identity_document()->set_type(membership::v1::PASSPORT);
    profile->mutable_identity_document()->set_number(absl::StrCat("G", 5000 + n));
    profile->mutable_identity_document()->set_issuing_country("CN");
    profile->set_mobile_phone(absl::StrCat("+86135", 10000000 + n));
    request.set_password("right-password");
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    grpc::ClientContext context;
    membership::v1::EnrolResponse response;
    EXPECT_TRUE(
        members_->For(request).Enrol(&context, request, &response).ok());
    return response.member().member_number();
  }

  int64_t Credit(const std::string& member, int64_t ticket) {
    accrual::v1::PostOwnFlightRequest request = testing::SampleOwnFlight(
        member, absl::StrCat(7820000000000 + ticket), "JFK", "F", 981);
    grpc::ClientContext context;
    accrual::v1::PostOwnFlightResponse response;
    EXPECT_TRUE(
        ledger_->For(request).PostOwnFlight(&context, request, &response).ok());
    return response.transaction().miles();
  }

  accrual::v1::Balance Balance(const std::string& member) {
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(member);
    grpc::ClientContext context;
    accrual::v1::GetBalanceResponse response;
    ledger_->For(request).GetBalance(&context, request, &response);
    return response.balance();
  }

  static rv1::CreateRedemptionRequest Redeem(
      const std::string& member, const std::string& request_id,
      int flight = 1501, const std::string& carrier = "FM") {
    rv1::CreateRedemptionRequest request;
    request.set_member_number(member);
    auto* itinerary = request.mutable_standard()->mutable_itinerary();
    itinerary->set_journey_type(rv1::ONE_WAY);
    auto* segment = itinerary->mutable_outbound()->add_segments();
    segment->set_carrier(carrier);
    segment->set_flight_number(flight);
    *segment->mutable_flight_date() = testing::InDays(30);
    segment->set_origin("PEK");
    segment->set_destination("PVG");
    request.mutable_standard()->set_cabin(rv1::ECONOMY);
    request.add_passengers()->set_member(true);
    request.set_member_password("right-password");
    request.mutable_actor()->set_channel(common::v1::COUNTER);
    request.mutable_actor()->set_operator_id("agent-9");
    request.set_request_id(request_id);
    return request;
  }

  grpc::Status Create(const rv1::CreateRedemptionRequest& request,
                      rv1::RedemptionRecord* record) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    rv1::CreateRedemptionResponse response;
    grpc::Status status =
        awards_->For(request).CreateRedemption(&context, request, &response);
    *record = response.redemption();
    return status;
  }

  // Redemption ids name no member: these go to `member`'s shard. Staff
  // issue with `ticket`; without, the WEB channel does (the service's stock
  // gives the numbers).
  grpc::Status Issue(const std::string& member, const std::string& id,
                     const std::string& ticket = "",
                     rv1::RedemptionRecord* record = nullptr) {
    rv1::IssueRedemptionRequest request;
    request.set_redemption_id(id);
    if (ticket.empty()) {
      request.mutable_actor()->set_channel(common::v1::WEB);
    } else {
      request.add_award_ticket_numbers(ticket);
      request.mutable_actor()->set_operator_id("agent-9");
    }
    grpc::ClientContext context;
    rv1::IssueRedemptionResponse response;
    grpc::Status status = awards_->ForMember(member).IssueRedemption(
        &context, request, &response);
    if (record != nullptr) *record = response.redemption();
    return status;
  }

  grpc::Status Cancel(const std::string& member, const std::string& id) {
    rv1::CancelRedemptionRequest request;
    request.set_redemption_id(id);
    grpc::ClientContext context;
    rv1::CancelRedemptionResponse response;
    return awards_->ForMember(member).CancelRedemption(&context, request,
                                                       &response);
  }

  grpc::Status Refund(const std::string& member, const std::string& id) {
    rv1::RefundRedemptionRequest request;
    request.set_redemption_id(id);
    grpc::ClientContext context;
    rv1::RefundRedemptionResponse response;
    return awards_->ForMember(member).RefundRedemption(&context, request,
                                                       &response);
  }

  rv1::RedemptionRecord Get(const std::string& member, const std::string& id) {
    rv1::GetRedemptionRequest request;
    request.set_redemption_id(id);
    grpc::ClientContext context;
    rv1::GetRedemptionResponse response;
    awards_->ForMember(member).GetRedemption(&context, request, &response);
    return response.redemption();
  }

  accrual::v1::Hold Hold(const std::string& hold_id) {
    accrual::v1::GetHoldRequest request;
    request.set_hold_id(hold_id);
    grpc::ClientContext context;
    accrual::v1::GetHoldResponse response;
    ledger_->For(request).GetHold(&context, request, &response);
    return response.hold();
  }

  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<Membership>> members_;
  std::unique_ptr<client::ServiceClient<Accrual>> ledger_;
  std::unique_ptr<client::ServiceClient<Redemption>> awards_;
  std::unique_ptr<client::ServiceClient<Settlement>> partners_;
};

TEST_F(RedemptionE2eTest, RedeemIssueRefundTellTheStoryInTheStatement) {
  const std::string member = Enrol(1);
  const int64_t earned = Credit(member, 1);
  rv1::RedemptionRecord held;
  ASSERT_TRUE(Create(Redeem(member, "story"), &held).ok());
  EXPECT_EQ(held.state(), rv1::HELD);
  EXPECT_EQ(held.total_miles(), 12'000);
  EXPECT_EQ(Balance(member).available(), earned - 12'000);
  ASSERT_TRUE(Issue(member, held.redemption_id(), "7840000000001").ok());
  EXPECT_EQ(Balance(member).balance(), earned - 12'000);
  ASSERT_TRUE(Refund(member, held.redemption_id()).ok());
  EXPECT_EQ(Get(member, held.redemption_id()).state(), rv1::REFUNDED);
  EXPECT_EQ(Balance(member).balance(), earned - 1'000);
  EXPECT_EQ(Balance(member).available(), earned - 1'000);

  accrual::v1::GetStatementRequest request;
  request.set_member_number(member);
  grpc::ClientContext context;
  accrual::v1::GetStatementResponse statement;
  ASSERT_TRUE(
      ledger_->For(request).GetStatement(&context, request, &statement).ok());
  std::vector<std::pair<accrual::v1::TransactionType, int64_t>> story;
  for (const auto& transaction : statement.transactions()) {
    story.emplace_back(transaction.type(), transaction.miles());
  }
  const std::vector<std::pair<accrual::v1::TransactionType, int64_t>> expected = {
      {accrual::v1::REDEPOSIT_FEE, -1'000},
      {accrual::v1::REDEPOSIT, 12'000},
      {accrual::v1::REDEMPTION, -12'000},
      {accrual::v1::OWN_FLIGHT, earned}};
  EXPECT_EQ(story, expected);
}

TEST_F(RedemptionE2eTest, PartnerAwardsOnlyOnSettlementsActiveAirlines) {
  ASSERT_TRUE(system_->process_of("settlement").Start().ok());
  sv1::RegisterPartnerRequest registration;
  sv1::Partner* ca = registration.mutable_partner();
  ca->set_partner_code("CA");
  ca->set_name("Air China");
  ca->set_type(sv1::AIRLINE);
  ca->set_currency_code("CNY");
  ca->mutable_contract()->mutable_mile_sale_price()->set_currency_code("CNY");
  ca->mutable_contract()->mutable_mile_sale_price()->set_minor_units(9000);
  registration.mutable_actor()->set_operator_id("partner-desk-1");
  {
    grpc::ClientContext context;
    sv1::RegisterPartnerResponse registered;
    grpc::Status status =
        partners_->Any().RegisterPartner(&context, registration, &registered);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const std::string member = Enrol(5);
  const int64_t earned = Credit(member, 400) + Credit(member, 401);
  rv1::RedemptionRecord record;
  grpc::Status status = Create(Redeem(member, "partner-1", 981, "CA"), &record);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(record.state(), rv1::HELD);
  EXPECT_EQ(record.partner_code(), "CA");
  EXPECT_EQ(Balance(member).available(), earned - 12'000);
  status = Create(Redeem(member, "partner-2", 5101, "MU"), &record);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();

  // Once its answer about CA is older than partner_cache_seconds (1 s
  // here), redemption asks settlement again, and without settlement it
  // sells no partner award.
  system_->process_of("settlement").Stop();
  absl::SleepFor(absl::Milliseconds(1500));
  status = Create(Redeem(member, "partner-3", 982, "CA"), &record);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_NE(status.error_message().find(
                "standard.itinerary.outbound.segments[0].carrier"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("settlement service"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(Balance(member).available(), earned - 12'000);
  // Own flights do not need settlement.
  status = Create(Redeem(member, "own-1", 1501), &record);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Balance(member).available(), earned - 24'000);
}

TEST_F(RedemptionE2eTest, KilledAtEachStepTheRedemptionAndItsHoldAgree) {
  const std::string member = Enrol(2);
  for (int i = 0; i < 4; ++i) Credit(member, 100 + i);

  // Dies after recording the intent, before asking accrual for the hold:
  // recovery holds and completes it; the client's retry finds it HELD.
  StartRedemption(member, "after_intent");
  rv1::RedemptionRecord record;
  EXPECT_FALSE(Create(Redeem(member, "crash-1"), &record).ok());
  StartRedemption(member, "");
  ASSERT_TRUE(Create(Redeem(member, "crash-1"), &record).ok());
  EXPECT_EQ(record.state(), rv1::HELD);
  EXPECT_EQ(Hold(record.hold_id()).state(), accrual::v1::HOLD_ACTIVE);
  const std::string first = record.redemption_id();

  // Dies after the hold was created, before recording it.
  StartRedemption(member, "after_hold");
  EXPECT_FALSE(Create(Redeem(member, "crash-2", 1502), &record).ok());
  StartRedemption(member, "");
  ASSERT_TRUE(Create(Redeem(member, "crash-2", 1502), &record).ok());
  EXPECT_EQ(record.state(), rv1::HELD);
  EXPECT_EQ(Hold(record.hold_id()).state(), accrual::v1::HOLD_ACTIVE);
  const std::string second = record.redemption_id();

  // Dies after capturing, before recording ISSUED: recovery at start does it.
  StartRedemption(member, "after_capture");
  EXPECT_FALSE(Issue(member, first, "7840000000101").ok());
  StartRedemption(member, "");
  ASSERT_TRUE(testing::Eventually(
      [&] { return Get(member, first).state() == rv1::ISSUED; }));
  EXPECT_EQ(Hold(Get(member, first).hold_id()).state(),
            accrual::v1::HOLD_CAPTURED);

  // Dies after releasing, before recording CANCELLED.
  StartRedemption(member, "after_release");
  EXPECT_FALSE(Cancel(member, second).ok());
  StartRedemption(member, "");
  ASSERT_TRUE(testing::Eventually(
      [&] { return Get(member, second).state() == rv1::CANCELLED; }));
  EXPECT_EQ(Hold(Get(member, second).hold_id()).state(),
            accrual::v1::HOLD_RELEASED);

  // Dies after the redeposit, before recording REFUNDED.
  StartRedemption(member, "after_redeposit");
  EXPECT_FALSE(Refund(member, first).ok());
  StartRedemption(member, "");
  ASSERT_TRUE(testing::Eventually(
      [&] { return Get(member, first).state() == rv1::REFUNDED; }));
  EXPECT_FALSE(
      Hold(Get(member, first).hold_id()).redeposit_transaction_id().empty());

  // Nothing else is held, and the ledger holds its invariant.
  EXPECT_EQ(Balance(member).held(), 0);
  grpc::ClientContext context;
  accrual::v1::VerifyLedgerRequest verify;
  verify.set_member_number(member);
  accrual::v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(
      ledger_->For(verify).VerifyLedger(&context, verify, &verified).ok());
  EXPECT_EQ(verified.differences_size(), 0);
}

TEST_F(RedemptionE2eTest, WebIssuesNeverReuseATicketNumberAcrossCrashes) {
  const std::string member = Enrol(3);
  for (int i = 0; i < 4; ++i) Credit(member, 300 + i);
  std::vector<std::string> held;
  for (int flight : {1501, 1502, 1503}) {
    rv1::RedemptionRecord record;
    ASSERT_TRUE(Create(Redeem(member, absl::StrCat("web-", flight), flight), &record).ok());
    held.push_back(record.redemption_id());
  }
  std::set<std::string> numbers;
  auto issued_number = [&](const std::string& id) {
    rv1::RedemptionRecord record;
    grpc::Status status = Issue(member, id, "", &record);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(record.state(), rv1::ISSUED);
    EXPECT_EQ(record.award_ticket_numbers_size(), 1);
    return record.award_ticket_numbers_size() == 1 ? record.award_ticket_numbers(0) : "";
  };

  // Dies after the capture: the number was recorded with the intent, and
  // recovery issues the award with it.
  StartRedemption(member, "after_capture");
  EXPECT_FALSE(Issue(member, held[0]).ok());
  StartRedemption(member, "");
  ASSERT_TRUE(testing::Eventually(
      [&] { return Get(member, held[0]).state() == rv1::ISSUED; }));
  const std::string first = issued_number(held[0]);  // Again: the same one.
  EXPECT_EQ(Get(member, held[0]).award_ticket_numbers(0), first);
  numbers.insert(first);
  numbers.insert(issued_number(held[1]));

  // Killed (SIGKILL) and started again: the stock goes on from its serial.
  testing::ServiceProcess& redemption = system_->process_of(
      "redemption", client::ShardOfMember(member, system_->shards()));
  redemption.Kill();
  ASSERT_TRUE(redemption.Start().ok());
  // The client's first call may meet the dead connection; issuing again is
  // safe.
  ASSERT_TRUE(testing::Eventually([&] { return Issue(member, held[2]).ok(); }));
  numbers.insert(issued_number(held[2]));
  EXPECT_EQ(numbers.size(), 3u);
  for (const std::string& number : numbers) {
    EXPECT_TRUE(number.size() == 13 && absl::StartsWith(number, "774")) << number;
  }
}

TEST_F(RedemptionE2eTest, ConcurrentRedemptionsNeverOversellNorOverdraw) {
  const std::string member = Enrol(3);
  const int64_t earned = Credit(member, 200);  // ~13,600: one 12,000 award.
  // A rich member on every shard, so that every shard sells its share of
  // the flight.
  std::vector<std::string> rich(system_->shards());
  int64_t ticket = 300;
  for (int n = 100, found = 0; found < system_->shards(); ++n) {
    const std::string candidate = Enrol(n);
    std::string& slot =
        rich[client::ShardOfMember(candidate, system_->shards())];
    if (!slot.empty()) continue;
    slot = candidate;
    ++found;
    for (int i = 0; i < 4; ++i) Credit(candidate, ticket++);
  }
  std::atomic<int> same_flight_held{0};
  std::atomic<int> other_flights_held{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 12; ++t) {
    clients.emplace_back([&, t] {
      rv1::RedemptionRecord record;
      // Everyone wants flight 1601: it has 4 ECONOMY award seats.
      if (Create(Redeem(rich[t % rich.size()], absl::StrCat("seat-", t), 1601),
                 &record)
              .ok()) {
        ++same_flight_held;
      }
      // The poor member can afford one award whatever the flight.
      if (Create(Redeem(member, absl::StrCat("miles-", t), 1700 + t), &record).ok()) {
        ++other_flights_held;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(same_flight_held, 4);
  EXPECT_EQ(other_flights_held, earned / 12'000);
  EXPECT_GE(Balance(member).available(), 0);
  // The shards' shares of the seats taken add up to what was sold.
  rv1::GetAwardSeatsRequest seats;
  seats.set_flight_number(1601);
  *seats.mutable_flight_date() = testing::InDays(30);
  int taken = 0;
  for (int shard = 0; shard < awards_->shard_count(); ++shard) {
    grpc::ClientContext context;
    rv1::GetAwardSeatsResponse response;
    ASSERT_TRUE(
        awards_->Shard(shard).GetAwardSeats(&context, seats, &response).ok());
    taken += response.seats().cabins(0).taken();
  }
  EXPECT_EQ(taken, 4);
}

}  // namespace
}  // namespace mileagebank
