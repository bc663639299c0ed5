#include "tools/mbctl/arguments.h"

#include "gtest/gtest.h"

namespace mileagebank::mbctl {
namespace {

TEST(ParseArgumentsTest, GlobalFlagsMayAppearAnywhere) {
  absl::StatusOr<Invocation> invocation = ParseArguments(
      {"--json", "member", "--target=10.0.0.5:7101", "get", "1000000008",
       "--timeout=2.5", "--resolve_merges", "--request={}"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->words,
            (std::vector<std::string>{"member", "get", "1000000008"}));
  EXPECT_TRUE(invocation->json);
  EXPECT_EQ(invocation->target, "10.0.0.5:7101");
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
  EXPECT_EQ(invocation->timeout, absl::Seconds(10));
  EXPECT_FALSE(invocation->target.has_value());
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
                                             {"--json=maybe"},
                                             {"--request"},
                                             {"-x"},
                                             {"--=1"}}) {
    absl::StatusOr<Invocation> invocation = ParseArguments(args);
    EXPECT_TRUE(absl::IsInvalidArgument(invocation.status())) << args[0];
  }
}

}  // namespace
}  // namespace mileagebank::mbctl
