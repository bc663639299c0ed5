#include "libs/log/log.h"

#include "gtest/gtest.h"

namespace mileagebank::log {
namespace {

TEST(LogValueTest, QuotesAndEscapesText) {
  EXPECT_EQ(Value("plain").json(), "\"plain\"");
  EXPECT_EQ(Value("a\"b\\c\nd\x01").json(), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(LogValueTest, NumbersAndFlagsAreBare) {
  EXPECT_EQ(Value(int64_t{-42}).json(), "-42");
  EXPECT_EQ(Value(true).json(), "true");
  EXPECT_EQ(Value(0.25).json(), "0.25");
}

TEST(LogLevelTest, ParsesKnownNamesOnly) {
  Level level;
  EXPECT_TRUE(ParseLevel("warning", &level));
  EXPECT_EQ(level, Level::kWarning);
  EXPECT_FALSE(ParseLevel("loud", &level));
}

TEST(LogWriteTest, WritesOneJsonLinePerEvent) {
  SetService("test");
  testing::internal::CaptureStderr();
  Info("thing_happened", {{"member_number", "1000000018"}, {"miles", 500}});
  Debug("dropped_below_min_level");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("\"service\":\"test\",\"event\":\"thing_happened\","
                     "\"member_number\":\"1000000018\",\"miles\":500}\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("dropped"), std::string::npos);
}

}  // namespace
}  // namespace mileagebank::log
