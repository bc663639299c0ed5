// Acknowledgement files (partner-files.md section 2): what the mileage bank
// writes back for every accrual file it received, refused ones included.
//
//   // A processed file: H, one R per D record in order, T.
//   AckWriter ack(&out, "CA", 42, processed_at);
//   ack.AddAccepted(1, 1250);
//   ack.AddRejected(2, "INVALID_FIELD:class");
//   absl::Status written = ack.Finish();
//
//   // A refused file: H, one E line, T,0,0,0,0.
//   AckWriter ack(&out, "CA", check.ack_seq, processed_at);
//   ack.Refuse(check.code, check.message);
//   absl::Status written = ack.Finish();
//
//   std::string name = AckFileName("CA", 42, /*refused=*/true,
//                                  /*name_taken_by_accepted=*/true);
//   // "CA_000042.dup.ack.csv"
//
// Lines end in LF; fields are quoted per RFC 4180 when they need it. The
// writer streams: it holds no records.
// Thread-compatible.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_ACK_FILE_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_ACK_FILE_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// `seq` as 6 digits, zero-padded ("000042"); 0 is "000000".
std::string FormatAckSeq(int64_t seq);

// The acknowledgement's name: `<PARTNER>_<SEQ>.ack.csv`, or, for a refused
// file whose name would be that of an accepted file's acknowledgement
// (`name_taken_by_accepted`), `<PARTNER>_<SEQ>.dup.ack.csv`: an
// acknowledgement never replaces that of an accepted file.
std::string AckFileName(absl::string_view partner, int64_t seq, bool refused,
                        bool name_taken_by_accepted);

class AckWriter {
 public:
  // Writes the H line `H,<partner>,<seq 6 digits>,<processed>,1`. `out`
  // outlives the writer. `seq` is FileCheck::ack_seq (0 writes 000000);
  // `processed` is written to the second (UTC).
  AckWriter(std::ostream* out, absl::string_view partner, int64_t seq,
            absl::Time processed);

  AckWriter(const AckWriter&) = delete;
  AckWriter& operator=(const AckWriter&) = delete;

  // `R,<rec>,ACCEPTED,,<miles>`: `miles` redeemable miles credited.
  void AddAccepted(int64_t record_number, int64_t miles);
  // `R,<rec>,REJECTED,<reason>,0`: `reason` as RecordVerdict::ReasonText()
  // ("INVALID_FIELD:class", "DUPLICATE_ACTIVITY").
  void AddRejected(int64_t record_number, absl::string_view reason);
  // A refused file: `E,<code>,<message>`. At most once, and not with R
  // lines (a broken invariant: aborts).
  void Refuse(v1::FileRefusalCode code, absl::string_view message);

  // Writes the trailer: `T,<count>,<accepted>,<rejected>,<miles>`, or
  // `T,0,0,0,0` after Refuse. Then flushes; an error of the stream is
  // returned as INTERNAL. Call once.
  absl::Status Finish();

  int64_t accepted() const { return accepted_; }
  int64_t rejected() const { return rejected_; }
  int64_t miles_credited() const { return miles_; }

 private:
  void Write(const std::string& line);

  std::ostream* out_;
  bool refused_ = false;
  bool finished_ = false;
  int64_t accepted_ = 0;
  int64_t rejected_ = 0;
  int64_t miles_ = 0;
};

// The whole acknowledgement of a refused file, as AckWriter writes it.
std::string RefusalAcknowledgement(absl::string_view partner, int64_t seq,
                                   absl::Time processed,
                                   v1::FileRefusalCode code,
                                   absl::string_view message);

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_ACK_FILE_H_
