// Tier rules (product rules section 2): which tier qualifying activity earns,
// and a member's tier on a day.
//
// A member's tier on day d is the higher of the tier earned by the QM/QS of
// d's calendar year and the tier earned by the year before; so an upgrade
// holds to the end of the following year, and nobody drops mid-year except
// when a reversal removes the activity that earned the tier.
//
// Plain values and functions; thread-safe.
#ifndef MILEAGEBANK_LIBS_TIERS_TIERS_H_
#define MILEAGEBANK_LIBS_TIERS_TIERS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mileagebank/config/v1/tiers.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::tiers {

// Qualifying activity of one calendar year.
struct QualifyingTotals {
  int64_t miles = 0;
  int64_t segments = 0;
};

struct Threshold {
  int64_t miles;
  int64_t segments;
};

// Thresholds of SILVER, GOLD and PLATINUM in a calendar year.
struct TierThresholds {
  Threshold silver{25'000, 30};
  Threshold gold{50'000, 60};
  Threshold platinum{100'000, 100};

  // From configuration: zero fields keep the defaults above. Each tier must
  // need more than the one below, in both miles and segments.
  static absl::StatusOr<TierThresholds> FromConfig(
      const config::v1::TierConfig& config);
  const Threshold& For(membership::v1::Tier tier) const;
};

// The tier that one year's activity earns (BLUE when it earns none).
membership::v1::Tier EarnedTier(const QualifyingTotals& year, const TierThresholds& thresholds);

// The tier on a day of a year whose activity is `this_year`, the year before
// being `last_year`.
membership::v1::Tier TierOn(const QualifyingTotals& this_year,
                const QualifyingTotals& last_year,
                const TierThresholds& thresholds);

// The tier and this year's progress toward the tier above it.
membership::v1::GetTierResponse DescribeTier(const QualifyingTotals& this_year,
                                 const QualifyingTotals& last_year,
                                 const TierThresholds& thresholds);

}  // namespace mileagebank::tiers

#endif  // MILEAGEBANK_LIBS_TIERS_TIERS_H_
