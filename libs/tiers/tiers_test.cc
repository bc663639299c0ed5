#include "libs/tiers/tiers.h"

#include "gtest/gtest.h"

namespace mileagebank::tiers {
namespace {

using membership::v1::BLUE;
using membership::v1::GOLD;
using membership::v1::PLATINUM;
using membership::v1::SILVER;

TEST(TiersTest, EachThresholdByMilesOrSegments) {
  TierThresholds t;
  struct Case {
    int64_t miles, segments;
    membership::v1::Tier tier;
  };
  for (const Case& c : {Case{0, 0, BLUE}, Case{24'999, 29, BLUE},
                        Case{25'000, 0, SILVER}, Case{0, 30, SILVER},
                        Case{49'999, 59, SILVER}, Case{50'000, 0, GOLD},
                        Case{0, 60, GOLD}, Case{99'999, 99, GOLD},
                        Case{100'000, 0, PLATINUM}, Case{0, 100, PLATINUM}}) {
    EXPECT_EQ(EarnedTier({c.miles, c.segments}, t), c.tier)
        << c.miles << " QM " << c.segments << " QS";
  }
}

TEST(TiersTest, TierHoldsThroughTheFollowingYear) {
  TierThresholds t;
  // Earned GOLD last year, nothing yet this year: still GOLD.
  EXPECT_EQ(TierOn({0, 0}, {50'000, 0}, t), GOLD);
  // Silver this year does not take GOLD away.
  EXPECT_EQ(TierOn({25'000, 0}, {50'000, 0}, t), GOLD);
  // Platinum this year lifts it at once.
  EXPECT_EQ(TierOn({100'000, 0}, {50'000, 0}, t), PLATINUM);
}

TEST(TiersTest, ProgressNamesTheNextTierAndWhatItNeeds) {
  TierThresholds t;
  membership::v1::GetTierResponse r = DescribeTier({30'000, 12}, {0, 0}, t);
  EXPECT_EQ(r.tier(), SILVER);
  EXPECT_EQ(r.next_tier(), GOLD);
  EXPECT_EQ(r.miles_to_next_tier(), 20'000);
  EXPECT_EQ(r.segments_to_next_tier(), 48);
}

TEST(TiersTest, ProgressCountsThisYearEvenWhenLastYearHoldsTheTier) {
  TierThresholds t;
  membership::v1::GetTierResponse r = DescribeTier({10'000, 70}, {60'000, 0}, t);
  EXPECT_EQ(r.tier(), GOLD);
  EXPECT_EQ(r.next_tier(), PLATINUM);
  EXPECT_EQ(r.miles_to_next_tier(), 90'000);
  EXPECT_EQ(r.segments_to_next_tier(), 30);
}

TEST(TiersTest, NothingBeyondPlatinum) {
  membership::v1::GetTierResponse r = DescribeTier({150'000, 0}, {0, 0}, TierThresholds());
  EXPECT_EQ(r.tier(), PLATINUM);
  EXPECT_EQ(r.next_tier(), membership::v1::TIER_UNSPECIFIED);
  EXPECT_EQ(r.miles_to_next_tier(), 0);
}

TEST(TiersTest, ConfigOverridesAndMustAscend) {
  config::v1::TierConfig config;
  config.mutable_gold()->set_qualifying_miles(60'000);
  auto thresholds = TierThresholds::FromConfig(config);
  ASSERT_TRUE(thresholds.ok());
  EXPECT_EQ(thresholds->gold.miles, 60'000);
  EXPECT_EQ(thresholds->gold.segments, 60);
  config.mutable_silver()->set_qualifying_miles(70'000);
  EXPECT_EQ(TierThresholds::FromConfig(config).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mileagebank::tiers
