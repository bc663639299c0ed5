// Writes a valid accrual file (partner-files.md section 1).
//
//   generate --partner=CA --seq=42 --records=1000 --out=CA_000042.acc.csv
//            (--members_file=FILE | --first_serial=N --serial_count=N)
//            [--airline=true] [--classes=FJY] [--family=Test]
//            [--created=2026-08-31T10:00:00Z] [--seed=1] [--crlf]
//
// --members_file: CSV lines member_number,family,given. Without it, members
// are the serial range, all with family name --family.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "bench/partnerfile/generator.h"
#include "libs/csv/csv.h"
#include "libs/validation/member_number.h"
#include "services/settlement/accrual_file.h"

namespace {

int Usage(const std::string& why) {
  std::cerr << "generate: " << why << "\n"
            << "usage: generate --partner=CA --seq=42 --records=N --out=FILE\n"
               "  (--members_file=FILE | --first_serial=N --serial_count=N)\n"
               "  [--airline=true|false] [--classes=FJY] [--family=Test]\n"
               "  [--created=YYYY-MM-DDTHH:MM:SSZ] [--seed=N] [--crlf]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::flat_hash_map<std::string, std::string> flags = {
      {"airline", "true"},   {"classes", "Y"},
      {"family", "Test"},    {"created", "2026-08-31T10:00:00Z"},
      {"seed", "1"},         {"crlf", "false"},
      {"serial_count", "1"},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) return Usage("unexpected " + arg);
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      flags[arg.substr(2)] = "true";
    } else {
      flags[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }
  mileagebank::partnerfile::GeneratorOptions options;
  options.partner = flags["partner"];
  options.airline = flags["airline"] == "true";
  options.booking_classes = flags["classes"];
  options.crlf = flags["crlf"] == "true";
  if (!absl::SimpleAtoi(flags["seq"], &options.seq)) return Usage("--seq");
  if (!absl::SimpleAtoi(flags["records"], &options.records)) {
    return Usage("--records");
  }
  if (!absl::SimpleAtoi(flags["seed"], &options.seed)) return Usage("--seed");
  absl::optional<absl::Time> created =
      mileagebank::settlement::ParseTimestamp(flags["created"]);
  if (!created.has_value()) return Usage("--created");
  options.created = *created;

  if (!flags["members_file"].empty()) {
    std::ifstream members(flags["members_file"], std::ios::binary);
    if (!members) return Usage("cannot read " + flags["members_file"]);
    mileagebank::csv::CsvReader reader(members);
    mileagebank::csv::CsvRecord record;
    while (reader.Next(&record)) {
      if (record.empty_line) continue;
      if (record.fields.size() < 2) return Usage("members_file: short line");
      options.members.push_back(
          {record.fields[0], record.fields[1],
           record.fields.size() > 2 ? record.fields[2] : ""});
    }
    if (!reader.error().empty()) return Usage(reader.error());
  } else {
    int64_t first = 0, count = 0;
    if (!absl::SimpleAtoi(flags["first_serial"], &first) ||
        !absl::SimpleAtoi(flags["serial_count"], &count) ||
        first < mileagebank::validation::kMinMemberSerial || count < 1 ||
        first + count - 1 > mileagebank::validation::kMaxMemberSerial) {
      return Usage("--first_serial/--serial_count");
    }
    options.members = mileagebank::partnerfile::MembersFromSerials(
        first, count, flags["family"]);
  }
  if (flags["out"].empty()) return Usage("--out");
  std::ofstream out(flags["out"], std::ios::binary | std::ios::trunc);
  if (!out) return Usage("cannot write " + flags["out"]);
  absl::Status written =
      mileagebank::partnerfile::GenerateAccrualFile(options, &out);
  if (!written.ok()) {
    std::cerr << "generate: " << written << "\n";
    return 1;
  }
  return 0;
}
