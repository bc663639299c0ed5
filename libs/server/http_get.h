// A minimal HTTP/1.0 client over loopback, for tests that read a /metrics
// page or call the gateway's REST face.
#ifndef MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_
#define MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace mileagebank::server {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// `method` http://127.0.0.1:<port><path> with `headers` ("Name: value") and
// `body`; the answer whatever its status, or an error when there is none.
absl::StatusOr<HttpResponse> HttpRequest(
    int port, const std::string& method, const std::string& path,
    const std::vector<std::string>& headers = {}, const std::string& body = "");

// The body of GET http://127.0.0.1:<port><path>, or an error.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_
