#include "services/gateway/rest_face.h"

#include <civetweb.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
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

std::string UrlDecode(absl::string_view text) {
  std::string decoded(text.size() + 1, '\0');
  int length = mg_url_decode(text.data(), static_cast<int>(text.size()),
                             decoded.data(), static_cast<int>(decoded.size()),
                             /*is_form_url_encoded=*/1);
  decoded.resize(length < 0 ? 0 : length);
  return decoded;
}

// Query parameters as the JSON object they stand for, typed by `type`'s
// fields, so that protobuf's JSON parser does the conversions.
absl::Status QueryToJson(absl::string_view query, const Descriptor& type,
                         google::protobuf::Struct* json) {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::vector<std::string> key_value = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string key = UrlDecode(key_value[0]);
    std::string value = key_value.size() > 1 ? UrlDecode(key_value[1]) : "";
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
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(json), message, options);
  if (!parsed.ok()) {
    return InvalidField(what, absl::StrCat("not valid for this request: ",
                                           parsed.message().as_string()));
  }
  return absl::OkStatus();
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
  }
}

}  // namespace

absl::Status BuildRequest(const PathParameters& parameters,
                          absl::string_view query, absl::string_view body,
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
    if (field == nullptr ||
        field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      return absl::InternalError(absl::StrCat("path parameter ", name));
    }
    request->GetReflection()->SetString(request, field, UrlDecode(value));
  }
  return absl::OkStatus();
}

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

std::string ToJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
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

absl::StatusOr<std::unique_ptr<RestFace>> RestFace::Start(
    const RestOptions& options, Dispatcher* dispatcher,
    prometheus::Registry& metrics) {
  auto face =
      std::unique_ptr<RestFace>(new RestFace(options, dispatcher, metrics));
  std::string ports = options.listen_address;
  if (!options.tls_pem_file.empty()) ports += "s";
  const std::string threads = absl::StrCat(options.threads);
  std::vector<const char*> settings = {
      "listening_ports", ports.c_str(), "num_threads", threads.c_str(),
      "enable_keep_alive", "yes", "tcp_nodelay", "1",
      "request_timeout_ms", "30000",
      // The portal's pages load nothing from elsewhere.
      "additional_header",
      "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
      "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
      "Referrer-Policy: no-referrer",
  };
  if (!options.portal_dir.empty()) {
    settings.insert(settings.end(), {"document_root", options.portal_dir.c_str(),
                                     "enable_directory_listing", "no"});
  }
  if (!options.tls_pem_file.empty()) {
    settings.insert(settings.end(),
                    {"ssl_certificate", options.tls_pem_file.c_str(),
                     "ssl_protocol_version", "4"});  // TLS 1.2 and later
  }
  settings.push_back(nullptr);
  mg_callbacks callbacks{};
  mg_init_library(options.tls_pem_file.empty() ? 0 : MG_FEATURES_TLS);
  face->context_ = mg_start(&callbacks, nullptr, settings.data());
  if (face->context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "http_listen_address=", options.listen_address,
        ": cannot listen (busy port, or a TLS file that cannot be read)"));
  }
  mg_set_request_handler(face->context_, "/v1/", &RestFace::HandleApi,
                         face.get());
  mg_server_port port{};
  if (mg_get_server_ports(face->context_, 1, &port) > 0) face->port_ = port.port;
  return face;
}

RestFace::~RestFace() {
  if (context_ != nullptr) mg_stop(context_);
}

int RestFace::HandleApi(mg_connection* connection, void* self) {
  static_cast<RestFace*>(self)->Handle(connection);
  return 1;
}

void RestFace::Handle(mg_connection* connection) {
  absl::Time start = absl::Now();
  std::string route_label = "unmatched";
  auto [status, body] = Answer(connection, &route_label);
  mg_printf(connection,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
            "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
            status, Reason(status), body.size());
  mg_write(connection, body.data(), body.size());
  metrics_->Record(route_label, status, absl::Now() - start);
}

std::pair<int, std::string> RestFace::Answer(mg_connection* connection,
                                             std::string* route_label) {
  const mg_request_info* info = mg_get_request_info(connection);
  auto fail = [](const absl::Status& status) {
    return std::pair<int, std::string>{HttpStatusOf(status.code()),
                                       ErrorBody(status)};
  };
  const std::string path = info->local_uri == nullptr ? "" : info->local_uri;
  const std::string method = info->request_method;
  if (method == "GET" && path == "/v1/openapi.json") {
    *route_label = "/v1/openapi.json";
    return {200, OpenApiDocument()};
  }
  PathParameters parameters;
  bool path_matched = false;
  const Route* route = MatchRoute(method, path, &parameters, &path_matched);
  if (route == nullptr) {
    return path_matched
               ? std::pair<int, std::string>{405, ErrorBody(absl::UnimplementedError(
                     absl::StrCat(method, " is not allowed on ", path)))}
               : fail(absl::NotFoundError(
                     absl::StrCat("no such resource: ", method, " ", path)));
  }
  *route_label = route->http_method + " " + route->path;

  if (info->content_length > options_.max_request_bytes) {
    return {413, ErrorBody(absl::ResourceExhaustedError(absl::StrCat(
                     "body: larger than the limit of ",
                     options_.max_request_bytes, " bytes")))};
  }
  std::string body;
  char buffer[16384];
  for (int read; (read = mg_read(connection, buffer, sizeof buffer)) > 0;) {
    body.append(buffer, read);
    if (static_cast<int64_t>(body.size()) > options_.max_request_bytes) {
      return {413, ErrorBody(absl::ResourceExhaustedError(absl::StrCat(
                       "body: larger than the limit of ",
                       options_.max_request_bytes, " bytes")))};
    }
  }

  const char* authorization = mg_get_header(connection, "Authorization");
  const char* api_key = mg_get_header(connection, "X-Api-Key");
  absl::StatusOr<Principal> principal = dispatcher_->Authenticate(Credentials{
      .authorization = authorization == nullptr ? "" : authorization,
      .api_key = api_key == nullptr ? "" : api_key,
      .peer = absl::StrCat("http:", info->remote_addr, ":", info->remote_port),
  });
  if (!principal.ok()) return fail(principal.status());
  const std::string query = info->query_string == nullptr ? "" : info->query_string;
  const absl::Time deadline = absl::InfiniteFuture();

  if (route->operation.empty()) {  // the dashboard
    std::vector<std::string> parts;
    for (const auto& [name, method_name] : DashboardParts()) {
      const Operation& operation = *FindOperation(method_name);
      const auto* descriptor = MethodDescriptorOf(method_name);
      std::unique_ptr<Message> request = NewMessage(descriptor->input_type());
      std::unique_ptr<Message> response = NewMessage(descriptor->output_type());
      absl::Status built = BuildRequest(parameters, "", "", request.get());
      if (built.ok()) {
        built = dispatcher_->Unary(*principal, operation, request.get(),
                                   response.get(), deadline);
      }
      if (!built.ok()) return fail(built);
      parts.push_back(absl::StrCat("\"", name, "\":", ToJson(*response)));
    }
    return {200, absl::StrCat("{", absl::StrJoin(parts, ","), "}")};
  }

  const Operation& operation = *FindOperation(route->operation);
  const auto* descriptor = MethodDescriptorOf(route->operation);
  std::unique_ptr<Message> request = NewMessage(descriptor->input_type());
  std::unique_ptr<Message> response = NewMessage(descriptor->output_type());
  absl::Status status = BuildRequest(parameters, query, body, request.get());
  if (status.ok()) {
    status = dispatcher_->Unary(*principal, operation, request.get(),
                                response.get(), deadline);
  }
  if (!status.ok()) return fail(status);
  return {200, ToJson(*response)};
}

}  // namespace mileagebank::gateway
