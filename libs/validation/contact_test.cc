#include "libs/validation/contact.h"

#include <string>

#include "gtest/gtest.h"

namespace mileagebank {
namespace validation {
namespace {

TEST(IsCountryCodeTest, AcceptsExactlyTheAssignedCodes) {
  int assigned = 0;
  for (char first = 'A'; first <= 'Z'; ++first) {
    for (char second = 'A'; second <= 'Z'; ++second) {
      if (IsCountryCode(std::string{first, second})) ++assigned;
    }
  }
  EXPECT_EQ(assigned, 249);
  for (const char* code : {"AD", "CN", "GB", "HK", "MO", "TW", "US", "ZW", "SS",
                           "BQ", "CW", "SX", "AQ", "UM"}) {
    EXPECT_TRUE(IsCountryCode(code)) << code;
  }
}

TEST(IsCountryCodeTest, RefusesReservedLowerCaseAndOtherShapes) {
  for (const char* code : {"UK", "EU", "XK", "AN", "YU", "ZZ", "cn", "Cn", "",
                           "C", "CHN", " CN", "C1"}) {
    EXPECT_FALSE(IsCountryCode(code)) << code;
  }
}

TEST(IsE164Test, AcceptsPlusAndSevenToFifteenDigits) {
  EXPECT_TRUE(IsE164("+8613800138000"));
  EXPECT_TRUE(IsE164("+1234567"));
  EXPECT_TRUE(IsE164("+123456789012345"));
}

TEST(IsE164Test, RefusesEverythingElse) {
  for (const char* phone :
       {"", "+", "+123456", "+1234567890123456", "8613800138000",
        "+0613800138000", "++8613800138000", "+86 138 0013 8000",
        "+86-13800138000", "+8613800l38000", "0086138001380"}) {
    EXPECT_FALSE(IsE164(phone)) << phone;
  }
}

TEST(IsEmailTest, AcceptsOrdinaryAddresses) {
  for (const char* email :
       {"li.wei@example.com", "a@b.cn", "first+tag@mail.example.co.uk",
        "o'brien@x-y.example", "UPPER@EXAMPLE.COM", "1@2.3",
        "!#$%&*/=?^_`{|}~@example.com"}) {
    EXPECT_TRUE(IsEmail(email)) << email;
  }
}

TEST(IsEmailTest, RefusesMalformedAddresses) {
  for (const char* email :
       {"", "plain", "@example.com", "a@", "a@example", "a@@example.com",
        "a@b@example.com", "a b@example.com", "a@exa mple.com",
        "a@-example.com", "a@example-.com", "a@.example.com", "a@example..com",
        "a@example.com.", "a@exa_mple.com", "\x01@example.com",
        "li\xc3\xa9@example.com", "a@ex\xc3\xa9.com"}) {
    EXPECT_FALSE(IsEmail(email)) << email;
  }
}

TEST(IsEmailTest, AllowsAtMost254Characters) {
  // 64 + "@" + 63 + "." + 63 + "." + 61 = 254.
  const std::string at_limit =
      std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
      std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(at_limit.size(), 254u);
  EXPECT_TRUE(IsEmail(at_limit));
  EXPECT_FALSE(IsEmail(at_limit + "d"));
}

TEST(FoldNameTest, IgnoresCaseSpacesAndHyphens) {
  EXPECT_EQ(FoldName("Van der Berg"), "VANDERBERG");
  EXPECT_EQ(FoldName("van-der-berg"), FoldName("VAN DER BERG"));
  EXPECT_EQ(FoldName("  ou-yang "), "OUYANG");
}

TEST(FoldNameTest, KeepsApostrophesAndOtherCharacters) {
  EXPECT_EQ(FoldName("O'Brien"), "O'BRIEN");
  EXPECT_NE(FoldName("O'Brien"), FoldName("OBrien"));
  EXPECT_EQ(FoldName("M\xc3\xbcller"), "M\xc3\xbcLLER");
}

}  // namespace
}  // namespace validation
}  // namespace mileagebank
