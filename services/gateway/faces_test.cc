// The REST face's pieces that need no running services: routes, request
// building, error bodies and the OpenAPI document.
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/server/service_host.h"
#include "libs/status/errors.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "services/gateway/dispatcher.h"
#include "services/gateway/json.h"
#include "services/gateway/openapi.h"
#include "services/gateway/policy.h"
#include "services/gateway/rest_face.h"
#include "services/gateway/routes.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

TEST(RoutesTest, EveryRouteIsAnOperationTheGatewayServes) {
  for (const Route& route : Routes()) {
    if (route.operation.empty()) continue;
    EXPECT_NE(FindOperation(route.operation), nullptr) << route.path;
    EXPECT_NE(server::ContractMethod(route.operation), nullptr) << route.path;
  }
  for (const auto& [name, method] : DashboardParts()) {
    EXPECT_NE(FindOperation(method), nullptr) << name;
  }
}

TEST(RoutesTest, EveryOperationIsInTheContracts) {
  for (const Operation& operation : Operations()) {
    EXPECT_NE(server::ContractMethod(operation.method), nullptr)
        << operation.method;
  }
}

TEST(RoutesTest, MatchesPathsAndTellsAWrongMethodFromAnUnknownPath) {
  PathParameters parameters;
  bool path_matched = false;
  const Route* route = MatchRoute(
      "POST", "/v1/members/1000000018/redemptions/R123/cancel", &parameters,
      &path_matched);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->operation,
            "/mileagebank.redemption.v1.Redemption/CancelRedemption");
  EXPECT_EQ(parameters,
            (PathParameters{{"member_number", "1000000018"},
                            {"redemption_id", "R123"}}));
  EXPECT_EQ(MatchRoute("PUT", "/v1/members/1000000018", &parameters,
                       &path_matched),
            nullptr);
  EXPECT_TRUE(path_matched);
  EXPECT_EQ(MatchRoute("GET", "/v1/nothing", &parameters, &path_matched),
            nullptr);
  EXPECT_FALSE(path_matched);
}

TEST(BuildRequestTest, QueryThenBodyThenPath) {
  accrual::v1::GetStatementRequest request;
  ASSERT_TRUE(BuildRequest({{"member_number", "1000000018"}},
                           {{"memberNumber", "999"},
                            {"types", "OWN_FLIGHT"},
                            {"types", "PARTNER_FLIGHT"}},
                           "", &request)
                  .ok());
  EXPECT_EQ(request.member_number(), "1000000018");  // the path wins
  EXPECT_EQ(request.types_size(), 2);
}

TEST(BuildRequestTest, NamesTheParameterOrBodyAtFault) {
  accrual::v1::GetBalanceRequest request;
  absl::Status status = BuildRequest({}, {{"colour", "red"}}, "", &request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "colour:")) << status;
  status = BuildRequest({}, {}, "{not json", &request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "body:")) << status;
}

TEST(BuildRequestTest, EveryRouteBuildsItsRequestFromItsPath) {
  for (const Route& route : Routes()) {
    if (route.operation.empty()) continue;
    std::string path = route.path;
    PathParameters parameters;
    bool path_matched = false;
    for (size_t open; (open = path.find('{')) != std::string::npos;) {
      path.replace(open, path.find('}', open) - open + 1, "X1");
    }
    ASSERT_EQ(MatchRoute(route.http_method, path, &parameters, &path_matched),
              &route);
    std::unique_ptr<google::protobuf::Message> request =
        NewMessage(server::ContractMethod(route.operation)->input_type());
    EXPECT_TRUE(BuildRequest(parameters, {}, "", request.get()).ok())
        << route.path;
  }
}

TEST(BuildRequestTest, NestedQueryParameters) {
  membership::v1::FindMembersRequest request;
  ASSERT_TRUE(BuildRequest({}, {{"nameAndBirthDate.familyName", "Li"}}, "", &request)
                  .ok());
  EXPECT_EQ(request.name_and_birth_date().family_name(), "Li");
}

TEST(JsonTest, RoundTripsEveryFieldAndRefusesUnknownOnes) {
  membership::v1::FindMembersRequest request;
  request.mutable_name_and_birth_date()->set_family_name("Li");
  membership::v1::FindMembersRequest again;
  ASSERT_TRUE(FromJson(ToJson(request), &again).ok()) << ToJson(request);
  EXPECT_EQ(again.name_and_birth_date().family_name(), "Li");
  accrual::v1::GetBalanceRequest balance;
  EXPECT_TRUE(absl::StrContains(ToJson(balance), "\"memberNumber\":\"\""));
  EXPECT_FALSE(FromJson("{\"colour\":1}", &balance).ok());
}

// What protobuf's own printer makes of `message`, every field printed.
Value ProtobufJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string text;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(message, &text, options).ok());
  Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &value).ok());
  return value;
}

TEST(JsonTest, PrintsWhatProtobufsPrinterPrints) {
  membership::v1::GetMemberResponse member;
  auto* m = member.mutable_member();
  m->set_member_number("1000000018");
  m->mutable_profile()->set_family_name("Li \"Wei\"\n\\");
  m->mutable_profile()->set_email("li@example.com");
  m->mutable_profile()->mutable_date_of_birth()->set_year(1985);
  m->mutable_profile()->mutable_identity_document()->set_type(
      membership::v1::PASSPORT);
  m->set_tier(membership::v1::GOLD);
  m->set_version(7);
  m->mutable_enrolled_at()->set_seconds(1796232052);
  m->mutable_enrolled_at()->set_nanos(763656528);
  m->add_nominees()->set_family_name("Zhang");
  accrual::v1::ListLotsResponse lots;
  lots.add_lots()->set_remaining_miles(-12);
  membership::v1::ImportMembersRequest bytes;
  bytes.set_csv(std::string("a,b\0\xff", 6));
  for (const google::protobuf::Message* message :
       std::vector<const google::protobuf::Message*>{&member, &lots, &bytes}) {
    Value ours;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(ToJson(*message), &ours).ok())
        << ToJson(*message);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        ours, ProtobufJson(*message)))
        << ToJson(*message);
  }
}

TEST(ErrorBodyTest, CarriesCodeMessageAndFields) {
  Struct body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ErrorBody(InvalidField("profile.email", "must be an e-mail")),
                  &body)
                  .ok());
  EXPECT_EQ(body.fields().at("code").string_value(), "INVALID_ARGUMENT");
  const Value& detail = body.fields().at("details").list_value().values(0);
  EXPECT_EQ(detail.struct_value().fields().at("field").string_value(),
            "profile.email");
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
}

const Struct& Child(const Struct& object, const std::string& key) {
  static const Struct empty;
  auto found = object.fields().find(key);
  return found == object.fields().end() ? empty : found->second.struct_value();
}

// Every "$ref" in `value` names a schema of the document.
void ExpectRefsResolve(const Value& value, const Struct& schemas) {
  if (value.has_struct_value()) {
    for (const auto& [key, child] : value.struct_value().fields()) {
      if (key == "$ref") {
        absl::string_view name = child.string_value();
        ASSERT_TRUE(absl::ConsumePrefix(&name, "#/components/schemas/"));
        EXPECT_TRUE(schemas.fields().contains(std::string(name))) << name;
      } else {
        ExpectRefsResolve(child, schemas);
      }
    }
  } else if (value.has_list_value()) {
    for (const Value& item : value.list_value().values()) {
      ExpectRefsResolve(item, schemas);
    }
  }
}

TEST(OpenApiTest, DescribesEveryRouteAndNothingElse) {
  Struct document;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(OpenApiDocument(),
                                                          &document)
                  .ok());
  EXPECT_EQ(document.fields().at("openapi").string_value(), "3.0.3");
  const Struct& paths = Child(document, "paths");
  const Struct& schemas = Child(Child(document, "components"), "schemas");
  std::set<std::string> served;
  for (const Route& route : Routes()) {
    const std::string method = absl::AsciiStrToLower(route.http_method);
    served.insert(route.path + " " + method);
    const Struct& operation = Child(Child(paths, route.path), method);
    ASSERT_TRUE(operation.fields().contains("operationId")) << route.path;
    ASSERT_TRUE(Child(Child(operation, "responses"), "200")
                    .fields()
                    .contains("content"))
        << route.path;
    for (size_t open = route.path.find('{'); open != std::string::npos;
         open = route.path.find('{', open + 1)) {
      std::string name =
          route.path.substr(open + 1, route.path.find('}', open) - open - 1);
      bool declared = false;
      for (const Value& parameter :
           operation.fields().at("parameters").list_value().values()) {
        const auto& fields = parameter.struct_value().fields();
        declared |= fields.at("name").string_value() == name &&
                    fields.at("in").string_value() == "path";
      }
      EXPECT_TRUE(declared) << route.path << " " << name;
    }
    if (!route.operation.empty()) {
      EXPECT_EQ(operation.fields().at("x-grpc-method").string_value(),
                route.operation);
    }
  }
  for (const auto& [path, operations] : paths.fields()) {
    for (const auto& [method, unused] : operations.struct_value().fields()) {
      EXPECT_TRUE(served.count(path + " " + method)) << path << " " << method;
    }
  }
  Value whole;
  *whole.mutable_struct_value() = document;
  ExpectRefsResolve(whole, schemas);
}

}  // namespace
}  // namespace mileagebank::gateway
