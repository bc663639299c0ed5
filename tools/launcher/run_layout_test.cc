#include "tools/launcher/run_layout.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "libs/crypto/password.h"
#include "libs/testing/testing.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "mileagebank/config/v1/membership.pb.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/config/v1/settlement.pb.h"

namespace mileagebank::launcher {
namespace {

constexpr char kAdminKey[] =
    "mbk_0123456789ab_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";

LauncherOptions Options(int shards, const std::string& data_dir = "/data") {
  LauncherOptions options;
  options.set_data_dir(data_dir);
  options.set_config_dir(
      absl::StrCat(std::getenv("TEST_SRCDIR"), "/mileagebank/deploy/local"));
  options.set_bin_dir("/bin");
  options.set_shards(shards);
  EXPECT_TRUE(ApplyDefaults(&options).ok());
  return options;
}

std::string ReadBase(const LauncherOptions& options, const Process& process) {
  std::ifstream file(BaseConfigPath(options, process));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The run configuration of `process`, parsed back as `Config`.
template <typename Config>
Config RunConfigOf(const Process& process, const std::vector<Process>& plan,
                   const LauncherOptions& options) {
  absl::StatusOr<std::string> text =
      RunConfig(process, plan, options, ReadBase(options, process), kAdminKey);
  EXPECT_TRUE(text.ok()) << text.status();
  Config config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(*text, &config))
      << *text;
  return config;
}

const Process& Named(const std::vector<Process>& plan,
                     const std::string& name) {
  for (const Process& process : plan) {
    if (process.name == name) return process;
  }
  ADD_FAILURE() << "no process " << name;
  return plan.front();
}

TEST(RunLayoutTest, OneShardRunsEachServiceOnceInDependencyOrder) {
  const std::vector<Process> plan = PlanProcesses(Options(1));
  std::vector<std::string> names;
  for (const Process& process : plan) names.push_back(process.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"membership", "settlement", "accrual",
                                      "redemption", "reporting", "gateway"}));
  EXPECT_EQ(Named(plan, "membership").grpc_address(), "127.0.0.1:7101");
  EXPECT_EQ(Named(plan, "reporting").metrics_address(), "127.0.0.1:9105");
  EXPECT_EQ(Named(plan, "gateway").grpc_address(), "127.0.0.1:7100");
}

TEST(RunLayoutTest, ShardsOfMemberKeyedServicesAreTenPortsApart) {
  const std::vector<Process> plan = PlanProcesses(Options(3));
  ASSERT_EQ(plan.size(), 12u);
  const Process& shard = Named(plan, "redemption-2");
  EXPECT_EQ(shard.grpc_port, 7123);
  EXPECT_EQ(shard.metrics_port, 9123);
  EXPECT_EQ(shard.shard_index, 2);
  EXPECT_EQ(shard.shard_count, 3);
  EXPECT_EQ(Named(plan, "membership-1").stage,
            Named(plan, "membership-0").stage);
  EXPECT_EQ(Named(plan, "settlement").shard_count, 1);
  EXPECT_EQ(TargetsOf("accrual", plan),
            "127.0.0.1:7102,127.0.0.1:7112,127.0.0.1:7122");
  EXPECT_EQ(TargetsOf("settlement", plan), "127.0.0.1:7104");
}

TEST(RunLayoutTest, EveryTargetListsTheShardsOfItsService) {
  const LauncherOptions options = Options(3);
  const std::vector<Process> plan = PlanProcesses(options);
  const std::string membership = TargetsOf("membership", plan);
  const std::string accrual = TargetsOf("accrual", plan);
  const std::string redemption = TargetsOf("redemption", plan);

  auto gateway = RunConfigOf<config::v1::GatewayConfig>(Named(plan, "gateway"),
                                                        plan, options);
  EXPECT_EQ(gateway.membership_target(), membership);
  EXPECT_EQ(gateway.accrual_target(), accrual);
  EXPECT_EQ(gateway.redemption_target(), redemption);
  EXPECT_EQ(gateway.settlement_target(), "127.0.0.1:7104");
  EXPECT_EQ(gateway.reporting_target(), "127.0.0.1:7105");
  auto settlement = RunConfigOf<config::v1::SettlementConfig>(
      Named(plan, "settlement"), plan, options);
  EXPECT_EQ(settlement.accrual_target(), accrual);
  EXPECT_EQ(settlement.redemption_target(), redemption);
  auto reporting = RunConfigOf<config::v1::ReportingConfig>(
      Named(plan, "reporting"), plan, options);
  EXPECT_EQ(reporting.membership_target(), membership);
  auto accrual_1 = RunConfigOf<config::v1::AccrualConfig>(
      Named(plan, "accrual-1"), plan, options);
  EXPECT_EQ(accrual_1.membership_target(), membership);
  EXPECT_EQ(accrual_1.server().listen_address(), "127.0.0.1:7112");
  EXPECT_EQ(accrual_1.server().metrics_address(), "127.0.0.1:9112");
  EXPECT_EQ(accrual_1.server().shard_index(), 1);
  EXPECT_EQ(accrual_1.server().shard_count(), 3);
  EXPECT_EQ(accrual_1.server().data_dir(), "/data");
  EXPECT_EQ(accrual_1.server().port_file(), "/data/run/accrual-1.ports");
  // The rest of the base configuration is kept.
  EXPECT_EQ(accrual_1.host_carrier(), "FM");
  auto membership_2 = RunConfigOf<config::v1::MembershipConfig>(
      Named(plan, "membership-2"), plan, options);
  EXPECT_EQ(membership_2.accrual_target(), accrual);
  auto redemption_0 = RunConfigOf<config::v1::RedemptionConfig>(
      Named(plan, "redemption-0"), plan, options);
  EXPECT_EQ(redemption_0.accrual_target(), accrual);
  EXPECT_EQ(redemption_0.settlement_target(), "127.0.0.1:7104");
}

TEST(RunLayoutTest, GatewayGetsItsHttpPortPortalAndTheAdminKeyHashOnly) {
  LauncherOptions options = Options(1);
  options.set_http_port(18080);
  options.set_portal_dir("/srv/portal");
  const std::vector<Process> plan = PlanProcesses(options);
  absl::StatusOr<std::string> text =
      RunConfig(Named(plan, "gateway"), plan, options,
                ReadBase(options, Named(plan, "gateway")), kAdminKey);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->find(kAdminKey), std::string::npos);
  config::v1::GatewayConfig gateway;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(*text, &gateway));
  EXPECT_EQ(gateway.http_listen_address(), "127.0.0.1:18080");
  EXPECT_EQ(gateway.portal_dir(), "/srv/portal");
  ASSERT_EQ(gateway.api_keys_size(), 1);
  EXPECT_EQ(gateway.api_keys(0).key().key_id(), "0123456789ab");
  EXPECT_EQ(gateway.api_keys(0).key().roles(0), gateway::v1::ADMIN);
  crypto::Sha256 sha;
  sha.Update(kAdminKey);
  EXPECT_EQ(gateway.api_keys(0).sha256(), sha.HexDigest());
}

TEST(RunLayoutTest, ABaseConfigThatDoesNotParseIsNamed) {
  const LauncherOptions options = Options(1);
  const std::vector<Process> plan = PlanProcesses(options);
  absl::StatusOr<std::string> text =
      RunConfig(plan.front(), plan, options, "no_such_field: 1", kAdminKey);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("membership.textproto"),
            std::string::npos);
}

TEST(RunLayoutTest, MissingAndOutOfRangeSettingsAreNamed) {
  LauncherOptions options;
  options.set_shards(17);
  absl::Status status = ApplyDefaults(&options);
  EXPECT_TRUE(testing::NamesField(status, "data_dir"));
  EXPECT_TRUE(testing::NamesField(status, "config_dir"));
  EXPECT_TRUE(testing::NamesField(status, "bin_dir"));
  EXPECT_TRUE(testing::NamesField(status, "shards"));
}

TEST(RunLayoutTest, AdminKeyIsMadeOnceAndKeptPrivate) {
  const std::string dir = testing::FreshTestDir();
  std::filesystem::create_directories(dir);
  const LauncherOptions options = Options(1, dir);
  absl::StatusOr<std::string> made = EnsureAdminKey(options);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->rfind("mbk_", 0), 0u);
  struct stat info;
  ASSERT_EQ(::stat(AdminKeyPath(options).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  absl::StatusOr<std::string> again = EnsureAdminKey(options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *made);
}

TEST(RunLayoutTest, ADataFolderKeepsItsShardCount) {
  const std::string dir = testing::FreshTestDir();
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(CheckShardCount(Options(3, dir)).ok());
  EXPECT_TRUE(CheckShardCount(Options(3, dir)).ok());
  absl::Status changed = CheckShardCount(Options(1, dir));
  EXPECT_EQ(changed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(changed.message().find("3 shards"), std::string::npos);

  // A folder from before the count was kept holds one shard's stores.
  const std::string old = testing::FreshTestDir("_old");
  std::filesystem::create_directories(old + "/membership");
  EXPECT_EQ(CheckShardCount(Options(3, old)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckShardCount(Options(1, old)).ok());
}

}  // namespace
}  // namespace mileagebank::launcher
