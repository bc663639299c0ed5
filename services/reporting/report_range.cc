#include "services/reporting/report_range.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"

namespace mileagebank::reporting {

std::vector<absl::CivilMonth> ReportRange::Months() const {
  std::vector<absl::CivilMonth> months;
  for (absl::CivilMonth month(from); month <= absl::CivilMonth(to); ++month) {
    months.push_back(month);
  }
  return months;
}

absl::CivilDay ReportRange::FirstDayIn(absl::CivilMonth month) const {
  return std::max(absl::CivilDay(month), from);
}

absl::CivilDay ReportRange::LastDayIn(absl::CivilMonth month) const {
  return std::min(absl::CivilDay(month + 1) - 1, to);
}

absl::StatusOr<ReportRange> CheckRange(const v1::DateRange& range,
                                       int max_months) {
  if (!range.has_from_date()) {
    return InvalidField("range.from_date", "is required");
  }
  if (!range.has_to_date()) {
    return InvalidField("range.to_date", "is required");
  }
  absl::StatusOr<absl::CivilDay> from =
      validation::ToCivilDay("range.from_date", range.from_date());
  if (!from.ok()) return from.status();
  absl::StatusOr<absl::CivilDay> to =
      validation::ToCivilDay("range.to_date", range.to_date());
  if (!to.ok()) return to.status();
  if (*from > *to) {
    return InvalidField("range.to_date",
                        absl::StrCat("must not be before range.from_date ",
                                     validation::FormatDate(*from)));
  }
  if (absl::CivilMonth(*to) - absl::CivilMonth(*from) >= max_months) {
    return InvalidField("range.to_date",
                        absl::StrCat("must be within ", max_months,
                                     " months of range.from_date"));
  }
  return ReportRange{*from, *to};
}

}  // namespace mileagebank::reporting
