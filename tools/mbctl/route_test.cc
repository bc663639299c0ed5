#include "tools/mbctl/route.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {
namespace {

const Service& Membership() {
  return ServiceOf(*FindCommand("member", "get"));
}

class ChooseRouteTest : public ::testing::Test {
 protected:
  // Each test sets the variables it needs; none leaks from the caller.
  void SetUp() override {
    for (const Service& service : Services()) {
      unsetenv(service.target_env.c_str());
    }
    unsetenv(kApiKeyEnv);
    unsetenv(kApiKeyFileEnv);
    dir_ = testing::FreshTestDir();
    std::filesystem::create_directories(dir_);
  }

  std::string dir_;
};

TEST_F(ChooseRouteTest, GoesToTheDefaultGatewayWithoutAKey) {
  absl::StatusOr<Route> route =
      ChooseRoute(Membership(), std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "127.0.0.1:7100");
  EXPECT_TRUE(route->gateway);
  EXPECT_EQ(route->api_key, "");
}

TEST_F(ChooseRouteTest, FlagBeatsVariableForGatewayAndKey) {
  setenv("MBCTL_GATEWAY", "10.0.0.1:7100", 1);
  setenv(kApiKeyEnv, "mbk_from_env", 1);
  absl::StatusOr<Route> route =
      ChooseRoute(Membership(), std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "10.0.0.1:7100");
  EXPECT_EQ(route->api_key, "mbk_from_env");

  route = ChooseRoute(Membership(), std::nullopt, "10.0.0.2:7100",
                      "mbk_from_flag");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "10.0.0.2:7100");
  EXPECT_EQ(route->api_key, "mbk_from_flag");
}

TEST_F(ChooseRouteTest, KeyFileIsReadWhenNoKeyIsGiven) {
  const std::string path = dir_ + "/admin.key";
  std::ofstream(path) << "mbk_0123456789ab_secret\r\n";
  setenv(kApiKeyFileEnv, path.c_str(), 1);
  absl::StatusOr<Route> route =
      ChooseRoute(Membership(), std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->api_key, "mbk_0123456789ab_secret");

  setenv(kApiKeyEnv, "mbk_from_env", 1);
  route = ChooseRoute(Membership(), std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->api_key, "mbk_from_env");
}

TEST_F(ChooseRouteTest, UnreadableKeyFileIsAnErrorOnlyOnTheWayToTheGateway) {
  setenv(kApiKeyFileEnv, (dir_ + "/missing.key").c_str(), 1);
  absl::StatusOr<Route> route =
      ChooseRoute(Membership(), std::nullopt, std::nullopt, std::nullopt);
  EXPECT_TRUE(absl::IsInvalidArgument(route.status())) << route.status();
  EXPECT_NE(route.status().message().find("MBCTL_API_KEY_FILE"),
            std::string::npos);
  EXPECT_TRUE(
      ChooseRoute(Membership(), "127.0.0.1:7101", std::nullopt, std::nullopt)
          .ok());
}

TEST_F(ChooseRouteTest, TargetOrServiceVariableGoesDirectlyWithNoKey) {
  setenv("MBCTL_MEMBERSHIP_TARGET", "10.0.0.3:7101", 1);
  absl::StatusOr<Route> route =
      ChooseRoute(Membership(), std::nullopt, "10.0.0.2:7100", "mbk_key");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "10.0.0.3:7101");
  EXPECT_FALSE(route->gateway);
  EXPECT_EQ(route->api_key, "");

  route = ChooseRoute(Membership(), "10.0.0.4:7101", std::nullopt, "mbk_key");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "10.0.0.4:7101");
  EXPECT_FALSE(route->gateway);
}

TEST_F(ChooseRouteTest, GatewaysOwnCommandsAlwaysCarryTheKey) {
  const Service& gateway = ServiceOf(*FindCommand("key", "list"));
  EXPECT_EQ(&gateway, &GatewayService());
  absl::StatusOr<Route> route =
      ChooseRoute(gateway, "10.0.0.5:7100", std::nullopt, "mbk_key");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->target, "10.0.0.5:7100");
  EXPECT_TRUE(route->gateway);
  EXPECT_EQ(route->api_key, "mbk_key");
}

}  // namespace
}  // namespace mileagebank::mbctl
