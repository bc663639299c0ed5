#include "services/accrual/earning_rules.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"

namespace mileagebank::accrual {
namespace {

constexpr int kMaxRatePercent = 500;
constexpr int64_t kMaxDistanceMiles = 100000;
// Bounds that keep every product of the computation far inside int64.
constexpr int64_t kMaxMinimumMiles = 100000;
constexpr int kMaxBonusPercent = 1000;

struct DefaultRate {
  const char* classes;
  int rate_percent;
};

// Product rules section 3.
constexpr DefaultRate kDefaultRates[] = {
    {"F", 200},  {"AJC", 150}, {"DI", 125}, {"W", 110}, {"YBM", 100},
    {"HKL", 75}, {"QVT", 50},  {"NS", 25},  {"GXZ", 0},
};

bool IsUpperLetter(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

EarningTable EarningTable::ProductDefault(int64_t minimum_miles) {
  EarningTable table;
  for (const DefaultRate& rate : kDefaultRates) {
    for (const char* c = rate.classes; *c != '\0'; ++c) {
      table.rates_[*c - 'A'] = rate.rate_percent;
    }
  }
  table.minimum_miles_ = minimum_miles;
  return table;
}

absl::StatusOr<EarningTable> EarningTable::FromConfig(
    const config::v1::EarningTableConfig& config, int64_t default_minimum) {
  FieldErrors errors;
  EarningTable table;
  for (int i = 0; i < config.classes_size(); ++i) {
    const config::v1::ClassRate& rate = config.classes(i);
    const std::string field = absl::StrCat("classes[", i, "]");
    const std::string& booking_class = rate.booking_class();
    bool class_ok =
        booking_class.size() == 1 && IsUpperLetter(booking_class[0]);
    if (!class_ok) {
      errors.Add(
          absl::StrCat(field, ".booking_class"),
          absl::StrCat("\"", booking_class, "\" is not one upper-case letter"));
    } else if (table.rates_[booking_class[0] - 'A'] != kNotSold) {
      errors.Add(absl::StrCat(field, ".booking_class"),
                 absl::StrCat(booking_class, " is listed twice"));
      class_ok = false;
    }
    if (rate.rate_percent() < 0 || rate.rate_percent() > kMaxRatePercent) {
      errors.Add(absl::StrCat(field, ".rate_percent"),
                 absl::StrCat("must be 0 to ", kMaxRatePercent));
    } else if (class_ok) {
      table.rates_[booking_class[0] - 'A'] = rate.rate_percent();
    }
  }
  if (config.minimum_miles() < 0 || config.minimum_miles() > kMaxMinimumMiles) {
    errors.Add("minimum_miles",
               absl::StrCat("must be 0 to ", kMaxMinimumMiles));
  } else if (config.no_minimum() && config.minimum_miles() != 0) {
    errors.Add("minimum_miles", "must be 0 (unset) when no_minimum is set");
  }
  if (default_minimum < 0 || default_minimum > kMaxMinimumMiles) {
    // The caller's default, not the config's: a programming error.
    return absl::InvalidArgumentError(
        absl::StrCat("default minimum ", default_minimum, " is outside 0 to ",
                     kMaxMinimumMiles));
  }
  if (!errors.empty()) return errors.ToStatus();

  int64_t minimum = default_minimum;
  if (config.no_minimum()) {
    minimum = 0;
  } else if (config.minimum_miles() > 0) {
    minimum = config.minimum_miles();
  }
  if (config.classes().empty()) return ProductDefault(minimum);
  table.minimum_miles_ = minimum;
  return table;
}

absl::optional<int> EarningTable::RatePercent(char booking_class) const {
  if (!IsUpperLetter(booking_class)) return absl::nullopt;
  const int rate = rates_[booking_class - 'A'];
  if (rate == kNotSold) return absl::nullopt;
  return rate;
}

int BonusPercents::For(membership::v1::Tier tier) const {
  switch (tier) {
    case membership::v1::SILVER:
      return silver;
    case membership::v1::GOLD:
      return gold;
    case membership::v1::PLATINUM:
      return platinum;
    default:
      return 0;
  }
}

absl::StatusOr<FlightEarning> ComputeFlightEarning(
    int64_t distance_miles, absl::string_view booking_class,
    const EarningTable& table, membership::v1::Tier tier_before,
    const BonusPercents& bonus) {
  if (booking_class.size() != 1 || !IsUpperLetter(booking_class[0])) {
    return InvalidField(
        "flight.booking_class",
        absl::StrCat("\"", booking_class, "\" is not one upper-case letter"));
  }
  const absl::optional<int> rate = table.RatePercent(booking_class[0]);
  if (!rate.has_value()) {
    return InvalidField(
        "flight.booking_class",
        absl::StrCat(booking_class, " is not a class of the earning table"));
  }
  if (distance_miles < 0 || distance_miles > kMaxDistanceMiles) {
    return absl::InvalidArgumentError(
        absl::StrCat("distance_miles ", distance_miles, " is outside 0 to ",
                     kMaxDistanceMiles));
  }
  const int bonus_percent = bonus.For(tier_before);
  if (bonus_percent < 0 || bonus_percent > kMaxBonusPercent) {
    return absl::InvalidArgumentError(
        absl::StrCat("bonus percent ", bonus_percent, " of ",
                     membership::v1::Tier_Name(tier_before),
                     " is outside 0 to ", kMaxBonusPercent));
  }

  FlightEarning earning;
  earning.distance_miles = distance_miles;
  earning.rate_percent = *rate;
  earning.base_miles = distance_miles * *rate / 100;
  earning.minimum_applied = false;
  if (*rate >= 100 && earning.base_miles < table.minimum_miles()) {
    earning.base_miles = table.minimum_miles();
    earning.minimum_applied = true;
  }
  earning.tier = tier_before;
  earning.bonus_percent = bonus_percent;
  earning.bonus_miles = earning.base_miles * bonus_percent / 100;
  earning.redeemable_miles = earning.base_miles + earning.bonus_miles;
  earning.qualifying_miles = earning.base_miles;
  earning.qualifying_segments = *rate > 0 ? 1 : 0;
  return earning;
}

absl::CivilDay LotExpiry(absl::CivilDay activity_date, int months) {
  return validation::LastDayOfMonth(absl::CivilMonth(activity_date) + months);
}

absl::CivilDay RetroClaimWindowStart(absl::CivilDay today, int months) {
  const absl::CivilMonth month = absl::CivilMonth(today) - months;
  const int last = validation::LastDayOfMonth(month).day();
  return absl::CivilDay(month.year(), month.month(),
                        std::min(today.day(), last));
}

}  // namespace mileagebank::accrual
