// End to end: the real membership and accrual processes, each following the
// other's event stream. Credits earn tiers in membership exactly once, a
// merge in membership moves the account in accrual, and accrual killed with
// SIGKILL under concurrent load keeps every acknowledged credit exactly once
// with a consistent ledger. With the real settlement process too: a partner
// flight earns by the table registered in settlement, follows a change of
// it, and is still credited from accrual's replica while settlement is down.
// Membership and accrual run as $MB_TEST_SHARDS shards; the test routes by
// member, and merges members of one shard (a merge across shards is refused).
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

using accrual::v1::Accrual;
using membership::v1::Membership;
using settlement::v1::Settlement;
namespace sv1 = settlement::v1;

class AccrualE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SystemOptions options;
    options.data_dir = testing::FreshTestDir();
    options.shards = testing::ShardsFromEnvironment();
    // Settlement runs only where a test needs partners (it starts it);
    // until then accrual finds nobody at its address.
    options.services = {"membership", "accrual"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    ASSERT_TRUE(system_->Start().ok());
    members_ = std::make_unique<client::ServiceClient<Membership>>(
        system_->Targets("membership"));
    accrual_ = std::make_unique<client::ServiceClient<Accrual>>(
        system_->Targets("accrual"));
    partners_ = std::make_unique<client::ServiceClient<Settlement>>(
        system_->Targets("settlement"));
  }

  // Stops every accrual shard (SIGTERM) and starts them again.
  void RestartAccrual() {
    for (int shard = 0; shard < system_->shards(); ++shard) {
      system_->process_of("accrual", shard).Stop();
    }
    ASSERT_TRUE(system_->Start().ok());
  }

  int ShardOf(const std::string& member) const {
    return client::ShardOfMember(member, system_->shards());
  }

  std::string Enrol(int n) {
    membership::v1::EnrolRequest request;
    auto* profile = request.mutable_profile();
    profile->set_family_name("Chen");
    profile->set_given_name("Flyer");
    profile->mutable_date_of_birth()->set_year(1980 + n % 20);
    profile->mutable_date_of_birth()->set_month(1 + n % 12);
    profile->mutable_date_of_birth()->set_day(1 + n % 28);
    profile->set_nationality("CN");
    profile->mutable_identity_document()->set_type(membership::v1::PASSPORT);
    profile->mutable_identity_document()->set_number(absl::StrCat("E", 1000 + n));
    profile->mutable_identity_document()->set_issuing_country("CN");
    profile->set_mobile_phone(absl::StrCat("+86137", 10000000 + n));
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    grpc::ClientContext context;
    membership::v1::EnrolResponse response;
    EXPECT_TRUE(
        members_->For(request).Enrol(&context, request, &response).ok());
    return response.member().member_number();
  }

  static accrual::v1::PostOwnFlightRequest Flight(const std::string& member,
                                                  int64_t ticket,
                                                  const char* booking_class = "Y",
                                                  const char* to = "PVG") {
    return testing::SampleOwnFlight(
        member, absl::StrCat(7810000000000 + ticket), to, booking_class);
  }

  static accrual::v1::PostPartnerFlightRequest PartnerFlight(
      const std::string& member, int64_t ticket, const char* booking_class,
      const char* partner = "CA") {
    accrual::v1::PostPartnerFlightRequest request;
    request.set_member_number(member);
    request.set_partner_code(partner);
    request.mutable_flight_identity()->set_ticket_number(
        absl::StrCat(9990000000000 + ticket));
    request.mutable_flight_identity()->set_coupon_number(1);
    auto* flight = request.mutable_flight();
    flight->set_carrier(partner);
    flight->set_flight_number(1519);
    *flight->mutable_flight_date() =
        validation::ToProtoDate(validation::UtcDay(absl::Now()) - 1);
    flight->set_origin("PEK");
    flight->set_destination("PVG");
    flight->set_booking_class(booking_class);
    return request;
  }

  grpc::Status PostPartnerFlight(
      const accrual::v1::PostPartnerFlightRequest& request,
      accrual::v1::Transaction* transaction) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    accrual::v1::PostPartnerFlightResponse response;
    grpc::Status status =
        accrual_->For(request).PostPartnerFlight(&context, request, &response);
    *transaction = response.transaction();
    return status;
  }

  accrual::v1::Balance Balance(const std::string& member) {
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(member);
    accrual::v1::GetBalanceResponse response;
    accrual_->For(request).GetBalance(testing::WaitingContext().get(), request,
                                      &response);
    return response.balance();
  }

  // Posts `flight` to its member's shard.
  grpc::Status PostOwnFlight(const accrual::v1::PostOwnFlightRequest& flight,
                             accrual::v1::PostOwnFlightResponse* response) {
    grpc::ClientContext context;
    return accrual_->For(flight).PostOwnFlight(&context, flight, response);
  }

  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<Membership>> members_;
  std::unique_ptr<client::ServiceClient<Accrual>> accrual_;
  std::unique_ptr<client::ServiceClient<Settlement>> partners_;
};

TEST_F(AccrualE2eTest, CreditsReachTiersAndMergesMoveAccounts) {
  const std::string flyer = Enrol(1);
  // Miles move between members of one shard only: the duplicate is the
  // first of a few enrolments on the flyer's shard (any, unsharded), and
  // one elsewhere shows the refusal.
  std::string duplicate, elsewhere;
  for (int n = 2; n < 12; ++n) {
    const std::string member = Enrol(n);
    if (ShardOf(member) == ShardOf(flyer)) {
      if (duplicate.empty()) duplicate = member;
    } else if (elsewhere.empty()) {
      elsewhere = member;
    }
  }
  ASSERT_FALSE(duplicate.empty());
  ASSERT_EQ(elsewhere.empty(), system_->shards() == 1);
  // Two long first-class flights cross SILVER (25,000 QM).
  for (int i = 1; i <= 2; ++i) {
    accrual::v1::PostOwnFlightResponse response;
    ASSERT_TRUE(PostOwnFlight(Flight(flyer, i, "F", "JFK"), &response).ok());
  }
  auto tier = [&](const std::string& member) {
    membership::v1::GetTierRequest request;
    request.set_member_number(member);
    grpc::ClientContext context;
    membership::v1::GetTierResponse response;
    members_->ForMember(member).GetTier(&context, request, &response);
    return response;
  };
  ASSERT_TRUE(testing::Eventually(
      [&] { return tier(flyer).tier() == membership::v1::SILVER; }));
  const int64_t qualifying = tier(flyer).qualifying_miles();

  accrual::v1::PostOwnFlightResponse posted;
  ASSERT_TRUE(PostOwnFlight(Flight(duplicate, 3), &posted).ok());
  const int64_t duplicate_miles = posted.transaction().miles();
  const int64_t flyer_miles = Balance(flyer).balance();
  membership::v1::MergeMembersRequest merge;
  merge.set_source_member_number(duplicate);
  merge.set_target_member_number(flyer);
  merge.set_reason("DUPLICATE");
  merge.mutable_actor()->set_operator_id("supervisor-1");
  if (!elsewhere.empty()) {
    membership::v1::MergeMembersRequest across = merge;
    across.set_source_member_number(elsewhere);
    grpc::ClientContext context;
    membership::v1::MergeMembersResponse refused;
    grpc::Status status =
        members_->For(across).MergeMembers(&context, across, &refused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << status.error_message();
    EXPECT_NE(status.error_message().find("target_member_number"),
              std::string::npos)
        << status.error_message();
  }
  grpc::ClientContext merge_context;
  membership::v1::MergeMembersResponse merged;
  grpc::Status status =
      members_->For(merge).MergeMembers(&merge_context, merge, &merged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(testing::Eventually([&] {
    return Balance(flyer).balance() == flyer_miles + duplicate_miles;
  }));
  EXPECT_EQ(Balance(duplicate).balance(), 0);
  // The duplicate's qualifying activity reaches membership through
  // accrual's stream, maybe after the merge: it follows the merge then.
  EXPECT_TRUE(testing::Eventually([&] {
    return tier(flyer).qualifying_miles() == qualifying + duplicate_miles;
  })) << tier(flyer).qualifying_miles()
      << " vs " << qualifying + duplicate_miles;
  // A credit for the merged number lands on the member it was merged into.
  accrual::v1::PostOwnFlightResponse late;
  ASSERT_TRUE(PostOwnFlight(Flight(duplicate, 4), &late).ok());
  EXPECT_EQ(late.transaction().member_number(), flyer);
}

void AddRate(sv1::Partner& partner, const char* booking_class, int percent) {
  sv1::ClassEarningRate* rate = partner.mutable_contract()->add_earning_table();
  rate->set_booking_class(booking_class);
  rate->set_percent(percent);
}

TEST_F(AccrualE2eTest, PartnerFlightsEarnBySettlementsTableEvenWhileItIsDown) {
  // Settlement first, then accrual, as they are deployed: accrual's channel
  // to settlement does not start in the back-off of finding nobody there.
  ASSERT_TRUE(system_->process_of("settlement").Start().ok());
  RestartAccrual();
  sv1::RegisterPartnerRequest registration;
  sv1::Partner* ca = registration.mutable_partner();
  ca->set_partner_code("CA");
  ca->set_name("Air China");
  ca->set_type(sv1::AIRLINE);
  ca->set_currency_code("CNY");
  ca->mutable_contract()->mutable_mile_sale_price()->set_currency_code("CNY");
  ca->mutable_contract()->mutable_mile_sale_price()->set_minor_units(9000);
  AddRate(*ca, "J", 125);
  AddRate(*ca, "Y", 100);
  registration.mutable_actor()->set_operator_id("partner-desk-1");
  {
    grpc::ClientContext context;
    sv1::RegisterPartnerResponse registered;
    grpc::Status status =
        partners_->Any().RegisterPartner(&context, registration, &registered);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const std::string flyer = Enrol(30);
  accrual::v1::Transaction credit;
  grpc::Status status =
      PostPartnerFlight(PartnerFlight(flyer, 1, "J"), &credit);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(credit.earning().rate_percent(), 125);
  EXPECT_EQ(credit.miles(), 683 * 125 / 100);
  status = PostPartnerFlight(PartnerFlight(flyer, 2, "J", "MU"), &credit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();

  // CA's J now earns 150 % and W is sold; the change reaches accrual as an
  // event, and W earning at all shows that it has.
  sv1::UpdatePartnerRequest update;
  update.set_partner_code("CA");
  AddRate(*update.mutable_partner(), "J", 150);
  AddRate(*update.mutable_partner(), "Y", 100);
  AddRate(*update.mutable_partner(), "W", 110);
  update.mutable_update_mask()->add_paths("contract.earning_table");
  update.mutable_actor()->set_operator_id("partner-desk-1");
  {
    grpc::ClientContext context;
    sv1::UpdatePartnerResponse updated;
    status = partners_->Any().UpdatePartner(&context, update, &updated);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_TRUE(testing::Eventually([&] {
    return PostPartnerFlight(PartnerFlight(flyer, 3, "W"), &credit).ok();
  }));
  EXPECT_EQ(credit.miles(), 683 * 110 / 100);
  status = PostPartnerFlight(PartnerFlight(flyer, 4, "J"), &credit);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(credit.miles(), 683 * 150 / 100);

  // Without settlement, and restarted so that it remembers nothing it was
  // told outside its store, accrual credits CA from its replica; a partner
  // it has never heard of cannot be credited.
  system_->process_of("settlement").Stop();
  RestartAccrual();
  status = PostPartnerFlight(PartnerFlight(flyer, 5, "J"), &credit);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(credit.miles(), 683 * 150 / 100);
  status = PostPartnerFlight(PartnerFlight(flyer, 6, "J", "MU"), &credit);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_NE(status.error_message().find("MU"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("settlement service"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(Balance(flyer).balance(),
            683 * 125 / 100 + 683 * 110 / 100 + 2 * (683 * 150 / 100));
}

TEST_F(AccrualE2eTest, AcknowledgedCreditsSurviveSigkillExactlyOnce) {
  std::vector<std::string> members;
  for (int i = 0; i < 20; ++i) members.push_back(Enrol(100 + i));
  std::mutex mutex;
  // ticket -> acknowledged transaction
  std::map<int64_t, accrual::v1::Transaction> acknowledged;
  std::atomic<int64_t> next_ticket{1000};

  std::string last_error;  // guarded by mutex
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 16; ++t) {
      clients.emplace_back([&] {
        while (!stop) {
          const int64_t ticket = next_ticket++;
          accrual::v1::PostOwnFlightRequest request =
              Flight(members[ticket % members.size()], ticket);
          // Waits out a restarted shard rather than spin on its refusals.
          auto context = testing::WaitingContext(absl::Seconds(3));
          accrual::v1::PostOwnFlightResponse response;
          grpc::Status status = accrual_->For(request).PostOwnFlight(
              context.get(), request, &response);
          std::lock_guard<std::mutex> lock(mutex);
          if (status.ok()) {
            acknowledged[ticket] = response.transaction();
          } else {
            last_error =
                absl::StrCat(status.error_code(), " ", status.error_message());
          }
        }
      });
    }
    // Once credits flow, crash every shard in the middle of them.
    const size_t before = [&] {
      std::lock_guard<std::mutex> lock(mutex);
      return acknowledged.size();
    }();
    const bool flowing = testing::Eventually([&] {
      std::lock_guard<std::mutex> lock(mutex);
      return acknowledged.size() >= before + 40;
    });
    if (flowing) system_->Kill("accrual");
    stop = true;
    for (auto& client : clients) client.join();
    ASSERT_TRUE(flowing) << "round " << round << ": "
                         << acknowledged.size() - before
                         << " credits acknowledged; last error " << last_error;
    ASSERT_TRUE(system_->Start().ok());
  }

  std::lock_guard<std::mutex> lock(mutex);
  ASSERT_GT(acknowledged.size(), 50u);
  // Every acknowledged credit is there, once: sending it again replays the
  // very same transaction.
  for (const auto& [ticket, transaction] : acknowledged) {
    const accrual::v1::PostOwnFlightRequest request =
        Flight(members[ticket % members.size()], ticket);
    accrual::v1::PostOwnFlightResponse response;
    ASSERT_TRUE(
        accrual_->For(request)
            .PostOwnFlight(testing::WaitingContext().get(), request, &response)
            .ok());
    EXPECT_TRUE(response.replayed()) << ticket;
    EXPECT_EQ(response.transaction().transaction_id(), transaction.transaction_id());
  }
  // No flight twice in any statement, and the ledger holds its invariant.
  for (const std::string& member : members) {
    accrual::v1::GetStatementRequest request;
    request.set_member_number(member);
    request.mutable_page()->set_page_size(1000);
    grpc::ClientContext context;
    accrual::v1::GetStatementResponse statement;
    ASSERT_TRUE(accrual_->For(request)
                    .GetStatement(&context, request, &statement)
                    .ok());
    std::set<std::string> tickets;
    for (const auto& transaction : statement.transactions()) {
      EXPECT_TRUE(tickets.insert(transaction.flight_identity().ticket_number()).second)
          << "credited twice: " << transaction.flight_identity().ticket_number();
    }
  }
  // Each shard checks its own members.
  int64_t members_checked = 0;
  for (int shard = 0; shard < accrual_->shard_count(); ++shard) {
    grpc::ClientContext verify_context;
    accrual::v1::VerifyLedgerResponse verified;
    ASSERT_TRUE(accrual_->Shard(shard)
                    .VerifyLedger(&verify_context, {}, &verified)
                    .ok());
    EXPECT_EQ(verified.differences_size(), 0) << "shard " << shard;
    members_checked += verified.members_checked();
  }
  EXPECT_EQ(members_checked, static_cast<int64_t>(members.size()));
}

}  // namespace
}  // namespace mileagebank
