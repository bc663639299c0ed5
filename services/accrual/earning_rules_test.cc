#include "services/accrual/earning_rules.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank::accrual {
namespace {

using membership::v1::BLUE;
using membership::v1::GOLD;
using membership::v1::PLATINUM;
using membership::v1::SILVER;
using membership::v1::Tier;
using membership::v1::TIER_UNSPECIFIED;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// The field names of the violations `status` carries.
std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  auto details = GetErrorDetails(status);
  if (!details.has_value()) return fields;
  for (const auto& violation : details->field_violations()) {
    fields.push_back(violation.field());
  }
  return fields;
}

TEST(EarningTableTest, ProductDefaultRates) {
  const EarningTable table = EarningTable::ProductDefault(500);
  EXPECT_EQ(table.minimum_miles(), 500);
  const struct {
    const char* classes;
    int rate;
  } kRates[] = {{"F", 200},  {"AJC", 150}, {"DI", 125},
                {"W", 110},  {"YBM", 100}, {"HKL", 75},
                {"QVT", 50}, {"NS", 25},   {"GXZ", 0}};
  std::string sold;
  for (const auto& rate : kRates) {
    for (const char* c = rate.classes; *c != '\0'; ++c) {
      EXPECT_EQ(table.RatePercent(*c), rate.rate) << *c;
      sold.push_back(*c);
    }
  }
  for (char c = 'A'; c <= 'Z'; ++c) {
    if (sold.find(c) == std::string::npos) {
      EXPECT_EQ(table.RatePercent(c), absl::nullopt) << c;  // E O P R U
    }
  }
  EXPECT_EQ(sold.size(), 21u);
  EXPECT_EQ(table.RatePercent('y'), absl::nullopt);
  EXPECT_EQ(table.RatePercent('1'), absl::nullopt);
  EXPECT_EQ(table.RatePercent('\0'), absl::nullopt);
  EXPECT_EQ(EarningTable::ProductDefault(0).minimum_miles(), 0);
}

struct FlightCase {
  int64_t distance;
  const char* booking_class;
  int rate;
  int64_t base;
  bool minimum_applied;
  int32_t qualifying_segments;
};

TEST(ComputeFlightEarningTest, OwnFlightsClassByClass) {
  const EarningTable table = EarningTable::ProductDefault(500);
  const FlightCase kCases[] = {
      // distance, class, rate, base, minimum applied, QS
      {1000, "F", 200, 2000, false, 1},
      {200, "F", 200, 500, true, 1},   // 400 raised to 500
      {250, "F", 200, 500, false, 1},  // exactly 500: not raised
      {1000, "J", 150, 1500, false, 1},
      {333, "C", 150, 500, true, 1},  // floor(499.5) = 499 -> 500
      {400, "A", 150, 600, false, 1},
      {1001, "D", 125, 1251, false, 1},  // floor(1251.25)
      {1001, "I", 125, 1251, false, 1},
      {999, "W", 110, 1098, false, 1},  // floor(1098.9)
      {300, "Y", 100, 500, true, 1},
      {499, "B", 100, 500, true, 1},
      {500, "M", 100, 500, false, 1},
      {501, "Y", 100, 501, false, 1},
      {0, "Y", 100, 500, true, 1},
      {300, "H", 75, 225, false, 1},   // rate < 100: no minimum
      {1001, "K", 75, 750, false, 1},  // floor(750.75)
      {5000, "L", 75, 3750, false, 1},
      {300, "Q", 50, 150, false, 1},
      {1001, "V", 50, 500, false, 1},  // floor(500.5)
      {6235, "T", 50, 3117, false, 1},
      {300, "N", 25, 75, false, 1},
      {1003, "S", 25, 250, false, 1},  // floor(250.75)
      {300, "G", 0, 0, false, 0},
      {12437, "X", 0, 0, false, 0},
      {1000, "Z", 0, 0, false, 0},
  };
  for (const FlightCase& c : kCases) {
    SCOPED_TRACE(std::to_string(c.distance) + " " + c.booking_class);
    absl::StatusOr<FlightEarning> earning = ComputeFlightEarning(
        c.distance, c.booking_class, table, BLUE, BonusPercents());
    ASSERT_TRUE(earning.ok()) << earning.status();
    EXPECT_EQ(earning->distance_miles, c.distance);
    EXPECT_EQ(earning->rate_percent, c.rate);
    EXPECT_EQ(earning->base_miles, c.base);
    EXPECT_EQ(earning->minimum_applied, c.minimum_applied);
    EXPECT_EQ(earning->tier, BLUE);
    EXPECT_EQ(earning->bonus_percent, 0);
    EXPECT_EQ(earning->bonus_miles, 0);
    EXPECT_EQ(earning->redeemable_miles, c.base);
    EXPECT_EQ(earning->qualifying_miles, c.base);
    EXPECT_EQ(earning->qualifying_segments, c.qualifying_segments);
  }
}

TEST(ComputeFlightEarningTest, TierBonusOnBaseMiles) {
  const EarningTable table = EarningTable::ProductDefault(500);
  const struct {
    Tier tier;
    int percent;
    int64_t bonus;
  } kCases[] = {{TIER_UNSPECIFIED, 0, 0},
                {BLUE, 0, 0},
                {SILVER, 25, 308},  // floor(308.5)
                {GOLD, 50, 617},
                {PLATINUM, 100, 1234}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(membership::v1::Tier_Name(c.tier));
    absl::StatusOr<FlightEarning> earning =
        ComputeFlightEarning(1234, "Y", table, c.tier, BonusPercents());
    ASSERT_TRUE(earning.ok()) << earning.status();
    EXPECT_EQ(earning->base_miles, 1234);
    EXPECT_EQ(earning->tier, c.tier);
    EXPECT_EQ(earning->bonus_percent, c.percent);
    EXPECT_EQ(earning->bonus_miles, c.bonus);
    EXPECT_EQ(earning->redeemable_miles, 1234 + c.bonus);
    // The bonus is not qualifying.
    EXPECT_EQ(earning->qualifying_miles, 1234);
    EXPECT_EQ(earning->qualifying_segments, 1);
  }
}

TEST(ComputeFlightEarningTest, BonusAppliesToTheMinimumAndNotToZero) {
  const EarningTable table = EarningTable::ProductDefault(500);
  absl::StatusOr<FlightEarning> earning =
      ComputeFlightEarning(300, "Y", table, GOLD, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->base_miles, 500);
  EXPECT_TRUE(earning->minimum_applied);
  EXPECT_EQ(earning->bonus_miles, 250);
  EXPECT_EQ(earning->redeemable_miles, 750);
  EXPECT_EQ(earning->qualifying_miles, 500);

  earning = ComputeFlightEarning(3000, "G", table, PLATINUM, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->bonus_percent, 100);
  EXPECT_EQ(earning->bonus_miles, 0);
  EXPECT_EQ(earning->redeemable_miles, 0);
  EXPECT_EQ(earning->qualifying_segments, 0);
}

TEST(ComputeFlightEarningTest, ConfiguredBonusPercents) {
  BonusPercents bonus;
  bonus.silver = 30;
  bonus.gold = 60;
  bonus.platinum = 120;
  EXPECT_EQ(bonus.For(SILVER), 30);
  EXPECT_EQ(bonus.For(GOLD), 60);
  EXPECT_EQ(bonus.For(PLATINUM), 120);
  EXPECT_EQ(bonus.For(BLUE), 0);
  EXPECT_EQ(bonus.For(TIER_UNSPECIFIED), 0);
  EXPECT_EQ(bonus.For(static_cast<Tier>(99)), 0);
  absl::StatusOr<FlightEarning> earning = ComputeFlightEarning(
      1001, "Y", EarningTable::ProductDefault(500), PLATINUM, bonus);
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->bonus_miles, 1201);  // floor(1201.2)

  bonus.gold = -1;
  earning = ComputeFlightEarning(1001, "Y", EarningTable::ProductDefault(500),
                                 GOLD, bonus);
  EXPECT_EQ(earning.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ComputeFlightEarningTest, BadBookingClassIsInvalidArgument) {
  const EarningTable table = EarningTable::ProductDefault(500);
  for (const char* bad : {"E", "O", "P", "R", "U", "y", "f", "YY", "", "1",
                          " Y", "Y ", "\xc3\x9d"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<FlightEarning> earning =
        ComputeFlightEarning(1000, bad, table, GOLD, BonusPercents());
    ASSERT_FALSE(earning.ok());
    EXPECT_EQ(earning.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(earning.status().message(), HasSubstr("flight.booking_class"));
    EXPECT_THAT(ViolatedFields(earning.status()),
                UnorderedElementsAreArray({"flight.booking_class"}));
  }
}

TEST(ComputeFlightEarningTest, DistanceOutOfRangeIsInvalidArgument) {
  const EarningTable table = EarningTable::ProductDefault(500);
  for (int64_t distance : {int64_t{-1}, int64_t{100001}, INT64_MAX}) {
    EXPECT_EQ(ComputeFlightEarning(distance, "Y", table, BLUE, BonusPercents())
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << distance;
  }
  EXPECT_TRUE(
      ComputeFlightEarning(100000, "F", table, PLATINUM, BonusPercents()).ok());
}

config::v1::ClassRate Rate(const std::string& booking_class, int percent) {
  config::v1::ClassRate rate;
  rate.set_booking_class(booking_class);
  rate.set_rate_percent(percent);
  return rate;
}

TEST(EarningTableFromConfigTest, EmptyConfigIsTheProductDefault) {
  config::v1::EarningTableConfig config;
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 500);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->minimum_miles(), 500);
  for (char c = 'A'; c <= 'Z'; ++c) {
    EXPECT_EQ(table->RatePercent(c),
              EarningTable::ProductDefault(500).RatePercent(c))
        << c;
  }

  // A partner: the default table, no minimum by default.
  table = EarningTable::FromConfig(config, 0);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->minimum_miles(), 0);
  EXPECT_EQ(table->RatePercent('F'), 200);
}

TEST(EarningTableFromConfigTest, MinimumSetDefaultedOrNone) {
  config::v1::EarningTableConfig config;
  config.set_minimum_miles(1000);
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 500);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->minimum_miles(), 1000);

  config.Clear();
  config.set_no_minimum(true);
  table = EarningTable::FromConfig(config, 500);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->minimum_miles(), 0);
}

TEST(EarningTableFromConfigTest, PartnerTableWithoutMinimum) {
  config::v1::EarningTableConfig config;
  *config.add_classes() = Rate("J", 125);
  *config.add_classes() = Rate("Y", 100);
  *config.add_classes() = Rate("E", 30);
  *config.add_classes() = Rate("G", 0);
  config.set_no_minimum(true);
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 0);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->minimum_miles(), 0);
  EXPECT_EQ(table->RatePercent('J'), 125);
  EXPECT_EQ(table->RatePercent('E'), 30);
  EXPECT_EQ(table->RatePercent('F'), absl::nullopt);  // not listed

  absl::StatusOr<FlightEarning> earning =
      ComputeFlightEarning(300, "Y", *table, SILVER, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->base_miles, 300);
  EXPECT_FALSE(earning->minimum_applied);
  EXPECT_EQ(earning->bonus_miles, 75);
  EXPECT_EQ(earning->redeemable_miles, 375);
  EXPECT_EQ(earning->qualifying_miles, 300);
  EXPECT_EQ(earning->qualifying_segments, 1);

  earning = ComputeFlightEarning(1000, "E", *table, BLUE, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->base_miles, 300);

  earning = ComputeFlightEarning(1000, "F", *table, BLUE, BonusPercents());
  EXPECT_EQ(earning.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(earning.status().message(), HasSubstr("flight.booking_class"));
}

TEST(EarningTableFromConfigTest, PartnerMinimumAppliesOnlyAtRate100OrMore) {
  config::v1::EarningTableConfig config;
  *config.add_classes() = Rate("Y", 100);
  *config.add_classes() = Rate("V", 99);
  config.set_minimum_miles(250);
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 0);
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<FlightEarning> earning =
      ComputeFlightEarning(100, "Y", *table, BLUE, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->base_miles, 250);
  EXPECT_TRUE(earning->minimum_applied);
  earning = ComputeFlightEarning(100, "V", *table, BLUE, BonusPercents());
  ASSERT_TRUE(earning.ok()) << earning.status();
  EXPECT_EQ(earning->base_miles, 99);
  EXPECT_FALSE(earning->minimum_applied);
}

TEST(EarningTableFromConfigTest, ConfigErrorsNameEveryField) {
  config::v1::EarningTableConfig config;
  *config.add_classes() = Rate("Y", 100);   // 0: fine
  *config.add_classes() = Rate("y", 100);   // 1: lower case
  *config.add_classes() = Rate("YY", 100);  // 2: two letters
  *config.add_classes() = Rate("", 100);    // 3: empty
  *config.add_classes() = Rate("Y", 50);    // 4: listed twice
  *config.add_classes() = Rate("F", 501);   // 5: rate too high
  *config.add_classes() = Rate("N", -1);    // 6: negative rate
  *config.add_classes() = Rate("Z", 500);   // 7: fine
  config.set_minimum_miles(-5);
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 500);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(table.status()),
              UnorderedElementsAreArray(
                  {"classes[1].booking_class", "classes[2].booking_class",
                   "classes[3].booking_class", "classes[4].booking_class",
                   "classes[5].rate_percent", "classes[6].rate_percent",
                   "minimum_miles"}));
  EXPECT_THAT(table.status().message(), HasSubstr("Y is listed twice"));
  EXPECT_THAT(table.status().message(), HasSubstr("must be 0 to 500"));
}

TEST(EarningTableFromConfigTest, MinimumWithNoMinimumOrTooLargeIsRefused) {
  config::v1::EarningTableConfig config;
  config.set_minimum_miles(500);
  config.set_no_minimum(true);
  absl::StatusOr<EarningTable> table = EarningTable::FromConfig(config, 500);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(table.status()),
              UnorderedElementsAreArray({"minimum_miles"}));

  config.Clear();
  config.set_minimum_miles(100001);
  table = EarningTable::FromConfig(config, 500);
  EXPECT_THAT(ViolatedFields(table.status()),
              UnorderedElementsAreArray({"minimum_miles"}));

  config.set_minimum_miles(100000);
  EXPECT_TRUE(EarningTable::FromConfig(config, 500).ok());
  EXPECT_FALSE(
      EarningTable::FromConfig(config::v1::EarningTableConfig(), -1).ok());
}

TEST(EarningTableFromConfigTest, ErrorsMergeUnderTheConfigField) {
  config::v1::EarningTableConfig config;
  *config.add_classes() = Rate("q", 10);
  FieldErrors errors;
  errors.Merge("partners[0].earning",
               EarningTable::FromConfig(config, 0).status());
  EXPECT_THAT(ViolatedFields(errors.ToStatus()),
              UnorderedElementsAreArray(
                  {"partners[0].earning.classes[0].booking_class"}));
}

TEST(LotExpiryTest, LastDayOfThe36thMonthAfter) {
  const struct {
    absl::CivilDay activity, expiry;
  } kCases[] = {
      {absl::CivilDay(2026, 3, 15), absl::CivilDay(2029, 3, 31)},
      {absl::CivilDay(2026, 3, 1), absl::CivilDay(2029, 3, 31)},
      {absl::CivilDay(2026, 3, 31), absl::CivilDay(2029, 3, 31)},
      {absl::CivilDay(2026, 1, 31), absl::CivilDay(2029, 1, 31)},
      {absl::CivilDay(2024, 2, 29), absl::CivilDay(2027, 2, 28)},
      {absl::CivilDay(2025, 2, 28), absl::CivilDay(2028, 2, 29)},  // leap
      {absl::CivilDay(2097, 2, 1), absl::CivilDay(2100, 2, 28)},   // not leap
      {absl::CivilDay(1997, 2, 1), absl::CivilDay(2000, 2, 29)},   // leap
      {absl::CivilDay(2026, 4, 30), absl::CivilDay(2029, 4, 30)},
      {absl::CivilDay(2026, 12, 31), absl::CivilDay(2029, 12, 31)},
      {absl::CivilDay(2026, 11, 1), absl::CivilDay(2029, 11, 30)},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(LotExpiry(c.activity), c.expiry) << c.activity;
  }
}

TEST(LotExpiryTest, OtherLengths) {
  EXPECT_EQ(LotExpiry(absl::CivilDay(2026, 3, 15), 0),
            absl::CivilDay(2026, 3, 31));
  EXPECT_EQ(LotExpiry(absl::CivilDay(2026, 3, 15), 1),
            absl::CivilDay(2026, 4, 30));
  EXPECT_EQ(LotExpiry(absl::CivilDay(2026, 11, 15), 3),
            absl::CivilDay(2027, 2, 28));
  EXPECT_EQ(LotExpiry(absl::CivilDay(2026, 1, 10), 24),
            absl::CivilDay(2028, 1, 31));
}

TEST(RetroClaimWindowStartTest, SameDaySixMonthsBeforeClampedToMonthEnd) {
  const struct {
    absl::CivilDay today, start;
  } kCases[] = {
      {absl::CivilDay(2026, 8, 31), absl::CivilDay(2026, 2, 28)},
      {absl::CivilDay(2028, 8, 31), absl::CivilDay(2028, 2, 29)},  // leap
      {absl::CivilDay(2028, 8, 29), absl::CivilDay(2028, 2, 29)},
      {absl::CivilDay(2026, 8, 30), absl::CivilDay(2026, 2, 28)},
      {absl::CivilDay(2026, 8, 28), absl::CivilDay(2026, 2, 28)},
      {absl::CivilDay(2026, 8, 27), absl::CivilDay(2026, 2, 27)},
      {absl::CivilDay(2026, 3, 15), absl::CivilDay(2025, 9, 15)},
      {absl::CivilDay(2026, 3, 31), absl::CivilDay(2025, 9, 30)},
      {absl::CivilDay(2026, 1, 1), absl::CivilDay(2025, 7, 1)},
      {absl::CivilDay(2026, 12, 31), absl::CivilDay(2026, 6, 30)},
      {absl::CivilDay(2026, 7, 31), absl::CivilDay(2026, 1, 31)},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(RetroClaimWindowStart(c.today), c.start) << c.today;
  }
  EXPECT_EQ(RetroClaimWindowStart(absl::CivilDay(2026, 5, 31), 3),
            absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(RetroClaimWindowStart(absl::CivilDay(2026, 5, 31), 0),
            absl::CivilDay(2026, 5, 31));
}

}  // namespace
}  // namespace mileagebank::accrual
