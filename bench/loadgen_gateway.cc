#include "bench/loadgen_gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/loadgen_stats.h"

namespace mileagebank::loadgen {
namespace {

// Takes the first whole answer off `buffer`: its status, the body in
// `body`; 0 when the answer is not all there yet, -1 when it is not HTTP.
int TakeResponse(std::string* buffer, std::string* body) {
  size_t end = buffer->find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  const std::string headers = absl::AsciiStrToLower(buffer->substr(0, end));
  int status = 0;
  if (headers.size() < 12 || !absl::SimpleAtoi(headers.substr(9, 3), &status)) {
    return -1;
  }
  size_t length = 0;
  size_t at = headers.find("content-length:");
  if (at != std::string::npos) {
    size_t line_end = headers.find("\r\n", at);
    (void)absl::SimpleAtoi(
        absl::StripAsciiWhitespace(headers.substr(at + 15, line_end - at - 15)),
        &length);
  }
  if (buffer->size() < end + 4 + length) return 0;
  *body = buffer->substr(end + 4, length);
  buffer->erase(0, end + 4 + length);
  return status;
}

std::string RequestText(const std::string& method, const std::string& path,
                        const std::string& header, const std::string& payload) {
  return absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                      header, "Content-Length: ", payload.size(), "\r\n\r\n",
                      payload);
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = write(fd, bytes.data() + sent, bytes.size() - sent);
    if (n <= 0) return false;
    sent += n;
  }
  return true;
}

// One kept-alive HTTP/1.1 connection to the gateway.
class Connection {
 public:
  explicit Connection(int port) : port_(port) {}
  ~Connection() { Close(); }

  // The status of one request, 0 when the connection failed; the body in
  // `body`.
  int Request(const std::string& method, const std::string& path,
              const std::string& header, const std::string& payload,
              std::string* body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0 && !Open()) return 0;
      int status = 0;
      if (SendAll(fd_, RequestText(method, path, header, payload)) &&
          (status = Receive(body)) > 0) {
        return status;
      }
      Close();  // the server closed a kept-alive connection: once more
    }
    return 0;
  }

 private:
  bool Open() {
    fd_ = Connect(port_);
    buffer_.clear();
    return fd_ >= 0;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Fill() {
    char chunk[16384];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, n);
    return true;
  }
  int Receive(std::string* body) {
    int status;
    while ((status = TakeResponse(&buffer_, body)) == 0) {
      if (!Fill()) return 0;
    }
    return status;
  }

  int port_;
  int fd_ = -1;
  std::string buffer_;
};

std::string FieldOf(const std::string& json, const std::string& name) {
  std::string key = absl::StrCat("\"", name, "\":\"");
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return json.substr(at, json.find('"', at) - at);
}

}  // namespace

int RunGatewayLoad(const GatewayLoad& load) {
  int port = 0;
  size_t colon = load.http_address.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(load.http_address.substr(colon + 1), &port)) {
    std::cerr << "loadgen: --gateway_http must be host:port\n";
    return 2;
  }
  std::cout << absl::StrFormat(
      "mode=gateway-dashboard gateway=%s concurrency=%d duration_s=%g "
      "warmup_s=%g members=%d statement_every=%d\n",
      load.http_address, load.concurrency, load.duration_s, load.warmup_s,
      load.members.size(), load.statement_every);

  // Each worker logs in as the members i, i + concurrency, ...
  std::vector<std::vector<std::pair<std::string, std::string>>> sessions(
      load.concurrency);
  std::atomic<int> login_failures{0};
  {
    std::vector<std::thread> workers;
    for (int w = 0; w < load.concurrency; ++w) {
      workers.emplace_back([&, w] {
        Connection connection(port);
        for (size_t m = w; m < load.members.size(); m += load.concurrency) {
          std::string body;
          int status = connection.Request(
              "POST", "/v1/session", "",
              absl::StrCat("{\"login\":\"", load.members[m],
                           "\",\"password\":\"", load.member_password, "\"}"),
              &body);
          std::string token = FieldOf(body, "accessToken");
          if (status != 200 || token.empty()) {
            if (login_failures.fetch_add(1) == 0) {
              std::cerr << "loadgen: login of " << load.members[m] << ": "
                        << status << " " << body << "\n";
            }
            continue;
          }
          sessions[w].emplace_back(load.members[m],
                                   "Authorization: Bearer " + token + "\r\n");
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  if (login_failures > 0) {
    std::cerr << "loadgen: " << login_failures << " logins failed\n";
    return 3;
  }

  // The measured phase on one thread: every session's connection in one
  // epoll set, each sending its next request as soon as its answer is in.
  // (A thread per connection cost the load generator ~100 us of CPU per
  // dashboard, a quarter of the whole budget, most of it thread switches.)
  struct Session {
    const std::vector<std::pair<std::string, std::string>>* members;
    int fd = -1;
    std::string buffer;
    int64_t op = 0;
    absl::Time began;
  };
  auto send_next = [&load](Session& session) {
    const auto& [member, header] =
        (*session.members)[session.op % session.members->size()];
    const bool statement =
        load.statement_every > 0 && session.op % load.statement_every == 0;
    ++session.op;
    session.began = absl::Now();
    // Requests are small: the blocking write returns at once.
    return SendAll(session.fd,
                   RequestText("GET",
                               absl::StrCat("/v1/members/", member,
                                            statement
                                                ? "/statement?page.pageSize=20"
                                                : "/dashboard"),
                               header, ""));
  };
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Session> active;
  active.reserve(load.concurrency);
  for (int w = 0; w < load.concurrency; ++w) {
    if (sessions[w].empty()) continue;
    Session& session = active.emplace_back();
    session.members = &sessions[w];
    session.fd = Connect(port);
    epoll_event event{.events = EPOLLIN, .data = {.ptr = &session}};
    if (session.fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, session.fd, &event) != 0 ||
        !send_next(session)) {
      std::cerr << "loadgen: cannot connect to " << load.http_address << "\n";
      return 3;
    }
  }

  const absl::Time start = absl::Now() + absl::Seconds(load.warmup_s);
  const absl::Time stop = start + absl::Seconds(load.duration_s);
  LatencySample merged;
  int64_t total_ok = 0, total_errors = 0;
  ErrorTally tally;
  std::string body;
  epoll_event events[64];
  for (bool running = true; running;) {
    int ready = epoll_wait(epoll_fd, events, 64, 100);
    if (ready <= 0 && absl::Now() >= stop) break;
    for (int i = 0; i < ready; ++i) {
      Session& session = *static_cast<Session*>(events[i].data.ptr);
      char chunk[16384];
      ssize_t n = read(session.fd, chunk, sizeof chunk);
      int status = -1;
      if (n > 0) {
        session.buffer.append(chunk, n);
        status = TakeResponse(&session.buffer, &body);
        if (status == 0) continue;  // the rest of the answer is on its way
      }
      const absl::Time ended = absl::Now();
      if (ended >= stop) running = false;
      if (ended >= start && running) {
        if (status == 200) {
          ++total_ok;
          merged.Add(absl::ToInt64Microseconds(ended - session.began));
        } else {
          ++total_errors;
          tally.Add(status < 0 ? std::string("connection ended or not HTTP")
                               : absl::StrCat(status, " ", body.substr(0, 200)));
        }
      }
      if (status < 0) {  // one more connection in its place
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, session.fd, nullptr);
        close(session.fd);
        session.buffer.clear();
        session.fd = Connect(port);
        epoll_event event{.events = EPOLLIN, .data = {.ptr = &session}};
        if (session.fd < 0) continue;
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, session.fd, &event);
      }
      if (running) (void)send_next(session);
    }
  }
  for (Session& session : active) {
    if (session.fd >= 0) close(session.fd);
  }
  close(epoll_fd);

  LatencySummary summary = merged.Summarize();
  const double ops_per_s = total_ok / load.duration_s;
  std::cout << absl::StrFormat(
      "measured: ops=%d errors=%d ops_per_s=%.0f p50_ms=%.3f p90_ms=%.3f "
      "p99_ms=%.3f max_ms=%.3f\n",
      total_ok, total_errors, ops_per_s, summary.p50_us / 1000.0,
      summary.p90_us / 1000.0, summary.p99_us / 1000.0, summary.max_us / 1000.0);
  for (const std::string& line : tally.Report()) std::cerr << line << "\n";
  std::cout << ResultLine(ops_per_s, summary.p50_us, summary.p99_us,
                          total_errors)
            << "\n";
  return 0;
}

}  // namespace mileagebank::loadgen
