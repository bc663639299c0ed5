// Earning rules of flights (product rules section 3) and the dates that
// bound a credit's life (section 4): the class table, the minimum, the tier
// bonus, the miles a flight earns, a lot's expiry and the retro-claim window.
//
//   EarningTable table = EarningTable::ProductDefault(500);
//   BonusPercents bonus;  // 25, 50, 100
//   absl::StatusOr<FlightEarning> earning = ComputeFlightEarning(
//       /*distance_miles=*/672, "Y", table, membership::v1::GOLD, bonus);
//   // base 672, bonus 336, redeemable 1,008, QM 672, QS 1
//   absl::CivilDay expiry = LotExpiry(absl::CivilDay(2026, 3, 15));
//   // 2029-03-31
//
// Plain C++: no gRPC, no store. Thread-safe: the functions are pure and an
// EarningTable is immutable once made.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_EARNING_RULES_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_EARNING_RULES_H_

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::accrual {

// The minimum of own flights (section 3): base miles of a segment whose
// rate is 100 or more are raised to it.
inline constexpr int64_t kOwnFlightMinimumMiles = 500;

// A carrier's earning table: the rate of each booking class it sells, in
// percent of distance, and the minimum base miles of a segment whose rate is
// 100 or more (0: no minimum).
class EarningTable {
 public:
  // Section 3's table: F 200; A J C 150; D I 125; W 110; Y B M 100;
  // H K L 75; Q V T 50; N S 25; G X Z 0. Every other letter is not sold.
  static EarningTable ProductDefault(int64_t minimum_miles);

  // The table `config` describes. No classes: the product default. Each
  // class is one upper-case letter, listed once, with a rate of 0 to 500.
  // The minimum is config.minimum_miles (0 to 100,000) when set,
  // `default_minimum` (500 for own flights, 0 for partners) when it is 0,
  // and 0 when config.no_minimum is set (minimum_miles must then be 0).
  // Errors are INVALID_ARGUMENT naming every field at fault relative to the
  // EarningTableConfig ("minimum_miles", "classes[2].rate_percent"); a caller
  // prefixes them with where the config sits
  // (FieldErrors::Merge("own_earning", status)). A `default_minimum` outside
  // 0 to 100,000 is INVALID_ARGUMENT too.
  static absl::StatusOr<EarningTable> FromConfig(
      const config::v1::EarningTableConfig& config, int64_t default_minimum);

  // The rate of `booking_class`, nullopt when the table does not sell it
  // (lower case and non-letters included).
  absl::optional<int> RatePercent(char booking_class) const;

  int64_t minimum_miles() const { return minimum_miles_; }

 private:
  static constexpr int kNotSold = -1;

  EarningTable() { rates_.fill(kNotSold); }

  // Rate of 'A' + i, or kNotSold.
  std::array<int, 26> rates_;
  int64_t minimum_miles_ = 0;
};

// Tier bonus, percent of base miles, by the member's tier just before the
// credit is posted.
struct BonusPercents {
  int silver = 25;
  int gold = 50;
  int platinum = 100;

  // 0 for BLUE, TIER_UNSPECIFIED and any unknown value.
  int For(membership::v1::Tier tier) const;
};

// How one flight segment's miles are computed; the fields of
// accrual.v1.EarningBreakdown plus what is credited.
struct FlightEarning {
  int64_t distance_miles;
  int rate_percent;
  // floor(distance x rate / 100), raised to the minimum where that applies.
  int64_t base_miles;
  bool minimum_applied;
  // The member's tier just before the credit; decides the bonus.
  membership::v1::Tier tier;
  int bonus_percent;
  // floor(base_miles x bonus_percent / 100).
  int64_t bonus_miles;
  // base_miles + bonus_miles.
  int64_t redeemable_miles;
  // = base_miles: the bonus is not qualifying.
  int64_t qualifying_miles;
  // 1 when the rate is above 0, else 0.
  int32_t qualifying_segments;
};

// The miles a flight of `distance_miles` in `booking_class` earns under
// `table` for a member whose tier just before the credit is `tier_before`.
// INVALID_ARGUMENT InvalidField("flight.booking_class", ...) unless
// booking_class is exactly one upper-case letter that `table` sells;
// INVALID_ARGUMENT when distance_miles is outside 0 to 100,000 or the
// bonus percent of `tier_before` outside 0 to 1,000 (the config is checked
// at start, so neither comes from a request).
absl::StatusOr<FlightEarning> ComputeFlightEarning(
    int64_t distance_miles, absl::string_view booking_class,
    const EarningTable& table, membership::v1::Tier tier_before,
    const BonusPercents& bonus);

// A lot's expiry date, its last usable day: the last day of the `months`th
// month after the month of `activity_date` (2026-03-15 -> 2029-03-31,
// 2024-02-29 -> 2027-02-28).
absl::CivilDay LotExpiry(absl::CivilDay activity_date, int months = 36);

// The earliest flight date a retro-claim made on `today` may name: the same
// day `months` months before today, or that month's last day when it is
// shorter (today 2026-08-31 -> 2026-02-28). A flight dated on or after it is
// inside the window.
absl::CivilDay RetroClaimWindowStart(absl::CivilDay today, int months = 6);

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_EARNING_RULES_H_
