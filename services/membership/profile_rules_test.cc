#include "services/membership/profile_rules.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank {
namespace membership {
namespace {

using ::google::protobuf::FieldMask;
using ::mileagebank::membership::v1::Nominee;
using ::mileagebank::membership::v1::Profile;

const absl::CivilDay kToday(2026, 3, 15);

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

Profile ValidProfile() {
  return Parse<Profile>(R"pb(
    family_name: "Li"
    given_name: "Wei"
    chinese_name: "李伟"
    gender: MALE
    date_of_birth { year: 1985 month: 7 day: 14 }
    nationality: "CN"
    identity_document {
      type: PASSPORT
      number: "E12345678"
      issuing_country: "CN"
    }
    mobile_phone: "+8613800138000"
    email: "li.wei@example.com"
    address {
      lines: "1 Jianguomenwai Avenue"
      lines: "Chaoyang District"
      city: "Beijing"
      region: "Beijing"
      postal_code: "100020"
      country: "CN"
    }
    employer: "Example Trading Co."
    preferred_language: "zh-CN"
    seat_preference: AISLE
    meal_preference: "VGML"
    marketing_consent: true
  )pb");
}

Nominee ValidNominee() {
  return Parse<Nominee>(R"pb(
    nominee_id: "1"
    family_name: "Li"
    given_name: "Na"
    date_of_birth { year: 2012 month: 2 day: 29 }
    identity_document {
      type: NATIONAL_ID
      number: "110101201202290021"
      issuing_country: "CN"
    }
  )pb");
}

FieldMask Mask(std::vector<std::string> paths) {
  FieldMask mask;
  for (std::string& path : paths) mask.add_paths(std::move(path));
  return mask;
}

// The fields a status reports, in order; empty for OK.
std::vector<std::string> ReportedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  if (status.ok()) return fields;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  auto details = GetErrorDetails(status);
  EXPECT_TRUE(details.has_value()) << status;
  if (!details) return fields;
  for (const auto& violation : details->field_violations()) {
    fields.push_back(violation.field());
  }
  return fields;
}

std::string Repeat(absl::string_view unit, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text.append(unit.data(), unit.size());
  return text;
}

common::v1::Date Date(int year, int month, int day) {
  common::v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

// One change to the valid profile and the field it must be reported under
// (nullptr: the change keeps the profile valid).
struct ProfileCase {
  const char* name;
  void (*mutate)(Profile*);
  const char* field;
};

const ProfileCase kProfileCases[] = {
    // Names.
    {"family name missing", [](Profile* p) { p->clear_family_name(); },
     "family_name"},
    {"family name with digit", [](Profile* p) { p->set_family_name("Li3"); },
     "family_name"},
    {"family name with accent",
     [](Profile* p) { p->set_family_name("M\xc3\xbcller"); }, "family_name"},
    {"family name of 41",
     [](Profile* p) { p->set_family_name(Repeat("a", 41)); }, "family_name"},
    {"family name of 40",
     [](Profile* p) { p->set_family_name(Repeat("a", 40)); }, nullptr},
    {"family name with space, hyphen, apostrophe",
     [](Profile* p) { p->set_family_name("O'Brien-Smith de la Cruz"); },
     nullptr},
    {"given name empty", [](Profile* p) { p->clear_given_name(); }, nullptr},
    {"given name with symbol", [](Profile* p) { p->set_given_name("W@ng"); },
     "given_name"},
    {"given name of 41", [](Profile* p) { p->set_given_name(Repeat("b", 41)); },
     "given_name"},
    // Chinese name.
    {"chinese name empty", [](Profile* p) { p->clear_chinese_name(); },
     nullptr},
    {"chinese name with middle dot",
     [](Profile* p) { p->set_chinese_name("欧阳·娜娜"); }, nullptr},
    {"chinese name from extension A, compatibility and extension B",
     [](Profile* p) {
       p->set_chinese_name("\u3400\uF900\U00020000\U0002FA1F");
     },
     nullptr},
    {"chinese name of 20",
     [](Profile* p) { p->set_chinese_name(Repeat("伟", 20)); }, nullptr},
    {"chinese name of 21",
     [](Profile* p) { p->set_chinese_name(Repeat("伟", 21)); }, "chinese_name"},
    {"chinese name with latin", [](Profile* p) { p->set_chinese_name("李a"); },
     "chinese_name"},
    {"chinese name with kana", [](Profile* p) { p->set_chinese_name("李の"); },
     "chinese_name"},
    {"chinese name with ideographic space",
     [](Profile* p) { p->set_chinese_name("李\u3000伟"); }, "chinese_name"},
    {"chinese name truncated utf-8",
     [](Profile* p) { p->set_chinese_name("\xe6\x9d"); }, "chinese_name"},
    {"chinese name overlong utf-8",
     [](Profile* p) { p->set_chinese_name("\xf0\x83\x80\x80"); },
     "chinese_name"},
    // Gender.
    {"gender unspecified",
     [](Profile* p) { p->set_gender(v1::GENDER_UNSPECIFIED); }, nullptr},
    {"gender undefined",
     [](Profile* p) { p->set_gender(static_cast<v1::Gender>(7)); }, "gender"},
    // Date of birth.
    {"birth date missing", [](Profile* p) { p->clear_date_of_birth(); },
     "date_of_birth"},
    {"birth date not a day",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(1987, 2, 29); },
     "date_of_birth"},
    {"birth date all zero",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(0, 0, 0); },
     "date_of_birth"},
    {"birth date tomorrow",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(2026, 3, 16); },
     "date_of_birth"},
    {"birth date today",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(2026, 3, 15); },
     nullptr},
    {"birth date 1900-01-01",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(1900, 1, 1); },
     nullptr},
    {"birth date 1899-12-31",
     [](Profile* p) { *p->mutable_date_of_birth() = Date(1899, 12, 31); },
     "date_of_birth"},
    // Nationality.
    {"nationality missing", [](Profile* p) { p->clear_nationality(); },
     "nationality"},
    {"nationality lower case", [](Profile* p) { p->set_nationality("cn"); },
     "nationality"},
    {"nationality not assigned", [](Profile* p) { p->set_nationality("UK"); },
     "nationality"},
    // Identity document.
    {"document missing", [](Profile* p) { p->clear_identity_document(); },
     "identity_document"},
    {"document type unspecified",
     [](Profile* p) {
       p->mutable_identity_document()->set_type(v1::DOCUMENT_TYPE_UNSPECIFIED);
     },
     "identity_document.type"},
    {"document type undefined",
     [](Profile* p) {
       p->mutable_identity_document()->set_type(
           static_cast<v1::DocumentType>(9));
     },
     "identity_document.type"},
    {"document type other",
     [](Profile* p) {
       p->mutable_identity_document()->set_type(v1::OTHER_DOCUMENT);
     },
     nullptr},
    {"document number missing",
     [](Profile* p) { p->mutable_identity_document()->clear_number(); },
     "identity_document.number"},
    {"document number of 21",
     [](Profile* p) {
       p->mutable_identity_document()->set_number(Repeat("1", 21));
     },
     "identity_document.number"},
    {"document number of 20",
     [](Profile* p) {
       p->mutable_identity_document()->set_number(Repeat("1", 20));
     },
     nullptr},
    {"document number with hyphen",
     [](Profile* p) { p->mutable_identity_document()->set_number("E-1234"); },
     "identity_document.number"},
    {"document number in lower case",
     [](Profile* p) { p->mutable_identity_document()->set_number("e1234"); },
     nullptr},
    {"document country missing",
     [](Profile* p) {
       p->mutable_identity_document()->clear_issuing_country();
     },
     "identity_document.issuing_country"},
    {"document country unknown",
     [](Profile* p) {
       p->mutable_identity_document()->set_issuing_country("XX");
     },
     "identity_document.issuing_country"},
    // Mobile phone.
    {"phone missing", [](Profile* p) { p->clear_mobile_phone(); },
     "mobile_phone"},
    {"phone without plus",
     [](Profile* p) { p->set_mobile_phone("13800138000"); }, "mobile_phone"},
    {"phone starting with 0",
     [](Profile* p) { p->set_mobile_phone("+013800138000"); }, "mobile_phone"},
    {"phone too short", [](Profile* p) { p->set_mobile_phone("+123456"); },
     "mobile_phone"},
    {"phone too long",
     [](Profile* p) { p->set_mobile_phone("+1234567890123456"); },
     "mobile_phone"},
    // E-mail.
    {"email empty", [](Profile* p) { p->clear_email(); }, nullptr},
    {"email without dot in domain",
     [](Profile* p) { p->set_email("li.wei@example"); }, "email"},
    {"email with two at signs",
     [](Profile* p) { p->set_email("li@wei@example.com"); }, "email"},
    // Address.
    {"address absent", [](Profile* p) { p->clear_address(); }, nullptr},
    {"address present but empty",
     [](Profile* p) { *p->mutable_address() = v1::PostalAddress(); }, nullptr},
    {"address of 3 lines",
     [](Profile* p) { p->mutable_address()->add_lines("Room 3"); }, nullptr},
    {"address of 4 lines",
     [](Profile* p) {
       p->mutable_address()->add_lines("Room 3");
       p->mutable_address()->add_lines("Room 4");
     },
     "address.lines"},
    {"address without lines",
     [](Profile* p) { p->mutable_address()->clear_lines(); }, "address.lines"},
    {"address line of 101",
     [](Profile* p) { p->mutable_address()->set_lines(0, Repeat("a", 101)); },
     "address.lines"},
    {"address line of 100 chinese characters",
     [](Profile* p) { p->mutable_address()->set_lines(0, Repeat("路", 100)); },
     nullptr},
    {"address city of 61",
     [](Profile* p) { p->mutable_address()->set_city(Repeat("c", 61)); },
     "address.city"},
    {"address region of 61",
     [](Profile* p) { p->mutable_address()->set_region(Repeat("r", 61)); },
     "address.region"},
    {"address postal code of 13",
     [](Profile* p) { p->mutable_address()->set_postal_code(Repeat("1", 13)); },
     "address.postal_code"},
    {"address postal code with space and hyphen",
     [](Profile* p) { p->mutable_address()->set_postal_code("SW1A 1AA-12"); },
     nullptr},
    {"address postal code in lower case",
     [](Profile* p) { p->mutable_address()->set_postal_code("sw1a 1aa"); },
     "address.postal_code"},
    {"address country missing",
     [](Profile* p) { p->mutable_address()->clear_country(); },
     "address.country"},
    {"address country unknown",
     [](Profile* p) { p->mutable_address()->set_country("ZZ"); },
     "address.country"},
    // Employer.
    {"employer of 101", [](Profile* p) { p->set_employer(Repeat("e", 101)); },
     "employer"},
    {"employer of 100 chinese characters",
     [](Profile* p) { p->set_employer(Repeat("公", 100)); }, nullptr},
    // Preferences.
    {"language empty", [](Profile* p) { p->clear_preferred_language(); },
     nullptr},
    {"language en", [](Profile* p) { p->set_preferred_language("en"); },
     nullptr},
    {"language other", [](Profile* p) { p->set_preferred_language("fr"); },
     "preferred_language"},
    {"language in wrong case",
     [](Profile* p) { p->set_preferred_language("zh-cn"); },
     "preferred_language"},
    {"seat unspecified",
     [](Profile* p) {
       p->set_seat_preference(v1::SEAT_PREFERENCE_UNSPECIFIED);
     },
     nullptr},
    {"seat undefined",
     [](Profile* p) {
       p->set_seat_preference(static_cast<v1::SeatPreference>(9));
     },
     "seat_preference"},
    {"meal empty", [](Profile* p) { p->clear_meal_preference(); }, nullptr},
    {"meal none", [](Profile* p) { p->set_meal_preference("NONE"); }, nullptr},
    {"meal kosher", [](Profile* p) { p->set_meal_preference("KSML"); },
     nullptr},
    {"meal unknown code", [](Profile* p) { p->set_meal_preference("XXML"); },
     "meal_preference"},
    {"meal in lower case", [](Profile* p) { p->set_meal_preference("vgml"); },
     "meal_preference"},
    {"marketing consent off",
     [](Profile* p) { p->set_marketing_consent(false); }, nullptr},
};

TEST(ValidateProfileTest, AcceptsValidProfile) {
  EXPECT_TRUE(ValidateProfile(ValidProfile(), kToday).ok());
}

TEST(ValidateProfileTest, ReportsEachBrokenRuleUnderItsField) {
  for (const ProfileCase& c : kProfileCases) {
    SCOPED_TRACE(c.name);
    Profile profile = ValidProfile();
    c.mutate(&profile);
    const std::vector<std::string> expected =
        c.field == nullptr ? std::vector<std::string>{}
                           : std::vector<std::string>{c.field};
    EXPECT_EQ(ReportedFields(ValidateProfile(profile, kToday)), expected);
  }
}

TEST(ValidateProfileTest, ReportsAllViolationsAtOnceWithTheirRules) {
  Profile profile = ValidProfile();
  profile.clear_family_name();
  profile.set_mobile_phone("138");
  profile.mutable_identity_document()->set_number("E 1");
  profile.mutable_address()->set_city(Repeat("c", 61));
  absl::Status status = ValidateProfile(profile, kToday);
  EXPECT_EQ(ReportedFields(status),
            (std::vector<std::string>{"family_name", "identity_document.number",
                                      "mobile_phone", "address.city"}));
  EXPECT_EQ(status.message(),
            "family_name: required; "
            "identity_document.number: must be 1-20 characters of A-Z and "
            "0-9; "
            "mobile_phone: must be E.164: + then 7-15 digits, the first not 0; "
            "address.city: must be at most 60 characters");
}

TEST(ValidateProfileTest, DateErrorsSayWhichPartIsWrong) {
  Profile profile = ValidProfile();
  *profile.mutable_date_of_birth() = Date(1987, 2, 29);
  EXPECT_EQ(ValidateProfile(profile, kToday).message(),
            "date_of_birth: day must be 1 to 28 in 1987-02");
}

TEST(ValidateProfileFieldsTest, ChecksOnlyFieldsUnderTheMask) {
  Profile update;
  update.set_mobile_phone("+441632960961");
  EXPECT_TRUE(
      ValidateProfileFields(update, Mask({"mobile_phone"}), kToday).ok());
  update.set_mobile_phone("01632 960961");
  EXPECT_EQ(ReportedFields(
                ValidateProfileFields(update, Mask({"mobile_phone"}), kToday)),
            std::vector<std::string>{"mobile_phone"});
  EXPECT_EQ(ReportedFields(ValidateProfileFields(
                update, Mask({"family_name", "mobile_phone"}), kToday)),
            (std::vector<std::string>{"family_name", "mobile_phone"}));
}

TEST(ValidateProfileFieldsTest, WholeMessagePathCoversAllItsFields) {
  Profile update;
  update.mutable_address()->set_city("Beijing");
  EXPECT_EQ(
      ReportedFields(ValidateProfileFields(update, Mask({"address"}), kToday)),
      (std::vector<std::string>{"address.lines", "address.country"}));
  EXPECT_EQ(ReportedFields(ValidateProfileFields(
                update, Mask({"identity_document"}), kToday)),
            std::vector<std::string>{"identity_document"});
}

TEST(ValidateProfileFieldsTest, SubfieldPathCoversOnlyThatField) {
  Profile update;
  update.mutable_address()->set_city("Beijing");
  EXPECT_TRUE(
      ValidateProfileFields(update, Mask({"address.city"}), kToday).ok());
  update.mutable_address()->set_city(Repeat("c", 61));
  EXPECT_EQ(ReportedFields(
                ValidateProfileFields(update, Mask({"address.city"}), kToday)),
            std::vector<std::string>{"address.city"});

  update.mutable_identity_document()->set_number("E 1");
  EXPECT_EQ(ReportedFields(ValidateProfileFields(
                update, Mask({"identity_document.number"}), kToday)),
            std::vector<std::string>{"identity_document.number"});
}

TEST(ValidateProfileFieldsTest, ClearingOptionalFieldsIsAllowed) {
  EXPECT_TRUE(ValidateProfileFields(Profile(),
                                    Mask({"address", "email", "employer",
                                          "chinese_name", "given_name"}),
                                    kToday)
                  .ok());
}

TEST(ValidateProfileFieldsTest, ClearingRequiredFieldsIsRefused) {
  EXPECT_EQ(
      ReportedFields(ValidateProfileFields(
          Profile(),
          Mask({"family_name", "date_of_birth", "identity_document"}), kToday)),
      (std::vector<std::string>{"family_name", "date_of_birth",
                                "identity_document"}));
}

TEST(ValidateProfileFieldsTest, RefusesPathsThatAreNotProfileFields) {
  for (const char* path :
       {"nickname", "address.street", "mobile_phone.number",
        "date_of_birth.year", "profile.mobile_phone", "", "Mobile_Phone"}) {
    SCOPED_TRACE(path);
    absl::Status status =
        ValidateProfileFields(ValidProfile(), Mask({path}), kToday);
    EXPECT_EQ(ReportedFields(status), std::vector<std::string>{"update_mask"});
  }
}

TEST(ValidateProfileFieldsTest, RefusesEmptyMask) {
  EXPECT_EQ(ReportedFields(
                ValidateProfileFields(ValidProfile(), FieldMask(), kToday)),
            std::vector<std::string>{"update_mask"});
}

TEST(ValidateProfileFieldsTest, ReportsBadPathsAndBadValuesTogether) {
  Profile update;
  update.set_email("nobody");
  EXPECT_EQ(ReportedFields(ValidateProfileFields(
                update, Mask({"email", "nickname"}), kToday)),
            (std::vector<std::string>{"update_mask", "email"}));
}

TEST(ValidateProfileFieldsTest, FullMaskMatchesValidateProfile) {
  const FieldMask all =
      Mask({"family_name", "given_name", "chinese_name", "gender",
            "date_of_birth", "nationality", "identity_document", "mobile_phone",
            "email", "address", "employer", "preferred_language",
            "seat_preference", "meal_preference", "marketing_consent"});
  ASSERT_EQ(all.paths_size(), Profile::descriptor()->field_count());
  for (const ProfileCase& c : kProfileCases) {
    SCOPED_TRACE(c.name);
    Profile profile = ValidProfile();
    c.mutate(&profile);
    EXPECT_EQ(ReportedFields(ValidateProfileFields(profile, all, kToday)),
              ReportedFields(ValidateProfile(profile, kToday)));
  }
}

TEST(NormalizeProfileTest, TrimsEveryStringAndUpperCasesCodes) {
  const Profile sloppy = Parse<Profile>(R"pb(
    family_name: "  Li "
    given_name: "\tWei\n"
    chinese_name: " 李伟 "
    date_of_birth { year: 1985 month: 7 day: 14 }
    nationality: " cn"
    identity_document {
      type: PASSPORT
      number: " e12345678 "
      issuing_country: "cn "
    }
    mobile_phone: " +8613800138000 "
    email: " Li.Wei@Example.com "
    address {
      lines: "  1 Jianguomenwai Avenue  "
      lines: " Chaoyang District"
      city: " Beijing "
      region: " Beijing"
      postal_code: " 100020 "
      country: " cn "
    }
    employer: " Example Trading Co. "
    preferred_language: " zh-CN "
    seat_preference: AISLE
    meal_preference: " VGML "
    marketing_consent: true
  )pb");
  const Profile normalized = NormalizeProfile(sloppy);
  EXPECT_EQ(normalized.DebugString(),
            Parse<Profile>(R"pb(
              family_name: "Li"
              given_name: "Wei"
              chinese_name: "李伟"
              date_of_birth { year: 1985 month: 7 day: 14 }
              nationality: "CN"
              identity_document {
                type: PASSPORT
                number: "E12345678"
                issuing_country: "CN"
              }
              mobile_phone: "+8613800138000"
              email: "Li.Wei@Example.com"
              address {
                lines: "1 Jianguomenwai Avenue"
                lines: "Chaoyang District"
                city: "Beijing"
                region: "Beijing"
                postal_code: "100020"
                country: "CN"
              }
              employer: "Example Trading Co."
              preferred_language: "zh-CN"
              seat_preference: AISLE
              meal_preference: "VGML"
              marketing_consent: true
            )pb")
                .DebugString());
  EXPECT_TRUE(ValidateProfile(normalized, kToday).ok());
}

TEST(NormalizeProfileTest, WritesOutDocumentedDefaults) {
  Profile profile = ValidProfile();
  profile.clear_meal_preference();
  profile.clear_preferred_language();
  profile.clear_seat_preference();
  const Profile normalized = NormalizeProfile(profile);
  EXPECT_EQ(normalized.meal_preference(), "NONE");
  EXPECT_EQ(normalized.preferred_language(), "en");
  EXPECT_EQ(normalized.seat_preference(), v1::NO_SEAT_PREFERENCE);
}

TEST(NormalizeProfileTest, KeepsChosenValues) {
  const Profile normalized = NormalizeProfile(ValidProfile());
  EXPECT_EQ(normalized.DebugString(), ValidProfile().DebugString());
}

TEST(NormalizeProfileTest, DoesNotCreateAbsentMessages) {
  Profile profile = ValidProfile();
  profile.clear_address();
  profile.clear_identity_document();
  profile.clear_date_of_birth();
  const Profile normalized = NormalizeProfile(profile);
  EXPECT_FALSE(normalized.has_address());
  EXPECT_FALSE(normalized.has_identity_document());
  EXPECT_FALSE(normalized.has_date_of_birth());
}

TEST(NormalizeProfileTest, LeavesInvalidValuesForValidationToReport) {
  Profile profile;
  profile.set_family_name(" Li3 ");
  profile.set_mobile_phone("  ");
  profile.set_gender(static_cast<v1::Gender>(7));
  const Profile normalized = NormalizeProfile(profile);
  EXPECT_EQ(normalized.family_name(), "Li3");
  EXPECT_EQ(normalized.mobile_phone(), "");
  EXPECT_EQ(normalized.gender(), 7);
  EXPECT_EQ(ReportedFields(ValidateProfile(normalized, kToday)),
            (std::vector<std::string>{"family_name", "gender", "date_of_birth",
                                      "nationality", "identity_document",
                                      "mobile_phone"}));
}

TEST(NormalizeNomineeTest, TrimsAndUpperCasesDocument) {
  Nominee nominee = ValidNominee();
  nominee.set_family_name(" Li ");
  nominee.mutable_identity_document()->set_number(" 11010120120229002x ");
  nominee.mutable_identity_document()->set_issuing_country(" cn");
  const Nominee normalized = NormalizeNominee(nominee);
  EXPECT_EQ(normalized.family_name(), "Li");
  EXPECT_EQ(normalized.identity_document().number(), "11010120120229002X");
  EXPECT_EQ(normalized.identity_document().issuing_country(), "CN");
  EXPECT_TRUE(ValidateNominee(normalized, kToday).ok());
}

struct NomineeCase {
  const char* name;
  void (*mutate)(Nominee*);
  const char* field;
};

const NomineeCase kNomineeCases[] = {
    {"family name missing", [](Nominee* n) { n->clear_family_name(); },
     "family_name"},
    {"family name of 41",
     [](Nominee* n) { n->set_family_name(Repeat("a", 41)); }, "family_name"},
    {"given name empty", [](Nominee* n) { n->clear_given_name(); }, nullptr},
    {"given name with digit", [](Nominee* n) { n->set_given_name("Na2"); },
     "given_name"},
    {"birth date missing", [](Nominee* n) { n->clear_date_of_birth(); },
     "date_of_birth"},
    {"birth date tomorrow",
     [](Nominee* n) { *n->mutable_date_of_birth() = Date(2026, 3, 16); },
     "date_of_birth"},
    {"birth date today",
     [](Nominee* n) { *n->mutable_date_of_birth() = Date(2026, 3, 15); },
     nullptr},
    {"birth date invalid",
     [](Nominee* n) { *n->mutable_date_of_birth() = Date(2026, 13, 1); },
     "date_of_birth"},
    {"document missing", [](Nominee* n) { n->clear_identity_document(); },
     "identity_document"},
    {"document type unspecified",
     [](Nominee* n) { n->mutable_identity_document()->clear_type(); },
     "identity_document.type"},
    {"document number bad",
     [](Nominee* n) { n->mutable_identity_document()->set_number("#1"); },
     "identity_document.number"},
    {"document country bad",
     [](Nominee* n) {
       n->mutable_identity_document()->set_issuing_country("EU");
     },
     "identity_document.issuing_country"},
    {"nominee id is not checked", [](Nominee* n) { n->set_nominee_id("?"); },
     nullptr},
};

TEST(ValidateNomineeTest, AcceptsValidNominee) {
  EXPECT_TRUE(ValidateNominee(ValidNominee(), kToday).ok());
}

TEST(ValidateNomineeTest, ReportsEachBrokenRuleUnderItsField) {
  for (const NomineeCase& c : kNomineeCases) {
    SCOPED_TRACE(c.name);
    Nominee nominee = ValidNominee();
    c.mutate(&nominee);
    const std::vector<std::string> expected =
        c.field == nullptr ? std::vector<std::string>{}
                           : std::vector<std::string>{c.field};
    EXPECT_EQ(ReportedFields(ValidateNominee(nominee, kToday)), expected);
  }
}

TEST(ValidatePasswordTest, AcceptsEightToOneHundredTwentyEightCharacters) {
  EXPECT_TRUE(ValidatePassword("new_password", "12345678").ok());
  EXPECT_TRUE(ValidatePassword("new_password", std::string(128, 'p')).ok());
}

TEST(ValidatePasswordTest, RefusesShorterOrLongerNamingTheField) {
  for (const std::string& password :
       {std::string(), std::string("1234567"), std::string(129, 'p')}) {
    absl::Status status = ValidatePassword("new_password", password);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "new_password: must be 8 to 128 characters");
  }
}

}  // namespace
}  // namespace membership
}  // namespace mileagebank
