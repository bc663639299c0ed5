// The gateway's REST/JSON face and the member portal's files, over
// civetweb: routes.h's routes through the same Dispatcher as the gRPC face,
// errors as an HTTP status with a JSON body {code, message, details}, the
// OpenAPI document at /v1/openapi.json, and everything else under "/" from
// the portal's folder.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "prometheus/registry.h"
#include "services/gateway/dispatcher.h"
#include "services/gateway/routes.h"

struct mg_context;
struct mg_connection;

namespace mileagebank::gateway {

struct RestOptions {
  // "127.0.0.1:8080"; port 0 picks a free one.
  std::string listen_address;
  // The portal's built files; empty serves no files.
  std::string portal_dir;
  // A PEM file holding the private key and then the certificate chain;
  // empty for plain HTTP.
  std::string tls_pem_file;
  int64_t max_request_bytes = 1 << 20;
  int threads = 32;
};

class RestFace {
 public:
  static absl::StatusOr<std::unique_ptr<RestFace>> Start(
      const RestOptions& options, Dispatcher* dispatcher,
      prometheus::Registry& metrics);
  ~RestFace();

  int port() const { return port_; }

 private:
  class Metrics;
  RestFace(const RestOptions& options, Dispatcher* dispatcher,
           prometheus::Registry& metrics);
  static int HandleApi(mg_connection* connection, void* self);
  void Handle(mg_connection* connection);
  // The answer's status and JSON body.
  std::pair<int, std::string> Answer(mg_connection* connection,
                                     std::string* route_label);

  RestOptions options_;
  Dispatcher* dispatcher_;
  std::unique_ptr<Metrics> metrics_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

// The request message for `route` (exposed for tests): query parameters,
// then the body, then the path parameters, which win.
absl::Status BuildRequest(const PathParameters& parameters,
                          absl::string_view query, absl::string_view body,
                          google::protobuf::Message* request);

int HttpStatusOf(absl::StatusCode code);
// {"code": "...", "message": "...", "details": [{"field", "description"}]}.
std::string ErrorBody(const absl::Status& status);
// The protobuf JSON mapping, every field printed.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_
