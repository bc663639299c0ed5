#include "services/reporting/liability.h"

#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;

absl::CivilDay D(int year, int month, int day) {
  return absl::CivilDay(year, month, day);
}

absl::Time Noon(absl::CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day) + 12 * 3600,
                         absl::UTCTimeZone());
}

v1::DateRange Range(absl::CivilDay from, absl::CivilDay to) {
  v1::DateRange range;
  *range.mutable_from_date() = validation::ToProtoDate(from);
  *range.mutable_to_date() = validation::ToProtoDate(to);
  return range;
}

std::string FieldOf(const absl::Status& status) {
  auto details = GetErrorDetails(status);
  if (!details.has_value() || details->field_violations().empty()) return "";
  return details->field_violations(0).field();
}

class LiabilityTest : public ::testing::Test {
 protected:
  // Applies one event of `source` recorded at `recorded`.
  void Apply(absl::string_view source, const google::protobuf::Message& payload,
             absl::Time recorded) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(recorded);
    event.mutable_payload()->PackFrom(payload);
    ASSERT_TRUE(projection_.Apply(SourceEvent(source, event), view_).ok());
    view_.mutable_positions()[std::string(source)] = sequence_;
  }

  // A ledger transaction posted at noon of `day` (recorded then too, unless
  // `recorded` says otherwise).
  void Post(const std::string& member, av1::TransactionType type, int64_t miles,
            absl::CivilDay day,
            absl::optional<absl::Time> recorded = absl::nullopt) {
    av1::Transaction transaction;
    transaction.set_transaction_id(member + "-T" + std::to_string(sequence_));
    transaction.set_member_number(member);
    transaction.set_type(type);
    transaction.set_miles(miles);
    *transaction.mutable_posting_date() = validation::ToProtoDate(day);
    *transaction.mutable_posted_at() = validation::ToProtoTimestamp(Noon(day));
    const absl::Time at = recorded.value_or(Noon(day));
    if (miles >= 0) {
      av1::CreditPosted event;
      *event.mutable_transaction() = transaction;
      Apply(kAccrualSource, event, at);
    } else {
      av1::DebitPosted event;
      *event.mutable_transaction() = transaction;
      Apply(kAccrualSource, event, at);
    }
  }

  void Enrol(const std::string& member, absl::CivilDay day,
             mv1::Tier tier = mv1::BLUE) {
    mv1::MemberEnrolled event;
    event.mutable_member()->set_member_number(member);
    event.mutable_member()->set_tier(tier);
    Apply(kMembershipSource, event, Noon(day));
  }

  void ChangeTier(const std::string& member, mv1::Tier from, mv1::Tier to,
                  absl::CivilDay day) {
    mv1::TierChanged event;
    event.set_member_number(member);
    event.set_from_tier(from);
    event.set_to_tier(to);
    *event.mutable_effective_date() = validation::ToProtoDate(day);
    Apply(kMembershipSource, event, Noon(day));
  }

  absl::StatusOr<v1::GetLiabilityReportResponse> Report(
      absl::CivilDay from, absl::CivilDay to,
      absl::CivilDay today = absl::CivilDay(2026, 12, 31)) {
    v1::GetLiabilityReportRequest request;
    *request.mutable_range() = Range(from, to);
    ReportContext context{Noon(today), &config_};
    return LiabilityReport(view_, request, context);
  }

  // The row of `tier` in by_tier.
  static const v1::TierLiabilityRow& TierRow(
      const v1::GetLiabilityReportResponse& response, mv1::Tier tier) {
    for (const auto& row : response.by_tier()) {
      if (row.tier() == tier) return row;
    }
    static const v1::TierLiabilityRow* const kNone = new v1::TierLiabilityRow;
    ADD_FAILURE() << "no row for " << mv1::Tier_Name(tier);
    return *kNone;
  }

  static void ExpectIdentity(const v1::LiabilityMonthRow& row) {
    EXPECT_EQ(row.closing_miles(),
              row.opening_miles() + row.issued_miles() - row.reversed_miles() -
                  row.redeemed_miles() - row.expired_miles() +
                  row.adjusted_miles() - row.fee_miles())
        << row.year() << "-" << row.month();
  }

  MemoryView view_;
  LiabilityProjection projection_;
  config::v1::ReportingConfig config_;
  uint64_t sequence_ = 0;
};

const std::string kAnna = "1000000001";
const std::string kBo = "1000000002";

// Movements of every kind, worked out by hand:
//   Jan 10 +1000 flight; Jan 20 +500 purchase           A 1500
//   Feb  5 -300 redemption; Feb 6 +100 redeposit, -50 fee;
//   Feb 10 -200 reversal                                A 1050
//   Mar  1 -100 expire; Mar 2 -20, +70 adjustments;
//   Mar  3 A gives B 200 with a 30 fee                  A 770, B 200

TEST_F(LiabilityTest, MonthlyMovementsByTypeAndClippedOpening) {
  Enrol(kAnna, D(2026, 1, 1));
  Enrol(kBo, D(2026, 1, 1));
  Post(kAnna, av1::OWN_FLIGHT, 1000, D(2026, 1, 10));
  Post(kAnna, av1::PURCHASE, 500, D(2026, 1, 20));
  Post(kAnna, av1::REDEMPTION, -300, D(2026, 2, 5));
  Post(kAnna, av1::REDEPOSIT, 100, D(2026, 2, 6));
  Post(kAnna, av1::REDEPOSIT_FEE, -50, D(2026, 2, 6));
  Post(kAnna, av1::REVERSAL, -200, D(2026, 2, 10));
  Post(kAnna, av1::EXPIRE, -100, D(2026, 3, 1));
  Post(kAnna, av1::ADJUSTMENT, -20, D(2026, 3, 2));
  Post(kAnna, av1::ADJUSTMENT, 70, D(2026, 3, 2));
  Post(kAnna, av1::TRANSFER_OUT, -200, D(2026, 3, 3));
  Post(kAnna, av1::TRANSFER_FEE, -30, D(2026, 3, 3));
  Post(kBo, av1::TRANSFER_IN, 200, D(2026, 3, 3));

  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 15), D(2026, 3, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->monthly_size(), 3);
  const v1::LiabilityMonthRow& jan = report->monthly(0);
  EXPECT_EQ(jan.year(), 2026);
  EXPECT_EQ(jan.month(), 1);
  EXPECT_EQ(jan.opening_miles(), 1000);  // The Jan 10 flight is before.
  EXPECT_EQ(jan.issued_miles(), 500);
  EXPECT_EQ(jan.closing_miles(), 1500);
  const v1::LiabilityMonthRow& feb = report->monthly(1);
  EXPECT_EQ(feb.opening_miles(), 1500);
  EXPECT_EQ(feb.issued_miles(), 0);
  EXPECT_EQ(feb.reversed_miles(), 200);
  EXPECT_EQ(feb.redeemed_miles(), 200);
  EXPECT_EQ(feb.fee_miles(), 50);
  EXPECT_EQ(feb.closing_miles(), 1050);
  const v1::LiabilityMonthRow& mar = report->monthly(2);
  EXPECT_EQ(mar.opening_miles(), 1050);
  EXPECT_EQ(mar.expired_miles(), 100);
  EXPECT_EQ(mar.adjusted_miles(), 50);
  EXPECT_EQ(mar.fee_miles(), 30);
  EXPECT_EQ(mar.closing_miles(), 970);
  for (const auto& row : report->monthly()) ExpectIdentity(row);

  EXPECT_EQ(report->summary().outstanding_miles(), 970);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).outstanding_miles(), 970);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 2);
  EXPECT_EQ(*LiabilityTotal(view_), 970);
  EXPECT_EQ(*SumOfMemberBalances(view_), 970);
}

TEST_F(LiabilityTest, StockAtEndOfToDateLeavesLaterEventsOut) {
  Post(kAnna, av1::OWN_FLIGHT, 1000, D(2026, 1, 10));
  Post(kAnna, av1::OWN_FLIGHT, 400, D(2026, 2, 10));
  Post(kBo, av1::OWN_FLIGHT, 300, D(2026, 2, 11));

  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 1), D(2026, 2, 10), /*today=*/D(2026, 6, 1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->summary().outstanding_miles(), 1400);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 1);
  ASSERT_EQ(report->monthly_size(), 2);
  EXPECT_EQ(report->monthly(1).closing_miles(), 1400);

  // From today on: the current state.
  report = Report(D(2026, 1, 1), D(2026, 6, 1), /*today=*/D(2026, 6, 1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->summary().outstanding_miles(), 1700);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 2);
  ASSERT_EQ(report->monthly_size(), 6);
  EXPECT_EQ(report->monthly(5).opening_miles(), 1700);
  EXPECT_EQ(report->monthly(5).closing_miles(), 1700);
}

TEST_F(LiabilityTest, TierChangeMovesTheBalanceOnItsDay) {
  Enrol(kAnna, D(2026, 1, 1));
  Post(kAnna, av1::OWN_FLIGHT, 1000, D(2026, 1, 10));
  ChangeTier(kAnna, mv1::BLUE, mv1::GOLD, D(2026, 2, 15));
  Post(kAnna, av1::OWN_FLIGHT, 600, D(2026, 3, 1));

  absl::StatusOr<v1::GetLiabilityReportResponse> before =
      Report(D(2026, 1, 1), D(2026, 2, 14), /*today=*/D(2026, 6, 1));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(TierRow(*before, mv1::BLUE).outstanding_miles(), 1000);
  EXPECT_EQ(TierRow(*before, mv1::BLUE).members(), 1);
  EXPECT_EQ(TierRow(*before, mv1::GOLD).outstanding_miles(), 0);
  EXPECT_EQ(TierRow(*before, mv1::GOLD).members(), 0);

  absl::StatusOr<v1::GetLiabilityReportResponse> after =
      Report(D(2026, 1, 1), D(2026, 3, 31), /*today=*/D(2026, 6, 1));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(TierRow(*after, mv1::BLUE).outstanding_miles(), 0);
  EXPECT_EQ(TierRow(*after, mv1::BLUE).members(), 0);
  EXPECT_EQ(TierRow(*after, mv1::GOLD).outstanding_miles(), 1600);
  EXPECT_EQ(TierRow(*after, mv1::GOLD).members(), 1);
  // Every tier, in order, zeros included.
  ASSERT_EQ(after->by_tier_size(), 4);
  EXPECT_EQ(after->by_tier(0).tier(), mv1::BLUE);
  EXPECT_EQ(after->by_tier(1).tier(), mv1::SILVER);
  EXPECT_EQ(after->by_tier(2).tier(), mv1::GOLD);
  EXPECT_EQ(after->by_tier(3).tier(), mv1::PLATINUM);
  EXPECT_EQ(after->summary().outstanding_miles(), 1600);
}

TEST_F(LiabilityTest, CreditBeforeEnrolmentCountsAndFollowsTheTier) {
  // Accrual's stream ran ahead of membership's.
  Post(kAnna, av1::PARTNER_ACTIVITY, 800, D(2026, 1, 10));
  Enrol(kAnna, D(2026, 1, 5));
  ChangeTier(kAnna, mv1::BLUE, mv1::SILVER, D(2026, 1, 20));
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 1), D(2026, 1, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(TierRow(*report, mv1::BLUE).outstanding_miles(), 0);
  EXPECT_EQ(TierRow(*report, mv1::SILVER).outstanding_miles(), 800);
  EXPECT_EQ(TierRow(*report, mv1::SILVER).members(), 1);
  EXPECT_EQ(report->monthly(0).issued_miles(), 800);
}

TEST_F(LiabilityTest, EnrolmentInAHigherTierMovesEarlierMiles) {
  Post(kAnna, av1::OWN_FLIGHT, 500, D(2026, 1, 10));
  Enrol(kAnna, D(2026, 1, 11), mv1::PLATINUM);
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 1), D(2026, 1, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(TierRow(*report, mv1::BLUE).outstanding_miles(), 0);
  EXPECT_EQ(TierRow(*report, mv1::PLATINUM).outstanding_miles(), 500);
}

TEST_F(LiabilityTest, NegativeBalanceCountsAndReturnsToZero) {
  Post(kAnna, av1::OWN_FLIGHT, 1000, D(2026, 1, 10));
  Post(kAnna, av1::REDEMPTION, -900, D(2026, 1, 11));
  Post(kAnna, av1::REVERSAL, -1000, D(2026, 1, 12));  // Balance -900.
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 1), D(2026, 1, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->summary().outstanding_miles(), -900);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 1);
  // Default cost CNY 60.00 per 1,000: -900 x 6000 / 1000 = -5400.
  EXPECT_EQ(report->summary().outstanding_value().minor_units(), -5400);

  Post(kAnna, av1::PURCHASE, 900, D(2026, 1, 13));
  report = Report(D(2026, 1, 1), D(2026, 1, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->summary().outstanding_miles(), 0);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 0);
  EXPECT_EQ(report->monthly(0).reversed_miles(), 1000);
  EXPECT_EQ(report->monthly(0).issued_miles(), 1900);
  ExpectIdentity(report->monthly(0));
}

TEST_F(LiabilityTest, MergeLegsDatedByTheirWriteNetToZero) {
  Post(kAnna, av1::OWN_FLIGHT, 700, D(2026, 3, 10));
  // One write just after midnight: the legs' clocks read both sides of it.
  const absl::Time write =
      absl::FromCivil(absl::CivilSecond(2026, 4, 1, 0, 0, 0),
                      absl::UTCTimeZone()) +
      absl::Milliseconds(1);
  Post(kAnna, av1::MERGE_OUT, -700, D(2026, 3, 31), write);
  Post(kBo, av1::MERGE_IN, 700, D(2026, 4, 1), write);
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 3, 1), D(2026, 4, 30));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->monthly_size(), 2);
  EXPECT_EQ(report->monthly(0).closing_miles(), 700);
  EXPECT_EQ(report->monthly(1).opening_miles(), 700);
  EXPECT_EQ(report->monthly(1).closing_miles(), 700);
  for (const auto& row : report->monthly()) ExpectIdentity(row);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).members(), 1);
  EXPECT_EQ(*SumOfMemberBalances(view_), 700);
}

TEST_F(LiabilityTest, ValueUsesTheConfiguredCostRoundedHalfEven) {
  Post(kAnna, av1::OWN_FLIGHT, 970, D(2026, 1, 10));
  ChangeTier(kAnna, mv1::BLUE, mv1::GOLD, D(2026, 1, 11));
  Post(kBo, av1::OWN_FLIGHT, 1, D(2026, 1, 10));
  config_.mutable_cost_per_thousand_miles()->set_currency_code("USD");
  config_.mutable_cost_per_thousand_miles()->set_minor_units(1250);
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2026, 1, 1), D(2026, 1, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->summary().cost_per_thousand_miles().currency_code(), "USD");
  EXPECT_EQ(report->summary().cost_per_thousand_miles().minor_units(), 1250);
  // 971 x 1.25 = 1213.75 -> 1214; 970 x 1.25 = 1212.5 -> 1212; 1.25 -> 1.
  EXPECT_EQ(report->summary().outstanding_value().currency_code(), "USD");
  EXPECT_EQ(report->summary().outstanding_value().minor_units(), 1214);
  EXPECT_EQ(TierRow(*report, mv1::GOLD).outstanding_value().minor_units(),
            1212);
  EXPECT_EQ(TierRow(*report, mv1::BLUE).outstanding_value().minor_units(), 1);
  EXPECT_EQ(TierRow(*report, mv1::SILVER).outstanding_value().minor_units(), 0);
  EXPECT_EQ(TierRow(*report, mv1::SILVER).outstanding_value().currency_code(),
            "USD");
}

TEST_F(LiabilityTest, EmptyViewGivesZeroRowsForEveryMonthAndTier) {
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      Report(D(2025, 11, 20), D(2026, 2, 3));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->monthly_size(), 4);
  EXPECT_EQ(report->monthly(0).year(), 2025);
  EXPECT_EQ(report->monthly(0).month(), 11);
  EXPECT_EQ(report->monthly(3).year(), 2026);
  EXPECT_EQ(report->monthly(3).month(), 2);
  for (const auto& row : report->monthly()) {
    EXPECT_EQ(row.opening_miles(), 0);
    EXPECT_EQ(row.closing_miles(), 0);
  }
  EXPECT_EQ(report->by_tier_size(), 4);
  EXPECT_EQ(report->summary().outstanding_miles(), 0);
  EXPECT_EQ(report->summary().cost_per_thousand_miles().currency_code(), "CNY");
  EXPECT_EQ(report->summary().cost_per_thousand_miles().minor_units(), 6000);
  EXPECT_EQ(*LiabilityTotal(view_), 0);
}

TEST_F(LiabilityTest, EventsOfOtherKindsAndSourcesAreIgnored) {
  Post(kAnna, av1::OWN_FLIGHT, 1000, D(2026, 1, 10));
  av1::LotExpired expired;  // Repeats an EXPIRE debit's miles.
  expired.set_member_number(kAnna);
  expired.set_miles(1000);
  Apply(kAccrualSource, expired, Noon(D(2026, 1, 12)));
  av1::CreditPosted look_alike;  // Not on the accrual stream.
  look_alike.mutable_transaction()->set_member_number(kAnna);
  look_alike.mutable_transaction()->set_miles(5);
  Apply(kRedemptionSource, look_alike, Noon(D(2026, 1, 12)));
  EXPECT_EQ(*LiabilityTotal(view_), 1000);
  EXPECT_EQ(*SumOfMemberBalances(view_), 1000);
}

TEST_F(LiabilityTest, BadRangesNameTheField) {
  v1::GetLiabilityReportRequest request;
  ReportContext context{Noon(D(2026, 6, 1)), &config_};
  absl::StatusOr<v1::GetLiabilityReportResponse> report =
      LiabilityReport(view_, request, context);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(report.status()), "range.from_date");

  report = Report(D(2026, 3, 1), D(2026, 2, 1));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(report.status()), "range.to_date");

  report = Report(D(2016, 1, 1), D(2026, 1, 1));  // 121 months.
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(report.status()), "range.to_date");
}

}  // namespace
}  // namespace mileagebank::reporting
