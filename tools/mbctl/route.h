// Where a command's call goes, and the credentials it carries there.
//
//   absl::StatusOr<Route> route =
//       ChooseRoute(ServiceOf(command), invocation.target, invocation.gateway,
//                   invocation.api_key);
//   grpc::ClientContext context;
//   PrepareContext(*route, absl::Seconds(10), &context);
//
// By default a call goes to the gateway, which serves every service's public
// operations under their own names, with an API key as `x-api-key` metadata
// (docs/api.md). An operator may point a command at its service directly
// (--target, or the service's $MBCTL_<SERVICE>_TARGET); the call then
// carries no key, as the services do not read one.
//
// Thread-safe: ChooseRoute reads the environment and a file, nothing else.
#ifndef MILEAGEBANK_TOOLS_MBCTL_ROUTE_H_
#define MILEAGEBANK_TOOLS_MBCTL_ROUTE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {

// The environment variables holding the API key, or naming a file that does
// (deploy/local/up.sh writes the installation's ADMIN key to one).
inline constexpr char kApiKeyEnv[] = "MBCTL_API_KEY";
inline constexpr char kApiKeyFileEnv[] = "MBCTL_API_KEY_FILE";

struct Route {
  // "host:port".
  std::string target;
  // Whether `target` is the gateway (the default, and always for the
  // gateway's own operations) rather than the service itself.
  bool gateway = false;
  // Sent as `x-api-key` when not empty; empty on a direct route.
  std::string api_key;
};

// The route of a call to `service`, from the flags given (unset: not on the
// command line) and the environment. Directly to the service when --target
// or $MBCTL_<SERVICE>_TARGET is set (for the gateway's own service, --target
// names the gateway); else to --gateway, else $MBCTL_GATEWAY, else
// GatewayService()'s default address, with the key of --api-key, else
// $MBCTL_API_KEY, else the first line of the file named by
// $MBCTL_API_KEY_FILE. INVALID_ARGUMENT when that file cannot be read.
absl::StatusOr<Route> ChooseRoute(const Service& service,
                                  const std::optional<std::string>& target,
                                  const std::optional<std::string>& gateway,
                                  const std::optional<std::string>& api_key);

// Sets the deadline of a call along `route`, now plus `timeout`, and its
// credentials. Every call mbctl makes, unary or streaming, is prepared here.
void PrepareContext(const Route& route, absl::Duration timeout,
                    grpc::ClientContext* context);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_ROUTE_H_
