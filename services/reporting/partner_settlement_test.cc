#include "services/reporting/partner_settlement.h"

#include <string>
#include <type_traits>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/reporting/memory_view.h"
#include "services/settlement/statements.h"

namespace mileagebank::reporting {
namespace {

namespace sv1 = settlement::v1;
namespace rv1 = redemption::v1;
namespace av1 = accrual::v1;

absl::Time At(int year, int month, int day) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, 12, 0, 0),
                         absl::UTCTimeZone());
}

common::v1::Money Price(const std::string& currency, int64_t minor) {
  common::v1::Money money;
  money.set_currency_code(currency);
  money.set_minor_units(minor);
  return money;
}

class PartnerSettlementTest : public ::testing::Test {
 protected:
  template <typename Payload>
  void Apply(absl::string_view source, const Payload& payload, absl::Time at) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(at);
    event.mutable_payload()->PackFrom(payload);
    const absl::Status applied = projection_.Apply(SourceEvent(source, event), view_);
    ASSERT_TRUE(applied.ok()) << applied;
  }

  // CA: an airline paying 10.00 CNY per 1,000 miles sold, paid 8.00 per
  // 1,000 award miles and 5.00 per 1,000 miles purchased; registered
  // 15 Jan 2026. HX: a hotel paying 0.25 EUR per 1,000; registered 1 Feb.
  void RegisterPartners() {
    sv1::PartnerRegistered ca;
    ca.mutable_partner()->set_partner_code("CA");
    ca.mutable_partner()->set_name("Air China");
    ca.mutable_partner()->set_type(sv1::AIRLINE);
    ca.mutable_partner()->set_currency_code("CNY");
    *ca.mutable_partner()->mutable_contract()->mutable_mile_sale_price() =
        Price("CNY", 1000);
    *ca.mutable_partner()->mutable_contract()->mutable_award_price() =
        Price("CNY", 800);
    *ca.mutable_partner()->mutable_contract()->mutable_mile_purchase_price() =
        Price("CNY", 500);
    *ca.mutable_partner()->mutable_created_at() =
        validation::ToProtoTimestamp(At(2026, 1, 15));
    Apply(kSettlementSource, ca, At(2026, 1, 15));
    sv1::PartnerRegistered hx;
    hx.mutable_partner()->set_partner_code("HX");
    hx.mutable_partner()->set_name("Hotel X");
    hx.mutable_partner()->set_type(sv1::HOTEL);
    hx.mutable_partner()->set_currency_code("EUR");
    *hx.mutable_partner()->mutable_contract()->mutable_mile_sale_price() =
        Price("EUR", 250);
    *hx.mutable_partner()->mutable_created_at() =
        validation::ToProtoTimestamp(At(2026, 2, 1));
    Apply(kSettlementSource, hx, At(2026, 2, 1));
  }

  void Credit(const std::string& partner, av1::TransactionType type,
              absl::CivilDay posted, int64_t miles) {
    av1::CreditPosted credit;
    credit.mutable_transaction()->set_type(type);
    credit.mutable_transaction()->set_partner_code(partner);
    credit.mutable_transaction()->set_miles(miles);
    *credit.mutable_transaction()->mutable_posting_date() =
        validation::ToProtoDate(posted);
    Apply(kAccrualSource, credit, absl::FromCivil(posted, absl::UTCTimeZone()));
  }

  template <typename Payload>
  void Award(const std::string& partner, absl::Time at, int64_t miles) {
    Payload payload;
    rv1::RedemptionRecord* award = payload.mutable_redemption();
    award->set_partner_code(partner);
    award->set_total_miles(miles);
    if (std::is_same<Payload, rv1::RedemptionIssued>::value) {
      *award->mutable_issued_at() = validation::ToProtoTimestamp(at);
    } else {
      *award->mutable_refunded_at() = validation::ToProtoTimestamp(at);
    }
    Apply(kRedemptionSource, payload, at);
  }

  void Acknowledged(const std::string& partner, absl::Time at, int64_t accepted,
                    int64_t miles) {
    sv1::OutboundFileAcknowledged event;
    event.mutable_file()->set_partner_code(partner);
    event.mutable_file()->set_records_accepted(accepted);
    event.mutable_file()->set_miles_credited(miles);
    *event.mutable_file()->mutable_acknowledged_at() =
        validation::ToProtoTimestamp(at);
    Apply(kSettlementSource, event, at);
  }

  // What settlement issues: the month's figures priced, frozen.
  sv1::Statement Issue(const std::string& partner, absl::CivilMonth month,
                       const settlement::StatementActivity& activity) {
    absl::StatusOr<sv1::Statement> statement = settlement::ComputeStatement(
        partner, month, "CNY", contract_, activity);
    EXPECT_TRUE(statement.ok()) << statement.status();
    statement->set_status(sv1::ISSUED);
    sv1::StatementIssued event;
    *event.mutable_statement() = *statement;
    Apply(kSettlementSource, event,
          absl::FromCivil(month + 1, absl::UTCTimeZone()));
    return *statement;
  }

  // The activity of the tests below: 15 Jan - 31 Mar.
  void Activity() {
    Credit("CA", av1::PARTNER_FLIGHT, absl::CivilDay(2026, 1, 20), 1500);
    Credit("CA", av1::PARTNER_FLIGHT, absl::CivilDay(2026, 2, 5), 2500);
    Credit("CA", av1::OWN_FLIGHT, absl::CivilDay(2026, 2, 5), 9999);
    Credit("HX", av1::PARTNER_ACTIVITY, absl::CivilDay(2026, 2, 10), 1234);
    Award<rv1::RedemptionIssued>("CA", At(2026, 2, 10), 30000);
    Award<rv1::RedemptionIssued>("", At(2026, 2, 10), 50000);  // host carrier
    Award<rv1::RedemptionRefunded>("CA", At(2026, 3, 1), 30000);
    Acknowledged("CA", At(2026, 2, 28), 3, 4500);
  }

  absl::StatusOr<v1::GetPartnerSettlementReportResponse> Query(
      absl::CivilDay from, absl::CivilDay to, absl::Time now,
      const std::string& partner = "",
      sv1::PartnerType type = sv1::PARTNER_TYPE_UNSPECIFIED) {
    v1::GetPartnerSettlementReportRequest request;
    *request.mutable_range()->mutable_from_date() =
        validation::ToProtoDate(from);
    *request.mutable_range()->mutable_to_date() = validation::ToProtoDate(to);
    request.set_partner_code(partner);
    request.set_partner_type(type);
    return PartnerSettlementReport(view_, request, ReportContext{now, nullptr});
  }

  v1::GetPartnerSettlementReportResponse Report(
      absl::Time now = At(2026, 3, 15), const std::string& partner = "",
      sv1::PartnerType type = sv1::PARTNER_TYPE_UNSPECIFIED) {
    auto response = Query(absl::CivilDay(2026, 1, 1),
                          absl::CivilDay(2026, 3, 31), now, partner, type);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::GetPartnerSettlementReportResponse();
  }

  PartnerSettlementProjection projection_;
  MemoryView view_;
  uint64_t sequence_ = 0;
  sv1::Contract contract_ = [] {
    sv1::Contract contract;
    *contract.mutable_mile_sale_price() = Price("CNY", 1000);
    *contract.mutable_award_price() = Price("CNY", 800);
    *contract.mutable_mile_purchase_price() = Price("CNY", 500);
    return contract;
  }();
};

TEST_F(PartnerSettlementTest, DraftMonthsArePricedFromTheItems) {
  RegisterPartners();
  Activity();
  const auto report = Report();
  ASSERT_EQ(report.rows_size(), 5);  // CA Jan-Mar, HX Feb-Mar

  const v1::PartnerSettlementRow& jan = report.rows(0);
  EXPECT_EQ(jan.partner_code(), "CA");
  EXPECT_EQ(jan.partner_name(), "Air China");
  EXPECT_EQ(jan.partner_type(), sv1::AIRLINE);
  EXPECT_EQ(jan.month(), 1);
  EXPECT_EQ(jan.status(), sv1::DRAFT);
  EXPECT_EQ(jan.accrual_records(), 1);
  EXPECT_EQ(jan.accrual_miles(), 1500);
  EXPECT_EQ(jan.receivable().minor_units(), 1500);
  EXPECT_EQ(jan.receivable().currency_code(), "CNY");
  EXPECT_EQ(jan.net().minor_units(), 1500);

  const v1::PartnerSettlementRow& feb = report.rows(1);
  EXPECT_EQ(feb.month(), 2);
  EXPECT_EQ(feb.accrual_miles(), 2500);
  EXPECT_EQ(feb.redemption_awards(), 1);
  EXPECT_EQ(feb.redemption_miles(), 30000);
  EXPECT_EQ(feb.purchase_records(), 3);
  EXPECT_EQ(feb.purchase_miles(), 4500);
  EXPECT_EQ(feb.receivable().minor_units(), 2500);
  EXPECT_EQ(feb.payable().minor_units(), 24000 + 2250);
  EXPECT_EQ(feb.net().minor_units(), 2500 - 26250);

  const v1::PartnerSettlementRow& mar = report.rows(2);
  EXPECT_EQ(mar.month(), 3);
  EXPECT_EQ(mar.redemption_awards(), -1);
  EXPECT_EQ(mar.redemption_miles(), -30000);
  EXPECT_EQ(mar.payable().minor_units(), -24000);
  EXPECT_EQ(mar.net().minor_units(), 24000);

  const v1::PartnerSettlementRow& hx_feb = report.rows(3);
  EXPECT_EQ(hx_feb.partner_code(), "HX");
  EXPECT_EQ(hx_feb.month(), 2);
  // 1,234 x 250 / 1,000 = 308.5: half-even to 308.
  EXPECT_EQ(hx_feb.receivable().minor_units(), 308);
  EXPECT_EQ(hx_feb.receivable().currency_code(), "EUR");
  const v1::PartnerSettlementRow& hx_mar = report.rows(4);
  EXPECT_EQ(hx_mar.month(), 3);
  EXPECT_EQ(hx_mar.accrual_records(), 0);
  EXPECT_EQ(hx_mar.net().minor_units(), 0);

  ASSERT_EQ(report.totals_size(), 2);
  EXPECT_EQ(report.totals(0).currency_code(), "CNY");
  EXPECT_EQ(report.totals(0).receivable().minor_units(), 4000);
  EXPECT_EQ(report.totals(0).payable().minor_units(), 2250);
  EXPECT_EQ(report.totals(0).net().minor_units(), 1750);
  EXPECT_EQ(report.totals(0).net().currency_code(), "CNY");
  EXPECT_EQ(report.totals(1).currency_code(), "EUR");
  EXPECT_EQ(report.totals(1).receivable().minor_units(), 308);
}

TEST_F(PartnerSettlementTest,
       IssuedMonthsAreAsIssuedAndLateItemsGoToTheFirstDraft) {
  RegisterPartners();
  Activity();
  settlement::StatementActivity jan;
  jan.accrual_records = 1;
  jan.accrual_miles = 1500;
  Issue("CA", absl::CivilMonth(2026, 1), jan);
  // Late: posted in January after January was issued.
  Credit("CA", av1::PARTNER_FLIGHT, absl::CivilDay(2026, 1, 25), 700);

  auto report = Report(At(2026, 3, 15), "CA");
  ASSERT_EQ(report.rows_size(), 3);
  EXPECT_EQ(report.rows(0).status(), sv1::ISSUED);
  EXPECT_EQ(report.rows(0).accrual_miles(), 1500);  // frozen
  EXPECT_EQ(report.rows(1).status(), sv1::DRAFT);
  EXPECT_EQ(report.rows(1).accrual_records(), 2);
  EXPECT_EQ(report.rows(1).accrual_miles(), 3200);
  EXPECT_EQ(report.rows(1).receivable().minor_units(), 3200);
  EXPECT_EQ(report.rows(1).redemption_miles(), 30000);
  EXPECT_EQ(report.rows(1).purchase_miles(), 4500);

  // February issued as settlement would have it; March is then the first
  // DRAFT, holding only the refund (net negative).
  settlement::StatementActivity feb;
  feb.accrual_records = 2;
  feb.accrual_miles = 3200;
  feb.awards_issued = 1;
  feb.award_miles_issued = 30000;
  feb.purchase_records = 3;
  feb.purchase_miles = 4500;
  sv1::Statement issued_feb = Issue("CA", absl::CivilMonth(2026, 2), feb);
  issued_feb.set_status(sv1::SETTLED);
  sv1::StatementSettled settled;
  *settled.mutable_statement() = issued_feb;
  Apply(kSettlementSource, settled, At(2026, 3, 10));

  report = Report(At(2026, 3, 15), "CA");
  ASSERT_EQ(report.rows_size(), 3);
  EXPECT_EQ(report.rows(1).status(), sv1::SETTLED);
  EXPECT_EQ(report.rows(1).net().minor_units(), 3200 - 24000 - 2250);
  EXPECT_EQ(report.rows(2).status(), sv1::DRAFT);
  EXPECT_EQ(report.rows(2).accrual_records(), 0);
  EXPECT_EQ(report.rows(2).redemption_awards(), -1);
  EXPECT_EQ(report.rows(2).redemption_miles(), -30000);
  EXPECT_EQ(report.rows(2).net().minor_units(), 24000);
  ASSERT_EQ(report.totals_size(), 1);
  EXPECT_EQ(report.totals(0).net().minor_units(),
            1500 + (3200 - 26250) + 24000);
}

TEST_F(PartnerSettlementTest, ItemsBeforeTheRegistrationEventStillCount) {
  Activity();  // the streams arrive before settlement's
  RegisterPartners();
  const auto report = Report(At(2026, 3, 15), "CA");
  ASSERT_EQ(report.rows_size(), 3);
  EXPECT_EQ(report.rows(1).accrual_miles(), 2500);
  EXPECT_EQ(report.rows(1).redemption_miles(), 30000);
}

TEST_F(PartnerSettlementTest,
       MonthsStopAtTheCurrentMonthAndStartAtRegistration) {
  RegisterPartners();
  Activity();
  const auto report = Report(At(2026, 2, 15));
  ASSERT_EQ(report.rows_size(), 3);  // CA Jan, Feb; HX Feb
  EXPECT_EQ(report.rows(1).month(), 2);
  EXPECT_EQ(report.rows(2).partner_code(), "HX");
  EXPECT_EQ(report.rows(2).month(), 2);
}

TEST_F(PartnerSettlementTest, FiltersByPartnerAndType) {
  RegisterPartners();
  Activity();
  auto hotels = Report(At(2026, 3, 15), "", sv1::HOTEL);
  ASSERT_EQ(hotels.rows_size(), 2);
  EXPECT_EQ(hotels.rows(0).partner_code(), "HX");
  ASSERT_EQ(hotels.totals_size(), 1);
  EXPECT_EQ(hotels.totals(0).currency_code(), "EUR");
  EXPECT_EQ(Report(At(2026, 3, 15), "ZZ").rows_size(), 0);
  EXPECT_EQ(Report(At(2026, 3, 15), "HX", sv1::AIRLINE).rows_size(), 0);
}

TEST_F(PartnerSettlementTest, BadFiltersNameTheField) {
  auto bad_code = Query(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31),
                        At(2026, 3, 1), "c");
  ASSERT_EQ(bad_code.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_code.status().message().find("partner_code"),
            std::string::npos);
  auto bad_type = Query(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31),
                        At(2026, 3, 1), "", static_cast<sv1::PartnerType>(99));
  ASSERT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_type.status().message().find("partner_type"),
            std::string::npos);
  auto bad_range = Query(absl::CivilDay(2026, 2, 1),
                         absl::CivilDay(2026, 1, 31), At(2026, 3, 1));
  ASSERT_EQ(bad_range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_range.status().message().find("range.to_date"),
            std::string::npos);
}

TEST_F(PartnerSettlementTest, ADraftSettlementCannotPriceFailsTheReport) {
  sv1::PartnerRegistered partner;
  partner.mutable_partner()->set_partner_code("ZZ");
  partner.mutable_partner()->set_type(sv1::AIRLINE);
  partner.mutable_partner()->set_currency_code("USD");
  *partner.mutable_partner()->mutable_contract()->mutable_mile_sale_price() =
      Price("USD", 100);
  *partner.mutable_partner()->mutable_created_at() =
      validation::ToProtoTimestamp(At(2026, 1, 1));
  Apply(kSettlementSource, partner, At(2026, 1, 1));
  Award<rv1::RedemptionIssued>("ZZ", At(2026, 1, 10), 8000);
  auto report = Query(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 31),
                      At(2026, 2, 1));
  ASSERT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("ZZ_202601"), std::string::npos);
}

}  // namespace
}  // namespace mileagebank::reporting
