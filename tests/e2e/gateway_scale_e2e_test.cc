// End to end, a scaled-out gateway: the five real services, one gateway
// keeping the state (the owner, WholeSystem's gateway) and two stateless
// gateway fronts (--state_target at the owner), as real processes sharing
// one token key file. What one front does (API keys, logins, refreshes,
// logouts, audited staff writes) holds on the other, within the documented
// sync windows; with the owner killed, state writes (and staff writes,
// which it must audit) fail as 503 with a JSON body while cached API keys
// still serve reads, and all is well once it is back.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/server/http_get.h"
#include "libs/testing/testing.h"
#include "mileagebank/gateway/v1/gateway.grpc.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

namespace gv1 = gateway::v1;

constexpr char kAdminKey[] =
    "mbk_00000000a0a0_adminadminadminadminadminadminadminadmin0123";

// The fronts' default polling of ended sessions and API keys (gateway.proto's
// state_ended_poll_ms and state_keys_poll_ms), and what a test allows beyond
// them for the requests themselves.
constexpr absl::Duration kEndedPoll = absl::Seconds(1);
constexpr absl::Duration kKeysPoll = absl::Seconds(2);
constexpr absl::Duration kSlack = absl::Seconds(2);

// One stateless gateway: its REST port and gRPC channel.
struct Front {
  std::unique_ptr<testing::ServiceProcess> process;
  int http_port = 0;
  std::shared_ptr<grpc::Channel> channel;

  server::HttpResponse Rest(const std::string& method, const std::string& path,
                            std::vector<std::string> headers = {},
                            const std::string& body = "") const {
    auto response = server::HttpRequest(http_port, method, path, headers, body);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : server::HttpResponse{};
  }
};

class GatewayScaleE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Shared by the suite's tests (FreshTestDir names a folder per test).
    testing::EmptyTestDirAtExit();
    const char* root = std::getenv("TEST_TMPDIR");
    const std::string dir =
        absl::StrCat(root == nullptr ? "/tmp" : root, "/gateway_scale");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string token_key = dir + "/token.key";
    testing::SystemOptions options;
    options.data_dir = dir;
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    options.flags["gateway"] = {"--token_key_file=" + token_key};
    options.gateway_config = testing::ApiKeyConfig(kAdminKey, {"ADMIN"}, "");
    system_ = new testing::WholeSystem(options);
    absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
    for (int i = 0; i < 2; ++i) {
      Front& front = fronts_[i];
      front.http_port = testing::PickFreePort();
      // Wired as the system's gateway is (its targets and flags, the token
      // key among them), but a front of it.
      front.process = system_->NewProcess(
          "gateway", dir + "/front-" + std::to_string(i),
          {"--http_listen_address=127.0.0.1:" + std::to_string(front.http_port),
           "--state_target=" + system_->gateway_address()});
      absl::Status front_started = front.process->Start();
      ASSERT_TRUE(front_started.ok()) << front_started;
      front.channel = grpc::CreateChannel(front.process->address(),
                                          grpc::InsecureChannelCredentials());
    }
  }

  static void TearDownTestSuite() {
    for (Front& front : fronts_) front.process.reset();
    delete system_;
    system_ = nullptr;
  }

  static testing::ServiceProcess& owner() {
    return system_->process_of("gateway");
  }

  // A new API key with `roles` for office PEK01, made by the admin through
  // `front`'s gRPC face.
  static std::string CreateKey(const Front& front, gv1::Role role) {
    gv1::CreateApiKeyRequest request;
    request.mutable_key()->set_label("scale e2e");
    request.mutable_key()->add_roles(role);
    request.mutable_key()->set_office_code("PEK01");
    gv1::CreateApiKeyResponse response;
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kAdminKey);
    grpc::Status status = gv1::Gateway::NewStub(front.channel)
                              ->CreateApiKey(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.secret();
  }

  // The JSON enrolment of sample member `n`, with a password.
  static std::string EnrolmentBody(int n) {
    membership::v1::EnrolRequest enrolment = testing::SampleEnrolment(n);
    enrolment.set_password("password-" + std::to_string(n));
    enrolment.clear_actor();
    std::string body;
    (void)google::protobuf::util::MessageToJsonString(enrolment, &body);
    return body;
  }

  // Enrols sample member `n` with a password through `front`, as the member
  // (no credentials) or with `api_key`; the member number.
  static std::string Enrol(const Front& front, int n,
                           const std::string& api_key = "") {
    std::vector<std::string> headers;
    if (!api_key.empty()) headers.push_back("X-Api-Key: " + api_key);
    auto response =
        front.Rest("POST", "/v1/members", headers, EnrolmentBody(n));
    EXPECT_EQ(response.status, 200) << response.body;
    membership::v1::EnrolResponse enrolled;
    google::protobuf::util::JsonParseOptions lenient;
    lenient.ignore_unknown_fields = true;
    (void)google::protobuf::util::JsonStringToMessage(response.body, &enrolled,
                                                      lenient);
    return enrolled.member().member_number();
  }

  static server::HttpResponse Login(const Front& front,
                                    const std::string& member, int n) {
    return front.Rest("POST", "/v1/session", {},
                      absl::StrCat("{\"login\":\"", member,
                                   "\",\"password\":\"password-", n, "\"}"));
  }

  static gv1::LoginResponse Session(const server::HttpResponse& response) {
    EXPECT_EQ(response.status, 200) << response.body;
    gv1::LoginResponse session;
    (void)google::protobuf::util::JsonStringToMessage(response.body, &session);
    return session;
  }

  static int Balance(const Front& front, const std::string& member,
                     const std::string& header) {
    return front.Rest("GET", "/v1/members/" + member + "/balance", {header})
        .status;
  }

  static testing::WholeSystem* system_;
  static Front fronts_[2];
};

testing::WholeSystem* GatewayScaleE2eTest::system_ = nullptr;
Front GatewayScaleE2eTest::fronts_[2];

TEST_F(GatewayScaleE2eTest, ApiKeyMadeThroughOneFrontWorksThroughTheOther) {
  const std::string member = Enrol(fronts_[0], 1);
  const std::string agent = CreateKey(fronts_[0], gv1::CALL_CENTRE);
  ASSERT_FALSE(agent.empty());
  // Front 2 fetches the keys when it meets an unknown key id (at most once
  // a second, else its next poll has it).
  EXPECT_TRUE(testing::Eventually(
      [&] { return Balance(fronts_[1], member, "X-Api-Key: " + agent) == 200; },
      kKeysPoll + kSlack));
  EXPECT_EQ(Balance(fronts_[0], member, "X-Api-Key: " + agent), 200);
  EXPECT_EQ(Balance(fronts_[1], member, "X-Api-Key: " + agent + "x"), 401);
}

TEST_F(GatewayScaleE2eTest, LogoutThroughOneFrontStopsTheTokenOnTheOther) {
  const std::string member = Enrol(fronts_[0], 2);
  gv1::LoginResponse session = Session(Login(fronts_[0], member, 2));
  const std::string bearer = "Authorization: Bearer " + session.access_token();
  ASSERT_EQ(Balance(fronts_[0], member, bearer), 200);
  ASSERT_EQ(Balance(fronts_[1], member, bearer), 200);

  auto logout = fronts_[1].Rest("DELETE", "/v1/session", {bearer});
  ASSERT_EQ(logout.status, 200) << logout.body;
  const absl::Time logged_out = absl::Now();
  EXPECT_EQ(Balance(fronts_[1], member, bearer), 401);  // At once there.
  EXPECT_TRUE(testing::Eventually(
      [&] { return Balance(fronts_[0], member, bearer) == 401; },
      kEndedPoll + kSlack));
  EXPECT_LT(absl::Now() - logged_out, kEndedPoll + kSlack);
  // The session's refresh token died with it, on either front.
  EXPECT_EQ(fronts_[0]
                .Rest("POST", "/v1/session/refresh", {},
                      absl::StrCat("{\"refreshToken\":\"",
                                   session.refresh_token(), "\"}"))
                .status,
            401);
}

TEST_F(GatewayScaleE2eTest, RefreshTokenUsedOnTheOtherFrontRotates) {
  const std::string member = Enrol(fronts_[0], 3);
  gv1::LoginResponse first = Session(Login(fronts_[0], member, 3));
  const std::string refresh_body =
      absl::StrCat("{\"refreshToken\":\"", first.refresh_token(), "\"}");
  auto refreshed =
      fronts_[1].Rest("POST", "/v1/session/refresh", {}, refresh_body);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  gv1::RefreshResponse next;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(refreshed.body, &next).ok());
  EXPECT_NE(next.session().refresh_token(), first.refresh_token());
  EXPECT_EQ(Balance(fronts_[0], member,
                    "Authorization: Bearer " + next.session().access_token()),
            200);
  // Used once: through either front it is refused (and ends the session).
  EXPECT_EQ(
      fronts_[0].Rest("POST", "/v1/session/refresh", {}, refresh_body).status,
      401);
}

TEST_F(GatewayScaleE2eTest, StaffWritesThroughBothFrontsAreOneAuditTrail) {
  const std::string agent = CreateKey(fronts_[1], gv1::AGENT);
  const std::string first = Enrol(fronts_[0], 4, agent);
  const std::string second = Enrol(fronts_[1], 5, agent);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());

  gv1::QueryAuditRequest query;
  query.set_key_id(agent.substr(4, 12));
  gv1::QueryAuditResponse trail;
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kAdminKey);
  grpc::Status status = gv1::Gateway::NewStub(fronts_[0].channel)
                            ->QueryAudit(&context, query, &trail);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> members;
  for (const gv1::AuditRecord& record : trail.records()) {
    EXPECT_EQ(record.operation(),
              "/mileagebank.membership.v1.Membership/Enrol");
    EXPECT_EQ(record.outcome(), "OK");
    members.push_back(record.member_number());
  }
  EXPECT_EQ(members, (std::vector<std::string>{first, second}));
}

TEST_F(GatewayScaleE2eTest,
       OwnerDownFailsLoginsButCachedKeysServeUntilItIsBack) {
  const std::string member = Enrol(fronts_[0], 6);
  const std::string agent = CreateKey(fronts_[0], gv1::CALL_CENTRE);
  ASSERT_TRUE(testing::Eventually(
      [&] { return Balance(fronts_[1], member, "X-Api-Key: " + agent) == 200; },
      kKeysPoll + kSlack));

  owner().Kill();
  auto login = Login(fronts_[0], member, 6);
  EXPECT_EQ(login.status, 503) << login.body;
  google::protobuf::Struct error;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(login.body, &error).ok())
      << login.body;
  EXPECT_EQ(error.fields().at("code").string_value(), "UNAVAILABLE");
  EXPECT_TRUE(absl::StrContains(error.fields().at("message").string_value(),
                                "unavailable"))
      << login.body;
  EXPECT_FALSE(absl::StrContains(login.body, "127.0.0.1")) << login.body;
  EXPECT_EQ(Balance(fronts_[1], member, "X-Api-Key: " + agent), 200);
  EXPECT_EQ(Balance(fronts_[0], member, "X-Api-Key: " + agent), 200);
  // A staff write could not be audited: refused before it is made.
  auto unrecorded = fronts_[0].Rest("POST", "/v1/members",
                                    {"X-Api-Key: " + agent}, EnrolmentBody(7));
  EXPECT_EQ(unrecorded.status, 503) << unrecorded.body;
  EXPECT_TRUE(absl::StrContains(unrecorded.body, "audit trail"))
      << unrecorded.body;

  absl::Status restarted = owner().Start();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_TRUE(testing::Eventually(
      [&] { return Login(fronts_[0], member, 6).status == 200; }));
  gv1::LoginResponse session = Session(Login(fronts_[1], member, 6));
  EXPECT_EQ(Balance(fronts_[1], member,
                    "Authorization: Bearer " + session.access_token()),
            200);
  EXPECT_FALSE(Enrol(fronts_[0], 7, agent).empty());
}

}  // namespace
}  // namespace mileagebank
