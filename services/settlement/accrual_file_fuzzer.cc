// libFuzzer target for the accrual file reader: any bytes go through the
// whole-file checks; a file that passes is read record by record, judged and
// acknowledged. Besides not crashing, leaking or hanging, it checks:
// - the checks are deterministic, and a refusal names a code;
// - a file that passes obeys partner-files.md section 1 as far as the
//   whole-file checks go (header, record order, trailer, totals, limits),
//   verified from the bytes with the plain CSV reader, not the file reader;
// - pass 2 reads exactly the records pass 1 counted, and every record it
//   finds valid has the fields the interface allows;
// - the acknowledgement obeys section 2 (H, R per record or one E line, T).
//
// Built and run by the sh_test //services/settlement:accrual_file_fuzz_test
// (see services/settlement/BUILD for longer runs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/csv/csv.h"
#include "libs/validation/member_number.h"
#include "services/settlement/accrual_file.h"
#include "services/settlement/ack_file.h"

namespace mileagebank::settlement {
namespace {

constexpr char kSender[] = "CA";
constexpr int64_t kLastAcceptedSeq = 41;

FileContext Context() {
  FileContext context;
  context.sender_partner = kSender;
  context.partner_active = true;
  context.last_accepted_seq = kLastAcceptedSeq;
  context.received_at = absl::FromCivil(
      absl::CivilSecond(2026, 8, 31, 12, 0, 0), absl::UTCTimeZone());
  // Small limits, so that TOO_LARGE is reachable by the fuzzer.
  context.max_bytes = 1 << 20;
  context.max_records = 1000;
  context.max_record_bytes = 4096;
  return context;
}

void Fail(absl::string_view why) {
  std::cerr << "accrual_file_fuzzer: " << why << "\n";
  std::abort();
}

void Expect(bool holds, absl::string_view why) {
  if (!holds) Fail(why);
}

bool AllOf(absl::string_view s, bool (*is)(unsigned char)) {
  for (char c : s) {
    if (!is(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && AllOf(s, absl::ascii_isdigit);
}

// A decimal number without its leading zeros ("0" for zero).
std::string Canonical(absl::string_view digits) {
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  return std::string(digits);
}

// `a` + `b`, both canonical decimals: T's total may exceed any integer type.
std::string AddDecimals(const std::string& a, const std::string& b) {
  std::string sum;
  int carry = 0;
  for (size_t i = 0; i < a.size() || i < b.size() || carry > 0; ++i) {
    int digit = carry;
    if (i < a.size()) digit += a[a.size() - 1 - i] - '0';
    if (i < b.size()) digit += b[b.size() - 1 - i] - '0';
    sum.insert(sum.begin(), static_cast<char>('0' + digit % 10));
    carry = digit / 10;
  }
  return Canonical(sum);
}

// What section 1 requires of a file the whole-file checks pass: read again
// with the plain CSV reader, so that a bug in the file reader's own scanning
// cannot hide itself.
void ExpectFileObeysTheInterface(const std::string& bytes,
                                 const FileContext& context,
                                 const FileCheck& check) {
  Expect(check.header.has_value(), "passed without a header");
  Expect(check.bytes_read == bytes.size(), "passed without reading it all");
  Expect(bytes.size() <= context.max_bytes, "passed over the size limit");

  std::istringstream input(bytes);
  // No line limit of its own: the file reader's bound is not the interface.
  csv::CsvReader csv(input, bytes.size() + 1);
  csv::CsvRecord line;
  Expect(csv.Next(&line), "passed without a first line");
  const std::vector<std::string>& h = line.fields;
  Expect(h.size() == 5 && h[0] == "H", "passed with a first line not H");
  Expect(h[1] == context.sender_partner && check.header->partner == h[1],
         "passed with the header of another partner");
  Expect(h[4] == "1", "passed with a version other than 1");
  int64_t seq = 0;
  Expect(h[2].size() <= 6 && IsDigits(h[2]) && absl::SimpleAtoi(h[2], &seq),
         "passed with a malformed seq");
  Expect(seq == context.last_accepted_seq + 1 && check.header->seq == seq,
         "passed with a seq that is not the next one");
  const absl::optional<absl::Time> created = ParseTimestamp(h[3]);
  Expect(created.has_value() && *created == check.header->created,
         "passed with a malformed created timestamp");
  Expect(*created <= context.received_at + absl::Hours(24),
         "passed with a created timestamp over a day after receipt");

  int64_t d_records = 0;
  std::string miles = "0";
  bool trailer = false;
  while (csv.Next(&line)) {
    Expect(!trailer, "passed with a line after the trailer");
    Expect(!line.empty_line, "passed with an empty line");
    const std::vector<std::string>& fields = line.fields;
    if (fields[0] == "T") {
      Expect(fields.size() == 3, "passed with a malformed trailer");
      Expect(IsDigits(fields[1]) && IsDigits(fields[2]),
             "passed with a trailer that is not numbers");
      Expect(Canonical(fields[1]) == absl::StrCat(d_records),
             "passed with a wrong trailer count");
      Expect(Canonical(fields[2]) == miles,
             "passed with wrong trailer total miles");
      trailer = true;
      continue;
    }
    Expect(fields[0] == "D", "passed with a line that is not D between H, T");
    ++d_records;
    Expect(fields.size() >= 2 && fields[1] == absl::StrCat(d_records),
           "passed with record numbers out of order");
    if (fields.size() == 14 && fields[6] != "AIR" && IsDigits(fields[13])) {
      miles = AddDecimals(miles, Canonical(fields[13]));
    }
  }
  Expect(csv.error().empty(), "passed with bad quoting");
  Expect(trailer, "passed without a trailer");
  Expect(d_records <= context.max_records, "passed over the record limit");
  Expect(check.record_count == d_records, "passed with another record count");
}

bool IsRefCharacter(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '/' || c == '.';
}

// What section 1 allows in the fields of a D record the reader finds valid.
void ExpectValidRecordObeysTheInterface(const AccrualRecord& record,
                                        const PartnerRules& rules) {
  Expect(validation::ValidateMemberNumber("member", record.member_number).ok(),
         "valid record with a bad member number");
  Expect(!record.family_name.empty(), "valid record without a family name");
  Expect(!record.ref.empty() && record.ref.size() <= 32 &&
             AllOf(record.ref, IsRefCharacter),
         "valid record with a malformed ref");
  if (record.type == ActivityType::kAir) {
    Expect(rules.is_airline, "valid AIR record of a partner not an airline");
    Expect(
        record.ticket_number.size() == 13 && IsDigits(record.ticket_number) &&
            record.coupon_number >= 1 && record.coupon_number <= 4 &&
            record.ref ==
                absl::StrCat(record.ticket_number, "/", record.coupon_number),
        "valid AIR record whose ref is not ticket/coupon");
    Expect(record.carrier == rules.partner_code,
           "valid AIR record of another carrier");
    Expect(record.flight_number >= 1 && record.flight_number <= 9999,
           "valid AIR record with a bad flight number");
    Expect(record.origin.size() == 3 &&
               AllOf(record.origin, absl::ascii_isupper) &&
               record.destination.size() == 3 &&
               AllOf(record.destination, absl::ascii_isupper) &&
               record.origin != record.destination,
           "valid AIR record with bad airports");
    const char c = record.booking_class;
    Expect(
        rules.booking_classes.contains(c) || c == 'G' || c == 'X' || c == 'Z',
        "valid AIR record with a class outside the table");
  } else {
    Expect(record.miles >= 1 && record.miles <= 100000,
           "valid record with miles out of range");
    Expect(record.carrier.empty() && record.flight_number == 0 &&
               record.origin.empty() && record.destination.empty() &&
               record.booking_class == 0,
           "valid non-AIR record with flight fields");
  }
}

// What section 2 requires of the acknowledgement written for `check`:
// `accepted` + `rejected` R lines, or the E line of a refusal.
void ExpectAcknowledgementObeysTheInterface(const std::string& ack,
                                            const FileCheck& check,
                                            int64_t records) {
  std::istringstream input(ack);
  csv::CsvReader csv(input);
  csv::CsvRecord line;
  Expect(csv.Next(&line), "empty acknowledgement");
  Expect(line.fields.size() == 5 && line.fields[0] == "H" &&
             line.fields[1] == kSender &&
             line.fields[2] == FormatAckSeq(check.ack_seq) &&
             ParseTimestamp(line.fields[3]).has_value() &&
             line.fields[4] == "1",
         "acknowledgement with a malformed H line");
  if (!check.passed()) {
    Expect(csv.Next(&line) && line.fields.size() == 3 &&
               line.fields[0] == "E" &&
               line.fields[1] == v1::FileRefusalCode_Name(check.code) &&
               line.fields[2] == check.message,
           "refusal without its E line");
    Expect(csv.Next(&line) &&
               line.fields == std::vector<std::string>{"T", "0", "0", "0", "0"},
           "refusal without T,0,0,0,0");
    Expect(!csv.Next(&line) && csv.error().empty(),
           "refusal with lines after its trailer");
    return;
  }
  int64_t accepted = 0, rejected = 0, miles = 0;
  for (int64_t number = 1; number <= records; ++number) {
    Expect(csv.Next(&line) && line.fields.size() == 5 &&
               line.fields[0] == "R" && line.fields[1] == absl::StrCat(number),
           "acknowledgement without an R line per record, in order");
    int64_t record_miles = -1;
    Expect(absl::SimpleAtoi(line.fields[4], &record_miles) && record_miles >= 0,
           "R line with malformed miles");
    if (line.fields[2] == "ACCEPTED") {
      Expect(line.fields[3].empty(), "accepted R line with a reason");
      ++accepted;
      miles += record_miles;
    } else {
      Expect(line.fields[2] == "REJECTED" && !line.fields[3].empty() &&
                 record_miles == 0,
             "R line neither accepted nor rejected with a reason");
      ++rejected;
    }
  }
  Expect(csv.Next(&line) &&
             line.fields == std::vector<std::string>{"T", absl::StrCat(records),
                                                     absl::StrCat(accepted),
                                                     absl::StrCat(rejected),
                                                     absl::StrCat(miles)},
         "acknowledgement trailer does not count its R lines");
  Expect(!csv.Next(&line) && csv.error().empty(),
         "acknowledgement with lines after its trailer");
}

}  // namespace
}  // namespace mileagebank::settlement

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace settlement = mileagebank::settlement;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const settlement::FileContext context = settlement::Context();
  std::istringstream pass1(bytes);
  const settlement::FileCheck check =
      settlement::AccrualFileReader::CheckFile(pass1, context);
  std::istringstream again(bytes);
  const settlement::FileCheck repeat =
      settlement::AccrualFileReader::CheckFile(again, context);
  settlement::Expect(repeat.outcome == check.outcome &&
                         repeat.code == check.code &&
                         repeat.message == check.message,
                     "CheckFile is not deterministic");
  // No identical_to_accepted in the context: never identical.
  settlement::Expect(
      check.outcome != settlement::FileCheck::Outcome::kIdenticalToAccepted,
      "identical to an accepted file that does not exist");

  std::ostringstream ack_bytes;
  settlement::AckWriter ack(&ack_bytes, settlement::kSender, check.ack_seq,
                            context.received_at);
  if (!check.passed()) {
    settlement::Expect(
        check.code !=
            mileagebank::settlement::v1::FILE_REFUSAL_CODE_UNSPECIFIED,
        "refused without a code");
    ack.Refuse(check.code, check.message);
    settlement::Expect(ack.Finish().ok(), "the acknowledgement failed");
    settlement::ExpectAcknowledgementObeysTheInterface(ack_bytes.str(), check,
                                                       0);
    return 0;
  }
  settlement::ExpectFileObeysTheInterface(bytes, context, check);

  settlement::PartnerRules rules;
  rules.partner_code = settlement::kSender;
  rules.is_airline = true;
  rules.booking_classes = {'Y', 'J'};
  settlement::MemberFacts member;
  member.family_name = "Li";
  std::istringstream pass2(bytes);
  settlement::AccrualFileReader reader(pass2, rules, context.max_record_bytes);
  settlement::AccrualRecord record;
  int64_t count = 0;
  while (reader.Next(&record)) {
    ++count;
    settlement::Expect(record.record_number == count,
                       "record numbers out of order");
    if (record.valid()) {
      settlement::ExpectValidRecordObeysTheInterface(record, rules);
    }
    member.member_number = record.member_number;
    const settlement::RecordVerdict verdict =
        settlement::JudgeRecord(record, &member, *check.header);
    if (verdict.accepted_so_far()) {
      settlement::Expect(record.valid(), "an invalid record was accepted");
      ack.AddAccepted(record.record_number, record.miles);
    } else {
      ack.AddRejected(record.record_number, verdict.ReasonText());
    }
  }
  settlement::Expect(reader.status().ok(),
                     "pass 2 failed on a file pass 1 passed");
  settlement::Expect(count == check.record_count, "pass 2 read another count");
  settlement::Expect(ack.Finish().ok(), "the acknowledgement failed");
  settlement::ExpectAcknowledgementObeysTheInterface(ack_bytes.str(), check,
                                                     count);
  return 0;
}
