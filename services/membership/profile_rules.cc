#include "services/membership/profile_rules.h"

#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/status/errors.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"

namespace mileagebank {
namespace membership {
namespace {

using ::google::protobuf::FieldMask;
using ::mileagebank::membership::v1::IdentityDocument;
using ::mileagebank::membership::v1::Nominee;
using ::mileagebank::membership::v1::PostalAddress;
using ::mileagebank::membership::v1::Profile;

// IATA special meal codes a member may prefer.
constexpr absl::string_view kMealCodes[] = {
    "AVML", "BBML", "BLML", "CHML", "CNML", "DBML", "FPML", "GFML", "HFML",
    "HNML", "KSML", "LCML", "LFML", "LPML", "LSML", "MOML", "NFML", "NLML",
    "ORML", "PRML", "RVML", "SFML", "SPML", "VGML", "VJML", "VLML", "VOML",
};

// Whether the rule of the field at `path` is to be checked: every field when
// `mask` is null, otherwise the fields under one of its paths.
bool Selected(const FieldMask* mask, absl::string_view path) {
  if (mask == nullptr) return true;
  for (const std::string& covering : mask->paths()) {
    if (absl::StartsWith(path, covering) &&
        (path.size() == covering.size() || path[covering.size()] == '.')) {
      return true;
    }
  }
  return false;
}

// A date is one value, so paths into date_of_birth ("date_of_birth.year")
// are refused although they name a field. FieldMaskUtil takes "" for the
// whole message, which an update must not.
bool IsUpdatablePath(const std::string& path) {
  return !path.empty() &&
         google::protobuf::util::FieldMaskUtil::IsValidPath<Profile>(path) &&
         !absl::StartsWith(path, "date_of_birth.");
}

// Lengths in the rules are in characters, and addresses and employers may be
// written in Chinese: count UTF-8 code points, not bytes.
size_t CharCount(absl::string_view text) {
  return absl::c_count_if(text, [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

// The code points of `text`; nullopt unless it is valid UTF-8 (shortest
// forms only, no surrogates), so that no byte sequence can pass for a
// character it does not encode.
absl::optional<std::u32string> DecodeUtf8(absl::string_view text) {
  std::u32string decoded;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length;
    char32_t code_point, shortest;
    if (lead < 0x80) {
      length = 1, code_point = lead, shortest = 0;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, shortest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, shortest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, shortest = 0x10000;
    } else {
      return absl::nullopt;
    }
    if (i + length > text.size()) return absl::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return absl::nullopt;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < shortest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return absl::nullopt;
    }
    decoded.push_back(code_point);
    i += length;
  }
  return decoded;
}

bool IsChineseName(absl::string_view name) {
  absl::optional<std::u32string> chars = DecodeUtf8(name);
  if (!chars || chars->size() > 20) return false;
  return absl::c_all_of(*chars, [](char32_t c) {
    return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2FA1F) || c == 0x00B7;
  });
}

bool IsDocumentNumber(absl::string_view number) {
  const std::string upper = absl::AsciiStrToUpper(number);
  return !upper.empty() && upper.size() <= 20 &&
         absl::c_all_of(upper, [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

bool IsPostalCode(absl::string_view code) {
  return code.size() <= 12 && absl::c_all_of(code, [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c) ||
                  c == ' ' || c == '-';
         });
}

bool IsMealPreference(absl::string_view meal) {
  return meal.empty() || meal == "NONE" ||
         absl::c_linear_search(kMealCodes, meal);
}

// The rules below are shared by Profile and Nominee, which name their fields
// alike.

void CheckName(absl::string_view field, absl::string_view name, bool required,
               FieldErrors* errors) {
  if (name.empty()) {
    if (required) errors->Add(field, "required");
    return;
  }
  const bool latin = absl::c_all_of(name, [](char c) {
    return absl::ascii_isalpha(c) || c == ' ' || c == '-' || c == '\'';
  });
  if (!latin || name.size() > 40) {
    errors->Add(field,
                "must be 1-40 characters of Latin letters, spaces, hyphens "
                "and apostrophes");
  }
}

void CheckDateOfBirth(bool has_date, const common::v1::Date& date,
                      absl::CivilDay today, FieldErrors* errors) {
  constexpr absl::string_view kField = "date_of_birth";
  if (!has_date) {
    errors->Add(kField, "required");
    return;
  }
  absl::StatusOr<absl::CivilDay> day = validation::ToCivilDay(kField, date);
  if (!day.ok()) {
    errors->Merge("", day.status());
  } else if (*day > today) {
    errors->Add(kField, "must not be in the future");
  } else if (*day < absl::CivilDay(1900, 1, 1)) {
    errors->Add(kField, "must not be before 1900-01-01");
  }
}

void CheckCountry(absl::string_view field, absl::string_view code,
                  FieldErrors* errors) {
  if (code.empty()) {
    errors->Add(field, "required");
  } else if (!validation::IsCountryCode(code)) {
    errors->Add(field,
                "must be an ISO 3166-1 alpha-2 country code in upper case, "
                "e.g. CN");
  }
}

void CheckIdentityDocument(bool has_document, const IdentityDocument& document,
                           const FieldMask* mask, FieldErrors* errors) {
  if (Selected(mask, "identity_document") && !has_document) {
    errors->Add("identity_document", "required");
    return;
  }
  if (Selected(mask, "identity_document.type") &&
      (document.type() == v1::DOCUMENT_TYPE_UNSPECIFIED ||
       !v1::DocumentType_IsValid(document.type()))) {
    errors->Add("identity_document.type",
                "must be PASSPORT, NATIONAL_ID or OTHER_DOCUMENT");
  }
  if (Selected(mask, "identity_document.number") &&
      !IsDocumentNumber(document.number())) {
    errors->Add("identity_document.number",
                "must be 1-20 characters of A-Z and 0-9");
  }
  if (Selected(mask, "identity_document.issuing_country")) {
    CheckCountry("identity_document.issuing_country",
                 document.issuing_country(), errors);
  }
}

void CheckAddress(const PostalAddress& address, const FieldMask* mask,
                  FieldErrors* errors) {
  // The address is optional: all fields empty is no address.
  if (address.lines().empty() && address.city().empty() &&
      address.region().empty() && address.postal_code().empty() &&
      address.country().empty()) {
    return;
  }
  if (Selected(mask, "address.lines")) {
    const bool lines_ok =
        address.lines_size() >= 1 && address.lines_size() <= 3 &&
        absl::c_all_of(address.lines(), [](const std::string& line) {
          return CharCount(line) <= 100;
        });
    if (!lines_ok) {
      errors->Add("address.lines",
                  "must be 1-3 lines of at most 100 characters each");
    }
  }
  if (Selected(mask, "address.city") && CharCount(address.city()) > 60) {
    errors->Add("address.city", "must be at most 60 characters");
  }
  if (Selected(mask, "address.region") && CharCount(address.region()) > 60) {
    errors->Add("address.region", "must be at most 60 characters");
  }
  if (Selected(mask, "address.postal_code") &&
      !IsPostalCode(address.postal_code())) {
    errors->Add("address.postal_code",
                "must be at most 12 characters of A-Z, 0-9, space and hyphen");
  }
  if (Selected(mask, "address.country")) {
    CheckCountry("address.country", address.country(), errors);
  }
}

// Checks the fields of `profile` that `mask` selects (all when null).
void CheckProfile(const Profile& profile, const FieldMask* mask,
                  absl::CivilDay today, FieldErrors* errors) {
  auto selected = [mask](absl::string_view path) {
    return Selected(mask, path);
  };
  if (selected("family_name")) {
    CheckName("family_name", profile.family_name(), /*required=*/true, errors);
  }
  if (selected("given_name")) {
    CheckName("given_name", profile.given_name(), /*required=*/false, errors);
  }
  if (selected("chinese_name") && !IsChineseName(profile.chinese_name())) {
    errors->Add("chinese_name",
                "must be at most 20 Chinese characters (CJK ideographs or the "
                "middle dot U+00B7)");
  }
  if (selected("gender") && !v1::Gender_IsValid(profile.gender())) {
    errors->Add("gender", "must be GENDER_UNSPECIFIED, FEMALE, MALE or OTHER");
  }
  if (selected("date_of_birth")) {
    CheckDateOfBirth(profile.has_date_of_birth(), profile.date_of_birth(),
                     today, errors);
  }
  if (selected("nationality")) {
    CheckCountry("nationality", profile.nationality(), errors);
  }
  CheckIdentityDocument(profile.has_identity_document(),
                        profile.identity_document(), mask, errors);
  if (selected("mobile_phone")) {
    if (profile.mobile_phone().empty()) {
      errors->Add("mobile_phone", "required");
    } else if (!validation::IsE164(profile.mobile_phone())) {
      errors->Add("mobile_phone",
                  "must be E.164: + then 7-15 digits, the first not 0");
    }
  }
  if (selected("email") && !profile.email().empty() &&
      !validation::IsEmail(profile.email())) {
    errors->Add("email",
                "must be an e-mail address local@domain with a dot in the "
                "domain, at most 254 characters");
  }
  CheckAddress(profile.address(), mask, errors);
  if (selected("employer") && CharCount(profile.employer()) > 100) {
    errors->Add("employer", "must be at most 100 characters");
  }
  if (selected("preferred_language") && !profile.preferred_language().empty() &&
      profile.preferred_language() != "zh-CN" &&
      profile.preferred_language() != "en") {
    errors->Add("preferred_language", "must be zh-CN or en");
  }
  if (selected("seat_preference") &&
      !v1::SeatPreference_IsValid(profile.seat_preference())) {
    errors->Add("seat_preference",
                "must be SEAT_PREFERENCE_UNSPECIFIED, NO_SEAT_PREFERENCE, "
                "AISLE or WINDOW");
  }
  if (selected("meal_preference") &&
      !IsMealPreference(profile.meal_preference())) {
    errors->Add("meal_preference",
                "must be NONE or an IATA special meal code such as VGML");
  }
}

// Trims every string field of `message` and of the messages it holds.
// Reflection keeps this true of fields added later.
void TrimStrings(google::protobuf::Message* message) {
  using ::google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  // Only fields that are set, so that no empty sub-message gets created.
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          reflection->SetRepeatedString(
              message, field, i,
              std::string(absl::StripAsciiWhitespace(
                  reflection->GetRepeatedString(*message, field, i))));
        }
      } else {
        reflection->SetString(message, field,
                              std::string(absl::StripAsciiWhitespace(
                                  reflection->GetString(*message, field))));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          TrimStrings(reflection->MutableRepeatedMessage(message, field, i));
        }
      } else {
        TrimStrings(reflection->MutableMessage(message, field));
      }
    }
  }
}

void NormalizeDocument(IdentityDocument* document) {
  absl::AsciiStrToUpper(document->mutable_number());
  absl::AsciiStrToUpper(document->mutable_issuing_country());
}

}  // namespace

absl::Status ValidateProfile(const Profile& profile, absl::CivilDay today) {
  FieldErrors errors;
  CheckProfile(profile, /*mask=*/nullptr, today, &errors);
  return errors.ToStatus();
}

absl::Status ValidateProfileFields(const Profile& profile,
                                   const FieldMask& mask,
                                   absl::CivilDay today) {
  FieldErrors errors;
  if (mask.paths().empty()) {
    errors.Add("update_mask", "must name at least one Profile field");
  }
  for (const std::string& path : mask.paths()) {
    if (!IsUpdatablePath(path)) {
      errors.Add("update_mask",
                 absl::StrCat("\"", path, "\" is not a field of Profile"));
    }
  }
  CheckProfile(profile, &mask, today, &errors);
  return errors.ToStatus();
}

Profile NormalizeProfile(Profile profile) {
  TrimStrings(&profile);
  absl::AsciiStrToUpper(profile.mutable_nationality());
  if (profile.has_identity_document()) {
    NormalizeDocument(profile.mutable_identity_document());
  }
  if (profile.has_address()) {
    absl::AsciiStrToUpper(profile.mutable_address()->mutable_country());
  }
  if (profile.meal_preference().empty()) profile.set_meal_preference("NONE");
  if (profile.preferred_language().empty()) {
    profile.set_preferred_language("en");
  }
  if (profile.seat_preference() == v1::SEAT_PREFERENCE_UNSPECIFIED) {
    profile.set_seat_preference(v1::NO_SEAT_PREFERENCE);
  }
  return profile;
}

Nominee NormalizeNominee(Nominee nominee) {
  TrimStrings(&nominee);
  if (nominee.has_identity_document()) {
    NormalizeDocument(nominee.mutable_identity_document());
  }
  return nominee;
}

absl::Status ValidateNominee(const Nominee& nominee, absl::CivilDay today) {
  FieldErrors errors;
  CheckName("family_name", nominee.family_name(), /*required=*/true, &errors);
  CheckName("given_name", nominee.given_name(), /*required=*/false, &errors);
  CheckDateOfBirth(nominee.has_date_of_birth(), nominee.date_of_birth(), today,
                   &errors);
  CheckIdentityDocument(nominee.has_identity_document(),
                        nominee.identity_document(), /*mask=*/nullptr, &errors);
  return errors.ToStatus();
}

absl::Status ValidatePassword(absl::string_view field,
                              absl::string_view password) {
  if (password.size() < 8 || password.size() > 128) {
    return InvalidField(field, "must be 8 to 128 characters");
  }
  return absl::OkStatus();
}

}  // namespace membership
}  // namespace mileagebank
