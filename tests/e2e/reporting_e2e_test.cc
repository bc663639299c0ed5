// End to end: the real membership, accrual, redemption, settlement and
// reporting processes. After a random workload (enrolments, own flights,
// adjustments both ways, redemptions issued and cancelled) reporting's
// consistency check passes and the liability report's outstanding miles are
// exactly accrual's VerifyLedger total; and a reporting process SIGKILLed
// again and again while it catches up from an empty store ends with the
// very figures of one that was never interrupted. Membership, accrual and
// redemption run as $MB_TEST_SHARDS shards, and reporting follows each
// shard's stream.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/client/shard_streams.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "mileagebank/reporting/v1/reporting.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;
namespace rdv1 = redemption::v1;
namespace rpv1 = reporting::v1;

using google::protobuf::util::MessageDifferencer;

std::unique_ptr<grpc::ClientContext> Deadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// The four source services on fresh data, and reporting processes that
// follow them.
class System {
 public:
  explicit System(const std::string& data) {
    testing::SystemOptions options;
    options.data_dir = data;
    options.shards = testing::ShardsFromEnvironment();
    options.services = {"membership", "accrual", "redemption", "settlement"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    options.flags["settlement"] = {"--inbox_poll_ms=100",
                                   "--disable_daily_outbound"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    absl::Status started = system_->Start();
    EXPECT_TRUE(started.ok()) << started;
    members_ = std::make_unique<client::ServiceClient<mv1::Membership>>(
        system_->Targets("membership"));
    ledger_ = std::make_unique<client::ServiceClient<av1::Accrual>>(
        system_->Targets("accrual"));
    awards_ = std::make_unique<client::ServiceClient<rdv1::Redemption>>(
        system_->Targets("redemption"));
  }

  // A reporting process on `data_dir` (not started).
  std::unique_ptr<testing::ServiceProcess> Reporting(
      const std::string& data_dir, const std::vector<std::string>& extra = {}) {
    return system_->NewProcess("reporting", data_dir, extra);
  }

  // Every source stream ("accrual", or "accrual-0", "accrual-1"... when
  // sharded) with its shard's address, as reporting names them.
  std::vector<client::ShardStream> Streams() const {
    std::vector<client::ShardStream> streams;
    for (const char* service :
         {"membership", "accrual", "redemption", "settlement"}) {
      for (client::ShardStream& stream :
           client::ShardStreams(service, system_->Targets(service))) {
        streams.push_back(std::move(stream));
      }
    }
    return streams;
  }

  // Every source's newest event, as reporting's min_stream_positions.
  std::map<std::string, uint64_t> Heads() {
    std::map<std::string, uint64_t> heads;
    for (const client::ShardStream& stream : Streams()) {
      auto stub =
          common::v1::EventStream::NewStub(client::ChannelFor(stream.target));
      common::v1::GetHeadResponse head;
      auto context = Deadline(absl::Seconds(5));
      EXPECT_TRUE(
          stub->GetHead(context.get(), common::v1::GetHeadRequest(), &head)
              .ok());
      heads[stream.source] = head.last_sequence();
    }
    return heads;
  }

  // Enrolments, own flights, adjustments and redemptions, chosen by `seed`.
  void Workload(uint32_t seed, int members) {
    std::mt19937 random(seed);
    std::vector<std::string> numbers;
    for (int n = 0; n < members; ++n) {
      mv1::EnrolRequest request = testing::SampleEnrolment(n, "Report");
      request.set_password("right-password");
      mv1::EnrolResponse response;
      auto context = Deadline(absl::Seconds(10));
      grpc::Status status =
          members_->For(request).Enrol(context.get(), request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      numbers.push_back(response.member().member_number());
    }
    int64_t ticket = 0;
    const char* const kRoutes[][2] = {{"JFK", "F"}, {"PVG", "Y"},
                                      {"CAN", "J"}, {"JFK", "Y"}};
    for (const std::string& member : numbers) {
      const int flights = std::uniform_int_distribution<int>(0, 4)(random);
      for (int f = 0; f < flights; ++f) {
        const auto& route = kRoutes[random() % 4];
        av1::PostOwnFlightRequest request = testing::SampleOwnFlight(
            member, absl::StrCat(7830000000000 + ++ticket), route[0], route[1],
            981, 1 + static_cast<int>(random() % 20));
        av1::PostOwnFlightResponse response;
        auto context = Deadline(absl::Seconds(10));
        grpc::Status status = ledger_->For(request).PostOwnFlight(
            context.get(), request, &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
      }
      if (random() % 3 == 0) {
        Adjust(member, 100 + static_cast<int64_t>(random() % 2000),
               absl::StrCat("credit-", member));
      }
    }
    // Debits where there is something to take, and a few awards.
    int awards = 0;
    for (const std::string& member : numbers) {
      const int64_t balance = Balance(member);
      if (balance > 500 && random() % 2 == 0) {
        Adjust(member, -static_cast<int64_t>(1 + random() % 500),
               absl::StrCat("debit-", member));
      }
      if (Balance(member) >= 20'000 && awards < 3) {
        // Each on a flight of its own: a shard sells only its share of a
        // flight's few award seats.
        Award(member, absl::StrCat("award-", member), 1501 + awards,
              /*issue=*/awards % 2 == 0);
        ++awards;
      }
    }
  }

  int64_t Balance(const std::string& member) {
    av1::GetBalanceRequest request;
    request.set_member_number(member);
    av1::GetBalanceResponse response;
    auto context = Deadline(absl::Seconds(5));
    EXPECT_TRUE(ledger_->For(request)
                    .GetBalance(context.get(), request, &response)
                    .ok());
    return response.balance().balance();
  }

  // Accrual's own check, shard by shard (each with its own sequence), in
  // the order of Streams() ("accrual" or "accrual-0", "accrual-1"...).
  std::map<std::string, av1::VerifyLedgerResponse> VerifyLedger() {
    std::map<std::string, av1::VerifyLedgerResponse> shards;
    const std::vector<client::ShardStream> streams =
        client::ShardStreams("accrual", system_->Targets("accrual"));
    for (int shard = 0; shard < ledger_->shard_count(); ++shard) {
      av1::VerifyLedgerResponse& response = shards[streams[shard].source];
      auto context = Deadline(absl::Seconds(30));
      grpc::Status status = ledger_->Shard(shard).VerifyLedger(
          context.get(), av1::VerifyLedgerRequest(), &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return shards;
  }

  // The outstanding miles of every shard.
  int64_t TotalBalance() {
    int64_t total = 0;
    for (const auto& [stream, verified] : VerifyLedger()) {
      EXPECT_TRUE(verified.differences().empty()) << stream;
      total += verified.total_balance();
    }
    return total;
  }

 private:
  void Adjust(const std::string& member, int64_t miles,
              const std::string& request_id) {
    av1::AdjustMilesRequest request;
    request.set_member_number(member);
    request.set_miles(miles);
    request.set_reason_code("GOODWILL");
    request.set_note("reporting end-to-end test");
    request.mutable_actor()->set_channel(common::v1::CALL_CENTRE);
    request.mutable_actor()->set_operator_id("e2e");
    request.set_request_id(request_id);
    av1::AdjustMilesResponse response;
    auto context = Deadline(absl::Seconds(10));
    grpc::Status status =
        ledger_->For(request).AdjustMiles(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  void Award(const std::string& member, const std::string& request_id,
             int flight, bool issue) {
    rdv1::CreateRedemptionRequest request;
    request.set_member_number(member);
    auto* itinerary = request.mutable_standard()->mutable_itinerary();
    itinerary->set_journey_type(rdv1::ONE_WAY);
    auto* segment = itinerary->mutable_outbound()->add_segments();
    segment->set_carrier("FM");
    segment->set_flight_number(flight);
    *segment->mutable_flight_date() = testing::InDays(30);
    segment->set_origin("PEK");
    segment->set_destination("PVG");
    request.mutable_standard()->set_cabin(rdv1::ECONOMY);
    request.add_passengers()->set_member(true);
    request.set_member_password("right-password");
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    request.mutable_actor()->set_office_code("PEK01");
    request.mutable_actor()->set_operator_id("agent-7");
    request.set_request_id(request_id);
    rdv1::CreateRedemptionResponse created;
    auto context = Deadline(absl::Seconds(10));
    grpc::Status status = awards_->For(request).CreateRedemption(
        context.get(), request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::string id = created.redemption().redemption_id();
    if (issue) {
      rdv1::IssueRedemptionRequest issued;
      issued.set_redemption_id(id);
      issued.add_award_ticket_numbers(
          absl::StrCat(7840000000000 + ++award_tickets_));
      issued.mutable_actor()->set_operator_id("agent-7");
      rdv1::IssueRedemptionResponse response;
      auto issue_context = Deadline(absl::Seconds(10));
      status = awards_->ForMember(member).IssueRedemption(issue_context.get(),
                                                          issued, &response);
    } else {
      rdv1::CancelRedemptionRequest cancelled;
      cancelled.set_redemption_id(id);
      rdv1::CancelRedemptionResponse response;
      auto cancel_context = Deadline(absl::Seconds(10));
      status = awards_->ForMember(member).CancelRedemption(
          cancel_context.get(), cancelled, &response);
    }
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  int64_t award_tickets_ = 0;
  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<mv1::Membership>> members_;
  std::unique_ptr<client::ServiceClient<av1::Accrual>> ledger_;
  std::unique_ptr<client::ServiceClient<rdv1::Redemption>> awards_;
};

std::unique_ptr<rpv1::Reporting::Stub> ReportingStub(
    const testing::ServiceProcess& process) {
  return rpv1::Reporting::NewStub(grpc::CreateChannel(
      process.address(), grpc::InsecureChannelCredentials()));
}

template <typename Request>
Request ThisYear(const std::map<std::string, uint64_t>& heads) {
  Request request;
  const absl::CivilDay today = validation::UtcDay(absl::Now());
  *request.mutable_range()->mutable_from_date() =
      validation::ToProtoDate(absl::CivilDay(today.year(), 1, 1));
  *request.mutable_range()->mutable_to_date() =
      validation::ToProtoDate(absl::CivilDay(today.year(), 12, 31));
  for (const auto& [source, sequence] : heads) {
    (*request.mutable_min_stream_positions())[source] = sequence;
  }
  return request;
}

rpv1::GetLiabilityReportResponse Liability(
    rpv1::Reporting::Stub& reporting,
    const std::map<std::string, uint64_t>& heads) {
  rpv1::GetLiabilityReportResponse response;
  auto context = Deadline(absl::Seconds(60));
  grpc::Status status = reporting.GetLiabilityReport(
      context.get(), ThisYear<rpv1::GetLiabilityReportRequest>(heads),
      &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  response.clear_generated_at();
  return response;
}

rpv1::GetMembersReportResponse Members(
    rpv1::Reporting::Stub& reporting,
    const std::map<std::string, uint64_t>& heads) {
  rpv1::GetMembersReportResponse response;
  auto context = Deadline(absl::Seconds(60));
  grpc::Status status = reporting.GetMembersReport(
      context.get(), ThisYear<rpv1::GetMembersReportRequest>(heads), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  response.clear_generated_at();
  return response;
}

rpv1::CheckConsistencyResponse Check(rpv1::Reporting::Stub& reporting,
                                     const std::map<std::string, uint64_t>& heads,
                                     bool replay) {
  rpv1::CheckConsistencyRequest request;
  for (const auto& [source, sequence] : heads) {
    (*request.mutable_min_stream_positions())[source] = sequence;
  }
  request.set_replay_sources(replay);
  rpv1::CheckConsistencyResponse response;
  auto context = Deadline(absl::Seconds(120));
  grpc::Status status =
      reporting.CheckConsistency(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

// Every check consistent, and the accrual one actually run.
void ExpectConsistent(const rpv1::CheckConsistencyResponse& response,
                      bool replayed) {
  EXPECT_TRUE(response.consistent()) << response.DebugString();
  bool against_accrual = false, against_log = false;
  for (const rpv1::ConsistencyCheck& check : response.checks()) {
    EXPECT_TRUE(check.consistent()) << check.name() << ": " << check.detail();
    if (check.name() == "liability_total_vs_accrual") {
      against_accrual = true;
      EXPECT_FALSE(absl::StartsWith(check.detail(), "not run"))
          << check.detail();
    }
    against_log |= check.name() == "liability_total_vs_accrual_log";
  }
  EXPECT_TRUE(against_accrual);
  EXPECT_EQ(against_log, replayed);
}

TEST(ReportingE2eTest, RandomWorkloadIsConsistentWithAccrual) {
  const std::string data = testing::FreshTestDir();
  System system(data);
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  system.Workload(seed, 30);
  const std::map<std::string, uint64_t> heads = system.Heads();

  auto reporting = system.Reporting(data);
  ASSERT_TRUE(reporting->Start().ok());
  auto stub = ReportingStub(*reporting);

  ExpectConsistent(Check(*stub, heads, /*replay=*/false), false);
  ExpectConsistent(Check(*stub, heads, /*replay=*/true), true);

  const int64_t total_balance = system.TotalBalance();
  const rpv1::GetLiabilityReportResponse liability = Liability(*stub, heads);
  EXPECT_EQ(liability.summary().outstanding_miles(), total_balance);
  // The report stands at each accrual shard's own check.
  for (const auto& [stream, verified] : system.VerifyLedger()) {
    ASSERT_EQ(liability.stream_positions().count(stream), 1u) << stream;
    EXPECT_EQ(liability.stream_positions().at(stream),
              verified.as_of_sequence())
        << stream;
  }
  EXPECT_GT(total_balance, 0);

  // The CSV of the summary carries the same figure.
  rpv1::ExportReportCsvRequest request;
  *request.mutable_liability() = ThisYear<rpv1::GetLiabilityReportRequest>(heads);
  request.set_table("summary");
  auto context = Deadline(absl::Seconds(30));
  auto reader = stub->ExportReportCsv(context.get(), request);
  rpv1::ExportReportCsvResponse part;
  std::string csv;
  int64_t rows = -1;
  while (reader->Read(&part)) {
    if (part.has_header()) rows = part.header().rows();
    csv += part.chunk();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows, 1);
  EXPECT_TRUE(absl::StrContains(csv, absl::StrCat("\n", total_balance, ",")))
      << csv;
}

TEST(ReportingE2eTest, KilledWhileCatchingUpEndsWithTheSameFigures) {
  const std::string data = testing::FreshTestDir();
  System system(data);
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  system.Workload(seed, 60);
  const std::map<std::string, uint64_t> heads = system.Heads();

  // Small commits, so that a kill lands between many of them.
  const std::vector<std::string> often = {"--commit_every_events=7",
                                          "--commit_every_ms=1"};
  std::mt19937 random(seed);
  for (int kill = 0; kill < 4; ++kill) {
    auto killed = system.Reporting(data + "/killed", often);
    ASSERT_TRUE(killed->Start().ok());
    // Catch-up of a few hundred events in commits of 7 takes a few hundred
    // milliseconds; the kills land anywhere in it.
    absl::SleepFor(absl::Milliseconds(random() % 300));
    killed->Kill();
  }
  auto killed = system.Reporting(data + "/killed", often);
  ASSERT_TRUE(killed->Start().ok());
  auto clean = system.Reporting(data + "/clean");
  ASSERT_TRUE(clean->Start().ok());
  auto killed_stub = ReportingStub(*killed);
  auto clean_stub = ReportingStub(*clean);

  ExpectConsistent(Check(*killed_stub, heads, /*replay=*/true), true);
  const int64_t total_balance = system.TotalBalance();
  const rpv1::GetLiabilityReportResponse after_kills =
      Liability(*killed_stub, heads);
  const rpv1::GetLiabilityReportResponse uninterrupted =
      Liability(*clean_stub, heads);
  EXPECT_EQ(after_kills.summary().outstanding_miles(), total_balance);
  EXPECT_TRUE(MessageDifferencer::Equals(after_kills, uninterrupted))
      << after_kills.DebugString() << "\n" << uninterrupted.DebugString();
  const rpv1::GetMembersReportResponse members_after_kills =
      Members(*killed_stub, heads);
  const rpv1::GetMembersReportResponse members_uninterrupted =
      Members(*clean_stub, heads);
  EXPECT_EQ(members_after_kills.summary().total_members(), 60);
  EXPECT_TRUE(
      MessageDifferencer::Equals(members_after_kills, members_uninterrupted))
      << members_after_kills.DebugString() << "\n"
      << members_uninterrupted.DebugString();
}

}  // namespace
}  // namespace mileagebank
