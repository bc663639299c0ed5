#include "services/reporting/accrual_analysis.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = ::mileagebank::accrual::v1;

v1::DateRange Range(absl::CivilDay from, absl::CivilDay to) {
  v1::DateRange range;
  *range.mutable_from_date() = validation::ToProtoDate(from);
  *range.mutable_to_date() = validation::ToProtoDate(to);
  return range;
}

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

class AccrualAnalysisTest : public ::testing::Test {
 protected:
  AccrualAnalysisTest() { projection_.DeferDerived(deferred_); }

  void Post(const google::protobuf::Message& payload, absl::CivilDay day,
            absl::string_view source = kAccrualSource) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(absl::FromCivil(
        absl::CivilSecond(day) + 12 * 3600, absl::UTCTimeZone()));
    event.set_key("0000000000");
    event.mutable_payload()->PackFrom(payload);
    for (MemoryView* view : {&view_, &deferred_}) {
      absl::Status status =
          projection_.Apply(SourceEvent(source, event), *view);
      ASSERT_TRUE(status.ok()) << status;
    }
  }

  av1::Transaction Base(const std::string& member, av1::TransactionType type,
                        absl::CivilDay day, int64_t miles) {
    av1::Transaction t;
    t.set_transaction_id("T" + std::to_string(++ids_));
    t.set_member_number(member);
    t.set_type(type);
    t.set_miles(miles);
    *t.mutable_posting_date() = validation::ToProtoDate(day);
    *t.mutable_activity_date() = validation::ToProtoDate(day);
    return t;
  }

  // A flight credit, posted on `day`; returns it for reversing.
  av1::Transaction Flight(const std::string& member, absl::CivilDay day,
                          const std::string& carrier, const std::string& origin,
                          const std::string& destination,
                          const std::string& booking_class, int64_t miles,
                          int64_t qm, int qs, const std::string& partner = "",
                          av1::TransactionType type = av1::OWN_FLIGHT) {
    if (!partner.empty() && type == av1::OWN_FLIGHT) type = av1::PARTNER_FLIGHT;
    av1::Transaction t = Base(member, type, day, miles);
    t.mutable_flight()->set_carrier(carrier);
    t.mutable_flight()->set_origin(origin);
    t.mutable_flight()->set_destination(destination);
    t.mutable_flight()->set_booking_class(booking_class);
    t.set_qualifying_miles(qm);
    t.set_qualifying_segments(qs);
    t.set_partner_code(partner);
    av1::CreditPosted posted;
    *posted.mutable_transaction() = t;
    Post(posted, day);
    return t;
  }

  av1::Transaction Credit(const std::string& member, av1::TransactionType type,
                          absl::CivilDay day, int64_t miles,
                          const std::string& partner = "") {
    av1::Transaction t = Base(member, type, day, miles);
    t.set_partner_code(partner);
    av1::CreditPosted posted;
    *posted.mutable_transaction() = t;
    Post(posted, day);
    return t;
  }

  void Adjust(const std::string& member, absl::CivilDay day, int64_t miles) {
    av1::Transaction t = Base(member, av1::ADJUSTMENT, day, miles);
    if (miles >= 0) {
      av1::CreditPosted posted;
      *posted.mutable_transaction() = t;
      Post(posted, day);
    } else {
      av1::DebitPosted posted;
      *posted.mutable_transaction() = t;
      Post(posted, day);
    }
    // The workflow event repeats the amount and must not count twice.
    av1::AdjustmentPosted adjustment;
    adjustment.set_member_number(member);
    adjustment.set_transaction_id(t.transaction_id());
    adjustment.set_miles(miles);
    Post(adjustment, day);
  }

  // As accrual writes a reversal: the REVERSAL debit (carrying the credit's
  // flight and partner code), then CreditReversed.
  void Reverse(const av1::Transaction& credit, absl::CivilDay day) {
    av1::Transaction t =
        Base(credit.member_number(), av1::REVERSAL, day, -credit.miles());
    *t.mutable_flight() = credit.flight();
    t.set_partner_code(credit.partner_code());
    t.set_qualifying_miles(-credit.qualifying_miles());
    t.set_qualifying_segments(-credit.qualifying_segments());
    t.set_reversed_transaction_id(credit.transaction_id());
    av1::DebitPosted posted;
    *posted.mutable_transaction() = t;
    Post(posted, day);
    av1::CreditReversed reversed;
    reversed.set_member_number(credit.member_number());
    reversed.set_reversed_transaction_id(credit.transaction_id());
    reversed.set_reversal_transaction_id(t.transaction_id());
    reversed.set_reversed_type(credit.type());
    reversed.set_miles(credit.miles());
    reversed.set_qualifying_miles(credit.qualifying_miles());
    reversed.set_qualifying_segments(credit.qualifying_segments());
    Post(reversed, day);
  }

  v1::GetAccrualAnalysisReportResponse Report(
      absl::CivilDay from, absl::CivilDay to, const std::string& partner = "",
      const MemoryView* view = nullptr) {
    v1::GetAccrualAnalysisReportRequest request;
    *request.mutable_range() = Range(from, to);
    request.set_partner_code(partner);
    absl::StatusOr<v1::GetAccrualAnalysisReportResponse> response =
        AccrualAnalysisReport(view != nullptr ? *view : view_, request,
                              Context());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::GetAccrualAnalysisReportResponse();
  }

  ReportContext Context() {
    return ReportContext{
        absl::FromCivil(absl::CivilSecond(2027, 6, 1), absl::UTCTimeZone()),
        nullptr};
  }

  AccrualAnalysisProjection projection_;
  MemoryView view_;
  // Fed the same events as a rebuild is: its roll-ups deferred.
  MemoryView deferred_;
  uint64_t sequence_ = 0;
  int ids_ = 0;
};

const v1::AccrualSourceRow* FindSource(
    const v1::GetAccrualAnalysisReportResponse& response,
    v1::AccrualSource source, const std::string& partner = "") {
  for (const v1::AccrualSourceRow& row : response.by_source()) {
    if (row.source() == source && row.partner_code() == partner) return &row;
  }
  return nullptr;
}

std::map<int64_t, int64_t> Distribution(
    const v1::GetAccrualAnalysisReportResponse& response) {
  std::map<int64_t, int64_t> rows;
  for (const v1::SegmentsPerMemberRow& row : response.segments_per_member()) {
    rows[row.segments()] = row.members();
  }
  return rows;
}

TEST_F(AccrualAnalysisTest, SourcesSplitBySourceAndPartner) {
  const absl::CivilDay day = D(2026, 3, 10);
  Flight("1", day, "FM", "PEK", "SHA", "Y", 1000, 1000, 1);
  Flight("1", day, "FM", "SHA", "PEK", "G", 0, 0, 0, "", av1::RETRO_CLAIM);
  Flight("2", day, "CA", "PEK", "CAN", "Y", 700, 700, 1, "CA");
  Credit("2", av1::PARTNER_ACTIVITY, day, 300, "HTL1");
  Credit("3", av1::PURCHASE, day, 5000);
  Adjust("3", day, 250);
  Adjust("3", day, -100);
  // Not sources: transfers and redeposits move miles already counted.
  Credit("3", av1::TRANSFER_IN, day, 4000);
  Credit("3", av1::REDEPOSIT, day, 4000);

  v1::GetAccrualAnalysisReportResponse r = Report(day, day);
  ASSERT_EQ(r.by_source_size(), 5);
  // By source, then partner_code.
  EXPECT_EQ(r.by_source(0).source(), v1::SOURCE_OWN_FLIGHTS);
  EXPECT_EQ(r.by_source(1).partner_code(), "CA");
  EXPECT_EQ(r.by_source(2).partner_code(), "HTL1");
  EXPECT_EQ(r.by_source(3).source(), v1::SOURCE_ADJUSTMENTS);
  EXPECT_EQ(r.by_source(4).source(), v1::SOURCE_PURCHASES);

  const v1::AccrualSourceRow& own = r.by_source(0);
  EXPECT_EQ(own.transactions(), 2);
  EXPECT_EQ(own.miles(), 1000);
  EXPECT_EQ(own.qualifying_miles(), 1000);
  EXPECT_EQ(own.segments(), 2);  // the 0-mile class counts as a segment
  EXPECT_EQ(own.qualifying_segments(), 1);
  const v1::AccrualSourceRow& ca = r.by_source(1);
  EXPECT_EQ(ca.transactions(), 1);
  EXPECT_EQ(ca.miles(), 700);
  EXPECT_EQ(ca.segments(), 1);
  const v1::AccrualSourceRow& hotel = r.by_source(2);
  EXPECT_EQ(hotel.miles(), 300);
  EXPECT_EQ(hotel.segments(), 0);
  const v1::AccrualSourceRow& adjustments = r.by_source(3);
  EXPECT_EQ(adjustments.transactions(), 2);
  EXPECT_EQ(adjustments.miles(), 150);
  EXPECT_EQ(r.by_source(4).miles(), 5000);
  EXPECT_EQ(r.by_source(4).transactions(), 1);
}

TEST_F(AccrualAnalysisTest, EmptyRangeListsFixedSourcesWithZeros) {
  Credit("2", av1::PARTNER_ACTIVITY, D(2026, 1, 5), 300, "HTL1");
  v1::GetAccrualAnalysisReportResponse r =
      Report(D(2026, 2, 1), D(2026, 2, 28));
  ASSERT_EQ(r.by_source_size(), 3);
  for (const v1::AccrualSourceRow& row : r.by_source()) {
    EXPECT_NE(row.source(), v1::SOURCE_PARTNER);
    EXPECT_EQ(row.transactions(), 0);
    EXPECT_EQ(row.miles(), 0);
  }
  EXPECT_EQ(r.by_route_size(), 0);
  EXPECT_EQ(r.by_booking_class_size(), 0);
  EXPECT_EQ(r.segments_per_member_size(), 0);
}

TEST_F(AccrualAnalysisTest, ReversalsGoToTheCreditsSourceByTheirPostingDate) {
  av1::Transaction own =
      Flight("1", D(2026, 1, 20), "FM", "PEK", "SHA", "Y", 1000, 1000, 1);
  av1::Transaction partner =
      Flight("2", D(2026, 1, 20), "CA", "PEK", "CAN", "Y", 700, 700, 1, "CA");
  av1::Transaction activity =
      Credit("2", av1::PARTNER_ACTIVITY, D(2026, 1, 20), 300, "HTL1");
  av1::Transaction purchase = Credit("3", av1::PURCHASE, D(2026, 1, 20), 5000);
  Reverse(own, D(2026, 2, 3));
  Reverse(partner, D(2026, 2, 3));
  Reverse(activity, D(2026, 2, 3));
  Reverse(purchase, D(2026, 2, 4));

  v1::GetAccrualAnalysisReportResponse jan =
      Report(D(2026, 1, 1), D(2026, 1, 31));
  EXPECT_EQ(FindSource(jan, v1::SOURCE_OWN_FLIGHTS)->reversed_miles(), 0);
  EXPECT_EQ(FindSource(jan, v1::SOURCE_OWN_FLIGHTS)->miles(), 1000);

  v1::GetAccrualAnalysisReportResponse feb =
      Report(D(2026, 2, 1), D(2026, 2, 3));
  EXPECT_EQ(FindSource(feb, v1::SOURCE_OWN_FLIGHTS)->reversed_miles(), 1000);
  EXPECT_EQ(FindSource(feb, v1::SOURCE_OWN_FLIGHTS)->miles(), 0);
  ASSERT_NE(FindSource(feb, v1::SOURCE_PARTNER, "CA"), nullptr);
  EXPECT_EQ(FindSource(feb, v1::SOURCE_PARTNER, "CA")->reversed_miles(), 700);
  EXPECT_EQ(FindSource(feb, v1::SOURCE_PARTNER, "HTL1")->reversed_miles(), 300);
  // The purchase's reversal is the next day.
  EXPECT_EQ(FindSource(feb, v1::SOURCE_PURCHASES)->reversed_miles(), 0);
  EXPECT_EQ(
      FindSource(Report(D(2026, 2, 1), D(2026, 2, 28)), v1::SOURCE_PURCHASES)
          ->reversed_miles(),
      5000);
  // Routes count credits posted in the range, not reversals.
  EXPECT_EQ(feb.by_route_size(), 0);
  // Nets of reversals: both members flew in January, none net in the year.
  EXPECT_EQ(Distribution(jan), (std::map<int64_t, int64_t>{{1, 2}}));
  EXPECT_TRUE(Distribution(Report(D(2026, 1, 1), D(2026, 12, 31))).empty());
  // A range with only the reversal nets below one: left out.
  EXPECT_TRUE(Distribution(feb).empty());
}

TEST_F(AccrualAnalysisTest, EdgeMonthsAreClippedToTheDay) {
  Flight("1", D(2026, 1, 31), "FM", "PEK", "SHA", "Y", 1000, 1000, 1);
  Flight("1", D(2026, 2, 1), "FM", "PEK", "SHA", "Y", 1100, 1000, 1);
  Flight("1", D(2026, 2, 15), "FM", "PEK", "SHA", "Y", 1200, 1000, 1);
  Flight("1", D(2026, 3, 10), "FM", "PEK", "SHA", "Y", 1300, 1000, 1);
  Flight("1", D(2026, 3, 11), "FM", "PEK", "SHA", "Y", 1400, 1000, 1);

  v1::GetAccrualAnalysisReportResponse r =
      Report(D(2026, 2, 1), D(2026, 3, 10));
  EXPECT_EQ(FindSource(r, v1::SOURCE_OWN_FLIGHTS)->miles(), 1100 + 1200 + 1300);
  ASSERT_EQ(r.by_route_size(), 1);
  EXPECT_EQ(r.by_route(0).segments(), 3);
  EXPECT_EQ(r.by_route(0).miles(), 3600);
  EXPECT_EQ(Distribution(r), (std::map<int64_t, int64_t>{{3, 1}}));

  r = Report(D(2026, 1, 31), D(2026, 2, 1));
  EXPECT_EQ(FindSource(r, v1::SOURCE_OWN_FLIGHTS)->miles(), 2100);
  EXPECT_EQ(Distribution(r), (std::map<int64_t, int64_t>{{2, 1}}));
}

TEST_F(AccrualAnalysisTest, RoutesMostSegmentsFirstAndClassesInOrder) {
  const absl::CivilDay day = D(2026, 5, 5);
  Flight("1", day, "FM", "SHA", "PEK", "Y", 1000, 1000, 1);
  Flight("2", day, "FM", "PEK", "SHA", "J", 2000, 1500, 1);
  Flight("3", day, "FM", "PEK", "SHA", "Y", 1000, 1000, 1);
  Flight("4", day, "CA", "CAN", "PEK", "Y", 900, 900, 1, "CA");
  Flight("4", day, "FM", "CAN", "PEK", "Y", 900, 900, 1);

  v1::GetAccrualAnalysisReportResponse r = Report(day, day);
  ASSERT_EQ(r.by_route_size(), 4);
  EXPECT_EQ(r.by_route(0).origin(), "PEK");
  EXPECT_EQ(r.by_route(0).destination(), "SHA");
  EXPECT_EQ(r.by_route(0).segments(), 2);
  EXPECT_EQ(r.by_route(0).miles(), 3000);
  EXPECT_EQ(r.by_route(0).qualifying_miles(), 2500);
  // Ties by carrier, origin, destination; routes are directional.
  EXPECT_EQ(r.by_route(1).carrier(), "CA");
  EXPECT_EQ(r.by_route(2).carrier(), "FM");
  EXPECT_EQ(r.by_route(2).origin(), "CAN");
  EXPECT_EQ(r.by_route(3).origin(), "SHA");

  ASSERT_EQ(r.by_booking_class_size(), 3);
  EXPECT_EQ(r.by_booking_class(0).carrier(), "CA");
  EXPECT_EQ(r.by_booking_class(1).booking_class(), "J");
  EXPECT_EQ(r.by_booking_class(2).booking_class(), "Y");
  EXPECT_EQ(r.by_booking_class(2).segments(), 3);
  EXPECT_EQ(r.by_booking_class(2).miles(), 2900);
}

TEST_F(AccrualAnalysisTest, PartnerFilterKeepsOnlyThatPartner) {
  const absl::CivilDay day = D(2026, 5, 5);
  Flight("1", day, "FM", "PEK", "SHA", "Y", 1000, 1000, 1);
  Flight("1", day, "CA", "PEK", "CAN", "Y", 700, 700, 1, "CA");
  Flight("2", day, "CA", "CAN", "PEK", "B", 600, 600, 1, "CA");
  Flight("2", day, "MU", "SHA", "CAN", "Y", 500, 500, 1, "MU");
  Adjust("1", day, 100);

  v1::GetAccrualAnalysisReportResponse r =
      Report(D(2026, 1, 1), D(2026, 12, 31), "CA");
  ASSERT_EQ(r.by_source_size(), 1);
  EXPECT_EQ(r.by_source(0).partner_code(), "CA");
  EXPECT_EQ(r.by_source(0).miles(), 1300);
  EXPECT_EQ(r.by_source(0).segments(), 2);
  ASSERT_EQ(r.by_route_size(), 2);
  for (const v1::AccrualRouteRow& row : r.by_route()) {
    EXPECT_EQ(row.carrier(), "CA");
  }
  ASSERT_EQ(r.by_booking_class_size(), 2);
  // Each member flew CA once.
  EXPECT_EQ(Distribution(r), (std::map<int64_t, int64_t>{{1, 2}}));
  // Without the filter member 1 has 2 segments and member 2 has 2.
  EXPECT_EQ(Distribution(Report(D(2026, 1, 1), D(2026, 12, 31))),
            (std::map<int64_t, int64_t>{{2, 2}}));

  // A partner with no activity still gets its (zero) row.
  r = Report(day, day, "ZZ");
  ASSERT_EQ(r.by_source_size(), 1);
  EXPECT_EQ(r.by_source(0).transactions(), 0);
  EXPECT_EQ(r.by_route_size(), 0);
}

TEST_F(AccrualAnalysisTest, BadRequestsNameTheField) {
  v1::GetAccrualAnalysisReportRequest request;
  absl::StatusOr<v1::GetAccrualAnalysisReportResponse> response =
      AccrualAnalysisReport(view_, request, Context());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      mileagebank::testing::NamesField(response.status(), "range.from_date"));

  *request.mutable_range() = Range(D(2026, 2, 1), D(2026, 1, 1));
  response = AccrualAnalysisReport(view_, request, Context());
  EXPECT_TRUE(
      mileagebank::testing::NamesField(response.status(), "range.to_date"));

  *request.mutable_range() = Range(D(2026, 1, 1), D(2026, 1, 31));
  for (const char* bad : {"c", "ca", "TOOLONGCODE", "C-A"}) {
    request.set_partner_code(bad);
    response = AccrualAnalysisReport(view_, request, Context());
    EXPECT_TRUE(
        mileagebank::testing::NamesField(response.status(), "partner_code"))
        << bad;
  }
}

TEST_F(AccrualAnalysisTest, OtherSourcesAndEventsAreIgnored) {
  av1::Transaction t = Base("1", av1::OWN_FLIGHT, D(2026, 1, 1), 1000);
  av1::CreditPosted posted;
  *posted.mutable_transaction() = t;
  Post(posted, D(2026, 1, 1), kMembershipSource);
  av1::RetroClaimSubmitted claim;
  Post(claim, D(2026, 1, 1));
  EXPECT_EQ(
      FindSource(Report(D(2026, 1, 1), D(2026, 1, 1)), v1::SOURCE_OWN_FLIGHTS)
          ->transactions(),
      0);
}

// Random flights and reversals over two years; every way of answering
// segments_per_member (year and month distributions, member-year rows,
// member-day rows, the partner filter) must agree with a recount.
TEST_F(AccrualAnalysisTest, SegmentsPerMemberMatchesARecount) {
  struct Posted {
    std::string member;
    std::string partner;
    absl::CivilDay day;
    int delta;
  };
  std::vector<Posted> log;
  std::vector<av1::Transaction> credits;
  std::mt19937 random(7);
  const absl::CivilDay start = D(2025, 12, 1);
  for (int i = 0; i < 600; ++i) {
    const std::string member = std::to_string(random() % 25);
    const absl::CivilDay day = start + static_cast<int>(random() % 420);
    if (!credits.empty() && random() % 5 == 0) {
      const size_t pick = random() % credits.size();
      const av1::Transaction credit = credits[pick];
      credits.erase(credits.begin() + pick);
      const absl::CivilDay credited(credit.posting_date().year(),
                                    credit.posting_date().month(),
                                    credit.posting_date().day());
      const absl::CivilDay when = std::max(day, credited);
      Reverse(credit, when);
      log.push_back({credit.member_number(), credit.partner_code(), when, -1});
      continue;
    }
    const std::string partner = random() % 3 == 0 ? "CA" : "";
    credits.push_back(Flight(member, day, partner.empty() ? "FM" : partner,
                             "PEK", "SHA", "Y", 1000, 1000, 1, partner));
    log.push_back({member, partner, day, 1});
  }
  auto recount = [&](absl::CivilDay from, absl::CivilDay to,
                     const std::string& partner) {
    std::map<std::string, int64_t> counts;
    for (const Posted& p : log) {
      if (p.day < from || p.day > to) continue;
      if (!partner.empty() && p.partner != partner) continue;
      counts[p.member] += p.delta;
    }
    std::map<int64_t, int64_t> distribution;
    for (const auto& [member, count] : counts) {
      if (count > 0) ++distribution[count];
    }
    return distribution;
  };
  const std::vector<std::pair<absl::CivilDay, absl::CivilDay>> ranges = {
      {D(2026, 1, 1), D(2026, 12, 31)},  // a calendar year
      {D(2025, 1, 1), D(2025, 12, 31)},
      {D(2026, 3, 1), D(2026, 3, 31)},  // a calendar month
      {D(2026, 2, 1), D(2026, 2, 28)},
      {D(2025, 12, 1), D(2027, 1, 31)},  // whole months over three years
      {D(2026, 1, 15), D(2026, 11, 3)},  // clipped edges
      {D(2025, 12, 20), D(2026, 1, 10)},
      {D(2026, 6, 6), D(2026, 6, 6)},
  };
  for (const auto& [from, to] : ranges) {
    for (const std::string partner : {"", "CA"}) {
      EXPECT_EQ(Distribution(Report(from, to, partner)),
                recount(from, to, partner))
          << validation::FormatDate(from) << " " << validation::FormatDate(to)
          << " partner " << partner;
    }
  }
  EXPECT_FALSE(recount(D(2026, 1, 1), D(2026, 12, 31), "").empty());
}

TEST_F(AccrualAnalysisTest, DeferredRollUpsAnswerTheSameAndDeriveTheSameRows) {
  std::mt19937 random(3);
  std::vector<av1::Transaction> credits;
  for (int i = 0; i < 400; ++i) {
    const absl::CivilDay day =
        D(2025, 11, 20) + static_cast<int>(random() % 430);
    if (!credits.empty() && random() % 6 == 0) {
      Reverse(credits.back(), day + 30);
      credits.pop_back();
      continue;
    }
    const std::string partner = random() % 3 == 0 ? "CA" : "";
    const std::string member = std::to_string(random() % 30);
    if (random() % 4 == 0) {
      Credit(member, av1::PURCHASE, day, 500 + i);
      continue;
    }
    credits.push_back(Flight(member, day, partner.empty() ? "FM" : partner,
                             random() % 2 ? "PEK" : "CAN", "SHA",
                             random() % 2 ? "Y" : "J", 1000 + i, 1000, 1,
                             partner));
  }
  const std::pair<absl::CivilDay, absl::CivilDay> ranges[] = {
      {D(2026, 1, 1), D(2026, 12, 31)},
      {D(2026, 3, 1), D(2026, 3, 31)},
      {D(2025, 11, 1), D(2027, 1, 31)},
      {D(2026, 1, 15), D(2026, 11, 3)}};
  auto expect_same_reports = [&] {
    for (const auto& [from, to] : ranges) {
      for (const std::string partner : {"", "CA"}) {
        const v1::GetAccrualAnalysisReportResponse kept =
            Report(from, to, partner);
        EXPECT_GT(kept.by_route_size(), 0);
        EXPECT_EQ(Report(from, to, partner, &deferred_).SerializeAsString(),
                  kept.SerializeAsString())
            << validation::FormatDate(from) << " partner " << partner;
      }
    }
  };
  // Read while deferred: from the day rows, the same answers.
  EXPECT_LT(deferred_.Rows(kAccrualAnalysisRouteTable).size(),
            view_.Rows(kAccrualAnalysisRouteTable).size());
  expect_same_reports();

  // Derived once: the rows kept current event by event, byte for byte.
  const MemoryView applied = deferred_;
  ASSERT_TRUE(projection_.DeriveDeferred(applied, deferred_).ok());
  for (const char* table :
       {kAccrualAnalysisSourceTable, kAccrualAnalysisRouteTable,
        kAccrualAnalysisClassTable}) {
    EXPECT_EQ(deferred_.Rows(table), view_.Rows(table)) << table;
  }
  expect_same_reports();
  // From now on kept current as usual.
  Flight("7", D(2026, 5, 5), "CA", "PEK", "SHA", "Y", 900, 900, 1, "CA");
  EXPECT_EQ(deferred_.Rows(kAccrualAnalysisRouteTable),
            view_.Rows(kAccrualAnalysisRouteTable));
}

}  // namespace
}  // namespace mileagebank::reporting
