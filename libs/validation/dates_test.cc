#include "libs/validation/dates.h"

#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank {
namespace validation {
namespace {

common::v1::Date Date(int year, int month, int day) {
  common::v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

TEST(ToCivilDayTest, AcceptsLeapDaysOfLeapYearsOnly) {
  EXPECT_EQ(*ToCivilDay("d", Date(2024, 2, 29)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(*ToCivilDay("d", Date(2000, 2, 29)), absl::CivilDay(2000, 2, 29));
  EXPECT_FALSE(ToCivilDay("d", Date(2100, 2, 29)).ok());
  EXPECT_FALSE(ToCivilDay("d", Date(2023, 2, 29)).ok());
}

TEST(ToCivilDayTest, AcceptsEdgesOfRange) {
  EXPECT_EQ(*ToCivilDay("d", Date(1, 1, 1)), absl::CivilDay(1, 1, 1));
  EXPECT_EQ(*ToCivilDay("d", Date(9999, 12, 31)), absl::CivilDay(9999, 12, 31));
}

TEST(ToCivilDayTest, InvalidDateNamesFieldAndBrokenPart) {
  struct Case {
    common::v1::Date date;
    const char* message;
  };
  const Case cases[] = {
      {Date(0, 1, 1), "activity_date: year must be 1 to 9999"},
      {Date(10000, 1, 1), "activity_date: year must be 1 to 9999"},
      {Date(2024, 0, 1), "activity_date: month must be 1 to 12"},
      {Date(2024, 13, 1), "activity_date: month must be 1 to 12"},
      {Date(2024, 4, 0), "activity_date: day must be 1 to 30 in 2024-04"},
      {Date(2024, 4, 31), "activity_date: day must be 1 to 30 in 2024-04"},
      {Date(2100, 2, 29), "activity_date: day must be 1 to 28 in 2100-02"},
      {common::v1::Date(), "activity_date: year must be 1 to 9999"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::CivilDay> day = ToCivilDay("activity_date", c.date);
    ASSERT_FALSE(day.ok()) << c.message;
    EXPECT_EQ(day.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(day.status().message(), c.message);
    EXPECT_EQ(GetErrorDetails(day.status())->field_violations(0).field(),
              "activity_date");
  }
}

TEST(ToProtoDateTest, RoundTripsThroughToCivilDay) {
  const absl::CivilDay day(1985, 7, 14);
  common::v1::Date date = ToProtoDate(day);
  EXPECT_EQ(date.year(), 1985);
  EXPECT_EQ(date.month(), 7);
  EXPECT_EQ(date.day(), 14);
  EXPECT_EQ(*ToCivilDay("d", date), day);
}

TEST(FormatDateTest, PadsEveryPart) {
  EXPECT_EQ(FormatDate(absl::CivilDay(2026, 3, 5)), "2026-03-05");
  EXPECT_EQ(FormatDate(absl::CivilDay(987, 12, 31)), "0987-12-31");
}

TEST(ParseDateTest, ReadsStrictIsoDates) {
  EXPECT_EQ(ParseDate("2024-02-29"), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(ParseDate("2000-02-29"), absl::CivilDay(2000, 2, 29));
  EXPECT_EQ(ParseDate("0001-01-01"), absl::CivilDay(1, 1, 1));
  EXPECT_EQ(ParseDate(FormatDate(absl::CivilDay(9999, 12, 31))),
            absl::CivilDay(9999, 12, 31));
}

TEST(ParseDateTest, RefusesAnythingElse) {
  for (const char* bad :
       {"", "2100-02-29", "2023-02-29", "2024-04-31", "2024-00-10",
        "2024-13-10", "2024-01-00", "0000-01-01", "2024-2-29", "2024-02-9",
        "24-02-29", "2024/02/29", "20240229", " 2024-02-29", "2024-02-29 ",
        "2024-02-29T00:00", "+024-02-29", "2024-+2-29", "2024--2-29"}) {
    EXPECT_EQ(ParseDate(bad), absl::nullopt) << bad;
  }
}

TEST(UtcDayTest, UsesUtcNotLocalTime) {
  const absl::Time midnight = absl::FromCivil(
      absl::CivilSecond(2024, 3, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(UtcDay(midnight), absl::CivilDay(2024, 3, 1));
  EXPECT_EQ(UtcDay(midnight - absl::Nanoseconds(1)),
            absl::CivilDay(2024, 2, 29));
}

TEST(LastDayOfMonthTest, AgreesWithCivilTimeEveryMonth) {
  for (absl::CivilMonth month(-401, 1); month < absl::CivilMonth(2501, 1);
       ++month) {
    ASSERT_EQ(LastDayOfMonth(month), absl::CivilDay(month + 1) - 1) << month;
  }
}

TEST(LastDayOfMonthTest, KnowsMonthLengthsAndLeapYears) {
  EXPECT_EQ(LastDayOfMonth(absl::CivilMonth(2024, 2)),
            absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(LastDayOfMonth(absl::CivilMonth(2000, 2)),
            absl::CivilDay(2000, 2, 29));
  EXPECT_EQ(LastDayOfMonth(absl::CivilMonth(2100, 2)),
            absl::CivilDay(2100, 2, 28));
  EXPECT_EQ(LastDayOfMonth(absl::CivilMonth(2026, 4)),
            absl::CivilDay(2026, 4, 30));
  EXPECT_EQ(LastDayOfMonth(absl::CivilMonth(2029, 12)),
            absl::CivilDay(2029, 12, 31));
}

}  // namespace
}  // namespace validation
}  // namespace mileagebank

namespace mileagebank::validation {
namespace {

TEST(TimestampTest, RoundTripsMicrosecondsOnBothSidesOf1970) {
  for (absl::Time time : {absl::FromUnixMicros(1'700'000'000'123'456),
                          absl::FromUnixMicros(-1'500'001)}) {
    google::protobuf::Timestamp wire = ToProtoTimestamp(time);
    EXPECT_GE(wire.nanos(), 0);
    EXPECT_EQ(FromProtoTimestamp(wire), time);
  }
  EXPECT_EQ(ToProtoTimestamp(absl::FromUnixMicros(-1'500'001)).seconds(), -2);
}

}  // namespace
}  // namespace mileagebank::validation
