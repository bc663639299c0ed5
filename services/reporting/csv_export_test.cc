#include "services/reporting/csv_export.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mileagebank/reporting/v1/reporting.pb.h"

namespace mileagebank::reporting {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::GetLiabilityReportResponse Liability() {
  v1::GetLiabilityReportResponse response;
  auto* summary = response.mutable_summary();
  summary->set_outstanding_miles(125000);
  summary->mutable_cost_per_thousand_miles()->set_currency_code("CNY");
  summary->mutable_cost_per_thousand_miles()->set_minor_units(6000);
  summary->mutable_outstanding_value()->set_currency_code("CNY");
  summary->mutable_outstanding_value()->set_minor_units(750000);
  auto* gold = response.add_by_tier();
  gold->set_tier(membership::v1::GOLD);
  gold->set_members(2);
  gold->set_outstanding_miles(-40);
  gold->mutable_outstanding_value()->set_currency_code("CNY");
  gold->mutable_outstanding_value()->set_minor_units(-240);
  auto* blue = response.add_by_tier();
  blue->set_tier(membership::v1::BLUE);
  (*response.mutable_stream_positions())["accrual"] = 9;
  return response;
}

TEST(CsvExportTest, TablesAreRowListsAndTheSummary) {
  EXPECT_THAT(CsvTableNames(v1::GetLiabilityReportResponse::descriptor()),
              ElementsAre("summary", "by_tier", "monthly"));
  EXPECT_THAT(CsvTableNames(v1::GetExpiringMilesReportResponse::descriptor()),
              ElementsAre("monthly"));
}

TEST(CsvExportTest, EveryTableOfEveryReportHasColumns) {
  for (const auto* type : {v1::GetMembersReportResponse::descriptor(),
                           v1::GetLiabilityReportResponse::descriptor(),
                           v1::GetAccrualAnalysisReportResponse::descriptor(),
                           v1::GetRedemptionsReportResponse::descriptor(),
                           v1::GetTopMembersReportResponse::descriptor(),
                           v1::GetExpiringMilesReportResponse::descriptor(),
                           v1::GetPartnerSettlementReportResponse::descriptor(),
                           v1::GetSalesOfficeReportResponse::descriptor()}) {
    for (const std::string& table : CsvTableNames(type)) {
      EXPECT_TRUE(
          CsvColumns(type->FindFieldByName(table)->message_type()).ok())
          << type->full_name() << " " << table;
    }
  }
}

TEST(CsvExportTest, MoneyIsTwoColumnsAndEnumsTheirNames) {
  v1::GetLiabilityReportResponse response = Liability();
  absl::StatusOr<CsvTable> table = CsvTable::Of(response, "by_tier");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->columns(),
              ElementsAre("tier", "members", "outstanding_miles",
                          "outstanding_value_currency_code",
                          "outstanding_value_minor_units"));
  EXPECT_EQ(table->rows(), 2);
  EXPECT_EQ(table->ToString(),
            "tier,members,outstanding_miles,outstanding_value_currency_code,"
            "outstanding_value_minor_units\n"
            "GOLD,2,-40,CNY,-240\n"
            "BLUE,0,0,,\n");
}

TEST(CsvExportTest, TheSummaryIsOneRow) {
  v1::GetLiabilityReportResponse response = Liability();
  absl::StatusOr<CsvTable> table = CsvTable::Of(response, "summary");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->rows(), 1);
  EXPECT_EQ(table->ToString(),
            "outstanding_miles,cost_per_thousand_miles_currency_code,"
            "cost_per_thousand_miles_minor_units,"
            "outstanding_value_currency_code,outstanding_value_minor_units\n"
            "125000,CNY,6000,CNY,750000\n");
}

TEST(CsvExportTest, AnEmptyTableIsTheColumnLineAlone) {
  v1::GetLiabilityReportResponse response = Liability();
  absl::StatusOr<CsvTable> table = CsvTable::Of(response, "monthly");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->rows(), 0);
  EXPECT_EQ(table->ToString(),
            "year,month,opening_miles,issued_miles,reversed_miles,"
            "redeemed_miles,expired_miles,adjusted_miles,fee_miles,"
            "closing_miles\n");
}

TEST(CsvExportTest, DatesAreIsoAndTextIsQuotedAsRfc4180Says) {
  v1::DateRange range;
  range.mutable_from_date()->set_year(2026);
  range.mutable_from_date()->set_month(1);
  range.mutable_from_date()->set_day(5);
  EXPECT_EQ(CsvLine(range), "2026-01-05,\n");

  v1::TopMemberRow row;
  row.set_rank(1);
  row.set_member_number("1000000016");
  row.set_family_name("O\"Brien, Jr");
  row.set_given_name("Line\nTwo");
  row.set_tier(membership::v1::PLATINUM);
  row.set_marketing_consent(true);
  EXPECT_EQ(CsvLine(row),
            "1,1000000016,\"O\"\"Brien, Jr\",\"Line\nTwo\",PLATINUM,0,0,true\n");
}

TEST(CsvExportTest, AnUnknownTableNamesTheFieldAndTheChoices) {
  v1::GetLiabilityReportResponse response = Liability();
  for (const std::string& name :
       {std::string("stream_positions"), std::string("generated_at"),
        std::string("nope"), std::string()}) {
    absl::StatusOr<CsvTable> table = CsvTable::Of(response, name);
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_THAT(table.status().message(), HasSubstr("table: "));
    EXPECT_THAT(table.status().message(),
                HasSubstr("summary, by_tier, monthly"));
  }
}

TEST(CsvExportTest, RowsThatAreNotFlatCannotBeColumns) {
  EXPECT_EQ(CsvColumns(v1::GetMembersReportResponse::descriptor()).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(CsvColumns(v1::ReportExported::descriptor()).status().code(),
            absl::StatusCode::kInternal);
}

TEST(CsvExportTest, ChunksAreAtMostTheLimitAndJoinToTheWhole) {
  v1::GetTopMembersReportResponse response;
  for (int i = 0; i < 500; ++i) {
    auto* row = response.add_top_members();
    row->set_rank(i + 1);
    row->set_member_number(absl::StrCat(1000000000 + i));
    row->set_family_name("Chen");
  }
  absl::StatusOr<CsvTable> table = CsvTable::Of(response, "top_members");
  ASSERT_TRUE(table.ok());
  const std::string whole = table->ToString();
  std::vector<std::string> chunks;
  ASSERT_TRUE(table->Write(1000, [&](std::string chunk) {
    chunks.push_back(std::move(chunk));
    return true;
  }));
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) {
      EXPECT_EQ(chunks[i].size(), 1000u);
    }
    EXPECT_LE(chunks[i].size(), 1000u);
    joined += chunks[i];
  }
  EXPECT_EQ(joined, whole);
  EXPECT_EQ(whole.size() / 1000 + (whole.size() % 1000 != 0), chunks.size());

  int calls = 0;
  EXPECT_FALSE(table->Write(1000, [&](std::string) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace mileagebank::reporting
