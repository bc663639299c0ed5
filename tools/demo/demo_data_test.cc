#include "tools/demo/demo_data.h"

#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/validation/dates.h"

namespace mileagebank::demo {
namespace {

constexpr absl::CivilDay kToday(2026, 12, 2);

absl::CivilDay Day(const common::v1::Date& date) {
  return *validation::ToCivilDay("date", date);
}

TEST(DemoDataTest, EnrolmentsAreUniqueAndTheSameEveryRun) {
  std::set<std::string> documents, phones, request_ids;
  for (int i = 0; i < 5000; ++i) {
    membership::v1::EnrolRequest enrol = DemoEnrolment(i, "");
    documents.insert(enrol.profile().identity_document().number());
    phones.insert(enrol.profile().mobile_phone());
    request_ids.insert(enrol.request_id());
    EXPECT_LE(enrol.profile().identity_document().number().size(), 20u);
    EXPECT_TRUE(enrol.profile().email().empty());
  }
  EXPECT_EQ(documents.size(), 5000u);
  EXPECT_EQ(phones.size(), 5000u);
  EXPECT_EQ(request_ids.size(), 5000u);
  EXPECT_EQ(DemoEnrolment(7, "pw").SerializeAsString(),
            DemoEnrolment(7, "pw").SerializeAsString());
}

TEST(DemoDataTest, KeptApartFromTheReadmeExamples) {
  for (int i = 0; i < 5000; ++i) {
    membership::v1::EnrolRequest enrol = DemoEnrolment(i, "");
    EXPECT_NE(enrol.profile().identity_document().number(), "E12345678");
    EXPECT_NE(enrol.profile().mobile_phone(), "+8613800000001");
  }
}

TEST(DemoDataTest, MembersWithAPasswordHaveAnEmailToLogInWith) {
  membership::v1::EnrolRequest enrol = DemoEnrolment(0, "Demo-pass-2026");
  EXPECT_EQ(enrol.password(), "Demo-pass-2026");
  EXPECT_EQ(enrol.profile().email(), "fang.wang0@example.com");
  EXPECT_EQ(enrol.profile().chinese_name(), "王芳");
}

TEST(DemoDataTest, FlightsFallInThePastYearWithTicketsOfTheirOwn) {
  std::set<std::string> tickets;
  int total = 0;
  for (int i = 0; i < 500; ++i) {
    for (const auto& flight : DemoFlights("1000000008", i, 20, kToday, 1)) {
      ++total;
      tickets.insert(flight.flight_identity().ticket_number());
      EXPECT_EQ(flight.flight_identity().ticket_number().size(), 13u);
      const absl::CivilDay day = Day(flight.flight().flight_date());
      EXPECT_LT(day, kToday);
      EXPECT_GE(day, kToday - 365);
      EXPECT_NE(flight.flight().origin(), flight.flight().destination());
    }
  }
  EXPECT_EQ(tickets.size(), static_cast<size_t>(total));
  // About three flights a member.
  EXPECT_GT(total, 500 * 2);
  EXPECT_LT(total, 500 * 4);
}

TEST(DemoDataTest, TheFirstMembersFlyLongHaulThisYear) {
  auto gold = DemoFlights("1000000008", 0, 20, kToday, 1);
  int first_class = 0;
  for (const auto& flight : gold) {
    if (flight.flight().booking_class() == "F" &&
        Day(flight.flight().flight_date()).year() == kToday.year()) {
      ++first_class;
    }
  }
  EXPECT_EQ(first_class, 4);
  // On new year's day they are still this year's.
  for (const auto& flight :
       DemoFlights("1000000016", 1, 20, absl::CivilDay(2027, 1, 1), 1)) {
    if (flight.flight().booking_class() == "J") {
      EXPECT_EQ(Day(flight.flight().flight_date()), absl::CivilDay(2027, 1, 1));
    }
  }
}

TEST(DemoDataTest, RetroClaimsAreRecentAndEveryOutcomeOccurs) {
  std::set<ClaimOutcome> outcomes;
  int claims = 0;
  for (int i = 0; i < 2000; ++i) {
    if (!HasRetroClaim(i)) continue;
    ++claims;
    outcomes.insert(RetroClaimOutcome(i));
    auto claim = DemoRetroClaim("1000000008", i, kToday);
    const absl::CivilDay day = Day(claim.flight().flight_date());
    EXPECT_LE(day, kToday - 10);
    EXPECT_GE(day, kToday - 150);
  }
  EXPECT_EQ(claims, 80);
  EXPECT_EQ(outcomes.size(), 3u);
}

TEST(DemoDataTest, AwardsAreOnFutureFlightsWithDistinctTickets) {
  std::set<AwardOutcome> outcomes;
  std::set<std::string> tickets;
  for (int i = 0; i < 20; ++i) {
    outcomes.insert(AwardOutcomeOf(i));
    tickets.insert(DemoAwardTicket(i));
    auto award = DemoAward("1000000008", i, "pw", kToday);
    EXPECT_GT(
        Day(award.standard().itinerary().outbound().segments(0).flight_date()),
        kToday);
    EXPECT_EQ(award.member_password(), "pw");
    EXPECT_EQ(DemoAwardTicket(i).size(), 13u);
  }
  EXPECT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(tickets.size(), 20u);
}

TEST(DemoDataTest, KeysCoverEachOfficeFinanceAndThePartner) {
  auto keys = DemoKeys(3, "HILTON");
  ASSERT_EQ(keys.size(), 3u * 4u + 2u);
  EXPECT_EQ(keys[0].roles(0), gateway::v1::OFFICE_SUPERVISOR);
  EXPECT_EQ(keys[0].office_code(), "PEK01");
  EXPECT_EQ(keys[1].roles(0), gateway::v1::AGENT);
  EXPECT_EQ(keys.back().roles(0), gateway::v1::PARTNER);
  EXPECT_EQ(keys.back().partner_code(), "HILTON");
}

}  // namespace
}  // namespace mileagebank::demo
