// The gateway's REST/JSON face and the member portal's files, over
// libs/http's event-loop server (HTTPS with OpenSSL when configured):
// routes.h's routes through the same Dispatcher as the gRPC face,
// errors as an HTTP status with a JSON body {code, message, details}, the
// OpenAPI document at /v1/openapi.json, and everything else under "/" from
// the portal's folder.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_
#define MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "libs/http/server.h"
#include "libs/http/static_files.h"
#include "prometheus/registry.h"
#include "services/gateway/dispatcher.h"
#include "services/gateway/routes.h"

namespace mileagebank::gateway {

struct RestOptions {
  // "127.0.0.1:8080"; port 0 picks a free one.
  std::string listen_address;
  // The portal's built files; empty serves no files.
  std::string portal_dir;
  // PEM files of the certificate chain and its private key; empty for
  // plain HTTP.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  int64_t max_request_bytes = 1 << 20;
  // Requests handled at once. Each waits for its backend calls on its
  // thread; connections are not tied to threads.
  int threads = 16;
};

class RestFace {
 public:
  static absl::StatusOr<std::unique_ptr<RestFace>> Start(
      const RestOptions& options, Dispatcher* dispatcher,
      prometheus::Registry& metrics);
  ~RestFace();

  int port() const { return server_->port(); }

 private:
  class Metrics;
  RestFace(const RestOptions& options, Dispatcher* dispatcher,
           prometheus::Registry& metrics);
  void Handle(const http::Request& request, http::Response* response);
  // The answer's status and JSON body.
  std::pair<int, std::string> Answer(const http::Request& request,
                                     std::string* route_label);
  absl::StatusOr<std::string> Dashboard(const Principal& principal,
                                        const PathParameters& parameters,
                                        absl::Time deadline);

  RestOptions options_;
  Dispatcher* dispatcher_;
  std::unique_ptr<Metrics> metrics_;
  // Null without a portal folder.
  std::unique_ptr<http::StaticFiles> portal_;
  std::unique_ptr<http::Server> server_;
};

// Query parameters, decoded, in the order given.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// The request message for a route (exposed for tests): query parameters,
// then the body, then the path parameters, which win.
absl::Status BuildRequest(const PathParameters& parameters,
                          const QueryParameters& query, absl::string_view body,
                          google::protobuf::Message* request);

int HttpStatusOf(absl::StatusCode code);
// {"code": "...", "message": "...", "details": [{"field", "description"}]}.
std::string ErrorBody(const absl::Status& status);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_REST_FACE_H_
