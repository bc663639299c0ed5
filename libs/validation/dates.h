// Calendar dates: conversions between mileagebank.common.v1.Date (the wire
// form) and absl::CivilDay (the form used for arithmetic), and the YYYY-MM-DD
// text form used in files and reports. All dates are UTC (common.proto).
//
//   absl::StatusOr<absl::CivilDay> day = ToCivilDay("date_of_birth", dob);
//   if (!day.ok()) return day.status();
//   std::string text = FormatDate(*day);  // "1985-07-14"
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_LIBS_VALIDATION_DATES_H_
#define MILEAGEBANK_LIBS_VALIDATION_DATES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "google/protobuf/timestamp.pb.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank {
namespace validation {

// The day `date` names; InvalidField(field, rule) unless the year is 1-9999,
// the month 1-12 and the day within that month.
absl::StatusOr<absl::CivilDay> ToCivilDay(absl::string_view field,
                                          const common::v1::Date& date);

common::v1::Date ToProtoDate(absl::CivilDay day);

// "YYYY-MM-DD", the year zero-padded to 4 digits (for years 1-9999).
std::string FormatDate(absl::CivilDay day);

// The day written as exactly "YYYY-MM-DD" naming a valid date in years
// 1-9999; nullopt for anything else (no signs, spaces or other widths).
absl::optional<absl::CivilDay> ParseDate(absl::string_view text);

// The UTC calendar day of `time`.
absl::CivilDay UtcDay(absl::Time time);

absl::CivilDay LastDayOfMonth(absl::CivilMonth month);

// absl::Time and the wire's Timestamp, to the microsecond.
google::protobuf::Timestamp ToProtoTimestamp(absl::Time time);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace validation
}  // namespace mileagebank

#endif  // MILEAGEBANK_LIBS_VALIDATION_DATES_H_
