#include "tools/mbctl/printer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::mbctl {
namespace {

using ::testing::HasSubstr;

membership::v1::GetMemberResponse SampleResponse() {
  membership::v1::GetMemberResponse response;
  membership::v1::Member* member = response.mutable_member();
  member->set_member_number("1000000008");
  membership::v1::Profile* profile = member->mutable_profile();
  profile->set_family_name("Wang");
  profile->set_given_name("Li");
  profile->set_chinese_name("王力");
  profile->mutable_date_of_birth()->set_year(1985);
  profile->mutable_date_of_birth()->set_month(4);
  profile->mutable_date_of_birth()->set_day(2);
  profile->mutable_identity_document()->set_type(membership::v1::PASSPORT);
  profile->mutable_identity_document()->set_number("E1234567");
  profile->mutable_address()->add_lines("1 Airport Road");
  profile->mutable_address()->add_lines("Block 2");
  profile->mutable_address()->set_country("CN");
  member->set_status(membership::v1::ACTIVE);
  member->mutable_enrolment()->set_channel(common::v1::SALES_OFFICE);
  member->mutable_enrolled_at()->set_seconds(1714550400);  // 2024-05-01 08:00
  member->set_version(3);
  member->set_tier(membership::v1::GOLD);
  membership::v1::Nominee* first = member->add_nominees();
  first->set_nominee_id("1");
  first->set_family_name("Li");
  first->mutable_date_of_birth()->set_year(2010);
  first->mutable_date_of_birth()->set_month(12);
  first->mutable_date_of_birth()->set_day(31);
  membership::v1::Nominee* second = member->add_nominees();
  second->set_nominee_id("2");
  second->mutable_identity_document()->set_type(membership::v1::NATIONAL_ID);
  return response;
}

TEST(FormatHumanTest, PrintsNestedFieldsEnumsDatesTimesAndLists) {
  EXPECT_EQ(FormatHuman(SampleResponse()),
            "member:\n"
            "  member_number: 1000000008\n"
            "  profile:\n"
            "    family_name: Wang\n"
            "    given_name: Li\n"
            "    chinese_name: 王力\n"
            "    date_of_birth: 1985-04-02\n"
            "    identity_document:\n"
            "      type: PASSPORT\n"
            "      number: E1234567\n"
            "    address:\n"
            "      lines:\n"
            "        - 1 Airport Road\n"
            "        - Block 2\n"
            "      country: CN\n"
            "  status: ACTIVE\n"
            "  enrolment:\n"
            "    channel: SALES_OFFICE\n"
            "  enrolled_at: 2024-05-01T08:00:00Z\n"
            "  version: 3\n"
            "  tier: GOLD\n"
            "  nominees:\n"
            "    - nominee_id: 1\n"
            "      family_name: Li\n"
            "      date_of_birth: 2010-12-31\n"
            "    - nominee_id: 2\n"
            "      identity_document:\n"
            "        type: NATIONAL_ID\n");
}

TEST(FormatHumanTest, ShowsTopLevelDefaultsButNotNestedOnes) {
  membership::v1::VerifyPasswordResponse verify;
  EXPECT_EQ(FormatHuman(verify), "verified: false\nattempts_remaining: 0\n");

  membership::v1::GetMemberResponse empty_member;
  empty_member.mutable_member();
  EXPECT_EQ(FormatHuman(empty_member), "");
}

TEST(FormatHumanTest, TimestampKeepsFractionAndFieldMaskJoinsPaths) {
  membership::v1::ProfileUpdated event;
  event.mutable_changed()->add_paths("email");
  event.mutable_changed()->add_paths("address.city");
  membership::v1::PasswordLocked locked;
  locked.mutable_locked_until()->set_seconds(1714550400);
  locked.mutable_locked_until()->set_nanos(250000000);
  EXPECT_EQ(FormatHuman(event), "changed: email,address.city\n");
  EXPECT_EQ(FormatHuman(locked), "locked_until: 2024-05-01T08:00:00.25Z\n");
}

TEST(FormatHumanTest, QuotesStringsThatWouldBreakTheLayout) {
  membership::v1::ImportMembersResponse response;
  response.add_rows()->set_error("line one\nline two");
  EXPECT_THAT(FormatHuman(response),
              HasSubstr("error: \"line one\\nline two\""));
}

TEST(FormatJsonTest, PrintsProtobufJson) {
  absl::StatusOr<std::string> json = FormatJson(SampleResponse());
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"memberNumber\": \"1000000008\""));
  EXPECT_THAT(*json, HasSubstr("\"status\": \"ACTIVE\""));
  EXPECT_THAT(*json, HasSubstr("\"enrolledAt\": \"2024-05-01T08:00:00Z\""));
  EXPECT_EQ(json->back(), '\n');
}

TEST(FormatErrorTest, ListsFieldViolations) {
  FieldErrors errors;
  errors.Add("profile.mobile_phone", "must be E.164");
  errors.Add("actor.channel", "required");
  EXPECT_EQ(FormatError(errors.ToStatus()),
            "error: INVALID_ARGUMENT: profile.mobile_phone: must be E.164; "
            "actor.channel: required\n"
            "  profile.mobile_phone: must be E.164\n"
            "  actor.channel: required\n");
}

TEST(FormatErrorTest, NamesWhatAlreadyExists) {
  EXPECT_EQ(FormatError(AlreadyExistsError("profile.email: already used by "
                                           "member 1000000008",
                                           "1000000008")),
            "error: ALREADY_EXISTS: profile.email: already used by member "
            "1000000008\n"
            "  existing_id: 1000000008\n");
}

TEST(FormatErrorTest, PlainStatusHasOneLine) {
  EXPECT_EQ(FormatError(absl::UnavailableError("connection refused")),
            "error: UNAVAILABLE: connection refused\n");
}

}  // namespace
}  // namespace mileagebank::mbctl
