// The REST face's routes: each one an operation of policy.h under a
// resource-style path, so the REST and gRPC faces share authorisation,
// limits and audit. Path parameters ({member_number}) fill the request
// field of the same name; a GET's query parameters fill request fields
// (nested by dots, repeated by repeating); a body fills the rest, in the
// protobuf JSON mapping. The dashboard is the one route of several
// operations: what the portal's first page needs in one round trip.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_ROUTES_H_
#define MILEAGEBANK_SERVICES_GATEWAY_ROUTES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace mileagebank::gateway {

struct Route {
  // "GET", "POST", "PATCH" or "DELETE".
  std::string http_method;
  // "/v1/members/{member_number}/balance".
  std::string path;
  // The operation's full gRPC method name; empty for the dashboard.
  std::string operation;
  // One line for the OpenAPI document.
  std::string summary;
};

// The dashboard route's answer has the fields member, balance, tier and
// lots, each of the output type of the operation named here (for the API
// document); the gateway reads them with two calls, GetTier with the member
// and ListLots with the balance.
inline constexpr absl::string_view kDashboardPath =
    "/v1/members/{member_number}/dashboard";
const std::vector<std::pair<std::string, std::string>>& DashboardParts();

const std::vector<Route>& Routes();

// Path parameters, in the order of the template.
using PathParameters = std::vector<std::pair<std::string, std::string>>;

// The route for `http_method` and `path`, or nullptr; `*path_matched` tells
// whether the path matched some route under another method (405, not 404).
const Route* MatchRoute(absl::string_view http_method, absl::string_view path,
                        PathParameters* parameters, bool* path_matched);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_ROUTES_H_
