#include "services/reporting/view_state.h"

#include <array>
#include <limits>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "libs/validation/dates.h"
#include "services/reporting/memory_view.h"
#include "services/reporting/report_range.h"

namespace mileagebank::reporting {
namespace {

TEST(CountersTest, RoundTripExtremes) {
  const std::vector<int64_t> values = {0, 1, -1, 127, -128, 1 << 20,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  std::vector<int64_t> decoded;
  ASSERT_TRUE(DecodeCounters(EncodeCounters(values), &decoded));
  EXPECT_EQ(decoded, values);
}

TEST(CountersTest, TruncatedRowIsNotOne) {
  std::string bytes = EncodeCounters({300});
  bytes.pop_back();
  std::vector<int64_t> decoded;
  EXPECT_FALSE(DecodeCounters(bytes, &decoded));
}

TEST(MemoryViewTest, AddGrowsRowsAndScansInOrder) {
  MemoryView view;
  ASSERT_TRUE(view.Add("t", "b", {1, 2}).ok());
  ASSERT_TRUE(view.Add("t", "b", {1, 2, 3}).ok());
  ASSERT_TRUE(view.Add("t", "a", {-5}).ok());
  ASSERT_TRUE(view.Add("u", "a", {9}).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(view.ScanCounters("t", {},
                                [&](absl::string_view key,
                                    const std::vector<int64_t>& values) {
                                  keys.emplace_back(key);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*view.ViewReader::Counters("t", "b"),
            (std::vector<int64_t>{2, 4, 3}));
}

TEST(MemoryViewTest, ScanCheckedEndsAtTheVisitsFirstErrorAndReturnsIt) {
  MemoryView view;
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(view.Add("t", key, {1}).ok());
  }
  std::vector<std::string> keys;
  absl::Status status = view.ScanChecked(
      "t", {},
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        keys.emplace_back(key);
        if (key == "b") return absl::DataLossError("row b");
        return true;
      });
  EXPECT_EQ(status, absl::DataLossError("row b"));
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));

  // A visit that stops without an error ends the scan with OK.
  keys.clear();
  EXPECT_TRUE(view.ScanChecked("t", {},
                               [&](absl::string_view key, absl::string_view) {
                                 keys.emplace_back(key);
                                 return false;
                               })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a"}));
}

TEST(MemoryViewTest, AddAndGetGivesTheRowAfterTheAdd) {
  MemoryView view;
  std::vector<int64_t> after = {7, 7, 7};
  ASSERT_TRUE(view.AddAndGet("t", "k", {5}, &after).ok());
  EXPECT_EQ(after, (std::vector<int64_t>{5}));
  ASSERT_TRUE(view.AddAndGet("t", "k", {-5, 2}, &after).ok());
  EXPECT_EQ(after, (std::vector<int64_t>{0, 2}));
}

// ExactDay takes what validation::ToCivilDay takes, and nothing else.
TEST(ExactDayTest, AgreesWithTheValidation) {
  for (const auto& [year, month, day] :
       std::vector<std::array<int, 3>>{{2024, 2, 29}, {2023, 2, 29},
                                       {2025, 12, 31}, {2025, 4, 31},
                                       {2025, 13, 1}, {2025, 0, 1},
                                       {2025, 1, 0}, {0, 1, 1},
                                       {10000, 1, 1}, {9999, 12, 31},
                                       {1, 1, 1}, {2025, 1, 32}}) {
    common::v1::Date date;
    date.set_year(year);
    date.set_month(month);
    date.set_day(day);
    const absl::StatusOr<absl::CivilDay> checked =
        validation::ToCivilDay("date", date);
    const std::optional<absl::CivilDay> exact = ExactDay(date);
    ASSERT_EQ(exact.has_value(), checked.ok()) << year << "-" << month
                                               << "-" << day;
    if (exact.has_value()) {
      EXPECT_EQ(*exact, *checked);
    }
  }
}

v1::DateRange Range(int y1, int m1, int d1, int y2, int m2, int d2) {
  v1::DateRange range;
  *range.mutable_from_date() =
      validation::ToProtoDate(absl::CivilDay(y1, m1, d1));
  *range.mutable_to_date() =
      validation::ToProtoDate(absl::CivilDay(y2, m2, d2));
  return range;
}

TEST(ReportRangeTest, MonthsAreClipped) {
  absl::StatusOr<ReportRange> range = CheckRange(Range(2026, 1, 15, 2026, 3, 2));
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->Months().size(), 3u);
  EXPECT_EQ(range->FirstDayIn(range->Months()[0]), absl::CivilDay(2026, 1, 15));
  EXPECT_EQ(range->LastDayIn(range->Months()[1]), absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(range->LastDayIn(range->Months()[2]), absl::CivilDay(2026, 3, 2));
}

TEST(ReportRangeTest, RulesNameTheField) {
  EXPECT_NE(CheckRange(v1::DateRange()).status().message().find(
                "range.from_date"),
            std::string::npos);
  EXPECT_NE(CheckRange(Range(2026, 3, 1, 2026, 2, 1))
                .status()
                .message()
                .find("range.to_date"),
            std::string::npos);
  EXPECT_FALSE(CheckRange(Range(2010, 1, 1, 2026, 1, 1)).ok());
}

}  // namespace
}  // namespace mileagebank::reporting
