#include "services/settlement/ack_file.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/csv/csv.h"
#include "services/settlement/accrual_file.h"

namespace mileagebank::settlement {

std::string FormatAckSeq(int64_t seq) { return absl::StrFormat("%06d", seq); }

std::string AckFileName(absl::string_view partner, int64_t seq, bool refused,
                        bool name_taken_by_accepted) {
  return absl::StrCat(partner, "_", FormatAckSeq(seq),
                      refused && name_taken_by_accepted ? ".dup" : "",
                      ".ack.csv");
}

AckWriter::AckWriter(std::ostream* out, absl::string_view partner, int64_t seq,
                     absl::Time processed)
    : out_(out) {
  Write(csv::FormatRecord({"H", std::string(partner), FormatAckSeq(seq),
                           FormatTimestamp(processed), "1"}));
}

void AckWriter::Write(const std::string& line) {
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
}

void AckWriter::AddAccepted(int64_t record_number, int64_t miles) {
  if (refused_ || finished_) {
    std::cerr << "AckWriter: a record after Refuse or Finish\n";
    std::abort();
  }
  ++accepted_;
  miles_ += miles;
  Write(absl::StrCat("R,", record_number, ",ACCEPTED,,", miles, "\n"));
}

void AckWriter::AddRejected(int64_t record_number, absl::string_view reason) {
  if (refused_ || finished_) {
    std::cerr << "AckWriter: a record after Refuse or Finish\n";
    std::abort();
  }
  ++rejected_;
  Write(csv::FormatRecord({"R", absl::StrCat(record_number), "REJECTED",
                           std::string(reason), "0"}));
}

void AckWriter::Refuse(v1::FileRefusalCode code, absl::string_view message) {
  if (refused_ || finished_ || accepted_ + rejected_ > 0) {
    std::cerr << "AckWriter: Refuse after records, Refuse or Finish\n";
    std::abort();
  }
  refused_ = true;
  Write(csv::FormatRecord(
      {"E", v1::FileRefusalCode_Name(code), std::string(message)}));
}

absl::Status AckWriter::Finish() {
  if (finished_) return absl::FailedPreconditionError("Finish called twice");
  finished_ = true;
  if (refused_) {
    Write("T,0,0,0,0\n");
  } else {
    Write(absl::StrCat("T,", accepted_ + rejected_, ",", accepted_, ",",
                       rejected_, ",", miles_, "\n"));
  }
  out_->flush();
  if (!*out_) {
    return absl::InternalError("writing the acknowledgement failed");
  }
  return absl::OkStatus();
}

std::string RefusalAcknowledgement(absl::string_view partner, int64_t seq,
                                   absl::Time processed,
                                   v1::FileRefusalCode code,
                                   absl::string_view message) {
  std::ostringstream out;
  AckWriter writer(&out, partner, seq, processed);
  writer.Refuse(code, message);
  writer.Finish().IgnoreError();
  return out.str();
}

}  // namespace mileagebank::settlement
