#include "bench/loadgen_requests.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"

namespace mileagebank::loadgen {
namespace {

bool AllDigits(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool IsAirport(const std::string& code) {
  return std::find_if(std::begin(kAirports), std::end(kAirports),
                      [&](const char* airport) { return code == airport; }) !=
         std::end(kAirports);
}

TEST(RunIdTest, AcceptsTheDefaultAndPlainIds) {
  EXPECT_TRUE(IsValidRunId(DefaultRunId(absl::Now(), 12345)));
  EXPECT_TRUE(IsValidRunId("ci-42_a.b"));
  EXPECT_TRUE(IsValidRunId(std::string(kMaxRunIdLength, 'x')));
}

TEST(RunIdTest, RefusesEmptyLongAndOddCharacters) {
  EXPECT_FALSE(IsValidRunId(""));
  EXPECT_FALSE(IsValidRunId(std::string(kMaxRunIdLength + 1, 'x')));
  EXPECT_FALSE(IsValidRunId("a b"));
  EXPECT_FALSE(IsValidRunId("a/b"));
  EXPECT_FALSE(IsValidRunId("a:b"));
}

TEST(RunIdTest, DefaultHasTheTimeAndEntropy) {
  absl::Time time = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 17, 58, 31),
                                    absl::UTCTimeZone());
  EXPECT_EQ(DefaultRunId(time, 0), "20261123T175831-0000");
  EXPECT_NE(DefaultRunId(time, 1), DefaultRunId(time, 2));
}

TEST(TicketNumberTest, IsThirteenDigitsNotStartingWithZero) {
  for (int64_t counter : {0LL, 1LL, 999LL, 123456789LL}) {
    std::string ticket = TicketNumber("run", "post-flights", counter);
    EXPECT_EQ(ticket.size(), 13u) << ticket;
    EXPECT_TRUE(AllDigits(ticket)) << ticket;
    EXPECT_NE(ticket[0], '0') << ticket;
  }
}

TEST(TicketNumberTest, ConsecutiveCountersGiveDistinctTickets) {
  std::set<std::string> tickets;
  for (int64_t counter = 0; counter < 10000; ++counter) {
    tickets.insert(TicketNumber("run", "post-flights", counter));
  }
  EXPECT_EQ(tickets.size(), 10000u);
}

TEST(TicketNumberTest, DependsOnRunAndPurposeAndIsStable) {
  EXPECT_EQ(TicketNumber("a", "p", 5), TicketNumber("a", "p", 5));
  EXPECT_NE(TicketNumber("a", "p", 5), TicketNumber("b", "p", 5));
  EXPECT_NE(TicketNumber("a", "p", 5), TicketNumber("a", "q", 5));
}

TEST(RequestIdTest, FitsTheServicesRuleForTheLongestRunId) {
  std::string id =
      RequestId(std::string(kMaxRunIdLength, 'r'), "hold", 999999999999LL);
  EXPECT_LE(id.size(), 64u);
  EXPECT_EQ(RequestId("r1", "h", 7), "lg-r1-h7");
}

TEST(EnrolRequestForTest, IsTheSameForTheSameRunAndIndex) {
  EXPECT_EQ(
      EnrolRequestFor("run", 3, kDefaultMemberPassword).SerializeAsString(),
      EnrolRequestFor("run", 3, kDefaultMemberPassword).SerializeAsString());
}

TEST(EnrolRequestForTest, UniqueFieldsDifferBetweenMembersAndRuns) {
  std::set<std::string> documents;
  std::set<std::string> names;
  std::set<std::string> request_ids;
  for (const char* run : {"run-a", "run-b"}) {
    for (int64_t index = 0; index < 2000; ++index) {
      membership::v1::EnrolRequest request = EnrolRequestFor(run, index, "");
      documents.insert(request.profile().identity_document().number());
      names.insert(request.profile().given_name());
      request_ids.insert(request.request_id());
    }
  }
  EXPECT_EQ(documents.size(), 4000u);
  EXPECT_EQ(names.size(), 4000u);
  EXPECT_EQ(request_ids.size(), 4000u);
}

TEST(EnrolRequestForTest, FollowsTheProfileRules) {
  for (int64_t index : {0LL, 1LL, 99999999LL, 999999999999LL}) {
    membership::v1::EnrolRequest request = EnrolRequestFor(
        std::string(kMaxRunIdLength, 'z'), index, kDefaultMemberPassword);
    const membership::v1::Profile& profile = request.profile();
    EXPECT_TRUE(validation::IsE164(profile.mobile_phone()))
        << profile.mobile_phone();
    EXPECT_LE(profile.identity_document().number().size(), 20u);
    EXPECT_LE(profile.given_name().size(), 40u);
    EXPECT_LE(request.request_id().size(), 64u);
    EXPECT_TRUE(validation::IsCountryCode(profile.nationality()));
    auto birth = validation::ToCivilDay("dob", profile.date_of_birth());
    ASSERT_TRUE(birth.ok());
    EXPECT_GE(*birth, absl::CivilDay(1950, 1, 1));
    EXPECT_LT(*birth, absl::CivilDay(2005, 1, 1));
    EXPECT_NE(request.actor().channel(), common::v1::CHANNEL_UNSPECIFIED);
  }
}

TEST(EnrolRequestForTest, CarriesThePassword) {
  EXPECT_EQ(EnrolRequestFor("run", 3, "secret-123").password(), "secret-123");
  EXPECT_EQ(EnrolRequestFor("run", 3, "").password(), "");
  EXPECT_TRUE(IsValidPassword(kDefaultMemberPassword));
  EXPECT_TRUE(IsValidPassword(std::string(8, 'p')));
  EXPECT_TRUE(IsValidPassword(std::string(128, 'p')));
  EXPECT_FALSE(IsValidPassword(std::string(7, 'p')));
  EXPECT_FALSE(IsValidPassword(std::string(129, 'p')));
}

bool IsAwardRoute(const std::string& from, const std::string& to) {
  for (const auto& route : kAwardRoutes) {
    if ((from == route[0] && to == route[1]) ||
        (from == route[1] && to == route[0])) {
      return true;
    }
  }
  return false;
}

TEST(AwardFlightTest, IsAnOwnFlightInTheNext300DaysOnAFixedRoute) {
  const absl::CivilDay today(2026, 3, 1);
  std::map<int, std::string> route_of_flight;
  std::set<absl::CivilDay> days;
  for (int64_t counter = 0; counter < 200000; counter += 7) {
    redemption::v1::Segment segment = AwardFlight("run", counter, today);
    EXPECT_EQ(segment.carrier(), "FM");
    EXPECT_GE(segment.flight_number(), 1);
    EXPECT_LE(segment.flight_number(), kAwardFlightNumbers);
    EXPECT_TRUE(IsAwardRoute(segment.origin(), segment.destination()))
        << segment.origin() << "-" << segment.destination();
    auto day = validation::ToCivilDay("flight_date", segment.flight_date());
    ASSERT_TRUE(day.ok());
    EXPECT_GT(*day, today);
    EXPECT_LE(*day, today + kAwardDays);
    days.insert(*day);
    // A flight number flies one way on one route, whatever the date.
    const std::string route = segment.origin() + segment.destination();
    auto [it, inserted] =
        route_of_flight.emplace(segment.flight_number(), route);
    EXPECT_EQ(it->second, route) << segment.flight_number();
  }
  EXPECT_EQ(route_of_flight.size(), size_t{kAwardFlightNumbers});
  EXPECT_GT(days.size(), 20u);
}

TEST(AwardFlightTest, ConsecutiveOpsAreOnDifferentFlightDates) {
  const absl::CivilDay today(2026, 3, 1);
  std::set<std::string> flight_dates;
  for (int64_t counter = 1000; counter < 1000 + kAwardFlightNumbers;
       ++counter) {
    redemption::v1::Segment segment = AwardFlight("run", counter, today);
    flight_dates.insert(
        absl::StrCat(segment.flight_number(), "/",
                     segment.flight_date().SerializeAsString()));
  }
  EXPECT_EQ(flight_dates.size(), size_t{kAwardFlightNumbers});
  // Runs start at different flight-dates.
  EXPECT_NE(AwardFlight("run-a", 0, today).SerializeAsString(),
            AwardFlight("run-b", 0, today).SerializeAsString());
  EXPECT_EQ(AwardFlight("run-a", 5, today).SerializeAsString(),
            AwardFlight("run-a", 5, today).SerializeAsString());
}

TEST(RedeemRequestForTest, IsAOneWayEconomyAwardForTheMemberByAnAgent) {
  const absl::CivilDay today(2026, 3, 1);
  redemption::v1::CreateRedemptionRequest request =
      RedeemRequestFor("1000000009", "loadgen-pass-1", "run", 41, today);
  EXPECT_EQ(request.member_number(), "1000000009");
  EXPECT_EQ(request.member_password(), "loadgen-pass-1");
  EXPECT_EQ(request.request_id(), "lg-run-r41");
  ASSERT_TRUE(request.has_standard());
  EXPECT_EQ(request.standard().cabin(), redemption::v1::ECONOMY);
  const redemption::v1::Itinerary& itinerary = request.standard().itinerary();
  EXPECT_EQ(itinerary.journey_type(), redemption::v1::ONE_WAY);
  ASSERT_EQ(itinerary.outbound().segments_size(), 1);
  EXPECT_EQ(itinerary.outbound().segments(0).SerializeAsString(),
            AwardFlight("run", 41, today).SerializeAsString());
  EXPECT_EQ(itinerary.inbound().segments_size(), 0);
  ASSERT_EQ(request.passengers_size(), 1);
  EXPECT_TRUE(request.passengers(0).has_member());
  EXPECT_TRUE(request.passengers(0).member());
  EXPECT_EQ(request.actor().channel(), common::v1::CALL_CENTRE);
  EXPECT_EQ(request.actor().office_code(), "PEK01");
  EXPECT_EQ(request.actor().operator_id(), "agent-1");
  // The longest run id and counter still make a valid request_id.
  EXPECT_LE(
      RedeemRequestFor("1000000009", "p", std::string(kMaxRunIdLength, 'r'),
                       999999999999LL, today)
          .request_id()
          .size(),
      64u);
}

TEST(CancelRequestForTest, CancelsTheRedemptionAsTheAgent) {
  redemption::v1::CancelRedemptionRequest request = CancelRequestFor("R42");
  EXPECT_EQ(request.redemption_id(), "R42");
  EXPECT_EQ(request.reason(), "LOADGEN");
  EXPECT_EQ(request.actor().channel(), common::v1::CALL_CENTRE);
  EXPECT_EQ(request.actor().office_code(), "PEK01");
  EXPECT_EQ(request.actor().operator_id(), "agent-1");
}

TEST(RandomOwnFlightTest, IsAValidRecentOwnFlight) {
  std::mt19937_64 rng(7);
  const absl::CivilDay today(2026, 3, 1);
  std::set<std::string> origins;
  for (int i = 0; i < 2000; ++i) {
    accrual::v1::PostOwnFlightRequest request =
        RandomOwnFlight("1000000009", "1234567890123", today, rng);
    const accrual::v1::Flight& flight = request.flight();
    EXPECT_EQ(request.member_number(), "1000000009");
    EXPECT_EQ(request.flight_identity().ticket_number(), "1234567890123");
    EXPECT_EQ(request.flight_identity().coupon_number(), 1);
    EXPECT_EQ(flight.carrier(), "FM");
    EXPECT_GE(flight.flight_number(), 1);
    EXPECT_LE(flight.flight_number(), 9999);
    EXPECT_TRUE(IsAirport(flight.origin())) << flight.origin();
    EXPECT_TRUE(IsAirport(flight.destination())) << flight.destination();
    EXPECT_NE(flight.origin(), flight.destination());
    EXPECT_EQ(flight.booking_class().size(), 1u);
    EXPECT_TRUE(absl::StrContains("FAJCDIWYBMHKLQVTNS", flight.booking_class()))
        << flight.booking_class();
    auto day = validation::ToCivilDay("flight_date", flight.flight_date());
    ASSERT_TRUE(day.ok());
    EXPECT_LT(*day, today);
    EXPECT_GE(*day, today - 30);
    origins.insert(flight.origin());
  }
  // Routes go both ways and cover the whole airport list.
  EXPECT_EQ(origins.size(), std::size(kAirports));
}

TEST(LargeOwnFlightTest, IsPekJfkInFirst) {
  std::mt19937_64 rng(7);
  accrual::v1::PostOwnFlightRequest request = LargeOwnFlight(
      "1000000009", "1234567890123", absl::CivilDay(2026, 3, 1), rng);
  EXPECT_EQ(request.flight().origin(), "PEK");
  EXPECT_EQ(request.flight().destination(), "JFK");
  EXPECT_EQ(request.flight().booking_class(), "F");
  EXPECT_EQ(request.flight().carrier(), "FM");
}

}  // namespace
}  // namespace mileagebank::loadgen
