#include "services/gateway/rest_face.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/log/log.h"
#include "libs/server/service_host.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "services/gateway/json.h"
#include "services/gateway/openapi.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor* FieldNamed(const Descriptor& type,
                                  absl::string_view name) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->name() == name || field->json_name() == name) return field;
  }
  return nullptr;
}

// Query parameters as the JSON object they stand for, typed by `type`'s
// fields, so that protobuf's JSON parser does the conversions.
absl::Status QueryToJson(const QueryParameters& query, const Descriptor& type,
                         google::protobuf::Struct* json) {
  for (const auto& [key, value] : query) {
    const Descriptor* scope = &type;
    google::protobuf::Struct* object = json;
    std::vector<std::string> path = absl::StrSplit(key, '.');
    for (size_t i = 0; i < path.size(); ++i) {
      const FieldDescriptor* field =
          scope == nullptr ? nullptr : FieldNamed(*scope, path[i]);
      if (field == nullptr) {
        return InvalidField(key, "not a parameter of this request");
      }
      auto& slot = (*object->mutable_fields())[field->json_name()];
      bool leaf = i + 1 == path.size();
      if (!leaf) {
        if (field->is_repeated() ||
            field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          return InvalidField(key, "not a parameter of this request");
        }
        scope = field->message_type();
        object = slot.mutable_struct_value();
        continue;
      }
      google::protobuf::Value item;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
        if (value != "true" && value != "false") {
          return InvalidField(key, "must be true or false");
        }
        item.set_bool_value(value == "true");
      } else {
        item.set_string_value(value);
      }
      if (field->is_repeated()) {
        *slot.mutable_list_value()->add_values() = item;
      } else {
        slot = item;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParseJson(absl::string_view json, absl::string_view what,
                       Message* message) {
  absl::Status parsed = FromJson(json, message);
  if (!parsed.ok()) {
    return InvalidField(what, absl::StrCat("not valid for this request: ",
                                           parsed.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BuildRequest(const PathParameters& parameters,
                          const QueryParameters& query, absl::string_view body,
                          Message* request) {
  const Descriptor& type = *request->GetDescriptor();
  if (!query.empty()) {
    google::protobuf::Struct json;
    MB_RETURN_IF_ERROR(QueryToJson(query, type, &json));
    std::string text;
    if (!google::protobuf::util::MessageToJsonString(json, &text).ok()) {
      return absl::InternalError("query: cannot be converted");
    }
    MB_RETURN_IF_ERROR(ParseJson(text, "query", request));
  }
  if (!body.empty()) {
    std::unique_ptr<Message> from_body(request->New());
    MB_RETURN_IF_ERROR(ParseJson(body, "body", from_body.get()));
    request->MergeFrom(*from_body);
  }
  for (const auto& [name, value] : parameters) {
    const FieldDescriptor* field = FieldNamed(type, name);
    // A request named by its own id (a redemption) has no member number:
    // the path's member is where it lives (PathMemberAboveRecord).
    if (field == nullptr ||
        field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      continue;
    }
    request->GetReflection()->SetString(request, field, value);
  }
  return absl::OkStatus();
}

namespace {

// The member a path names above a record named by its own id
// (.../members/{m}/redemptions/{id}): the request has no field for it.
std::string PathMemberAboveRecord(const PathParameters& parameters,
                                  const Message& request) {
  for (const auto& [name, value] : parameters) {
    if (name == "member_number" &&
        FieldNamed(*request.GetDescriptor(), name) == nullptr) {
      return std::string(value);
    }
  }
  return "";
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kFailedPrecondition: return 412;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorBody(const absl::Status& status) {
  google::protobuf::Struct body;
  auto& fields = *body.mutable_fields();
  fields["code"].set_string_value(absl::StatusCodeToString(status.code()));
  fields["message"].set_string_value(std::string(status.message()));
  auto* details = fields["details"].mutable_list_value();
  if (auto error_details = GetErrorDetails(status)) {
    for (const auto& violation : error_details->field_violations()) {
      auto& detail = *details->add_values()->mutable_struct_value()
                          ->mutable_fields();
      detail["field"].set_string_value(violation.field());
      detail["description"].set_string_value(violation.description());
    }
    if (!error_details->existing_id().empty()) {
      fields["existingId"].set_string_value(error_details->existing_id());
    }
  }
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(body, &text);
  return text;
}


class RestFace::Metrics {
 public:
  explicit Metrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("mileagebank_http_requests_total")
                      .Help("REST requests, by route and HTTP status")
                      .Register(registry)),
        duration_(prometheus::BuildHistogram()
                      .Name("mileagebank_http_request_duration_seconds")
                      .Help("REST request time, by route")
                      .Register(registry)) {}

  void Record(const std::string& route, int status, absl::Duration took) {
    requests_.Add({{"route", route}, {"code", absl::StrCat(status)}})
        .Increment();
    duration_
        .Add({{"route", route}},
             prometheus::Histogram::BucketBoundaries{
                 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                 2.5})
        .Observe(absl::ToDoubleSeconds(took));
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

RestFace::RestFace(const RestOptions& options, Dispatcher* dispatcher,
                   prometheus::Registry& metrics)
    : options_(options),
      dispatcher_(dispatcher),
      metrics_(std::make_unique<Metrics>(metrics)) {}

namespace {

// Headers on every answer, API or file.
const http::Fields& SecurityHeaders() {
  static const http::Fields* headers = new http::Fields{
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      // The portal's pages load nothing from elsewhere.
      {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
      {"Referrer-Policy", "no-referrer"},
  };
  return *headers;
}

// What the HTTP server refuses before a route is looked at, in the API's
// error form.
http::Response Refusal(int status, absl::string_view why) {
  absl::Status error =
      status == 413 ? absl::ResourceExhaustedError(
                          "body: larger than the limit of max_request_bytes")
      : status == 431 ? absl::ResourceExhaustedError(why)
      : status == 501 || status == 505 ? absl::UnimplementedError(why)
                                       : absl::InvalidArgumentError(why);
  return http::Response{.status = status,
                        .content_type = "application/json",
                        .body = ErrorBody(error),
                        .headers = SecurityHeaders()};
}

}  // namespace

absl::StatusOr<std::unique_ptr<RestFace>> RestFace::Start(
    const RestOptions& options, Dispatcher* dispatcher,
    prometheus::Registry& metrics) {
  auto face =
      std::unique_ptr<RestFace>(new RestFace(options, dispatcher, metrics));
  if (!options.portal_dir.empty()) {
    auto portal = http::StaticFiles::Open(options.portal_dir);
    if (!portal.ok()) return portal.status();
    face->portal_ = *std::move(portal);
  }
  RestFace* self = face.get();
  auto server = http::Server::Start(
      {.listen_address = options.listen_address,
       .threads = options.threads,
       .max_body_bytes = static_cast<size_t>(options.max_request_bytes),
       .tls_certificate_file = options.tls_certificate_file,
       .tls_private_key_file = options.tls_private_key_file,
       .error_response = Refusal},
      [self](const http::Request& request, http::Response* response) {
        self->Handle(request, response);
      });
  if (!server.ok()) {
    // The gateway's flag for the address is http_listen_address.
    absl::string_view message = server.status().message();
    return absl::Status(server.status().code(),
                        absl::StartsWith(message, "listen_address")
                            ? absl::StrCat("http_", message)
                            : std::string(message));
  }
  face->server_ = *std::move(server);
  return face;
}

RestFace::~RestFace() = default;

void RestFace::Handle(const http::Request& request, http::Response* response) {
  response->headers = SecurityHeaders();
  if (!absl::StartsWith(request.path, "/v1/")) {
    if (portal_ != nullptr && portal_->Serve(request, response)) return;
    response->status = 404;
    response->content_type = "application/json";
    response->body = ErrorBody(absl::NotFoundError(
        absl::StrCat("no such resource: ", request.method, " ", request.path)));
    return;
  }
  absl::Time start = absl::Now();
  std::string route_label = "unmatched";
  auto [status, body] = Answer(request, &route_label);
  response->status = status;
  response->headers.emplace_back("Cache-Control", "no-store");
  response->content_type = "application/json";
  response->body = std::move(body);
  metrics_->Record(route_label, status, absl::Now() - start);
}

// Two calls make the dashboard's four parts: the tier is read with the
// member and the lots with the balance (half the cost of four calls, and
// each pair from one read). Each is admitted as its own operation. (Made
// at once, on one completion queue, they cost the gateway more thread
// wake-ups than one after the other, and the backends the same.)
absl::StatusOr<std::string> RestFace::Dashboard(
    const Principal& principal, const PathParameters& parameters,
    absl::Time deadline) {
  membership::v1::GetTierRequest tier_request;
  accrual::v1::ListLotsRequest lots_request;
  MB_RETURN_IF_ERROR(BuildRequest(parameters, {}, "", &tier_request));
  MB_RETURN_IF_ERROR(BuildRequest(parameters, {}, "", &lots_request));
  tier_request.set_include_member(true);
  static const Operation& get_tier =
      *FindOperation("/mileagebank.membership.v1.Membership/GetTier");
  static const Operation& list_lots =
      *FindOperation("/mileagebank.accrual.v1.Accrual/ListLots");
  membership::v1::GetTierResponse tier;
  accrual::v1::ListLotsResponse lots;
  MB_RETURN_IF_ERROR(
      dispatcher_->Unary(principal, get_tier, &tier_request, &tier, deadline));
  MB_RETURN_IF_ERROR(
      dispatcher_->Unary(principal, list_lots, &lots_request, &lots, deadline));
  membership::v1::GetMemberResponse member;
  member.set_allocated_member(tier.release_member());
  accrual::v1::GetBalanceResponse balance;
  balance.set_allocated_balance(lots.release_balance());
  return absl::StrCat("{\"member\":", ToJson(member), ",\"balance\":",
                      ToJson(balance), ",\"tier\":", ToJson(tier),
                      ",\"lots\":", ToJson(lots), "}");
}

std::pair<int, std::string> RestFace::Answer(const http::Request& http,
                                             std::string* route_label) {
  auto fail = [](const absl::Status& status) {
    return std::pair<int, std::string>{HttpStatusOf(status.code()),
                                       ErrorBody(status)};
  };
  if (http.method == "GET" && http.path == "/v1/openapi.json") {
    *route_label = "/v1/openapi.json";
    return {200, OpenApiDocument()};
  }
  PathParameters parameters;
  bool path_matched = false;
  const Route* route =
      MatchRoute(http.method, http.path, &parameters, &path_matched);
  if (route == nullptr) {
    return path_matched
               ? std::pair<int, std::string>{405, ErrorBody(absl::UnimplementedError(
                     absl::StrCat(http.method, " is not allowed on ", http.path)))}
               : fail(absl::NotFoundError(
                     absl::StrCat("no such resource: ", http.method, " ", http.path)));
  }
  *route_label = route->http_method + " " + route->path;

  absl::StatusOr<Principal> principal = dispatcher_->Authenticate(Credentials{
      .authorization = std::string(http.Header(kAuthorizationHeader)),
      .api_key = std::string(http.Header(kApiKeyHeader)),
      .peer = absl::StrCat("http:", http.remote_address, ":", http.remote_port),
  });
  if (!principal.ok()) return fail(principal.status());
  const QueryParameters& query = http.query;
  const absl::Time deadline = absl::InfiniteFuture();

  if (route->operation.empty()) {  // the dashboard
    absl::StatusOr<std::string> dashboard =
        Dashboard(*principal, parameters, deadline);
    if (!dashboard.ok()) return fail(dashboard.status());
    return {200, *std::move(dashboard)};
  }

  const Operation& operation = *FindOperation(route->operation);
  const auto* descriptor = server::ContractMethod(route->operation);
  std::unique_ptr<Message> request = NewMessage(descriptor->input_type());
  std::unique_ptr<Message> response = NewMessage(descriptor->output_type());
  absl::Status status = BuildRequest(parameters, query, http.body, request.get());
  if (status.ok()) {
    status = dispatcher_->Unary(*principal, operation, request.get(),
                                response.get(), deadline,
                                PathMemberAboveRecord(parameters, *request));
  }
  if (!status.ok()) return fail(status);
  return {200, ToJson(*response)};
}

}  // namespace mileagebank::gateway
