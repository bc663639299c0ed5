// Prices per 1,000 miles applied to a number of miles, rounded half to even
// into minor units, exactly (the product is formed in 128 bits, never in
// floating point). Shared by settlement's statements and reporting's
// liability value.
//
//   int64_t value = money::RoundHalfEvenPerThousand(123457, 2500);  // 308642
//
// Plain functions; thread-safe.
#ifndef MILEAGEBANK_LIBS_MONEY_PER_THOUSAND_H_
#define MILEAGEBANK_LIBS_MONEY_PER_THOUSAND_H_

#include <cstdint>

#include "absl/types/optional.h"

namespace mileagebank::money {

// round_half_even(miles x price_minor_units_per_thousand / 1000), exact,
// symmetric for negative values (-2.5 -> -2, -3.5 -> -4). nullopt when the
// result does not fit in int64 (the product itself never overflows: it is
// formed in 128 bits).
absl::optional<int64_t> TryRoundHalfEvenPerThousand(
    int64_t miles, int64_t price_minor_units_per_thousand);

// As TryRoundHalfEvenPerThousand, for callers whose values are known to be
// in range; a result beyond int64 is clamped to INT64_MIN or INT64_MAX.
int64_t RoundHalfEvenPerThousand(int64_t miles,
                                 int64_t price_minor_units_per_thousand);

}  // namespace mileagebank::money

#endif  // MILEAGEBANK_LIBS_MONEY_PER_THOUSAND_H_
