#include "services/reporting/redemptions.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/validation/dates.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace rv1 = redemption::v1;

absl::Time At(int year, int month, int day, int hour = 12) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0),
                         absl::UTCTimeZone());
}

v1::DateRange Range(absl::CivilDay from, absl::CivilDay to) {
  v1::DateRange range;
  *range.mutable_from_date() = validation::ToProtoDate(from);
  *range.mutable_to_date() = validation::ToProtoDate(to);
  return range;
}

class RedemptionsTest : public ::testing::Test {
 protected:
  // A standard award FM: PEK-SHA-CAN one way, ECONOMY, created on WEB.
  rv1::RedemptionRecord Award(const std::string& id, absl::Time created,
                              int passengers, int64_t miles) {
    rv1::RedemptionRecord record;
    record.set_redemption_id(id);
    record.set_member_number("1000000009");
    record.set_award_type(rv1::STANDARD_AWARD);
    record.mutable_itinerary()->set_journey_type(rv1::ONE_WAY);
    rv1::Segment* first =
        record.mutable_itinerary()->mutable_outbound()->add_segments();
    first->set_origin("PEK");
    first->set_destination("SHA");
    rv1::Segment* second =
        record.mutable_itinerary()->mutable_outbound()->add_segments();
    second->set_origin("SHA");
    second->set_destination("CAN");
    record.set_cabin(rv1::ECONOMY);
    record.mutable_created_by()->set_channel(common::v1::WEB);
    for (int i = 0; i < passengers; ++i)
      record.add_passengers()->set_member(true);
    record.set_total_miles(miles);
    *record.mutable_created_at() = validation::ToProtoTimestamp(created);
    record.set_state(rv1::HELD);
    return record;
  }

  template <typename Payload>
  void Apply(const rv1::RedemptionRecord& record, absl::Time at,
             absl::string_view source = kRedemptionSource) {
    Payload payload;
    *payload.mutable_redemption() = record;
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(at);
    event.set_key(record.member_number());
    event.mutable_payload()->PackFrom(payload);
    ASSERT_TRUE(projection_.Apply(SourceEvent(source, event), view_).ok());
  }

  void Held(rv1::RedemptionRecord& record) {
    record.set_state(rv1::HELD);
    Apply<rv1::RedemptionHeld>(
        record, validation::FromProtoTimestamp(record.created_at()));
  }
  void Issue(rv1::RedemptionRecord& record, absl::Time at) {
    record.set_state(rv1::ISSUED);
    *record.mutable_issued_at() = validation::ToProtoTimestamp(at);
    Apply<rv1::RedemptionIssued>(record, at);
  }
  void Cancel(rv1::RedemptionRecord& record, absl::Time at) {
    record.set_state(rv1::CANCELLED);
    *record.mutable_cancelled_at() = validation::ToProtoTimestamp(at);
    Apply<rv1::RedemptionCancelled>(record, at);
  }
  void Expire(rv1::RedemptionRecord& record, absl::Time at) {
    record.set_state(rv1::EXPIRED);
    *record.mutable_expired_at() = validation::ToProtoTimestamp(at);
    Apply<rv1::RedemptionExpired>(record, at);
  }
  void Refund(rv1::RedemptionRecord& record, absl::Time at, int64_t fee) {
    record.set_state(rv1::REFUNDED);
    *record.mutable_refunded_at() = validation::ToProtoTimestamp(at);
    record.set_redeposit_fee_miles(fee);
    Apply<rv1::RedemptionRefunded>(record, at);
  }

  v1::GetRedemptionsReportResponse Report(absl::CivilDay from,
                                          absl::CivilDay to,
                                          absl::Time now = At(2027, 1, 1)) {
    v1::GetRedemptionsReportRequest request;
    *request.mutable_range() = Range(from, to);
    ReportContext context{now, nullptr};
    absl::StatusOr<v1::GetRedemptionsReportResponse> response =
        RedemptionsReport(view_, request, context);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::GetRedemptionsReportResponse();
  }

  RedemptionsProjection projection_;
  MemoryView view_;
  uint64_t sequence_ = 0;
};

TEST_F(RedemptionsTest, TransitionMovesTheRedemptionToItsNewStateCell) {
  rv1::RedemptionRecord award = Award("R1", At(2026, 1, 10, 9), 2, 24000);
  Held(award);
  Issue(award, At(2026, 1, 10, 10));

  const auto report =
      Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31));
  ASSERT_EQ(report.rows_size(), 1);  // the HELD cell is back to zero: left out
  const v1::RedemptionCubeRow& row = report.rows(0);
  EXPECT_EQ(row.origin(), "PEK");
  EXPECT_EQ(row.destination(), "CAN");
  EXPECT_EQ(row.journey_type(), rv1::ONE_WAY);
  EXPECT_EQ(row.award_type(), rv1::STANDARD_AWARD);
  EXPECT_EQ(row.cabin(), rv1::ECONOMY);
  EXPECT_EQ(row.channel(), common::v1::WEB);
  EXPECT_EQ(row.partner_code(), "");
  EXPECT_EQ(row.state(), rv1::ISSUED);
  EXPECT_EQ(row.redemptions(), 1);
  EXPECT_EQ(row.passengers(), 2);
  EXPECT_EQ(row.miles(), 24000);
}

TEST_F(RedemptionsTest, StateIsTheOneAtTheEndOfToDate) {
  // Created 30 Jan, issued 2 Feb, refunded 5 Mar.
  rv1::RedemptionRecord award = Award("R1", At(2026, 1, 30), 1, 8000);
  Held(award);
  Issue(award, At(2026, 2, 2));
  Refund(award, At(2026, 3, 5), 1000);
  // Created and issued 31 Jan: a same-day transition is never undone.
  rv1::RedemptionRecord other = Award("R2", At(2026, 1, 31, 8), 1, 8000);
  Held(other);
  Issue(other, At(2026, 1, 31, 20));

  auto state_of = [](const v1::GetRedemptionsReportResponse& report) {
    std::vector<std::pair<rv1::RedemptionState, int64_t>> states;
    for (const auto& row : report.rows()) {
      states.emplace_back(row.state(), row.redemptions());
    }
    return states;
  };
  using States = std::vector<std::pair<rv1::RedemptionState, int64_t>>;
  // Ties by dimensions, then state: HELD before ISSUED before REFUNDED.
  EXPECT_EQ(
      state_of(Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31))),
      (States{{rv1::HELD, 1}, {rv1::ISSUED, 1}}));
  EXPECT_EQ(
      state_of(Report(absl::CivilDay(2026, 1, 30), absl::CivilDay(2026, 2, 1))),
      (States{{rv1::HELD, 1}, {rv1::ISSUED, 1}}));
  EXPECT_EQ(
      state_of(Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 2, 2))),
      (States{{rv1::ISSUED, 2}}));
  EXPECT_EQ(
      state_of(Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 3, 4))),
      (States{{rv1::ISSUED, 2}}));
  EXPECT_EQ(
      state_of(Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 3, 5))),
      (States{{rv1::ISSUED, 1}, {rv1::REFUNDED, 1}}));
  // to_date today or later: the current state.
  EXPECT_EQ(state_of(Report(absl::CivilDay(2026, 1, 1),
                            absl::CivilDay(2026, 1, 31), At(2026, 1, 31, 23))),
            (States{{rv1::ISSUED, 1}, {rv1::REFUNDED, 1}}));
}

TEST_F(RedemptionsTest, CubeCountsCreationsInTheClippedRangeMostFirst) {
  // Same cell on 5 Jan (outside), 20 Jan, 10 Feb and 1 Mar; a BUSINESS
  // award by the call centre on 15 Mar (outside); an upgrade on 28 Feb.
  for (absl::Time created :
       {At(2026, 1, 5), At(2026, 1, 20), At(2026, 2, 10), At(2026, 3, 1)}) {
    rv1::RedemptionRecord award = Award("R", created, 1, 8000);
    Held(award);
  }
  rv1::RedemptionRecord late = Award("B", At(2026, 3, 15), 1, 15000);
  late.set_cabin(rv1::BUSINESS);
  Held(late);
  rv1::RedemptionRecord upgrade;
  upgrade.set_award_type(rv1::UPGRADE_AWARD);
  upgrade.set_cabin(rv1::BUSINESS);
  upgrade.mutable_upgrade()->mutable_segment()->set_origin("PEK");
  upgrade.mutable_upgrade()->mutable_segment()->set_destination("HKG");
  upgrade.mutable_created_by()->set_channel(common::v1::CALL_CENTRE);
  upgrade.add_passengers()->set_member(true);
  upgrade.set_total_miles(7000);
  *upgrade.mutable_created_at() = validation::ToProtoTimestamp(At(2026, 2, 28));
  Held(upgrade);

  const auto report =
      Report(absl::CivilDay(2026, 1, 15), absl::CivilDay(2026, 3, 1));
  ASSERT_EQ(report.rows_size(), 2);
  EXPECT_EQ(report.rows(0).destination(), "CAN");
  EXPECT_EQ(report.rows(0).redemptions(), 3);
  EXPECT_EQ(report.rows(0).miles(), 24000);
  EXPECT_EQ(report.rows(0).state(), rv1::HELD);
  EXPECT_EQ(report.rows(1).origin(), "PEK");
  EXPECT_EQ(report.rows(1).destination(), "HKG");
  EXPECT_EQ(report.rows(1).award_type(), rv1::UPGRADE_AWARD);
  EXPECT_EQ(report.rows(1).journey_type(), rv1::JOURNEY_TYPE_UNSPECIFIED);
  EXPECT_EQ(report.rows(1).channel(), common::v1::CALL_CENTRE);
  EXPECT_EQ(report.rows(1).redemptions(), 1);

  // Whole months only (read from the month table) agree with the days.
  const auto whole =
      Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 3, 31));
  ASSERT_EQ(whole.rows_size(), 3);
  EXPECT_EQ(whole.rows(0).redemptions(), 4);
  int64_t total = 0;
  for (const auto& row : whole.rows()) total += row.redemptions();
  EXPECT_EQ(total, 6);
  // Nothing created in the range: no rows.
  EXPECT_EQ(Report(absl::CivilDay(2026, 4, 1), absl::CivilDay(2026, 4, 30))
                .rows_size(),
            0);
}

TEST_F(RedemptionsTest, SummaryAndMonthsCountTransitionsDatedInTheRange) {
  rv1::RedemptionRecord a = Award("A", At(2026, 1, 8), 2, 20000);
  Held(a);
  Issue(a, At(2026, 1, 10));         // before the range
  Refund(a, At(2026, 2, 20), 1000);  // February
  rv1::RedemptionRecord b = Award("B", At(2026, 1, 20), 1, 30000);
  Held(b);
  Issue(b, At(2026, 2, 3));  // February
  rv1::RedemptionRecord c = Award("C", At(2026, 1, 16), 1, 8000);
  Held(c);
  Cancel(c, At(2026, 1, 16));  // January, in the range
  rv1::RedemptionRecord d = Award("D", At(2026, 3, 1), 1, 8000);
  Held(d);
  Expire(d, At(2026, 3, 2));  // March
  rv1::RedemptionRecord e = Award("E", At(2026, 3, 10), 1, 12000);
  Held(e);
  Issue(e, At(2026, 4, 1));  // after the range

  const auto report =
      Report(absl::CivilDay(2026, 1, 15), absl::CivilDay(2026, 3, 31));
  ASSERT_EQ(report.monthly_size(), 3);
  const v1::RedemptionMonthRow& jan = report.monthly(0);
  EXPECT_EQ(jan.year(), 2026);
  EXPECT_EQ(jan.month(), 1);
  EXPECT_EQ(jan.awards_issued(), 0);
  EXPECT_EQ(jan.cancellations(), 1);
  const v1::RedemptionMonthRow& feb = report.monthly(1);
  EXPECT_EQ(feb.awards_issued(), 1);
  EXPECT_EQ(feb.refunds(), 1);
  EXPECT_EQ(feb.refunded_miles(), 20000);
  EXPECT_EQ(feb.redeposit_fee_miles(), 1000);
  EXPECT_EQ(feb.miles_redeemed(), 30000 - 20000);
  const v1::RedemptionMonthRow& mar = report.monthly(2);
  EXPECT_EQ(mar.month(), 3);
  EXPECT_EQ(mar.expirations(), 1);
  EXPECT_EQ(mar.awards_issued(), 0);

  const v1::RedemptionsSummary& summary = report.summary();
  EXPECT_EQ(summary.awards_issued(), 1);
  EXPECT_EQ(summary.miles_redeemed(), 10000);
  EXPECT_EQ(summary.cancellations(), 1);
  EXPECT_EQ(summary.expirations(), 1);
  EXPECT_EQ(summary.refunds(), 1);
  EXPECT_EQ(summary.refunded_miles(), 20000);
  EXPECT_EQ(summary.redeposit_fee_miles(), 1000);

  // Cube: created 15 Jan - 31 Mar, state at the end of 31 Mar (E still HELD).
  int64_t held = 0, issued = 0, cancelled = 0, expired = 0;
  for (const auto& row : report.rows()) {
    if (row.state() == rv1::HELD) held += row.redemptions();
    if (row.state() == rv1::ISSUED) issued += row.redemptions();
    if (row.state() == rv1::CANCELLED) cancelled += row.redemptions();
    if (row.state() == rv1::EXPIRED) expired += row.redemptions();
  }
  EXPECT_EQ(held, 1);       // E
  EXPECT_EQ(issued, 1);     // B
  EXPECT_EQ(cancelled, 1);  // C
  EXPECT_EQ(expired, 1);    // D
}

TEST_F(RedemptionsTest, MonthsWithoutActivityAreZeroRows) {
  const auto report =
      Report(absl::CivilDay(2025, 11, 30), absl::CivilDay(2026, 2, 1));
  ASSERT_EQ(report.monthly_size(), 4);
  EXPECT_EQ(report.monthly(0).year(), 2025);
  EXPECT_EQ(report.monthly(0).month(), 11);
  EXPECT_EQ(report.monthly(3).month(), 2);
  for (const auto& row : report.monthly()) EXPECT_EQ(row.awards_issued(), 0);
  EXPECT_EQ(report.summary().awards_issued(), 0);
  EXPECT_EQ(report.rows_size(), 0);
}

TEST_F(RedemptionsTest, OtherSourcesAreIgnored) {
  rv1::RedemptionRecord award = Award("R1", At(2026, 1, 10), 1, 8000);
  Apply<rv1::RedemptionHeld>(award, At(2026, 1, 10), kSettlementSource);
  EXPECT_EQ(Report(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31))
                .rows_size(),
            0);
}

TEST_F(RedemptionsTest, RangeRulesNameTheField) {
  v1::GetRedemptionsReportRequest request;
  ReportContext context{At(2026, 1, 1), nullptr};
  absl::StatusOr<v1::GetRedemptionsReportResponse> missing =
      RedemptionsReport(view_, request, context);
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("range.from_date"),
            std::string::npos);

  *request.mutable_range() =
      Range(absl::CivilDay(2026, 2, 1), absl::CivilDay(2026, 1, 1));
  absl::StatusOr<v1::GetRedemptionsReportResponse> reversed =
      RedemptionsReport(view_, request, context);
  ASSERT_EQ(reversed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reversed.status().message().find("range.to_date"),
            std::string::npos);
}

}  // namespace
}  // namespace mileagebank::reporting
