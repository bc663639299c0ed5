#include "libs/airports/airports.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mileagebank::airports {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] = "iata,name,city,country,latitude,longitude\n";

// An implementation of the haversine distance written apart from the one
// under test, in long double, to check it against.
double ReferenceMiles(const Airport& a, const Airport& b) {
  const long double pi = std::acos(-1.0L);
  const long double lat1 = a.latitude * pi / 180, lat2 = b.latitude * pi / 180;
  const long double dlat = lat2 - lat1;
  const long double dlon = (b.longitude - a.longitude) * pi / 180;
  const long double h =
      std::pow(std::sin(dlat / 2), 2) +
      std::cos(lat1) * std::cos(lat2) * std::pow(std::sin(dlon / 2), 2);
  return static_cast<double>(2 * 3958.8L *
                             std::atan2(std::sqrt(h), std::sqrt(1 - h)));
}

TEST(AirportTableTest, BuiltinTableParsesWithEveryMajorAirport) {
  const AirportTable& table = AirportTable::Builtin();
  EXPECT_GT(table.size(), 600u);
  for (const char* code :
       {"PEK", "PVG", "CAN", "SZX", "CTU", "KMG", "XIY", "HGH", "CKG",
        "SHA", "LHR", "JFK", "LAX", "DXB", "HND", "NRT", "ICN", "SIN",
        "CDG", "FRA", "AMS", "ATL", "ORD", "DFW", "SYD"}) {
    EXPECT_NE(table.Find(code), nullptr) << code;
  }
  EXPECT_EQ(&table, &AirportTable::Builtin());
}

TEST(AirportTableTest, BuiltinTableIsSortedAndCoversEveryContinent) {
  const AirportTable& table = AirportTable::Builtin();
  absl::flat_hash_set<std::string> countries;
  for (size_t i = 1; i < table.airports().size(); ++i) {
    EXPECT_LT(table.airports()[i - 1].code, table.airports()[i].code);
  }
  for (const Airport& airport : table.airports()) {
    countries.insert(airport.country);
  }
  for (const char* country : {"CN", "US", "GB", "BR", "ZA", "AU", "IN", "RU",
                              "JP", "MX", "EG", "NZ", "AR", "CA"}) {
    EXPECT_TRUE(countries.contains(country)) << country;
  }
}

TEST(AirportTableTest, BuiltinTableCoversChineseAirports) {
  const AirportTable& table = AirportTable::Builtin();
  int chinese = 0;
  for (const Airport& airport : table.airports()) {
    if (airport.country == "CN") ++chinese;
  }
  EXPECT_GE(chinese, 230);
  for (const char* code : {"PKX", "TFU", "URC", "LXA", "HRB", "SYX", "KHG",
                           "HKG", "MFM", "TPE", "TSA", "KHH"}) {
    EXPECT_NE(table.Find(code), nullptr) << code;
  }
  EXPECT_EQ(table.Find("HKG")->country, "HK");
  EXPECT_EQ(table.Find("MFM")->country, "MO");
  EXPECT_EQ(table.Find("TPE")->country, "TW");
}

TEST(AirportTableTest, BuiltinCoordinatesOfBigAirports) {
  const AirportTable& table = AirportTable::Builtin();
  struct Known {
    const char* code;
    double latitude, longitude;
  };
  for (const Known& known :
       {Known{"PEK", 40.0801, 116.5846}, Known{"PVG", 31.1434, 121.8052},
        Known{"CAN", 23.3924, 113.2988}, Known{"LAX", 33.9416, -118.4085},
        Known{"LHR", 51.4700, -0.4543}, Known{"JFK", 40.6413, -73.7781}}) {
    const Airport* airport = table.Find(known.code);
    ASSERT_NE(airport, nullptr) << known.code;
    EXPECT_NEAR(airport->latitude, known.latitude, 0.01) << known.code;
    EXPECT_NEAR(airport->longitude, known.longitude, 0.01) << known.code;
  }
}

TEST(AirportTableTest, FindUnknownOrLowerCaseIsNull) {
  const AirportTable& table = AirportTable::Builtin();
  EXPECT_EQ(table.Find("QQQ"), nullptr);
  EXPECT_EQ(table.Find("pek"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
  ASSERT_NE(table.Find("PEK"), nullptr);
  EXPECT_EQ(table.Find("PEK")->code, "PEK");
  EXPECT_EQ(table.Find("PEK")->country, "CN");
}

TEST(AirportTableTest, DistancesMatchAReferenceHaversine) {
  const AirportTable& table = AirportTable::Builtin();
  // The spherical haversine of section 3 from the coordinates checked in
  // BuiltinCoordinatesOfBigAirports. Published figures differ by a few
  // miles where they use the WGS-84 ellipsoid instead (LHR-JFK 3,451).
  struct Route {
    const char* from;
    const char* to;
    int64_t about;  // +-3 miles.
  };
  for (const Route& route :
       {Route{"PEK", "PVG", 683}, Route{"PEK", "LAX", 6237},
        Route{"LHR", "JFK", 3442}}) {
    const Airport* from = table.Find(route.from);
    const Airport* to = table.Find(route.to);
    ASSERT_NE(from, nullptr);
    ASSERT_NE(to, nullptr);
    const int64_t miles = GreatCircleMiles(*from, *to);
    EXPECT_EQ(miles, std::llround(ReferenceMiles(*from, *to)))
        << route.from << "-" << route.to;
    EXPECT_NEAR(miles, route.about, 3) << route.from << "-" << route.to;
    EXPECT_EQ(GreatCircleMiles(*to, *from), miles);
  }
  const Airport* pek = table.Find("PEK");
  EXPECT_EQ(GreatCircleMiles(*pek, *pek), 0);
}

TEST(AirportTableTest, DistanceRoundsToTheNearestMile) {
  // One degree of longitude on the equator: 3958.8 * pi / 180 = 69.09 miles.
  Airport a{"AAA", "A", "A", "XX", 0.0, 0.0};
  Airport b{"BBB", "B", "B", "XX", 0.0, 1.0};
  EXPECT_EQ(GreatCircleMiles(a, b), 69);
  // Antipodes: half the circumference, 12,437 miles.
  Airport c{"CCC", "C", "C", "XX", 0.0, 180.0};
  EXPECT_EQ(GreatCircleMiles(a, c), 12437);
  Airport north{"NNN", "N", "N", "XX", 90.0, 0.0};
  Airport south{"SSS", "S", "S", "XX", -90.0, 0.0};
  EXPECT_EQ(GreatCircleMiles(north, south), 12437);
}

TEST(AirportTableTest, ParsesQuotedFieldsAndCrlf) {
  absl::StatusOr<AirportTable> table = AirportTable::Parse(
      "iata,name,city,country,latitude,longitude\r\n"
      "AAA,\"Alpha, \"\"Main\"\" Airport\",Alpha City,XX,-12.5000,100\r\n"
      "BBB,Beta,Beta,YY,0,-180.0000\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 2u);
  const Airport* a = table->Find("AAA");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "Alpha, \"Main\" Airport");
  EXPECT_EQ(a->city, "Alpha City");
  EXPECT_EQ(a->country, "XX");
  EXPECT_DOUBLE_EQ(a->latitude, -12.5);
  EXPECT_DOUBLE_EQ(a->longitude, 100);
  EXPECT_DOUBLE_EQ(table->Find("BBB")->longitude, -180);
}

TEST(AirportTableTest, HeaderOnlyIsAnEmptyTable) {
  absl::StatusOr<AirportTable> table = AirportTable::Parse(kHeader);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 0u);
}

void ExpectError(absl::string_view csv, absl::string_view line_and_column,
                 absl::string_view why) {
  absl::StatusOr<AirportTable> table = AirportTable::Parse(csv);
  ASSERT_FALSE(table.ok()) << csv;
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(table.status().message());
  EXPECT_THAT(message, HasSubstr(std::string(line_and_column))) << csv;
  EXPECT_THAT(message, HasSubstr(std::string(why))) << csv;
}

TEST(AirportTableTest, BadHeaderIsRefused) {
  ExpectError("", "line 1", "header");
  ExpectError("iata,name,city,country,lat,lon\nAAA,A,A,XX,1,1\n", "line 1",
              "header must be exactly iata,name,city,country,latitude,"
              "longitude");
  ExpectError("name,iata,city,country,latitude,longitude\n", "line 1",
              "header");
  ExpectError("iata,name,city,country,latitude,longitude,extra\n", "line 1",
              "header");
  ExpectError("IATA,name,city,country,latitude,longitude\n", "line 1",
              "header");
}

TEST(AirportTableTest, DuplicateCodeNamesBothLines) {
  ExpectError(std::string(kHeader) +
                  "AAA,A,A,XX,1,1\n"
                  "BBB,B,B,XX,1,1\n"
                  "AAA,C,C,XX,1,1\n",
              "line 4, column iata", "AAA is repeated (first on line 2)");
}

TEST(AirportTableTest, BadLatitudeOrLongitudeNamesLineAndColumn) {
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1,1\nBBB,B,B,XX,90.0001,1\n",
              "line 3, column latitude", "outside -90 to 90");
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,-91,1\n",
              "line 2, column latitude", "outside");
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,north,1\n",
              "line 2, column latitude", "not a decimal number");
  for (const char* bad :
       {"", " 1", "1e1", "nan", "inf", "1.", ".5", "+1", "1,5"}) {
    ExpectError(std::string(kHeader) + "AAA,A,A,XX,\"" + bad + "\",1\n",
                "line 2, column latitude", "not a decimal number");
  }
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1,180.5\n",
              "line 2, column longitude", "outside -180 to 180");
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1,\n",
              "line 2, column longitude", "not a decimal number");
}

TEST(AirportTableTest, BadRowsNameTheLine) {
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1\n", "line 2",
              "has 5 fields, not 6");
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1,1,1\n", "line 2",
              "has 7 fields, not 6");
  ExpectError(std::string(kHeader) + "AAA,A,A,XX,1,1\n\nBBB,B,B,XX,1,1\n",
              "line 3", "empty line");
  ExpectError(std::string(kHeader) + "aaa,A,A,XX,1,1\n", "line 2, column iata",
              "not three upper-case letters");
  ExpectError(std::string(kHeader) + "AAAA,A,A,XX,1,1\n", "line 2, column iata",
              "not three upper-case letters");
  ExpectError(std::string(kHeader) + "AAA,,A,XX,1,1\n", "line 2, column name",
              "empty");
  ExpectError(std::string(kHeader) + "AAA,A,,XX,1,1\n", "line 2, column city",
              "empty");
  ExpectError(std::string(kHeader) + "AAA,A,A,xx,1,1\n",
              "line 2, column country", "not two upper-case letters");
  // The reader finds the open quote at the end of the input, on line 3.
  ExpectError(std::string(kHeader) + "AAA,\"A,A,XX,1,1\n", "line 3",
              "bad quoting");
  ExpectError(std::string(kHeader) + "AAA,A\"A,A,XX,1,1\n", "line 2",
              "bad quoting");
}

TEST(AirportTableTest, LineNumbersCountLinesInsideQuotedFields) {
  ExpectError(std::string(kHeader) + "AAA,\"Two\nlines\",A,XX,1,1\n" +
                  "BBB,B,B,XX,95,1\n",
              "line 4, column latitude", "outside");
}

}  // namespace
}  // namespace mileagebank::airports
