#include "tools/mbctl/arguments.h"

#include "gtest/gtest.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {
namespace {

TEST(ParseArgumentsTest, GlobalFlagsMayAppearAnywhere) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"--json", "member", "--target=10.0.0.5:7101", "get", "1000000008",
       "--timeout=2.5", "--resolve_merges", "--request={}",
       "--gateway=10.0.0.5:7100", "--api-key=mbk_0123456789ab_secret"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->words,
            (std::vector<std::string>{"member", "get", "1000000008"}));
  EXPECT_TRUE(invocation->json);
  EXPECT_EQ(invocation->target, "10.0.0.5:7101");
  EXPECT_EQ(invocation->gateway, "10.0.0.5:7100");
  EXPECT_EQ(invocation->api_key, "mbk_0123456789ab_secret");
  EXPECT_EQ(invocation->timeout, absl::Milliseconds(2500));
  EXPECT_EQ(invocation->request_json, "{}");
  ASSERT_EQ(invocation->field_flags.size(), 1u);
  EXPECT_EQ(invocation->field_flags[0].name, "resolve_merges");
  EXPECT_FALSE(invocation->field_flags[0].value.has_value());
  EXPECT_FALSE(invocation->help);
}

TEST(ParseArgumentsTest, DefaultsAndRequestFlagsInOrder) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"member", "enrol", "--family=Wang", "--profile.address.lines=a=b",
       "--profile.address.lines="});
  ASSERT_TRUE(invocation.ok());
  EXPECT_FALSE(invocation->timeout.has_value());
  EXPECT_FALSE(invocation->target.has_value());
  EXPECT_FALSE(invocation->gateway.has_value());
  EXPECT_FALSE(invocation->api_key.has_value());
  EXPECT_FALSE(invocation->json);
  ASSERT_EQ(invocation->field_flags.size(), 3u);
  EXPECT_EQ(invocation->field_flags[0].value, "Wang");
  EXPECT_EQ(invocation->field_flags[1].value, "a=b");
  EXPECT_EQ(invocation->field_flags[2].value, "");
}

TEST(ParseArgumentsTest, HelpFlags) {
  EXPECT_TRUE(ParseArguments({"member", "enrol", "--help"})->help);
  EXPECT_TRUE(ParseArguments({"-h", "member"})->help);
}

TEST(ParseArgumentsTest, DoubleDashEndsFlags) {
  absl::StatusOr<Invocation> invocation =
      ParseArguments({"member", "verify-password", "--", "-1", "--json"});
  ASSERT_TRUE(invocation.ok());
  EXPECT_EQ(
      invocation->words,
      (std::vector<std::string>{"member", "verify-password", "-1", "--json"}));
  EXPECT_FALSE(invocation->json);
}

TEST(ParseArgumentsTest, NegativeNumbersAreWords) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"accrual", "adjust", "1000000008", "-500", "--reason=GOODWILL", "-1.5"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->words,
            (std::vector<std::string>{"accrual", "adjust", "1000000008", "-500",
                                      "-1.5"}));
  ASSERT_EQ(invocation->field_flags.size(), 1u);
  EXPECT_EQ(invocation->field_flags[0].name, "reason");
}

TEST(ParseArgumentsTest, BadGlobalValuesAreRefused) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--timeout=soon"},
                                             {"--timeout=0"},
                                             {"--timeout=-1"},
                                             {"--timeout"},
                                             {"--target="},
                                             {"--gateway"},
                                             {"--api-key="},
                                             {"--json=maybe"},
                                             {"--request"},
                                             {"-x"},
                                             {"--=1"}}) {
    absl::StatusOr<Invocation> invocation = ParseArguments(args);
    EXPECT_TRUE(absl::IsInvalidArgument(invocation.status())) << args[0];
  }
}

TEST(TakeCommandOptionsTest, WaitIsAnOptionOfAnUploadThatWaits) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"file", "upload", "CA", "CA_000042.acc.csv", "--wait", "--name=x"});
  ASSERT_TRUE(invocation.ok());
  ASSERT_TRUE(
      TakeCommandOptions(*FindCommand("file", "upload"), &*invocation).ok());
  EXPECT_TRUE(invocation->wait);
  ASSERT_EQ(invocation->field_flags.size(), 1u);
  EXPECT_EQ(invocation->field_flags[0].name, "name");

  invocation = ParseArguments({"file", "upload", "--wait=false"});
  ASSERT_TRUE(
      TakeCommandOptions(*FindCommand("file", "upload"), &*invocation).ok());
  EXPECT_FALSE(invocation->wait);
  EXPECT_TRUE(invocation->field_flags.empty());
}

TEST(TakeCommandOptionsTest, OutIsAnOptionOfADownload) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"file", "download", "CA", "CA_000042.ack.csv", "--out=/tmp/a b.csv"});
  ASSERT_TRUE(invocation.ok());
  ASSERT_TRUE(
      TakeCommandOptions(*FindCommand("file", "download"), &*invocation).ok());
  EXPECT_EQ(invocation->out, "/tmp/a b.csv");
  EXPECT_TRUE(invocation->field_flags.empty());
}

TEST(TakeCommandOptionsTest, OtherCommandsKeepTheFlagsForTheirRequest) {
  // --out of `award quote` is a flight, and `file show` does not wait.
  absl::StatusOr<Invocation> quote =
      ParseArguments({"award", "quote", "--out=FM1501/2026-12-01/PEK-PVG"});
  ASSERT_TRUE(TakeCommandOptions(*FindCommand("award", "quote"), &*quote).ok());
  EXPECT_FALSE(quote->out.has_value());
  ASSERT_EQ(quote->field_flags.size(), 1u);
  EXPECT_EQ(quote->field_flags[0].name, "out");

  absl::StatusOr<Invocation> show = ParseArguments({"file", "show", "--wait"});
  ASSERT_TRUE(TakeCommandOptions(*FindCommand("file", "show"), &*show).ok());
  EXPECT_FALSE(show->wait);
  EXPECT_EQ(show->field_flags.size(), 1u);
}

TEST(TakeCommandOptionsTest, BadValuesAreRefusedNamingTheFlag) {
  absl::StatusOr<Invocation> wait =
      ParseArguments({"file", "upload", "--wait=soon"});
  absl::Status status =
      TakeCommandOptions(*FindCommand("file", "upload"), &*wait);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(status.message(), "--wait=soon: must be true or false");

  for (const char* out : {"--out", "--out="}) {
    absl::StatusOr<Invocation> download =
        ParseArguments({"file", "download", out});
    status = TakeCommandOptions(*FindCommand("file", "download"), &*download);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << out;
    EXPECT_EQ(status.message(), "--out needs a value: --out=PATH") << out;
  }
}

}  // namespace
}  // namespace mileagebank::mbctl
