// Member numbers: 10 decimal digits, a 9-digit serial whose first digit is
// 1-9 followed by a Luhn check digit over the serial (product rules, section
// 1). The check digit lets every service refuse a mistyped number as
// INVALID_ARGUMENT before any lookup.
//
//   MB_RETURN_IF_ERROR(validation::ValidateMemberNumber("member_number", n));
//   std::string number = validation::MemberNumberFromSerial(100000001);
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_LIBS_VALIDATION_MEMBER_NUMBER_H_
#define MILEAGEBANK_LIBS_VALIDATION_MEMBER_NUMBER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mileagebank {
namespace validation {

// The range of serials, the first 9 digits of a member number.
inline constexpr int64_t kMinMemberSerial = 100000000;
inline constexpr int64_t kMaxMemberSerial = 999999999;

// The Luhn check digit ('0'-'9') to append to `digits`, which must consist of
// decimal digits only.
char LuhnCheckDigit(absl::string_view digits);

// OK for a well-formed member number; otherwise InvalidField(field, rule)
// with a rule telling which part is wrong (length and digits, leading zero,
// check digit).
absl::Status ValidateMemberNumber(absl::string_view field,
                                  absl::string_view value);

// The member number of `serial`, which must be in
// [kMinMemberSerial, kMaxMemberSerial]; anything else is a caller's bug and
// aborts.
std::string MemberNumberFromSerial(int64_t serial);

}  // namespace validation
}  // namespace mileagebank

#endif  // MILEAGEBANK_LIBS_VALIDATION_MEMBER_NUMBER_H_
