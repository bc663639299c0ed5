// mbctl covers what the gateway serves: every operation of the gateway's
// table (services/gateway/policy.cc) has a command, but the member-session
// operations that only the portal calls. A new operation in the gateway
// fails here until mbctl has a command for it.
#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "services/gateway/policy.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {
namespace {

bool IsMemberSession(const std::string& method) {
  return std::find(std::begin(kMemberSessionMethods),
                   std::end(kMemberSessionMethods),
                   method) != std::end(kMemberSessionMethods);
}

TEST(GatewayCoverageTest, EveryOperationTheGatewayServesHasACommand) {
  int covered = 0;
  for (const gateway::Operation& operation : gateway::Operations()) {
    if (IsMemberSession(operation.method)) continue;
    bool found = false;
    for (const Command& command : Commands()) {
      found |= command.method == operation.method;
    }
    EXPECT_TRUE(found) << operation.method << " has no mbctl command";
    ++covered;
  }
  EXPECT_GT(covered, 0);
}

// The exclusion names operations the gateway does serve, so that it cannot
// hide a renamed one.
TEST(GatewayCoverageTest, MemberSessionOperationsAreTheGateways) {
  for (absl::string_view method : kMemberSessionMethods) {
    EXPECT_NE(gateway::FindOperation(method), nullptr) << method;
  }
}

}  // namespace
}  // namespace mileagebank::mbctl
