// End to end through the gateway: the five real services and the real
// gateway process. Every role's API key against every operation the gateway
// serves (and a member's session, and no credentials), a member's token
// against another member's data, the REST face's security (tampered,
// expired and revoked tokens, wrong keys, oversized and malformed bodies,
// the rate limit, a service down), masking, the audit trail, and a member
// issuing their own award (not another's) from the ticket stock.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"
#include "gtest/gtest.h"
#include "libs/server/http_get.h"
#include "libs/testing/testing.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/gateway/v1/gateway.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "services/gateway/policy.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

using gateway::MemberAccess;
using gateway::Operation;
namespace gv1 = gateway::v1;

constexpr char kAdminKey[] =
    "mbk_00000000a0a0_adminadminadminadminadminadminadminadmin0123";

// The whole mileage bank with a gateway in front, on fresh data.
class System {
 public:
  explicit System(std::vector<std::string> gateway_flags = {}) {
    testing::SystemOptions options;
    options.data_dir = testing::FreshTestDir();
    options.shards = testing::ShardsFromEnvironment();
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    options.flags["gateway"] = {"--max_request_bytes=4096"};
    options.flags["gateway"].insert(options.flags["gateway"].end(),
                                    gateway_flags.begin(), gateway_flags.end());
    options.gateway_config = testing::ApiKeyConfig(kAdminKey, {"ADMIN"}, "");
    system_ = std::make_unique<testing::WholeSystem>(options);
    absl::Status started = system_->Start();
    EXPECT_TRUE(started.ok()) << started;
    http_port_ = system_->http_port();
    channel_ = grpc::CreateChannel(system_->gateway_address(),
                                   grpc::InsecureChannelCredentials());
  }

  // Kills every process (every shard) of `service`.
  void Kill(const std::string& service) { system_->Kill(service); }

  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  int grpc_port() const {
    return system_->process(system_->process_count() - 1).grpc_port();
  }
  int http_port() const { return http_port_; }

  // A new API key with `roles`, made by the admin through the gateway.
  std::string CreateKey(std::vector<gv1::Role> roles, const std::string& office,
                        const std::string& partner = "") {
    gv1::CreateApiKeyRequest request;
    request.mutable_key()->set_label("e2e");
    for (gv1::Role role : roles) request.mutable_key()->add_roles(role);
    request.mutable_key()->set_office_code(office);
    request.mutable_key()->set_partner_code(partner);
    gv1::CreateApiKeyResponse response;
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", kAdminKey);
    grpc::Status status = gv1::Gateway::NewStub(channel_)->CreateApiKey(
        &context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.secret();
  }

  // Enrols sample member `n` with a password, through the REST face.
  std::string EnrolMember(int n) {
    membership::v1::EnrolRequest enrolment = testing::SampleEnrolment(n);
    enrolment.set_password("password-" + std::to_string(n));
    enrolment.clear_actor();
    std::string body;
    (void)google::protobuf::util::MessageToJsonString(enrolment, &body);
    auto response = Rest("POST", "/v1/members", {}, body);
    EXPECT_EQ(response.status, 200) << response.body;
    membership::v1::EnrolResponse enrolled;
    google::protobuf::util::JsonParseOptions lenient;
    lenient.ignore_unknown_fields = true;
    (void)google::protobuf::util::JsonStringToMessage(response.body, &enrolled,
                                                      lenient);
    return enrolled.member().member_number();
  }

  gv1::LoginResponse Login(const std::string& member, int n) {
    auto response = Rest("POST", "/v1/session", {},
                         absl::StrCat("{\"login\":\"", member,
                                      "\",\"password\":\"password-", n, "\"}"));
    EXPECT_EQ(response.status, 200) << response.body;
    gv1::LoginResponse session;
    (void)google::protobuf::util::JsonStringToMessage(response.body, &session);
    return session;
  }

  server::HttpResponse Rest(const std::string& method, const std::string& path,
                            std::vector<std::string> headers = {},
                            const std::string& body = "") {
    auto response =
        server::HttpRequest(http_port_, method, path, headers, body);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : server::HttpResponse{};
  }

 private:
  std::unique_ptr<testing::WholeSystem> system_;
  std::shared_ptr<grpc::Channel> channel_;
  int http_port_ = 0;
};

// Calls `operation` through the gateway's gRPC face with an empty request
// (or, for a member, one naming `member`) and the given credentials.
grpc::Status CallEmpty(grpc::Channel* channel, const Operation& operation,
                       const std::string& header, const std::string& value,
                       const std::string& member = "") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  if (!header.empty()) context.AddMetadata(header, value);
  grpc::ByteBuffer response;
  // Field 1 of every member-keyed request is member_number.
  std::string bytes =
      member.empty() ? ""
                     : std::string("\x0a", 1) +
                           static_cast<char>(member.size()) + member;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          [&] {
            std::string dotted = operation.method.substr(1);
            dotted[dotted.find('/')] = '.';
            return dotted;
          }());
  using grpc::internal::RpcMethod;
  if (method != nullptr && method->client_streaming()) {
    std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
        grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(
            channel, RpcMethod(operation.method.c_str(), RpcMethod::CLIENT_STREAMING),
            &context, &response));
    writer->WritesDone();
    return writer->Finish();
  }
  if (method != nullptr && method->server_streaming()) {
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
            channel, RpcMethod(operation.method.c_str(), RpcMethod::SERVER_STREAMING),
            &context, request));
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel, RpcMethod(operation.method.c_str(), RpcMethod::NORMAL_RPC),
      &context, request, &response);
}

// The gateway's own refusal, as opposed to a service's answer.
bool DeniedByGateway(const grpc::Status& status) {
  return (status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
          (absl::StartsWith(status.error_message(), "not allowed to call") ||
           absl::StartsWith(status.error_message(), "member_number:"))) ||
         (status.error_code() == grpc::StatusCode::UNAUTHENTICATED &&
          absl::StartsWith(status.error_message(), "credentials required"));
}

TEST(GatewayE2eTest, EveryRoleAgainstEveryOperation) {
  System system({"--rate_limit_per_second=100000", "--rate_limit_burst=100000"});
  const std::string member = system.EnrolMember(1);
  const std::string other = system.EnrolMember(2);
  const std::string token = system.Login(member, 1).access_token();
  std::map<gv1::Role, std::string> keys = {
      {gv1::AGENT, system.CreateKey({gv1::AGENT}, "PEK01")},
      {gv1::OFFICE_SUPERVISOR, system.CreateKey({gv1::OFFICE_SUPERVISOR}, "PEK01")},
      {gv1::CALL_CENTRE, system.CreateKey({gv1::CALL_CENTRE}, "CC01")},
      {gv1::PARTNER, system.CreateKey({gv1::PARTNER}, "", "CA")},
      {gv1::FINANCE, system.CreateKey({gv1::FINANCE}, "")},
      {gv1::ADMIN, kAdminKey},
  };
  int calls = 0;
  for (const Operation& operation : gateway::Operations()) {
    if (absl::EndsWith(operation.method, "/Logout")) continue;  // ends the session
    for (const auto& [role, key] : keys) {
      bool allowed = std::find(operation.roles.begin(), operation.roles.end(),
                               role) != operation.roles.end() ||
                     operation.member == MemberAccess::kAnyone;
      grpc::Status status =
          CallEmpty(system.channel().get(), operation, "x-api-key", key);
      EXPECT_EQ(DeniedByGateway(status), !allowed)
          << operation.method << " as " << gv1::Role_Name(role) << ": "
          << status.error_code() << " " << status.error_message();
      ++calls;
    }
    const bool member_may = operation.member != MemberAccess::kNone;
    grpc::Status own = CallEmpty(system.channel().get(), operation,
                                 "authorization", "Bearer " + token,
                                 operation.member == MemberAccess::kOwnMember
                                     ? member
                                     : "");
    EXPECT_EQ(DeniedByGateway(own), !member_may)
        << operation.method << " as the member: " << own.error_message();
    if (operation.member == MemberAccess::kOwnMember) {
      grpc::Status theirs = CallEmpty(system.channel().get(), operation,
                                      "authorization", "Bearer " + token, other);
      EXPECT_EQ(theirs.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << operation.method << " on another member's data";
    }
    grpc::Status anonymous = CallEmpty(system.channel().get(), operation, "", "");
    EXPECT_EQ(DeniedByGateway(anonymous),
              operation.member != MemberAccess::kAnyone)
        << operation.method << " without credentials";
    calls += 3;
  }
  EXPECT_GT(calls, 500);
}

TEST(GatewayE2eTest, MasksPersonalDataForRolesThatDoNotNeedIt) {
  System system;
  const std::string member = system.EnrolMember(3);
  auto get = [&](const std::string& key) {
    return system.Rest("GET", "/v1/members/" + member, {"X-Api-Key: " + key});
  };
  auto agent = get(system.CreateKey({gv1::AGENT}, "PEK01"));
  auto admin = get(kAdminKey);
  ASSERT_EQ(agent.status, 200) << agent.body;
  ASSERT_EQ(admin.status, 200) << admin.body;
  const std::string phone = testing::SampleEnrolment(3).profile().mobile_phone();
  EXPECT_TRUE(absl::StrContains(agent.body, phone)) << agent.body;
  EXPECT_FALSE(absl::StrContains(admin.body, phone)) << admin.body;
  EXPECT_TRUE(absl::StrContains(admin.body, phone.substr(phone.size() - 4)));
}

TEST(GatewayE2eTest, AMemberIssuesTheirOwnAwardFromTheTicketStockOnly) {
  System system;
  const std::string member = system.EnrolMember(6);
  const std::string other = system.EnrolMember(7);
  // Miles for one award: a long first-class flight, posted by an agent.
  accrual::v1::PostOwnFlightRequest flight = testing::SampleOwnFlight(
      member, "7820000000601", "JFK", "F", 981);
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", system.CreateKey({gv1::AGENT}, "PEK01"));
  accrual::v1::PostOwnFlightResponse credited;
  grpc::Status posted = accrual::v1::Accrual::NewStub(system.channel())
                            ->PostOwnFlight(&context, flight, &credited);
  ASSERT_TRUE(posted.ok()) << posted.error_message();

  redemption::v1::CreateRedemptionRequest redeem;
  auto* itinerary = redeem.mutable_standard()->mutable_itinerary();
  itinerary->set_journey_type(redemption::v1::ONE_WAY);
  auto* segment = itinerary->mutable_outbound()->add_segments();
  segment->set_carrier("FM");
  segment->set_flight_number(1501);
  *segment->mutable_flight_date() = testing::InDays(30);
  segment->set_origin("PEK");
  segment->set_destination("PVG");
  redeem.mutable_standard()->set_cabin(redemption::v1::ECONOMY);
  redeem.add_passengers()->set_member(true);
  redeem.set_member_password("password-6");
  redeem.set_request_id("gateway-e2e-issue");
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(redeem, &body);
  const std::string mine =
      "Authorization: Bearer " + system.Login(member, 6).access_token();
  auto held = system.Rest("POST", "/v1/members/" + member + "/redemptions",
                          {mine}, body);
  ASSERT_EQ(held.status, 200) << held.body;
  redemption::v1::CreateRedemptionResponse created;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(held.body, &created).ok());
  const std::string& id = created.redemption().redemption_id();

  // Another member may not issue it, under either member's path.
  const std::string theirs =
      "Authorization: Bearer " + system.Login(other, 7).access_token();
  for (const std::string& path_member : {other, member}) {
    auto refused = system.Rest(
        "POST", absl::StrCat("/v1/members/", path_member, "/redemptions/", id, "/issue"),
        {theirs}, "{}");
    EXPECT_EQ(refused.status, 403) << refused.body;
  }
  // The path names the member the redemption is under: the owner under
  // another member's path is refused, staff there find nothing.
  const std::string mislabelled =
      absl::StrCat("/v1/members/", other, "/redemptions/", id);
  EXPECT_EQ(system.Rest("GET", mislabelled, {mine}).status, 403);
  EXPECT_EQ(system.Rest("POST", mislabelled + "/issue", {mine}, "{}").status, 403);
  const std::string agent =
      "x-api-key: " + system.CreateKey({gv1::AGENT}, "PEK01");
  auto elsewhere = system.Rest("GET", mislabelled, {agent});
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;
  EXPECT_TRUE(absl::StrContains(elsewhere.body, "redemption_id")) << elsewhere.body;
  EXPECT_EQ(system.Rest("GET", absl::StrCat("/v1/members/", member, "/redemptions/", id),
                        {agent})
                .status,
            200);

  // A member does not pick ticket numbers.
  const std::string issue = absl::StrCat("/v1/members/", member, "/redemptions/", id, "/issue");
  auto picked = system.Rest("POST", issue, {mine},
                            "{\"awardTicketNumbers\": [\"7840000000001\"]}");
  EXPECT_EQ(picked.status, 400) << picked.body;
  EXPECT_TRUE(absl::StrContains(picked.body, "award_ticket_numbers")) << picked.body;

  auto issued = system.Rest("POST", issue, {mine}, "{}");
  ASSERT_EQ(issued.status, 200) << issued.body;
  redemption::v1::IssueRedemptionResponse answer;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(issued.body, &answer).ok());
  EXPECT_EQ(answer.redemption().state(), redemption::v1::ISSUED);
  ASSERT_EQ(answer.redemption().award_ticket_numbers_size(), 1);
  const std::string& number = answer.redemption().award_ticket_numbers(0);
  EXPECT_EQ(number.size(), 13u);
  EXPECT_TRUE(absl::StartsWith(number, "774")) << number;
  EXPECT_EQ(answer.redemption().issued_by().channel(), common::v1::WEB);
  // Issuing again answers the same award, numbers and all.
  auto again = system.Rest("POST", issue, {mine}, "{}");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, issued.body);
}

TEST(GatewayE2eTest, AClaimIsReachedOnlyByItsMember) {
  System system;
  const std::string member = system.EnrolMember(8);
  const std::string other = system.EnrolMember(9);
  const absl::CivilDay flown =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 10;
  const std::string body = absl::StrCat(
      "{\"flightIdentity\": {\"ticketNumber\": \"7841234567890\", "
      "\"couponNumber\": 1}, \"flight\": {\"carrier\": \"FM\", "
      "\"flightNumber\": 1501, \"flightDate\": {\"year\": ",
      flown.year(), ", \"month\": ", flown.month(), ", \"day\": ", flown.day(),
      "}, \"origin\": \"PEK\", \"destination\": \"PVG\", "
      "\"bookingClass\": \"Y\"}, \"requestId\": \"claim-1\"}");
  auto submitted = system.Rest(
      "POST", "/v1/members/" + member + "/claims",
      {"Authorization: Bearer " + system.Login(member, 8).access_token()}, body);
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  accrual::v1::SubmitRetroClaimResponse claim;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(submitted.body, &claim).ok());

  // The gateway reads the claim first to find whose it is.
  auto get = [&](const std::string& who, int n) {
    grpc::ClientContext context;
    context.AddMetadata("authorization",
                        "Bearer " + system.Login(who, n).access_token());
    accrual::v1::GetRetroClaimRequest request;
    request.set_claim_id(claim.claim().claim_id());
    accrual::v1::GetRetroClaimResponse response;
    return accrual::v1::Accrual::NewStub(system.channel())
        ->GetRetroClaim(&context, request, &response);
  };
  EXPECT_TRUE(get(member, 8).ok());
  grpc::Status theirs = get(other, 9);
  EXPECT_EQ(theirs.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << theirs.error_message();
}

TEST(GatewayE2eTest, TokensKeysBodiesAndLimits) {
  System system({"--access_token_seconds=2", "--rate_limit_per_second=1",
                 "--rate_limit_burst=30"});
  const std::string member = system.EnrolMember(4);
  gv1::LoginResponse session = system.Login(member, 4);
  const std::string bearer = "Authorization: Bearer " + session.access_token();
  const std::string balance = "/v1/members/" + member + "/balance";
  EXPECT_EQ(system.Rest("GET", balance, {bearer}).status, 200);
  EXPECT_EQ(system.Rest("GET", "/v1/members/" + member + "/dashboard", {bearer})
                .status,
            200);

  std::string tampered = session.access_token();
  tampered[tampered.size() / 3] ^= 1;
  EXPECT_EQ(system.Rest("GET", balance, {"Authorization: Bearer " + tampered})
                .status,
            401);
  EXPECT_EQ(system.Rest("GET", balance, {"X-Api-Key: mbk_0123456789ab_nope"})
                .status,
            401);
  EXPECT_EQ(system.Rest("GET", balance).status, 401);

  auto malformed = system.Rest("POST", "/v1/members/" + member + "/claims",
                               {bearer}, "{\"flight\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_TRUE(absl::StrContains(malformed.body, "\"field\":\"body\""))
      << malformed.body;
  auto oversized = system.Rest("POST", "/v1/members/" + member + "/claims",
                               {bearer}, std::string(8192, ' '));
  EXPECT_EQ(oversized.status, 413);
  EXPECT_EQ(system.Rest("GET", "/v1/nothing/here", {bearer}).status, 404);
  EXPECT_EQ(system.Rest("GET", "/v1/openapi.json").status, 200);

  // Refresh tokens work once; a second use ends the session.
  auto refreshed = system.Rest(
      "POST", "/v1/session/refresh", {},
      absl::StrCat("{\"refreshToken\":\"", session.refresh_token(), "\"}"));
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(system
                .Rest("POST", "/v1/session/refresh", {},
                      absl::StrCat("{\"refreshToken\":\"",
                                   session.refresh_token(), "\"}"))
                .status,
            401);

  // Logout: the token stops working at once.
  gv1::LoginResponse second = system.Login(member, 4);
  const std::string second_bearer = "Authorization: Bearer " + second.access_token();
  EXPECT_EQ(system.Rest("DELETE", "/v1/session", {second_bearer}).status, 200);
  EXPECT_EQ(system.Rest("GET", balance, {second_bearer}).status, 401);

  // Expiry: two seconds.
  gv1::LoginResponse third = system.Login(member, 4);
  absl::SleepFor(absl::Seconds(3));
  auto expired = system.Rest("GET", balance,
                             {"Authorization: Bearer " + third.access_token()});
  EXPECT_EQ(expired.status, 401);
  EXPECT_TRUE(absl::StrContains(expired.body, "expired")) << expired.body;

  // The rate limit: a burst of 30, then about one a second.
  gv1::LoginResponse fourth = system.Login(member, 4);
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto response = system.Rest(
        "GET", balance, {"Authorization: Bearer " + fourth.access_token()});
    if (response.status == 429) {
      ++limited;
      EXPECT_TRUE(absl::StrContains(response.body, "RESOURCE_EXHAUSTED"));
    }
  }
  EXPECT_GT(limited, 0);
}

TEST(GatewayE2eTest, WhatItDoesNotServeIsRefusedByName) {
  System system;
  // An operation between the services: refused to every caller, saying so.
  const Operation internal{
      .method = "/mileagebank.membership.v1.Membership/LookupMembers"};
  grpc::Status refused = CallEmpty(system.channel().get(), internal, "", "");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StartsWith(refused.error_message(), internal.method))
      << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "docs/api.md"))
      << refused.error_message();
  // One no contract has.
  const Operation made_up{.method =
                              "/mileagebank.membership.v1.Membership/Teleport"};
  grpc::Status unknown = CallEmpty(system.channel().get(), made_up, "", "");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(unknown.error_message(), made_up.method + ": no such operation");
}

TEST(GatewayE2eTest, AServiceDownIsA503WithoutInternalDetail) {
  System system;
  const std::string member = system.EnrolMember(5);
  const std::string bearer =
      "Authorization: Bearer " + system.Login(member, 5).access_token();
  system.Kill("accrual");
  auto response = system.Rest("GET", "/v1/members/" + member + "/balance", {bearer});
  EXPECT_EQ(response.status, 503) << response.body;
  EXPECT_TRUE(absl::StrContains(response.body, "is unavailable")) << response.body;
  EXPECT_FALSE(absl::StrContains(response.body, "127.0.0.1")) << response.body;
}

TEST(GatewayE2eTest, StaffWritesAreAuditedAndReadableByAdmin) {
  System system;
  const std::string member = system.EnrolMember(6);
  const std::string agent = system.CreateKey({gv1::AGENT}, "PEK01");
  const std::string supervisor = system.CreateKey({gv1::OFFICE_SUPERVISOR}, "PEK01");
  const std::string adjust = absl::StrCat(
      "{\"member_number\":\"", member, "\"}");
  // An agent may not adjust miles; a supervisor may (this one is refused by
  // accrual for its missing fields, and audited all the same).
  const Operation& adjust_miles =
      *gateway::FindOperation("/mileagebank.accrual.v1.Accrual/AdjustMiles");
  EXPECT_TRUE(DeniedByGateway(CallEmpty(system.channel().get(), adjust_miles,
                                        "x-api-key", agent, member)));
  EXPECT_FALSE(DeniedByGateway(CallEmpty(system.channel().get(), adjust_miles,
                                         "x-api-key", supervisor, member)));

  gv1::QueryAuditRequest query;
  query.set_member_number(member);
  gv1::QueryAuditResponse trail;
  grpc::ClientContext context;
  context.AddMetadata("x-api-key", kAdminKey);
  ASSERT_TRUE(gv1::Gateway::NewStub(system.channel())
                  ->QueryAudit(&context, query, &trail)
                  .ok());
  std::vector<std::string> outcomes;
  for (const gv1::AuditRecord& record : trail.records()) {
    if (record.operation() == adjust_miles.method) {
      outcomes.push_back(record.outcome());
      EXPECT_EQ(record.office_code(), "PEK01");
      EXPECT_FALSE(record.key_id().empty());
      EXPECT_FALSE(record.peer().empty());
    }
  }
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0], "PERMISSION_DENIED");
  EXPECT_NE(outcomes[1], "PERMISSION_DENIED");

  // An enrolment's record names the member it made.
  membership::v1::EnrolRequest enrolment = testing::SampleEnrolment(7);
  enrolment.clear_actor();
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(enrolment, &body);
  auto enrolled = system.Rest("POST", "/v1/members", {"X-Api-Key: " + agent}, body);
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  membership::v1::EnrolResponse made;
  google::protobuf::util::JsonParseOptions lenient;
  lenient.ignore_unknown_fields = true;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(enrolled.body, &made,
                                                          lenient)
                  .ok());
  gv1::QueryAuditRequest by_new_member;
  by_new_member.set_member_number(made.member().member_number());
  grpc::ClientContext enrol_context;
  enrol_context.AddMetadata("x-api-key", kAdminKey);
  ASSERT_TRUE(gv1::Gateway::NewStub(system.channel())
                  ->QueryAudit(&enrol_context, by_new_member, &trail)
                  .ok());
  ASSERT_EQ(trail.records_size(), 1);
  EXPECT_EQ(trail.records(0).operation(),
            "/mileagebank.membership.v1.Membership/Enrol");
  EXPECT_EQ(trail.records(0).outcome(), "OK");

  // Only ADMIN reads the trail.
  grpc::ClientContext refused;
  refused.AddMetadata("x-api-key", supervisor);
  EXPECT_EQ(gv1::Gateway::NewStub(system.channel())
                ->QueryAudit(&refused, query, &trail)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    output.append(buffer, n);
  }
  pclose(pipe);
  return output;
}

TEST(GatewayE2eTest, WithCertificatesBothFacesSpeakTlsOnly) {
  const std::string dir = testing::FreshTestDir("tls");
  std::filesystem::create_directories(dir);
  RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
             "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
             "-keyout " + dir + "/key.pem -out " + dir + "/cert.pem 2>&1");
  System system({"--tls_certificate_file=" + dir + "/cert.pem",
                 "--tls_private_key_file=" + dir + "/key.pem"});
  std::ifstream file(dir + "/cert.pem");
  const std::string certificate((std::istreambuf_iterator<char>(file)), {});
  ASSERT_FALSE(certificate.empty());

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = certificate;
  auto secure = grpc::CreateChannel(
      absl::StrCat("localhost:", system.grpc_port()), grpc::SslCredentials(tls));
  gv1::LoginRequest login;
  gv1::LoginResponse session;
  grpc::ClientContext context;
  grpc::Status answered =
      gv1::Gateway::NewStub(secure)->Login(&context, login, &session);
  // Answered by the gateway (an empty login is refused), over TLS.
  EXPECT_EQ(answered.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << answered.error_message();
  grpc::ClientContext plain_context;
  plain_context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(3));
  EXPECT_EQ(gv1::Gateway::NewStub(system.channel())
                ->Login(&plain_context, login, &session)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);

  const std::string url =
      absl::StrCat("https://localhost:", system.http_port(), "/v1/openapi.json");
  EXPECT_EQ(RunCommand("curl -s -o /dev/null -w %{http_code} --cacert " + dir +
                       "/cert.pem " + url),
            "200");
  EXPECT_NE(RunCommand(absl::StrCat("curl -s -o /dev/null -w %{http_code} "
                                    "http://127.0.0.1:",
                                    system.http_port(), "/v1/openapi.json")),
            "200");
}

}  // namespace
}  // namespace mileagebank
