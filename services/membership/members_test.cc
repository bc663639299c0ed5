#include "services/membership/members.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.pb.h"

namespace mileagebank::membership {
namespace {

using ::mileagebank::testing::NamesField;

class MembersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = mileagebank::testing::FreshTestDir();
    Reopen();
  }

  void Reopen() {
    members_.reset();
    store_.reset();
    store_ = std::move(*store::Store::Open(
        {.path = path_, .tables = MembershipTables()}));
    MembershipOptions options;
    options.password_cost = {.operations = 1, .memory_kib = 8};
    auto members = Members::Create(store_.get(), options, registry_,
                                   [this] { return now_; });
    ASSERT_TRUE(members.ok()) << members.status();
    members_ = std::move(*members);
  }

  static v1::EnrolRequest Enrolment(const std::string& document,
                                    const std::string& phone) {
    v1::EnrolRequest request;
    v1::Profile* profile = request.mutable_profile();
    profile->set_family_name("Li");
    profile->set_given_name("Wei");
    profile->mutable_date_of_birth()->set_year(1985);
    profile->mutable_date_of_birth()->set_month(4);
    profile->mutable_date_of_birth()->set_day(12);
    profile->set_nationality("CN");
    profile->mutable_identity_document()->set_type(v1::PASSPORT);
    profile->mutable_identity_document()->set_number(document);
    profile->mutable_identity_document()->set_issuing_country("CN");
    profile->set_mobile_phone(phone);
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    request.mutable_actor()->set_office_code("PEK01");
    return request;
  }

  std::string Enrol(const std::string& document = "E12345678",
                    const std::string& phone = "+8613800000001") {
    auto response = members_->Enrol(Enrolment(document, phone));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->member().member_number() : "";
  }

  absl::Status Record(const std::string& member, const std::string& id,
                      int year, int month, int day, int64_t miles,
                      int segments) {
    v1::RecordQualifyingActivityRequest request;
    request.set_member_number(member);
    request.set_activity_id(id);
    request.mutable_activity_date()->set_year(year);
    request.mutable_activity_date()->set_month(month);
    request.mutable_activity_date()->set_day(day);
    request.set_qualifying_miles(miles);
    request.set_qualifying_segments(segments);
    return members_->RecordQualifyingActivity(request).status();
  }

  v1::Tier TierOnDay(const std::string& member, int year, int month, int day) {
    v1::GetTierRequest request;
    request.set_member_number(member);
    request.mutable_date()->set_year(year);
    request.mutable_date()->set_month(month);
    request.mutable_date()->set_day(day);
    auto response = members_->GetTier(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->tier() : v1::TIER_UNSPECIFIED;
  }

  absl::StatusOr<v1::VerifyPasswordResponse> Verify(const std::string& member,
                                                    const std::string& password) {
    v1::VerifyPasswordRequest request;
    request.set_member_number(member);
    request.set_password(password);
    return members_->VerifyPassword(request);
  }

  std::string path_;
  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                                    absl::UTCTimeZone());
  prometheus::Registry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Members> members_;
};

TEST_F(MembersTest, EnrolAssignsLuhnNumberAndAppendsEvent) {
  std::string number = Enrol();
  EXPECT_TRUE(validation::ValidateMemberNumber("n", number).ok()) << number;
  EXPECT_EQ(number.substr(0, 9), "100000000");
  auto member = members_->GetMember([&] {
    v1::GetMemberRequest r;
    r.set_member_number(number);
    return r;
  }());
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member->member().status(), v1::ACTIVE);
  EXPECT_EQ(member->member().version(), 1);
  EXPECT_EQ(member->member().tier(), v1::BLUE);
  EXPECT_EQ(member->member().profile().meal_preference(), "NONE");
  EXPECT_EQ(store_->LastSequence(), 1u);
}

TEST_F(MembersTest, BadEnrolmentNamesEveryFieldAndWritesNothing) {
  v1::EnrolRequest request = Enrolment("E1", "12345");
  request.mutable_profile()->mutable_date_of_birth()->set_month(13);
  request.mutable_actor()->clear_channel();
  request.set_password("short");
  absl::Status status = members_->Enrol(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(status, "profile.mobile_phone")) << status;
  EXPECT_TRUE(NamesField(status, "profile.date_of_birth")) << status;
  EXPECT_TRUE(NamesField(status, "actor.channel")) << status;
  EXPECT_TRUE(NamesField(status, "password")) << status;
  EXPECT_EQ(store_->LastSequence(), 0u);
  EXPECT_EQ(Enrol().substr(0, 9), "100000000");  // No serial was used up.
}

TEST_F(MembersTest, SameDocumentIsDuplicateNamingTheMember) {
  std::string first = Enrol("E1", "+8613800000001");
  absl::Status status =
      members_->Enrol(Enrolment("e1", "+8613800000002")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(status.message().find(first), absl::string_view::npos) << status;
  EXPECT_EQ(GetErrorDetails(status)->existing_id(), first);
}

TEST_F(MembersTest, SameNameBirthAndPhoneIsDuplicate) {
  std::string first = Enrol("E1", "+8613800000001");
  v1::EnrolRequest request = Enrolment("E2", "+8613800000001");
  request.mutable_profile()->set_family_name("LI");  // Case does not matter.
  absl::Status status = members_->Enrol(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorDetails(status)->existing_id(), first);
  // Another phone makes another person.
  EXPECT_TRUE(members_->Enrol(Enrolment("E2", "+8613800000002")).ok());
}

TEST_F(MembersTest, SameEmailIsDuplicate) {
  v1::EnrolRequest first = Enrolment("E1", "+8613800000001");
  first.mutable_profile()->set_email("wei@example.com");
  ASSERT_TRUE(members_->Enrol(first).ok());
  v1::EnrolRequest second = Enrolment("E2", "+8613800000002");
  second.mutable_profile()->set_email("WEI@example.com");
  EXPECT_EQ(members_->Enrol(second).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(MembersTest, RequestIdMakesEnrolIdempotent) {
  v1::EnrolRequest request = Enrolment("E1", "+8613800000001");
  request.set_request_id("office-PEK01-42");
  auto first = members_->Enrol(request);
  ASSERT_TRUE(first.ok());
  auto again = members_->Enrol(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->member().member_number(), first->member().member_number());
  EXPECT_EQ(store_->LastSequence(), 1u);
  request.mutable_profile()->set_given_name("Other");
  EXPECT_EQ(members_->Enrol(request).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(MembersTest, SerialsContinueAfterRestart) {
  std::string first = Enrol("E1", "+8613800000001");
  Reopen();
  std::string second = Enrol("E2", "+8613800000002");
  EXPECT_EQ(second.substr(0, 9), "100000001");
  EXPECT_NE(first, second);
}

TEST_F(MembersTest, BadCheckDigitIsInvalidNotNotFound) {
  v1::GetMemberRequest request;
  request.set_member_number("1000000001");
  EXPECT_EQ(members_->GetMember(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_member_number(validation::MemberNumberFromSerial(555555555));
  EXPECT_EQ(members_->GetMember(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MembersTest, LookupMembersAnswersEachNumberInOrder) {
  std::string source = Enrol("E1", "+8613800000001");
  std::string target = Enrol("E2", "+8613800000002");
  std::string suspended = Enrol("E3", "+8613800000003");
  v1::MergeMembersRequest merge;
  merge.set_source_member_number(source);
  merge.set_target_member_number(target);
  merge.set_reason("DUPLICATE");
  merge.mutable_actor()->set_operator_id("supervisor-1");
  ASSERT_TRUE(members_->MergeMembers(merge).ok());
  v1::ChangeStatusRequest suspend;
  suspend.set_member_number(suspended);
  suspend.set_status(v1::SUSPENDED);
  suspend.set_reason("FRAUD_REVIEW");
  suspend.mutable_actor()->set_operator_id("supervisor-1");
  ASSERT_TRUE(members_->ChangeStatus(suspend).ok());

  v1::LookupMembersRequest request;
  for (const std::string& number :
       {source, suspended, validation::MemberNumberFromSerial(555555555),
        std::string("1000000001"), target}) {
    request.add_member_numbers(number);
  }
  auto found = members_->LookupMembers(request);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->members_size(), 5);
  EXPECT_TRUE(found->members(0).found());
  EXPECT_EQ(found->members(0).member_number(), target);
  EXPECT_EQ(found->members(0).family_name(), "Li");
  EXPECT_EQ(found->members(0).status(), v1::ACTIVE);
  EXPECT_EQ(found->members(1).member_number(), suspended);
  EXPECT_EQ(found->members(1).status(), v1::SUSPENDED);
  // Nobody, and a number with a wrong check digit: no member has either.
  EXPECT_FALSE(found->members(2).found());
  EXPECT_TRUE(found->members(2).member_number().empty());
  EXPECT_FALSE(found->members(3).found());
  EXPECT_EQ(found->members(4).member_number(), target);
}

TEST_F(MembersTest, LookupMembersTakesOneToAThousandNumbers) {
  v1::LookupMembersRequest request;
  absl::Status none = members_->LookupMembers(request).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(none, "member_numbers")) << none;
  for (int i = 0; i < 1001; ++i) {
    request.add_member_numbers(
        validation::MemberNumberFromSerial(100000000 + i));
  }
  absl::Status too_many = members_->LookupMembers(request).status();
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(too_many, "member_numbers")) << too_many;
  request.mutable_member_numbers()->RemoveLast();
  auto thousand = members_->LookupMembers(request);
  ASSERT_TRUE(thousand.ok()) << thousand.status();
  EXPECT_EQ(thousand->members_size(), 1000);
}

TEST_F(MembersTest, UpdateUnderMaskWithOptimisticConcurrency) {
  std::string number = Enrol();
  v1::UpdateProfileRequest request;
  request.set_member_number(number);
  request.mutable_profile()->set_email("new@example.com");
  request.mutable_profile()->set_family_name("Ignored");
  request.mutable_update_mask()->add_paths("email");
  request.set_expected_version(1);
  auto updated = members_->UpdateProfile(request);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->member().profile().email(), "new@example.com");
  EXPECT_EQ(updated->member().profile().family_name(), "Li");
  EXPECT_EQ(updated->member().version(), 2);

  absl::Status stale = members_->UpdateProfile(request).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(NamesField(stale, "expected_version"));

  request.set_expected_version(0);
  request.mutable_update_mask()->set_paths(0, "family_name");
  EXPECT_EQ(members_->UpdateProfile(request).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.mutable_actor()->set_operator_id("agent-7");
  EXPECT_TRUE(members_->UpdateProfile(request).ok());

  request.mutable_update_mask()->set_paths(0, "mobile_phone");
  request.mutable_profile()->set_mobile_phone("not a phone");
  absl::Status bad = members_->UpdateProfile(request).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(bad, "mobile_phone")) << bad;
}

TEST_F(MembersTest, UpdateCannotTakeAnotherMembersEmail) {
  v1::EnrolRequest first = Enrolment("E1", "+8613800000001");
  first.mutable_profile()->set_email("taken@example.com");
  ASSERT_TRUE(members_->Enrol(first).ok());
  std::string second = Enrol("E2", "+8613800000002");
  v1::UpdateProfileRequest request;
  request.set_member_number(second);
  request.mutable_profile()->set_email("taken@example.com");
  request.mutable_update_mask()->add_paths("email");
  EXPECT_EQ(members_->UpdateProfile(request).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(MembersTest, FindByPhoneEmailDocumentAndNameWithBirthDate) {
  v1::EnrolRequest request = Enrolment("E1", "+8613800000001");
  request.mutable_profile()->set_email("wei@example.com");
  std::string number =
      members_->Enrol(request)->member().member_number();
  Enrol("E2", "+8613800000002");

  v1::FindMembersRequest by_phone;
  by_phone.set_mobile_phone("+8613800000001");
  ASSERT_EQ(members_->FindMembers(by_phone)->members_size(), 1);
  EXPECT_EQ(members_->FindMembers(by_phone)->members(0).member_number(), number);

  v1::FindMembersRequest by_email;
  by_email.set_email("Wei@Example.com");
  EXPECT_EQ(members_->FindMembers(by_email)->members_size(), 1);

  v1::FindMembersRequest by_document;
  *by_document.mutable_identity_document() =
      request.profile().identity_document();
  by_document.mutable_identity_document()->set_number("e1");
  EXPECT_EQ(members_->FindMembers(by_document)->members_size(), 1);

  v1::FindMembersRequest by_name;
  by_name.mutable_name_and_birth_date()->set_family_name("li");
  by_name.mutable_name_and_birth_date()->set_given_name("WEI");
  *by_name.mutable_name_and_birth_date()->mutable_date_of_birth() =
      request.profile().date_of_birth();
  EXPECT_EQ(members_->FindMembers(by_name)->members_size(), 2);

  v1::FindMembersRequest none;
  EXPECT_EQ(members_->FindMembers(none).status().code(),
            absl::StatusCode::kInvalidArgument);
  by_phone.set_mobile_phone("0800");
  EXPECT_TRUE(NamesField(members_->FindMembers(by_phone).status(), "mobile_phone"));
}

TEST_F(MembersTest, StatusChangesFollowTheRules) {
  std::string number = Enrol();
  auto change = [&](v1::MemberStatus status) {
    v1::ChangeStatusRequest request;
    request.set_member_number(number);
    request.set_status(status);
    request.set_reason("FRAUD_REVIEW");
    request.mutable_actor()->set_operator_id("supervisor-1");
    return members_->ChangeStatus(request).status();
  };
  EXPECT_TRUE(change(v1::SUSPENDED).ok());
  EXPECT_EQ(change(v1::SUSPENDED).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(change(v1::CLOSED).ok());
  EXPECT_EQ(change(v1::SUSPENDED).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(change(v1::ACTIVE).ok());
  EXPECT_EQ(change(v1::MERGED).code(), absl::StatusCode::kInvalidArgument);

  v1::ChangeStatusRequest no_operator;
  no_operator.set_member_number(number);
  no_operator.set_status(v1::SUSPENDED);
  no_operator.set_reason("x");
  absl::Status status = members_->ChangeStatus(no_operator).status();
  EXPECT_TRUE(NamesField(status, "actor.operator_id"));
  EXPECT_TRUE(NamesField(status, "reason"));
}

TEST_F(MembersTest, MergeMovesQualifyingActivityAndPointsAtTarget) {
  std::string source = Enrol("E1", "+8613800000001");
  std::string target = Enrol("E2", "+8613800000002");
  ASSERT_TRUE(Record(source, "a1", 2026, 3, 1, 30'000, 10).ok());
  v1::MergeMembersRequest request;
  request.set_source_member_number(source);
  request.set_target_member_number(target);
  request.set_reason("DUPLICATE");
  request.mutable_actor()->set_operator_id("supervisor-1");
  auto merged = members_->MergeMembers(request);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->source().status(), v1::MERGED);
  EXPECT_EQ(merged->source().merged_into(), target);
  EXPECT_EQ(merged->target().tier(), v1::SILVER);
  EXPECT_EQ(members_->MergeMembers(request).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::GetMemberRequest get;
  get.set_member_number(source);
  get.set_resolve_merges(true);
  EXPECT_EQ(members_->GetMember(get)->member().member_number(), target);
  // Activity sent to the old number lands on the target.
  ASSERT_TRUE(Record(source, "a2", 2026, 4, 1, 30'000, 1).ok());
  EXPECT_EQ(TierOnDay(target, 2026, 5, 1), v1::GOLD);
  // Enrolling the source's document again names where the person is now.
  auto again = members_->Enrol(Enrolment("E1", "+8613800000009"));
  EXPECT_EQ(GetErrorDetails(again.status())->existing_id(), target);
}

TEST_F(MembersTest, FiveWrongPasswordsLockForFifteenMinutes) {
  v1::EnrolRequest request = Enrolment("E1", "+8613800000001");
  request.set_password("right-password");
  std::string number = members_->Enrol(request)->member().member_number();
  EXPECT_TRUE(Verify(number, "right-password")->verified());
  for (int i = 1; i <= 4; ++i) {
    auto wrong = Verify(number, "wrong");
    EXPECT_FALSE(wrong->verified());
    EXPECT_EQ(wrong->attempts_remaining(), 5 - i);
  }
  auto locking = Verify(number, "wrong");
  EXPECT_FALSE(locking->verified());
  EXPECT_TRUE(locking->has_locked_until());
  // Even the right password is refused while locked, and it survives restart.
  Reopen();
  EXPECT_FALSE(Verify(number, "right-password")->verified());
  now_ += absl::Minutes(15);
  EXPECT_TRUE(Verify(number, "right-password")->verified());
}

TEST_F(MembersTest, ChangingPasswordNeedsTheCurrentOneUnlessStaffReset) {
  v1::EnrolRequest enrol = Enrolment("E1", "+8613800000001");
  enrol.set_password("first-password");
  std::string number = members_->Enrol(enrol)->member().member_number();
  v1::SetPasswordRequest request;
  request.set_member_number(number);
  request.set_new_password("second-password");
  EXPECT_TRUE(NamesField(members_->SetPassword(request).status(),
                         "current_password"));
  request.set_current_password("not-it");
  EXPECT_EQ(members_->SetPassword(request).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.set_current_password("first-password");
  EXPECT_TRUE(members_->SetPassword(request).ok());
  EXPECT_TRUE(Verify(number, "second-password")->verified());

  v1::SetPasswordRequest reset;
  reset.set_member_number(number);
  reset.set_new_password("third-password");
  reset.mutable_actor()->set_operator_id("call-centre-3");
  EXPECT_TRUE(members_->SetPassword(reset).ok());
  EXPECT_TRUE(Verify(number, "third-password")->verified());
}

TEST_F(MembersTest, AtMostFiveNomineesEachOnce) {
  std::string number = Enrol();
  v1::AddNomineeRequest request;
  request.set_member_number(number);
  v1::Nominee* nominee = request.mutable_nominee();
  nominee->set_family_name("Li");
  nominee->set_given_name("Na");
  nominee->mutable_date_of_birth()->set_year(2010);
  nominee->mutable_date_of_birth()->set_month(1);
  nominee->mutable_date_of_birth()->set_day(2);
  nominee->mutable_identity_document()->set_type(v1::NATIONAL_ID);
  nominee->mutable_identity_document()->set_issuing_country("CN");
  for (int i = 1; i <= 5; ++i) {
    nominee->mutable_identity_document()->set_number("N" + std::to_string(i));
    auto added = members_->AddNominee(request);
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_EQ(added->nominee().nominee_id(), std::to_string(i));
  }
  nominee->mutable_identity_document()->set_number("N6");
  EXPECT_EQ(members_->AddNominee(request).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::RemoveNomineeRequest remove;
  remove.set_member_number(number);
  remove.set_nominee_id("2");
  EXPECT_TRUE(members_->RemoveNominee(remove).ok());
  EXPECT_EQ(members_->RemoveNominee(remove).status().code(),
            absl::StatusCode::kNotFound);
  nominee->mutable_identity_document()->set_number("N1");
  EXPECT_EQ(members_->AddNominee(request).status().code(),
            absl::StatusCode::kAlreadyExists);
  nominee->mutable_identity_document()->set_number("N6");
  EXPECT_EQ(members_->AddNominee(request)->nominee().nominee_id(), "6");
  v1::ListNomineesRequest list;
  list.set_member_number(number);
  EXPECT_EQ(members_->ListNominees(list)->nominees_size(), 5);
}

TEST_F(MembersTest, TierCountsActivityDateYearAndHoldsThroughNextYear) {
  std::string number = Enrol();
  // Crossing GOLD on the last day of 2026.
  ASSERT_TRUE(Record(number, "f1", 2026, 6, 1, 30'000, 1).ok());
  EXPECT_EQ(TierOnDay(number, 2026, 6, 1), v1::SILVER);
  ASSERT_TRUE(Record(number, "f2", 2026, 12, 31, 20'000, 1).ok());
  EXPECT_EQ(TierOnDay(number, 2026, 12, 31), v1::GOLD);
  EXPECT_EQ(TierOnDay(number, 2027, 1, 1), v1::GOLD);
  EXPECT_EQ(TierOnDay(number, 2027, 12, 31), v1::GOLD);
  EXPECT_EQ(TierOnDay(number, 2028, 1, 1), v1::BLUE);
  // Activity dated 2027-01-01 counts for 2027, not 2026.
  ASSERT_TRUE(Record(number, "f3", 2027, 1, 1, 60'000, 1).ok());
  EXPECT_EQ(TierOnDay(number, 2028, 1, 1), v1::GOLD);
}

TEST_F(MembersTest, TierComesWithTheMemberWhenAsked) {
  std::string number = Enrol();
  v1::GetTierRequest request;
  request.set_member_number(number);
  auto tier = members_->GetTier(request);
  ASSERT_TRUE(tier.ok()) << tier.status();
  EXPECT_FALSE(tier->has_member());
  request.set_include_member(true);
  tier = members_->GetTier(request);
  ASSERT_TRUE(tier.ok()) << tier.status();
  v1::GetMemberRequest get;
  get.set_member_number(number);
  EXPECT_EQ(tier->member().SerializeAsString(),
            members_->GetMember(get)->member().SerializeAsString());
  EXPECT_EQ(tier->tier(), v1::BLUE);
}

TEST_F(MembersTest, QualifyingActivityIsIdempotentAndReversible) {
  std::string number = Enrol();
  ASSERT_TRUE(Record(number, "f1", 2026, 3, 1, 50'000, 1).ok());
  const uint64_t events = store_->LastSequence();
  ASSERT_TRUE(Record(number, "f1", 2026, 3, 1, 50'000, 1).ok());
  EXPECT_EQ(store_->LastSequence(), events);
  EXPECT_EQ(Record(number, "f1", 2026, 3, 1, 40'000, 1).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(TierOnDay(number, 2026, 11, 23), v1::GOLD);

  v1::ReverseQualifyingActivityRequest reverse;
  reverse.set_member_number(number);
  reverse.set_activity_id("f1");
  EXPECT_EQ(members_->ReverseQualifyingActivity(reverse)->tier(), v1::BLUE);
  EXPECT_EQ(TierOnDay(number, 2026, 11, 23), v1::BLUE);
  EXPECT_TRUE(members_->ReverseQualifyingActivity(reverse).ok());  // No-op.
  reverse.set_activity_id("unknown");
  EXPECT_EQ(members_->ReverseQualifyingActivity(reverse).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(NamesField(Record(number, "f2", 2026, 2, 30, 1, 1), "activity_date"));
  EXPECT_TRUE(NamesField(Record(number, "f2", 2026, 2, 1, -1, 1),
                         "qualifying_miles"));
}

TEST_F(MembersTest, TiersThatLapseAtYearEndAreAnnouncedOnceEach) {
  now_ = absl::FromCivil(absl::CivilSecond(2026, 6, 1, 9, 0, 0),
                         absl::UTCTimeZone());
  const std::string a = Enrol("E1", "+8613800000001");
  const std::string b = Enrol("E2", "+8613800000002");
  const std::string c = Enrol("E3", "+8613800000003");
  const std::string d = Enrol("E4", "+8613800000004");
  // a: GOLD by 2024, SILVER by 2025; b: GOLD by 2025; c: PLATINUM by 2023
  // only; d: SILVER by 2024, GOLD again in 2026.
  ASSERT_TRUE(Record(a, "a1", 2024, 5, 1, 60'000, 1).ok());
  ASSERT_TRUE(Record(a, "a2", 2025, 5, 1, 30'000, 1).ok());
  ASSERT_TRUE(Record(b, "b1", 2025, 5, 1, 50'000, 1).ok());
  ASSERT_TRUE(Record(c, "c1", 2023, 5, 1, 100'000, 1).ok());
  ASSERT_TRUE(Record(d, "d1", 2024, 5, 1, 25'000, 1).ok());
  ASSERT_TRUE(Record(d, "d2", 2026, 5, 1, 50'000, 1).ok());
  const uint64_t recorded = store_->LastSequence();

  auto lapses_after = [&](uint64_t sequence) {
    std::vector<std::string> lapses;
    absl::StatusOr<std::vector<common::v1::Event>> log =
        store_->ReadEvents(sequence, 100);
    EXPECT_TRUE(log.ok()) << log.status();
    for (const common::v1::Event& event : *log) {
      v1::TierChanged changed;
      if (!event.payload().UnpackTo(&changed)) continue;
      EXPECT_TRUE(changed.year_end_lapse());
      lapses.push_back(absl::StrCat(changed.member_number(), " ",
                                    v1::Tier_Name(changed.from_tier()), ">",
                                    v1::Tier_Name(changed.to_tier()), " ",
                                    changed.effective_date().year(), "-",
                                    changed.effective_date().month(), "-",
                                    changed.effective_date().day()));
    }
    return lapses;
  };

  // The first run goes back to the first year anything could lapse in
  // (2025: c's 2023 tier), one member per commit.
  absl::StatusOr<int64_t> lapsed =
      members_->LapseTiers(/*members_per_batch=*/1);
  ASSERT_TRUE(lapsed.ok()) << lapsed.status();
  EXPECT_EQ(*lapsed, 2);
  std::vector<std::string> expected = {c + " PLATINUM>BLUE 2025-1-1",
                                       a + " GOLD>SILVER 2026-1-1"};
  EXPECT_EQ(lapses_after(recorded), expected);
  EXPECT_EQ(TierOnDay(a, 2026, 1, 1), v1::SILVER);
  EXPECT_EQ(TierOnDay(c, 2025, 1, 1), v1::BLUE);

  // Done years are not done again, after a restart too.
  const uint64_t first_run = store_->LastSequence();
  EXPECT_EQ(*members_->LapseTiers(), 0);
  Reopen();
  EXPECT_EQ(*members_->LapseTiers(), 0);
  EXPECT_EQ(store_->LastSequence(), first_run);

  // Just after the next midnight: b's and a's tiers end with 2026; d's
  // GOLD of 2026 holds.
  now_ = absl::FromCivil(absl::CivilSecond(2027, 1, 1, 0, 0, 5),
                         absl::UTCTimeZone());
  lapsed = members_->LapseTiers();
  ASSERT_TRUE(lapsed.ok()) << lapsed.status();
  EXPECT_EQ(*lapsed, 2);
  expected = {a + " SILVER>BLUE 2027-1-1", b + " GOLD>BLUE 2027-1-1"};
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> lapses = lapses_after(first_run);
  std::sort(lapses.begin(), lapses.end());
  EXPECT_EQ(lapses, expected);
  EXPECT_EQ(TierOnDay(d, 2027, 1, 1), v1::GOLD);
}

// An accrual event recording (or reversing) qualifying activity.
common::v1::Event Posted(uint64_t sequence, const std::string& member,
                         const std::string& id, int64_t miles,
                         bool reversal = false) {
  accrual::v1::QualifyingActivityPosted posted;
  posted.set_member_number(member);
  posted.set_activity_id(id);
  posted.mutable_activity_date()->set_year(2026);
  posted.mutable_activity_date()->set_month(3);
  posted.mutable_activity_date()->set_day(1);
  posted.set_qualifying_miles(miles);
  posted.set_qualifying_segments(1);
  posted.set_reversal(reversal);
  common::v1::Event event;
  event.set_sequence(sequence);
  event.mutable_payload()->PackFrom(posted);
  return event;
}

TEST_F(MembersTest, AccrualEventsAppliedTogetherAsOneAtATime) {
  const std::string a = Enrol("E1", "+8613800000001");
  const std::string b = Enrol("E2", "+8613800000002");
  // Later events read what earlier ones of the same message wrote: A
  // crosses SILVER then GOLD, its f1 comes again (no change), its f2 is
  // reversed; an unknown member's event is skipped, a credit ignored.
  common::v1::Event credit;
  credit.mutable_payload()->PackFrom(accrual::v1::CreditPosted());
  const std::vector<common::v1::Event> message = {
      Posted(1, a, "f1", 30'000), Posted(2, a, "f2", 20'000),
      Posted(3, b, "g1", 10'000), Posted(4, a, "f1", 30'000), credit,
      Posted(6, "1000000000", "x1", 5'000), Posted(7, a, "f2", 20'000, true)};
  auto applied_events = [&] {
    std::vector<std::string> events;
    absl::StatusOr<std::vector<common::v1::Event>> log =
        store_->ReadEvents(0, 100);
    EXPECT_TRUE(log.ok()) << log.status();
    for (const common::v1::Event& event : *log) {
      events.push_back(event.payload().type_url());
    }
    return events;
  };
  const uint64_t enrolled = store_->LastSequence();

  // A message applied, but its batch dropped: nothing changed, and the
  // members are free again.
  {
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(members_->ApplyAccrualEvents(message, batch).ok());
  }
  EXPECT_EQ(TierOnDay(a, 2026, 11, 23), v1::BLUE);

  store::WriteBatch batch = store_->NewBatch();
  ASSERT_TRUE(members_->ApplyAccrualEvents(message, batch).ok());
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(TierOnDay(a, 2026, 11, 23), v1::SILVER);
  EXPECT_EQ(TierOnDay(b, 2026, 11, 23), v1::BLUE);
  const std::vector<std::string> together = applied_events();
  EXPECT_EQ(together.size(), enrolled + 4 + 3);  // 4 recorded, 3 tier changes

  // The same events one at a time, on a fresh store, write the same.
  path_ = mileagebank::testing::FreshTestDir("one-by-one");
  Reopen();
  ASSERT_EQ(Enrol("E1", "+8613800000001"), a);
  ASSERT_EQ(Enrol("E2", "+8613800000002"), b);
  for (const common::v1::Event& event : message) {
    ASSERT_TRUE(ApplyAccrualEvent(*members_, event).ok());
  }
  store_->WaitForQueued();
  EXPECT_EQ(applied_events(), together);
  EXPECT_EQ(TierOnDay(a, 2026, 11, 23), v1::SILVER);
  v1::GetTierRequest request;
  request.set_member_number(a);
  EXPECT_EQ(members_->GetTier(request)->qualifying_miles(), 30'000);
}

TEST_F(MembersTest, ImportEnrolsGoodRowsAndReportsBadOnes) {
  Enrol("E9", "+8613800000009");
  v1::ImportMembersRequest request;
  request.set_csv(
      "family_name,given_name,date_of_birth,nationality,document_type,"
      "document_number,document_country,mobile_phone,email\n"
      "Wang,Fang,1990-01-02,CN,PASSPORT,G100,CN,+8613900000001,fang@example.com\n"
      "Zhao,,1990-13-02,CN,PASSPORT,G101,CN,+8613900000002,\n"
      "Li,Wei,1985-04-12,CN,PASSPORT,E9,CN,+8613900000003,\n"
      "Chen,Jie,1970-07-07,CN,NATIONAL_ID,110101197007070000,CN,bad,\n");
  request.mutable_actor()->set_office_code("HQ");
  auto response = members_->ImportMembers(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->imported(), 1);
  EXPECT_EQ(response->rejected(), 3);
  ASSERT_EQ(response->rows_size(), 4);
  EXPECT_EQ(response->rows(0).line(), 2);
  EXPECT_FALSE(response->rows(0).member_number().empty());
  EXPECT_NE(response->rows(1).error().find("date_of_birth"), std::string::npos);
  EXPECT_NE(response->rows(2).error().find("identity_document"),
            std::string::npos);
  EXPECT_NE(response->rows(3).error().find("mobile_phone"), std::string::npos);

  v1::ImportMembersRequest unknown_column;
  unknown_column.set_csv("family_name,shoe_size\nLi,42\n");
  EXPECT_EQ(members_->ImportMembers(unknown_column).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mileagebank::membership
