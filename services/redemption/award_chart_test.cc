#include "services/redemption/award_chart.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/airports/airports.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::redemption {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const absl::CivilDay kToday(2026, 3, 1);
constexpr char kField[] = "standard.itinerary";

const airports::AirportTable& Airports() {
  return airports::AirportTable::Builtin();
}

// The rounded great-circle miles between two airports of the built-in table.
int64_t Miles(const char* from, const char* to) {
  const airports::Airport* a = Airports().Find(from);
  const airports::Airport* b = Airports().Find(to);
  EXPECT_NE(a, nullptr) << from;
  EXPECT_NE(b, nullptr) << to;
  if (a == nullptr || b == nullptr) return 0;
  return airports::GreatCircleMiles(*a, *b);
}

v1::Segment Seg(const char* origin, const char* destination,
                absl::CivilDay date = kToday + 10, const char* carrier = "FM",
                int flight_number = 101) {
  v1::Segment segment;
  segment.set_carrier(carrier);
  segment.set_flight_number(flight_number);
  *segment.mutable_flight_date() = validation::ToProtoDate(date);
  segment.set_origin(origin);
  segment.set_destination(destination);
  return segment;
}

v1::Journey Journey(std::initializer_list<v1::Segment> segments) {
  v1::Journey journey;
  for (const v1::Segment& segment : segments) *journey.add_segments() = segment;
  return journey;
}

v1::Itinerary Itinerary(v1::JourneyType type, v1::Journey outbound,
                        v1::Journey inbound = v1::Journey()) {
  v1::Itinerary itinerary;
  itinerary.set_journey_type(type);
  *itinerary.mutable_outbound() = std::move(outbound);
  *itinerary.mutable_inbound() = std::move(inbound);
  return itinerary;
}

absl::StatusOr<ItineraryCheck> Check(const v1::Itinerary& itinerary) {
  return CheckItinerary(itinerary, kField, Airports(), kToday);
}

// The field names of the violations `status` carries, in order.
std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  auto details = GetErrorDetails(status);
  if (!details.has_value()) return fields;
  for (const auto& violation : details->field_violations()) {
    fields.push_back(violation.field());
  }
  return fields;
}

// The fields `itinerary` is rejected for (empty, and a test failure, when it
// is accepted).
std::vector<std::string> Rejected(const v1::Itinerary& itinerary) {
  absl::StatusOr<ItineraryCheck> check = Check(itinerary);
  EXPECT_FALSE(check.ok());
  if (check.ok()) return {};
  EXPECT_EQ(check.status().code(), absl::StatusCode::kInvalidArgument);
  return ViolatedFields(check.status());
}

std::string Seg0(const char* journey, int i, const char* name) {
  return std::string(kField) + "." + journey + ".segments[" +
         std::to_string(i) + "]." + name;
}

// ---------------------------------------------------------------------------
// The chart

struct BandPrice {
  int64_t distance;
  int64_t min_miles;
  int64_t max_miles;
  int64_t economy;
  int64_t business;
  int64_t first;
};

// Every band edge of section 5, both sides.
constexpr BandPrice kEdges[] = {
    {1, 1, 600, 8'000, 15'000, 25'000},
    {600, 1, 600, 8'000, 15'000, 25'000},
    {601, 601, 1'200, 12'000, 25'000, 40'000},
    {1'200, 601, 1'200, 12'000, 25'000, 40'000},
    {1'201, 1'201, 2'500, 20'000, 40'000, 60'000},
    {2'500, 1'201, 2'500, 20'000, 40'000, 60'000},
    {2'501, 2'501, 5'000, 35'000, 70'000, 100'000},
    {5'000, 2'501, 5'000, 35'000, 70'000, 100'000},
    {5'001, 5'001, 0, 50'000, 100'000, 150'000},
    {12'000, 5'001, 0, 50'000, 100'000, 150'000},
};

TEST(AwardChartTest, ProductDefaultPricesEveryBandEdgeInEveryCabin) {
  const AwardChart chart = AwardChart::ProductDefault();
  for (const BandPrice& edge : kEdges) {
    const struct {
      v1::Cabin cabin;
      int64_t miles;
    } cabins[] = {{v1::ECONOMY, edge.economy},
                  {v1::BUSINESS, edge.business},
                  {v1::FIRST, edge.first}};
    for (const auto& cabin : cabins) {
      SCOPED_TRACE(testing::Message() << edge.distance << " miles in "
                                      << v1::Cabin_Name(cabin.cabin));
      const v1::JourneyPrice price = chart.Price(edge.distance, cabin.cabin);
      EXPECT_EQ(price.distance_miles(), edge.distance);
      EXPECT_EQ(price.band().min_miles(), edge.min_miles);
      EXPECT_EQ(price.band().max_miles(), edge.max_miles);
      EXPECT_EQ(price.miles(), cabin.miles);
    }
  }
}

TEST(AwardChartTest, ProductDefaultHasFiveAscendingBands) {
  const AwardChart chart = AwardChart::ProductDefault();
  const std::vector<AwardChart::Band>& bands = chart.bands();
  ASSERT_EQ(bands.size(), 5u);
  EXPECT_EQ(bands.front().min_miles, 1);
  EXPECT_EQ(bands.back().max_miles, 0);
  for (size_t i = 1; i < bands.size(); ++i) {
    EXPECT_EQ(bands[i].min_miles, bands[i - 1].max_miles + 1);
  }
}

TEST(AwardChartTest, DistanceBelowOneIsPricedInTheFirstBand) {
  const v1::JourneyPrice price =
      AwardChart::ProductDefault().Price(0, v1::ECONOMY);
  EXPECT_EQ(price.distance_miles(), 0);
  EXPECT_EQ(price.band().min_miles(), 1);
  EXPECT_EQ(price.miles(), 8'000);
}

TEST(AwardChartDeathTest, PricingAnUncheckedCabinAborts) {
  const AwardChart chart = AwardChart::ProductDefault();
  EXPECT_DEATH(chart.Price(100, v1::CABIN_UNSPECIFIED), "cabin 0");
}

config::v1::AwardBand ConfigBand(int64_t max_miles, int64_t economy,
                                 int64_t business, int64_t first) {
  config::v1::AwardBand band;
  band.set_max_miles(max_miles);
  band.set_economy(economy);
  band.set_business(business);
  band.set_first(first);
  return band;
}

google::protobuf::RepeatedPtrField<config::v1::AwardBand> ConfigBands(
    std::initializer_list<config::v1::AwardBand> bands) {
  google::protobuf::RepeatedPtrField<config::v1::AwardBand> result;
  for (const auto& band : bands) *result.Add() = band;
  return result;
}

TEST(AwardChartTest, FromEmptyConfigIsTheProductDefault) {
  absl::StatusOr<AwardChart> chart = AwardChart::FromConfig(ConfigBands({}));
  ASSERT_TRUE(chart.ok()) << chart.status();
  for (const BandPrice& edge : kEdges) {
    EXPECT_EQ(chart->Price(edge.distance, v1::FIRST).miles(), edge.first)
        << edge.distance;
  }
}

TEST(AwardChartTest, FromConfigPricesItsOwnBands) {
  absl::StatusOr<AwardChart> chart = AwardChart::FromConfig(ConfigBands({
      ConfigBand(1'000, 10'000, 20'000, 30'000),
      ConfigBand(3'000, 15'000, 15'000, 45'000),
      ConfigBand(0, 40'000, 80'000, 80'000),
  }));
  ASSERT_TRUE(chart.ok()) << chart.status();
  v1::JourneyPrice price = chart->Price(1'000, v1::BUSINESS);
  EXPECT_EQ(price.band().min_miles(), 1);
  EXPECT_EQ(price.band().max_miles(), 1'000);
  EXPECT_EQ(price.miles(), 20'000);
  price = chart->Price(1'001, v1::ECONOMY);
  EXPECT_EQ(price.band().min_miles(), 1'001);
  EXPECT_EQ(price.band().max_miles(), 3'000);
  EXPECT_EQ(price.miles(), 15'000);
  price = chart->Price(3'001, v1::FIRST);
  EXPECT_EQ(price.band().min_miles(), 3'001);
  EXPECT_EQ(price.band().max_miles(), 0);
  EXPECT_EQ(price.miles(), 80'000);

  absl::StatusOr<AwardChart> one =
      AwardChart::FromConfig(ConfigBands({ConfigBand(0, 1, 2, 3)}));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->Price(99'999, v1::FIRST).miles(), 3);
}

TEST(AwardChartTest, FromConfigNamesEveryBadField) {
  absl::StatusOr<AwardChart> chart = AwardChart::FromConfig(ConfigBands({
      ConfigBand(0, 8'000, 15'000, 25'000),         // 0 before the last
      ConfigBand(600, 0, 15'000, 25'000),           // economy not positive
      ConfigBand(500, 12'000, 10'000, 40'000),      // descends; business < eco
      ConfigBand(2'500, 20'000, 40'000, 30'000),    // first < business
      ConfigBand(5'000, -1, -2, 100'000'000),       // every price out of range
      ConfigBand(6'000, 50'000, 100'000, 150'000),  // last is not 0
  }));
  ASSERT_FALSE(chart.ok());
  EXPECT_EQ(chart.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(chart.status()),
              UnorderedElementsAre("bands[0].max_miles", "bands[1].economy",
                                   "bands[2].max_miles", "bands[2].business",
                                   "bands[3].first", "bands[4].economy",
                                   "bands[4].business", "bands[4].first",
                                   "bands[5].max_miles"));
}

TEST(AwardChartTest, FromConfigRejectsEqualMaxMilesAndHugeBands) {
  absl::StatusOr<AwardChart> equal = AwardChart::FromConfig(ConfigBands({
      ConfigBand(600, 1, 1, 1),
      ConfigBand(600, 1, 1, 1),
      ConfigBand(0, 1, 1, 1),
  }));
  EXPECT_THAT(ViolatedFields(equal.status()),
              ElementsAre("bands[1].max_miles"));
  EXPECT_THAT(equal.status().message(), HasSubstr("bands[0].max_miles (600)"));

  absl::StatusOr<AwardChart> huge = AwardChart::FromConfig(ConfigBands({
      ConfigBand(INT64_MAX, 1, 1, 1),
      ConfigBand(0, 1, 1, 1),
  }));
  EXPECT_THAT(ViolatedFields(huge.status()), ElementsAre("bands[0].max_miles"));

  absl::StatusOr<AwardChart> negative = AwardChart::FromConfig(ConfigBands({
      ConfigBand(-5, 1, 1, 1),
      ConfigBand(-1, 1, 1, 1),
  }));
  EXPECT_THAT(ViolatedFields(negative.status()),
              ElementsAre("bands[0].max_miles", "bands[1].max_miles"));
}

// ---------------------------------------------------------------------------
// Distances and prices of itineraries

TEST(ItineraryTest, PekPvgIs683Miles) {
  EXPECT_EQ(Miles("PEK", "PVG"), 683);
  EXPECT_EQ(SegmentMiles(Seg("PEK", "PVG"), Airports()), 683);
  EXPECT_EQ(SegmentMiles(Seg("PEK", "XXX"), Airports()), 0);
}

TEST(ItineraryTest, OneWayCostsItsOneWayPrice) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "LAX", kToday)}));
  absl::StatusOr<ItineraryCheck> check = Check(itinerary);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->carrier, "FM");
  EXPECT_EQ(check->outbound_miles, Miles("PEK", "LAX"));
  EXPECT_EQ(check->inbound_miles, 0);
  EXPECT_EQ(check->first_flight_date, kToday);
  ASSERT_EQ(check->segments.size(), 1u);
  EXPECT_EQ(check->segments[0].segment, &itinerary.outbound().segments(0));
  EXPECT_EQ(check->segments[0].field,
            "standard.itinerary.outbound.segments[0]");
  EXPECT_EQ(check->segments[0].flight_date, kToday);
  EXPECT_EQ(check->segments[0].distance_miles, Miles("PEK", "LAX"));

  const Quote quote = PriceItinerary(*check, v1::ONE_WAY, v1::FIRST,
                                     AwardChart::ProductDefault());
  ASSERT_EQ(quote.prices.size(), 1u);
  EXPECT_EQ(quote.prices[0].distance_miles(), Miles("PEK", "LAX"));
  EXPECT_EQ(quote.prices[0].band().min_miles(), 5'001);
  EXPECT_EQ(quote.prices[0].miles(), 150'000);
  EXPECT_EQ(quote.miles_per_passenger, 150'000);
}

TEST(ItineraryTest, MultiSegmentJourneySumsItsSegments) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG", kToday + 3, "FM", 1),
                                      Seg("PVG", "LAX", kToday + 4, "FM", 2)}));
  absl::StatusOr<ItineraryCheck> check = Check(itinerary);
  ASSERT_TRUE(check.ok()) << check.status();
  const int64_t sum = Miles("PEK", "PVG") + Miles("PVG", "LAX");
  EXPECT_EQ(check->outbound_miles, sum);
  EXPECT_GT(sum, Miles("PEK", "LAX"));
  EXPECT_EQ(check->first_flight_date, kToday + 3);
  ASSERT_EQ(check->segments.size(), 2u);
  EXPECT_EQ(check->segments[1].field,
            "standard.itinerary.outbound.segments[1]");
  EXPECT_EQ(check->segments[1].distance_miles, Miles("PVG", "LAX"));

  const Quote quote = PriceItinerary(*check, v1::ONE_WAY, v1::ECONOMY,
                                     AwardChart::ProductDefault());
  ASSERT_EQ(quote.prices.size(), 1u);
  EXPECT_EQ(quote.prices[0].distance_miles(), sum);
  EXPECT_EQ(quote.miles_per_passenger, 50'000);
}

TEST(ItineraryTest, ConnectionCanCrossABandTheDirectDistanceWouldNot) {
  const AwardChart chart = AwardChart::ProductDefault();
  // PEK-CAN direct is in 601-1,200; via PVG the sum is in 1,201-2,500.
  const int64_t direct = Miles("PEK", "CAN");
  const int64_t sum = Miles("PEK", "PVG") + Miles("PVG", "CAN");
  ASSERT_LE(direct, 1'200);
  ASSERT_GT(sum, 1'200);

  absl::StatusOr<ItineraryCheck> via = Check(
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG"), Seg("PVG", "CAN")})));
  ASSERT_TRUE(via.ok()) << via.status();
  EXPECT_EQ(via->outbound_miles, sum);
  const Quote quote = PriceItinerary(*via, v1::ONE_WAY, v1::ECONOMY, chart);
  EXPECT_EQ(quote.prices[0].band().min_miles(), 1'201);
  EXPECT_EQ(quote.miles_per_passenger, 20'000);

  absl::StatusOr<ItineraryCheck> nonstop =
      Check(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "CAN")})));
  ASSERT_TRUE(nonstop.ok()) << nonstop.status();
  EXPECT_EQ(PriceItinerary(*nonstop, v1::ONE_WAY, v1::ECONOMY, chart)
                .miles_per_passenger,
            12'000);
}

TEST(ItineraryTest, RoundTripCostsTwiceTheOutbound) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "LAX", kToday + 1)}),
                Journey({Seg("LAX", "PEK", kToday + 8)}));
  absl::StatusOr<ItineraryCheck> check = Check(itinerary);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->inbound_miles, Miles("LAX", "PEK"));
  ASSERT_EQ(check->segments.size(), 2u);
  EXPECT_EQ(check->segments[1].segment, &itinerary.inbound().segments(0));
  EXPECT_EQ(check->segments[1].field, "standard.itinerary.inbound.segments[0]");
  const Quote quote = PriceItinerary(*check, v1::ROUND_TRIP, v1::BUSINESS,
                                     AwardChart::ProductDefault());
  ASSERT_EQ(quote.prices.size(), 2u);
  EXPECT_EQ(quote.prices[0].miles(), 100'000);
  EXPECT_EQ(quote.prices[1].miles(), 100'000);
  EXPECT_EQ(quote.miles_per_passenger, 200'000);
}

TEST(ItineraryTest, RoundTripIsTwiceTheOutboundEvenWhenTheInboundIsLonger) {
  // Out PEK-CAN nonstop (601-1,200); back CAN-PVG-PEK (1,201-2,500).
  const v1::Itinerary itinerary = Itinerary(
      v1::ROUND_TRIP, Journey({Seg("PEK", "CAN", kToday + 1)}),
      Journey({Seg("CAN", "PVG", kToday + 5), Seg("PVG", "PEK", kToday + 5)}));
  absl::StatusOr<ItineraryCheck> check = Check(itinerary);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->outbound_miles, Miles("PEK", "CAN"));
  EXPECT_EQ(check->inbound_miles, Miles("CAN", "PVG") + Miles("PVG", "PEK"));
  const Quote quote = PriceItinerary(*check, v1::ROUND_TRIP, v1::ECONOMY,
                                     AwardChart::ProductDefault());
  ASSERT_EQ(quote.prices.size(), 2u);
  EXPECT_EQ(quote.prices[0].distance_miles(), check->outbound_miles);
  EXPECT_EQ(quote.prices[0].miles(), 12'000);
  EXPECT_EQ(quote.prices[1].distance_miles(), check->inbound_miles);
  EXPECT_EQ(quote.prices[1].miles(), 20'000);
  EXPECT_EQ(quote.miles_per_passenger, 24'000);
}

TEST(ItineraryTest, OpenJawCostsTheSumOfTwoOneWays) {
  const AwardChart chart = AwardChart::ProductDefault();
  absl::StatusOr<ItineraryCheck> check =
      Check(Itinerary(v1::OPEN_JAW, Journey({Seg("PEK", "LAX", kToday + 1)}),
                      Journey({Seg("SFO", "PEK", kToday + 9)})));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->outbound_miles, Miles("PEK", "LAX"));
  EXPECT_EQ(check->inbound_miles, Miles("SFO", "PEK"));
  Quote quote = PriceItinerary(*check, v1::OPEN_JAW, v1::ECONOMY, chart);
  ASSERT_EQ(quote.prices.size(), 2u);
  EXPECT_EQ(quote.prices[0].distance_miles(), Miles("PEK", "LAX"));
  EXPECT_EQ(quote.prices[1].distance_miles(), Miles("SFO", "PEK"));
  EXPECT_EQ(quote.miles_per_passenger, 50'000 + 50'000);

  // Journeys in different bands: PEK-CAN (601-1,200), HKG-PEK (1,201-2,500).
  check = Check(Itinerary(v1::OPEN_JAW, Journey({Seg("PEK", "CAN")}),
                          Journey({Seg("HKG", "PEK")})));
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_LE(check->outbound_miles, 1'200);
  ASSERT_GT(check->inbound_miles, 1'200);
  quote = PriceItinerary(*check, v1::OPEN_JAW, v1::FIRST, chart);
  EXPECT_EQ(quote.prices[0].miles(), 40'000);
  EXPECT_EQ(quote.prices[1].miles(), 60'000);
  EXPECT_EQ(quote.miles_per_passenger, 100'000);
}

TEST(ItineraryTest, EightSegmentsAreAccepted) {
  absl::StatusOr<ItineraryCheck> check = Check(Itinerary(
      v1::ONE_WAY,
      Journey({Seg("PEK", "PVG"), Seg("PVG", "CAN"), Seg("CAN", "HKG"),
               Seg("HKG", "NRT"), Seg("NRT", "SFO"), Seg("SFO", "LAX"),
               Seg("LAX", "JFK"), Seg("JFK", "LHR")})));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->segments.size(), 8u);
  EXPECT_EQ(check->outbound_miles,
            Miles("PEK", "PVG") + Miles("PVG", "CAN") + Miles("CAN", "HKG") +
                Miles("HKG", "NRT") + Miles("NRT", "SFO") +
                Miles("SFO", "LAX") + Miles("LAX", "JFK") +
                Miles("JFK", "LHR"));
}

TEST(ItineraryTest, PartnerCarrierIsTheItinerarysCarrier) {
  absl::StatusOr<ItineraryCheck> check = Check(
      Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "NRT", kToday, "9W")}),
                Journey({Seg("NRT", "PEK", kToday, "9W")})));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->carrier, "9W");
}

TEST(ItineraryTest, FlightDatesFromTodayTo365DaysAheadAreAccepted) {
  EXPECT_TRUE(
      Check(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG", kToday)}))).ok());
  EXPECT_TRUE(
      Check(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG", kToday + 365)})))
          .ok());
}

TEST(UpgradeTest, CostsBusinessLessEconomyOfTheFlightsBand) {
  const AwardChart chart = AwardChart::ProductDefault();
  for (const BandPrice& edge : kEdges) {
    const Quote quote = PriceUpgrade(edge.distance, chart);
    ASSERT_EQ(quote.prices.size(), 2u);
    EXPECT_EQ(quote.prices[0].distance_miles(), edge.distance);
    EXPECT_EQ(quote.prices[0].band().min_miles(), edge.min_miles);
    EXPECT_EQ(quote.prices[0].miles(), edge.business) << edge.distance;
    EXPECT_EQ(quote.prices[1].band().max_miles(), edge.max_miles);
    EXPECT_EQ(quote.prices[1].miles(), edge.economy) << edge.distance;
    EXPECT_EQ(quote.miles_per_passenger, edge.business - edge.economy)
        << edge.distance;
  }
  EXPECT_EQ(PriceUpgrade(Miles("PEK", "PVG"), chart).miles_per_passenger,
            25'000 - 12'000);
}

// ---------------------------------------------------------------------------
// Validation: every failure names its field

TEST(ItineraryValidationTest, UnknownAirport) {
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG"),
                                                       Seg("PVG", "QQQ")}))),
              ElementsAre(Seg0("outbound", 1, "destination")));
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("XXX", "PVG")}))),
              ElementsAre(Seg0("outbound", 0, "origin")));
}

TEST(ItineraryValidationTest, AirportCodeNotThreeUpperCaseLetters) {
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("pek", "PVG")}))),
              ElementsAre(Seg0("outbound", 0, "origin")));
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PV")}))),
              ElementsAre(Seg0("outbound", 0, "destination")));
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("", "PVG")}))),
              ElementsAre(Seg0("outbound", 0, "origin")));
}

TEST(ItineraryValidationTest, SameOriginAndDestination) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PEK")}));
  EXPECT_THAT(Rejected(itinerary),
              ElementsAre(Seg0("outbound", 0, "destination")));
  EXPECT_THAT(Check(itinerary).status().message(),
              HasSubstr("must differ from origin"));
}

TEST(ItineraryValidationTest, BrokenConnection) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG"), Seg("SHA", "LAX")}));
  EXPECT_THAT(Rejected(itinerary), ElementsAre(Seg0("outbound", 1, "origin")));
  EXPECT_THAT(Check(itinerary).status().message(), HasSubstr("must be PVG"));
}

TEST(ItineraryValidationTest, ConnectionDatedBeforeTheSegmentBefore) {
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY,
                                 Journey({Seg("PEK", "PVG", kToday + 5),
                                          Seg("PVG", "LAX", kToday + 4)}))),
              ElementsAre(Seg0("outbound", 1, "flight_date")));
}

TEST(ItineraryValidationTest, JourneyEndingWhereItStarts) {
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG"),
                                                       Seg("PVG", "PEK")}))),
              ElementsAre(Seg0("outbound", 1, "destination")));
  EXPECT_THAT(
      Rejected(Itinerary(v1::OPEN_JAW, Journey({Seg("PEK", "LAX")}),
                         Journey({Seg("SFO", "LAX"), Seg("LAX", "SFO")}))),
      ElementsAre(Seg0("inbound", 1, "destination")));
}

TEST(ItineraryValidationTest, FlightDateBeforeToday) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG", kToday - 1)}));
  EXPECT_THAT(Rejected(itinerary),
              ElementsAre(Seg0("outbound", 0, "flight_date")));
  EXPECT_THAT(Check(itinerary).status().message(), HasSubstr("2026-03-01"));
}

TEST(ItineraryValidationTest, FlightDateMoreThan365DaysAhead) {
  EXPECT_THAT(Rejected(Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "PVG")}),
                                 Journey({Seg("PVG", "PEK", kToday + 366)}))),
              ElementsAre(Seg0("inbound", 0, "flight_date")));
}

TEST(ItineraryValidationTest, FlightDateNotARealDay) {
  v1::Segment segment = Seg("PEK", "PVG");
  segment.mutable_flight_date()->set_month(2);
  segment.mutable_flight_date()->set_day(30);
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({segment}))),
              ElementsAre(Seg0("outbound", 0, "flight_date")));
  segment.clear_flight_date();
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({segment}))),
              ElementsAre(Seg0("outbound", 0, "flight_date")));
}

TEST(ItineraryValidationTest, InboundBeforeTheOutboundsLastFlight) {
  EXPECT_THAT(Rejected(Itinerary(v1::ROUND_TRIP,
                                 Journey({Seg("PEK", "PVG", kToday + 5),
                                          Seg("PVG", "LAX", kToday + 6)}),
                                 Journey({Seg("LAX", "PEK", kToday + 5)}))),
              ElementsAre(Seg0("inbound", 0, "flight_date")));
  // The same day is allowed.
  EXPECT_TRUE(
      Check(Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "LAX", kToday + 6)}),
                      Journey({Seg("LAX", "PEK", kToday + 6)})))
          .ok());
}

TEST(ItineraryValidationTest, MixedCarriersNameTheFirstThatDiffers) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ROUND_TRIP,
                Journey({Seg("PEK", "PVG", kToday, "FM"),
                         Seg("PVG", "LAX", kToday, "FM")}),
                Journey({
                    Seg("LAX", "NRT", kToday, "FM"),
                    Seg("NRT", "PEK", kToday, "NH"),
                }));
  EXPECT_THAT(Rejected(itinerary), ElementsAre(Seg0("inbound", 1, "carrier")));
  EXPECT_THAT(Check(itinerary).status().message(),
              HasSubstr("must be FM as in standard.itinerary.outbound."
                        "segments[0]"));

  // Only the first that differs is named.
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY,
                                 Journey({Seg("PEK", "PVG", kToday, "FM"),
                                          Seg("PVG", "CAN", kToday, "MU"),
                                          Seg("CAN", "HKG", kToday, "CZ")}))),
              ElementsAre(Seg0("outbound", 1, "carrier")));
}

TEST(ItineraryValidationTest, CarrierNotAnIataDesignator) {
  for (const char* carrier : {"", "F", "FMX", "fm", "12", "F-"}) {
    EXPECT_THAT(
        Rejected(Itinerary(v1::ONE_WAY,
                           Journey({Seg("PEK", "PVG", kToday, carrier)}))),
        ElementsAre(Seg0("outbound", 0, "carrier")))
        << '"' << carrier << '"';
  }
  // A bad carrier is not also reported as a different carrier.
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY,
                                 Journey({Seg("PEK", "PVG", kToday, "fm"),
                                          Seg("PVG", "LAX", kToday, "FM")}))),
              ElementsAre(Seg0("outbound", 0, "carrier")));
}

TEST(ItineraryValidationTest, FlightNumberOutOfRange) {
  for (int number : {0, -1, 10'000}) {
    EXPECT_THAT(
        Rejected(Itinerary(v1::ONE_WAY,
                           Journey({Seg("PEK", "PVG", kToday, "FM", number)}))),
        ElementsAre(Seg0("outbound", 0, "flight_number")))
        << number;
  }
  EXPECT_TRUE(Check(Itinerary(v1::ONE_WAY,
                              Journey({Seg("PEK", "PVG", kToday, "FM", 9999)})))
                  .ok());
}

TEST(ItineraryValidationTest, NineSegments) {
  EXPECT_THAT(
      Rejected(Itinerary(
          v1::ONE_WAY,
          Journey({Seg("PEK", "PVG"), Seg("PVG", "CAN"), Seg("CAN", "HKG"),
                   Seg("HKG", "NRT"), Seg("NRT", "SFO"), Seg("SFO", "LAX"),
                   Seg("LAX", "JFK"), Seg("JFK", "LHR"), Seg("LHR", "DXB")}))),
      ElementsAre("standard.itinerary.outbound.segments"));
}

TEST(ItineraryValidationTest, RoundTripThatIsReallyAnOpenJaw) {
  const v1::Itinerary itinerary =
      Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "LAX")}),
                Journey({Seg("SFO", "PEK")}));
  EXPECT_THAT(Rejected(itinerary),
              ElementsAre("standard.itinerary.journey_type"));
  EXPECT_THAT(Check(itinerary).status().message(),
              HasSubstr("this is an OPEN_JAW, not a ROUND_TRIP"));
}

TEST(ItineraryValidationTest, RoundTripToAnotherAirportOfTheSameCity) {
  // PVG and SHA are both Shanghai: a round trip must reverse the airports.
  EXPECT_THAT(Rejected(Itinerary(v1::ROUND_TRIP, Journey({Seg("PEK", "PVG")}),
                                 Journey({Seg("SHA", "PEK")}))),
              ElementsAre("standard.itinerary.journey_type"));
  // It is an open jaw.
  EXPECT_TRUE(Check(Itinerary(v1::OPEN_JAW, Journey({Seg("PEK", "PVG")}),
                              Journey({Seg("SHA", "PEK")})))
                  .ok());
}

TEST(ItineraryValidationTest, OpenJawThatIsReallyARoundTrip) {
  const v1::Itinerary itinerary =
      Itinerary(v1::OPEN_JAW, Journey({Seg("PEK", "PVG"), Seg("PVG", "LAX")}),
                Journey({Seg("LAX", "PEK")}));
  EXPECT_THAT(Rejected(itinerary),
              ElementsAre("standard.itinerary.journey_type"));
  EXPECT_THAT(Check(itinerary).status().message(),
              HasSubstr("this is a ROUND_TRIP, not an OPEN_JAW"));
}

TEST(ItineraryValidationTest, MissingInbound) {
  for (v1::JourneyType type : {v1::ROUND_TRIP, v1::OPEN_JAW}) {
    EXPECT_THAT(Rejected(Itinerary(type, Journey({Seg("PEK", "PVG")}))),
                ElementsAre("standard.itinerary.inbound"))
        << v1::JourneyType_Name(type);
  }
}

TEST(ItineraryValidationTest, InboundOnOneWay) {
  EXPECT_THAT(Rejected(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG")}),
                                 Journey({Seg("PVG", "PEK")}))),
              ElementsAre("standard.itinerary.inbound"));
}

TEST(ItineraryValidationTest, MissingJourneyTypeAndOutbound) {
  EXPECT_THAT(Rejected(Itinerary(v1::JOURNEY_TYPE_UNSPECIFIED, v1::Journey())),
              ElementsAre("standard.itinerary.journey_type",
                          "standard.itinerary.outbound"));
  v1::Itinerary unknown = Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "PVG")}));
  unknown.set_journey_type(static_cast<v1::JourneyType>(7));
  EXPECT_THAT(Rejected(unknown),
              ElementsAre("standard.itinerary.journey_type"));
}

TEST(ItineraryValidationTest, ReportsEveryViolation) {
  v1::Segment bad = Seg("PEK", "PEK", kToday - 3, "F", 0);
  EXPECT_THAT(
      Rejected(Itinerary(v1::ROUND_TRIP,
                         Journey({Seg("PEK", "XXX"), Seg("PVG", "LAX")}),
                         Journey({Seg("LAX", "PEK", kToday + 400), bad}))),
      UnorderedElementsAre(
          Seg0("outbound", 0, "destination"), Seg0("inbound", 0, "flight_date"),
          Seg0("inbound", 1, "carrier"), Seg0("inbound", 1, "flight_number"),
          Seg0("inbound", 1, "flight_date"),
          Seg0("inbound", 1, "destination")));
}

TEST(ItineraryValidationTest, EmptyFieldNamesPathsFromTheItinerary) {
  absl::StatusOr<ItineraryCheck> check =
      CheckItinerary(Itinerary(v1::ONE_WAY, Journey({Seg("PEK", "XXX")})), "",
                     Airports(), kToday);
  EXPECT_THAT(ViolatedFields(check.status()),
              ElementsAre("outbound.segments[0].destination"));
}

// ---------------------------------------------------------------------------
// Segments of upgrades, cabins, passengers

TEST(CheckSegmentTest, AcceptsAValidSegment) {
  EXPECT_TRUE(
      CheckSegment(Seg("PEK", "PVG"), "upgrade.segment", Airports(), kToday)
          .ok());
}

TEST(CheckSegmentTest, NamesEveryBadField) {
  const absl::Status status =
      CheckSegment(v1::Segment(), "upgrade.segment", Airports(), kToday);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      ViolatedFields(status),
      ElementsAre("upgrade.segment.carrier", "upgrade.segment.flight_number",
                  "upgrade.segment.flight_date", "upgrade.segment.origin",
                  "upgrade.segment.destination"));
  EXPECT_THAT(ViolatedFields(CheckSegment(Seg("LAX", "LAX", kToday + 366),
                                          "segment", Airports(), kToday)),
              ElementsAre("segment.flight_date", "segment.destination"));
}

TEST(CheckCabinTest, OnlyTheThreeCabins) {
  for (v1::Cabin cabin : {v1::ECONOMY, v1::BUSINESS, v1::FIRST}) {
    EXPECT_TRUE(CheckCabin(cabin, "cabin").ok()) << v1::Cabin_Name(cabin);
  }
  EXPECT_THAT(
      ViolatedFields(CheckCabin(v1::CABIN_UNSPECIFIED, "standard.cabin")),
      ElementsAre("standard.cabin"));
  EXPECT_THAT(ViolatedFields(CheckCabin(static_cast<v1::Cabin>(4), "cabin")),
              ElementsAre("cabin"));
}

TEST(CheckPassengerCountTest, OneToNine) {
  for (int n = 1; n <= 9; ++n) {
    EXPECT_TRUE(CheckPassengerCount(n, "passengers").ok()) << n;
  }
  for (int n : {0, -1, 10}) {
    const absl::Status status = CheckPassengerCount(n, "passengers");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(ViolatedFields(status), ElementsAre("passengers")) << n;
  }
}

}  // namespace
}  // namespace mileagebank::redemption
