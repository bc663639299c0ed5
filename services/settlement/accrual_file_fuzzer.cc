// libFuzzer target for the accrual file reader: any bytes go through the
// whole-file checks; a file that passes is read record by record, judged and
// acknowledged. Besides not crashing or hanging, it checks that pass 2 reads
// exactly the records pass 1 counted, and that the checks are deterministic.
//
// Built with clang outside Bazel (Bazel's toolchain is gcc):
//   services/settlement/accrual_file_fuzz.sh [seconds]
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "services/settlement/accrual_file.h"
#include "services/settlement/ack_file.h"

namespace mileagebank::settlement {
namespace {

FileContext Context() {
  FileContext context;
  context.sender_partner = "CA";
  context.partner_active = true;
  context.last_accepted_seq = 41;
  context.received_at = absl::FromCivil(
      absl::CivilSecond(2026, 8, 31, 12, 0, 0), absl::UTCTimeZone());
  context.max_bytes = 1 << 20;
  context.max_records = 1000;
  context.max_record_bytes = 4096;
  return context;
}

void Fail(const char* why) {
  std::cerr << "accrual_file_fuzzer: " << why << "\n";
  std::abort();
}

}  // namespace
}  // namespace mileagebank::settlement

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mileagebank::settlement;  // NOLINT: a fuzz entry point.
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const FileContext context = Context();
  std::istringstream pass1(bytes);
  FileCheck check = AccrualFileReader::CheckFile(pass1, context);
  std::istringstream again(bytes);
  FileCheck repeat = AccrualFileReader::CheckFile(again, context);
  if (repeat.code != check.code || repeat.message != check.message) {
    Fail("CheckFile is not deterministic");
  }
  std::ostringstream ack_bytes;
  AckWriter ack(&ack_bytes, "CA", check.ack_seq, context.received_at);
  if (!check.passed()) {
    if (check.code ==
        mileagebank::settlement::v1::FILE_REFUSAL_CODE_UNSPECIFIED) {
      Fail("refused without a code");
    }
    ack.Refuse(check.code, check.message);
    ack.Finish().IgnoreError();
    return 0;
  }
  if (!check.header.has_value() || check.bytes_read != size) {
    Fail("passed without a header or without reading everything");
  }
  PartnerRules rules;
  rules.partner_code = "CA";
  rules.is_airline = true;
  rules.booking_classes = {'Y', 'J'};
  MemberFacts member;
  member.family_name = "Li";
  std::istringstream pass2(bytes);
  AccrualFileReader reader(pass2, rules, context.max_record_bytes);
  AccrualRecord record;
  int64_t count = 0;
  while (reader.Next(&record)) {
    ++count;
    if (record.record_number != count) Fail("record numbers out of order");
    RecordVerdict verdict = JudgeRecord(record, &member, *check.header);
    if (verdict.accepted_so_far()) {
      ack.AddAccepted(record.record_number, record.miles);
    } else {
      ack.AddRejected(record.record_number, verdict.ReasonText());
    }
  }
  if (!reader.status().ok()) Fail("pass 2 failed on a file pass 1 passed");
  if (count != check.record_count) Fail("pass 2 read another count");
  ack.Finish().IgnoreError();
  return 0;
}
