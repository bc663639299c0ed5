// Bulk import of existing members: the CSV layout (docs/membership-import.md)
// turned into one enrolment request per row.
//
// The first line names the columns, in any order. Unknown or repeated column
// names refuse the whole file; a row that cannot become a request carries its
// error and is not enrolled. Pure: no store, thread-safe.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_CSV_IMPORT_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_CSV_IMPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::membership {

struct ImportRow {
  // 1-based line number of the row (the header is line 1).
  int line;
  // The enrolment (without actor), or why the row cannot be one.
  absl::StatusOr<v1::EnrolRequest> enrolment;
};

// Every column the import understands, in documentation order.
const std::vector<std::string>& ImportColumns();

absl::StatusOr<std::vector<ImportRow>> ParseImport(absl::string_view csv);

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_CSV_IMPORT_H_
