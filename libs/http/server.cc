#include "libs/http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace mileagebank::http {
namespace {

// A request the server answers itself, and why.
struct Refusal {
  int status;
  std::string why;
};

// What a connection waits for next.
enum class Wait { kRead, kWrite, kClose };

// The result of one read or write on a connection.
enum class Io { kDone, kWantRead, kWantWrite, kClosed };

int64_t NowNanos() { return absl::GetCurrentTimeNanos(); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

absl::string_view Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

std::string PercentDecode(absl::string_view text, bool plus_is_space) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      decoded += static_cast<char>(HexValue(text[i + 1]) * 16 +
                                   HexValue(text[i + 2]));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      decoded += ' ';
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

namespace {

// One client connection. Only the thread that took its (one-shot) event
// touches the buffers; the idle sweep reads `fd`, `serving` and
// `last_active` under the connection table's lock.
struct Connection {
  int fd = -1;
  SSL* tls = nullptr;
  std::string remote_address;
  int remote_port = 0;
  // Received and not yet handled.
  std::string input;
  // The head of the request being received, once its headers are in.
  bool have_head = false;
  Request request;
  size_t head_bytes = 0;
  size_t body_bytes = 0;
  // The body comes in chunks (Transfer-Encoding: chunked), its length
  // unknown until the last one.
  bool chunked = false;
  bool keep_alive = true;
  bool continue_sent = false;
  // Answers not yet sent, from `sent` on.
  std::string output;
  size_t sent = 0;
  // After the answers are sent: stop writing, and discard what the client
  // still sends until it closes (so that the kernel does not reset the
  // connection, and with it the answer, while input is unread).
  bool close_after_output = false;
  bool draining = false;
  std::atomic<bool> serving{false};
  std::atomic<int64_t> last_active{0};

  ~Connection() {
    if (tls != nullptr) SSL_free(tls);
    if (fd >= 0) close(fd);
  }
};

// Parses "METHOD target HTTP/1.x" and the header lines of `head` (without
// the blank line) into `request`; sets `keep_alive`, `body_bytes` and
// `chunked`.
std::optional<Refusal> ParseHead(absl::string_view head,
                                 size_t max_body_bytes, Request* request,
                                 bool* keep_alive, size_t* body_bytes,
                                 bool* chunked) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> start =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (start.size() != 3 || start[0].empty() || start[1].empty() ||
      start[1][0] != '/') {
    return Refusal{400, "not an HTTP request line"};
  }
  const bool http10 = start[2] == "HTTP/1.0";
  if (!http10 && start[2] != "HTTP/1.1") {
    return Refusal{505, "only HTTP/1.0 and HTTP/1.1 are supported"};
  }
  request->method = std::string(start[0]);
  absl::string_view target = start[1];
  size_t question = target.find('?');
  request->path = PercentDecode(target.substr(0, question), false);
  if (question != absl::string_view::npos) {
    for (absl::string_view pair :
         absl::StrSplit(target.substr(question + 1), '&', absl::SkipEmpty())) {
      size_t equals = pair.find('=');
      request->query.emplace_back(
          PercentDecode(pair.substr(0, equals), true),
          equals == absl::string_view::npos
              ? ""
              : PercentDecode(pair.substr(equals + 1), true));
    }
  }
  bool have_length = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Refusal{400, "malformed header line"};
    }
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    absl::string_view value =
        absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
    if (name == "content-length") {
      size_t length = 0;
      if (!absl::SimpleAtoi(value, &length) ||
          (have_length && length != *body_bytes)) {
        return Refusal{400, "Content-Length: not one number"};
      }
      have_length = true;
      *body_bytes = length;
    } else if (name == "transfer-encoding") {
      if (!absl::EqualsIgnoreCase(value, "chunked") || *chunked ||
          http10) {
        return Refusal{501, "Transfer-Encoding: only chunked is supported"};
      }
      *chunked = true;
    }
    request->headers.emplace_back(std::move(name), std::string(value));
  }
  // Both would let a proxy in front and this server frame the message
  // differently (request smuggling).
  if (*chunked && have_length) {
    return Refusal{400, "Content-Length and Transfer-Encoding: not both"};
  }
  if (*body_bytes > max_body_bytes) {
    return Refusal{413, absl::StrCat("body: larger than the limit of ",
                                     max_body_bytes, " bytes")};
  }
  const std::string connection =
      absl::AsciiStrToLower(request->Header("connection"));
  *keep_alive = http10 ? absl::StrContains(connection, "keep-alive")
                       : !absl::StrContains(connection, "close");
  return std::nullopt;
}

enum class Chunks { kIncomplete, kWhole, kRefused };

// Decodes the chunked body at the start of `data` (RFC 9112 section 7.1)
// into `body`, setting `*length` to the bytes it took, trailers included
// (which are dropped: nothing here reads them). Re-reads from the start
// each time more input comes, which the body limit keeps cheap.
Chunks DecodeChunked(absl::string_view data, size_t max_body_bytes,
                     size_t max_trailer_bytes, std::string* body,
                     size_t* length, std::optional<Refusal>* refusal) {
  // A size line is hex digits (a body within the limit needs at most 16),
  // maybe extensions after ';', which are ignored.
  constexpr size_t kMaxSizeLine = 1024;
  body->clear();
  size_t at = 0;
  for (;;) {
    size_t line_end = data.find("\r\n", at);
    if (line_end == absl::string_view::npos) {
      if (data.size() - at > kMaxSizeLine) {
        *refusal = Refusal{400, "chunk size line: too long"};
        return Chunks::kRefused;
      }
      return Chunks::kIncomplete;
    }
    absl::string_view line = data.substr(at, line_end - at);
    absl::string_view digits = line.substr(0, line.find(';'));
    digits = absl::StripTrailingAsciiWhitespace(digits);
    uint64_t size = 0;
    if (line.size() > kMaxSizeLine || digits.empty() || digits.size() > 16 ||
        !absl::SimpleHexAtoi(digits, &size) ||
        digits.find_first_not_of("0123456789abcdefABCDEF") !=
            absl::string_view::npos) {
      *refusal = Refusal{400, "chunk size: not a hexadecimal number"};
      return Chunks::kRefused;
    }
    at = line_end + 2;
    if (size == 0) break;
    if (size > max_body_bytes - body->size()) {
      *refusal = Refusal{413, absl::StrCat("body: larger than the limit of ",
                                           max_body_bytes, " bytes")};
      return Chunks::kRefused;
    }
    if (data.size() - at < size + 2) return Chunks::kIncomplete;
    if (data.substr(at + size, 2) != "\r\n") {
      *refusal = Refusal{400, "chunk: not followed by CRLF"};
      return Chunks::kRefused;
    }
    body->append(data.data() + at, size);
    at += size + 2;
  }
  // Trailer lines until an empty one.
  const size_t trailers = at;
  for (;;) {
    size_t line_end = data.find("\r\n", at);
    if (line_end == absl::string_view::npos ||
        line_end - trailers > max_trailer_bytes) {
      if (data.size() - trailers > max_trailer_bytes) {
        *refusal = Refusal{431, "trailer fields: larger than the limit"};
        return Chunks::kRefused;
      }
      return Chunks::kIncomplete;
    }
    if (line_end == at) {
      *length = line_end + 2;
      return Chunks::kWhole;
    }
    if (data.substr(at, line_end - at).find(':') == absl::string_view::npos) {
      *refusal = Refusal{400, "malformed trailer line"};
      return Chunks::kRefused;
    }
    at = line_end + 2;
  }
}

void AppendResponse(const Response& response, bool head_only, bool keep_alive,
                    std::string* out) {
  absl::StrAppend(out, "HTTP/1.1 ", response.status, " ",
                  ReasonPhrase(response.status), "\r\nContent-Type: ",
                  response.content_type, "\r\nContent-Length: ",
                  response.body.size(),
                  keep_alive ? "\r\nConnection: keep-alive\r\n"
                             : "\r\nConnection: close\r\n");
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(out, name, ": ", value, "\r\n");
  }
  out->append("\r\n");
  if (!head_only) out->append(response.body);
}

Io TlsResult(SSL* tls, int result) {
  switch (SSL_get_error(tls, result)) {
    case SSL_ERROR_WANT_READ: return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE: return Io::kWantWrite;
    default: ERR_clear_error(); return Io::kClosed;
  }
}

// Appends what the connection has to `to` (or drops it when null).
Io Receive(Connection& c, std::string* to) {
  char buffer[16384];
  if (c.tls == nullptr) {
    ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      if (to != nullptr) to->append(buffer, n);
      return Io::kDone;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return Io::kWantRead;
    return Io::kClosed;
  }
  // OpenSSL may hold decrypted bytes the poller cannot see: read until it
  // has none.
  bool got = false;
  for (;;) {
    int n = SSL_read(c.tls, buffer, sizeof buffer);
    if (n <= 0) {
      Io io = TlsResult(c.tls, n);
      return got && io != Io::kClosed ? Io::kDone : io;
    }
    got = true;
    if (to != nullptr) to->append(buffer, n);
  }
}

Io Send(Connection& c) {
  while (c.sent < c.output.size()) {
    const char* data = c.output.data() + c.sent;
    size_t size = c.output.size() - c.sent;
    if (c.tls == nullptr) {
      ssize_t n = send(c.fd, data, size, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return Io::kWantWrite;
        return Io::kClosed;
      }
      c.sent += n;
    } else {
      int n = SSL_write(c.tls, data, static_cast<int>(size));
      if (n <= 0) return TlsResult(c.tls, n);
      c.sent += n;
    }
  }
  c.output.clear();
  c.sent = 0;
  return Io::kDone;
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}

  ~Impl() {
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof one);
    }
    for (std::thread& thread : threads_) thread.join();
    {
      absl::MutexLock lock(&mutex_);
      connections_.clear();
    }
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (tls_ != nullptr) SSL_CTX_free(tls_);
  }

  absl::Status Listen();
  void Run();
  int port() const { return port_; }

 private:
  absl::Status SetUpTls();
  void Accept();
  void Serve(Connection* c);
  Wait Step(Connection& c);
  // Takes the next whole request from the input into `c.request`: true
  // when there is one; false when more input is needed or it is refused
  // (then `refusal` says why).
  bool TakeRequest(Connection& c, std::optional<Refusal>* refusal);
  void Answer(Connection& c);
  void Refuse(Connection& c, const Refusal& refusal);
  void Arm(Connection* c, uint32_t events);
  void Close(Connection* c);
  void SweepIdle();

  const ServerOptions options_;
  const Handler handler_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  // Written once at stop; level-triggered, so every thread sees it.
  int wake_fd_ = -1;
  int port_ = 0;
  SSL_CTX* tls_ = nullptr;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> next_sweep_{0};

  absl::Mutex mutex_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_
      ABSL_GUARDED_BY(mutex_);
};

absl::Status Server::Impl::SetUpTls() {
  tls_ = SSL_CTX_new(TLS_server_method());
  if (tls_ == nullptr ||
      SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(
          tls_, options_.tls_certificate_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(tls_, options_.tls_private_key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(tls_) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "tls_certificate_file, tls_private_key_file: not a usable "
        "certificate and key (PEM)");
  }
  // Answers are sent from a string that may grow between tries.
  SSL_CTX_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // OpenSSL writes to the socket with write(), which raises SIGPIPE when
  // the client has gone; the error is handled where it is returned.
  signal(SIGPIPE, SIG_IGN);
  return absl::OkStatus();
}

absl::Status Server::Impl::Listen() {
  if (options_.tls_certificate_file.empty() !=
      options_.tls_private_key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_certificate_file, tls_private_key_file: both or neither");
  }
  if (!options_.tls_certificate_file.empty()) {
    if (absl::Status tls = SetUpTls(); !tls.ok()) return tls;
  }
  const std::string& address = options_.listen_address;
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen_address=", address, ": not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(),
                  std::to_string(port).c_str(), &hints, &found) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen_address=", address, ": unknown host"));
  }
  for (addrinfo* at = found; at != nullptr && listen_fd_ < 0; at = at->ai_next) {
    int fd = socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    at->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, at->ai_addr, at->ai_addrlen) == 0 && listen(fd, 1024) == 0) {
      listen_fd_ = fd;
    } else {
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("listen_address=", address, ": cannot listen"));
  }
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &size);
  port_ = ntohs(bound.ss_family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return absl::ResourceExhaustedError("epoll: cannot create");
  }
  // The listener is one-shot too: one thread accepts what is waiting, then
  // re-arms it.
  epoll_event listener{.events = EPOLLIN | EPOLLONESHOT, .data = {.ptr = nullptr}};
  epoll_event wake{.events = EPOLLIN, .data = {.ptr = &wake_fd_}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listener);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake);
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
  return absl::OkStatus();
}

void Server::Impl::Run() {
  // One event at a time: a thread whose handler blocks must not hold
  // other connections' events.
  epoll_event event;
  for (;;) {
    int n = epoll_wait(epoll_fd_, &event, 1, 1000);
    if (n > 0 && event.data.ptr == &wake_fd_) return;
    if (n > 0 && event.data.ptr == nullptr) Accept();
    if (n > 0 && event.data.ptr != nullptr) {
      Serve(static_cast<Connection*>(event.data.ptr));
    }
    SweepIdle();
  }
}

void Server::Impl::Accept() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t size = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &size,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto connection = std::make_unique<Connection>();
    Connection* c = connection.get();
    c->fd = fd;
    char text[INET6_ADDRSTRLEN] = "";
    if (peer.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      c->remote_port = ntohs(in6->sin6_port);
    } else {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&peer);
      inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
      c->remote_port = ntohs(in4->sin_port);
    }
    c->remote_address = text;
    c->last_active = NowNanos();
    if (tls_ != nullptr) {
      c->tls = SSL_new(tls_);
      if (c->tls == nullptr || SSL_set_fd(c->tls, fd) != 1) continue;
      SSL_set_accept_state(c->tls);  // the handshake runs inside SSL_read
    }
    {
      absl::MutexLock lock(&mutex_);
      connections_.emplace(c, std::move(connection));
    }
    epoll_event event{.events = EPOLLIN | EPOLLONESHOT, .data = {.ptr = c}};
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
  epoll_event listener{.events = EPOLLIN | EPOLLONESHOT, .data = {.ptr = nullptr}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &listener);
}

void Server::Impl::Serve(Connection* c) {
  c->serving = true;
  Wait wait = Step(*c);
  c->last_active = NowNanos();
  c->serving = false;
  switch (wait) {
    case Wait::kRead: return Arm(c, EPOLLIN);
    case Wait::kWrite: return Arm(c, EPOLLOUT);
    case Wait::kClose: return Close(c);
  }
}

Wait Server::Impl::Step(Connection& c) {
  bool answered = false;
  for (;;) {
    if (!c.output.empty()) {
      switch (Send(c)) {
        case Io::kDone: break;
        case Io::kWantRead: return Wait::kRead;
        case Io::kWantWrite: return Wait::kWrite;
        case Io::kClosed: return Wait::kClose;
      }
      if (c.close_after_output && !c.draining) {
        c.draining = true;
        c.input.clear();
        if (c.tls != nullptr) SSL_shutdown(c.tls);
        shutdown(c.fd, SHUT_WR);
      }
    }
    if (!c.draining) {
      std::optional<Refusal> refusal;
      bool taken = TakeRequest(c, &refusal);
      if (refusal.has_value()) {
        Refuse(c, *refusal);
        continue;
      }
      if (taken) {
        Answer(c);
        answered = true;
        continue;
      }
      if (!c.output.empty()) continue;  // "100 Continue"
      // Nothing buffered after an answer: the client has not sent its next
      // request yet, and the poller will say when it has (a read now would
      // most likely find nothing).
      if (answered && c.input.empty()) return Wait::kRead;
    }
    switch (Receive(c, c.draining ? nullptr : &c.input)) {
      case Io::kDone: break;
      case Io::kWantRead: return Wait::kRead;
      case Io::kWantWrite: return Wait::kWrite;
      case Io::kClosed: return Wait::kClose;
    }
  }
}

bool Server::Impl::TakeRequest(
    Connection& c, std::optional<Refusal>* refusal) {
  if (!c.have_head) {
    size_t end = c.input.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.input.size() > options_.max_header_bytes) {
        *refusal = Refusal{431, "request line and headers: larger than the limit"};
      }
      return false;
    }
    if (end > options_.max_header_bytes) {
      *refusal = Refusal{431, "request line and headers: larger than the limit"};
      return false;
    }
    c.request = Request{};
    c.body_bytes = 0;
    c.chunked = false;
    *refusal = ParseHead(absl::string_view(c.input).substr(0, end),
                         options_.max_body_bytes, &c.request, &c.keep_alive,
                         &c.body_bytes, &c.chunked);
    if (refusal->has_value()) return false;
    c.have_head = true;
    c.head_bytes = end + 4;
    c.continue_sent = false;
  }
  bool whole = c.input.size() >= c.head_bytes + c.body_bytes;
  if (c.chunked) {
    size_t length = 0;
    Chunks chunks = DecodeChunked(
        absl::string_view(c.input).substr(c.head_bytes),
        options_.max_body_bytes, options_.max_header_bytes, &c.request.body,
        &length, refusal);
    if (chunks == Chunks::kRefused) return false;
    whole = chunks == Chunks::kWhole;
    c.body_bytes = length;
  }
  if (!whole) {
    // The client waits for a go-ahead before sending the body.
    if (!c.continue_sent &&
        absl::EqualsIgnoreCase(c.request.Header("expect"), "100-continue")) {
      c.output.append("HTTP/1.1 100 Continue\r\n\r\n");
      c.continue_sent = true;
    }
    return false;
  }
  if (!c.chunked) c.request.body = c.input.substr(c.head_bytes, c.body_bytes);
  c.input.erase(0, c.head_bytes + c.body_bytes);
  c.have_head = false;
  return true;
}

void Server::Impl::Answer(Connection& c) {
  c.request.remote_address = c.remote_address;
  c.request.remote_port = c.remote_port;
  Response response;
  handler_(c.request, &response);
  AppendResponse(response, c.request.method == "HEAD", c.keep_alive,
                 &c.output);
  if (!c.keep_alive) c.close_after_output = true;
}

void Server::Impl::Refuse(Connection& c, const Refusal& refusal) {
  Response response;
  if (options_.error_response) {
    response = options_.error_response(refusal.status, refusal.why);
  } else {
    response.status = refusal.status;
    response.body = refusal.why + "\n";
  }
  // What follows a refused request cannot be framed: end the connection.
  AppendResponse(response, false, false, &c.output);
  c.close_after_output = true;
  c.have_head = false;
}

void Server::Impl::Arm(Connection* c, uint32_t events) {
  epoll_event event{.events = events | EPOLLONESHOT, .data = {.ptr = c}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event);
}

void Server::Impl::Close(Connection* c) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  // Under the lock, so that the sweep never shuts a reused descriptor.
  absl::MutexLock lock(&mutex_);
  connections_.erase(c);
}

void Server::Impl::SweepIdle() {
  const int64_t now = NowNanos();
  int64_t due = next_sweep_.load(std::memory_order_relaxed);
  if (now < due || !next_sweep_.compare_exchange_strong(
                       due, now + absl::ToInt64Nanoseconds(absl::Seconds(1)))) {
    return;
  }
  const int64_t idle_since =
      now - absl::ToInt64Nanoseconds(options_.idle_timeout);
  absl::MutexLock lock(&mutex_);
  for (const auto& [key, c] : connections_) {
    // Shut, not closed: the poller wakes a thread for it, which finds the
    // end of input and closes it as its owner.
    if (!c->serving && c->last_active < idle_since) shutdown(c->fd, SHUT_RDWR);
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
int Server::port() const { return impl_->port(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options,
                                                      Handler handler) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  if (absl::Status listening = impl->Listen(); !listening.ok()) {
    return listening;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

}  // namespace mileagebank::http
