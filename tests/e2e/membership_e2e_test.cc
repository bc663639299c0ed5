// End to end: the real membership process, driven through its generated gRPC
// client, killed with SIGKILL under load and restarted; every acknowledged
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
#include "libs/server/http_get.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "libs/testing/testing.h"
#include "tests/support/service_process.h"

namespace mileagebank {
namespace {

using membership::v1::Membership;

class MembershipE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = mileagebank::testing::FreshTestDir();
    process_ = std::make_unique<testing::ServiceProcess>(
        testing::RunfilePath("services/membership/membership"),
        std::vector<std::string>{"--server.data_dir=" + data_dir_,
                                 "--password_hash_ops=1",
                                 "--password_hash_memory_kib=8"});
    StartProcess();
  }

  void StartProcess() {
    ASSERT_TRUE(process_->Start().ok());
    channel_ = grpc::CreateChannel(process_->address(),
                                   grpc::InsecureChannelCredentials());
    stub_ = Membership::NewStub(channel_);
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

  std::string data_dir_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Membership::Stub> stub_;
};

TEST_F(MembershipE2eTest, HealthAndMetricsAreServed) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  grpc::ClientContext enrol_context;
  membership::v1::EnrolResponse enrolled;
  ASSERT_TRUE(stub_->Enrol(&enrol_context, Enrolment(1), &enrolled).ok());
  auto metrics = server::HttpGet(process_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("method=\"/mileagebank.membership.v1.Membership/Enrol\""),
            std::string::npos);
  EXPECT_NE(metrics->find("mileagebank_membership_enrolments_total{channel="
                          "\"CALL_CENTRE\"} 1"),
            std::string::npos)
      << *metrics;
  EXPECT_EQ(process_->Stop(), 0);  // SIGTERM is a clean exit.
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

TEST_F(MembershipE2eTest, EveryRpcRefusesBadInputNamingTheFieldAndWritesNothing) {
  using S = Membership::Stub;
  ExpectEmptyRequestRefused(stub_.get(), &S::Enrol, "Enrol");
  ExpectEmptyRequestRefused(stub_.get(), &S::GetMember, "GetMember");
  ExpectEmptyRequestRefused(stub_.get(), &S::UpdateProfile, "UpdateProfile");
  ExpectEmptyRequestRefused(stub_.get(), &S::FindMembers, "FindMembers");
  ExpectEmptyRequestRefused(stub_.get(), &S::ChangeStatus, "ChangeStatus");
  ExpectEmptyRequestRefused(stub_.get(), &S::MergeMembers, "MergeMembers");
  ExpectEmptyRequestRefused(stub_.get(), &S::SetPassword, "SetPassword");
  ExpectEmptyRequestRefused(stub_.get(), &S::VerifyPassword, "VerifyPassword");
  ExpectEmptyRequestRefused(stub_.get(), &S::AddNominee, "AddNominee");
  ExpectEmptyRequestRefused(stub_.get(), &S::RemoveNominee, "RemoveNominee");
  ExpectEmptyRequestRefused(stub_.get(), &S::ListNominees, "ListNominees");
  ExpectEmptyRequestRefused(stub_.get(), &S::RecordQualifyingActivity,
                            "RecordQualifyingActivity");
  ExpectEmptyRequestRefused(stub_.get(), &S::ReverseQualifyingActivity,
                            "ReverseQualifyingActivity");
  ExpectEmptyRequestRefused(stub_.get(), &S::GetTier, "GetTier");
  ExpectEmptyRequestRefused(stub_.get(), &S::ImportMembers, "ImportMembers");

  // A wrong check digit is INVALID_ARGUMENT, never NOT_FOUND.
  membership::v1::GetMemberRequest get;
  get.set_member_number("1000000001");
  grpc::ClientContext context;
  membership::v1::GetMemberResponse member;
  grpc::Status status = stub_->GetMember(&context, get, &member);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("member_number"), std::string::npos);

  auto events = common::v1::EventStream::NewStub(channel_);
  grpc::ClientContext head_context;
  common::v1::GetHeadResponse head;
  ASSERT_TRUE(events->GetHead(&head_context, {}, &head).ok());
  EXPECT_EQ(head.last_sequence(), 0u);
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
        auto stub = Membership::NewStub(grpc::CreateChannel(
            process_->address(), grpc::InsecureChannelCredentials()));
        while (!stop) {
          int n = next++;
          membership::v1::EnrolRequest request = Enrolment(n);
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
          membership::v1::EnrolResponse response;
          if (!stub->Enrol(&context, request, &response).ok()) continue;
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
          grpc::ClientContext update_context;
          membership::v1::UpdateProfileResponse updated;
          if (stub->UpdateProfile(&update_context, update, &updated).ok()) {
            std::lock_guard<std::mutex> lock(mutex);
            acknowledged[number].second = updated.member().version();
          }
        }
      });
    }
    // Let load build up, then crash the process in the middle of it.
    absl::SleepFor(absl::Milliseconds(700));
    process_->Kill();
    stop = true;
    for (auto& client : clients) client.join();
    StartProcess();

    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_GT(acknowledged.size(), 0u);
    for (const auto& [number, expected] : acknowledged) {
      membership::v1::GetMemberRequest get;
      get.set_member_number(number);
      grpc::ClientContext context;
      membership::v1::GetMemberResponse response;
      ASSERT_TRUE(stub_->GetMember(&context, get, &response).ok())
          << "round " << round << ": acknowledged member " << number << " lost";
      EXPECT_EQ(response.member().profile().identity_document().number(),
                expected.first);
      EXPECT_GE(response.member().version(), expected.second)
          << "acknowledged update of " << number << " lost";
    }
  }

  // Exactly once: one MemberEnrolled event per member, none for the lost
  // unacknowledged attempts beyond those that committed.
  auto events = common::v1::EventStream::NewStub(channel_);
  grpc::ClientContext context;
  common::v1::SubscribeRequest request;
  auto reader = events->Subscribe(&context, request);
  common::v1::Event event;
  std::map<std::string, int> enrolled_events;
  uint64_t previous = 0;
  while (reader->Read(&event)) {
    EXPECT_GT(event.sequence(), previous);
    previous = event.sequence();
    membership::v1::MemberEnrolled enrolled;
    if (event.payload().UnpackTo(&enrolled)) {
      ++enrolled_events[enrolled.member().member_number()];
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& [number, expected] : acknowledged) {
    EXPECT_EQ(enrolled_events[number], 1) << number;
  }
  // Retrying an acknowledged enrolment returns the same member.
  const auto& [number, expected] = *acknowledged.begin();
  (void)expected;
  membership::v1::FindMembersRequest find;
  find.mutable_identity_document()->set_type(membership::v1::PASSPORT);
  find.mutable_identity_document()->set_number(acknowledged.begin()->second.first);
  find.mutable_identity_document()->set_issuing_country("CN");
  grpc::ClientContext find_context;
  membership::v1::FindMembersResponse found;
  ASSERT_TRUE(stub_->FindMembers(&find_context, find, &found).ok());
  ASSERT_EQ(found.members_size(), 1);
  EXPECT_EQ(found.members(0).member_number(), number);
}

}  // namespace
}  // namespace mileagebank
