#include "libs/csv/csv.h"

#include "absl/strings/str_cat.h"

namespace mileagebank::csv {

// Straight from the stream's buffer: istream::get builds a sentry for every
// character, which was most of the cost of reading a large file.
int CsvReader::Get() {
  const int c = input_.rdbuf()->sbumpc();
  if (c == std::char_traits<char>::eof()) {
    input_.setstate(std::ios::eofbit);
  } else {
    ++bytes_read_;
  }
  return c;
}

int CsvReader::Peek() { return input_.rdbuf()->sgetc(); }

bool CsvReader::Next(CsvRecord* record) {
  constexpr int kEof = std::char_traits<char>::eof();
  record->fields.clear();
  record->empty_line = false;
  record->at_end_of_input = false;
  record->line = line_;
  if (!error_.empty() || Peek() == kEof) return false;

  std::string field;
  size_t record_bytes = 0;
  bool quoted = false;      // The current field started with a quote.
  bool in_quotes = false;   // Inside the quoted part.
  bool after_quote = false; // A quoted field's closing quote was read.
  bool any_content = false;
  auto fail = [&](absl::string_view why) {
    error_ = absl::StrCat("line ", line_, ": ", why);
    return false;
  };
  auto end_field = [&] {
    record->fields.push_back(std::move(field));
    field.clear();
    quoted = in_quotes = after_quote = false;
  };

  while (true) {
    int c = Get();
    if (++record_bytes > max_record_bytes_) {
      return fail(absl::StrCat("record longer than ", max_record_bytes_,
                               " bytes"));
    }
    if (c == kEof) {
      if (in_quotes) return fail("bad quoting: a quoted field runs to the end");
      end_field();
      record->at_end_of_input = true;
      return true;
    }
    if (in_quotes) {
      if (c == '"') {
        if (Peek() == '"') {
          Get();
          field.push_back('"');
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == ',') {
      any_content = true;
      end_field();
      continue;
    }
    if (c == '\n' || (c == '\r' && Peek() == '\n')) {
      if (c == '\r') Get();
      ++line_;
      record->empty_line = !any_content && field.empty() && !quoted;
      end_field();
      return true;
    }
    if (after_quote) {
      return fail("bad quoting: text after a closing quote");
    }
    if (c == '"') {
      if (!field.empty()) return fail("bad quoting: a quote inside a field");
      quoted = in_quotes = true;
      any_content = true;
      continue;
    }
    any_content = true;
    field.push_back(static_cast<char>(c));
  }
}

std::string FormatRecord(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    const std::string& field = fields[i];
    if (field.find_first_of(",\"\r\n") == std::string::npos) {
      line += field;
      continue;
    }
    line.push_back('"');
    for (char c : field) {
      if (c == '"') line.push_back('"');
      line.push_back(c);
    }
    line.push_back('"');
  }
  line.push_back('\n');
  return line;
}

}  // namespace mileagebank::csv
