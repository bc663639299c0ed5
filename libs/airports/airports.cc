#include "libs/airports/airports.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/csv/csv.h"

// Generated from data/airports.csv by the airports_csv genrule.
extern const char kBuiltinAirportsCsv[];

namespace mileagebank::airports {
namespace {

constexpr const char* kColumns[] = {"iata",    "name",     "city",
                                    "country", "latitude", "longitude"};
constexpr size_t kColumnCount = sizeof(kColumns) / sizeof(kColumns[0]);
constexpr double kEarthRadiusMiles = 3958.8;
constexpr double kPi = 3.14159265358979323846;

absl::Status RowError(int64_t line, absl::string_view column,
                      absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(
      "airport table line ", line, ", column ", column, ": ", rule));
}

bool IsUpperLetters(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A plain decimal number: an optional minus sign, digits, and optionally a
// point followed by digits. No spaces, exponents, "inf" or "nan".
bool IsPlainDecimal(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = 0;
  while (i < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    ++digits;
  }
  if (digits == 0) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  ++i;
  size_t fraction = 0;
  while (i < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    ++fraction;
  }
  return fraction > 0 && i == text.size();
}

absl::Status ParseDegrees(int64_t line, absl::string_view column,
                          absl::string_view text, double limit,
                          double* degrees) {
  if (!IsPlainDecimal(text) || !absl::SimpleAtod(text, degrees)) {
    return RowError(line, column,
                    absl::StrCat("\"", text, "\" is not a decimal number"));
  }
  if (*degrees < -limit || *degrees > limit) {
    return RowError(line, column,
                    absl::StrCat(text, " is outside -", limit, " to ", limit));
  }
  return absl::OkStatus();
}

double Radians(double degrees) { return degrees * kPi / 180.0; }

}  // namespace

absl::StatusOr<AirportTable> AirportTable::Parse(absl::string_view csv) {
  std::istringstream input{std::string(csv)};
  csv::CsvReader reader(input);
  csv::CsvRecord record;
  const std::string expected_header = absl::StrJoin(kColumns, ",");
  if (!reader.Next(&record)) {
    if (!reader.error().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("airport table ", reader.error()));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "airport table line 1: empty; the header must be ", expected_header));
  }
  bool header_ok = record.fields.size() == kColumnCount;
  for (size_t i = 0; header_ok && i < kColumnCount; ++i) {
    header_ok = record.fields[i] == kColumns[i];
  }
  if (!header_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "airport table line ", record.line, ": the header must be exactly ",
        expected_header, ", not ", absl::StrJoin(record.fields, ",")));
  }

  AirportTable table;
  absl::flat_hash_map<std::string, int64_t> first_line;
  while (reader.Next(&record)) {
    const int64_t line = record.line;
    if (record.empty_line) {
      return absl::InvalidArgumentError(
          absl::StrCat("airport table line ", line, ": empty line"));
    }
    if (record.fields.size() != kColumnCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("airport table line ", line, ": has ",
                       record.fields.size(), " fields, not ", kColumnCount));
    }
    Airport airport;
    airport.code = std::move(record.fields[0]);
    airport.name = std::move(record.fields[1]);
    airport.city = std::move(record.fields[2]);
    airport.country = std::move(record.fields[3]);
    if (!IsUpperLetters(airport.code, 3)) {
      return RowError(line, "iata",
                      absl::StrCat("\"", airport.code,
                                   "\" is not three upper-case letters"));
    }
    if (table.index_.contains(airport.code)) {
      return RowError(line, "iata",
                      absl::StrCat(airport.code, " is repeated (first on line ",
                                   first_line[airport.code], ")"));
    }
    if (airport.name.empty()) return RowError(line, "name", "is empty");
    if (airport.city.empty()) return RowError(line, "city", "is empty");
    if (!IsUpperLetters(airport.country, 2)) {
      return RowError(line, "country",
                      absl::StrCat("\"", airport.country,
                                   "\" is not two upper-case letters"));
    }
    absl::Status status =
        ParseDegrees(line, "latitude", record.fields[4], 90, &airport.latitude);
    if (!status.ok()) return status;
    status = ParseDegrees(line, "longitude", record.fields[5], 180,
                          &airport.longitude);
    if (!status.ok()) return status;
    first_line.emplace(airport.code, line);
    table.index_.emplace(airport.code, table.airports_.size());
    table.airports_.push_back(std::move(airport));
  }
  if (!reader.error().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("airport table ", reader.error()));
  }
  return table;
}

const AirportTable& AirportTable::Builtin() {
  static const AirportTable* const table = [] {
    absl::StatusOr<AirportTable> parsed = Parse(kBuiltinAirportsCsv);
    if (!parsed.ok()) {
      std::fprintf(stderr, "built-in airport table does not parse: %s\n",
                   parsed.status().ToString().c_str());
      std::abort();
    }
    return new AirportTable(std::move(parsed).value());
  }();
  return *table;
}

const Airport* AirportTable::Find(absl::string_view code) const {
  auto it = index_.find(code);
  if (it == index_.end()) return nullptr;
  return &airports_[it->second];
}

int64_t GreatCircleMiles(const Airport& from, const Airport& to) {
  const double lat1 = Radians(from.latitude);
  const double lat2 = Radians(to.latitude);
  const double dlat = lat2 - lat1;
  const double dlon = Radians(to.longitude - from.longitude);
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  // min() guards against a rounding error pushing a above 1 for antipodes.
  const double c = 2 * std::asin(std::sqrt(std::min(1.0, a)));
  return std::llround(kEarthRadiusMiles * c);
}

}  // namespace mileagebank::airports
