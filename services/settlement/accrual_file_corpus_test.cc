// Runs every testdata/<SENDER>-<what>.acc.csv through both passes and the
// acknowledgement writer, and compares the acknowledgement with
// testdata/<SENDER>-<what>.expected.ack.csv byte for byte.
//
// The facts the checks need are fixed here: the partners (CA, an active
// airline whose last accepted seq is 41; HILTON, an active hotel chain, last
// seq 6; ZZ, an inactive airline, last seq 3), the members below, the refs
// already credited, and small limits (20 D records, 64 KiB) so that a
// TOO_LARGE file fits in the corpus. AIR miles are a stand-in for the
// earning table: the great-circle distance, 0 for classes G, X and Z.
//
// To rewrite the expected files after a deliberate change:
//   MB_UPDATE_TESTDATA=1 bazel run
//   //services/settlement:accrual_file_corpus_test
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/validation/member_number.h"
#include "services/settlement/accrual_file.h"
#include "services/settlement/ack_file.h"

namespace mileagebank::settlement {
namespace {

constexpr char kTestdata[] = "services/settlement/testdata";

struct Partner {
  bool active;
  bool airline;
  int64_t last_accepted_seq;
};

const absl::flat_hash_map<std::string, Partner>& Partners() {
  static const auto* partners = new absl::flat_hash_map<std::string, Partner>{
      {"CA", {true, true, 41}},
      {"HILTON", {true, false, 6}},
      {"ZZ", {false, true, 3}},
  };
  return *partners;
}

struct Member {
  std::string family_name;
  membership::v1::MemberStatus status;
  int64_t merged_into;  // serial, when MERGED
};

// Serial -> member: 100000001 Li (ACTIVE), ...02 Wang (SUSPENDED),
// ...03 Zhang (CLOSED), ...04 Chen MERGED into ...05 MERGED into ...01.
const absl::flat_hash_map<int64_t, Member>& Members() {
  static const auto* members = new absl::flat_hash_map<int64_t, Member>{
      {100000001, {"Li", membership::v1::ACTIVE, 0}},
      {100000002, {"Wang", membership::v1::SUSPENDED, 0}},
      {100000003, {"Zhang", membership::v1::CLOSED, 0}},
      {100000004, {"Chen", membership::v1::MERGED, 100000005}},
      {100000005, {"Chen", membership::v1::MERGED, 100000001}},
  };
  return *members;
}

absl::optional<MemberFacts> LookUp(const std::string& number) {
  for (const auto& [serial, member] : Members()) {
    if (validation::MemberNumberFromSerial(serial) != number) continue;
    int64_t at = serial;
    while (Members().at(at).status == membership::v1::MERGED) {
      at = Members().at(at).merged_into;
    }
    MemberFacts facts;
    facts.member_number = validation::MemberNumberFromSerial(at);
    facts.family_name = Members().at(at).family_name;
    facts.status = Members().at(at).status;
    return facts;
  }
  return absl::nullopt;
}

absl::Time At(int y, int mo, int d, int h = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0),
                         absl::UTCTimeZone());
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The acknowledgement of `name` (<SENDER>-<what>.acc.csv in testdata).
std::string Process(const std::string& name) {
  const std::string path = absl::StrCat(kTestdata, "/", name);
  const std::string sender = name.substr(0, name.find('-'));
  const Partner& partner = Partners().at(sender);

  FileContext context;
  context.sender_partner = sender;
  context.partner_active = partner.active;
  context.last_accepted_seq = partner.last_accepted_seq;
  context.identical_to_accepted = [](int64_t) { return false; };
  context.received_at = At(2026, 8, 31, 12);
  context.max_records = 20;
  context.max_bytes = 64 << 10;
  const absl::Time processed = At(2026, 9, 1);

  std::ifstream pass1(path, std::ios::binary);
  FileCheck check = AccrualFileReader::CheckFile(pass1, context);
  std::ostringstream out;
  AckWriter ack(&out, sender, check.ack_seq, processed);
  if (!check.passed()) {
    ack.Refuse(check.code, check.message);
    EXPECT_TRUE(ack.Finish().ok());
    return out.str();
  }

  PartnerRules rules;
  rules.partner_code = sender;
  rules.is_airline = partner.airline;
  rules.booking_classes = {'F', 'J', 'Y', 'B', 'M'};
  // Refs credited by earlier files, and tickets credited by any path.
  absl::flat_hash_set<std::string> credited_refs = {"HTL-OLD-1"};
  absl::flat_hash_set<std::string> credited_tickets = {"9990000000001/1"};

  std::ifstream pass2(path, std::ios::binary);
  AccrualFileReader reader(pass2, rules);
  AccrualRecord record;
  while (reader.Next(&record)) {
    absl::optional<MemberFacts> member = LookUp(record.member_number);
    RecordVerdict verdict =
        JudgeRecord(record, member ? &*member : nullptr, *check.header);
    if (verdict.accepted_so_far() &&
        (credited_refs.contains(record.ref) ||
         (record.type == ActivityType::kAir &&
          credited_tickets.contains(record.ref)))) {
      verdict.reason = v1::DUPLICATE_ACTIVITY;
    }
    if (!verdict.accepted_so_far()) {
      ack.AddRejected(record.record_number, verdict.ReasonText());
      continue;
    }
    credited_refs.insert(record.ref);
    int64_t miles = record.miles;
    if (record.type == ActivityType::kAir) {
      credited_tickets.insert(record.ref);
      const airports::AirportTable& airports =
          airports::AirportTable::Builtin();
      miles =
          (record.booking_class == 'G' || record.booking_class == 'X' ||
           record.booking_class == 'Z')
              ? 0
              : airports::GreatCircleMiles(*airports.Find(record.origin),
                                           *airports.Find(record.destination));
    }
    ack.AddAccepted(record.record_number, miles);
  }
  EXPECT_TRUE(reader.status().ok()) << name << ": " << reader.status();
  EXPECT_TRUE(ack.Finish().ok());
  return out.str();
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> names;
  DIR* dir = opendir(kTestdata);
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (absl::EndsWith(name, ".acc.csv")) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(AccrualFileCorpusTest, EveryFileGetsItsExpectedAcknowledgement) {
  std::vector<std::string> names = CorpusFiles();
  ASSERT_GE(names.size(), 20u);
  const char* update = std::getenv("MB_UPDATE_TESTDATA");
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  for (const std::string& name : names) {
    const std::string base = name.substr(0, name.size() - strlen(".acc.csv"));
    const std::string expected_name = base + ".expected.ack.csv";
    std::string actual = Process(name);
    if (update != nullptr && workspace != nullptr) {
      std::ofstream(absl::StrCat(workspace, "/", kTestdata, "/", expected_name),
                    std::ios::binary)
          << actual;
      continue;
    }
    EXPECT_EQ(actual, Read(absl::StrCat(kTestdata, "/", expected_name)))
        << name;
  }
}

// Each whole-file code and each record code appears in the corpus.
TEST(AccrualFileCorpusTest, CorpusCoversEveryCode) {
  if (std::getenv("MB_UPDATE_TESTDATA") != nullptr) GTEST_SKIP();
  std::string all;
  for (const std::string& name : CorpusFiles()) {
    const std::string base = name.substr(0, name.size() - strlen(".acc.csv"));
    all += Read(absl::StrCat(kTestdata, "/", base, ".expected.ack.csv"));
  }
  for (int code = v1::FileRefusalCode_MIN + 1; code <= v1::FileRefusalCode_MAX;
       ++code) {
    std::string name =
        v1::FileRefusalCode_Name(static_cast<v1::FileRefusalCode>(code));
    EXPECT_TRUE(absl::StrContains(all, absl::StrCat("\nE,", name, ",")))
        << name;
  }
  for (int code = v1::RecordReasonCode_MIN + 1;
       code <= v1::RecordReasonCode_MAX; ++code) {
    std::string name =
        v1::RecordReasonCode_Name(static_cast<v1::RecordReasonCode>(code));
    EXPECT_TRUE(absl::StrContains(all, absl::StrCat(",REJECTED,", name)))
        << name;
  }
  for (const char* field :
       {"record", "member", "family", "given", "date", "type", "ref", "carrier",
        "flight", "from", "to", "class", "miles"}) {
    EXPECT_TRUE(absl::StrContains(
        all, absl::StrCat(",REJECTED,INVALID_FIELD:", field, ",")))
        << field;
  }
}

}  // namespace
}  // namespace mileagebank::settlement
