#include "libs/money/per_thousand.h"

#include <cstdint>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mileagebank::money {
namespace {

using ::testing::Optional;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(RoundHalfEvenPerThousandTest, ZeroMilesOrZeroPriceIsZero) {
  EXPECT_EQ(RoundHalfEvenPerThousand(0, 2500), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(123457, 0), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(0, 0), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMax, 0), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMin, 0), 0);
}

TEST(RoundHalfEvenPerThousandTest, ExactValuesAreKept) {
  EXPECT_EQ(RoundHalfEvenPerThousand(1000, 2500), 2500);
  EXPECT_EQ(RoundHalfEvenPerThousand(-1000, 2500), -2500);
  EXPECT_EQ(RoundHalfEvenPerThousand(65000, 1234), 80210);
}

TEST(RoundHalfEvenPerThousandTest, PositiveHalvesGoToTheEvenNeighbour) {
  EXPECT_EQ(RoundHalfEvenPerThousand(1, 500), 0);             // 0.5
  EXPECT_EQ(RoundHalfEvenPerThousand(3, 500), 2);             // 1.5
  EXPECT_EQ(RoundHalfEvenPerThousand(5, 500), 2);             // 2.5
  EXPECT_EQ(RoundHalfEvenPerThousand(7, 500), 4);             // 3.5
  EXPECT_EQ(RoundHalfEvenPerThousand(1, 2500), 2);            // 2.5
  EXPECT_EQ(RoundHalfEvenPerThousand(123457, 2500), 308642);  // 308,642.5
  EXPECT_EQ(RoundHalfEvenPerThousand(5321, 1500), 7982);      // 7,981.5
}

TEST(RoundHalfEvenPerThousandTest, NegativeHalvesAreSymmetric) {
  EXPECT_EQ(RoundHalfEvenPerThousand(-1, 500), 0);    // -0.5
  EXPECT_EQ(RoundHalfEvenPerThousand(-3, 500), -2);   // -1.5
  EXPECT_EQ(RoundHalfEvenPerThousand(-1, 2500), -2);  // -2.5
  EXPECT_EQ(RoundHalfEvenPerThousand(-7, 500), -4);   // -3.5
  EXPECT_EQ(RoundHalfEvenPerThousand(-123457, 2500), -308642);
  EXPECT_EQ(RoundHalfEvenPerThousand(-35001, 1500), -52502);  // -52,501.5
}

TEST(RoundHalfEvenPerThousandTest, NonHalvesGoToTheNearest) {
  EXPECT_EQ(RoundHalfEvenPerThousand(1, 499), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(1, 501), 1);
  EXPECT_EQ(RoundHalfEvenPerThousand(-1, 499), 0);
  EXPECT_EQ(RoundHalfEvenPerThousand(-1, 501), -1);
  EXPECT_EQ(RoundHalfEvenPerThousand(65001, 1234), 80211);  // 80,211.234
  EXPECT_EQ(RoundHalfEvenPerThousand(2, 999), 2);           // 1.998
  EXPECT_EQ(RoundHalfEvenPerThousand(-2, 999), -2);
}

TEST(RoundHalfEvenPerThousandTest, LargeValuesAreExact) {
  // 9,223,372,036,854,775.807 and -...808: products beyond int64.
  EXPECT_EQ(RoundHalfEvenPerThousand(kMax, 1), 9223372036854776);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMin, 1), -9223372036854776);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMax, 1000), kMax);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMin, 1000), kMin);
  // (2^62 - 1) / 2 = 2^61 - 0.5 and (2^62 + 1) / 2 = 2^61 + 0.5: both 2^61.
  const int64_t two_62 = int64_t{1} << 62;
  const int64_t two_61 = int64_t{1} << 61;
  EXPECT_EQ(RoundHalfEvenPerThousand(two_62 - 1, 500), two_61);
  EXPECT_EQ(RoundHalfEvenPerThousand(two_62 + 1, 500), two_61);
  EXPECT_EQ(RoundHalfEvenPerThousand(-(two_62 - 1), 500), -two_61);
  EXPECT_EQ(RoundHalfEvenPerThousand(-(two_62 + 1), 500), -two_61);
  // 2^61 + 1.5 -> 2^61 + 2; a double would have lost the last digits.
  EXPECT_EQ(RoundHalfEvenPerThousand(two_62 + 3, 500), two_61 + 2);
  EXPECT_EQ(RoundHalfEvenPerThousand(-(two_62 + 3), 500), -(two_61 + 2));
  // kMax * kMax / 1000 fits in 128 bits but not in 64.
  EXPECT_EQ(RoundHalfEvenPerThousand(kMax, kMax), kMax);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMin, kMax), kMin);
  EXPECT_EQ(RoundHalfEvenPerThousand(kMin, kMin), kMax);
}

TEST(RoundHalfEvenPerThousandTest, TryReportsResultsBeyondInt64) {
  EXPECT_THAT(TryRoundHalfEvenPerThousand(kMax, 1000), Optional(kMax));
  EXPECT_THAT(TryRoundHalfEvenPerThousand(kMin, 1000), Optional(kMin));
  EXPECT_EQ(TryRoundHalfEvenPerThousand(kMax, 1001), absl::nullopt);
  EXPECT_EQ(TryRoundHalfEvenPerThousand(kMin, 1001), absl::nullopt);
  EXPECT_EQ(TryRoundHalfEvenPerThousand(kMax, kMax), absl::nullopt);
  EXPECT_THAT(TryRoundHalfEvenPerThousand(-5, 500), Optional(int64_t{-2}));
}

}  // namespace
}  // namespace mileagebank::money
