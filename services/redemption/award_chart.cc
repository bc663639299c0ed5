#include "services/redemption/award_chart.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"

namespace mileagebank::redemption {
namespace {

constexpr int kMaxFlightNumber = 9999;

// Product rules section 5.
constexpr AwardChart::Band kDefaultBands[] = {
    {1, 600, 8'000, 15'000, 25'000},
    {601, 1'200, 12'000, 25'000, 40'000},
    {1'201, 2'500, 20'000, 40'000, 60'000},
    {2'501, 5'000, 35'000, 70'000, 100'000},
    {5'001, 0, 50'000, 100'000, 150'000},
};

// `prefix`.`name`, or `name` alone when there is no prefix.
std::string Path(absl::string_view prefix, absl::string_view name) {
  if (prefix.empty()) return std::string(name);
  return absl::StrCat(prefix, ".", name);
}

bool IsCarrier(absl::string_view carrier) {
  return carrier.size() == 2 &&
         std::all_of(carrier.begin(), carrier.end(),
                     [](char c) {
                       return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
                     }) &&
         std::any_of(carrier.begin(), carrier.end(),
                     [](char c) { return absl::ascii_isupper(c); });
}

bool IsAirportCode(absl::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c);
         });
}

// The airport `code` names, or nullptr after adding the violation.
const airports::Airport* CheckAirport(FieldErrors& errors,
                                      const std::string& field,
                                      absl::string_view code,
                                      const airports::AirportTable& airports) {
  if (!IsAirportCode(code)) {
    errors.Add(field,
               "must be three upper-case letters (an IATA airport code)");
    return nullptr;
  }
  const airports::Airport* airport = airports.Find(code);
  if (airport == nullptr) {
    errors.Add(field, absl::StrCat("unknown airport ", code));
  }
  return airport;
}

// One segment as checked; each member is set only where its field is valid.
struct SegmentFacts {
  const v1::Segment* segment = nullptr;
  // Full path of the segment.
  std::string field;
  bool carrier_ok = false;
  absl::optional<absl::CivilDay> date;
  const airports::Airport* origin = nullptr;
  const airports::Airport* destination = nullptr;
  int64_t miles = 0;
};

SegmentFacts CheckSegmentInto(FieldErrors& errors, const v1::Segment& segment,
                              std::string field,
                              const airports::AirportTable& airports,
                              absl::CivilDay today) {
  SegmentFacts facts;
  facts.segment = &segment;
  facts.field = std::move(field);
  const std::string& prefix = facts.field;

  facts.carrier_ok = IsCarrier(segment.carrier());
  if (!facts.carrier_ok) {
    errors.Add(Path(prefix, "carrier"),
               "must be a 2-character IATA airline designator (A-Z and 0-9, "
               "at least one letter)");
  }
  if (segment.flight_number() < 1 ||
      segment.flight_number() > kMaxFlightNumber) {
    errors.Add(Path(prefix, "flight_number"),
               absl::StrCat("must be 1 to ", kMaxFlightNumber));
  }

  const std::string date_field = Path(prefix, "flight_date");
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay(date_field, segment.flight_date());
  if (!date.ok()) {
    errors.Merge("", date.status());
  } else if (*date < today) {
    errors.Add(date_field, absl::StrCat("must not be before today (",
                                        validation::FormatDate(today), ")"));
  } else if (*date > today + kMaxDaysAhead) {
    errors.Add(
        date_field,
        absl::StrCat("must be at most ", kMaxDaysAhead,
                     " days after today (on or before ",
                     validation::FormatDate(today + kMaxDaysAhead), ")"));
  } else {
    facts.date = *date;
  }

  facts.origin =
      CheckAirport(errors, Path(prefix, "origin"), segment.origin(), airports);
  facts.destination = CheckAirport(errors, Path(prefix, "destination"),
                                   segment.destination(), airports);
  if (facts.origin != nullptr && facts.origin == facts.destination) {
    errors.Add(
        Path(prefix, "destination"),
        absl::StrCat("must differ from origin (", segment.origin(), ")"));
  } else if (facts.origin != nullptr && facts.destination != nullptr) {
    facts.miles = airports::GreatCircleMiles(*facts.origin, *facts.destination);
  }
  return facts;
}

// One journey as checked: its segments' facts, in order, and its distance.
struct JourneyFacts {
  std::vector<SegmentFacts> segments;
  int64_t miles = 0;

  const airports::Airport* origin() const {
    return segments.empty() ? nullptr : segments.front().origin;
  }
  const airports::Airport* destination() const {
    return segments.empty() ? nullptr : segments.back().destination;
  }
};

JourneyFacts CheckJourney(FieldErrors& errors, const v1::Journey& journey,
                          const std::string& field,
                          const airports::AirportTable& airports,
                          absl::CivilDay today) {
  JourneyFacts facts;
  const int count = journey.segments_size();
  if (count > kMaxSegmentsPerJourney) {
    errors.Add(Path(field, "segments"),
               absl::StrCat("must be 1 to ", kMaxSegmentsPerJourney,
                            " segments, not ", count));
  }
  for (int i = 0; i < count; ++i) {
    facts.segments.push_back(CheckSegmentInto(
        errors, journey.segments(i),
        Path(field, absl::StrCat("segments[", i, "]")), airports, today));
    facts.miles += facts.segments.back().miles;
  }
  for (int i = 1; i < count; ++i) {
    const SegmentFacts& before = facts.segments[i - 1];
    const SegmentFacts& segment = facts.segments[i];
    if (before.destination != nullptr && segment.origin != nullptr &&
        before.destination != segment.origin) {
      errors.Add(Path(segment.field, "origin"),
                 absl::StrCat("must be ", before.destination->code,
                              ", where segments[", i - 1,
                              "] ends: a journey's segments connect"));
    }
    if (before.date.has_value() && segment.date.has_value() &&
        *segment.date < *before.date) {
      errors.Add(
          Path(segment.field, "flight_date"),
          absl::StrCat("must not be before segments[", i - 1, "].flight_date (",
                       validation::FormatDate(*before.date), ")"));
    }
  }
  // One segment ending where it starts is already "must differ from origin".
  if (count > 1 && facts.origin() != nullptr &&
      facts.origin() == facts.destination()) {
    errors.Add(Path(facts.segments.back().field, "destination"),
               absl::StrCat("a journey may not end where it starts (",
                            facts.origin()->code, ")"));
  }
  return facts;
}

}  // namespace

AwardChart AwardChart::ProductDefault() {
  return AwardChart(
      std::vector<Band>(std::begin(kDefaultBands), std::end(kDefaultBands)));
}

absl::StatusOr<AwardChart> AwardChart::FromConfig(
    const google::protobuf::RepeatedPtrField<config::v1::AwardBand>& bands) {
  if (bands.empty()) return ProductDefault();
  FieldErrors errors;
  std::vector<Band> chart;
  int64_t min_miles = 1;
  for (int i = 0; i < bands.size(); ++i) {
    const config::v1::AwardBand& band = bands[i];
    const std::string field = absl::StrCat("bands[", i, "]");
    const bool last = i == bands.size() - 1;
    if (last) {
      if (band.max_miles() != 0) {
        errors.Add(field + ".max_miles",
                   "must be 0: the last band has no upper bound");
      }
    } else if (band.max_miles() > kMaxBandMiles) {
      errors.Add(field + ".max_miles",
                 absl::StrCat("must be at most ", kMaxBandMiles));
    } else if (band.max_miles() < min_miles) {
      errors.Add(
          field + ".max_miles",
          i == 0 ? std::string("must be at least 1 (0 only on the last "
                               "band)")
                 : absl::StrCat("must be above bands[", i - 1, "].max_miles (",
                                min_miles - 1, "): bands ascend"));
    }
    const struct {
      const char* name;
      int64_t miles;
    } prices[] = {{"economy", band.economy()},
                  {"business", band.business()},
                  {"first", band.first()}};
    bool prices_ok = true;
    for (const auto& price : prices) {
      if (price.miles < 1 || price.miles > kMaxBandPriceMiles) {
        errors.Add(absl::StrCat(field, ".", price.name),
                   absl::StrCat("must be 1 to ", kMaxBandPriceMiles));
        prices_ok = false;
      }
    }
    if (prices_ok) {
      if (band.business() < band.economy()) {
        errors.Add(
            field + ".business",
            absl::StrCat("must not be below economy (", band.economy(), ")"));
      }
      if (band.first() < band.business()) {
        errors.Add(
            field + ".first",
            absl::StrCat("must not be below business (", band.business(), ")"));
      }
    }
    chart.push_back(Band{min_miles, last ? 0 : band.max_miles(), band.economy(),
                         band.business(), band.first()});
    // After a bad max_miles, later bands are still checked for ascending
    // against the best guess of where this one ends.
    if (band.max_miles() <= kMaxBandMiles) {
      min_miles = std::max(min_miles, band.max_miles() + 1);
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  return AwardChart(std::move(chart));
}

v1::JourneyPrice AwardChart::Price(int64_t distance_miles,
                                   v1::Cabin cabin) const {
  const Band* band = &bands_.back();
  for (const Band& candidate : bands_) {
    if (candidate.max_miles == 0 || distance_miles <= candidate.max_miles) {
      band = &candidate;
      break;
    }
  }
  v1::JourneyPrice price;
  price.set_distance_miles(distance_miles);
  price.mutable_band()->set_min_miles(band->min_miles);
  price.mutable_band()->set_max_miles(band->max_miles);
  switch (cabin) {
    case v1::ECONOMY:
      price.set_miles(band->economy);
      break;
    case v1::BUSINESS:
      price.set_miles(band->business);
      break;
    case v1::FIRST:
      price.set_miles(band->first);
      break;
    default:
      std::fprintf(stderr,
                   "AwardChart::Price: cabin %d is not ECONOMY, BUSINESS or "
                   "FIRST (unchecked input)\n",
                   static_cast<int>(cabin));
      std::abort();
  }
  return price;
}

absl::StatusOr<ItineraryCheck> CheckItinerary(
    const v1::Itinerary& itinerary, absl::string_view field,
    const airports::AirportTable& airports, absl::CivilDay today) {
  FieldErrors errors;
  const v1::JourneyType type = itinerary.journey_type();
  const bool two_journeys = type == v1::ROUND_TRIP || type == v1::OPEN_JAW;
  if (type != v1::ONE_WAY && !two_journeys) {
    errors.Add(Path(field, "journey_type"),
               "required: ONE_WAY, ROUND_TRIP or OPEN_JAW");
  }

  if (itinerary.outbound().segments().empty()) {
    errors.Add(Path(field, "outbound"),
               absl::StrCat("required: a journey of 1 to ",
                            kMaxSegmentsPerJourney, " segments"));
  }
  const JourneyFacts outbound = CheckJourney(
      errors, itinerary.outbound(), Path(field, "outbound"), airports, today);

  JourneyFacts inbound;
  const bool has_inbound = !itinerary.inbound().segments().empty();
  if (type == v1::ONE_WAY && has_inbound) {
    errors.Add(Path(field, "inbound"), "must be empty for a ONE_WAY journey");
  } else if (two_journeys && !has_inbound) {
    errors.Add(Path(field, "inbound"),
               absl::StrCat("required for ", v1::JourneyType_Name(type),
                            ": a journey of 1 to ", kMaxSegmentsPerJourney,
                            " segments"));
  } else if (has_inbound) {
    inbound = CheckJourney(errors, itinerary.inbound(), Path(field, "inbound"),
                           airports, today);
  }

  if (!outbound.segments.empty() && !inbound.segments.empty()) {
    const absl::optional<absl::CivilDay>& outbound_last =
        outbound.segments.back().date;
    const SegmentFacts& inbound_first = inbound.segments.front();
    if (outbound_last.has_value() && inbound_first.date.has_value() &&
        *inbound_first.date < *outbound_last) {
      errors.Add(Path(inbound_first.field, "flight_date"),
                 absl::StrCat("must not be before the outbound's last flight "
                              "date (",
                              validation::FormatDate(*outbound_last), ")"));
    }
  }

  if (two_journeys && outbound.origin() != nullptr &&
      outbound.destination() != nullptr && inbound.origin() != nullptr &&
      inbound.destination() != nullptr) {
    const bool reverses = inbound.origin() == outbound.destination() &&
                          inbound.destination() == outbound.origin();
    const std::string route =
        absl::StrCat("the inbound (", inbound.origin()->code, "-",
                     inbound.destination()->code, ")");
    const std::string back = absl::StrCat(
        " from the outbound's destination (", outbound.destination()->code,
        ") back to its origin (", outbound.origin()->code, ")");
    if (type == v1::ROUND_TRIP && !reverses) {
      errors.Add(Path(field, "journey_type"),
                 absl::StrCat(route, " does not go", back,
                              ": this is an OPEN_JAW, not a ROUND_TRIP"));
    } else if (type == v1::OPEN_JAW && reverses) {
      errors.Add(Path(field, "journey_type"),
                 absl::StrCat(route, " goes", back,
                              ": this is a ROUND_TRIP, not an OPEN_JAW"));
    }
  }

  std::vector<const SegmentFacts*> all;
  for (const SegmentFacts& segment : outbound.segments) all.push_back(&segment);
  for (const SegmentFacts& segment : inbound.segments) all.push_back(&segment);
  const SegmentFacts* reference = nullptr;
  for (const SegmentFacts* segment : all) {
    if (!segment->carrier_ok) continue;
    if (reference == nullptr) {
      reference = segment;
    } else if (segment->segment->carrier() != reference->segment->carrier()) {
      errors.Add(Path(segment->field, "carrier"),
                 absl::StrCat("must be ", reference->segment->carrier(),
                              " as in ", reference->field,
                              ": all segments of an award are on one "
                              "carrier"));
      break;
    }
  }

  if (!errors.empty()) return errors.ToStatus();

  ItineraryCheck check;
  check.carrier = outbound.segments.front().segment->carrier();
  for (const SegmentFacts* segment : all) {
    check.segments.push_back(CheckedSegment{segment->segment, segment->field,
                                            *segment->date, segment->miles});
  }
  check.outbound_miles = outbound.miles;
  check.inbound_miles = inbound.miles;
  check.first_flight_date = *outbound.segments.front().date;
  return check;
}

absl::Status CheckSegment(const v1::Segment& segment, absl::string_view field,
                          const airports::AirportTable& airports,
                          absl::CivilDay today) {
  FieldErrors errors;
  CheckSegmentInto(errors, segment, std::string(field), airports, today);
  return errors.ToStatus();
}

Quote PriceItinerary(const ItineraryCheck& check, v1::JourneyType type,
                     v1::Cabin cabin, const AwardChart& chart) {
  Quote quote;
  const v1::JourneyPrice outbound = chart.Price(check.outbound_miles, cabin);
  quote.prices.push_back(outbound);
  if (type != v1::ROUND_TRIP && type != v1::OPEN_JAW) {
    quote.miles_per_passenger = outbound.miles();
    return quote;
  }
  const v1::JourneyPrice inbound = chart.Price(check.inbound_miles, cabin);
  quote.prices.push_back(inbound);
  quote.miles_per_passenger = type == v1::ROUND_TRIP
                                  ? 2 * outbound.miles()
                                  : outbound.miles() + inbound.miles();
  return quote;
}

Quote PriceUpgrade(int64_t distance_miles, const AwardChart& chart) {
  Quote quote;
  quote.prices.push_back(chart.Price(distance_miles, v1::BUSINESS));
  quote.prices.push_back(chart.Price(distance_miles, v1::ECONOMY));
  quote.miles_per_passenger = quote.prices[0].miles() - quote.prices[1].miles();
  return quote;
}

int64_t SegmentMiles(const v1::Segment& segment,
                     const airports::AirportTable& airports) {
  const airports::Airport* from = airports.Find(segment.origin());
  const airports::Airport* to = airports.Find(segment.destination());
  if (from == nullptr || to == nullptr) return 0;
  return airports::GreatCircleMiles(*from, *to);
}

absl::Status CheckCabin(v1::Cabin cabin, absl::string_view field) {
  if (cabin == v1::ECONOMY || cabin == v1::BUSINESS || cabin == v1::FIRST) {
    return absl::OkStatus();
  }
  return InvalidField(field, "required: ECONOMY, BUSINESS or FIRST");
}

absl::Status CheckPassengerCount(int passengers, absl::string_view field) {
  if (passengers >= 1 && passengers <= kMaxPassengers) {
    return absl::OkStatus();
  }
  return InvalidField(field, absl::StrCat("must be 1 to ", kMaxPassengers,
                                          " passengers, not ", passengers));
}

}  // namespace mileagebank::redemption
