// Accrual files (partner-files.md section 1): the whole-file checks and the
// record checks that need no outside facts, reading the file as a stream so
// that a 1 GiB file of 5,000,000 records is handled in bounded memory.
//
// A file is read twice; the caller reopens the stream between the passes.
//
//   // Pass 1: whole-file checks 1-9, in the spec's order.
//   FileContext context{...};
//   FileCheck check = AccrualFileReader::CheckFile(input, context);
//   if (check.outcome == FileCheck::Outcome::kRefused) {
//     ... acknowledge with check.code / check.message (ack_file.h) ...
//   }
//   // Pass 2: the D records, one at a time.
//   AccrualFileReader reader(reopened, PartnerRules{...});
//   AccrualRecord record;
//   while (reader.Next(&record)) {
//     const MemberFacts* member = ...;  // merges followed; nullptr: none
//     RecordVerdict verdict = JudgeRecord(record, member, *check.header);
//     if (verdict.accepted_so_far()) { ... check 7 DUPLICATE_ACTIVITY ... }
//   }
//   if (!reader.status().ok()) { ... the stream changed between passes ... }
//
// Memory stays bounded by the longest record (FileContext::max_record_bytes).
// Thread-compatible: a reader is used by one thread at a time; the free
// functions are pure.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILE_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILE_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/airports/airports.h"
#include "libs/csv/csv.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// The limits of the interface: at most 1 GiB and 5,000,000 D records.
inline constexpr uint64_t kMaxAccrualFileBytes = uint64_t{1} << 30;
inline constexpr int64_t kMaxAccrualRecords = 5'000'000;
// Our bound on one line (record), so that a malformed file cannot make the
// reader hold it all. A longer record refuses the file as TOO_LARGE.
inline constexpr size_t kMaxAccrualRecordBytes = size_t{1} << 20;

// What the caller knows about a received file, for the checks that need
// outside facts. Everything here is recorded on receipt, so that checking
// the same file again gives the same answer.
struct FileContext {
  // The partner the file came from (its drop folder or authenticated
  // upload); the header's partner must equal it exactly.
  std::string sender_partner;
  // The partner's status is ACTIVE.
  bool partner_active = false;
  // The seq of the partner's last accepted file; 0 when none.
  int64_t last_accepted_seq = 0;
  // For seq <= last_accepted_seq: whether the file is byte-identical to the
  // file accepted under `seq` (then it is not refused: the caller sends that
  // file's acknowledgement again). Unset: never identical.
  std::function<bool(int64_t seq)> identical_to_accepted;
  // The name the file came with (`<PARTNER>_<SEQ>.acc.csv`); nullopt for an
  // upload without one. A name of another form refuses the file as
  // BAD_HEADER, as its SEQ cannot match.
  absl::optional<std::string> file_name;
  // The moment of receipt: the header's created may be at most 1 day later.
  absl::Time received_at = absl::InfinitePast();
  uint64_t max_bytes = kMaxAccrualFileBytes;
  int64_t max_records = kMaxAccrualRecords;
  size_t max_record_bytes = kMaxAccrualRecordBytes;
};

// A valid H record.
struct AccrualHeader {
  std::string partner;
  // 1 to 999,999.
  int64_t seq = 0;
  absl::Time created;
};

// The result of the whole-file checks (pass 1).
struct FileCheck {
  enum class Outcome {
    // Passed every whole-file check: judge the records (pass 2).
    kPassed,
    // Failed check `code`; acknowledge with an E line.
    kRefused,
    // seq at or below the last accepted and byte-identical to the file
    // accepted under it: send that file's acknowledgement again, unchanged,
    // and do nothing else.
    kIdenticalToAccepted,
  };
  Outcome outcome = Outcome::kRefused;
  // kRefused: the first failing check. FILE_REFUSAL_CODE_UNSPECIFIED
  // otherwise.
  v1::FileRefusalCode code = v1::FILE_REFUSAL_CODE_UNSPECIFIED;
  // kRefused: for people, the same for the same file (the E line's text).
  std::string message;
  // The H record, when it is valid (all its fields well formed, whatever
  // the later checks say).
  absl::optional<AccrualHeader> header;
  // The seq to write in the acknowledgement's H line: the header's where the
  // header is valid, else the file name's SEQ, else 0 (written 000000).
  int64_t ack_seq = 0;
  // kPassed: the number of D records (the trailer's count).
  int64_t record_count = 0;
  // Bytes read: the whole file for kPassed.
  uint64_t bytes_read = 0;

  bool passed() const { return outcome == Outcome::kPassed; }
};

// The facts about the sending partner that the record checks need.
struct PartnerRules {
  // The partner's code (= the sender = the header's partner).
  std::string partner_code;
  // The partner is an AIRLINE: only then are AIR records valid.
  bool is_airline = false;
  // AIRLINE: the booking classes of its earning table (upper-case letters).
  // G, X and Z are always accepted (they earn 0).
  absl::flat_hash_set<char> booking_classes;
  // The airport table origins and destinations must be in; nullptr means
  // airports::AirportTable::Builtin(). Outlives the reader.
  const airports::AirportTable* airports = nullptr;
};

enum class ActivityType { kAir, kHotel, kCar, kCard, kOther };

// One D record as read. The text fields hold the file's text as is; the
// parsed fields are set for each field left of `invalid_field` (all of
// them when it is empty).
struct AccrualRecord {
  // The D record's number (1, 2, 3 ... in order: pass 1 checked them).
  int64_t record_number = 0;
  // The 1-based line of the file the record starts on.
  int64_t line = 0;
  // The record's fields after the record number, exactly 12 when the
  // record has the right shape; any number otherwise.
  std::string member_number;
  std::string family_name;
  std::string given_name;
  absl::CivilDay date;
  ActivityType type = ActivityType::kOther;
  // As written; for AIR also split into ticket number and coupon.
  std::string ref;
  std::string ticket_number;  // AIR: 13 digits.
  int coupon_number = 0;      // AIR: 1-4.
  std::string carrier;        // AIR: the partner.
  int flight_number = 0;      // AIR: 1-9999.
  std::string origin;         // AIR: an IATA code in the airport table.
  std::string destination;    // AIR: another one.
  char booking_class = 0;     // AIR: a letter of the table, or G, X, Z.
  int64_t miles = 0;          // non-AIR: 1-100,000.
  // Check 1: empty when every field is valid; otherwise the leftmost field
  // at fault ("record" when the line does not have exactly 14 fields,
  // "type" for an AIR record of a partner that is not an AIRLINE).
  std::string invalid_field;

  bool valid() const { return invalid_field.empty(); }
};

// Parses and checks (record check 1) the fields of one D line: `fields[0]`
// is "D", `fields[1]` the record number, which the caller has checked.
AccrualRecord ParseAccrualRecord(const std::vector<std::string>& fields,
                                 const PartnerRules& rules);

// The member a record's member number leads to, MERGED members followed
// through any chain of merges to the member it ends in.
struct MemberFacts {
  // The member the record is for (the end of the merge chain).
  std::string member_number;
  std::string family_name;
  // ACTIVE, SUSPENDED or CLOSED (never MERGED: the chain was followed).
  membership::v1::MemberStatus status = membership::v1::ACTIVE;
};

// The result of record checks 1-6.
struct RecordVerdict {
  // RECORD_REASON_CODE_UNSPECIFIED when checks 1-6 passed (check 7,
  // DUPLICATE_ACTIVITY, is the caller's).
  v1::RecordReasonCode reason = v1::RECORD_REASON_CODE_UNSPECIFIED;
  // INVALID_FIELD: the field named after the colon.
  std::string invalid_field;
  // Checks 1-6 passed: the member to credit (after merges).
  std::string member_number;

  bool accepted_so_far() const {
    return reason == v1::RECORD_REASON_CODE_UNSPECIFIED;
  }
  // The acknowledgement's reason field: "" when accepted so far,
  // "INVALID_FIELD:<field>", or the code's name ("NAME_MISMATCH").
  std::string ReasonText() const;
};

// The acknowledgement's reason text of `code` ("INVALID_FIELD:<field>" for
// INVALID_FIELD); "" for RECORD_REASON_CODE_UNSPECIFIED.
std::string RecordReasonText(v1::RecordReasonCode code,
                             absl::string_view invalid_field = "");

// Applies record checks 1 to 6 in order: INVALID_FIELD (from the parse),
// MEMBER_NOT_FOUND (`member` nullptr), NAME_MISMATCH (family names differ
// ignoring case, spaces and hyphens), MEMBER_INACTIVE (SUSPENDED or
// CLOSED), FUTURE_DATE and TOO_OLD (against the header's created date).
RecordVerdict JudgeRecord(const AccrualRecord& record,
                          const MemberFacts* member,
                          const AccrualHeader& header);

// The earliest activity date a file created on `created` accepts: the same
// day six months before, clamped to that month's last day.
absl::CivilDay EarliestActivityDate(absl::CivilDay created);

// `<PARTNER>_<SEQ>.acc.csv` split; nullopt for any other form (PARTNER 2-8
// of A-Z 0-9, SEQ exactly 6 digits, 000001-999999).
struct AccrualFileName {
  std::string partner;
  int64_t seq = 0;
};
absl::optional<AccrualFileName> ParseAccrualFileName(absl::string_view name);

// A UTC timestamp written exactly "YYYY-MM-DDTHH:MM:SSZ"; nullopt
// otherwise.
absl::optional<absl::Time> ParseTimestamp(absl::string_view text);
// `time` as "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds, truncated).
std::string FormatTimestamp(absl::Time time);

// Reads an accrual file. CheckFile is pass 1; an instance is pass 2.
class AccrualFileReader {
 public:
  // Pass 1: the whole-file checks of the spec in their order (1
  // UNSUPPORTED_VERSION ... 9 TOTALS_MISMATCH). Reads up to the end of
  // `input` unless a check refuses the file earlier (checks 1-5 need only the
  // first line; TOO_LARGE stops reading when a limit is passed).
  static FileCheck CheckFile(std::istream& input, const FileContext& context);

  // Pass 2: `input` from its start, holding the same bytes as a file that
  // passed CheckFile. `rules` are the sender's.
  AccrualFileReader(std::istream& input, PartnerRules rules,
                    size_t max_record_bytes = kMaxAccrualRecordBytes);

  AccrualFileReader(const AccrualFileReader&) = delete;
  AccrualFileReader& operator=(const AccrualFileReader&) = delete;

  // The next D record, parsed and checked (record check 1); false at the
  // trailer, or when the file is not as pass 1 saw it (see status()).
  bool Next(AccrualRecord* record);
  // DATA_LOSS when the stream did not hold a file that passed CheckFile.
  const absl::Status& status() const { return status_; }

 private:
  csv::CsvReader csv_;
  PartnerRules rules_;
  csv::CsvRecord line_;
  bool started_ = false;
  bool done_ = false;
  int64_t next_record_number_ = 1;
  absl::Status status_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_ACCRUAL_FILE_H_
