// CsvReader: RFC 4180 records from a stream, as the partner file interface
// and the member import read them.
//
// - Fields are separated by commas. A field that starts with a double quote
//   is quoted: it runs to the next lone quote, may hold commas, CR and LF, and
//   a doubled quote inside stands for one. A quote anywhere else, or anything
//   but a comma or line end after a closing quote, is bad quoting.
// - A record ends at LF or CRLF (line ends may differ from line to line), or
//   at the end of the input; a lone CR is ordinary content.
// - An empty line is returned as a record with `empty_line` set, so that
//   callers whose format forbids empty lines can say so.
//
//   CsvReader reader(input);
//   CsvRecord record;
//   while (reader.Next(&record)) { ... record.fields ... }
//   if (!reader.error().empty()) { ... malformed at reader.line() ... }
//
// Reads one record at a time: memory stays bounded by the longest record.
// Thread-compatible.
#ifndef MILEAGEBANK_LIBS_CSV_CSV_H_
#define MILEAGEBANK_LIBS_CSV_CSV_H_

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mileagebank::csv {

struct CsvRecord {
  std::vector<std::string> fields;
  // The line had no characters at all before its line end.
  bool empty_line = false;
  // The record ended at the end of the input, with no line end.
  bool at_end_of_input = false;
  // 1-based number of the line the record starts on.
  int64_t line = 0;
};

class CsvReader {
 public:
  // `max_record_bytes` bounds one record, so a malformed file cannot make
  // the reader hold it all.
  explicit CsvReader(std::istream& input, size_t max_record_bytes = 1 << 20)
      : input_(input), max_record_bytes_(max_record_bytes) {}

  // Reads the next record; false at the end of input or on an error (see
  // error()).
  bool Next(CsvRecord* record);
  // Why the last Next failed; empty at a clean end of input.
  const std::string& error() const { return error_; }
  // Bytes consumed so far.
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  int Get();
  int Peek();

  std::istream& input_;
  const size_t max_record_bytes_;
  std::string error_;
  int64_t line_ = 1;
  uint64_t bytes_read_ = 0;
};

// Writes one record: fields holding a comma, quote, CR or LF are quoted.
// Ends with LF.
std::string FormatRecord(const std::vector<std::string>& fields);

}  // namespace mileagebank::csv

#endif  // MILEAGEBANK_LIBS_CSV_CSV_H_
