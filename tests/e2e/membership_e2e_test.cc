// End to end: the real membership process (or its shards, as
// $MB_TEST_SHARDS says), driven through its generated gRPC client routed by
// member, killed with SIGKILL under load and restarted; every acknowledged
// write must be there afterwards, exactly once, with its event.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/server/http_get.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

using membership::v1::Membership;

class MembershipE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SystemOptions options;
    options.data_dir = testing::FreshTestDir();
    options.shards = testing::ShardsFromEnvironment();
    options.services = {"membership"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    ASSERT_TRUE(system_->Start().ok());
    members_ = std::make_unique<client::ServiceClient<Membership>>(
        system_->Targets("membership"));
  }

  std::vector<std::string> ShardTargets() const {
    return client::SplitTargets(system_->Targets("membership"));
  }

  static membership::v1::EnrolRequest Enrolment(int n) {
    membership::v1::EnrolRequest request;
    auto* profile = request.mutable_profile();
    profile->set_family_name("Zhang");
    profile->set_given_name(absl::StrCat("Member", std::string(1, 'A' + n % 26)));
    profile->mutable_date_of_birth()->set_year(1960 + n % 40);
    profile->mutable_date_of_birth()->set_month(1 + n % 12);
    profile->mutable_date_of_birth()->set_day(1 + n % 28);
    profile->set_nationality("CN");
    profile->mutable_identity_document()->set_type(membership::v1::PASSPORT);
    profile->mutable_identity_document()->set_number(absl::StrCat("P", n));
    profile->mutable_identity_document()->set_issuing_country("CN");
    profile->set_mobile_phone(absl::StrCat("+86139", 10000000 + n));
    request.mutable_actor()->set_channel(common::v1::CALL_CENTRE);
    request.set_request_id(absl::StrCat("e2e-", n));
    return request;
  }

  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<Membership>> members_;
};

TEST_F(MembershipE2eTest, HealthAndMetricsAreServed) {
  for (const std::string& target : ShardTargets()) {
    auto health = grpc::health::v1::Health::NewStub(client::ChannelFor(target));
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, {}, &response).ok()) << target;
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }

  const membership::v1::EnrolRequest enrolment = Enrolment(1);
  grpc::ClientContext enrol_context;
  membership::v1::EnrolResponse enrolled;
  ASSERT_TRUE(members_->For(enrolment)
                  .Enrol(&enrol_context, enrolment, &enrolled)
                  .ok());
  // The member's shard counted the enrolment.
  testing::ServiceProcess& shard = system_->process_of(
      "membership", client::ShardOfMember(enrolled.member().member_number(),
                                          system_->shards()));
  auto metrics = server::HttpGet(shard.metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("method=\"/mileagebank.membership.v1.Membership/Enrol\""),
            std::string::npos);
  EXPECT_NE(metrics->find("mileagebank_membership_enrolments_total{channel="
                          "\"CALL_CENTRE\"} 1"),
            std::string::npos)
      << *metrics;
  EXPECT_EQ(shard.Stop(), 0);  // SIGTERM is a clean exit.
}

// Calls `method` with an empty request; the error must be INVALID_ARGUMENT
// naming at least one field.
template <typename Request, typename Response>
void ExpectEmptyRequestRefused(
    Membership::Stub* stub,
    grpc::Status (Membership::Stub::*method)(grpc::ClientContext*,
                                             const Request&, Response*),
    const std::string& name) {
  grpc::ClientContext context;
  Response response;
  absl::Status status = FromGrpcStatus((stub->*method)(&context, Request(), &response));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name << " " << status;
  auto details = GetErrorDetails(status);
  ASSERT_TRUE(details.has_value()) << name << " " << status;
  EXPECT_GT(details->field_violations_size(), 0) << name;
  EXPECT_FALSE(status.message().empty());
}

// Every RPC of `stub`'s shard refuses an empty request.
void ExpectEveryRpcRefusesBadInput(Membership::Stub* stub) {
  using S = Membership::Stub;
  ExpectEmptyRequestRefused(stub, &S::Enrol, "Enrol");
  ExpectEmptyRequestRefused(stub, &S::GetMember, "GetMember");
  ExpectEmptyRequestRefused(stub, &S::LookupMembers, "LookupMembers");
  ExpectEmptyRequestRefused(stub, &S::UpdateProfile, "UpdateProfile");
  ExpectEmptyRequestRefused(stub, &S::FindMembers, "FindMembers");
  ExpectEmptyRequestRefused(stub, &S::ChangeStatus, "ChangeStatus");
  ExpectEmptyRequestRefused(stub, &S::MergeMembers, "MergeMembers");
  ExpectEmptyRequestRefused(stub, &S::SetPassword, "SetPassword");
  ExpectEmptyRequestRefused(stub, &S::VerifyPassword, "VerifyPassword");
  ExpectEmptyRequestRefused(stub, &S::AddNominee, "AddNominee");
  ExpectEmptyRequestRefused(stub, &S::RemoveNominee, "RemoveNominee");
  ExpectEmptyRequestRefused(stub, &S::ListNominees, "ListNominees");
  ExpectEmptyRequestRefused(stub, &S::RecordQualifyingActivity,
                            "RecordQualifyingActivity");
  ExpectEmptyRequestRefused(stub, &S::ReverseQualifyingActivity,
                            "ReverseQualifyingActivity");
  ExpectEmptyRequestRefused(stub, &S::GetTier, "GetTier");
  ExpectEmptyRequestRefused(stub, &S::ImportMembers, "ImportMembers");

  // A wrong check digit is INVALID_ARGUMENT, never NOT_FOUND.
  membership::v1::GetMemberRequest get;
  get.set_member_number("1000000001");
  grpc::ClientContext context;
  membership::v1::GetMemberResponse member;
  grpc::Status status = stub->GetMember(&context, get, &member);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("member_number"), std::string::npos);
}

TEST_F(MembershipE2eTest,
       EveryRpcRefusesBadInputNamingTheFieldAndWritesNothing) {
  for (int shard = 0; shard < members_->shard_count(); ++shard) {
    SCOPED_TRACE(absl::StrCat("shard ", shard));
    ExpectEveryRpcRefusesBadInput(&members_->Shard(shard));
  }
  // Nothing was written anywhere.
  for (const std::string& target : ShardTargets()) {
    auto events = common::v1::EventStream::NewStub(client::ChannelFor(target));
    grpc::ClientContext head_context;
    common::v1::GetHeadResponse head;
    ASSERT_TRUE(events->GetHead(&head_context, {}, &head).ok());
    EXPECT_EQ(head.last_sequence(), 0u) << target;
  }
}

TEST_F(MembershipE2eTest, AcknowledgedWritesSurviveSigkillUnderLoad) {
  // member number -> (document, last acknowledged version)
  std::mutex mutex;
  std::map<std::string, std::pair<std::string, int64_t>> acknowledged;
  std::atomic<int> next{0};

  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t) {
      clients.emplace_back([&] {
        while (!stop) {
          int n = next++;
          membership::v1::EnrolRequest request = Enrolment(n);
          // Waits out a restarted shard rather than spin on its refusals.
          membership::v1::EnrolResponse response;
          if (!members_->For(request)
                   .Enrol(testing::WaitingContext(absl::Seconds(5)).get(),
                          request, &response)
                   .ok()) {
            continue;
          }
          const std::string number = response.member().member_number();
          {
            std::lock_guard<std::mutex> lock(mutex);
            acknowledged[number] = {request.profile().identity_document().number(), 1};
          }
          // An acknowledged update must survive too.
          membership::v1::UpdateProfileRequest update;
          update.set_member_number(number);
          update.mutable_profile()->set_email(absl::StrCat("m", n, "@example.com"));
          update.mutable_update_mask()->add_paths("email");
          membership::v1::UpdateProfileResponse updated;
          if (members_->ForMember(number)
                  .UpdateProfile(
                      testing::WaitingContext(absl::Seconds(5)).get(), update,
                      &updated)
                  .ok()) {
            std::lock_guard<std::mutex> lock(mutex);
            acknowledged[number].second = updated.member().version();
          }
        }
      });
    }
    // Let load build up, then crash every shard in the middle of it.
    const size_t before = [&] {
      std::lock_guard<std::mutex> lock(mutex);
      return acknowledged.size();
    }();
    const bool flowing = testing::Eventually([&] {
      std::lock_guard<std::mutex> lock(mutex);
      return acknowledged.size() >= before + 30;
    });
    if (flowing) system_->Kill("membership");
    stop = true;
    for (auto& client : clients) client.join();
    ASSERT_TRUE(flowing) << "round " << round << ": load did not build up";
    ASSERT_TRUE(system_->Start().ok());

    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [number, expected] : acknowledged) {
      membership::v1::GetMemberRequest get;
      get.set_member_number(number);
      membership::v1::GetMemberResponse response;
      ASSERT_TRUE(
          members_->ForMember(number)
              .GetMember(testing::WaitingContext().get(), get, &response)
              .ok())
          << "round " << round << ": acknowledged member " << number << " lost";
      EXPECT_EQ(response.member().profile().identity_document().number(),
                expected.first);
      EXPECT_GE(response.member().version(), expected.second)
          << "acknowledged update of " << number << " lost";
    }
  }

  // Exactly once: one MemberEnrolled event per member, none for the lost
  // unacknowledged attempts beyond those that committed; each on its
  // member's shard.
  std::map<std::string, int> enrolled_events;
  const std::vector<std::string> targets = ShardTargets();
  for (int shard = 0; shard < static_cast<int>(targets.size()); ++shard) {
    auto events =
        common::v1::EventStream::NewStub(client::ChannelFor(targets[shard]));
    grpc::ClientContext context;
    common::v1::SubscribeRequest request;
    auto reader = events->Subscribe(&context, request);
    common::v1::Event event;
    uint64_t previous = 0;
    while (reader->Read(&event)) {
      EXPECT_GT(event.sequence(), previous);
      previous = event.sequence();
      membership::v1::MemberEnrolled enrolled;
      if (event.payload().UnpackTo(&enrolled)) {
        const std::string& number = enrolled.member().member_number();
        ++enrolled_events[number];
        EXPECT_EQ(client::ShardOfMember(number, system_->shards()), shard)
            << number;
      }
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  std::lock_guard<std::mutex> lock(mutex);
  ASSERT_GT(acknowledged.size(), 0u);
  for (const auto& [number, expected] : acknowledged) {
    EXPECT_EQ(enrolled_events[number], 1) << number;
  }
  // The acknowledged enrolment's document finds that one member, on
  // whichever shard it is asked.
  const auto& [number, expected] = *acknowledged.begin();
  membership::v1::FindMembersRequest find;
  find.mutable_identity_document()->set_type(membership::v1::PASSPORT);
  find.mutable_identity_document()->set_number(expected.first);
  find.mutable_identity_document()->set_issuing_country("CN");
  std::vector<std::string> found_numbers;
  for (int shard = 0; shard < members_->shard_count(); ++shard) {
    grpc::ClientContext find_context;
    membership::v1::FindMembersResponse found;
    ASSERT_TRUE(
        members_->Shard(shard).FindMembers(&find_context, find, &found).ok());
    for (const auto& member : found.members()) {
      found_numbers.push_back(member.member_number());
    }
  }
  EXPECT_EQ(found_numbers, std::vector<std::string>{number});
}

}  // namespace
}  // namespace mileagebank
