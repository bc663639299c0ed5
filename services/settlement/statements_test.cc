#include "services/settlement/statements.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank::settlement {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

common::v1::Money Cny(int64_t minor_units) {
  common::v1::Money money;
  money.set_currency_code("CNY");
  money.set_minor_units(minor_units);
  return money;
}

v1::Contract AirlineContract() {
  v1::Contract contract;
  *contract.mutable_mile_sale_price() = Cny(2500);
  *contract.mutable_award_price() = Cny(1234);
  *contract.mutable_mile_purchase_price() = Cny(1500);
  return contract;
}

// The field that the status's ErrorDetails name, or "".
std::string FieldOf(const absl::Status& status) {
  auto details = GetErrorDetails(status);
  if (!details.has_value() || details->field_violations().empty()) return "";
  return details->field_violations(0).field();
}

TEST(StatementNamesTest, IdAndFileName) {
  EXPECT_EQ(StatementId("CA", absl::CivilMonth(2026, 3)), "CA_202603");
  EXPECT_EQ(StatementFileName("HTL8", absl::CivilMonth(2026, 12)),
            "HTL8_202612.stmt.csv");
}

StatementActivity MarchActivity() {
  StatementActivity activity;
  activity.accrual_records = 7;  // One earned 0.
  activity.accrual_miles = 123457;
  activity.awards_issued = 3;
  activity.award_miles_issued = 100001;
  activity.awards_refunded = 1;
  activity.award_miles_refunded = 35000;
  activity.purchase_records = 4;
  activity.purchase_miles = 5321;
  return activity;
}

TEST(ComputeStatementTest, ThreeLinesEachRoundedOnItsOwn) {
  absl::StatusOr<v1::Statement> statement =
      ComputeStatement("CA", absl::CivilMonth(2026, 3), "CNY",
                       AirlineContract(), MarchActivity());
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_EQ(statement->statement_id(), "CA_202603");
  EXPECT_EQ(statement->partner_code(), "CA");
  EXPECT_EQ(statement->year(), 2026);
  EXPECT_EQ(statement->month(), 3);
  EXPECT_EQ(statement->currency_code(), "CNY");
  EXPECT_EQ(statement->status(), v1::DRAFT);
  ASSERT_EQ(statement->lines_size(), 3);

  // 123,457 x 2,500 / 1,000 = 308,642.5 -> 308,642.
  const v1::StatementLine& accrual = statement->lines(0);
  EXPECT_EQ(accrual.type(), v1::ACCRUAL);
  EXPECT_EQ(accrual.count(), 7);
  EXPECT_EQ(accrual.miles(), 123457);
  EXPECT_EQ(accrual.amount().currency_code(), "CNY");
  EXPECT_EQ(accrual.amount().minor_units(), 308642);

  // (100,001 - 35,000) x 1,234 / 1,000 = 80,211.234 -> 80,211.
  const v1::StatementLine& redemption = statement->lines(1);
  EXPECT_EQ(redemption.type(), v1::REDEMPTION);
  EXPECT_EQ(redemption.count(), 2);
  EXPECT_EQ(redemption.miles(), 65001);
  EXPECT_EQ(redemption.amount().minor_units(), 80211);

  // 5,321 x 1,500 / 1,000 = 7,981.5 -> 7,982.
  const v1::StatementLine& purchase = statement->lines(2);
  EXPECT_EQ(purchase.type(), v1::PURCHASE);
  EXPECT_EQ(purchase.count(), 4);
  EXPECT_EQ(purchase.miles(), 5321);
  EXPECT_EQ(purchase.amount().minor_units(), 7982);

  EXPECT_EQ(statement->receivable().minor_units(), 308642);
  EXPECT_EQ(statement->payable().minor_units(), 80211 + 7982);
  EXPECT_EQ(statement->net().minor_units(), 308642 - 80211 - 7982);
  EXPECT_EQ(statement->net().minor_units(), 220449);
  EXPECT_EQ(statement->net().currency_code(), "CNY");
  EXPECT_EQ(statement->contract().award_price().minor_units(), 1234);
}

TEST(ComputeStatementTest, AmountsAreRoundedPerLineNotOnTheSum) {
  // Each line is 0.5 fen: rounded on its own each is 0; on the sum it would
  // be 1.5 -> 2.
  v1::Contract contract;
  *contract.mutable_mile_sale_price() = Cny(500);
  *contract.mutable_award_price() = Cny(500);
  *contract.mutable_mile_purchase_price() = Cny(500);
  StatementActivity activity;
  activity.accrual_records = 1;
  activity.accrual_miles = 1;
  activity.awards_issued = 1;
  activity.award_miles_issued = 1;
  activity.purchase_records = 1;
  activity.purchase_miles = 1;
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "CA", absl::CivilMonth(2026, 3), "CNY", contract, activity);
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_EQ(statement->lines(0).amount().minor_units(), 0);
  EXPECT_EQ(statement->lines(1).amount().minor_units(), 0);
  EXPECT_EQ(statement->lines(2).amount().minor_units(), 0);
  EXPECT_EQ(statement->net().minor_units(), 0);
}

TEST(ComputeStatementTest, MoreRefundedThanIssuedMakesANegativeRedemption) {
  v1::Contract contract = AirlineContract();
  *contract.mutable_award_price() = Cny(1500);
  StatementActivity activity;
  activity.awards_issued = 1;
  activity.award_miles_issued = 25000;
  activity.awards_refunded = 2;
  activity.award_miles_refunded = 60001;
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "CA", absl::CivilMonth(2026, 4), "CNY", contract, activity);
  ASSERT_TRUE(statement.ok()) << statement.status();
  const v1::StatementLine& redemption = statement->lines(1);
  EXPECT_EQ(redemption.count(), -1);
  EXPECT_EQ(redemption.miles(), -35001);
  // -35,001 x 1,500 / 1,000 = -52,501.5 -> -52,502 (the even neighbour).
  EXPECT_EQ(redemption.amount().minor_units(), -52502);
  EXPECT_EQ(statement->receivable().minor_units(), 0);
  EXPECT_EQ(statement->payable().minor_units(), -52502);
  // The partner owes back what it was paid for the refunded awards.
  EXPECT_EQ(statement->net().minor_units(), 52502);
}

TEST(ComputeStatementTest, NegativeHalfFenRoundsTowardZeroWhenEven) {
  v1::Contract contract = AirlineContract();
  *contract.mutable_award_price() = Cny(2500);
  StatementActivity activity;
  activity.awards_refunded = 1;
  activity.award_miles_refunded = 1;  // -1 x 2,500 / 1,000 = -2.5 -> -2.
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "CA", absl::CivilMonth(2026, 4), "CNY", contract, activity);
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_EQ(statement->lines(1).amount().minor_units(), -2);
  EXPECT_EQ(statement->net().minor_units(), 2);
}

TEST(ComputeStatementTest, NonAirlineHasZeroRedemptionAndPurchaseLines) {
  v1::Contract contract;
  *contract.mutable_mile_sale_price() = Cny(3000);
  StatementActivity activity;
  activity.accrual_records = 2;
  activity.accrual_miles = 1500;
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "HOTEL1", absl::CivilMonth(2026, 1), "CNY", contract, activity);
  ASSERT_TRUE(statement.ok()) << statement.status();
  ASSERT_EQ(statement->lines_size(), 3);
  EXPECT_EQ(statement->lines(1).type(), v1::REDEMPTION);
  EXPECT_EQ(statement->lines(1).count(), 0);
  EXPECT_EQ(statement->lines(1).amount().minor_units(), 0);
  EXPECT_EQ(statement->lines(1).amount().currency_code(), "CNY");
  EXPECT_EQ(statement->lines(2).type(), v1::PURCHASE);
  EXPECT_EQ(statement->lines(2).amount().minor_units(), 0);
  EXPECT_EQ(statement->net().minor_units(), 4500);
  EXPECT_EQ(statement->payable().minor_units(), 0);
}

TEST(ComputeStatementTest, EmptyMonthIsAllZero) {
  absl::StatusOr<v1::Statement> statement =
      ComputeStatement("CA", absl::CivilMonth(2026, 2), "CNY",
                       AirlineContract(), StatementActivity());
  ASSERT_TRUE(statement.ok()) << statement.status();
  for (const v1::StatementLine& line : statement->lines()) {
    EXPECT_EQ(line.count(), 0);
    EXPECT_EQ(line.miles(), 0);
    EXPECT_EQ(line.amount().minor_units(), 0);
  }
  EXPECT_EQ(statement->net().minor_units(), 0);
}

TEST(ComputeStatementTest, BadInputsNameTheField) {
  const absl::CivilMonth march(2026, 3);
  struct Case {
    std::string partner;
    std::string currency;
    v1::Contract contract;
    StatementActivity activity;
    absl::StatusCode code;
    std::string field;
  };
  v1::Contract usd_award = AirlineContract();
  usd_award.mutable_award_price()->set_currency_code("USD");
  v1::Contract negative_sale = AirlineContract();
  negative_sale.mutable_mile_sale_price()->set_minor_units(-1);
  v1::Contract no_sale = AirlineContract();
  no_sale.clear_mile_sale_price();
  v1::Contract no_award = AirlineContract();
  no_award.clear_award_price();
  v1::Contract no_purchase = AirlineContract();
  no_purchase.clear_mile_purchase_price();
  StatementActivity negative_miles;
  negative_miles.accrual_miles = -1;
  StatementActivity negative_refunds;
  negative_refunds.awards_refunded = -1;
  StatementActivity award_miles;
  award_miles.award_miles_issued = 10;
  StatementActivity purchase_miles;
  purchase_miles.purchase_miles = 10;
  const Case cases[] = {
      {"ca",
       "CNY",
       AirlineContract(),
       {},
       absl::StatusCode::kInvalidArgument,
       "partner_code"},
      {"C",
       "CNY",
       AirlineContract(),
       {},
       absl::StatusCode::kInvalidArgument,
       "partner_code"},
      {"CA",
       "cny",
       AirlineContract(),
       {},
       absl::StatusCode::kInvalidArgument,
       "currency_code"},
      {"CA", "CNY", AirlineContract(), negative_miles,
       absl::StatusCode::kInvalidArgument, "activity.accrual_miles"},
      {"CA", "CNY", AirlineContract(), negative_refunds,
       absl::StatusCode::kInvalidArgument, "activity.awards_refunded"},
      {"CA",
       "CNY",
       usd_award,
       {},
       absl::StatusCode::kInvalidArgument,
       "contract.award_price.currency_code"},
      {"CA",
       "CNY",
       negative_sale,
       {},
       absl::StatusCode::kInvalidArgument,
       "contract.mile_sale_price.minor_units"},
      {"CA",
       "CNY",
       no_sale,
       {},
       absl::StatusCode::kInvalidArgument,
       "contract.mile_sale_price"},
      {"CA", "CNY", no_award, award_miles,
       absl::StatusCode::kFailedPrecondition, "contract.award_price"},
      {"CA", "CNY", no_purchase, purchase_miles,
       absl::StatusCode::kFailedPrecondition, "contract.mile_purchase_price"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::Statement> statement =
        ComputeStatement(c.partner, march, c.currency, c.contract, c.activity);
    EXPECT_EQ(statement.status().code(), c.code) << c.field;
    EXPECT_EQ(FieldOf(statement.status()), c.field);
  }
}

TEST(ComputeStatementTest, AmountsBeyondInt64AreOutOfRange) {
  v1::Contract contract = AirlineContract();
  contract.mutable_mile_sale_price()->set_minor_units(2000);
  StatementActivity activity;
  activity.accrual_miles = kMax;
  EXPECT_EQ(ComputeStatement("CA", absl::CivilMonth(2026, 3), "CNY", contract,
                             activity)
                .status()
                .code(),
            absl::StatusCode::kOutOfRange);

  // Each line fits; their difference does not.
  contract.mutable_mile_sale_price()->set_minor_units(1000);
  contract.mutable_award_price()->set_minor_units(1000);
  activity.accrual_miles = kMax;
  activity.awards_refunded = 1;
  activity.award_miles_refunded = kMax;
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "CA", absl::CivilMonth(2026, 3), "CNY", contract, activity);
  EXPECT_EQ(statement.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(statement.status().message(), HasSubstr("net"));
}

v1::Statement IssuedMarchStatement() {
  absl::StatusOr<v1::Statement> statement =
      ComputeStatement("CA", absl::CivilMonth(2026, 3), "CNY",
                       AirlineContract(), MarchActivity());
  EXPECT_TRUE(statement.ok()) << statement.status();
  statement->set_status(v1::ISSUED);
  const absl::Time issued_at = absl::FromCivil(
      absl::CivilSecond(2026, 4, 1, 2, 3, 4), absl::UTCTimeZone());
  statement->mutable_issued_at()->set_seconds(absl::ToUnixSeconds(issued_at));
  statement->mutable_issued_at()->set_nanos(999000000);
  return *statement;
}

TEST(FormatStatementFileTest, WritesSectionThreeExactly) {
  absl::StatusOr<std::string> file =
      FormatStatementFile(IssuedMarchStatement());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file,
            "H,CA,2026-03,CNY,2026-04-01T02:03:04Z,1\n"
            "L,ACCRUAL,7,123457,308642\n"
            "L,REDEMPTION,2,65001,80211\n"
            "L,PURCHASE,4,5321,7982\n"
            "T,220449\n");
}

TEST(FormatStatementFileTest, NegativeFiguresAreWrittenWithASign) {
  v1::Contract contract = AirlineContract();
  *contract.mutable_award_price() = Cny(1500);
  StatementActivity activity;
  activity.accrual_records = 1;
  activity.accrual_miles = 0;  // A record that earned 0 still counts.
  activity.awards_refunded = 2;
  activity.award_miles_refunded = 35001;
  activity.purchase_records = 1;
  activity.purchase_miles = 100000;
  absl::StatusOr<v1::Statement> statement = ComputeStatement(
      "MU", absl::CivilMonth(2025, 12), "CNY", contract, activity);
  ASSERT_TRUE(statement.ok()) << statement.status();
  statement->mutable_issued_at()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(
          absl::CivilSecond(2026, 1, 2, 0, 0, 0), absl::UTCTimeZone())));
  absl::StatusOr<std::string> file = FormatStatementFile(*statement);
  ASSERT_TRUE(file.ok()) << file.status();
  // 0 - (-52,502) - 150,000 = -97,498: the mileage bank pays.
  EXPECT_EQ(*file,
            "H,MU,2025-12,CNY,2026-01-02T00:00:00Z,1\n"
            "L,ACCRUAL,1,0,0\n"
            "L,REDEMPTION,-2,-35001,-52502\n"
            "L,PURCHASE,1,100000,150000\n"
            "T,-97498\n");
  EXPECT_EQ(StatementFileName(
                statement->partner_code(),
                absl::CivilMonth(statement->year(), statement->month())),
            "MU_202512.stmt.csv");
}

TEST(FormatStatementFileTest, RefusesAStatementThatDoesNotAddUp) {
  v1::Statement not_issued = IssuedMarchStatement();
  not_issued.clear_issued_at();
  EXPECT_EQ(FormatStatementFile(not_issued).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::Statement wrong_net = IssuedMarchStatement();
  wrong_net.mutable_net()->set_minor_units(1);
  EXPECT_EQ(FieldOf(FormatStatementFile(wrong_net).status()), "statement.net");

  v1::Statement two_lines = IssuedMarchStatement();
  two_lines.mutable_lines()->RemoveLast();
  EXPECT_EQ(FieldOf(FormatStatementFile(two_lines).status()),
            "statement.lines");

  v1::Statement swapped = IssuedMarchStatement();
  swapped.mutable_lines()->SwapElements(1, 2);
  EXPECT_EQ(FieldOf(FormatStatementFile(swapped).status()),
            "statement.lines[1].type");

  v1::Statement usd = IssuedMarchStatement();
  usd.mutable_lines(0)->mutable_amount()->set_currency_code("USD");
  EXPECT_EQ(FieldOf(FormatStatementFile(usd).status()),
            "statement.lines[0].amount.currency_code");
}

}  // namespace
}  // namespace mileagebank::settlement
