// The award chart and the checks of what an award redeems (product rules
// section 5): the one-way price of a journey by its great-circle distance
// band and cabin, the field rules of an itinerary and of a segment
// (redemption.proto), and the price of an itinerary or an upgrade.
//
//   const AwardChart chart = AwardChart::ProductDefault();
//   absl::StatusOr<ItineraryCheck> check = CheckItinerary(
//       request.itinerary(), "itinerary", airports::AirportTable::Builtin(),
//       today);
//   if (!check.ok()) return check.status();  // every violation, by field
//   Quote quote = PriceItinerary(*check, request.itinerary().journey_type(),
//                                v1::BUSINESS, chart);
//   // PEK-LAX and back in BUSINESS: prices {6,237 mi: 100,000, 6,237 mi:
//   // 100,000}, miles_per_passenger 200,000
//
// Plain C++: no gRPC, no store. Errors are INVALID_ARGUMENT built with
// FieldErrors, naming every field at fault by its full path
// ("itinerary.outbound.segments[1].origin").
//
// Thread-safe: the functions are pure and an AwardChart is immutable once
// made.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_AWARD_CHART_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_AWARD_CHART_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_field.h"
#include "libs/airports/airports.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::redemption {

// Segments per journey (Journey).
inline constexpr int kMaxSegmentsPerJourney = 8;
// A flight may be redeemed from today to this many days after today.
inline constexpr int kMaxDaysAhead = 365;
// Passengers per award (QuoteAwardRequest.passengers).
inline constexpr int kMaxPassengers = 9;
// The highest one-way price a configured band may set; keeps every total
// (x 2 for a round trip, x 9 passengers) far inside int64.
inline constexpr int64_t kMaxBandPriceMiles = 10'000'000;
// The highest max_miles a configured band may set (no journey of 8
// segments comes near it).
inline constexpr int64_t kMaxBandMiles = 1'000'000;

// The distance bands of the award chart with each band's one-way price per
// passenger in each cabin.
class AwardChart {
 public:
  struct Band {
    // Inclusive bounds; max_miles 0 for the last band (no upper bound).
    int64_t min_miles;
    int64_t max_miles;
    int64_t economy;
    int64_t business;
    int64_t first;
  };

  // Section 5's chart: 1-600 8,000 / 15,000 / 25,000; 601-1,200 12,000 /
  // 25,000 / 40,000; 1,201-2,500 20,000 / 40,000 / 60,000; 2,501-5,000
  // 35,000 / 70,000 / 100,000; 5,001 and more 50,000 / 100,000 / 150,000
  // (ECONOMY / BUSINESS / FIRST).
  static AwardChart ProductDefault();

  // The chart `bands` describe (RedemptionConfig.bands); no bands: the
  // product default. Each band's max_miles is above the one before (the
  // first at least 1) and at most kMaxBandMiles, except the last band's,
  // which is 0; each price is 1
  // to kMaxBandPriceMiles, and economy <= business <= first. Errors are
  // INVALID_ARGUMENT naming every field at fault as "bands[i].<field>"
  // ("bands[2].max_miles"); a caller merges them under where the bands sit.
  static absl::StatusOr<AwardChart> FromConfig(
      const google::protobuf::RepeatedPtrField<config::v1::AwardBand>& bands);

  // The one-way price of a journey of `distance_miles` in `cabin`: the
  // distance as given, the band it falls in and the band's price in the
  // cabin. A distance below 1 is priced in the first band. `cabin` must be
  // ECONOMY, BUSINESS or FIRST (see CheckCabin): any other value is a
  // broken invariant and aborts the process.
  v1::JourneyPrice Price(int64_t distance_miles, v1::Cabin cabin) const;

  // Ascending; the last band's max_miles is 0.
  const std::vector<Band>& bands() const { return bands_; }

 private:
  explicit AwardChart(std::vector<Band> bands) : bands_(std::move(bands)) {}

  std::vector<Band> bands_;
};

// One segment of an itinerary that passed CheckItinerary.
struct CheckedSegment {
  // Points into the itinerary checked, which must outlive it.
  const v1::Segment* segment;
  // Its full path ("standard.itinerary.inbound.segments[0]"), for errors
  // about the flight found later (no award seats, say).
  std::string field;
  absl::CivilDay flight_date;
  // Great-circle distance, rounded to the mile.
  int64_t distance_miles;
};

// What CheckItinerary learned of a valid itinerary.
struct ItineraryCheck {
  // The one carrier of every segment.
  std::string carrier;
  // Every segment: the outbound's in order, then the inbound's.
  std::vector<CheckedSegment> segments;
  // Sum of each journey's segments' distances; inbound_miles is 0 when
  // there is no inbound (ONE_WAY).
  int64_t outbound_miles = 0;
  int64_t inbound_miles = 0;
  // The outbound's first flight date: the earliest of the itinerary.
  absl::CivilDay first_flight_date;
};

// Checks `itinerary` by the rules of redemption.proto (Itinerary, Journey,
// Segment and the file header) and measures its journeys. `field` is where
// the itinerary sits in the request ("standard.itinerary"); every violation
// is reported under it, with its full path:
// - journey_type: ONE_WAY, ROUND_TRIP or OPEN_JAW;
// - outbound: 1 to 8 segments; inbound: empty for ONE_WAY, 1 to 8 segments
//   otherwise, its first flight date not before the outbound's last;
// - each segment (CheckSegment), and each segment after the first of a
//   journey starting where the one before ends and not dated before it;
//   a journey may not end where it starts;
// - ROUND_TRIP: the inbound goes from the outbound's destination back to its
//   origin exactly; OPEN_JAW: it does not (journey_type names either fault);
// - one carrier for every segment: the first segment whose carrier differs
//   from the first valid carrier is named.
// Rules between segments are checked only where the fields they compare are
// valid themselves, so that one fault is not reported twice. OK: the
// carrier, the segments and the distances; the itinerary must outlive the
// result.
absl::StatusOr<ItineraryCheck> CheckItinerary(
    const v1::Itinerary& itinerary, absl::string_view field,
    const airports::AirportTable& airports, absl::CivilDay today);

// Checks one segment by the file header's rules: carrier a 2-character IATA
// designator (A-Z, 0-9, at least one letter); flight_number 1 to 9999;
// flight_date a valid date from `today` to 365 days after; origin and
// destination three upper-case letters, in `airports`, different. Every
// violation is named under `field` ("upgrade.segment.origin"). For an
// upgrade's flight (the caller checks it is on the host carrier).
absl::Status CheckSegment(const v1::Segment& segment, absl::string_view field,
                          const airports::AirportTable& airports,
                          absl::CivilDay today);

// The price of an award per passenger.
struct Quote {
  // A standard award: the outbound's one-way price, then the inbound's when
  // there is one. An upgrade: the flight's BUSINESS price, then its ECONOMY
  // price.
  std::vector<v1::JourneyPrice> prices;
  int64_t miles_per_passenger = 0;
};

// The price of an itinerary that passed CheckItinerary with journey type
// `type`, in `cabin` (ECONOMY, BUSINESS or FIRST): each journey priced on its
// own distance; miles_per_passenger is the outbound's price for ONE_WAY,
// twice the outbound's for ROUND_TRIP (whatever the inbound's distance) and
// the sum of both for OPEN_JAW.
Quote PriceItinerary(const ItineraryCheck& check, v1::JourneyType type,
                     v1::Cabin cabin, const AwardChart& chart);

// The price of an upgrade award (ECONOMY to BUSINESS) on one flight of
// `distance_miles`: prices {BUSINESS, ECONOMY} of the flight's band and
// miles_per_passenger their difference.
Quote PriceUpgrade(int64_t distance_miles, const AwardChart& chart);

// The great-circle distance of a segment that passed CheckSegment, rounded
// to the mile; 0 when either airport is not in `airports`.
int64_t SegmentMiles(const v1::Segment& segment,
                     const airports::AirportTable& airports);

// InvalidField(field, ...) unless `cabin` is ECONOMY, BUSINESS or FIRST.
absl::Status CheckCabin(v1::Cabin cabin, absl::string_view field);

// InvalidField(field, ...) unless `passengers` is 1 to 9.
absl::Status CheckPassengerCount(int passengers, absl::string_view field);

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_AWARD_CHART_H_
