// The rules a member's profile, nominees and password must follow (product
// rules section 1; each field's rule is documented in membership.proto).
//
// Callers normalize first, then validate, so that harmless differences
// (surrounding spaces, a lower-case country code) are not refused:
//
//   Profile profile = NormalizeProfile(request.profile());
//   MB_RETURN_IF_ERROR(ValidateProfile(profile, validation::UtcDay(now)));
//
// Validation reports every violation at once (FieldErrors), with field paths
// relative to the message checked ("mobile_phone", "address.city"); a caller
// nests them under its own path with FieldErrors::Merge("profile", status).
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_PROFILE_RULES_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_PROFILE_RULES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/field_mask.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank {
namespace membership {

// OK when every field of `profile` follows its rule; dates of birth after
// `today` (UTC) are refused. Otherwise INVALID_ARGUMENT listing each field at
// fault.
absl::Status ValidateProfile(const membership::v1::Profile& profile,
                             absl::CivilDay today);

// As ValidateProfile, but only for the fields under `mask`'s paths, for
// UpdateProfile: "address" covers every address field, "address.city" only
// that one. A path that is not a Profile field, or an empty mask, is reported
// under "update_mask". A rule that involves another field (the address
// country is required when another address field is set) reads that field
// from `profile` as given, so callers should also validate the merged result
// with ValidateProfile.
absl::Status ValidateProfileFields(const membership::v1::Profile& profile,
                                   const google::protobuf::FieldMask& mask,
                                   absl::CivilDay today);

// `profile` with surrounding whitespace trimmed from every string, the
// document number and country codes upper-cased, and the documented defaults
// written out: "" meal preference is "NONE", "" language is "en", an
// unspecified seat preference is NO_SEAT_PREFERENCE. Never refuses anything;
// validate the result.
membership::v1::Profile NormalizeProfile(membership::v1::Profile profile);

// `nominee` with surrounding whitespace trimmed from every string and the
// document number and issuing country upper-cased, as NormalizeProfile does.
membership::v1::Nominee NormalizeNominee(membership::v1::Nominee nominee);

// OK when the nominee's names, date of birth and identity document follow the
// profile's rules (all but given_name required); nominee_id is the service's
// and is not checked. Field paths are relative to the nominee.
absl::Status ValidateNominee(const membership::v1::Nominee& nominee,
                             absl::CivilDay today);

// OK for a password of 8 to 128 characters (counted in bytes); otherwise
// InvalidField(field, rule).
absl::Status ValidatePassword(absl::string_view field,
                              absl::string_view password);

}  // namespace membership
}  // namespace mileagebank

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_PROFILE_RULES_H_
