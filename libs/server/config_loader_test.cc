#include "libs/server/config_loader.h"

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"
#include "mileagebank/config/v1/membership.pb.h"

namespace mileagebank::server {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

absl::Status Load(std::vector<std::string> args,
                  config::v1::MembershipConfig* config) {
  std::vector<const char*> argv = {"membership"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return LoadConfig(argv.size(), argv.data(), config);
}

TEST(ConfigLoaderTest, FlagsOverrideTheFile) {
  std::string path = WriteFile("a.textproto", R"(
      server { listen_address: "0.0.0.0:7101" data_dir: "/srv/a" }
      password_max_attempts: 5)");
  config::v1::MembershipConfig config;
  ASSERT_TRUE(Load({"--server.data_dir=/srv/b", "--config=" + path,
                    "--tiers.gold.qualifying_miles=60000"},
                   &config)
                  .ok());
  EXPECT_EQ(config.server().listen_address(), "0.0.0.0:7101");
  EXPECT_EQ(config.server().data_dir(), "/srv/b");
  EXPECT_EQ(config.tiers().gold().qualifying_miles(), 60000);
  EXPECT_EQ(config.password_max_attempts(), 5);
}

TEST(ConfigLoaderTest, UnknownFlagIsNamed) {
  config::v1::MembershipConfig config;
  absl::Status status = Load({"--server.colour=blue"}, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--server.colour"), absl::string_view::npos);
}

TEST(ConfigLoaderTest, BadNumberIsNamed) {
  config::v1::MembershipConfig config;
  absl::Status status = Load({"--max_nominees=five"}, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "--max_nominees=five: must be a 32-bit integer");
}

TEST(ConfigLoaderTest, FileSyntaxErrorGivesLine) {
  std::string path = WriteFile("bad.textproto", "server {\n  data_dir: \n}\n");
  config::v1::MembershipConfig config;
  absl::Status status = Load({"--config=" + path}, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("line 3"), absl::string_view::npos)
      << status.message();
}

TEST(ConfigLoaderTest, MissingFileAndBareArgumentsAreErrors) {
  config::v1::MembershipConfig config;
  EXPECT_FALSE(Load({"--config=/nonexistent/x"}, &config).ok());
  EXPECT_FALSE(Load({"data_dir"}, &config).ok());
}

TEST(ConfigLoaderTest, HelpListsNestedFields) {
  std::string help =
      DescribeFlags(config::v1::MembershipConfig::descriptor());
  EXPECT_NE(help.find("--server.listen_address=<string>"), std::string::npos);
  EXPECT_NE(help.find("--tiers.silver.qualifying_segments=<int32>"),
            std::string::npos);
}

}  // namespace
}  // namespace mileagebank::server
