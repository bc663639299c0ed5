#include "libs/server/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mileagebank::server {

absl::StatusOr<HttpResponse> HttpRequest(int port, const std::string& method,
                                         const std::string& path,
                                         const std::vector<std::string>& headers,
                                         const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port));
  }
  std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n");
  for (const std::string& header : headers) {
    absl::StrAppend(&request, header, "\r\n");
  }
  absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n\r\n", body);
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;  // the server may refuse before reading it all
    sent += n;
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  close(fd);
  size_t end_of_headers = response.find("\r\n\r\n");
  HttpResponse answer;
  // "HTTP/1.1 200 OK"
  if (end_of_headers == std::string::npos || response.size() < 12 ||
      !absl::SimpleAtoi(response.substr(9, 3), &answer.status)) {
    return absl::DataLossError("no HTTP answer");
  }
  answer.body = response.substr(end_of_headers + 4);
  return answer;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  absl::StatusOr<HttpResponse> response = HttpRequest(port, "GET", path);
  if (!response.ok()) return response.status();
  return response->body;
}

}  // namespace mileagebank::server
