#include "libs/validation/member_number.h"

#include <cstdio>
#include <cstdlib>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"

namespace mileagebank {
namespace validation {

char LuhnCheckDigit(absl::string_view digits) {
  // The check digit will take the rightmost place, so counting from the right
  // of `digits`, the first, third, ... digit is the one doubled.
  int sum = 0;
  bool doubled = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int digit = *it - '0';
    if (doubled) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    doubled = !doubled;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

absl::Status ValidateMemberNumber(absl::string_view field,
                                  absl::string_view value) {
  if (value.size() != 10 || !absl::c_all_of(value, absl::ascii_isdigit)) {
    return InvalidField(field, "must be 10 digits");
  }
  if (value[0] == '0') {
    return InvalidField(field, "must not start with 0");
  }
  if (LuhnCheckDigit(value.substr(0, 9)) != value[9]) {
    return InvalidField(field,
                        "has a wrong check digit (the last digit is the Luhn "
                        "check digit of the first 9)");
  }
  return absl::OkStatus();
}

std::string MemberNumberFromSerial(int64_t serial) {
  if (serial < kMinMemberSerial || serial > kMaxMemberSerial) {
    std::fprintf(stderr, "MemberNumberFromSerial: serial %lld out of range\n",
                 static_cast<long long>(serial));
    std::abort();
  }
  std::string number = absl::StrCat(serial);
  number.push_back(LuhnCheckDigit(number));
  return number;
}

}  // namespace validation
}  // namespace mileagebank
