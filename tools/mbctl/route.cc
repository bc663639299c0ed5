#include "tools/mbctl/route.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mileagebank::mbctl {
namespace {

// The variable `name`, or nullopt when it is unset or empty.
std::optional<std::string> FromEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

absl::StatusOr<std::string> ApiKey(const std::optional<std::string>& flag) {
  if (flag.has_value()) return *flag;
  if (auto key = FromEnv(kApiKeyEnv)) return *key;
  std::optional<std::string> path = FromEnv(kApiKeyFileEnv);
  if (!path.has_value()) return std::string();
  std::ifstream file(*path);
  std::string line;
  if (!file || (!std::getline(file, line) && !file.eof())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "$", kApiKeyFileEnv, ": cannot read ", *path, ": ",
        std::strerror(errno)));
  }
  // The file is written by hand or by `printf ... >file`: a trailing newline
  // or a carriage return is not part of the key.
  return std::string(absl::StripAsciiWhitespace(line));
}

}  // namespace

absl::StatusOr<Route> ChooseRoute(const Service& service,
                                  const std::optional<std::string>& target,
                                  const std::optional<std::string>& gateway,
                                  const std::optional<std::string>& api_key) {
  const Service& front = GatewayService();
  const bool own = &service == &front;
  if (!own) {
    if (target.has_value()) return Route{.target = *target};
    if (auto direct = FromEnv(service.target_env)) {
      return Route{.target = *direct};
    }
  }
  Route route{.gateway = true};
  if (own && target.has_value()) {
    route.target = *target;
  } else if (gateway.has_value()) {
    route.target = *gateway;
  } else {
    route.target = FromEnv(front.target_env).value_or(front.default_target);
  }
  absl::StatusOr<std::string> key = ApiKey(api_key);
  if (!key.ok()) return key.status();
  route.api_key = *std::move(key);
  return route;
}

void PrepareContext(const Route& route, absl::Duration timeout,
                    grpc::ClientContext* context) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!route.api_key.empty()) context->AddMetadata("x-api-key", route.api_key);
}

}  // namespace mileagebank::mbctl
