#include "services/membership/csv_import.h"

#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/csv/csv.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"

namespace mileagebank::membership {
namespace {

// Columns without which no row can be a valid enrolment.
const char* const kRequired[] = {"family_name",     "date_of_birth",
                                 "nationality",     "document_type",
                                 "document_number", "document_country",
                                 "mobile_phone"};

template <typename Enum>
bool ParseEnum(const std::string& text, bool (*parse)(const std::string&, Enum*),
               Enum* value) {
  return parse(absl::AsciiStrToUpper(text), value);
}

absl::StatusOr<v1::EnrolRequest> RowToRequest(
    const absl::flat_hash_map<std::string, std::string>& row) {
  auto get = [&](const char* column) -> std::string {
    auto it = row.find(column);
    return it == row.end() ? "" : std::string(absl::StripAsciiWhitespace(it->second));
  };
  v1::EnrolRequest request;
  v1::Profile& profile = *request.mutable_profile();
  profile.set_family_name(get("family_name"));
  profile.set_given_name(get("given_name"));
  profile.set_chinese_name(get("chinese_name"));
  profile.set_nationality(get("nationality"));
  profile.set_mobile_phone(get("mobile_phone"));
  profile.set_email(get("email"));
  profile.set_employer(get("employer"));
  profile.set_preferred_language(get("preferred_language"));
  profile.set_meal_preference(get("meal_preference"));

  if (std::string gender = get("gender"); !gender.empty()) {
    v1::Gender value;
    if (!ParseEnum(gender, &v1::Gender_Parse, &value)) {
      return InvalidField("gender", "must be FEMALE, MALE or OTHER");
    }
    profile.set_gender(value);
  }
  std::string birth = get("date_of_birth");
  absl::optional<absl::CivilDay> day = validation::ParseDate(birth);
  if (!day) return InvalidField("date_of_birth", "must be YYYY-MM-DD");
  *profile.mutable_date_of_birth() = validation::ToProtoDate(*day);

  v1::IdentityDocument& document = *profile.mutable_identity_document();
  std::string type = get("document_type");
  if (type == "OTHER" || type == "other") type = "OTHER_DOCUMENT";
  v1::DocumentType document_type;
  if (!ParseEnum(type, &v1::DocumentType_Parse, &document_type) ||
      document_type == v1::DOCUMENT_TYPE_UNSPECIFIED) {
    return InvalidField("document_type", "must be PASSPORT, NATIONAL_ID or OTHER");
  }
  document.set_type(document_type);
  document.set_number(get("document_number"));
  document.set_issuing_country(get("document_country"));

  std::vector<std::string> lines;
  for (const char* column : {"address_line1", "address_line2", "address_line3"}) {
    if (std::string line = get(column); !line.empty()) lines.push_back(line);
  }
  std::string city = get("city"), region = get("region"),
              postal = get("postal_code"), country = get("address_country");
  if (!lines.empty() || !city.empty() || !region.empty() || !postal.empty() ||
      !country.empty()) {
    v1::PostalAddress& address = *profile.mutable_address();
    for (const std::string& line : lines) address.add_lines(line);
    address.set_city(city);
    address.set_region(region);
    address.set_postal_code(postal);
    address.set_country(country);
  }
  if (std::string seat = get("seat_preference"); !seat.empty()) {
    std::string upper = absl::AsciiStrToUpper(seat);
    if (upper == "AISLE") {
      profile.set_seat_preference(v1::AISLE);
    } else if (upper == "WINDOW") {
      profile.set_seat_preference(v1::WINDOW);
    } else if (upper == "NONE") {
      profile.set_seat_preference(v1::NO_SEAT_PREFERENCE);
    } else {
      return InvalidField("seat_preference", "must be AISLE, WINDOW or NONE");
    }
  }
  if (std::string consent = absl::AsciiStrToLower(get("marketing_consent"));
      !consent.empty()) {
    if (consent == "true" || consent == "yes" || consent == "1") {
      profile.set_marketing_consent(true);
    } else if (consent != "false" && consent != "no" && consent != "0") {
      return InvalidField("marketing_consent", "must be true or false");
    }
  }
  return request;
}

}  // namespace

const std::vector<std::string>& ImportColumns() {
  static const auto* columns = new std::vector<std::string>{
      "family_name",     "given_name",       "chinese_name",
      "gender",          "date_of_birth",    "nationality",
      "document_type",   "document_number",  "document_country",
      "mobile_phone",    "email",            "address_line1",
      "address_line2",   "address_line3",    "city",
      "region",          "postal_code",      "address_country",
      "employer",        "preferred_language", "seat_preference",
      "meal_preference", "marketing_consent"};
  return *columns;
}

absl::StatusOr<std::vector<ImportRow>> ParseImport(absl::string_view csv) {
  std::istringstream input{std::string(csv)};
  csv::CsvReader reader(input);
  csv::CsvRecord header;
  if (!reader.Next(&header) || header.empty_line) {
    return InvalidField("csv", "must start with a header line naming the columns");
  }
  absl::flat_hash_map<std::string, int> known;
  for (const std::string& column : ImportColumns()) known[column] = 0;
  for (std::string& name : header.fields) {
    name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
    auto it = known.find(name);
    if (it == known.end()) {
      return InvalidField("csv", absl::StrCat("unknown column \"", name,
                                              "\"; columns are ",
                                              absl::StrJoin(ImportColumns(), ", ")));
    }
    if (++it->second > 1) {
      return InvalidField("csv", absl::StrCat("column \"", name, "\" repeated"));
    }
  }
  for (const char* required : kRequired) {
    if (known[required] == 0) {
      return InvalidField("csv", absl::StrCat("missing column \"", required, "\""));
    }
  }

  std::vector<ImportRow> rows;
  csv::CsvRecord record;
  while (reader.Next(&record)) {
    if (record.empty_line) continue;
    ImportRow& row = rows.emplace_back(ImportRow{static_cast<int>(record.line),
                                                 absl::InternalError("unset")});
    if (record.fields.size() != header.fields.size()) {
      row.enrolment = InvalidField(
          "row", absl::StrCat("has ", record.fields.size(), " fields, the header ",
                              header.fields.size()));
      continue;
    }
    absl::flat_hash_map<std::string, std::string> values;
    for (size_t i = 0; i < header.fields.size(); ++i) {
      values[header.fields[i]] = record.fields[i];
    }
    row.enrolment = RowToRequest(values);
  }
  if (!reader.error().empty()) {
    return InvalidField("csv", reader.error());
  }
  return rows;
}

}  // namespace mileagebank::membership
