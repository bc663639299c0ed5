#include "bench/loadgen_requests.h"

#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/validation/dates.h"

namespace mileagebank::loadgen {
namespace {

// Ticket numbers are 13 digits, the first not 0: [10^12, 10^13).
constexpr int64_t kFirstTicket = 1'000'000'000'000;
constexpr int64_t kTicketSpace = 9'000'000'000'000;

// Real routes of a Chinese carrier between kAirports, flown either way.
struct Route {
  const char* from;
  const char* to;
};
constexpr Route kRoutes[] = {
    {"PEK", "PVG"}, {"PEK", "SHA"}, {"PEK", "CAN"}, {"PEK", "SZX"},
    {"PEK", "CTU"}, {"PEK", "KMG"}, {"PEK", "XIY"}, {"PEK", "HGH"},
    {"PEK", "CKG"}, {"PVG", "CAN"}, {"PVG", "SZX"}, {"PVG", "CTU"},
    {"PVG", "KMG"}, {"PVG", "XIY"}, {"SHA", "CAN"}, {"SHA", "SZX"},
    {"SHA", "CTU"}, {"CAN", "CTU"}, {"CAN", "KMG"}, {"CAN", "HGH"},
    {"SZX", "HGH"}, {"SZX", "CKG"}, {"CTU", "KMG"}, {"CTU", "XIY"},
    {"CKG", "HGH"}, {"XIY", "HGH"}, {"PEK", "LAX"}, {"PEK", "JFK"},
    {"PEK", "LHR"}, {"PEK", "NRT"}, {"PVG", "LAX"}, {"PVG", "JFK"},
    {"PVG", "LHR"}, {"PVG", "NRT"}, {"CAN", "LAX"}, {"CAN", "LHR"},
    {"SZX", "NRT"}, {"CTU", "LHR"}, {"HGH", "NRT"},
};

// Booking classes of the default table that earn, economy most often.
constexpr const char* kClasses[] = {"Y", "Y", "Y", "B", "B", "M", "M", "H", "K",
                                    "L", "Q", "V", "T", "W", "J", "C", "F"};

constexpr int kMaxDaysAgo = 30;

// The call centre agent who makes and cancels the awards of redeem-cancel.
void SetAgent(common::v1::Actor& actor) {
  actor.set_channel(common::v1::CALL_CENTRE);
  actor.set_office_code("PEK01");
  actor.set_operator_id("agent-1");
}

template <typename T, size_t N>
const T& Pick(const T (&items)[N], std::mt19937_64& rng) {
  return items[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

// `value` in base 26 as `width` letters (a-z), the first upper-case.
std::string Letters(uint64_t value, int width) {
  std::string letters(width, 'a');
  for (int i = width - 1; i >= 0; --i) {
    letters[i] = static_cast<char>('a' + value % 26);
    value /= 26;
  }
  letters[0] = absl::ascii_toupper(letters[0]);
  return letters;
}

// `value` in base 36 as `width` characters of 0-9 A-Z.
std::string Base36(uint64_t value, int width) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string text(width, '0');
  for (int i = width - 1; i >= 0; --i) {
    text[i] = kDigits[value % 36];
    value /= 36;
  }
  return text;
}

accrual::v1::PostOwnFlightRequest OwnFlight(absl::string_view member_number,
                                            absl::string_view ticket_number,
                                            const Route& route,
                                            const char* booking_class,
                                            absl::CivilDay today,
                                            std::mt19937_64& rng) {
  accrual::v1::PostOwnFlightRequest request;
  request.set_member_number(std::string(member_number));
  request.mutable_flight_identity()->set_ticket_number(
      std::string(ticket_number));
  request.mutable_flight_identity()->set_coupon_number(1);
  accrual::v1::Flight& flight = *request.mutable_flight();
  flight.set_carrier("FM");
  flight.set_flight_number(std::uniform_int_distribution<int>(1, 9999)(rng));
  const int days_ago = std::uniform_int_distribution<int>(1, kMaxDaysAgo)(rng);
  *flight.mutable_flight_date() = validation::ToProtoDate(today - days_ago);
  flight.set_origin(route.from);
  flight.set_destination(route.to);
  flight.set_booking_class(booking_class);
  request.mutable_actor()->set_channel(common::v1::SYSTEM);
  return request;
}

}  // namespace

bool IsValidRunId(absl::string_view run_id) {
  if (run_id.empty() || run_id.size() > kMaxRunIdLength) return false;
  for (char c : run_id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string DefaultRunId(absl::Time now, uint64_t entropy) {
  return absl::StrCat(
      absl::FormatTime("%Y%m%dT%H%M%S", now, absl::UTCTimeZone()), "-",
      absl::AsciiStrToLower(Base36(entropy, 4)));
}

uint64_t StableHash(absl::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string TicketNumber(absl::string_view run_id, absl::string_view purpose,
                         int64_t counter) {
  const uint64_t offset =
      StableHash(absl::StrCat(run_id, "/", purpose)) % kTicketSpace;
  const int64_t position =
      static_cast<int64_t>((offset + static_cast<uint64_t>(counter)) %
                           static_cast<uint64_t>(kTicketSpace));
  return absl::StrCat(kFirstTicket + position);
}

std::string RequestId(absl::string_view run_id, absl::string_view kind,
                      int64_t counter) {
  return absl::StrCat("lg-", run_id, "-", kind, counter);
}

bool IsValidPassword(absl::string_view password) {
  return password.size() >= 8 && password.size() <= 128;
}

membership::v1::EnrolRequest EnrolRequestFor(absl::string_view run_id,
                                             int64_t index,
                                             absl::string_view password) {
  const uint64_t run_hash = StableHash(run_id);
  membership::v1::EnrolRequest request;
  request.set_request_id(RequestId(run_id, "m", index));
  request.mutable_actor()->set_channel(common::v1::WEB);
  request.set_password(std::string(password));
  membership::v1::Profile& profile = *request.mutable_profile();
  profile.set_family_name("Loadgen");
  // The run's letters and the index's: no two members share a name, so the
  // name + birth date + phone rule never matches another load-test member.
  profile.set_given_name(absl::StrCat(
      Letters(run_hash, 5), " ", Letters(static_cast<uint64_t>(index), 7)));
  profile.set_gender(index % 2 == 0 ? membership::v1::FEMALE
                                    : membership::v1::MALE);
  const int64_t day_offset = static_cast<int64_t>(
      (run_hash + static_cast<uint64_t>(index) * 7919) % 20000);
  *profile.mutable_date_of_birth() =
      validation::ToProtoDate(absl::CivilDay(1950, 1, 1) + day_offset);
  profile.set_nationality("CN");
  membership::v1::IdentityDocument& document =
      *profile.mutable_identity_document();
  document.set_type(membership::v1::PASSPORT);
  // "L" + 7 characters of the run + the index: at most 20 characters for
  // indexes below 10^12.
  document.set_number(absl::StrCat("L", Base36(run_hash, 7), index));
  document.set_issuing_country("CN");
  profile.set_mobile_phone(
      absl::StrFormat("+861%02d%08d", run_hash % 100, index % 100'000'000));
  return request;
}

accrual::v1::PostOwnFlightRequest RandomOwnFlight(
    absl::string_view member_number, absl::string_view ticket_number,
    absl::CivilDay today, std::mt19937_64& rng) {
  Route route = Pick(kRoutes, rng);
  if (std::uniform_int_distribution<int>(0, 1)(rng) == 1) {
    std::swap(route.from, route.to);
  }
  const char* booking_class = Pick(kClasses, rng);
  return OwnFlight(member_number, ticket_number, route, booking_class, today,
                   rng);
}

accrual::v1::PostOwnFlightRequest LargeOwnFlight(
    absl::string_view member_number, absl::string_view ticket_number,
    absl::CivilDay today, std::mt19937_64& rng) {
  return OwnFlight(member_number, ticket_number, Route{"PEK", "JFK"}, "F",
                   today, rng);
}

redemption::v1::Segment AwardFlight(absl::string_view run_id, int64_t counter,
                                    absl::CivilDay today) {
  constexpr uint64_t kFlightDates =
      uint64_t{kAwardFlightNumbers} * uint64_t{kAwardDays};
  const uint64_t position =
      (StableHash(absl::StrCat(run_id, "/award-flights")) % kFlightDates +
       static_cast<uint64_t>(counter) % kFlightDates) %
      kFlightDates;
  const int flight_number =
      1 + static_cast<int>(position % uint64_t{kAwardFlightNumbers});
  const int days_ahead =
      1 + static_cast<int>(position / uint64_t{kAwardFlightNumbers});
  const auto& route =
      kAwardRoutes[static_cast<size_t>((flight_number - 1) / 2) %
                   std::size(kAwardRoutes)];
  const bool outbound = flight_number % 2 == 1;
  redemption::v1::Segment segment;
  segment.set_carrier("FM");
  segment.set_flight_number(flight_number);
  *segment.mutable_flight_date() = validation::ToProtoDate(today + days_ahead);
  segment.set_origin(route[outbound ? 0 : 1]);
  segment.set_destination(route[outbound ? 1 : 0]);
  return segment;
}

redemption::v1::CreateRedemptionRequest RedeemRequestFor(
    absl::string_view member_number, absl::string_view password,
    absl::string_view run_id, int64_t counter, absl::CivilDay today) {
  redemption::v1::CreateRedemptionRequest request;
  request.set_member_number(std::string(member_number));
  redemption::v1::StandardAward& award = *request.mutable_standard();
  award.set_cabin(redemption::v1::ECONOMY);
  redemption::v1::Itinerary& itinerary = *award.mutable_itinerary();
  itinerary.set_journey_type(redemption::v1::ONE_WAY);
  *itinerary.mutable_outbound()->add_segments() =
      AwardFlight(run_id, counter, today);
  request.add_passengers()->set_member(true);
  request.set_member_password(std::string(password));
  SetAgent(*request.mutable_actor());
  request.set_request_id(RequestId(run_id, "r", counter));
  return request;
}

redemption::v1::CancelRedemptionRequest CancelRequestFor(
    absl::string_view redemption_id) {
  redemption::v1::CancelRedemptionRequest request;
  request.set_redemption_id(std::string(redemption_id));
  request.set_reason("LOADGEN");
  SetAgent(*request.mutable_actor());
  return request;
}

}  // namespace mileagebank::loadgen
