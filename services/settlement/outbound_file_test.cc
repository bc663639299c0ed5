#include "services/settlement/outbound_file.h"

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank::settlement {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int m, int d, int hh, int mm, int ss) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}

v1::OutboundFlight Flight(const std::string& member, const std::string& family,
                          const std::string& given, const std::string& ticket,
                          int coupon, int number, int day,
                          const std::string& from, const std::string& to,
                          const std::string& booking) {
  v1::OutboundFlight flight;
  flight.set_partner_code("CA");
  flight.set_partner_member_number(member);
  flight.set_family_name(family);
  flight.set_given_name(given);
  flight.set_ticket_number(ticket);
  flight.set_coupon_number(coupon);
  flight.set_carrier("FM");
  flight.set_flight_number(number);
  flight.mutable_flight_date()->set_year(2026);
  flight.mutable_flight_date()->set_month(3);
  flight.mutable_flight_date()->set_day(day);
  flight.set_origin(from);
  flight.set_destination(to);
  flight.set_booking_class(booking);
  return flight;
}

std::vector<v1::OutboundFlight> TwoFlights() {
  return {Flight("CA000123456", "WANG", "XIAOMING", "7812345678901", 1, 9101, 1,
                 "PEK", "SHA", "Y"),
          Flight("ZZ9", "O-BRIEN", "", "7812345678902", 4, 7, 2, "SHA", "CAN",
                 "J")};
}

OutboundFileHeader Header() {
  return OutboundFileHeader{"FM", "CA", 42, Utc(2026, 3, 3, 1, 2, 3)};
}

std::string FieldOf(const absl::Status& status) {
  auto details = GetErrorDetails(status);
  if (!details.has_value() || details->field_violations().empty()) return "";
  return details->field_violations(0).field();
}

// ---------------------------------------------------------------------------
// Sending

TEST(OutboundFileNameTest, HostPartnerAndZeroPaddedSeq) {
  EXPECT_EQ(OutboundFileName("FM", "CA", 42), "FM_CA_000042.out.csv");
  EXPECT_EQ(OutboundFileName("FM", "MU", 999999), "FM_MU_999999.out.csv");
}

TEST(FormatOutboundFileTest, WritesTheFileExactly) {
  absl::StatusOr<std::string> file = FormatOutboundFile(Header(), TwoFlights());
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file,
            "H,FM,000042,2026-03-03T01:02:03Z,1\n"
            "D,1,CA000123456,WANG,XIAOMING,2026-03-01,AIR,7812345678901/1,FM,"
            "9101,PEK,SHA,Y,\n"
            "D,2,ZZ9,O-BRIEN,,2026-03-02,AIR,7812345678902/4,FM,7,SHA,CAN,J,\n"
            "T,2,0\n");
}

TEST(FormatOutboundFileTest, AnEmptyFileHasHeaderAndTrailerOnly) {
  absl::StatusOr<std::string> file = FormatOutboundFile(Header(), {});
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(*file, "H,FM,000042,2026-03-03T01:02:03Z,1\nT,0,0\n");
}

TEST(FormatOutboundFileTest, NonAsciiNamesAreCountedInCharacters) {
  std::vector<v1::OutboundFlight> flights = TwoFlights();
  flights[0].set_family_name("王");
  flights[0].set_given_name(std::string(40, 'A'));
  EXPECT_TRUE(FormatOutboundFile(Header(), flights).ok());
}

TEST(FormatOutboundFileTest, RefusesAnInvalidFlightNamingTheField) {
  struct Case {
    void (*change)(v1::OutboundFlight*);
    std::string field;
  };
  const Case cases[] = {
      {[](v1::OutboundFlight* f) { f->set_partner_code("MU"); },
       "flights[1].partner_code"},
      {[](v1::OutboundFlight* f) { f->set_partner_member_number(""); },
       "flights[1].partner_member_number"},
      {[](v1::OutboundFlight* f) {
         f->set_partner_member_number("A23456789012345678901");
       },
       "flights[1].partner_member_number"},
      {[](v1::OutboundFlight* f) { f->set_partner_member_number("ca1"); },
       "flights[1].partner_member_number"},
      {[](v1::OutboundFlight* f) { f->set_family_name(""); },
       "flights[1].family_name"},
      {[](v1::OutboundFlight* f) { f->set_family_name("WANG,LI"); },
       "flights[1].family_name"},
      {[](v1::OutboundFlight* f) { f->set_given_name(std::string(41, 'A')); },
       "flights[1].given_name"},
      {[](v1::OutboundFlight* f) { f->set_given_name("A\nB"); },
       "flights[1].given_name"},
      {[](v1::OutboundFlight* f) { f->set_ticket_number("781234567890"); },
       "flights[1].ticket_number"},
      {[](v1::OutboundFlight* f) { f->set_coupon_number(5); },
       "flights[1].coupon_number"},
      {[](v1::OutboundFlight* f) { f->set_carrier("CA"); },
       "flights[1].carrier"},
      {[](v1::OutboundFlight* f) { f->set_flight_number(10000); },
       "flights[1].flight_number"},
      {[](v1::OutboundFlight* f) { f->mutable_flight_date()->set_day(31); },
       "flights[1].flight_date"},
      {[](v1::OutboundFlight* f) {
         f->mutable_flight_date()->set_month(2);
         f->mutable_flight_date()->set_day(29);
       },
       "flights[1].flight_date"},
      {[](v1::OutboundFlight* f) { f->set_origin("sha"); },
       "flights[1].origin"},
      {[](v1::OutboundFlight* f) { f->set_destination("SHA"); },
       "flights[1].destination"},
      {[](v1::OutboundFlight* f) { f->set_booking_class("YY"); },
       "flights[1].booking_class"},
  };
  for (const Case& c : cases) {
    std::vector<v1::OutboundFlight> flights = TwoFlights();
    flights[1].mutable_flight_date()->set_month(4);  // 2026-04-02: valid.
    c.change(&flights[1]);
    absl::StatusOr<std::string> file = FormatOutboundFile(Header(), flights);
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument)
        << c.field;
    EXPECT_EQ(FieldOf(file.status()), c.field);
  }
}

TEST(FormatOutboundFileTest, RefusesABadHeader) {
  OutboundFileHeader header = Header();
  header.seq = 0;
  EXPECT_EQ(FieldOf(FormatOutboundFile(header, {}).status()), "header.seq");
  header.seq = 1000000;
  EXPECT_EQ(FieldOf(FormatOutboundFile(header, {}).status()), "header.seq");
  header = Header();
  header.host_code = "FMX";
  EXPECT_EQ(FieldOf(FormatOutboundFile(header, {}).status()),
            "header.host_code");
  header = Header();
  header.created = absl::InfinitePast();
  EXPECT_EQ(FieldOf(FormatOutboundFile(header, {}).status()), "header.created");
  header = Header();
  header.partner_code = "FM";
  EXPECT_EQ(FieldOf(FormatOutboundFile(header, {}).status()),
            "header.partner_code");
}

// ---------------------------------------------------------------------------
// Receiving

constexpr char kAckName[] = "FM_CA_000042.ack.csv";

constexpr char kGoodAck[] =
    "H,FM,000042,2026-03-04T05:06:07Z,1\n"
    "R,1,ACCEPTED,,1250\n"
    "R,2,REJECTED,INVALID_FIELD:member,0\n"
    "R,3,ACCEPTED,,0\n"
    "R,4,REJECTED,NAME_MISMATCH,0\n"
    "R,5,REJECTED,NO_SUCH_PROGRAMME_MEMBER,0\n"
    "T,5,2,3,1250\n";

absl::StatusOr<OutboundAcknowledgement> Parse(
    const std::string& bytes, const std::string& file_name = kAckName) {
  std::istringstream input(bytes);
  return ParseOutboundAcknowledgement("FM", "CA", file_name, input);
}

SentOutboundFile Sent(int64_t seq, int64_t records) {
  SentOutboundFile sent;
  sent.seq = seq;
  sent.record_count = records;
  return sent;
}

OutboundAckOutcome Read(const std::string& bytes,
                        absl::optional<SentOutboundFile> sent,
                        const std::string& file_name = kAckName) {
  std::istringstream input(bytes);
  return ReadOutboundAcknowledgement(
      "FM", "CA", file_name, input,
      [&sent](int64_t seq) -> absl::optional<SentOutboundFile> {
        if (sent.has_value() && sent->seq == seq) return sent;
        return absl::nullopt;
      });
}

TEST(OutboundAckFileNameTest, SplitsHostPartnerAndSeq) {
  absl::optional<OutboundAckFileName> name =
      ParseOutboundAckFileName("FM_CA_000042.ack.csv");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host_code, "FM");
  EXPECT_EQ(name->partner_code, "CA");
  EXPECT_EQ(name->seq, 42);
  EXPECT_FALSE(ParseOutboundAckFileName("FM_CA_42.ack.csv").has_value());
  EXPECT_FALSE(ParseOutboundAckFileName("CA_000042.ack.csv").has_value());
  EXPECT_FALSE(ParseOutboundAckFileName("FM_CA_000042.out.csv").has_value());
  EXPECT_FALSE(ParseOutboundAckFileName("fm_CA_000042.ack.csv").has_value());
  EXPECT_FALSE(
      ParseOutboundAckFileName("FM_CA_000042.dup.ack.csv").has_value());
}

TEST(ParseOutboundAcknowledgementTest, ReadsEachRecordsStatusAndMiles) {
  absl::StatusOr<OutboundAcknowledgement> ack = Parse(kGoodAck);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->seq, 42);
  EXPECT_EQ(ack->processed, Utc(2026, 3, 4, 5, 6, 7));
  EXPECT_FALSE(ack->file_refused());
  ASSERT_EQ(ack->records.size(), 5u);

  EXPECT_EQ(ack->records[0].record_number(), 1);
  EXPECT_EQ(ack->records[0].status(), v1::RECORD_ACCEPTED);
  EXPECT_EQ(ack->records[0].miles(), 1250);
  EXPECT_EQ(ack->records[0].reason(), "");

  EXPECT_EQ(ack->records[1].status(), v1::RECORD_REJECTED);
  EXPECT_EQ(ack->records[1].reason(), "INVALID_FIELD:member");
  EXPECT_EQ(ack->records[1].reason_code(), v1::INVALID_FIELD);
  EXPECT_EQ(ack->records[1].invalid_field(), "member");
  EXPECT_EQ(ack->records[1].miles(), 0);

  // Accepted, earning 0 (a class that earns nothing).
  EXPECT_EQ(ack->records[2].status(), v1::RECORD_ACCEPTED);
  EXPECT_EQ(ack->records[2].miles(), 0);

  EXPECT_EQ(ack->records[3].reason_code(), v1::NAME_MISMATCH);
  // A reason that is not one of the spec's codes is kept as written.
  EXPECT_EQ(ack->records[4].reason(), "NO_SUCH_PROGRAMME_MEMBER");
  EXPECT_EQ(ack->records[4].reason_code(), v1::RECORD_REASON_CODE_UNSPECIFIED);

  EXPECT_EQ(ack->count, 5);
  EXPECT_EQ(ack->accepted, 2);
  EXPECT_EQ(ack->rejected, 3);
  EXPECT_EQ(ack->total_miles_credited, 1250);
}

TEST(ParseOutboundAcknowledgementTest, AcceptsCrlfAQuotedReasonAndNoLastEnd) {
  absl::StatusOr<OutboundAcknowledgement> ack = Parse(
      "H,FM,000042,2026-03-04T05:06:07Z,1\r\n"
      "R,1,REJECTED,\"BAD, \"\"QUOTED\"\"\",0\n"
      "T,1,0,1,0",
      "");
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_EQ(ack->records.size(), 1u);
  EXPECT_EQ(ack->records[0].reason(), "BAD, \"QUOTED\"");
}

TEST(ParseOutboundAcknowledgementTest, ReadsThePartnersRefusalOfTheFile) {
  absl::StatusOr<OutboundAcknowledgement> ack = Parse(
      "H,FM,000042,2026-03-04T05:06:07Z,1\n"
      "E,TOTALS_MISMATCH,trailer count 3 but 2 D records\n"
      "T,0,0,0,0\n");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_TRUE(ack->file_refused());
  EXPECT_EQ(ack->file_refusal_code, v1::TOTALS_MISMATCH);
  EXPECT_EQ(ack->file_refusal_message, "trailer count 3 but 2 D records");
  EXPECT_TRUE(ack->records.empty());
}

TEST(ParseOutboundAcknowledgementTest, RefusesAnythingMalformed) {
  const std::string h = "H,FM,000042,2026-03-04T05:06:07Z,1\n";
  struct Case {
    std::string bytes;
    std::string file_name;
    std::string why;
  };
  const Case cases[] = {
      {"", kAckName, "empty file"},
      {"\xEF\xBB\xBF" + h + "T,0,0,0,0\n", kAckName, "byte-order mark"},
      {"H,CA,000042,2026-03-04T05:06:07Z,1\nT,0,0,0,0\n", kAckName,
       "H partner must be FM"},
      {"H,FM,42,2026-03-04T05:06:07Z,1\nT,0,0,0,0\n", "",
       "seq must be 6 digits"},
      {"H,FM,000042,2026-03-04 05:06:07Z,1\nT,0,0,0,0\n", kAckName,
       "processed"},
      {"H,FM,000042,2026-02-30T05:06:07Z,1\nT,0,0,0,0\n", kAckName,
       "processed"},
      {"H,FM,000042,2026-03-04T24:00:00Z,1\nT,0,0,0,0\n", kAckName,
       "processed"},
      {"H,FM,000042,2026-03-04T05:06:07Z,2\nT,0,0,0,0\n", kAckName, "version"},
      {"H,FM,000042,2026-03-04T05:06:07Z\nT,0,0,0,0\n", kAckName, "5 fields"},
      {"H,FM,000043,2026-03-04T05:06:07Z,1\nT,0,0,0,0\n", kAckName,
       "file name's SEQ"},
      {h + "T,0,0,0,0\n", "FM_MU_000042.ack.csv", "not of FM_CA"},
      {h + "T,0,0,0,0\n", "FM_CA_000042.csv", "is not <HOST>"},
      {h + "R,1,ACCEPTED,,100\n", kAckName, "no trailer"},
      {h + "R,1,ACCEPTED,,100\nT,1,1,0,100\n\n", kAckName, "after the trailer"},
      {h + "\nR,1,ACCEPTED,,100\nT,1,1,0,100\n", kAckName, "empty line"},
      {h + "R,2,ACCEPTED,,100\nT,1,1,0,100\n", kAckName,
       "record number must be 1"},
      {h + "R,01,ACCEPTED,,100\nT,1,1,0,100\n", kAckName,
       "record number must be 1"},
      {h + "R,1,ACCEPTED,,100\nR,1,ACCEPTED,,100\nT,2,2,0,200\n", kAckName,
       "record number must be 2"},
      {h + "R,1,accepted,,100\nT,1,1,0,100\n", kAckName, "R status"},
      {h + "R,1,ACCEPTED,X,100\nT,1,1,0,100\n", kAckName,
       "reason must be empty"},
      {h + "R,1,REJECTED,,0\nT,1,0,1,0\n", kAckName, "reason is required"},
      {h + "R,1,REJECTED,TOO_OLD,5\nT,1,0,1,5\n", kAckName, "miles must be 0"},
      {h + "R,1,ACCEPTED,,-5\nT,1,1,0,0\n", kAckName, "unsigned decimal"},
      {h + "R,1,ACCEPTED,,100\nT,1,1,0,99\n", kAckName, "T says"},
      {h + "R,1,ACCEPTED,,100\nT,1,0,1,100\n", kAckName, "T says"},
      {h + "R,1,ACCEPTED,,100,\nT,1,1,0,100\n", kAckName, "5 fields"},
      {h + "D,1,ACCEPTED,,100\nT,1,1,0,100\n", kAckName,
       "unexpected record type"},
      {h + "E,BAD_HEADER,x\nR,1,ACCEPTED,,100\nT,1,1,0,100\n", kAckName,
       "after an E line"},
      {h + "E,NOT_A_CODE,x\nT,0,0,0,0\n", kAckName, "not a file refusal"},
      {h + "E,BAD_HEADER,x\nT,1,0,0,0\n", kAckName, "T,0,0,0,0"},
      {h + "R,1,REJECTED,\"TOO_OLD,0\nT,1,0,1,0\n", kAckName, "bad quoting"},
      {h + "R,1,REJECTED,TOO_\xFF"
           "OLD,0\nT,1,0,1,0\n",
       kAckName, "not UTF-8"},
      {h + "T,0,0,0,0\r", kAckName, "T fields"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<OutboundAcknowledgement> ack = Parse(c.bytes, c.file_name);
    EXPECT_EQ(ack.status().code(), absl::StatusCode::kInvalidArgument) << c.why;
    EXPECT_THAT(ack.status().message(), HasSubstr(c.why));
  }
}

TEST(ReadOutboundAcknowledgementTest, MatchesTheFileSent) {
  OutboundAckOutcome outcome = Read(kGoodAck, Sent(42, 5));
  EXPECT_FALSE(outcome.refusal.has_value()) << outcome.refusal->message;
  EXPECT_FALSE(outcome.repeat);
  EXPECT_EQ(outcome.acknowledgement.seq, 42);
  EXPECT_EQ(outcome.acknowledgement.records.size(), 5u);
}

TEST(ReadOutboundAcknowledgementTest, MalformedIsRefusedWithTheReason) {
  OutboundAckOutcome outcome =
      Read("H,FM,000042,2026-03-04T05:06:07Z,1\n", Sent(42, 5));
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_MALFORMED);
  EXPECT_THAT(outcome.refusal->message, HasSubstr("no trailer"));
}

TEST(ReadOutboundAcknowledgementTest, UnknownSeqIsRefused) {
  OutboundAckOutcome outcome = Read(kGoodAck, Sent(41, 5));
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_UNKNOWN_FILE);
  EXPECT_THAT(outcome.refusal->message, HasSubstr("000042"));
  EXPECT_EQ(Read(kGoodAck, absl::nullopt).refusal->code, v1::ACK_UNKNOWN_FILE);
}

TEST(ReadOutboundAcknowledgementTest, CountMismatchIsRefused) {
  // Fewer R lines than records sent.
  OutboundAckOutcome outcome = Read(kGoodAck, Sent(42, 6));
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_COUNT_MISMATCH);

  // R lines right, trailer count wrong.
  const std::string wrong_count =
      "H,FM,000042,2026-03-04T05:06:07Z,1\n"
      "R,1,ACCEPTED,,1250\n"
      "T,2,1,0,1250\n";
  outcome = Read(wrong_count, Sent(42, 1));
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_COUNT_MISMATCH);

  // Trailer count right, R lines missing.
  outcome = Read(wrong_count, Sent(42, 2));
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_COUNT_MISMATCH);
}

TEST(ReadOutboundAcknowledgementTest, PartnersRefusalOfTheFileIsNotCounted) {
  OutboundAckOutcome outcome = Read(
      "H,FM,000042,2026-03-04T05:06:07Z,1\n"
      "E,BAD_HEADER,seq differs from the name\n"
      "T,0,0,0,0\n",
      Sent(42, 5));
  EXPECT_FALSE(outcome.refusal.has_value());
  EXPECT_TRUE(outcome.acknowledgement.file_refused());
  EXPECT_EQ(outcome.acknowledgement.file_refusal_code, v1::BAD_HEADER);
}

TEST(ReadOutboundAcknowledgementTest, IdenticalRepeatChangesNothing) {
  SentOutboundFile sent = Sent(42, 5);
  sent.recorded = *Parse(kGoodAck);
  // Written again later: only the processed timestamp differs.
  std::string again = kGoodAck;
  again.replace(again.find("05:06:07"), 8, "09:00:00");
  OutboundAckOutcome outcome = Read(again, sent);
  EXPECT_FALSE(outcome.refusal.has_value());
  EXPECT_TRUE(outcome.repeat);
}

TEST(ReadOutboundAcknowledgementTest, DifferentContentForAnAcknowledgedFile) {
  SentOutboundFile sent = Sent(42, 5);
  sent.recorded = *Parse(kGoodAck);
  std::string changed = kGoodAck;
  changed.replace(changed.find("R,1,ACCEPTED,,1250"), 18, "R,1,ACCEPTED,,1251");
  changed.replace(changed.find("T,5,2,3,1250"), 12, "T,5,2,3,1251");
  ASSERT_TRUE(Parse(changed).ok());
  OutboundAckOutcome outcome = Read(changed, sent);
  ASSERT_TRUE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.refusal->code, v1::ACK_CONFLICT);
  // Nothing to record on a refusal.
  EXPECT_TRUE(outcome.acknowledgement.records.empty());
}

TEST(MatchOutboundAcknowledgementTest, ChecksRunInOrder) {
  absl::StatusOr<OutboundAcknowledgement> ack = Parse(kGoodAck);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(MatchOutboundAcknowledgement(*ack, nullptr).refusal->code,
            v1::ACK_UNKNOWN_FILE);
  // A count mismatch is reported before a conflict.
  SentOutboundFile sent = Sent(42, 4);
  sent.recorded = OutboundAcknowledgement();
  EXPECT_EQ(MatchOutboundAcknowledgement(*ack, &sent).refusal->code,
            v1::ACK_COUNT_MISMATCH);
  sent.record_count = 5;
  EXPECT_EQ(MatchOutboundAcknowledgement(*ack, &sent).refusal->code,
            v1::ACK_CONFLICT);
  sent.recorded.reset();
  OutboundAckMatch match = MatchOutboundAcknowledgement(*ack, &sent);
  EXPECT_FALSE(match.refusal.has_value());
  EXPECT_FALSE(match.repeat);
}

TEST(RoundTripTest, AnAcknowledgementOfAFileWeWroteMatchesIt) {
  absl::StatusOr<std::string> file = FormatOutboundFile(Header(), TwoFlights());
  ASSERT_TRUE(file.ok());
  OutboundAckOutcome outcome = Read(
      "H,FM,000042,2026-03-04T00:00:00Z,1\n"
      "R,1,ACCEPTED,,1118\n"
      "R,2,REJECTED,MEMBER_NOT_FOUND,0\n"
      "T,2,1,1,1118\n",
      Sent(Header().seq, static_cast<int64_t>(TwoFlights().size())));
  EXPECT_FALSE(outcome.refusal.has_value());
  EXPECT_EQ(outcome.acknowledgement.records[1].reason_code(),
            v1::MEMBER_NOT_FOUND);
}

}  // namespace
}  // namespace mileagebank::settlement
