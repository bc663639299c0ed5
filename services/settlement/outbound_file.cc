#include "services/settlement/outbound_file.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "libs/csv/csv.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"

namespace mileagebank::settlement {
namespace {

constexpr int64_t kMaxSeq = 999'999;
constexpr size_t kMaxRecordBytes = size_t{1} << 20;

// `text` is min_size to max_size characters of A-Z and 0-9.
bool IsCode(absl::string_view text, size_t min_size, size_t max_size) {
  if (text.size() < min_size || text.size() > max_size) return false;
  for (char c : text) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsDigits(absl::string_view text, size_t size) {
  if (text.size() != size) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsUpperLetters(absl::string_view text, size_t size) {
  if (text.size() != size) return false;
  for (char c : text) {
    if (!absl::ascii_isupper(c)) return false;
  }
  return true;
}

// An unsigned decimal that fits int64; with `plain`, without leading zeros
// ("0" itself is plain).
absl::optional<int64_t> ParseUnsigned(absl::string_view text, bool plain) {
  if (text.empty() || text.size() > 19) return absl::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return absl::nullopt;
  }
  if (plain && text.size() > 1 && text[0] == '0') return absl::nullopt;
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return absl::nullopt;
  return value;
}

// Well-formed UTF-8: no overlong forms, surrogates or code points beyond
// U+10FFFF.
bool IsUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int extra = 0;
    uint32_t code_point = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code_point = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code_point = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if ((extra == 2 && code_point < 0x800) ||
        (extra == 3 && (code_point < 0x10000 || code_point > 0x10FFFF)) ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// Code points of well-formed UTF-8.
size_t CharacterCount(absl::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

// The rule a booked name breaks, or "" when it is fine.
std::string NameRule(absl::string_view name, size_t min_size, size_t max_size) {
  if (!IsUtf8(name)) return "must be UTF-8";
  const size_t size = CharacterCount(name);
  if (size < min_size || size > max_size) {
    return absl::StrCat("must be ", min_size, "-", max_size, " characters");
  }
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == ',' || c == '"' || u < 0x20 || u == 0x7F) {
      return "must hold no commas, quotes or control characters";
    }
  }
  return "";
}

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

// Exactly "YYYY-MM-DDTHH:MM:SSZ", a real UTC instant (no leap seconds).
absl::optional<absl::Time> ParseTimestamp(absl::string_view text) {
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return absl::nullopt;
  }
  absl::optional<absl::CivilDay> day =
      validation::ParseDate(text.substr(0, 10));
  if (!day.has_value()) return absl::nullopt;
  int hour = 0, minute = 0, second = 0;
  if (!IsDigits(text.substr(11, 2), 2) || !IsDigits(text.substr(14, 2), 2) ||
      !IsDigits(text.substr(17, 2), 2) ||
      !absl::SimpleAtoi(text.substr(11, 2), &hour) ||
      !absl::SimpleAtoi(text.substr(14, 2), &minute) ||
      !absl::SimpleAtoi(text.substr(17, 2), &second) || hour > 23 ||
      minute > 59 || second > 59) {
    return absl::nullopt;
  }
  return absl::FromCivil(absl::CivilSecond(day->year(), day->month(),
                                           day->day(), hour, minute, second),
                         absl::UTCTimeZone());
}

// The rule `flight` breaks as record of `header`'s file; sets *field.
std::string FlightRule(const OutboundFileHeader& header,
                       const v1::OutboundFlight& flight, std::string* field) {
  auto fail = [field](const char* name, std::string rule) {
    *field = name;
    return rule;
  };
  if (flight.partner_code() != header.partner_code) {
    return fail("partner_code", "must be the file's partner");
  }
  if (!IsCode(flight.partner_member_number(), 1, 20)) {
    return fail("partner_member_number", "must be 1-20 characters of A-Z, 0-9");
  }
  std::string rule = NameRule(flight.family_name(), 1, 40);
  if (!rule.empty()) return fail("family_name", rule);
  rule = NameRule(flight.given_name(), 0, 40);
  if (!rule.empty()) return fail("given_name", rule);
  if (!IsDigits(flight.ticket_number(), 13)) {
    return fail("ticket_number", "must be 13 digits");
  }
  if (flight.coupon_number() < 1 || flight.coupon_number() > 4) {
    return fail("coupon_number", "must be 1 to 4");
  }
  if (flight.carrier() != header.host_code) {
    return fail("carrier", "must be the host carrier");
  }
  if (flight.flight_number() < 1 || flight.flight_number() > 9999) {
    return fail("flight_number", "must be 1 to 9999");
  }
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay("flight_date", flight.flight_date());
  if (!date.ok()) return fail("flight_date", "must be a valid date");
  if (!IsUpperLetters(flight.origin(), 3)) {
    return fail("origin", "must be 3 upper-case letters");
  }
  if (!IsUpperLetters(flight.destination(), 3)) {
    return fail("destination", "must be 3 upper-case letters");
  }
  if (flight.destination() == flight.origin()) {
    return fail("destination", "must differ from origin");
  }
  if (!IsUpperLetters(flight.booking_class(), 1)) {
    return fail("booking_class", "must be one upper-case letter");
  }
  return "";
}

// The field names of "INVALID_FIELD:<field>" (partner-files.md section 1).
bool IsRecordFieldName(absl::string_view name) {
  static constexpr absl::string_view kNames[] = {
      "record",  "member", "family", "given", "date",  "type", "ref",
      "carrier", "flight", "from",   "to",    "class", "miles"};
  for (absl::string_view known : kNames) {
    if (name == known) return true;
  }
  return false;
}

// Fills reason_code and invalid_field from `record.reason()` when it is one
// of section 1's codes.
void ClassifyReason(v1::AcknowledgedRecord* record) {
  constexpr absl::string_view kInvalidField = "INVALID_FIELD:";
  const std::string& reason = record->reason();
  if (absl::StartsWith(reason, kInvalidField)) {
    const absl::string_view field =
        absl::string_view(reason).substr(kInvalidField.size());
    if (IsRecordFieldName(field)) {
      record->set_reason_code(v1::INVALID_FIELD);
      record->set_invalid_field(std::string(field));
    }
    return;
  }
  v1::RecordReasonCode code = v1::RECORD_REASON_CODE_UNSPECIFIED;
  if (v1::RecordReasonCode_Parse(reason, &code) &&
      code != v1::RECORD_REASON_CODE_UNSPECIFIED && code != v1::INVALID_FIELD) {
    record->set_reason_code(code);
  }
}

absl::Status Malformed(int64_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

}  // namespace

std::string OutboundFileName(absl::string_view host_code,
                             absl::string_view partner_code, int64_t seq) {
  return absl::StrFormat("%s_%s_%06d.out.csv", host_code, partner_code, seq);
}

absl::StatusOr<std::string> FormatOutboundFile(
    const OutboundFileHeader& header,
    absl::Span<const v1::OutboundFlight> flights) {
  if (!IsCode(header.host_code, 2, 2)) {
    return InvalidField("header.host_code", "must be 2 characters of A-Z, 0-9");
  }
  if (!IsCode(header.partner_code, 2, 8)) {
    return InvalidField("header.partner_code",
                        "must be 2-8 characters of A-Z, 0-9");
  }
  if (header.partner_code == header.host_code) {
    return InvalidField("header.partner_code", "must not be the host carrier");
  }
  if (header.seq < 1 || header.seq > kMaxSeq) {
    return InvalidField("header.seq", "must be 1 to 999999");
  }
  const int64_t created_year =
      absl::ToCivilSecond(header.created, absl::UTCTimeZone()).year();
  if (created_year < 1 || created_year > 9999) {
    return InvalidField("header.created", "must be in years 1 to 9999");
  }
  if (flights.size() > static_cast<size_t>(kMaxOutboundRecords)) {
    return InvalidField("flights",
                        absl::StrCat("must be at most ", kMaxOutboundRecords));
  }
  std::string file = csv::FormatRecord({"H", header.host_code,
                                        absl::StrFormat("%06d", header.seq),
                                        FormatTimestamp(header.created), "1"});
  for (size_t i = 0; i < flights.size(); ++i) {
    const v1::OutboundFlight& flight = flights[i];
    std::string field;
    const std::string rule = FlightRule(header, flight, &field);
    if (!rule.empty()) {
      return InvalidField(absl::StrCat("flights[", i, "].", field), rule);
    }
    const absl::CivilDay date(flight.flight_date().year(),
                              flight.flight_date().month(),
                              flight.flight_date().day());
    absl::StrAppend(
        &file,
        csv::FormatRecord(
            {"D", absl::StrCat(i + 1), flight.partner_member_number(),
             flight.family_name(), flight.given_name(),
             validation::FormatDate(date), "AIR",
             absl::StrCat(flight.ticket_number(), "/", flight.coupon_number()),
             header.host_code, absl::StrCat(flight.flight_number()),
             flight.origin(), flight.destination(), flight.booking_class(),
             ""}));
  }
  // total_miles counts non-AIR records only: always 0 here.
  absl::StrAppend(&file,
                  csv::FormatRecord({"T", absl::StrCat(flights.size()), "0"}));
  return file;
}

absl::optional<OutboundAckFileName> ParseOutboundAckFileName(
    absl::string_view name) {
  constexpr absl::string_view kSuffix = ".ack.csv";
  if (!absl::ConsumeSuffix(&name, kSuffix)) return absl::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(name, '_');
  if (parts.size() != 3 || !IsCode(parts[0], 2, 2) || !IsCode(parts[1], 2, 8) ||
      !IsDigits(parts[2], 6)) {
    return absl::nullopt;
  }
  OutboundAckFileName parsed;
  parsed.host_code = std::string(parts[0]);
  parsed.partner_code = std::string(parts[1]);
  if (!absl::SimpleAtoi(parts[2], &parsed.seq)) return absl::nullopt;
  return parsed;
}

bool SameAcknowledgementContent(const OutboundAcknowledgement& a,
                                const OutboundAcknowledgement& b) {
  if (a.seq != b.seq || a.file_refusal_code != b.file_refusal_code ||
      a.file_refusal_message != b.file_refusal_message || a.count != b.count ||
      a.accepted != b.accepted || a.rejected != b.rejected ||
      a.total_miles_credited != b.total_miles_credited ||
      a.records.size() != b.records.size()) {
    return false;
  }
  for (size_t i = 0; i < a.records.size(); ++i) {
    const v1::AcknowledgedRecord& x = a.records[i];
    const v1::AcknowledgedRecord& y = b.records[i];
    if (x.record_number() != y.record_number() || x.status() != y.status() ||
        x.reason() != y.reason() || x.miles() != y.miles()) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<OutboundAcknowledgement> ParseOutboundAcknowledgement(
    absl::string_view host_code, absl::string_view partner_code,
    absl::string_view file_name, std::istream& input) {
  absl::optional<OutboundAckFileName> name;
  if (!file_name.empty()) {
    name = ParseOutboundAckFileName(file_name);
    if (!name.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "file name ", file_name, " is not <HOST>_<PARTNER>_<SEQ>.ack.csv"));
    }
    if (name->host_code != host_code || name->partner_code != partner_code) {
      return absl::InvalidArgumentError(absl::StrCat("file name ", file_name,
                                                     " is not of ", host_code,
                                                     "_", partner_code));
    }
  }

  csv::CsvReader reader(input, kMaxRecordBytes);
  csv::CsvRecord record;
  OutboundAcknowledgement ack;
  enum class Expect { kHeader, kBody, kEnd } expect = Expect::kHeader;
  bool seen_error_line = false;
  int64_t accepted = 0, rejected = 0, total_miles = 0;

  while (reader.Next(&record)) {
    if (reader.bytes_read() > kMaxOutboundFileBytes) {
      return Malformed(record.line, "the file is over 1 GiB");
    }
    const int64_t line = record.line;
    if (expect == Expect::kEnd) {
      return Malformed(line, "a line after the trailer");
    }
    if (record.empty_line) return Malformed(line, "an empty line");
    for (const std::string& field : record.fields) {
      if (!IsUtf8(field)) return Malformed(line, "not UTF-8");
    }
    const std::vector<std::string>& f = record.fields;

    if (expect == Expect::kHeader) {
      if (absl::StartsWith(f[0], "\xEF\xBB\xBF")) {
        return Malformed(line, "a byte-order mark");
      }
      if (f[0] != "H") return Malformed(line, "the first line is not H");
      if (f.size() != 5) return Malformed(line, "H must have 5 fields");
      if (f[1] != host_code) {
        return Malformed(line, absl::StrCat("H partner must be ", host_code));
      }
      if (!IsDigits(f[2], 6)) {
        return Malformed(line, "H seq must be 6 digits");
      }
      absl::SimpleAtoi(f[2], &ack.seq);
      absl::optional<absl::Time> processed = ParseTimestamp(f[3]);
      if (!processed.has_value()) {
        return Malformed(line, "H processed must be YYYY-MM-DDTHH:MM:SSZ");
      }
      ack.processed = *processed;
      if (f[4] != "1") return Malformed(line, "H version must be 1");
      if (name.has_value() && name->seq != ack.seq) {
        return Malformed(line, "H seq differs from the file name's SEQ");
      }
      expect = Expect::kBody;
      continue;
    }

    if (f[0] == "R") {
      if (seen_error_line) return Malformed(line, "an R line after an E line");
      if (f.size() != 5) return Malformed(line, "R must have 5 fields");
      if (static_cast<int64_t>(ack.records.size()) >= kMaxOutboundRecords) {
        return Malformed(line, "more than 5,000,000 R lines");
      }
      const int64_t expected = static_cast<int64_t>(ack.records.size()) + 1;
      absl::optional<int64_t> number = ParseUnsigned(f[1], /*plain=*/true);
      if (!number.has_value() || *number != expected) {
        return Malformed(line,
                         absl::StrCat("R record number must be ", expected));
      }
      absl::optional<int64_t> miles = ParseUnsigned(f[4], /*plain=*/false);
      if (!miles.has_value()) {
        return Malformed(line, "R miles must be an unsigned decimal");
      }
      v1::AcknowledgedRecord acknowledged;
      acknowledged.set_record_number(expected);
      acknowledged.set_miles(*miles);
      if (f[2] == "ACCEPTED") {
        if (!f[3].empty()) {
          return Malformed(line, "R reason must be empty when ACCEPTED");
        }
        acknowledged.set_status(v1::RECORD_ACCEPTED);
        ++accepted;
        if (total_miles > std::numeric_limits<int64_t>::max() - *miles) {
          return Malformed(line, "total miles beyond int64");
        }
        total_miles += *miles;
      } else if (f[2] == "REJECTED") {
        if (f[3].empty()) {
          return Malformed(line, "R reason is required when REJECTED");
        }
        if (*miles != 0) {
          return Malformed(line, "R miles must be 0 when REJECTED");
        }
        acknowledged.set_status(v1::RECORD_REJECTED);
        acknowledged.set_reason(f[3]);
        ClassifyReason(&acknowledged);
        ++rejected;
      } else {
        return Malformed(line, "R status must be ACCEPTED or REJECTED");
      }
      ack.records.push_back(std::move(acknowledged));
      continue;
    }

    if (f[0] == "E") {
      if (seen_error_line || !ack.records.empty()) {
        return Malformed(line, "an E line must be the only line before T");
      }
      if (f.size() != 3) return Malformed(line, "E must have 3 fields");
      v1::FileRefusalCode code = v1::FILE_REFUSAL_CODE_UNSPECIFIED;
      if (!v1::FileRefusalCode_Parse(f[1], &code) ||
          code == v1::FILE_REFUSAL_CODE_UNSPECIFIED) {
        return Malformed(line, "E code is not a file refusal code");
      }
      ack.file_refusal_code = code;
      ack.file_refusal_message = f[2];
      seen_error_line = true;
      continue;
    }

    if (f[0] == "T") {
      if (f.size() != 5) return Malformed(line, "T must have 5 fields");
      int64_t numbers[4];
      for (int i = 0; i < 4; ++i) {
        absl::optional<int64_t> value = ParseUnsigned(f[i + 1], false);
        if (!value.has_value()) {
          return Malformed(line, "T fields must be unsigned decimals");
        }
        numbers[i] = *value;
      }
      ack.count = numbers[0];
      ack.accepted = numbers[1];
      ack.rejected = numbers[2];
      ack.total_miles_credited = numbers[3];
      if (seen_error_line) {
        if (ack.count != 0 || ack.accepted != 0 || ack.rejected != 0 ||
            ack.total_miles_credited != 0) {
          return Malformed(line, "T must be T,0,0,0,0 after an E line");
        }
      } else if (ack.accepted != accepted || ack.rejected != rejected ||
                 ack.total_miles_credited != total_miles) {
        return Malformed(
            line, absl::StrCat("T says ", ack.accepted, " accepted, ",
                               ack.rejected, " rejected, ",
                               ack.total_miles_credited, " miles; the R lines ",
                               accepted, ", ", rejected, ", ", total_miles));
      }
      expect = Expect::kEnd;
      continue;
    }

    return Malformed(
        line, absl::StrCat("unexpected record type '", f[0], "' (R, E or T)"));
  }
  if (!reader.error().empty()) {
    return absl::InvalidArgumentError(reader.error());
  }
  if (reader.bytes_read() > kMaxOutboundFileBytes) {
    return absl::InvalidArgumentError("the file is over 1 GiB");
  }
  if (expect == Expect::kHeader) {
    return absl::InvalidArgumentError("an empty file");
  }
  if (expect == Expect::kBody) {
    return absl::InvalidArgumentError("no trailer: the last line is not T");
  }
  return ack;
}

OutboundAckMatch MatchOutboundAcknowledgement(
    const OutboundAcknowledgement& ack, const SentOutboundFile* sent) {
  OutboundAckMatch match;
  auto refuse = [&match](v1::AcknowledgementRefusalCode code,
                         std::string message) {
    match.refusal = OutboundAckRefusal{code, std::move(message)};
    return match;
  };
  if (sent == nullptr || sent->seq != ack.seq) {
    return refuse(
        v1::ACK_UNKNOWN_FILE,
        absl::StrFormat("no outbound file was sent under seq %06d", ack.seq));
  }
  if (!ack.file_refused()) {
    const int64_t lines = static_cast<int64_t>(ack.records.size());
    if (lines != sent->record_count || ack.count != sent->record_count) {
      return refuse(
          v1::ACK_COUNT_MISMATCH,
          absl::StrFormat("file %06d has %d records; the acknowledgement has "
                          "%d R lines and a count of %d",
                          ack.seq, sent->record_count, lines, ack.count));
    }
  }
  if (sent->recorded.has_value()) {
    if (!SameAcknowledgementContent(ack, *sent->recorded)) {
      return refuse(v1::ACK_CONFLICT,
                    absl::StrFormat("file %06d was already acknowledged "
                                    "differently",
                                    ack.seq));
    }
    match.repeat = true;
  }
  return match;
}

OutboundAckOutcome ReadOutboundAcknowledgement(
    absl::string_view host_code, absl::string_view partner_code,
    absl::string_view file_name, std::istream& input,
    absl::FunctionRef<absl::optional<SentOutboundFile>(int64_t seq)>
        find_sent) {
  OutboundAckOutcome outcome;
  absl::StatusOr<OutboundAcknowledgement> ack =
      ParseOutboundAcknowledgement(host_code, partner_code, file_name, input);
  if (!ack.ok()) {
    outcome.refusal = OutboundAckRefusal{v1::ACK_MALFORMED,
                                         std::string(ack.status().message())};
    return outcome;
  }
  const absl::optional<SentOutboundFile> sent = find_sent(ack->seq);
  OutboundAckMatch match =
      MatchOutboundAcknowledgement(*ack, sent.has_value() ? &*sent : nullptr);
  if (match.refusal.has_value()) {
    outcome.refusal = std::move(match.refusal);
    return outcome;
  }
  outcome.repeat = match.repeat;
  outcome.acknowledgement = *std::move(ack);
  return outcome;
}

}  // namespace mileagebank::settlement
