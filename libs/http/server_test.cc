// The server over real loopback sockets: framing, keep-alive and
// pipelining, what it refuses, blocking handlers, idle connections, TLS.
#include "libs/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace mileagebank::http {
namespace {

// Echoes what the server parsed, so that tests can check it.
void Echo(const Request& request, Response* response) {
  response->body = absl::StrCat(request.method, " ", request.path, " body=",
                                request.body, " x=", request.Header("x-test"));
  for (const auto& [key, value] : request.query) {
    absl::StrAppend(&response->body, " ", key, "=", value);
  }
  response->headers.emplace_back("X-Served", "yes");
}

std::unique_ptr<Server> StartServer(ServerOptions options,
                                    Handler handler = Echo) {
  if (options.listen_address.empty()) options.listen_address = "127.0.0.1:0";
  auto server = Server::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

// A raw client connection (optionally TLS), to send exactly the bytes a
// test needs.
class Client {
 public:
  explicit Client(int port, SSL_CTX* tls = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (tls != nullptr && connected_) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      connected_ = SSL_connect(ssl_) == 1;
    }
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    close(fd_);
  }
  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    if (ssl_ != nullptr) {
      ASSERT_EQ(SSL_write(ssl_, bytes.data(), bytes.size()),
                static_cast<int>(bytes.size()));
    } else {
      ASSERT_EQ(write(fd_, bytes.data(), bytes.size()),
                static_cast<ssize_t>(bytes.size()));
    }
  }

  // The next answer (by its Content-Length), status 0 if the connection
  // ends first.
  Answer Read() {
    Answer answer;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return answer;
    }
    answer.head = buffer_.substr(0, end);
    size_t length = 0;
    size_t at = answer.head.find("Content-Length: ");
    if (at != std::string::npos) {
      (void)absl::SimpleAtoi(
          answer.head.substr(at + 16, answer.head.find("\r\n", at) - at - 16),
          &length);
    }
    while (buffer_.size() < end + 4 + length) {
      if (!Fill()) return answer;
    }
    (void)absl::SimpleAtoi(answer.head.substr(9, 3), &answer.status);
    answer.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return answer;
  }

  // True when the server has closed the connection (and nothing more came).
  bool Closed() { return buffer_.empty() && !Fill(); }

 private:
  bool Fill() {
    char chunk[4096];
    int n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk)
                            : static_cast<int>(read(fd_, chunk, sizeof chunk));
    if (n <= 0) return false;
    buffer_.append(chunk, n);
    return true;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  std::string buffer_;
};

TEST(ServerTest, ParsesRequestsOnAKeptAliveConnectionPipelinedOrNot) {
  auto server = StartServer({});
  Client client(server->port());
  client.Send("POST /a%2Fb?q=1+2&r=%C3%A9&flag HTTP/1.1\r\nHost: x\r\n"
              "X-Test:  spaced \r\nContent-Length: 5\r\n\r\nhello");
  Answer first = client.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "POST /a/b body=hello x=spaced q=1 2 r=\xC3\xA9 flag=");
  EXPECT_TRUE(absl::StrContains(first.head, "X-Served: yes")) << first.head;
  EXPECT_TRUE(absl::StrContains(first.head, "Connection: keep-alive"));

  // Two at once, the second split across writes.
  client.Send("GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\nContent-Le");
  client.Send("ngth: 2\r\n\r\nok");
  EXPECT_EQ(client.Read().body, "GET /one body= x=");
  EXPECT_EQ(client.Read().body, "GET /two body=ok x=");
}

TEST(ServerTest, TakesChunkedBodiesInPiecesWithExtensionsAndTrailers) {
  auto server = StartServer({});
  Client client(server->port());
  client.Send("POST /c HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
              "5;ext=1\r\nhel");
  client.Send("lo\r\nA\r\n, 0123456");
  client.Send("7\r\n0\r\nX-Trailer: t\r\n");
  client.Send("\r\nPOST /next HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
  Answer answer = client.Read();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "POST /c body=hello, 01234567 x=");
  EXPECT_EQ(client.Read().body, "POST /next body=ok x=");

  client.Send("POST /empty HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
              "0\r\n\r\n");
  EXPECT_EQ(client.Read().body, "POST /empty body= x=");
}

TEST(ServerTest, AnswersHeadWithoutABody) {
  auto server = StartServer({});
  Client client(server->port());
  client.Send("HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
  Answer head = client.Read();
  // The Content-Length of the GET's body, and no body: the next answer
  // follows at once.
  EXPECT_TRUE(absl::StrContains(head.head, "Content-Length: 16")) << head.head;
  EXPECT_TRUE(absl::StartsWith(head.body, "HTTP/1.1 200")) << head.body;
}

TEST(ServerTest, ClosesAfterAnHttp10RequestOrConnectionClose) {
  auto server = StartServer({});
  for (const std::string request :
       {"GET /old HTTP/1.0\r\n\r\n",
        "GET /new HTTP/1.1\r\nConnection: close\r\n\r\n"}) {
    Client client(server->port());
    client.Send(request);
    Answer answer = client.Read();
    EXPECT_EQ(answer.status, 200) << request;
    EXPECT_TRUE(absl::StrContains(answer.head, "Connection: close"));
    EXPECT_TRUE(client.Closed()) << request;
  }
}

TEST(ServerTest, RefusesWhatItDoesNotSupportAndEndsTheConnection) {
  auto server = StartServer(
      {.max_header_bytes = 1024,
       .max_body_bytes = 100,
       .error_response = [](int status, absl::string_view why) {
         return Response{.status = status,
                         .content_type = "application/json",
                         .body = absl::StrCat("{\"why\":\"", why, "\"}")};
       }});
  const std::pair<std::string, int> cases[] = {
      {"GET /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'b'),
       413},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
       "Content-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "-5\r\nhello\r\n0\r\n\r\n", 400},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0x5\r\nhello\r\n0\r\n\r\n", 400},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhelloXX0\r\n\r\n", 400},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "40\r\n" + std::string(64, 'a') + "\r\n40\r\n", 413},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "ffffffffffffffffff\r\n", 400},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
       "X: " + std::string(2000, 't') + "\r\n\r\n", 431},
      {"GET /x HTTP/1.1\r\nX: " + std::string(2000, 'h') + "\r\n\r\n", 431},
      {"GET /x HTTP/1.1\r\nX: " + std::string(2000, 'h'), 431},
      {"GET /x HTTP/2.0\r\n\r\n", 505},
      {"GET x HTTP/1.1\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
  };
  for (const auto& [request, status] : cases) {
    Client client(server->port());
    client.Send(request);
    Answer answer = client.Read();
    EXPECT_EQ(answer.status, status) << request.substr(0, 60);
    EXPECT_TRUE(absl::StartsWith(answer.body, "{\"why\":")) << answer.body;
    EXPECT_TRUE(client.Closed()) << request.substr(0, 60);
  }
}

TEST(ServerTest, SaysContinueBeforeABodyWhenAsked) {
  auto server = StartServer({});
  Client client(server->port());
  client.Send("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\n"
              "Content-Length: 3\r\n\r\n");
  EXPECT_EQ(client.Read().status, 100);
  client.Send("abc");
  EXPECT_EQ(client.Read().body, "PUT /x body=abc x=");
}

TEST(ServerTest, ABlockedHandlerDoesNotHoldOtherConnections) {
  absl::Notification release;
  auto server = StartServer(
      {.threads = 2}, [&release](const Request& request, Response* response) {
        if (request.path == "/wait") release.WaitForNotification();
        response->body = request.path;
      });
  Client waiting(server->port());
  waiting.Send("GET /wait HTTP/1.1\r\n\r\n");
  Client other(server->port());
  for (int i = 0; i < 3; ++i) {
    other.Send("GET /now HTTP/1.1\r\n\r\n");
    EXPECT_EQ(other.Read().body, "/now");
  }
  release.Notify();
  EXPECT_EQ(waiting.Read().body, "/wait");
}

TEST(ServerTest, FewThreadsServeManyConnections) {
  auto server = StartServer({.threads = 2});
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 40; ++i) {
    clients.emplace_back([&, i] {
      Client client(server->port());
      for (int j = 0; j < 25; ++j) {
        std::string body = absl::StrCat(i, "-", j);
        client.Send(absl::StrCat("POST /n HTTP/1.1\r\nContent-Length: ",
                                 body.size(), "\r\n\r\n", body));
        if (client.Read().body == "POST /n body=" + body + " x=") ++answered;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(answered, 40 * 25);
}

TEST(ServerTest, ClosesIdleConnectionsAndStopsWithConnectionsOpen) {
  auto server = StartServer({.idle_timeout = absl::Seconds(1)});
  Client idle(server->port());
  Client half_sent(server->port());
  half_sent.Send("GET /x HTTP/1.1\r\n");
  Client kept(server->port());
  kept.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(kept.Read().status, 200);
  EXPECT_TRUE(idle.Closed());  // within a few seconds, not the 10 s timeout
  EXPECT_TRUE(half_sent.Closed());
  Client open(server->port());
  open.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(open.Read().status, 200);
  server.reset();
  EXPECT_TRUE(open.Closed());
}

TEST(ServerTest, RefusesABadAddressOrCertificate) {
  EXPECT_EQ(Server::Start({.listen_address = "nowhere"}, Echo).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = StartServer({});
  EXPECT_EQ(Server::Start({.listen_address = absl::StrCat(
                               "127.0.0.1:", first->port())},
                          Echo)
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Server::Start({.listen_address = "127.0.0.1:0",
                           .tls_certificate_file = "/nonexistent.pem",
                           .tls_private_key_file = "/nonexistent.pem"},
                          Echo)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerTest, ServesOverTlsAndNotInPlainText) {
  const std::string dir = getenv("TEST_TMPDIR");
  ASSERT_EQ(system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                    "-subj /CN=localhost -keyout " + dir + "/key.pem -out " +
                    dir + "/cert.pem >/dev/null 2>&1")
                       .c_str()),
            0);
  auto server = StartServer({.threads = 2,
                             .tls_certificate_file = dir + "/cert.pem",
                             .tls_private_key_file = dir + "/key.pem"});
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(context, (dir + "/cert.pem").c_str(),
                                          nullptr),
            1);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  {
    Client client(server->port(), context);
    ASSERT_TRUE(client.connected());
    const std::string big(50000, 'z');  // several TLS records
    client.Send(absl::StrCat("POST /tls HTTP/1.1\r\nContent-Length: ",
                             big.size(), "\r\n\r\n", big));
    EXPECT_EQ(client.Read().body, "POST /tls body=" + big + " x=");
    client.Send("GET /again HTTP/1.1\r\n\r\n");
    EXPECT_EQ(client.Read().body, "GET /again body= x=");
  }
  Client plain(server->port());
  plain.Send("GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(plain.Read().status, 0);
  SSL_CTX_free(context);
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(PercentDecode("a%20b+c%2", false), "a b+c%2");
  EXPECT_EQ(PercentDecode("a%20b+c%zz", true), "a b c%zz");
}

}  // namespace
}  // namespace mileagebank::http
