#include "libs/tiers/tiers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mileagebank::tiers {
namespace {

bool Reaches(const QualifyingTotals& year, const Threshold& threshold) {
  return year.miles >= threshold.miles || year.segments >= threshold.segments;
}

absl::Status ApplyConfig(const config::v1::TierThreshold& configured,
                         const char* name, Threshold* threshold) {
  if (configured.qualifying_miles() < 0 ||
      configured.qualifying_segments() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": thresholds must not be negative"));
  }
  if (configured.qualifying_miles() > 0) {
    threshold->miles = configured.qualifying_miles();
  }
  if (configured.qualifying_segments() > 0) {
    threshold->segments = configured.qualifying_segments();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TierThresholds> TierThresholds::FromConfig(
    const config::v1::TierConfig& config) {
  TierThresholds thresholds;
  for (auto [configured, name, threshold] :
       {std::tuple{&config.silver(), "silver", &thresholds.silver},
        std::tuple{&config.gold(), "gold", &thresholds.gold},
        std::tuple{&config.platinum(), "platinum", &thresholds.platinum}}) {
    absl::Status applied = ApplyConfig(*configured, name, threshold);
    if (!applied.ok()) return applied;
  }
  if (thresholds.gold.miles <= thresholds.silver.miles ||
      thresholds.platinum.miles <= thresholds.gold.miles ||
      thresholds.gold.segments <= thresholds.silver.segments ||
      thresholds.platinum.segments <= thresholds.gold.segments) {
    return absl::InvalidArgumentError(
        "silver, gold, platinum: each tier's thresholds must exceed the tier "
        "below's");
  }
  return thresholds;
}

const Threshold& TierThresholds::For(membership::v1::Tier tier) const {
  switch (tier) {
    case membership::v1::SILVER:
      return silver;
    case membership::v1::GOLD:
      return gold;
    default:
      return platinum;
  }
}

membership::v1::Tier EarnedTier(const QualifyingTotals& year,
                    const TierThresholds& thresholds) {
  if (Reaches(year, thresholds.platinum)) return membership::v1::PLATINUM;
  if (Reaches(year, thresholds.gold)) return membership::v1::GOLD;
  if (Reaches(year, thresholds.silver)) return membership::v1::SILVER;
  return membership::v1::BLUE;
}

membership::v1::Tier TierOn(const QualifyingTotals& this_year,
                const QualifyingTotals& last_year,
                const TierThresholds& thresholds) {
  return std::max(EarnedTier(this_year, thresholds),
                  EarnedTier(last_year, thresholds));
}

membership::v1::GetTierResponse DescribeTier(const QualifyingTotals& this_year,
                                 const QualifyingTotals& last_year,
                                 const TierThresholds& thresholds) {
  membership::v1::GetTierResponse response;
  const membership::v1::Tier tier = TierOn(this_year, last_year, thresholds);
  response.set_tier(tier);
  response.set_qualifying_miles(this_year.miles);
  response.set_qualifying_segments(static_cast<int32_t>(this_year.segments));
  response.set_previous_year_qualifying_miles(last_year.miles);
  response.set_previous_year_qualifying_segments(
      static_cast<int32_t>(last_year.segments));
  if (tier != membership::v1::PLATINUM) {
    const membership::v1::Tier next = static_cast<membership::v1::Tier>(tier + 1);
    const Threshold& needed = thresholds.For(next);
    response.set_next_tier(next);
    response.set_miles_to_next_tier(
        std::max<int64_t>(0, needed.miles - this_year.miles));
    response.set_segments_to_next_tier(static_cast<int32_t>(
        std::max<int64_t>(0, needed.segments - this_year.segments)));
  }
  return response;
}

}  // namespace mileagebank::tiers
