// The date range every report takes (reporting.proto: "Rules that hold for
// every report"): checked once here, with the months it touches.
#ifndef MILEAGEBANK_SERVICES_REPORTING_REPORT_RANGE_H_
#define MILEAGEBANK_SERVICES_REPORTING_REPORT_RANGE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"

namespace mileagebank::reporting {

struct ReportRange {
  absl::CivilDay from;
  absl::CivilDay to;  // inclusive
  // Every calendar month the range touches, in order.
  std::vector<absl::CivilMonth> Months() const;
  // The month's first and last day clipped to the range.
  absl::CivilDay FirstDayIn(absl::CivilMonth month) const;
  absl::CivilDay LastDayIn(absl::CivilMonth month) const;
};

// What a report query may need besides the view.
struct ReportContext {
  // The moment the report is generated: "today" (UTC) for stock figures
  // whose to_date is today or later, and generated_at.
  absl::Time now;
  // The service's configuration (cost per 1,000 miles, tier thresholds).
  const config::v1::ReportingConfig* config;
};

// INVALID_ARGUMENT naming range.from_date or range.to_date: both required
// and valid dates, from not after to, at most `max_months` months apart
// (10 years by default).
absl::StatusOr<ReportRange> CheckRange(const v1::DateRange& range,
                                       int max_months = 120);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_REPORT_RANGE_H_
