#include "tools/mbctl/request_builder.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
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

TEST(SetRequestFieldTest, RepeatedMessagesAskForRequest) {
  membership::v1::Member member;
  absl::Status status = SetRequestField(&member, "nominees.family_name", "Li",
                                        "--nominees.family_name");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("--request"));
}

}  // namespace
}  // namespace mileagebank::mbctl
