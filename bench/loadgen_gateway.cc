#include "bench/loadgen_gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
      std::string request = absl::StrCat(
          method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", header,
          "Content-Length: ", payload.size(), "\r\n\r\n", payload);
      int status = 0;
      if (Send(request) && (status = Receive(body)) > 0) return status;
      Close();  // the server closed a kept-alive connection: once more
    }
    return 0;
  }

 private:
  bool Open() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
        0) {
      Close();
      return false;
    }
    buffer_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Send(const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      ssize_t n = write(fd_, bytes.data() + sent, bytes.size() - sent);
      if (n <= 0) return false;
      sent += n;
    }
    return true;
  }
  bool Fill() {
    char chunk[16384];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, n);
    return true;
  }
  int Receive(std::string* body) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return 0;
    }
    const std::string headers = absl::AsciiStrToLower(buffer_.substr(0, end));
    int status = 0;
    if (headers.size() < 12 || !absl::SimpleAtoi(headers.substr(9, 3), &status)) {
      return 0;
    }
    size_t length = 0;
    size_t at = headers.find("content-length:");
    if (at != std::string::npos) {
      size_t line_end = headers.find("\r\n", at);
      (void)absl::SimpleAtoi(
          absl::StripAsciiWhitespace(headers.substr(at + 15, line_end - at - 15)),
          &length);
    }
    while (buffer_.size() < end + 4 + length) {
      if (!Fill()) return 0;
    }
    *body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
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

  const absl::Time start = absl::Now() + absl::Seconds(load.warmup_s);
  const absl::Time stop = start + absl::Seconds(load.duration_s);
  std::vector<LatencySample> samples(load.concurrency);
  std::vector<int64_t> ok(load.concurrency), errors(load.concurrency);
  ErrorTally tally;
  std::vector<std::thread> workers;
  for (int w = 0; w < load.concurrency; ++w) {
    workers.emplace_back([&, w] {
      if (sessions[w].empty()) return;
      Connection connection(port);
      std::string body;
      for (int64_t op = 0;; ++op) {
        const auto& [member, header] = sessions[w][op % sessions[w].size()];
        const bool statement =
            load.statement_every > 0 && op % load.statement_every == 0;
        const std::string path =
            absl::StrCat("/v1/members/", member,
                         statement ? "/statement?page.pageSize=20" : "/dashboard");
        const absl::Time began = absl::Now();
        int status = connection.Request("GET", path, header, "", &body);
        const absl::Time ended = absl::Now();
        if (ended >= stop) break;
        if (ended < start) continue;
        if (status == 200) {
          ++ok[w];
          samples[w].Add(absl::ToInt64Microseconds(ended - began));
        } else {
          ++errors[w];
          tally.Add(absl::StrCat(status, " ", body.substr(0, 200)));
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();

  LatencySample merged;
  int64_t total_ok = 0, total_errors = 0;
  for (int w = 0; w < load.concurrency; ++w) {
    merged.Merge(samples[w]);
    total_ok += ok[w];
    total_errors += errors[w];
  }
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
