// The airport table: IATA code, name, city, country and position of every
// airport the accrual service credits flights between, and the great-circle
// distance between two of them (product rules section 3).
//
// The table is a CSV file (libs/airports/data/airports.csv) with exactly
// the header `iata,name,city,country,latitude,longitude`; the build compiles
// it into the binary, so Builtin() needs no file at run time. A table from
// elsewhere (the accrual config's airport_table_path) goes through Parse().
//
//   const AirportTable& airports = AirportTable::Builtin();
//   const Airport* from = airports.Find("PEK");
//   const Airport* to = airports.Find("PVG");
//   if (from == nullptr || to == nullptr) return InvalidField(...);
//   int64_t miles = GreatCircleMiles(*from, *to);  // 683
//
// Thread-safe: an AirportTable is immutable once made, and Builtin() is
// initialized once, safely, on first use.
#ifndef MILEAGEBANK_LIBS_AIRPORTS_AIRPORTS_H_
#define MILEAGEBANK_LIBS_AIRPORTS_AIRPORTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mileagebank::airports {

struct Airport {
  // IATA location code, three upper-case letters ("PEK").
  std::string code;
  // In English ("Beijing Capital International Airport").
  std::string name;
  std::string city;
  // ISO 3166-1 alpha-2 ("CN").
  std::string country;
  // Decimal degrees, north and east positive.
  double latitude;
  double longitude;
};

class AirportTable {
 public:
  // The table in `csv`. Strict: the header must be exactly
  // iata,name,city,country,latitude,longitude; every row has six fields; the
  // code is three upper-case letters and unique; name and city are not
  // empty; the country is two upper-case letters; latitude is -90 to 90 and
  // longitude -180 to 180. INVALID_ARGUMENT naming the line and column of the
  // first fault otherwise.
  static absl::StatusOr<AirportTable> Parse(absl::string_view csv);

  // The table built into the binary, parsed on first use. Aborts the process
  // if it does not parse: that is a build defect.
  static const AirportTable& Builtin();

  // The airport with IATA code `code` (exact, upper case); nullptr when
  // unknown. The pointer lives as long as the table.
  const Airport* Find(absl::string_view code) const;

  size_t size() const { return airports_.size(); }

  // Every airport, in the order of the file.
  const std::vector<Airport>& airports() const { return airports_; }

 private:
  AirportTable() = default;

  std::vector<Airport> airports_;
  // Code -> index into airports_.
  absl::flat_hash_map<std::string, size_t> index_;
};

// The great-circle distance between the two airports by the haversine
// formula with an earth radius of 3,958.8 statute miles, rounded to the
// nearest mile.
int64_t GreatCircleMiles(const Airport& from, const Airport& to);

}  // namespace mileagebank::airports

#endif  // MILEAGEBANK_LIBS_AIRPORTS_AIRPORTS_H_
