#include "libs/validation/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/status/errors.h"

namespace mileagebank {
namespace validation {
namespace {

// Counted rather than found by civil-time arithmetic, which normalising
// across the month's end made a visible part of checking each record of a
// large partner file.
int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// The rule that year/month/day break, or "" when they name a real day.
std::string BrokenDateRule(int year, int month, int day) {
  if (year < 1 || year > 9999) return "year must be 1 to 9999";
  if (month < 1 || month > 12) return "month must be 1 to 12";
  const int last = DaysInMonth(year, month);
  if (day < 1 || day > last) {
    return absl::StrFormat("day must be 1 to %d in %04d-%02d", last, year,
                           month);
  }
  return "";
}

}  // namespace

absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view field,
                                          const common::v1::Date& date) {
  std::string rule = BrokenDateRule(date.year(), date.month(), date.day());
  if (!rule.empty()) return InvalidField(field, rule);
  return absl::CivilDay(date.year(), date.month(), date.day());
}

common::v1::Date ToProtoDate(absl::CivilDay day) {
  common::v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::optional<absl::CivilDay> ParseDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return absl::nullopt;
  }
  // Reads the digits at [begin, end); -1 when one is not a digit.
  auto number = [text](int begin, int end) {
    int value = 0;
    for (int i = begin; i < end; ++i) {
      if (!absl::ascii_isdigit(text[i])) return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = number(0, 4), month = number(5, 7), day = number(8, 10);
  if (!BrokenDateRule(year, month, day).empty()) return absl::nullopt;
  return absl::CivilDay(year, month, day);
}

absl::CivilDay UtcDay(absl::Time time) {
  return absl::ToCivilDay(time, absl::UTCTimeZone());
}

absl::CivilDay LastDayOfMonth(absl::CivilMonth month) {
  return absl::CivilDay(month.year(), month.month(),
                        DaysInMonth(month.year(), month.month()));
}

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time) {
  const int64_t micros = absl::ToUnixMicros(time);
  google::protobuf::Timestamp timestamp;
  // Floor division, so that times before 1970 keep nanos in [0, 1e9).
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --seconds;
  }
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(rest * 1000));
  return timestamp;
}

absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

}  // namespace validation
}  // namespace mileagebank
