// CsvTable: one table of a report response as CSV, the way ExportReportCsv
// streams it (reporting.proto, ExportReportCsvResponse.chunk).
//
// Generic over protobuf reflection, so a new report or column needs no code
// here. A response's tables are its repeated row fields ("by_tier",
// "monthly", ...) and its `summary` message, exported as one row. Each row
// message becomes one line: one column per field in field-number order,
// named as the field; enums by value name; mileagebank.common.v1.Date as
// YYYY-MM-DD; mileagebank.common.v1.Money as two columns
// <field>_currency_code and <field>_minor_units. Fields are quoted as RFC
// 4180 says (libs/csv), lines end in LF.
//
//   MB_ASSIGN_OR_RETURN(CsvTable table, CsvTable::Of(response, "monthly"));
//   table.Write(kMaxChunkBytes, [&](std::string chunk) { return Send(chunk); });
//
// Thread-compatible; a CsvTable points into the response it was made from,
// which must outlive it.
#ifndef MILEAGEBANK_SERVICES_REPORTING_CSV_EXPORT_H_
#define MILEAGEBANK_SERVICES_REPORTING_CSV_EXPORT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace mileagebank::reporting {

// The most CSV bytes in one ExportReportCsvResponse.
inline constexpr size_t kMaxCsvChunkBytes = size_t{1} << 20;

// The names of the tables of a response type, in field-number order.
std::vector<std::string> CsvTableNames(
    const google::protobuf::Descriptor* response_type);

// The CSV columns of a row type; INTERNAL for a field that cannot be a
// column (a list, a map, or a message other than Date and Money), which the
// contract rules out for rows.
absl::StatusOr<std::vector<std::string>> CsvColumns(
    const google::protobuf::Descriptor* row_type);

// One row as one CSV line, LF included.
std::string CsvLine(const google::protobuf::Message& row);

class CsvTable {
 public:
  // The table `table` of `response`: INVALID_ARGUMENT naming `table` and
  // listing the valid names for any other name.
  static absl::StatusOr<CsvTable> Of(const google::protobuf::Message& response,
                                     absl::string_view table);

  const std::vector<std::string>& columns() const { return columns_; }
  // Data lines, the header line not counted.
  int64_t rows() const { return static_cast<int64_t>(rows_.size()); }

  // Calls `emit` with the CSV's bytes in order (the column line, then a line
  // per row), in pieces of at most `max_chunk_bytes`, each but the last
  // exactly that long. Stops, returning false, as soon as `emit` does.
  bool Write(size_t max_chunk_bytes,
             const std::function<bool(std::string chunk)>& emit) const;
  // The whole CSV in one string (for tests and small tables).
  std::string ToString() const;

 private:
  CsvTable() = default;

  std::vector<std::string> columns_;
  std::vector<const google::protobuf::Message*> rows_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_CSV_EXPORT_H_
