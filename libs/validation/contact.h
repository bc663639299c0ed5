// Checks of contact details and names shared by every service that takes them
// from people or partners: country codes, phone numbers, e-mail addresses, and
// the folded form of a name used to compare names.
//
//   if (!validation::IsE164(phone)) errors.Add("mobile_phone", "...");
//   bool same = validation::FoldName("Van der Berg") ==
//               validation::FoldName("VANDERBERG");
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_LIBS_VALIDATION_CONTACT_H_
#define MILEAGEBANK_LIBS_VALIDATION_CONTACT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mileagebank {
namespace validation {

// True for an assigned ISO 3166-1 alpha-2 code in upper case ("CN", "US").
// Reserved and user-assigned codes ("UK", "EU", "XK") are not country codes.
bool IsCountryCode(absl::string_view code);

// True for "+" followed by 7 to 15 digits, the first not 0.
bool IsE164(absl::string_view phone);

// True for local@domain of at most 254 characters: exactly one "@"; a
// non-empty local part of printable ASCII without spaces; a domain of at
// least two dot-separated labels, each of letters, digits and hyphens and
// neither starting nor ending with a hyphen.
bool IsEmail(absl::string_view email);

// `name` in the form compared when matching names (the partner file rules
// compare family names ignoring case, spaces and hyphens): ASCII letters
// upper-cased, spaces and hyphens removed, everything else kept.
std::string FoldName(absl::string_view name);

}  // namespace validation
}  // namespace mileagebank

#endif  // MILEAGEBANK_LIBS_VALIDATION_CONTACT_H_
