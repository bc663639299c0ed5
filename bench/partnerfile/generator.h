// Generates valid accrual files (partner-files.md section 1) of any size,
// for load tests and for seeding fuzzers: every record passes the
// whole-file checks and record check 1 for the given partner; whether it is
// credited depends on the members' names and statuses in the target system.
//
//   GeneratorOptions options;
//   options.partner = "CA";
//   options.seq = 42;
//   options.records = 1000;
//   options.members = {{"1000000016", "Li", "Wei"}};
//   absl::Status written = GenerateAccrualFile(options, &out);
//
// Streams: memory does not grow with `records`. The same options (seed
// included) give the same bytes. Thread-compatible.
#ifndef MILEAGEBANK_BENCH_PARTNERFILE_GENERATOR_H_
#define MILEAGEBANK_BENCH_PARTNERFILE_GENERATOR_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mileagebank::partnerfile {

struct GeneratedMember {
  std::string member_number;
  std::string family_name;
  std::string given_name;
};

struct GeneratorOptions {
  // The partner code (H partner; AIR carrier).
  std::string partner;
  // 1 to 999,999.
  int64_t seq = 1;
  // The H created timestamp; activity dates fall in the 150 days before it.
  absl::Time created = absl::UnixEpoch();
  // D records to write.
  int64_t records = 0;
  // An AIRLINE writes AIR records; any other partner HOTEL, CAR, CARD and
  // OTHER records. An AIR record's ticket number is three digits for the
  // partner, seq modulo 1000 and the record number: unique across 1000
  // consecutive files of up to 9,999,999 records.
  bool airline = true;
  // AIR booking classes to use (letters of the partner's earning table).
  std::string booking_classes = "Y";
  // The members the records are for, round robin in a shuffled order.
  // Required (at least one).
  std::vector<GeneratedMember> members;
  // Lines end in CRLF instead of LF.
  bool crlf = false;
  uint64_t seed = 1;
};

// Writes the file to `out`. INVALID_ARGUMENT for options that cannot give a
// valid file; INTERNAL when writing fails.
absl::Status GenerateAccrualFile(const GeneratorOptions& options,
                                 std::ostream* out);

// Members 1..count from serial `first_serial` on: their numbers, family name
// `family`, given name empty.
std::vector<GeneratedMember> MembersFromSerials(int64_t first_serial,
                                                int64_t count,
                                                const std::string& family);

}  // namespace mileagebank::partnerfile

#endif  // MILEAGEBANK_BENCH_PARTNERFILE_GENERATOR_H_
