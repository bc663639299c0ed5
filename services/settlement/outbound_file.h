// Outbound accrual files (partner-files.md section 4): the daily file of own
// flights that the mileage bank sends a partner airline's programme, and the
// reading of the programme's acknowledgement of it (section 2 format).
//
//   // Sending: records numbered 1, 2, 3 ... in the order given.
//   OutboundFileHeader header{"FM", "CA", /*seq=*/42, now};
//   absl::StatusOr<std::string> bytes = FormatOutboundFile(header, flights);
//   // ... written to outbox/ as OutboundFileName("FM", "CA", 42) ...
//
//   // Receiving FM_CA_000042.ack.csv from the partner's inbox/:
//   OutboundAckOutcome outcome = ReadOutboundAcknowledgement(
//       "FM", "CA", file_name, input, [&](int64_t seq) {
//         return ...the file sent to CA under seq, or nullopt...;
//       });
//   if (outcome.refusal) { ... nothing changes ... }
//   else if (!outcome.repeat) { ... record outcome.acknowledgement ... }
//
// Thread-safe: the functions are pure (ReadOutboundAcknowledgement calls
// `find_sent` on the caller's thread).
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_FILE_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_FILE_H_

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// The interface's limits on a file: 1 GiB and 5,000,000 detail records.
inline constexpr uint64_t kMaxOutboundFileBytes = uint64_t{1} << 30;
inline constexpr int64_t kMaxOutboundRecords = 5'000'000;

// ---------------------------------------------------------------------------
// Sending

// What the H line of an outbound file carries.
struct OutboundFileHeader {
  // The host carrier's code (2 characters of A-Z and 0-9), written as the
  // H record's partner and as every D record's carrier.
  std::string host_code;
  // The partner programme the file goes to (2-8 characters of A-Z, 0-9).
  std::string partner_code;
  // The mileage bank's sequence number for this partner, 1 to 999,999.
  int64_t seq = 0;
  // Written as H created, YYYY-MM-DDTHH:MM:SSZ (whole seconds); years
  // 1-9999.
  absl::Time created;
};

// "<HOST>_<PARTNER>_<SEQ>.out.csv", SEQ 6 digits zero-padded, e.g.
// "FM_CA_000042.out.csv".
std::string OutboundFileName(absl::string_view host_code,
                             absl::string_view partner_code, int64_t seq);

// The outbound file (section 1 format with the roles swapped), LF line ends:
//   H,<host>,<seq 6 digits>,<created>,1
//   D,<rec>,<member>,<family>,<given>,<date>,AIR,<ticket>/<coupon>,<host>,
//     <flight>,<from>,<to>,<class>,
//   T,<count>,0
// `flights[i]` is record i + 1. Every flight must be for the header's
// partner and carrier, and valid as OutboundFlight documents it (member 1-20
// of A-Z 0-9, not Luhn-checked; family 1-40 and given 0-40 characters
// without commas, quotes or control characters; ticket 13 digits; coupon
// 1-4; flight 1-9999; a valid date; origin and destination 3 upper-case
// letters, different; class one upper-case letter). Airports are not looked
// up here. INVALID_ARGUMENT naming the field ("header.seq",
// "flights[3].origin") otherwise, and nothing is written.
absl::StatusOr<std::string> FormatOutboundFile(
    const OutboundFileHeader& header,
    absl::Span<const v1::OutboundFlight> flights);

// ---------------------------------------------------------------------------
// Receiving the partner's acknowledgement

// "<HOST>_<PARTNER>_<SEQ>.ack.csv" split. nullopt for any other form (HOST
// 2 and PARTNER 2-8 characters of A-Z 0-9, SEQ exactly 6 digits).
struct OutboundAckFileName {
  std::string host_code;
  std::string partner_code;
  int64_t seq = 0;
};
absl::optional<OutboundAckFileName> ParseOutboundAckFileName(
    absl::string_view name);

// A partner's acknowledgement of an outbound file, as parsed. Either
// `records` (one per D record sent) or, when the partner refused the whole
// file, `file_refusal_code` and no records.
struct OutboundAcknowledgement {
  // The H line: seq (0 to 999,999, written as 6 digits) and processed.
  int64_t seq = 0;
  absl::Time processed;
  // The E line, when the partner refused the file: its code and message.
  v1::FileRefusalCode file_refusal_code = v1::FILE_REFUSAL_CODE_UNSPECIFIED;
  std::string file_refusal_message;
  // The R lines in order; record_number is 1, 2, 3 ... Rejected records
  // carry the reason as written, and reason_code (and invalid_field) when it
  // is one of partner-files.md section 1's codes; else
  // RECORD_REASON_CODE_UNSPECIFIED.
  std::vector<v1::AcknowledgedRecord> records;
  // The T line. accepted, rejected and total_miles_credited agree with the
  // R lines (else the acknowledgement is malformed); count is as written,
  // and is compared with the file sent by MatchOutboundAcknowledgement.
  int64_t count = 0;
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t total_miles_credited = 0;

  bool file_refused() const {
    return file_refusal_code != v1::FILE_REFUSAL_CODE_UNSPECIFIED;
  }
};

// The same outcome: seq, E line (code and message) and R lines (number,
// status, reason as written, miles). The processed timestamp is not
// compared, so an acknowledgement written again later repeats the first.
bool SameAcknowledgementContent(const OutboundAcknowledgement& a,
                                const OutboundAcknowledgement& b);

// Parses an acknowledgement strictly (section 2 and the common rules):
// UTF-8 without a byte-order mark, LF or CRLF, no empty line;
//   H,<host>,<seq 6 digits>,<YYYY-MM-DDTHH:MM:SSZ>,1
//   R,<rec>,ACCEPTED,,<miles>  |  R,<rec>,REJECTED,<reason>,0   (rec 1, 2 ...)
//   or a single E,<code>,<message> with code a FileRefusalCode name
//   T,<count>,<accepted>,<rejected>,<total_miles_credited>  (T,0,0,0,0 after E)
// H's partner must be `host_code`. When `file_name` is not empty it must be
// ParseOutboundAckFileName's form naming `host_code`, `partner_code` (the
// sender) and the H line's seq. Numbers are unsigned decimal (rec without
// leading zeros). Over kMaxOutboundFileBytes or kMaxOutboundRecords R lines
// is malformed too.
//
// INVALID_ARGUMENT, whose message says what and where, for anything else:
// the acknowledgement is ACK_MALFORMED. Holds every R line in memory (a
// maximal file is 5,000,000 AcknowledgedRecord messages).
absl::StatusOr<OutboundAcknowledgement> ParseOutboundAcknowledgement(
    absl::string_view host_code, absl::string_view partner_code,
    absl::string_view file_name, std::istream& input);

// An outbound file as sent, for matching an acknowledgement to it.
struct SentOutboundFile {
  int64_t seq = 0;
  // Its D records.
  int64_t record_count = 0;
  // The acknowledgement already recorded for it; nullopt before the first.
  absl::optional<OutboundAcknowledgement> recorded;
};

// Why an acknowledgement is refused; nothing changes when it is.
struct OutboundAckRefusal {
  v1::AcknowledgementRefusalCode code =
      v1::ACKNOWLEDGEMENT_REFUSAL_CODE_UNSPECIFIED;
  // For people: what did not match.
  std::string message;
};

// What MatchOutboundAcknowledgement decided.
struct OutboundAckMatch {
  // Set: refused, nothing changes.
  absl::optional<OutboundAckRefusal> refusal;
  // Not refused and `sent.recorded` has the same content: an identical
  // repeat, nothing to record.
  bool repeat = false;
};

// Matches a parsed acknowledgement to the file sent under its seq (`sent`;
// nullptr when no file was sent to the partner under that seq). In order:
// - ACK_UNKNOWN_FILE: `sent` is nullptr (or holds another seq);
// - ACK_COUNT_MISMATCH: the R lines, or the T count, differ from the
//   file's record count (not checked for an E acknowledgement, which
//   acknowledges no record);
// - ACK_CONFLICT: the file was already acknowledged with different content
//   (SameAcknowledgementContent); the same content is a repeat.
OutboundAckMatch MatchOutboundAcknowledgement(
    const OutboundAcknowledgement& ack, const SentOutboundFile* sent);

// What ReadOutboundAcknowledgement decided.
struct OutboundAckOutcome {
  // Set: refused (ACK_MALFORMED, or as MatchOutboundAcknowledgement);
  // nothing changes.
  absl::optional<OutboundAckRefusal> refusal;
  // Not refused: an identical repeat of the recorded acknowledgement.
  bool repeat = false;
  // Not refused: the acknowledgement to record (each record's status and
  // miles by record number, or the partner's refusal of the whole file).
  OutboundAcknowledgement acknowledgement;
};

// ParseOutboundAcknowledgement (a failure is ACK_MALFORMED, with the parse
// error as message), then `find_sent(seq)` for the H line's seq, then
// MatchOutboundAcknowledgement.
OutboundAckOutcome ReadOutboundAcknowledgement(
    absl::string_view host_code, absl::string_view partner_code,
    absl::string_view file_name, std::istream& input,
    absl::FunctionRef<absl::optional<SentOutboundFile>(int64_t seq)> find_sent);

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_OUTBOUND_FILE_H_
