#include "libs/validation/member_number.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank {
namespace validation {
namespace {

// The Luhn test of a whole number (check digit included), written from the
// definition independently of LuhnCheckDigit: from the right, every second
// digit is doubled (9 subtracted when over 9), and the sum is a multiple of 10.
bool PassesLuhn(const std::string& number) {
  int sum = 0;
  for (size_t i = 0; i < number.size(); ++i) {
    int digit = number[number.size() - 1 - i] - '0';
    if (i % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 == 0;
}

TEST(LuhnCheckDigitTest, ClassicExampleIsThree) {
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
}

TEST(LuhnCheckDigitTest, MatchesTheDefinitionForManySerials) {
  for (int64_t serial = 100000000; serial < 100002000; ++serial) {
    const std::string payload = std::to_string(serial);
    int passing = 0;
    for (char check = '0'; check <= '9'; ++check) {
      if (PassesLuhn(payload + check)) {
        ++passing;
        EXPECT_EQ(LuhnCheckDigit(payload), check) << payload;
      }
    }
    EXPECT_EQ(passing, 1) << payload;
  }
}

TEST(MemberNumberFromSerialTest, AppendsCheckDigit) {
  // 1+0+...+0 with the first doubled: 2, so the check is 8.
  EXPECT_EQ(MemberNumberFromSerial(100000000), "1000000008");
  // Both 1s doubled: 4, so the check is 6.
  EXPECT_EQ(MemberNumberFromSerial(100000001), "1000000016");
  // Five doubled 9s give 9 each, four plain 9s: 81, so the check is 9.
  EXPECT_EQ(MemberNumberFromSerial(999999999), "9999999999");
  EXPECT_EQ(MemberNumberFromSerial(123456789), "1234567897");
}

TEST(MemberNumberFromSerialTest, OutOfRangeSerialAborts) {
  EXPECT_DEATH(MemberNumberFromSerial(99999999), "out of range");
  EXPECT_DEATH(MemberNumberFromSerial(1000000000), "out of range");
}

TEST(ValidateMemberNumberTest, AcceptsGeneratedNumbers) {
  for (int64_t serial :
       {kMinMemberSerial, int64_t{123456789}, kMaxMemberSerial}) {
    EXPECT_TRUE(
        ValidateMemberNumber("member_number", MemberNumberFromSerial(serial))
            .ok());
  }
}

TEST(ValidateMemberNumberTest, WrongLengthOrNonDigitNamesFieldAndRule) {
  for (const char* bad : {"", "100000001", "10000000166", "100000001a",
                          " 100000001", "１000000016"}) {
    absl::Status status = ValidateMemberNumber("member_number", bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.message(), "member_number: must be 10 digits") << bad;
    EXPECT_EQ(GetErrorDetails(status)->field_violations(0).field(),
              "member_number");
  }
}

TEST(ValidateMemberNumberTest, LeadingZeroIsRefused) {
  // Passes the Luhn test, but serials start at 100000000.
  ASSERT_TRUE(PassesLuhn("0000000000"));
  EXPECT_EQ(ValidateMemberNumber("source", "0000000000").message(),
            "source: must not start with 0");
}

TEST(ValidateMemberNumberTest, EverySingleDigitTypoIsAWrongCheckDigit) {
  const std::string good = MemberNumberFromSerial(314159265);
  for (size_t i = 0; i < good.size(); ++i) {
    // A 0 typed first is refused as a leading zero instead.
    for (char typo = i == 0 ? '1' : '0'; typo <= '9'; ++typo) {
      if (typo == good[i]) continue;
      std::string bad = good;
      bad[i] = typo;
      absl::Status status = ValidateMemberNumber("member_number", bad);
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(status.message().find("check digit"), absl::string_view::npos)
          << bad;
    }
  }
}

}  // namespace
}  // namespace validation
}  // namespace mileagebank
