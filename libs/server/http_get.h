// A minimal HTTP/1.0 GET over loopback, for tests that read a /metrics page.
#ifndef MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_
#define MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace mileagebank::server {

// The body of GET http://127.0.0.1:<port><path>, or an error.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_HTTP_GET_H_
