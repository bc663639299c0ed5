#include "services/settlement/accrual_file.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"

namespace mileagebank::settlement {
namespace {

constexpr int kEof = std::char_traits<char>::eof();

bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Decimal digits without a leading zero ("0" included is not: numbering
// starts at 1).
bool IsPlainDecimal(absl::string_view s) { return IsDigits(s) && s[0] != '0'; }

// `s` (digits) without leading zeros; "0" for zero.
absl::string_view StripZeros(absl::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

// The value of `s` if it is 1-`max_digits` decimal digits (leading zeros
// allowed in `s` beyond that only when `allow_leading_zeros`).
absl::optional<int64_t> SmallNumber(absl::string_view s, size_t max_digits,
                                    bool allow_leading_zeros) {
  if (!IsDigits(s)) return absl::nullopt;
  if (allow_leading_zeros) s = StripZeros(s);
  if (s.size() > max_digits) return absl::nullopt;
  int64_t value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

// Adds the decimal number `digits` to the decimal number `*sum` (both
// without leading zeros, except "0"): totals may exceed any integer type.
void AddDecimal(std::string* sum, absl::string_view digits) {
  digits = StripZeros(digits);
  std::string result;
  result.reserve(std::max(sum->size(), digits.size()) + 1);
  int carry = 0;
  size_t i = sum->size(), j = digits.size();
  while (i > 0 || j > 0 || carry > 0) {
    int d = carry;
    if (i > 0) d += (*sum)[--i] - '0';
    if (j > 0) d += digits[--j] - '0';
    result.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(result.begin(), result.end());
  *sum = StripZeros(result).empty() ? "0" : std::string(StripZeros(result));
}

bool IsPartnerCode(absl::string_view s) {
  if (s.size() < 2 || s.size() > 8) return false;
  for (char c : s) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Well-formed UTF-8 ("Text in UTF-8"). Names have no other rule: any
// character, line breaks included, may be in them.
bool IsNameText(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int length;
    uint32_t code;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > s.size()) return false;
    for (int k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) ||
        code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

bool IsRefChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_' || c == '/' || c == '.';
}

bool IsAirportCode(absl::string_view s) {
  return s.size() == 3 &&
         absl::ascii_isupper(static_cast<unsigned char>(s[0])) &&
         absl::ascii_isupper(static_cast<unsigned char>(s[1])) &&
         absl::ascii_isupper(static_cast<unsigned char>(s[2]));
}

// A field's text for a message: at most 40 bytes, non-printable bytes
// escaped, in quotes.
std::string Shown(absl::string_view text) {
  std::string shown = absl::CHexEscape(text.substr(0, 40));
  if (text.size() > 40) shown += "...";
  return absl::StrCat("\"", shown, "\"");
}

// Reads CSV records, stepping over a line with bad quoting to the next LF
// so that the checks after it still see the rest of the file.
class LineScanner {
 public:
  enum class Result {
    kRecord,
    // Clean end of input.
    kEnd,
    // A line with bad quoting (the scanner moved to the next line).
    kBadQuoting,
    // A quoted field ran to the end of the input.
    kQuoteToEnd,
    // A record longer than the bound.
    kTooLong,
  };

  LineScanner(std::istream& input, size_t max_record_bytes)
      : input_(input), max_record_bytes_(max_record_bytes) {
    reader_.emplace(input_, max_record_bytes_);
  }

  Result Next(csv::CsvRecord* record) {
    if (reader_->Next(record)) {
      record->line += line_base_;
      return Result::kRecord;
    }
    record->line += line_base_;
    const std::string& error = reader_->error();
    if (error.empty()) return Result::kEnd;
    if (absl::StrContains(error, "longer than")) return Result::kTooLong;
    if (input_.peek() == kEof) return Result::kQuoteToEnd;
    // Skip the rest of the bad line.
    uint64_t skipped = 0;
    while (true) {
      int c = input_.get();
      if (c == kEof) break;
      ++skipped;
      if (c == '\n') break;
      if (skipped > max_record_bytes_) {
        base_bytes_ += reader_->bytes_read() + skipped;
        reader_.emplace(input_, max_record_bytes_);
        return Result::kTooLong;
      }
    }
    base_bytes_ += reader_->bytes_read() + skipped;
    line_base_ = record->line;
    reader_.emplace(input_, max_record_bytes_);
    return Result::kBadQuoting;
  }

  uint64_t bytes_read() const { return base_bytes_ + reader_->bytes_read(); }

 private:
  std::istream& input_;
  const size_t max_record_bytes_;
  absl::optional<csv::CsvReader> reader_;
  uint64_t base_bytes_ = 0;
  int64_t line_base_ = 0;
};

// Why `fields` (a first line whose version is 1 or absent) is not a valid H
// record; empty when it is, with `*header` set.
std::string HeaderProblem(const std::vector<std::string>& fields,
                          absl::Time received_at, AccrualHeader* header) {
  if (!fields.empty() && absl::StartsWith(fields[0], "\xEF\xBB\xBF")) {
    return "the file starts with a byte-order mark";
  }
  if (fields.size() == 1 && fields[0].empty()) {
    return "the first line is empty";
  }
  if (fields[0] != "H") {
    return absl::StrCat("the first line's record type is ", Shown(fields[0]),
                        ", not H");
  }
  if (fields.size() != 5) {
    return absl::StrCat("the H record has ", fields.size(),
                        " fields, not 5 (H,<partner>,<seq>,<created>,1)");
  }
  if (!IsPartnerCode(fields[1])) {
    return absl::StrCat("H partner ", Shown(fields[1]),
                        " is not 2-8 characters of A-Z and 0-9");
  }
  absl::optional<int64_t> seq = SmallNumber(fields[2], 6, false);
  if (fields[2].size() > 6 || !seq.has_value() || *seq < 1) {
    return absl::StrCat("H seq ", Shown(fields[2]),
                        " is not 1-6 decimal digits from 1 to 999999");
  }
  absl::optional<absl::Time> created = ParseTimestamp(fields[3]);
  if (!created.has_value()) {
    return absl::StrCat("H created ", Shown(fields[3]),
                        " is not a timestamp YYYY-MM-DDTHH:MM:SSZ");
  }
  if (*created > received_at + absl::Hours(24)) {
    return absl::StrCat("H created ", fields[3],
                        " is more than 1 day after the file was received (",
                        FormatTimestamp(received_at), ")");
  }
  if (fields[4] != "1") {
    return absl::StrCat("H version ", Shown(fields[4]), " is not 1");
  }
  header->partner = fields[1];
  header->seq = *seq;
  header->created = *created;
  return "";
}

// Why `fields` (a T line) is not a valid trailer; empty when it is.
std::string TrailerProblem(const std::vector<std::string>& fields,
                           int64_t line) {
  if (fields.size() != 3) {
    return absl::StrCat("line ", line, ": the T record has ", fields.size(),
                        " fields, not 3 (T,<count>,<total_miles>)");
  }
  if (!IsDigits(fields[1])) {
    return absl::StrCat("line ", line, ": T count ", Shown(fields[1]),
                        " is not a decimal number");
  }
  if (!IsDigits(fields[2])) {
    return absl::StrCat("line ", line, ": T total_miles ", Shown(fields[2]),
                        " is not a decimal number");
  }
  return "";
}

}  // namespace

std::string RecordReasonText(v1::RecordReasonCode code,
                             absl::string_view invalid_field) {
  if (code == v1::RECORD_REASON_CODE_UNSPECIFIED) return "";
  if (code == v1::INVALID_FIELD) {
    return absl::StrCat("INVALID_FIELD:", invalid_field);
  }
  return v1::RecordReasonCode_Name(code);
}

std::string RecordVerdict::ReasonText() const {
  return RecordReasonText(reason, invalid_field);
}

absl::CivilDay EarliestActivityDate(absl::CivilDay created) {
  absl::CivilMonth month = absl::CivilMonth(created) - 6;
  absl::CivilDay last = validation::LastDayOfMonth(month);
  return absl::CivilDay(month.year(), month.month(),
                        std::min(created.day(), last.day()));
}

absl::optional<AccrualFileName> ParseAccrualFileName(absl::string_view name) {
  constexpr absl::string_view kSuffix = ".acc.csv";
  if (!absl::EndsWith(name, kSuffix)) return absl::nullopt;
  name.remove_suffix(kSuffix.size());
  size_t underscore = name.find('_');
  if (underscore == absl::string_view::npos) return absl::nullopt;
  absl::string_view partner = name.substr(0, underscore);
  absl::string_view seq = name.substr(underscore + 1);
  if (!IsPartnerCode(partner) || seq.size() != 6 || !IsDigits(seq)) {
    return absl::nullopt;
  }
  AccrualFileName parsed;
  parsed.partner = std::string(partner);
  parsed.seq = *SmallNumber(seq, 6, true);
  if (parsed.seq < 1) return absl::nullopt;
  return parsed;
}

absl::optional<absl::Time> ParseTimestamp(absl::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return absl::nullopt;
  }
  auto number = [&](size_t at, size_t width) -> int64_t {
    absl::optional<int64_t> value =
        SmallNumber(text.substr(at, width), width, true);
    return value.has_value() && text.substr(at, width).size() == width ? *value
                                                                       : -1;
  };
  int64_t year = number(0, 4), month = number(5, 2), day = number(8, 2),
          hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 1 || month < 1 || day < 1 || hour < 0 || minute < 0 ||
      second < 0) {
    return absl::nullopt;
  }
  absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.year() != year || civil.month() != month || civil.day() != day ||
      civil.hour() != hour || civil.minute() != minute ||
      civil.second() != second) {
    return absl::nullopt;
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%E4Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

AccrualRecord ParseAccrualRecord(const std::vector<std::string>& fields,
                                 const PartnerRules& rules) {
  AccrualRecord record;
  if (fields.size() >= 2) {
    record.record_number =
        SmallNumber(fields[1], 18, false).value_or(int64_t{0});
  }
  if (fields.size() != 14) {
    record.invalid_field = "record";
    return record;
  }
  record.member_number = fields[2];
  record.family_name = fields[3];
  record.given_name = fields[4];
  record.ref = fields[7];
  record.carrier = fields[8];
  record.origin = fields[10];
  record.destination = fields[11];

  auto invalid = [&record](const char* field) {
    record.invalid_field = field;
    return record;
  };
  if (!validation::ValidateMemberNumber("member", fields[2]).ok()) {
    return invalid("member");
  }
  const std::string& family = fields[3];
  if (family.find_first_not_of(' ') == std::string::npos ||
      !IsNameText(family)) {
    return invalid("family");
  }
  if (!IsNameText(fields[4])) return invalid("given");
  absl::optional<absl::CivilDay> date = validation::ParseDate(fields[5]);
  if (!date.has_value()) return invalid("date");
  record.date = *date;

  const std::string& type = fields[6];
  if (type == "AIR") {
    record.type = ActivityType::kAir;
    if (!rules.is_airline) return invalid("type");
  } else if (type == "HOTEL") {
    record.type = ActivityType::kHotel;
  } else if (type == "CAR") {
    record.type = ActivityType::kCar;
  } else if (type == "CARD") {
    record.type = ActivityType::kCard;
  } else if (type == "OTHER") {
    record.type = ActivityType::kOther;
  } else {
    return invalid("type");
  }

  const std::string& ref = fields[7];
  if (record.type == ActivityType::kAir) {
    if (ref.size() != 15 || !IsDigits(absl::string_view(ref).substr(0, 13)) ||
        ref[13] != '/' || ref[14] < '1' || ref[14] > '4') {
      return invalid("ref");
    }
    record.ticket_number = ref.substr(0, 13);
    record.coupon_number = ref[14] - '0';

    if (fields[8].empty() || fields[8] != rules.partner_code) {
      return invalid("carrier");
    }
    absl::optional<int64_t> flight = SmallNumber(fields[9], 4, false);
    if (fields[9].size() > 4 || !flight.has_value() || *flight < 1) {
      return invalid("flight");
    }
    record.flight_number = static_cast<int>(*flight);
    const airports::AirportTable& airports =
        rules.airports != nullptr ? *rules.airports
                                  : airports::AirportTable::Builtin();
    if (!IsAirportCode(fields[10]) || airports.Find(fields[10]) == nullptr) {
      return invalid("from");
    }
    if (!IsAirportCode(fields[11]) || airports.Find(fields[11]) == nullptr ||
        fields[11] == fields[10]) {
      return invalid("to");
    }
    const std::string& booking_class = fields[12];
    if (booking_class.size() != 1 ||
        !absl::ascii_isalpha(static_cast<unsigned char>(booking_class[0])) ||
        (!rules.booking_classes.contains(booking_class[0]) &&
         booking_class != "G" && booking_class != "X" &&
         booking_class != "Z")) {
      return invalid("class");
    }
    record.booking_class = booking_class[0];
    if (!fields[13].empty()) return invalid("miles");
    return record;
  }

  if (ref.empty() || ref.size() > 32 ||
      !std::all_of(ref.begin(), ref.end(), IsRefChar)) {
    return invalid("ref");
  }
  static constexpr const char* kAirOnly[] = {"carrier", "flight", "from", "to",
                                             "class"};
  for (int i = 0; i < 5; ++i) {
    if (!fields[8 + i].empty()) return invalid(kAirOnly[i]);
  }
  absl::optional<int64_t> miles = SmallNumber(fields[13], 6, true);
  if (!miles.has_value() || *miles < 1 || *miles > 100000) {
    return invalid("miles");
  }
  record.miles = *miles;
  return record;
}

RecordVerdict JudgeRecord(const AccrualRecord& record,
                          const MemberFacts* member,
                          const AccrualHeader& header) {
  RecordVerdict verdict;
  if (!record.valid()) {
    verdict.reason = v1::INVALID_FIELD;
    verdict.invalid_field = record.invalid_field;
    return verdict;
  }
  if (member == nullptr) {
    verdict.reason = v1::MEMBER_NOT_FOUND;
    return verdict;
  }
  if (validation::FoldName(record.family_name) !=
      validation::FoldName(member->family_name)) {
    verdict.reason = v1::NAME_MISMATCH;
    return verdict;
  }
  if (member->status != membership::v1::ACTIVE) {
    verdict.reason = v1::MEMBER_INACTIVE;
    return verdict;
  }
  absl::CivilDay created =
      absl::ToCivilDay(header.created, absl::UTCTimeZone());
  if (record.date > created) {
    verdict.reason = v1::FUTURE_DATE;
    return verdict;
  }
  if (record.date < EarliestActivityDate(created)) {
    verdict.reason = v1::TOO_OLD;
    return verdict;
  }
  verdict.member_number = member->member_number.empty() ? record.member_number
                                                        : member->member_number;
  return verdict;
}

FileCheck AccrualFileReader::CheckFile(std::istream& input,
                                       const FileContext& context) {
  FileCheck check;
  LineScanner scanner(input, context.max_record_bytes);
  auto refuse = [&](v1::FileRefusalCode code, std::string message) {
    check.outcome = FileCheck::Outcome::kRefused;
    check.code = code;
    check.message = std::move(message);
    check.bytes_read = scanner.bytes_read();
    return check;
  };

  absl::optional<AccrualFileName> name;
  if (context.file_name.has_value()) {
    name = ParseAccrualFileName(*context.file_name);
    if (name.has_value()) check.ack_seq = name->seq;
  }

  // Checks 1 and 2: the first line.
  csv::CsvRecord record;
  switch (scanner.Next(&record)) {
    case LineScanner::Result::kRecord:
      break;
    case LineScanner::Result::kEnd:
      return refuse(v1::BAD_HEADER, "the file is empty");
    case LineScanner::Result::kTooLong:
      return refuse(v1::BAD_HEADER,
                    absl::StrCat("the first line is longer than ",
                                 context.max_record_bytes, " bytes"));
    default:
      return refuse(v1::BAD_HEADER, "the first line has bad quoting");
  }
  const std::vector<std::string>& first = record.fields;
  if (first[0] == "H" && first.size() >= 5 && first[4] != "1") {
    return refuse(v1::UNSUPPORTED_VERSION,
                  absl::StrCat("version ", Shown(first[4]),
                               " is not supported; this is version 1"));
  }
  AccrualHeader header;
  std::string problem = HeaderProblem(first, context.received_at, &header);
  if (!problem.empty()) return refuse(v1::BAD_HEADER, problem);
  check.header = header;
  check.ack_seq = header.seq;
  if (header.partner != context.sender_partner) {
    return refuse(v1::BAD_HEADER,
                  absl::StrCat("H partner ", header.partner,
                               " is not the sender ", context.sender_partner));
  }
  if (context.file_name.has_value()) {
    if (!name.has_value()) {
      return refuse(v1::BAD_HEADER,
                    absl::StrCat("the file name ", Shown(*context.file_name),
                                 " is not <PARTNER>_<SEQ>.acc.csv"));
    }
    if (name->seq != header.seq) {
      return refuse(
          v1::BAD_HEADER,
          absl::StrCat("H seq ", header.seq,
                       " differs from the file name's SEQ ", name->seq));
    }
  }

  // Checks 3-5: the partner and the sequence.
  if (!context.partner_active) {
    return refuse(v1::PARTNER_INACTIVE,
                  absl::StrCat("partner ", header.partner, " is not ACTIVE"));
  }
  if (header.seq <= context.last_accepted_seq) {
    if (context.identical_to_accepted &&
        context.identical_to_accepted(header.seq)) {
      check.outcome = FileCheck::Outcome::kIdenticalToAccepted;
      check.bytes_read = scanner.bytes_read();
      return check;
    }
    return refuse(v1::DUPLICATE_FILE,
                  absl::StrCat("seq ", header.seq,
                               " is at or below the last accepted seq ",
                               context.last_accepted_seq));
  }
  if (header.seq > context.last_accepted_seq + 1) {
    return refuse(
        v1::SEQUENCE_GAP,
        absl::StrCat("seq ", header.seq, " is more than one above ",
                     "the last accepted seq ", context.last_accepted_seq));
  }

  // Checks 6-9: the rest of the file, read to its end. Problems of order
  // and totals are remembered; the trailer is known only at the end.
  auto too_large_bytes = [&] {
    return refuse(v1::TOO_LARGE, absl::StrCat("the file is larger than ",
                                              context.max_bytes, " bytes"));
  };
  int64_t d_count = 0;
  std::string miles_sum = "0";
  // The first problem of order among the lines known to be before the last.
  std::string order_problem;
  // The last line's problem as a line between H and T, should a line follow.
  std::string pending_order_problem;
  // Why the last line read is not a valid trailer; empty when it is one.
  std::string trailer_problem = "the file ends after its H record";
  std::string trailer_count, trailer_total;
  bool reading = true;
  while (reading) {
    LineScanner::Result result = scanner.Next(&record);
    if (scanner.bytes_read() > context.max_bytes) return too_large_bytes();
    if (result == LineScanner::Result::kEnd) break;
    if (result == LineScanner::Result::kTooLong) {
      return refuse(v1::TOO_LARGE,
                    absl::StrCat("line ", record.line, " is longer than ",
                                 context.max_record_bytes, " bytes"));
    }
    if (order_problem.empty()) order_problem = std::move(pending_order_problem);
    pending_order_problem.clear();
    const int64_t line = record.line;
    switch (result) {
      case LineScanner::Result::kQuoteToEnd:
        trailer_problem = absl::StrCat(
            "line ", line, ": a quoted field runs to the end of the file");
        reading = false;
        continue;
      case LineScanner::Result::kBadQuoting:
        trailer_problem = pending_order_problem =
            absl::StrCat("line ", line, ": bad quoting");
        continue;
      default:
        break;
    }
    if (record.empty_line) {
      pending_order_problem = absl::StrCat("line ", line, " is empty");
      trailer_problem = absl::StrCat("the last line (", line, ") is empty");
      continue;
    }
    const std::vector<std::string>& fields = record.fields;
    const std::string& type = fields[0];
    if (type == "D") {
      ++d_count;
      if (d_count > context.max_records) {
        return refuse(v1::TOO_LARGE,
                      absl::StrCat("the file has more than ",
                                   context.max_records, " D records"));
      }
      trailer_problem = absl::StrCat("the last line (", line,
                                     ") is a D record, not a T "
                                     "record: the file is truncated");
      if (order_problem.empty()) {
        if (fields.size() < 2 || fields[1].empty()) {
          order_problem =
              absl::StrCat("line ", line, ": the record number is missing");
        } else if (!IsPlainDecimal(fields[1])) {
          order_problem =
              absl::StrCat("line ", line, ": record number ", Shown(fields[1]),
                           " is not plain decimal");
        } else if (fields[1] != absl::StrCat(d_count)) {
          order_problem =
              absl::StrCat("line ", line, ": record number ", fields[1],
                           " where ", d_count, " was expected");
        }
      }
      if (fields.size() == 14 && fields[6] != "AIR" && IsDigits(fields[13])) {
        AddDecimal(&miles_sum, fields[13]);
      }
      continue;
    }
    if (type == "T") {
      trailer_problem = TrailerProblem(fields, line);
      if (trailer_problem.empty()) {
        trailer_count = std::string(StripZeros(fields[1]));
        trailer_total = std::string(StripZeros(fields[2]));
      }
      pending_order_problem =
          absl::StrCat("line ", line, ": a T record before the last line");
      continue;
    }
    pending_order_problem =
        absl::StrCat("line ", line, ": record type ", Shown(type), " is not D");
    trailer_problem = absl::StrCat("the last line (", line,
                                   ") is not a T "
                                   "record");
  }

  if (!trailer_problem.empty()) {
    return refuse(v1::BAD_TRAILER, trailer_problem);
  }
  if (!order_problem.empty()) {
    return refuse(v1::BAD_RECORD_ORDER, order_problem);
  }
  if (trailer_count != absl::StrCat(d_count)) {
    return refuse(v1::TOTALS_MISMATCH,
                  absl::StrCat("T count ", trailer_count, " but the file has ",
                               d_count, " D records"));
  }
  if (trailer_total != miles_sum) {
    return refuse(
        v1::TOTALS_MISMATCH,
        absl::StrCat("T total_miles ", trailer_total,
                     " but the D records' miles add up to ", miles_sum));
  }
  check.outcome = FileCheck::Outcome::kPassed;
  check.record_count = d_count;
  check.bytes_read = scanner.bytes_read();
  return check;
}

AccrualFileReader::AccrualFileReader(std::istream& input, PartnerRules rules,
                                     size_t max_record_bytes)
    : csv_(input, max_record_bytes), rules_(std::move(rules)) {}

bool AccrualFileReader::Next(AccrualRecord* record) {
  if (done_ || !status_.ok()) return false;
  auto lost = [this](absl::string_view why) {
    status_ = absl::DataLossError(
        absl::StrCat("the accrual file is not as it was checked: ", why));
    return false;
  };
  if (!started_) {
    started_ = true;
    if (!csv_.Next(&line_) || line_.fields[0] != "H") {
      return lost("no H record");
    }
  }
  if (!csv_.Next(&line_)) return lost("it ends before its trailer");
  const std::vector<std::string>& fields = line_.fields;
  if (fields[0] == "T") {
    done_ = true;
    return false;
  }
  if (fields[0] != "D" || fields.size() < 2 ||
      fields[1] != absl::StrCat(next_record_number_)) {
    return lost(absl::StrCat("line ", line_.line, " is not D record ",
                             next_record_number_));
  }
  *record = ParseAccrualRecord(fields, rules_);
  record->line = line_.line;
  ++next_record_number_;
  return true;
}

}  // namespace mileagebank::settlement
