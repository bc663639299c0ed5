#include "tools/mbctl/request_builder.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Command& CommandNamed(const char* name) {
  const Command* command = FindCommand("member", name);
  EXPECT_NE(command, nullptr) << name;
  return *command;
}

const Command& AccrualCommand(const char* name) {
  const Command* command = FindCommand("accrual", name);
  EXPECT_NE(command, nullptr) << name;
  return *command;
}

const Command& AwardCommand(const char* name) {
  const Command* command = FindCommand("award", name);
  EXPECT_NE(command, nullptr) << name;
  return *command;
}

const Command& SettlementCommand(const char* group, const char* name) {
  const Command* command = FindCommand(group, name);
  EXPECT_NE(command, nullptr) << group << " " << name;
  return *command;
}

// "FM1501 2026-12-01 PEK-PVG" for comparing segments.
std::string Describe(const redemption::v1::Segment& segment) {
  return absl::StrCat(segment.carrier(), segment.flight_number(), " ",
                      segment.flight_date().year(), "-",
                      segment.flight_date().month(), "-",
                      segment.flight_date().day(), " ", segment.origin(), "-",
                      segment.destination());
}

std::string WriteFile(const std::string& name, const std::string& content) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(BuildRequestTest, FlagsAndAliasesSetNestedFields) {
  membership::v1::EnrolRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                           {{"family", "Wang"},
                            {"profile.given_name", "Li"},
                            {"doc-type", "passport"},
                            {"doc-number", "E1234567"},
                            {"channel", "sales-office"},
                            {"profile.marketing_consent", std::nullopt},
                            {"profile.address.lines", "1 Road"},
                            {"profile.address.lines", "Block 2"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.profile().family_name(), "Wang");
  EXPECT_EQ(request.profile().given_name(), "Li");
  EXPECT_EQ(request.profile().identity_document().type(),
            membership::v1::PASSPORT);
  EXPECT_EQ(request.profile().identity_document().number(), "E1234567");
  EXPECT_EQ(request.actor().channel(), common::v1::SALES_OFFICE);
  EXPECT_TRUE(request.profile().marketing_consent());
  EXPECT_THAT(request.profile().address().lines(),
              ElementsAre("1 Road", "Block 2"));
}

TEST(BuildRequestTest, DateTakesYearMonthDay) {
  membership::v1::EnrolRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                           {{"birth", "1985-04-12"}}, &request)
                  .ok());
  EXPECT_EQ(request.profile().date_of_birth().year(), 1985);
  EXPECT_EQ(request.profile().date_of_birth().month(), 4);
  EXPECT_EQ(request.profile().date_of_birth().day(), 12);
}

TEST(BuildRequestTest, DateSubfieldsStaySettable) {
  membership::v1::EnrolRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                           {{"profile.date_of_birth.year", "1990"}}, &request)
                  .ok());
  EXPECT_EQ(request.profile().date_of_birth().year(), 1990);
}

TEST(BuildRequestTest, BadDatesAreRefusedNamingTheFlag) {
  for (const char* bad : {"1985-02-30", "12/04/1985", "1985-4-12", "1985-13-01",
                          "0000-01-01", ""}) {
    membership::v1::EnrolRequest request;
    absl::Status status = BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                                       {{"birth", bad}}, &request);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
    EXPECT_THAT(status.message(), HasSubstr("--birth="));
    EXPECT_THAT(status.message(), HasSubstr("YYYY-MM-DD"));
  }
}

TEST(BuildRequestTest, FieldMaskTakesCommaSeparatedPaths) {
  membership::v1::UpdateProfileRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("update"), std::nullopt, {"1000000008"},
                           {{"mask", "mobile_phone, email"},
                            {"update_mask", "address.city"},
                            {"profile.email", "a@example.com"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.member_number(), "1000000008");
  EXPECT_THAT(request.update_mask().paths(),
              ElementsAre("mobile_phone", "email", "address.city"));
  EXPECT_EQ(request.profile().email(), "a@example.com");
}

TEST(BuildRequestTest, EmptyFieldMaskIsRefused) {
  membership::v1::UpdateProfileRequest request;
  absl::Status status = BuildRequest(CommandNamed("update"), std::nullopt,
                                     {"1000000008"}, {{"mask", ","}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("--mask="));
}

TEST(BuildRequestTest, AtFileReadsStringAndBytesFields) {
  const std::string csv = WriteFile("members.csv", "family_name\nWang\n");
  const std::string password = WriteFile("password", "secret123");
  membership::v1::ImportMembersRequest import;
  ASSERT_TRUE(BuildRequest(CommandNamed("import"), std::nullopt, {},
                           {{"csv", "@" + csv}}, &import)
                  .ok());
  EXPECT_EQ(import.csv(), "family_name\nWang\n");

  membership::v1::EnrolRequest enrol;
  ASSERT_TRUE(BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                           {{"password", "@" + password},
                            {"profile.employer", "@@home"}},
                           &enrol)
                  .ok());
  EXPECT_EQ(enrol.password(), "secret123");
  EXPECT_EQ(enrol.profile().employer(), "@home");
}

TEST(BuildRequestTest, FilePositionalIsReadWithOrWithoutAt) {
  const std::string csv = WriteFile("import.csv", "a,b\n1,2\n");
  for (const std::string& argument : {csv, "@" + csv}) {
    membership::v1::ImportMembersRequest request;
    ASSERT_TRUE(BuildRequest(CommandNamed("import"), std::nullopt, {argument},
                             {}, &request)
                    .ok());
    EXPECT_EQ(request.csv(), "a,b\n1,2\n");
  }
}

TEST(BuildRequestTest, MissingFileIsRefused) {
  membership::v1::ImportMembersRequest request;
  absl::Status status =
      BuildRequest(CommandNamed("import"), std::nullopt,
                   {"/nonexistent/members.csv"}, {}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("FILE"));
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/members.csv"));
}

TEST(BuildRequestTest, PositionalsSetTheirFields) {
  membership::v1::ChangeStatusRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("status"), std::nullopt,
                           {"1000000008", "suspended"},
                           {{"reason", "FRAUD_REVIEW"}, {"operator", "OP7"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.member_number(), "1000000008");
  EXPECT_EQ(request.status(), membership::v1::SUSPENDED);
  EXPECT_EQ(request.reason(), "FRAUD_REVIEW");
  EXPECT_EQ(request.actor().operator_id(), "OP7");
}

TEST(BuildRequestTest, MissingPositionalIsRefusedUnlessAFlagSetsIt) {
  membership::v1::GetMemberRequest request;
  absl::Status status =
      BuildRequest(CommandNamed("get"), std::nullopt, {}, {}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("missing argument MEMBER_NUMBER"));

  EXPECT_TRUE(BuildRequest(CommandNamed("get"), std::nullopt, {},
                           {{"member_number", "1000000008"}}, &request)
                  .ok());
  EXPECT_TRUE(BuildRequest(CommandNamed("get"),
                           R"({"memberNumber": "1000000008"})", {}, {},
                           &request)
                  .ok());
}

TEST(BuildRequestTest, ExtraPositionalIsRefused) {
  membership::v1::GetMemberRequest request;
  absl::Status status = BuildRequest(CommandNamed("get"), std::nullopt,
                                     {"1000000008", "extra"}, {}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("\"extra\""));
}

TEST(BuildRequestTest, JsonRequestAppliesBeforeFlags) {
  membership::v1::GetTierRequest request;
  ASSERT_TRUE(BuildRequest(CommandNamed("tier"),
                           R"({"member_number": "1", "date": {"year": 2020}})",
                           {"1000000008"}, {{"date", "2024-05-01"}}, &request)
                  .ok());
  EXPECT_EQ(request.member_number(), "1000000008");
  EXPECT_EQ(request.date().year(), 2024);
  EXPECT_EQ(request.date().day(), 1);
}

TEST(BuildRequestTest, BadJsonIsRefused) {
  membership::v1::GetMemberRequest request;
  absl::Status status = BuildRequest(CommandNamed("get"), "{\"nope\": 1}",
                                     {"1000000008"}, {}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("--request"));
}

TEST(BuildRequestTest, UnknownFlagIsRefusedNamingIt) {
  membership::v1::GetMemberRequest request;
  absl::Status status = BuildRequest(CommandNamed("get"), std::nullopt,
                                     {"1000000008"}, {{"frob", "1"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("unknown flag --frob"));
}

TEST(BuildRequestTest, BadScalarValuesAreRefused) {
  membership::v1::RecordQualifyingActivityRequest request;
  absl::Status status =
      BuildRequest(CommandNamed("record-activity"), std::nullopt,
                   {"1000000008", "T1"}, {{"miles", "lots"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("qualifying_miles=lots"));
  EXPECT_THAT(status.message(), HasSubstr("given as --miles"));

  membership::v1::ChangeStatusRequest change;
  status = BuildRequest(CommandNamed("status"), std::nullopt,
                        {"1000000008", "ASLEEP"}, {}, &change);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("must be one of"));
  EXPECT_THAT(status.message(), HasSubstr("STATUS"));
}

TEST(BuildRequestTest, FlagWithoutValueIsRefusedUnlessBool) {
  membership::v1::EnrolRequest request;
  absl::Status status = BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                                     {{"family", std::nullopt}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("--family needs a value"));
}

TEST(BuildRequestTest, MessageFlagAsksForItsFields) {
  membership::v1::UpdateProfileRequest request;
  absl::Status status =
      BuildRequest(CommandNamed("update"), std::nullopt, {"1000000008"},
                   {{"profile", "x"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("--profile.<field>"));
}

TEST(BuildRequestTest, DurationTakesUnitsOrSeconds) {
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : std::vector<Case>{{"90s", 90, 0},
                                         {"15m", 900, 0},
                                         {"72h", 259200, 0},
                                         {"1h30m", 5400, 0},
                                         {"250ms", 0, 250000000},
                                         {"3600", 3600, 0},
                                         {"1.5", 1, 500000000},
                                         {"0", 0, 0},
                                         {"-2.5s", -2, -500000000}}) {
    accrual::v1::CreateHoldRequest request;
    absl::Status status =
        BuildRequest(AccrualCommand("hold"), std::nullopt,
                     {"1000000008", "5000"}, {{"ttl", c.text}}, &request);
    ASSERT_TRUE(status.ok()) << c.text << ": " << status;
    EXPECT_EQ(request.ttl().seconds(), c.seconds) << c.text;
    EXPECT_EQ(request.ttl().nanos(), c.nanos) << c.text;
  }
}

TEST(BuildRequestTest, DurationSubfieldsStaySettable) {
  accrual::v1::CreateHoldRequest request;
  ASSERT_TRUE(BuildRequest(AccrualCommand("hold"), std::nullopt,
                           {"1000000008", "5000"}, {{"ttl.seconds", "120"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.ttl().seconds(), 120);
}

TEST(BuildRequestTest, BadDurationsAreRefusedNamingTheFlag) {
  for (const char* bad :
       {"soon", "15x", "3d", "", "inf", "1h-", "1e3", "400000000000s"}) {
    accrual::v1::CreateHoldRequest request;
    absl::Status status =
        BuildRequest(AccrualCommand("hold"), std::nullopt,
                     {"1000000008", "5000"}, {{"ttl", bad}}, &request);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
    EXPECT_THAT(status.message(), HasSubstr("--ttl=")) << bad;
  }
}

TEST(BuildRequestTest, OptionalPositionalMayBeLeftOut) {
  accrual::v1::VerifyLedgerRequest all;
  ASSERT_TRUE(
      BuildRequest(AccrualCommand("verify"), std::nullopt, {}, {}, &all).ok());
  EXPECT_EQ(all.member_number(), "");

  accrual::v1::VerifyLedgerRequest one;
  ASSERT_TRUE(BuildRequest(AccrualCommand("verify"), std::nullopt,
                           {"1000000008"}, {}, &one)
                  .ok());
  EXPECT_EQ(one.member_number(), "1000000008");

  absl::Status extra = BuildRequest(AccrualCommand("verify"), std::nullopt,
                                    {"1000000008", "extra"}, {}, &one);
  EXPECT_TRUE(absl::IsInvalidArgument(extra));
  EXPECT_THAT(extra.message(), HasSubstr("\"extra\""));
}

TEST(BuildRequestTest, ReverseTakesAnIdOrAFlightIdentity) {
  accrual::v1::ReverseCreditRequest by_id;
  ASSERT_TRUE(BuildRequest(AccrualCommand("reverse"), std::nullopt, {"T42"},
                           {{"reason", "FRAUD"}, {"note", "card chargeback"}},
                           &by_id)
                  .ok());
  EXPECT_EQ(by_id.transaction_id(), "T42");
  EXPECT_EQ(by_id.reason_code(), "FRAUD");
  EXPECT_EQ(by_id.note(), "card chargeback");

  accrual::v1::ReverseCreditRequest by_flight;
  ASSERT_TRUE(BuildRequest(AccrualCommand("reverse"), std::nullopt, {},
                           {{"ticket", "7812345678901"},
                            {"coupon", "2"},
                            {"reason", "TICKET_REFUNDED"}},
                           &by_flight)
                  .ok());
  EXPECT_EQ(by_flight.flight_identity().ticket_number(), "7812345678901");
  EXPECT_EQ(by_flight.flight_identity().coupon_number(), 2);
}

TEST(BuildRequestTest, FlightAliasesFillTheFlight) {
  accrual::v1::PostOwnFlightRequest request;
  ASSERT_TRUE(BuildRequest(AccrualCommand("post-flight"), std::nullopt,
                           {"1000000008"},
                           {{"ticket", "7812345678901"},
                            {"coupon", "1"},
                            {"carrier", "FM"},
                            {"flight", "9101"},
                            {"date", "2026-03-15"},
                            {"from", "PEK"},
                            {"to", "SHA"},
                            {"class", "Y"},
                            {"channel", "system"},
                            {"office", "PEK01"},
                            {"operator", "OP7"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.member_number(), "1000000008");
  EXPECT_EQ(request.flight_identity().ticket_number(), "7812345678901");
  EXPECT_EQ(request.flight_identity().coupon_number(), 1);
  EXPECT_EQ(request.flight().carrier(), "FM");
  EXPECT_EQ(request.flight().flight_number(), 9101);
  EXPECT_EQ(request.flight().flight_date().year(), 2026);
  EXPECT_EQ(request.flight().flight_date().day(), 15);
  EXPECT_EQ(request.flight().origin(), "PEK");
  EXPECT_EQ(request.flight().destination(), "SHA");
  EXPECT_EQ(request.flight().booking_class(), "Y");
  EXPECT_EQ(request.actor().channel(), common::v1::SYSTEM);
  EXPECT_EQ(request.actor().office_code(), "PEK01");
  EXPECT_EQ(request.actor().operator_id(), "OP7");
}

TEST(BuildRequestTest, AccrualPositionalsSetTheirFields) {
  accrual::v1::AdjustMilesRequest adjust;
  ASSERT_TRUE(BuildRequest(AccrualCommand("adjust"), std::nullopt,
                           {"1000000008", "-500"},
                           {{"reason", "GOODWILL"}, {"request-id", "r-1"}},
                           &adjust)
                  .ok());
  EXPECT_EQ(adjust.miles(), -500);
  EXPECT_EQ(adjust.reason_code(), "GOODWILL");
  EXPECT_EQ(adjust.request_id(), "r-1");

  accrual::v1::TransferMilesRequest transfer;
  ASSERT_TRUE(BuildRequest(AccrualCommand("transfer"), std::nullopt,
                           {"1000000008", "1000000016", "2500"}, {}, &transfer)
                  .ok());
  EXPECT_EQ(transfer.from_member_number(), "1000000008");
  EXPECT_EQ(transfer.to_member_number(), "1000000016");
  EXPECT_EQ(transfer.miles(), 2500);

  accrual::v1::RunExpiryRequest expiry;
  ASSERT_TRUE(BuildRequest(AccrualCommand("expire"), std::nullopt,
                           {"2026-04-01"}, {}, &expiry)
                  .ok());
  EXPECT_EQ(expiry.run_date().month(), 4);

  accrual::v1::GetStatementRequest statement;
  ASSERT_TRUE(BuildRequest(AccrualCommand("statement"), std::nullopt,
                           {"1000000008"},
                           {{"from", "2026-01-01"},
                            {"type", "own_flight"},
                            {"type", "REVERSAL"},
                            {"page-size", "20"}},
                           &statement)
                  .ok());
  EXPECT_EQ(statement.from_date().year(), 2026);
  EXPECT_THAT(statement.types(),
              ElementsAre(accrual::v1::OWN_FLIGHT, accrual::v1::REVERSAL));
  EXPECT_EQ(statement.page().page_size(), 20);

  accrual::v1::ListLotsRequest lots;
  ASSERT_TRUE(BuildRequest(AccrualCommand("lots"), std::nullopt, {"1000000008"},
                           {{"all", std::nullopt}}, &lots)
                  .ok());
  EXPECT_TRUE(lots.include_empty());
}

TEST(SetRequestFieldTest, TimestampTakesRfc3339) {
  membership::v1::Member member;
  ASSERT_TRUE(SetRequestField(&member, "enrolled_at", "2024-05-01T08:00:00.5Z",
                              "--enrolled_at")
                  .ok());
  EXPECT_EQ(member.enrolled_at().seconds(), 1714550400);
  EXPECT_EQ(member.enrolled_at().nanos(), 500000000);
  EXPECT_FALSE(
      SetRequestField(&member, "enrolled_at", "yesterday", "--enrolled_at")
          .ok());
}

TEST(SetRequestFieldTest, PathIntoAListAddsOneElementPerFlag) {
  membership::v1::Member member;
  ASSERT_TRUE(SetRequestField(&member, "nominees.family_name", "Li",
                              "--nominees.family_name")
                  .ok());
  ASSERT_TRUE(SetRequestField(&member, "nominees.date_of_birth", "1990-02-03",
                              "--nominees.date_of_birth")
                  .ok());
  ASSERT_EQ(member.nominees_size(), 2);
  EXPECT_EQ(member.nominees(0).family_name(), "Li");
  EXPECT_FALSE(member.nominees(0).has_date_of_birth());
  EXPECT_EQ(member.nominees(1).family_name(), "");
  EXPECT_EQ(member.nominees(1).date_of_birth().month(), 2);
}

TEST(SetRequestFieldTest, ErrorsNameTheWholePath) {
  membership::v1::EnrolRequest request;
  absl::Status status = BuildRequest(CommandNamed("enrol"), std::nullopt, {},
                                     {{"doc-type", "frob"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(),
              HasSubstr("--profile.identity_document.type=frob: must be one "
                        "of"));
  EXPECT_THAT(status.message(), HasSubstr("(given as --doc-type)"));
}

TEST(BuildRequestTest, AwardQuoteTakesFlights) {
  redemption::v1::QuoteAwardRequest request;
  absl::Status status = BuildRequest(AwardCommand("quote"), std::nullopt, {},
                                     {{"type", "round-trip"},
                                      {"out", "FM1501/2026-12-01/PEK-PVG"},
                                      {"out", "fm0015/2026-12-02/pvg-can"},
                                      {"in", "3U8888/2026-12-08/CAN-PEK"},
                                      {"cabin", "business"},
                                      {"passengers", "2"}},
                                     &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.itinerary().journey_type(), redemption::v1::ROUND_TRIP);
  ASSERT_EQ(request.itinerary().outbound().segments_size(), 2);
  EXPECT_EQ(Describe(request.itinerary().outbound().segments(0)),
            "FM1501 2026-12-1 PEK-PVG");
  EXPECT_EQ(Describe(request.itinerary().outbound().segments(1)),
            "FM15 2026-12-2 PVG-CAN");
  ASSERT_EQ(request.itinerary().inbound().segments_size(), 1);
  EXPECT_EQ(Describe(request.itinerary().inbound().segments(0)),
            "3U8888 2026-12-8 CAN-PEK");
  EXPECT_EQ(request.cabin(), redemption::v1::BUSINESS);
  EXPECT_EQ(request.passengers(), 2);
}

TEST(BuildRequestTest, SegmentFlagsAddToARequestJson) {
  redemption::v1::QuoteAwardRequest request;
  ASSERT_TRUE(BuildRequest(AwardCommand("quote"),
                           R"({"itinerary": {"outbound": {"segments": [
                        {"carrier": "FM", "flightNumber": 1,
                         "origin": "PEK", "destination": "SHA"}]}}})",
                           {}, {{"out", "FM2/2026-12-01/SHA-CAN"}}, &request)
                  .ok());
  ASSERT_EQ(request.itinerary().outbound().segments_size(), 2);
  EXPECT_EQ(request.itinerary().outbound().segments(0).flight_number(), 1);
  EXPECT_EQ(request.itinerary().outbound().segments(1).flight_number(), 2);
}

TEST(BuildRequestTest, SegmentOfASingularFieldIsReplaced) {
  redemption::v1::QuoteUpgradeRequest request;
  ASSERT_TRUE(BuildRequest(AwardCommand("quote-upgrade"), std::nullopt, {},
                           {{"flight", "FM1/2026-12-01/PEK-SHA"},
                            {"flight", "FM1501/2026-12-03/PEK-PVG"},
                            {"passengers", "1"}},
                           &request)
                  .ok());
  EXPECT_EQ(Describe(request.segment()), "FM1501 2026-12-3 PEK-PVG");
  EXPECT_EQ(request.passengers(), 1);
}

TEST(BuildRequestTest, BadSegmentsAreRefusedNamingTheFlag) {
  struct Case {
    std::string value;
    std::string problem;
  };
  for (const Case& c : std::vector<Case>{
           {"FM1501/2026-12-01", "must be a flight CARRIER+NUMBER/"},
           {"FM1501/2026-12-01/PEK-PVG/SHA", "must be a flight"},
           {"", "must be a flight"},
           {"FM/2026-12-01/PEK-PVG", "\"FM\" is not a carrier and flight"},
           {"FM15011/2026-12-01/PEK-PVG", "\"FM15011\" is not a carrier"},
           {"FM-1501/2026-12-01/PEK-PVG", "\"FM-1501\" is not a carrier"},
           {"FM1501/2026-02-30/PEK-PVG", "\"2026-02-30\" is not a calendar"},
           {"FM1501/01-12-2026/PEK-PVG", "\"01-12-2026\" is not a calendar"},
           {"FM1501/2026-12-01/PEKPVG", "\"PEKPVG\" is not FROM-TO"},
           {"FM1501/2026-12-01/PEK-PV1", "\"PEK-PV1\" is not FROM-TO"},
           {"FM1501/2026-12-01/PEK-PVGX", "\"PEK-PVGX\" is not FROM-TO"},
       }) {
    redemption::v1::QuoteAwardRequest request;
    absl::Status status = BuildRequest(AwardCommand("quote"), std::nullopt, {},
                                       {{"out", c.value}}, &request);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.value;
    EXPECT_THAT(status.message(), HasSubstr("--out=" + c.value + ": "));
    EXPECT_THAT(status.message(), HasSubstr(c.problem)) << c.value;
    EXPECT_THAT(status.message(), HasSubstr("e.g. FM1501/2026-12-01/PEK-PVG"));
    EXPECT_EQ(request.itinerary().outbound().segments_size(), 0);
  }
  redemption::v1::QuoteAwardRequest request;
  absl::Status bare = BuildRequest(AwardCommand("quote"), std::nullopt, {},
                                   {{"in", std::nullopt}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(bare));
  EXPECT_THAT(bare.message(),
              HasSubstr("--in needs a value: --in=CARRIER+NUMBER/"));
}

TEST(BuildRequestTest, RedeemTakesAJourneyAndPassengersInOrder) {
  redemption::v1::CreateRedemptionRequest request;
  absl::Status status =
      BuildRequest(AwardCommand("redeem"), std::nullopt, {"1000000008"},
                   {{"type", "one_way"},
                    {"out", "FM1501/2026-12-01/PEK-PVG"},
                    {"cabin", "economy"},
                    {"nominee", "N-2"},
                    {"member-passenger", std::nullopt},
                    {"passengers.nominee_id", "N-7"},
                    {"password", "secret123"},
                    {"request-id", "r-1"},
                    {"channel", "call-centre"},
                    {"office", "PEK01"},
                    {"operator", "OP7"}},
                   &request);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(request.member_number(), "1000000008");
  ASSERT_TRUE(request.has_standard());
  EXPECT_EQ(request.standard().itinerary().journey_type(),
            redemption::v1::ONE_WAY);
  ASSERT_EQ(request.standard().itinerary().outbound().segments_size(), 1);
  EXPECT_EQ(Describe(request.standard().itinerary().outbound().segments(0)),
            "FM1501 2026-12-1 PEK-PVG");
  EXPECT_EQ(request.standard().cabin(), redemption::v1::ECONOMY);
  ASSERT_EQ(request.passengers_size(), 3);
  EXPECT_EQ(request.passengers(0).nominee_id(), "N-2");
  EXPECT_EQ(request.passengers(1).who_case(),
            redemption::v1::Passenger::kMember);
  EXPECT_TRUE(request.passengers(1).member());
  EXPECT_EQ(request.passengers(2).nominee_id(), "N-7");
  EXPECT_EQ(request.member_password(), "secret123");
  EXPECT_EQ(request.request_id(), "r-1");
  EXPECT_EQ(request.actor().channel(), common::v1::CALL_CENTRE);
  EXPECT_EQ(request.actor().office_code(), "PEK01");
  EXPECT_EQ(request.actor().operator_id(), "OP7");
}

TEST(BuildRequestTest, RedeemAnUpgradeWithTicketsFromJson) {
  redemption::v1::CreateRedemptionRequest request;
  absl::Status status = BuildRequest(
      AwardCommand("redeem"),
      R"({"upgrade": {"tickets": [{"ticketNumber": "7812345678901",
                                   "couponNumber": 1}]}})",
      {"1000000008"},
      {{"upgrade", "FM1501/2026-12-01/PEK-PVG"}, {"member-passenger", "true"}},
      &request);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_TRUE(request.has_upgrade());
  EXPECT_EQ(Describe(request.upgrade().segment()), "FM1501 2026-12-1 PEK-PVG");
  ASSERT_EQ(request.upgrade().tickets_size(), 1);
  EXPECT_EQ(request.upgrade().tickets(0).ticket_number(), "7812345678901");
  ASSERT_EQ(request.passengers_size(), 1);
  EXPECT_TRUE(request.passengers(0).member());
}

TEST(BuildRequestTest, BadValueInAListAddsNothing) {
  redemption::v1::CreateRedemptionRequest request;
  absl::Status status =
      BuildRequest(AwardCommand("redeem"), std::nullopt, {"1000000008"},
                   {{"member-passenger", "yes"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(),
              HasSubstr("--passengers.member=yes: must be true or false"));
  EXPECT_THAT(status.message(), HasSubstr("(given as --member-passenger)"));
  EXPECT_EQ(request.passengers_size(), 0);
}

TEST(BuildRequestTest, AwardSeatsAndRedemptionCommands) {
  redemption::v1::GetAwardSeatsRequest seats;
  ASSERT_TRUE(BuildRequest(AwardCommand("seats"), std::nullopt,
                           {"1501", "2026-12-01"}, {}, &seats)
                  .ok());
  EXPECT_EQ(seats.flight_number(), 1501);
  EXPECT_EQ(seats.flight_date().day(), 1);

  redemption::v1::SetAwardSeatCapacityRequest capacity;
  ASSERT_TRUE(BuildRequest(AwardCommand("set-seats"), std::nullopt,
                           {"1501", "2026-12-01", "business"},
                           {{"capacity", "6"}, {"operator", "OP7"}}, &capacity)
                  .ok());
  EXPECT_EQ(capacity.cabin(), redemption::v1::BUSINESS);
  EXPECT_EQ(capacity.capacity(), 6);
  EXPECT_EQ(capacity.actor().operator_id(), "OP7");

  redemption::v1::SetAwardSeatCapacityRequest reset;
  ASSERT_TRUE(BuildRequest(AwardCommand("set-seats"), std::nullopt,
                           {"1501", "2026-12-01", "FIRST"},
                           {{"reset", std::nullopt}}, &reset)
                  .ok());
  EXPECT_EQ(reset.setting_case(),
            redemption::v1::SetAwardSeatCapacityRequest::kResetToDefault);

  redemption::v1::IssueRedemptionRequest issue;
  ASSERT_TRUE(BuildRequest(AwardCommand("issue"), std::nullopt, {"R-1"},
                           {{"ticket", "7810000000001"},
                            {"ticket", "7810000000002"},
                            {"channel", "web"}},
                           &issue)
                  .ok());
  EXPECT_EQ(issue.redemption_id(), "R-1");
  EXPECT_THAT(issue.award_ticket_numbers(),
              ElementsAre("7810000000001", "7810000000002"));
  EXPECT_EQ(issue.actor().channel(), common::v1::WEB);

  redemption::v1::RefundRedemptionRequest refund;
  ASSERT_TRUE(BuildRequest(AwardCommand("refund"), std::nullopt, {"R-1"},
                           {{"reason", "ILLNESS"}}, &refund)
                  .ok());
  EXPECT_EQ(refund.reason(), "ILLNESS");

  redemption::v1::ListRedemptionsRequest list;
  ASSERT_TRUE(BuildRequest(AwardCommand("list"), std::nullopt, {"1000000008"},
                           {{"state", "held"},
                            {"state", "ISSUED"},
                            {"page-size", "10"},
                            {"page-token", "abc"}},
                           &list)
                  .ok());
  EXPECT_THAT(list.states(),
              ElementsAre(redemption::v1::HELD, redemption::v1::ISSUED));
  EXPECT_EQ(list.page().page_size(), 10);
  EXPECT_EQ(list.page().page_token(), "abc");
}

TEST(BuildRequestTest, PartnerAddTakesPricesAndAnEarningTable) {
  settlement::v1::RegisterPartnerRequest request;
  ASSERT_TRUE(BuildRequest(SettlementCommand("partner", "add"), std::nullopt,
                           {"CA"},
                           {{"name", "Air China"},
                            {"type", "airline"},
                            {"currency", "CNY"},
                            {"sale-price", "CNY:1250"},
                            {"award-price", "CNY:900"},
                            {"purchase-price", "CNY:1100"},
                            {"class", "F:150,J:125"},
                            {"class", "Y:100"},
                            {"minimum", "0"},
                            {"operator", "OP7"}},
                           &request)
                  .ok());
  const settlement::v1::Partner& partner = request.partner();
  EXPECT_EQ(partner.partner_code(), "CA");
  EXPECT_EQ(partner.type(), settlement::v1::AIRLINE);
  EXPECT_EQ(partner.currency_code(), "CNY");
  EXPECT_EQ(partner.contract().mile_sale_price().currency_code(), "CNY");
  EXPECT_EQ(partner.contract().mile_sale_price().minor_units(), 1250);
  EXPECT_EQ(partner.contract().award_price().minor_units(), 900);
  EXPECT_EQ(partner.contract().mile_purchase_price().minor_units(), 1100);
  std::vector<std::string> table;
  for (const settlement::v1::ClassEarningRate& rate :
       partner.contract().earning_table()) {
    table.push_back(absl::StrCat(rate.booking_class(), rate.percent()));
  }
  EXPECT_THAT(table, ElementsAre("F150", "J125", "Y100"));
  EXPECT_EQ(request.actor().operator_id(), "OP7");
}

TEST(BuildRequestTest, APriceGivenTwiceIsReplaced) {
  settlement::v1::RegisterPartnerRequest request;
  ASSERT_TRUE(BuildRequest(
                  SettlementCommand("partner", "add"), std::nullopt, {"HILTON"},
                  {{"sale-price", "USD:100"}, {"sale-price", "USD:-250"}},
                  &request)
                  .ok());
  EXPECT_EQ(request.partner().contract().mile_sale_price().minor_units(), -250);
}

TEST(BuildRequestTest, BadPartsAreRefusedNamingTheFlagAndTheirForm) {
  struct Case {
    const char* flag;
    const char* value;
    const char* form;
  };
  for (const Case& c : std::vector<Case>{
           {"sale-price", "1250", "CURRENCY_CODE:MINOR_UNITS"},
           {"sale-price", "CNY:12.50", "CURRENCY_CODE:MINOR_UNITS"},
           {"sale-price", "CNY:", "CURRENCY_CODE:MINOR_UNITS"},
           {"sale-price", ":1250", "CURRENCY_CODE:MINOR_UNITS"},
           {"sale-price", "CNY:1:2", "CURRENCY_CODE:MINOR_UNITS"},
           {"class", "F150", "BOOKING_CLASS:PERCENT"},
           {"class", "F:150,", "BOOKING_CLASS:PERCENT"},
           {"class", "F:lots", "BOOKING_CLASS:PERCENT"},
       }) {
    settlement::v1::RegisterPartnerRequest request;
    absl::Status status =
        BuildRequest(SettlementCommand("partner", "add"), std::nullopt, {"CA"},
                     {{c.flag, c.value}}, &request);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.value;
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("--", c.flag, "=")))
        << c.value;
    EXPECT_THAT(status.message(), HasSubstr(c.form)) << c.value;
  }
  settlement::v1::RegisterPartnerRequest request;
  absl::Status bare =
      BuildRequest(SettlementCommand("partner", "add"), std::nullopt, {"CA"},
                   {{"sale-price", std::nullopt}}, &request);
  EXPECT_THAT(bare.message(),
              HasSubstr("--sale-price needs a value: "
                        "--sale-price=CURRENCY_CODE:MINOR_UNITS"));
}

TEST(BuildRequestTest, PartnerUpdateTakesAMaskAndAVersion) {
  settlement::v1::UpdatePartnerRequest request;
  ASSERT_TRUE(BuildRequest(SettlementCommand("partner", "update"), std::nullopt,
                           {"CA"},
                           {{"award-price", "CNY:950"},
                            {"mask", "contract.award_price"},
                            {"expected-version", "3"},
                            {"operator", "OP7"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.partner_code(), "CA");
  EXPECT_EQ(request.partner().contract().award_price().minor_units(), 950);
  EXPECT_THAT(request.update_mask().paths(),
              ElementsAre("contract.award_price"));
  EXPECT_EQ(request.expected_version(), 3);
}

TEST(BuildRequestTest, SuspendAndReactivateSetTheStatus) {
  settlement::v1::ChangePartnerStatusRequest suspend;
  ASSERT_TRUE(BuildRequest(SettlementCommand("partner", "suspend"),
                           std::nullopt, {"MU", "CONTRACT_REVIEW"},
                           {{"operator", "OP7"}}, &suspend)
                  .ok());
  EXPECT_EQ(suspend.partner_code(), "MU");
  EXPECT_EQ(suspend.status(), settlement::v1::SUSPENDED);
  EXPECT_EQ(suspend.reason(), "CONTRACT_REVIEW");

  settlement::v1::ChangePartnerStatusRequest reactivate;
  ASSERT_TRUE(BuildRequest(SettlementCommand("partner", "reactivate"),
                           std::nullopt, {"MU", "REVIEWED"}, {}, &reactivate)
                  .ok());
  EXPECT_EQ(reactivate.status(), settlement::v1::ACTIVE);
}

TEST(BuildRequestTest, PeriodSetsYearAndMonth) {
  settlement::v1::SettleStatementRequest request;
  ASSERT_TRUE(BuildRequest(SettlementCommand("statement", "settle"),
                           std::nullopt, {"CA", "2026-09"},
                           {{"amount", "CNY:-123456"},
                            {"paid-on", "2026-10-15"},
                            {"reference", "SWIFT-77"},
                            {"operator", "FIN1"}},
                           &request)
                  .ok());
  EXPECT_EQ(request.partner_code(), "CA");
  EXPECT_EQ(request.year(), 2026);
  EXPECT_EQ(request.month(), 9);
  EXPECT_EQ(request.payment().amount().currency_code(), "CNY");
  EXPECT_EQ(request.payment().amount().minor_units(), -123456);
  EXPECT_EQ(request.payment().paid_on().day(), 15);
  EXPECT_EQ(request.payment().payment_reference(), "SWIFT-77");
}

TEST(BuildRequestTest, BadOrMissingPeriodIsRefused) {
  for (const char* bad : {"2026", "2026-09-01", "2026-", "September"}) {
    settlement::v1::GetStatementRequest request;
    absl::Status status = BuildRequest(SettlementCommand("statement", "show"),
                                       std::nullopt, {"CA", bad}, {}, &request);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << bad;
    EXPECT_THAT(status.message(), HasSubstr("PERIOD")) << bad;
    EXPECT_THAT(status.message(), HasSubstr("YEAR-MONTH")) << bad;
  }
  settlement::v1::GetStatementRequest request;
  absl::Status missing = BuildRequest(SettlementCommand("statement", "show"),
                                      std::nullopt, {"CA"}, {}, &request);
  EXPECT_THAT(missing.message(),
              HasSubstr("missing argument PERIOD (YEAR-MONTH)"));
  EXPECT_TRUE(BuildRequest(SettlementCommand("statement", "show"), std::nullopt,
                           {"CA"}, {{"year", "2026"}, {"month", "9"}}, &request)
                  .ok());
}

TEST(BuildRequestTest, UploadLeavesTheStreamedFileToTheCaller) {
  settlement::v1::UploadAccrualFileRequest request;
  ASSERT_TRUE(BuildRequest(SettlementCommand("file", "upload"), std::nullopt,
                           {"CA", "/nonexistent/CA_000042.acc.csv"},
                           {{"name", "CA_000042.acc.csv"}}, &request)
                  .ok());
  EXPECT_EQ(request.metadata().partner_code(), "CA");
  EXPECT_EQ(request.metadata().file_name(), "CA_000042.acc.csv");
  EXPECT_FALSE(request.has_chunk());

  absl::Status missing = BuildRequest(SettlementCommand("file", "upload"),
                                      std::nullopt, {"CA"}, {}, &request);
  EXPECT_THAT(missing.message(),
              HasSubstr("missing argument FILE (the file to send)"));
}

TEST(BuildRequestTest, ListFiltersTakeEnumNames) {
  settlement::v1::ListPartnersRequest partners;
  ASSERT_TRUE(BuildRequest(SettlementCommand("partner", "list"), std::nullopt,
                           {}, {{"type", "hotel"}, {"status", "suspended"}},
                           &partners)
                  .ok());
  EXPECT_EQ(partners.type(), settlement::v1::HOTEL);
  EXPECT_EQ(partners.status(), settlement::v1::SUSPENDED);

  settlement::v1::ListAccrualFilesRequest files;
  ASSERT_TRUE(
      BuildRequest(
          SettlementCommand("file", "list"), std::nullopt, {},
          {{"partner", "CA"}, {"status", "REFUSED"}, {"status", "accepted"}},
          &files)
          .ok());
  EXPECT_EQ(files.partner_code(), "CA");
  EXPECT_THAT(files.statuses(),
              ElementsAre(settlement::v1::REFUSED, settlement::v1::ACCEPTED));
}

}  // namespace
}  // namespace mileagebank::mbctl
