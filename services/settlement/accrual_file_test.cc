#include "services/settlement/accrual_file.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "libs/validation/member_number.h"

namespace mileagebank::settlement {
namespace {

using Outcome = FileCheck::Outcome;

const std::string kHeader = "H,CA,000042,2026-08-31T10:00:00Z,1\n";

FileContext Context() {
  FileContext context;
  context.sender_partner = "CA";
  context.partner_active = true;
  context.last_accepted_seq = 41;
  context.file_name = "CA_000042.acc.csv";
  context.received_at = absl::FromCivil(
      absl::CivilSecond(2026, 8, 31, 12, 0, 0), absl::UTCTimeZone());
  return context;
}

FileCheck Check(const std::string& bytes,
                const FileContext& context = Context()) {
  std::istringstream input(bytes);
  return AccrualFileReader::CheckFile(input, context);
}

std::string Member(int64_t serial = 100000001) {
  return validation::MemberNumberFromSerial(serial);
}

// The fields of a valid D record, record number `rec`.
std::vector<std::string> AirFields(int rec) {
  return {"D",      absl::StrCat(rec),
          Member(), "Li",
          "Wei",    "2026-08-01",
          "AIR",    "9991234567890/1",
          "CA",     "1501",
          "PEK",    "PVG",
          "Y",      ""};
}
std::vector<std::string> HotelFields(int rec, const std::string& miles) {
  return {"D",      absl::StrCat(rec),
          Member(), "Li",
          "Wei",    "2026-08-01",
          "HOTEL",  absl::StrCat("HTL-", rec),
          "",       "",
          "",       "",
          "",       miles};
}
std::string Line(const std::vector<std::string>& fields) {
  return absl::StrCat(absl::StrJoin(fields, ","), "\n");
}

PartnerRules AirlineRules() {
  PartnerRules rules;
  rules.partner_code = "CA";
  rules.is_airline = true;
  rules.booking_classes = {'F', 'J', 'Y', 'B'};
  return rules;
}

// A valid file: one AIR record and one HOTEL record of 500 miles.
std::string ValidFile() {
  return kHeader + Line(AirFields(1)) + Line(HotelFields(2, "500")) +
         "T,2,500\n";
}

// ---------------------------------------------------------------------------
// Whole-file checks, one per code.

TEST(CheckFileTest, ValidFilePasses) {
  FileCheck check = Check(ValidFile());
  EXPECT_EQ(check.outcome, Outcome::kPassed) << check.message;
  EXPECT_EQ(check.record_count, 2);
  ASSERT_TRUE(check.header.has_value());
  EXPECT_EQ(check.header->partner, "CA");
  EXPECT_EQ(check.header->seq, 42);
  EXPECT_EQ(check.ack_seq, 42);
  EXPECT_EQ(check.bytes_read, ValidFile().size());
}

TEST(CheckFileTest, EmptyFileWithTrailerIsAccepted) {
  FileCheck check = Check(kHeader + "T,0,0\n");
  EXPECT_TRUE(check.passed()) << check.message;
  EXPECT_EQ(check.record_count, 0);
}

TEST(CheckFileTest, UnsupportedVersion) {
  FileCheck check = Check("H,CA,000042,2026-08-31T10:00:00Z,2\nT,0,0\n");
  EXPECT_EQ(check.code, v1::UNSUPPORTED_VERSION);
  EXPECT_EQ(check.ack_seq, 42);  // From the file name: the header is invalid.
  // At least five fields: a sixth does not matter, a bad partner neither.
  EXPECT_EQ(Check("H,c,x,y,2,extra\n").code, v1::UNSUPPORTED_VERSION);
  EXPECT_EQ(Check("H,CA,000042,2026-08-31T10:00:00Z,\n").code,
            v1::UNSUPPORTED_VERSION);
  // Fewer than five fields: BAD_HEADER.
  EXPECT_EQ(Check("H,CA,000042,2\n").code, v1::BAD_HEADER);
  // A lone CR is content: the version is "1\r".
  EXPECT_EQ(Check("H,CA,000042,2026-08-31T10:00:00Z,1\rT,0,0\n").code,
            v1::UNSUPPORTED_VERSION);
}

TEST(CheckFileTest, BadHeaderCases) {
  FileContext context = Context();
  context.file_name.reset();
  const std::vector<std::string> bad = {
      "",                                                         // empty file
      "\xEF\xBB\xBFH,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",  // BOM
      "\nH,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",  // empty first line
      "D,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",    // not H
      "h,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",    // lower case
      "H,CA,000042,2026-08-31T10:00:00Z\nT,0,0\n",      // 4 fields
      "H,CA,000042,2026-08-31T10:00:00Z,1,\nT,0,0\n",   // 6 fields
      "H,C,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",     // partner too short
      "H,ca,000042,2026-08-31T10:00:00Z,1\nT,0,0\n",    // partner lower case
      "H,CA,0000042,2026-08-31T10:00:00Z,1\nT,0,0\n",   // seq 7 digits
      "H,CA,0,2026-08-31T10:00:00Z,1\nT,0,0\n",         // seq 0
      "H,CA,+42,2026-08-31T10:00:00Z,1\nT,0,0\n",       // seq sign
      "H,CA,42,2026-08-31 10:00:00Z,1\nT,0,0\n",        // created form
      "H,CA,42,2026-02-30T10:00:00Z,1\nT,0,0\n",        // no such day
      "H,CA,42,2026-08-31T24:00:00Z,1\nT,0,0\n",        // hour 24
      "H,CA,42,2026-09-01T12:00:01Z,1\nT,0,0\n",        // > 1 day after receipt
      "H,\"CA\"x,42,2026-08-31T10:00:00Z,1\nT,0,0\n",   // bad quoting
      "H,\"CA,42,2026-08-31T10:00:00Z,1\nT,0,0\n",      // quote to the end
      "H,CB,42,2026-08-31T10:00:00Z,1\nT,0,0\n",        // not the sender
  };
  for (const std::string& file : bad) {
    FileCheck check = Check(file, context);
    EXPECT_EQ(check.outcome, Outcome::kRefused) << absl::CHexEscape(file);
    EXPECT_EQ(check.code, v1::BAD_HEADER) << absl::CHexEscape(file);
    EXPECT_FALSE(check.message.empty());
  }
  // Exactly 1 day after receipt is fine; seq without zeros too; quoting too.
  EXPECT_TRUE(
      Check("H,CA,42,2026-09-01T12:00:00Z,1\nT,0,0\n", context).passed());
  EXPECT_TRUE(
      Check("\"H\",\"CA\",\"42\",2026-08-31T10:00:00Z,\"1\"\nT,0,0\n", context)
          .passed());
}

TEST(CheckFileTest, BadHeaderWhenNameSeqDiffers) {
  FileContext context = Context();
  context.file_name = "CA_000043.acc.csv";
  FileCheck check = Check(ValidFile(), context);
  EXPECT_EQ(check.code, v1::BAD_HEADER);
  EXPECT_EQ(check.ack_seq, 42);  // The header is valid: its seq.
  context.file_name = "whatever.csv";
  EXPECT_EQ(Check(ValidFile(), context).code, v1::BAD_HEADER);
}

TEST(CheckFileTest, AckSeqFallsBackToNameThenZero) {
  FileContext context = Context();
  EXPECT_EQ(Check("garbage\n", context).ack_seq, 42);
  context.file_name.reset();
  EXPECT_EQ(Check("garbage\n", context).ack_seq, 0);
}

TEST(CheckFileTest, PartnerInactive) {
  FileContext context = Context();
  context.partner_active = false;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::PARTNER_INACTIVE);
  // BAD_HEADER comes first.
  EXPECT_EQ(Check("H,CA\n", context).code, v1::BAD_HEADER);
}

TEST(CheckFileTest, DuplicateFile) {
  FileContext context = Context();
  context.last_accepted_seq = 42;
  context.identical_to_accepted = [](int64_t) { return false; };
  EXPECT_EQ(Check(ValidFile(), context).code, v1::DUPLICATE_FILE);
  context.last_accepted_seq = 50;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::DUPLICATE_FILE);
  context.identical_to_accepted = [](int64_t seq) { return seq == 42; };
  FileCheck check = Check(ValidFile(), context);
  EXPECT_EQ(check.outcome, Outcome::kIdenticalToAccepted);
  EXPECT_EQ(check.code, v1::FILE_REFUSAL_CODE_UNSPECIFIED);
  // PARTNER_INACTIVE comes first.
  context.partner_active = false;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::PARTNER_INACTIVE);
}

TEST(CheckFileTest, SequenceGap) {
  FileContext context = Context();
  context.last_accepted_seq = 40;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::SEQUENCE_GAP);
  context.last_accepted_seq = 0;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::SEQUENCE_GAP);
  // The first file of a partner is seq 1.
  context.file_name = "CA_000001.acc.csv";
  EXPECT_TRUE(
      Check("H,CA,1,2026-08-31T10:00:00Z,1\nT,0,0\n", context).passed());
}

TEST(CheckFileTest, TooLargeByBytes) {
  FileContext context = Context();
  context.max_bytes = ValidFile().size() - 1;
  EXPECT_EQ(Check(ValidFile(), context).code, v1::TOO_LARGE);
  context.max_bytes = ValidFile().size();
  EXPECT_TRUE(Check(ValidFile(), context).passed());
}

TEST(CheckFileTest, TooLargeByRecords) {
  FileContext context = Context();
  context.max_records = 1;
  // Decided while reading: the trailer is never looked at.
  EXPECT_EQ(
      Check(kHeader + Line(AirFields(1)) + Line(AirFields(2)), context).code,
      v1::TOO_LARGE);
  context.max_records = 2;
  EXPECT_TRUE(Check(ValidFile(), context).passed());
}

TEST(CheckFileTest, TooLargeRecord) {
  FileContext context = Context();
  context.max_record_bytes = 64;
  std::vector<std::string> fields = HotelFields(1, "1");
  fields[3] = std::string(100, 'A');
  EXPECT_EQ(Check(kHeader + Line(fields) + "T,1,1\n", context).code,
            v1::TOO_LARGE);
}

TEST(CheckFileTest, BadTrailerCases) {
  const std::vector<std::string> bad = {
      kHeader,                                     // no trailer
      kHeader + Line(AirFields(1)),                // truncated
      kHeader + Line(AirFields(1)) + "T,1,0\n\n",  // empty line after T
      kHeader + "T,0,0\r\n\r\n",                   // CRLF empty line
      kHeader + "T,0,0\n\r",                       // a lone CR line
      kHeader + "T,0\n",                           // 2 fields
      kHeader + "T,0,0,0\n",                       // 4 fields
      kHeader + "T,x,0\n",                         // count not a number
      kHeader + "T,0,-1\n",                        // total not a number
      kHeader + "T,0,0\r",                         // lone CR is content
      kHeader + "D,1,\"abc\nT,1,0\n",              // quote to the end
      kHeader + "T,0,0\nX\n",                      // other type last
      kHeader + "T,0,0\nH,CA,42,2026-08-31T10:00:00Z,1\n",
      kHeader + "T,0,\"0\"x\n",  // bad quoting in T
  };
  for (const std::string& file : bad) {
    FileCheck check = Check(file);
    EXPECT_EQ(check.code, v1::BAD_TRAILER) << absl::CHexEscape(file);
  }
}

TEST(CheckFileTest, BadRecordOrderCases) {
  const std::vector<std::string> bad = {
      kHeader + "\n" + Line(AirFields(1)) + "T,1,0\n",  // empty
      kHeader + "\r\n" + "T,0,0\n",                     // CRLF empty
      kHeader + "T,0,0\nT,0,0\n",                       // T twice
      kHeader + kHeader + "T,0,0\n",                    // H twice
      kHeader + "X,1\nT,0,0\n",                         // other type
      kHeader + "d,1\nT,0,0\n",                         // lower case
      kHeader + Line(AirFields(2)) + "T,1,0\n",         // starts at 2
      kHeader + Line(AirFields(0)) + "T,1,0\n",         // 0
      kHeader + "D\nT,1,0\n",                           // missing
      kHeader + "D,\nT,1,0\n",                          // empty
      kHeader + Line(AirFields(1)) + Line(AirFields(1)) + "T,2,0\n",  // repeat
      kHeader + Line(AirFields(1)) + Line(AirFields(3)) + "T,2,0\n",  // gap
      kHeader + "D,01\nT,1,0\n",          // leading 0
      kHeader + "D,+1\nT,1,0\n",          // sign
      kHeader + "D, 1\nT,1,0\n",          // space
      kHeader + "D,1,\"x\"y,z\nT,1,0\n",  // bad quoting
      kHeader + "D,1,a\"b\nT,1,0\n",      // quote inside
  };
  for (const std::string& file : bad) {
    FileCheck check = Check(file);
    EXPECT_EQ(check.code, v1::BAD_RECORD_ORDER) << absl::CHexEscape(file);
  }
  // A quoted record number is still plain decimal.
  EXPECT_TRUE(Check(kHeader + "D,\"1\"\nT,1,0\n").passed());
}

TEST(CheckFileTest, TotalsMismatch) {
  EXPECT_EQ(Check(kHeader + Line(AirFields(1)) + "T,2,0\n").code,
            v1::TOTALS_MISMATCH);
  EXPECT_EQ(Check(kHeader + Line(HotelFields(1, "500")) + "T,1,501\n").code,
            v1::TOTALS_MISMATCH);
  // Leading zeros in the trailer compare by value.
  EXPECT_TRUE(
      Check(kHeader + Line(HotelFields(1, "500")) + "T,01,0500\n").passed());
}

TEST(CheckFileTest, TotalCountsOnlyNumericMilesOfNonAirRecords) {
  std::vector<std::string> air_with_miles = AirFields(2);
  air_with_miles[13] = "700";  // AIR: adds 0 (and is INVALID_FIELD:miles).
  std::vector<std::string> short_record = {"D", "4", "9"};  // not 14 fields
  std::string file = kHeader + Line(HotelFields(1, "0100")) +
                     Line(air_with_miles) + Line(HotelFields(3, "abc")) +
                     Line(short_record) + Line(HotelFields(5, "-5")) +
                     Line(HotelFields(6, "999999999999999999999")) +
                     Line(HotelFields(7, "")) + Line(HotelFields(8, "0")) +
                     "T,8,1000000000000000000099\n";
  FileCheck check = Check(file);
  EXPECT_TRUE(check.passed()) << check.message;
  // Type "XYZ" is not AIR: its number counts.
  std::vector<std::string> other = HotelFields(1, "7");
  other[6] = "XYZ";
  EXPECT_TRUE(Check(kHeader + Line(other) + "T,1,7\n").passed());
}

// ---------------------------------------------------------------------------
// Ordering between the whole-file codes.

TEST(CheckFileTest, OrderBetweenCodes) {
  FileContext context = Context();
  // UNSUPPORTED_VERSION before BAD_HEADER (a bad partner, not the sender).
  EXPECT_EQ(Check("H,zz,x,y,9\n").code, v1::UNSUPPORTED_VERSION);
  // BAD_HEADER before PARTNER_INACTIVE.
  context.partner_active = false;
  EXPECT_EQ(Check("H,CB,42,2026-08-31T10:00:00Z,1\nT,0,0\n", context).code,
            v1::BAD_HEADER);
  context = Context();
  // SEQUENCE_GAP before TOO_LARGE and BAD_TRAILER.
  context.last_accepted_seq = 10;
  context.max_bytes = 10;
  EXPECT_EQ(Check(kHeader, context).code, v1::SEQUENCE_GAP);
  context = Context();
  // TOO_LARGE before BAD_TRAILER.
  context.max_records = 1;
  EXPECT_EQ(
      Check(kHeader + Line(AirFields(1)) + Line(AirFields(2)), context).code,
      v1::TOO_LARGE);
  // BAD_TRAILER before BAD_RECORD_ORDER.
  EXPECT_EQ(Check(kHeader + "\n" + Line(AirFields(5)) + "T,1,0\n\n").code,
            v1::BAD_TRAILER);
  // BAD_RECORD_ORDER before TOTALS_MISMATCH.
  EXPECT_EQ(Check(kHeader + Line(AirFields(2)) + "T,7,7\n").code,
            v1::BAD_RECORD_ORDER);
}

// ---------------------------------------------------------------------------
// Line ends and quoting.

TEST(CheckFileTest, MixedLineEndsAndNoFinalLineEnd) {
  std::string file = "H,CA,000042,2026-08-31T10:00:00Z,1\r\n" +
                     absl::StrJoin(AirFields(1), ",") + "\n" +
                     absl::StrJoin(HotelFields(2, "5"), ",") + "\r\n" + "T,2,5";
  FileCheck check = Check(file);
  EXPECT_TRUE(check.passed()) << check.message;
  EXPECT_EQ(check.record_count, 2);
  EXPECT_TRUE(Check(kHeader + "T,0,0\r\n").passed());
}

TEST(CheckFileTest, LoneCrIsContent) {
  // "H...,1\r" + "T,0,0": one line whose version is "1\rT" -> not 1.
  EXPECT_EQ(Check("H,CA,000042,2026-08-31T10:00:00Z,1\rT,0,0\n").code,
            v1::UNSUPPORTED_VERSION);
  // A lone CR in a D line is content of a field, not a line end.
  std::vector<std::string> fields = HotelFields(1, "5");
  fields[4] = "We\ri";
  EXPECT_TRUE(Check(kHeader + Line(fields) + "T,1,5\n").passed());
}

TEST(CheckFileTest, QuotedFieldsWithCommasAndLineBreaks) {
  std::string file = kHeader + "D,1," + Member() +
                     ",\"O'Brien, Jr\",\"Line\nbreak \"\"x\"\"\",2026-08-01,"
                     "HOTEL,H1,,,,,,\"500\"\n"
                     "T,1,500\n";
  FileCheck check = Check(file);
  EXPECT_TRUE(check.passed()) << check.message;
}

// ---------------------------------------------------------------------------
// Pass 2 and the record checks.

std::vector<AccrualRecord> ReadAll(const std::string& file,
                                   const PartnerRules& rules) {
  std::istringstream input(file);
  AccrualFileReader reader(input, rules);
  std::vector<AccrualRecord> records;
  AccrualRecord record;
  while (reader.Next(&record)) records.push_back(record);
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  return records;
}

TEST(AccrualFileReaderTest, ReadsRecordsInOrder) {
  std::vector<AccrualRecord> records = ReadAll(ValidFile(), AirlineRules());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].valid()) << records[0].invalid_field;
  EXPECT_EQ(records[0].record_number, 1);
  EXPECT_EQ(records[0].line, 2);
  EXPECT_EQ(records[0].type, ActivityType::kAir);
  EXPECT_EQ(records[0].ticket_number, "9991234567890");
  EXPECT_EQ(records[0].coupon_number, 1);
  EXPECT_EQ(records[0].flight_number, 1501);
  EXPECT_EQ(records[0].origin, "PEK");
  EXPECT_EQ(records[0].destination, "PVG");
  EXPECT_EQ(records[0].booking_class, 'Y');
  EXPECT_EQ(records[0].date, absl::CivilDay(2026, 8, 1));
  EXPECT_TRUE(records[1].valid()) << records[1].invalid_field;
  EXPECT_EQ(records[1].type, ActivityType::kHotel);
  EXPECT_EQ(records[1].miles, 500);
  EXPECT_EQ(records[1].ref, "HTL-2");
}

TEST(AccrualFileReaderTest, ChangedStreamIsDataLoss) {
  std::istringstream input(kHeader + Line(AirFields(1)));
  AccrualFileReader reader(input, AirlineRules());
  AccrualRecord record;
  EXPECT_TRUE(reader.Next(&record));
  EXPECT_FALSE(reader.Next(&record));
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
}

std::string InvalidField(std::vector<std::string> fields,
                         const PartnerRules& rules = AirlineRules()) {
  return ParseAccrualRecord(fields, rules).invalid_field;
}

TEST(ParseAccrualRecordTest, ValidRecordsHaveNoInvalidField) {
  EXPECT_EQ(InvalidField(AirFields(1)), "");
  EXPECT_EQ(InvalidField(HotelFields(1, "1")), "");
  EXPECT_EQ(InvalidField(HotelFields(1, "100000")), "");
  EXPECT_EQ(InvalidField(HotelFields(1, "0000100000")), "");
  for (const char* type : {"CAR", "CARD", "OTHER"}) {
    std::vector<std::string> fields = HotelFields(1, "7");
    fields[6] = type;
    EXPECT_EQ(InvalidField(fields), "") << type;
  }
  std::vector<std::string> fields = AirFields(1);
  fields[4] = "";  // given may be empty
  fields[9] = "0007";
  for (const char* booking_class : {"G", "X", "Z", "F"}) {
    fields[12] = booking_class;
    EXPECT_EQ(InvalidField(fields), "") << booking_class;
  }
  fields = HotelFields(1, "7");
  fields[3] = "Müller-Lüdenscheidt";
  fields[7] = "Aa0-_/.";
  EXPECT_EQ(InvalidField(fields), "");
  fields[7] = std::string(32, 'r');
  EXPECT_EQ(InvalidField(fields), "");
  // Names may hold any character: a line break, a lone CR, a comma.
  fields[3] = "Li\r\n, \x01";
  fields[4] = "\xF0\x9F\x98\x80";
  EXPECT_EQ(InvalidField(fields), "");
}

TEST(ParseAccrualRecordTest, WrongFieldCountIsRecord) {
  std::vector<std::string> fields = AirFields(1);
  fields.push_back("");
  EXPECT_EQ(InvalidField(fields), "record");
  fields.resize(13);
  EXPECT_EQ(InvalidField(fields), "record");
  EXPECT_EQ(InvalidField({"D", "1"}), "record");
}

struct FieldCase {
  std::string field;
  int index;
  std::string value;
  bool air;
};

TEST(ParseAccrualRecordTest, EachFieldNamed) {
  const std::vector<FieldCase> cases = {
      {"member", 2, "", true},
      {"member", 2, "1000000010", true},  // Luhn
      {"member", 2, "12345", true},
      {"family", 3, "", true},
      {"family", 3, "   ", true},
      {"family", 3, "Li\xE0\x80\x80", true},  // overlong
      {"family", 3, "\xC3\x28", true},        // invalid UTF-8
      {"given", 4, "W\xFF", true},
      {"given", 4, "\xED\xA0\x80", true},  // surrogate
      {"date", 5, "2026-02-30", true},
      {"date", 5, "2026-8-1", true},
      {"date", 5, "", true},
      {"type", 6, "air", true},
      {"type", 6, "", true},
      {"type", 6, "FLIGHT", false},
      {"ref", 7, "9991234567890/5", true},
      {"ref", 7, "9991234567890/0", true},
      {"ref", 7, "999123456789/1", true},
      {"ref", 7, "9991234567890-1", true},
      {"ref", 7, "9991234567890/12", true},
      {"ref", 7, "", false},
      {"ref", 7, std::string(33, 'r'), false},
      {"ref", 7, "a b", false},
      {"ref", 7, "a+b", false},
      {"carrier", 8, "MU", true},
      {"carrier", 8, "", true},
      {"carrier", 8, "CA", false},
      {"flight", 9, "0", true},
      {"flight", 9, "0000", true},
      {"flight", 9, "12345", true},
      {"flight", 9, "", true},
      {"flight", 9, "12a", true},
      {"flight", 9, "1", false},
      {"from", 10, "pek", true},
      {"from", 10, "QQQ", true},  // not in the table
      {"from", 10, "", true},
      {"from", 10, "PEK", false},
      {"to", 11, "PEK", true},  // equal to from
      {"to", 11, "QQQ", true},
      {"to", 11, "PV", true},
      {"to", 11, "PVG", false},
      {"class", 12, "Q", true},  // not in the table
      {"class", 12, "y", true},
      {"class", 12, "YY", true},
      {"class", 12, "", true},
      {"class", 12, "1", true},
      {"class", 12, "Y", false},
      {"miles", 13, "100", true},  // AIR: must be empty
      {"miles", 13, "", false},
      {"miles", 13, "0", false},
      {"miles", 13, "100001", false},
      {"miles", 13, "-5", false},
      {"miles", 13, "1.5", false},
      {"miles", 13, " 5", false},
  };
  for (const FieldCase& c : cases) {
    std::vector<std::string> fields =
        c.air ? AirFields(1) : HotelFields(1, "5");
    fields[c.index] = c.value;
    EXPECT_EQ(InvalidField(fields), c.field)
        << c.field << " " << absl::CHexEscape(c.value) << (c.air ? " AIR" : "");
  }
}

TEST(ParseAccrualRecordTest, LeftmostFieldIsNamed) {
  std::vector<std::string> fields = AirFields(1);
  fields[12] = "Q";
  fields[9] = "0";
  fields[5] = "bad";
  EXPECT_EQ(InvalidField(fields), "date");
  fields[5] = "2026-08-01";
  EXPECT_EQ(InvalidField(fields), "flight");
}

TEST(ParseAccrualRecordTest, AirFromNonAirlineIsType) {
  PartnerRules hotel;
  hotel.partner_code = "HILTON";
  std::vector<std::string> fields = AirFields(1);
  fields[8] = "HILTON";
  EXPECT_EQ(InvalidField(fields, hotel), "type");
  fields[7] = "bad ref";  // Right of type: type still named.
  EXPECT_EQ(InvalidField(fields, hotel), "type");
}

TEST(ParseAccrualRecordTest, OwnAirportTable) {
  absl::StatusOr<airports::AirportTable> table = airports::AirportTable::Parse(
      "iata,name,city,country,latitude,longitude\n"
      "AAA,A,A,CN,1,1\nBBB,B,B,CN,2,2\n");
  ASSERT_TRUE(table.ok()) << table.status();
  PartnerRules rules = AirlineRules();
  rules.airports = &*table;
  EXPECT_EQ(InvalidField(AirFields(1), rules), "from");
  std::vector<std::string> fields = AirFields(1);
  fields[10] = "AAA";
  fields[11] = "BBB";
  EXPECT_EQ(InvalidField(fields, rules), "");
}

AccrualHeader Header() {
  AccrualHeader header;
  header.partner = "CA";
  header.seq = 42;
  header.created = absl::FromCivil(absl::CivilSecond(2026, 8, 31, 23, 59, 59),
                                   absl::UTCTimeZone());
  return header;
}

MemberFacts Facts(
    membership::v1::MemberStatus status = membership::v1::ACTIVE) {
  MemberFacts facts;
  facts.member_number = Member(100000002);  // merged into
  facts.family_name = "LI";
  facts.status = status;
  return facts;
}

AccrualRecord Record(const std::string& date = "2026-08-01",
                     const std::string& family = "Li") {
  std::vector<std::string> fields = HotelFields(1, "5");
  fields[5] = date;
  fields[3] = family;
  return ParseAccrualRecord(fields, AirlineRules());
}

TEST(JudgeRecordTest, AcceptedSoFarNamesTheMergedMember) {
  MemberFacts facts = Facts();
  RecordVerdict verdict = JudgeRecord(Record(), &facts, Header());
  EXPECT_TRUE(verdict.accepted_so_far());
  EXPECT_EQ(verdict.ReasonText(), "");
  EXPECT_EQ(verdict.member_number, Member(100000002));
}

TEST(JudgeRecordTest, EachReasonCode) {
  MemberFacts facts = Facts();
  std::vector<std::string> fields = HotelFields(1, "0");
  RecordVerdict verdict =
      JudgeRecord(ParseAccrualRecord(fields, AirlineRules()), &facts, Header());
  EXPECT_EQ(verdict.reason, v1::INVALID_FIELD);
  EXPECT_EQ(verdict.ReasonText(), "INVALID_FIELD:miles");

  EXPECT_EQ(JudgeRecord(Record(), nullptr, Header()).ReasonText(),
            "MEMBER_NOT_FOUND");
  EXPECT_EQ(
      JudgeRecord(Record("2026-08-01", "Lee"), &facts, Header()).ReasonText(),
      "NAME_MISMATCH");
  MemberFacts suspended = Facts(membership::v1::SUSPENDED);
  MemberFacts closed = Facts(membership::v1::CLOSED);
  EXPECT_EQ(JudgeRecord(Record(), &suspended, Header()).reason,
            v1::MEMBER_INACTIVE);
  EXPECT_EQ(JudgeRecord(Record(), &closed, Header()).ReasonText(),
            "MEMBER_INACTIVE");
  EXPECT_EQ(JudgeRecord(Record("2026-09-01"), &facts, Header()).ReasonText(),
            "FUTURE_DATE");
  EXPECT_TRUE(
      JudgeRecord(Record("2026-08-31"), &facts, Header()).accepted_so_far());
  EXPECT_EQ(JudgeRecord(Record("2026-02-27"), &facts, Header()).ReasonText(),
            "TOO_OLD");
}

TEST(JudgeRecordTest, NameComparisonIgnoresCaseSpacesHyphens) {
  MemberFacts facts = Facts();
  facts.family_name = "van der Berg-Smit";
  EXPECT_TRUE(
      JudgeRecord(Record("2026-08-01", "VANDERBERG SMIT"), &facts, Header())
          .accepted_so_far());
  EXPECT_EQ(
      JudgeRecord(Record("2026-08-01", "VANDERBERGSMITH"), &facts, Header())
          .reason,
      v1::NAME_MISMATCH);
}

TEST(JudgeRecordTest, OrderOfRecordChecks) {
  MemberFacts suspended = Facts(membership::v1::SUSPENDED);
  // INVALID_FIELD before MEMBER_NOT_FOUND.
  EXPECT_EQ(JudgeRecord(Record("bad"), nullptr, Header()).reason,
            v1::INVALID_FIELD);
  // MEMBER_NOT_FOUND before FUTURE_DATE.
  EXPECT_EQ(JudgeRecord(Record("2027-01-01"), nullptr, Header()).reason,
            v1::MEMBER_NOT_FOUND);
  // NAME_MISMATCH before MEMBER_INACTIVE.
  EXPECT_EQ(JudgeRecord(Record("2026-08-01", "X"), &suspended, Header()).reason,
            v1::NAME_MISMATCH);
  // MEMBER_INACTIVE before FUTURE_DATE and TOO_OLD.
  EXPECT_EQ(JudgeRecord(Record("2027-01-01"), &suspended, Header()).reason,
            v1::MEMBER_INACTIVE);
  EXPECT_EQ(JudgeRecord(Record("2020-01-01"), &suspended, Header()).reason,
            v1::MEMBER_INACTIVE);
}

TEST(EarliestActivityDateTest, ClampsToMonthEnd) {
  EXPECT_EQ(EarliestActivityDate(absl::CivilDay(2026, 8, 31)),
            absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(EarliestActivityDate(absl::CivilDay(2028, 8, 31)),
            absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(EarliestActivityDate(absl::CivilDay(2026, 8, 15)),
            absl::CivilDay(2026, 2, 15));
  EXPECT_EQ(EarliestActivityDate(absl::CivilDay(2026, 3, 31)),
            absl::CivilDay(2025, 9, 30));
  EXPECT_EQ(EarliestActivityDate(absl::CivilDay(2026, 1, 10)),
            absl::CivilDay(2025, 7, 10));
  MemberFacts facts = Facts();
  EXPECT_TRUE(
      JudgeRecord(Record("2026-02-28"), &facts, Header()).accepted_so_far());
  EXPECT_EQ(JudgeRecord(Record("2026-02-27"), &facts, Header()).reason,
            v1::TOO_OLD);
}

TEST(FileNameTest, Parse) {
  absl::optional<AccrualFileName> name =
      ParseAccrualFileName("CA_000042.acc.csv");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->partner, "CA");
  EXPECT_EQ(name->seq, 42);
  EXPECT_FALSE(ParseAccrualFileName("CA_42.acc.csv").has_value());
  EXPECT_FALSE(ParseAccrualFileName("CA_000000.acc.csv").has_value());
  EXPECT_FALSE(ParseAccrualFileName("ca_000042.acc.csv").has_value());
  EXPECT_FALSE(ParseAccrualFileName("CA_000042.ack.csv").has_value());
}

TEST(TimestampTest, ParseAndFormat) {
  absl::optional<absl::Time> time = ParseTimestamp("2026-08-31T10:00:00Z");
  ASSERT_TRUE(time.has_value());
  EXPECT_EQ(FormatTimestamp(*time), "2026-08-31T10:00:00Z");
  EXPECT_FALSE(ParseTimestamp("2026-08-31T10:00:00").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-08-31T10:00:60Z").has_value());
  EXPECT_FALSE(ParseTimestamp("0000-08-31T10:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-08-31t10:00:00Z").has_value());
}

}  // namespace
}  // namespace mileagebank::settlement
