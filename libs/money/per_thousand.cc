#include "libs/money/per_thousand.h"

#include <limits>

#include "absl/numeric/int128.h"

namespace mileagebank::money {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// round_half_even(miles x price / 1000) in 128 bits; |result| < 2^117.
absl::int128 RoundedPerThousand(int64_t miles, int64_t price) {
  const absl::int128 product = absl::int128(miles) * absl::int128(price);
  // Division truncates toward zero; the remainder has the product's sign.
  absl::int128 quotient = product / 1000;
  const absl::int128 remainder = product % 1000;
  const absl::int128 away = product < 0 ? -1 : 1;
  const absl::int128 twice = remainder < 0 ? -2 * remainder : 2 * remainder;
  if (twice > 1000 || (twice == 1000 && quotient % 2 != 0)) quotient += away;
  return quotient;
}

}  // namespace

absl::optional<int64_t> TryRoundHalfEvenPerThousand(
    int64_t miles, int64_t price_minor_units_per_thousand) {
  const absl::int128 value =
      RoundedPerThousand(miles, price_minor_units_per_thousand);
  if (value > absl::int128(kInt64Max) || value < absl::int128(kInt64Min)) {
    return absl::nullopt;
  }
  return static_cast<int64_t>(value);
}

int64_t RoundHalfEvenPerThousand(int64_t miles,
                                 int64_t price_minor_units_per_thousand) {
  const absl::int128 value =
      RoundedPerThousand(miles, price_minor_units_per_thousand);
  if (value > absl::int128(kInt64Max)) return kInt64Max;
  if (value < absl::int128(kInt64Min)) return kInt64Min;
  return static_cast<int64_t>(value);
}

}  // namespace mileagebank::money
