// A small HTTP/1.1 server for request/answer APIs, on an event loop.
//
// A few threads share one epoll set of non-blocking connections. Each
// connection is armed one-shot, so exactly one thread serves it at a time
// and owns its buffers without a lock; a thread reads a request, runs the
// handler (which may block, e.g. on a backend call: the other threads keep
// serving), sends the answer and re-arms the connection. An idle kept-alive
// connection therefore costs no thread and no wake-up, and a busy server
// takes the next ready request without sleeping. (A thread per connection
// costs a thread switch per request and, in cpp-httplib, a wake-up every
// ~11 ms per idle connection; on a virtual machine switches dominated.)
//
// Supported: HTTP/1.0 and 1.1, keep-alive, pipelining, bodies with
// Content-Length or chunked (with "Expect: 100-continue"), TLS through
// OpenSSL. Answered by the server itself: 400 for a malformed request (and
// one with both Content-Length and Transfer-Encoding), 413 for a body over
// the limit, 431 for headers or trailers over the limit, 501 for a transfer
// coding other than chunked, 505 for another HTTP version. Connections idle
// past a timeout are closed.
//
//   auto server = http::Server::Start(
//       {.listen_address = "127.0.0.1:0", .threads = 4},
//       [](const http::Request& request, http::Response* response) {
//         response->content_type = "text/plain";
//         response->body = "hello " + request.path;
//       });
//   int port = (*server)->port();
//
// Thread-safe: the handler runs on several threads at once.
#ifndef MILEAGEBANK_LIBS_HTTP_SERVER_H_
#define MILEAGEBANK_LIBS_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mileagebank::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  // As sent: "GET", "POST", ...
  std::string method;
  // Percent-decoded, without the query.
  std::string path;
  // Percent-decoded ('+' is a space), in the order sent.
  Fields query;
  // Names in lower case, in the order sent.
  Fields headers;
  std::string body;
  // The client's address ("127.0.0.1", "::1") and port.
  std::string remote_address;
  int remote_port = 0;

  // The first value of header `name` (lower case), or "".
  absl::string_view Header(absl::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Further headers ("Name", "value"); the server writes Content-Type,
  // Content-Length and Connection itself.
  Fields headers;
};

// Runs on the server's threads; may block.
using Handler = std::function<void(const Request&, Response*)>;

struct ServerOptions {
  // "host:port"; port 0 picks a free one.
  std::string listen_address;
  // Threads serving connections: as many requests are handled at once.
  int threads = 4;
  // The request line and headers together.
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 1 << 20;
  // A kept-alive connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // PEM files of the certificate chain and its private key; both empty
  // for plain HTTP.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  // The answer to a request the server refuses itself (status 400, 413,
  // 431, 501, 505, and why); plain text when not set.
  std::function<Response(int status, absl::string_view why)> error_response;
};

class Server {
 public:
  // Listens and starts serving; INVALID_ARGUMENT for a bad address or
  // unusable certificate files, UNAVAILABLE when the address is taken.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options,
                                                       Handler handler);
  // Stops: lets running handlers finish, then closes every connection.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The standard reason phrase of `status` ("Not Found"), or "".
absl::string_view ReasonPhrase(int status);

// %XX decoded; with `plus_is_space`, '+' too (query strings). Malformed
// escapes are kept as they are.
std::string PercentDecode(absl::string_view text, bool plus_is_space);

}  // namespace mileagebank::http

#endif  // MILEAGEBANK_LIBS_HTTP_SERVER_H_
