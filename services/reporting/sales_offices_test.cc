#include "services/reporting/sales_offices.h"

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = ::mileagebank::accrual::v1;
namespace mv1 = ::mileagebank::membership::v1;
namespace rv1 = ::mileagebank::redemption::v1;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

google::protobuf::Timestamp At(absl::CivilDay day, int hour = 10) {
  return validation::ToProtoTimestamp(absl::FromCivil(
      absl::CivilSecond(day) + hour * 3600, absl::UTCTimeZone()));
}

common::v1::Actor Actor(common::v1::Channel channel, const std::string& office,
                        const std::string& agent) {
  common::v1::Actor actor;
  actor.set_channel(channel);
  actor.set_office_code(office);
  actor.set_operator_id(agent);
  return actor;
}

class SalesOfficesTest : public ::testing::Test {
 protected:
  void Post(absl::string_view source, const google::protobuf::Message& payload,
            absl::CivilDay recorded) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = At(recorded, 23);
    event.mutable_payload()->PackFrom(payload);
    absl::Status status = projection_.Apply(SourceEvent(source, event), view_);
    ASSERT_TRUE(status.ok()) << status;
  }

  void Enrol(const common::v1::Actor& actor, absl::CivilDay day) {
    mv1::MemberEnrolled enrolled;
    enrolled.mutable_member()->set_member_number(std::to_string(++ids_));
    *enrolled.mutable_member()->mutable_enrolment() = actor;
    *enrolled.mutable_member()->mutable_enrolled_at() = At(day);
    Post(kMembershipSource, enrolled, day);
  }

  av1::RetroClaim Submit(const common::v1::Actor& actor, absl::CivilDay day) {
    av1::RetroClaim claim;
    claim.set_claim_id("C" + std::to_string(++ids_));
    claim.set_state(av1::CLAIM_PENDING);
    *claim.mutable_submitted_by() = actor;
    *claim.mutable_submitted_at() = At(day);
    av1::RetroClaimSubmitted event;
    *event.mutable_claim() = claim;
    Post(kAccrualSource, event, day);
    return claim;
  }

  void Decide(av1::RetroClaim claim, bool approve, absl::CivilDay day) {
    claim.set_state(approve ? av1::CLAIM_APPROVED : av1::CLAIM_REJECTED);
    *claim.mutable_decided_by() = Actor(common::v1::CALL_CENTRE, "HQ", "boss");
    *claim.mutable_decided_at() = At(day);
    if (approve) {
      av1::RetroClaimApproved event;
      *event.mutable_claim() = claim;
      Post(kAccrualSource, event, day);
    } else {
      av1::RetroClaimRejected event;
      *event.mutable_claim() = claim;
      Post(kAccrualSource, event, day);
    }
  }

  rv1::RedemptionRecord Hold(const common::v1::Actor& actor, absl::CivilDay day,
                             int64_t miles) {
    rv1::RedemptionRecord record;
    record.set_redemption_id("R" + std::to_string(++ids_));
    record.set_state(rv1::HELD);
    record.set_total_miles(miles);
    *record.mutable_created_by() = actor;
    *record.mutable_created_at() = At(day);
    rv1::RedemptionHeld event;
    *event.mutable_redemption() = record;
    Post(kRedemptionSource, event, day);
    return record;
  }

  void Issue(rv1::RedemptionRecord record, absl::CivilDay day) {
    record.set_state(rv1::ISSUED);
    *record.mutable_issued_by() = Actor(common::v1::COUNTER, "PVG02", "x9");
    *record.mutable_issued_at() = At(day);
    rv1::RedemptionIssued event;
    *event.mutable_redemption() = record;
    Post(kRedemptionSource, event, day);
  }

  absl::StatusOr<v1::GetSalesOfficeReportResponse> Query(
      absl::CivilDay from, absl::CivilDay to, const std::string& office = "") {
    v1::GetSalesOfficeReportRequest request;
    *request.mutable_range()->mutable_from_date() =
        validation::ToProtoDate(from);
    *request.mutable_range()->mutable_to_date() = validation::ToProtoDate(to);
    request.set_office_code(office);
    return SalesOfficeReport(view_, request,
                             ReportContext{absl::UnixEpoch(), nullptr});
  }

  v1::GetSalesOfficeReportResponse Report(absl::CivilDay from,
                                          absl::CivilDay to,
                                          const std::string& office = "") {
    absl::StatusOr<v1::GetSalesOfficeReportResponse> response =
        Query(from, to, office);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::GetSalesOfficeReportResponse();
  }

  SalesOfficesProjection projection_;
  MemoryView view_;
  uint64_t sequence_ = 0;
  int ids_ = 0;
};

const common::v1::Actor kWeb = Actor(common::v1::WEB, "", "");
const common::v1::Actor kPekA = Actor(common::v1::SALES_OFFICE, "PEK01", "a1");
const common::v1::Actor kPekB = Actor(common::v1::SALES_OFFICE, "PEK01", "b2");
const common::v1::Actor kSha = Actor(common::v1::SALES_OFFICE, "SHA01", "c3");
const common::v1::Actor kCall = Actor(common::v1::CALL_CENTRE, "CC01", "d4");

TEST_F(SalesOfficesTest, CountsEachActivityForItsActorAndSumsOffices) {
  const absl::CivilDay day = D(2026, 4, 10);
  Enrol(kWeb, day);
  Enrol(kWeb, day);
  Enrol(kPekA, day);
  Enrol(kPekB, day);
  Enrol(kCall, day);
  av1::RetroClaim approved = Submit(kPekA, day);
  av1::RetroClaim rejected = Submit(kPekA, day);
  Submit(kSha, day);
  Decide(approved, true, day);
  Decide(rejected, false, day);
  rv1::RedemptionRecord issued = Hold(kPekB, day, 25000);
  Hold(kPekB, day, 40000);
  Issue(issued, day);

  v1::GetSalesOfficeReportResponse r = Report(day, day);
  // by channel (WEB=1 < CALL_CENTRE=2 < SALES_OFFICE=3), office, operator.
  ASSERT_EQ(r.by_agent_size(), 5);
  EXPECT_EQ(r.by_agent(0).channel(), common::v1::WEB);
  EXPECT_EQ(r.by_agent(0).office_code(), "");
  EXPECT_EQ(r.by_agent(0).enrolments(), 2);
  EXPECT_EQ(r.by_agent(1).channel(), common::v1::CALL_CENTRE);
  const v1::SalesOfficeRow& a = r.by_agent(2);
  EXPECT_EQ(a.office_code(), "PEK01");
  EXPECT_EQ(a.operator_id(), "a1");
  EXPECT_EQ(a.enrolments(), 1);
  EXPECT_EQ(a.retro_claims_submitted(), 2);
  // Decided by HQ staff, counted for the submitter.
  EXPECT_EQ(a.retro_claims_approved(), 1);
  EXPECT_EQ(a.retro_claims_rejected(), 1);
  const v1::SalesOfficeRow& b = r.by_agent(3);
  EXPECT_EQ(b.operator_id(), "b2");
  EXPECT_EQ(b.redemptions_created(), 2);
  // Issued at a counter, counted for the creator.
  EXPECT_EQ(b.redemptions_issued(), 1);
  EXPECT_EQ(b.redemption_miles(), 25000);
  EXPECT_EQ(r.by_agent(4).office_code(), "SHA01");

  ASSERT_EQ(r.by_office_size(), 4);
  const v1::SalesOfficeRow& pek = r.by_office(2);
  EXPECT_EQ(pek.office_code(), "PEK01");
  EXPECT_EQ(pek.operator_id(), "");
  EXPECT_EQ(pek.enrolments(), 2);
  EXPECT_EQ(pek.retro_claims_submitted(), 2);
  EXPECT_EQ(pek.redemptions_created(), 2);
  EXPECT_EQ(pek.redemption_miles(), 25000);
  EXPECT_EQ(r.by_office(3).office_code(), "SHA01");
  EXPECT_EQ(r.by_office(3).retro_claims_submitted(), 1);
}

TEST_F(SalesOfficesTest, EachStepCountsByItsOwnDateAndEdgesAreClipped) {
  av1::RetroClaim claim = Submit(kPekA, D(2026, 1, 31));
  Decide(claim, true, D(2026, 2, 1));
  rv1::RedemptionRecord record = Hold(kPekB, D(2026, 2, 28), 10000);
  Issue(record, D(2026, 3, 1));
  Enrol(kPekA, D(2026, 3, 2));

  v1::GetSalesOfficeReportResponse feb = Report(D(2026, 2, 1), D(2026, 2, 28));
  ASSERT_EQ(feb.by_office_size(), 1);
  EXPECT_EQ(feb.by_office(0).retro_claims_submitted(), 0);
  EXPECT_EQ(feb.by_office(0).retro_claims_approved(), 1);
  EXPECT_EQ(feb.by_office(0).redemptions_created(), 1);
  EXPECT_EQ(feb.by_office(0).redemptions_issued(), 0);

  v1::GetSalesOfficeReportResponse edges =
      Report(D(2026, 1, 31), D(2026, 3, 1));
  ASSERT_EQ(edges.by_office_size(), 1);
  EXPECT_EQ(edges.by_office(0).retro_claims_submitted(), 1);
  EXPECT_EQ(edges.by_office(0).redemptions_issued(), 1);
  EXPECT_EQ(edges.by_office(0).redemption_miles(), 10000);
  EXPECT_EQ(edges.by_office(0).enrolments(), 0);

  // Nothing in the range: no rows at all.
  v1::GetSalesOfficeReportResponse none =
      Report(D(2026, 3, 3), D(2026, 12, 31));
  EXPECT_EQ(none.by_office_size(), 0);
  EXPECT_EQ(none.by_agent_size(), 0);
}

TEST_F(SalesOfficesTest, OfficeFilterKeepsOneOffice) {
  const absl::CivilDay day = D(2026, 4, 10);
  Enrol(kWeb, day);
  Enrol(kPekA, day);
  Enrol(kPekB, day);
  Enrol(kSha, day);
  v1::GetSalesOfficeReportResponse r =
      Report(D(2026, 1, 1), D(2026, 12, 31), "PEK01");
  ASSERT_EQ(r.by_office_size(), 1);
  EXPECT_EQ(r.by_office(0).enrolments(), 2);
  ASSERT_EQ(r.by_agent_size(), 2);
  EXPECT_EQ(r.by_agent(0).operator_id(), "a1");
  EXPECT_EQ(r.by_agent(1).operator_id(), "b2");
}

TEST_F(SalesOfficesTest, MissingTimestampFallsBackToRecordedAt) {
  mv1::MemberEnrolled enrolled;
  *enrolled.mutable_member()->mutable_enrolment() = kSha;
  Post(kMembershipSource, enrolled, D(2026, 7, 4));
  EXPECT_EQ(Report(D(2026, 7, 4), D(2026, 7, 4)).by_office(0).enrolments(), 1);
}

TEST_F(SalesOfficesTest, IgnoresEventsOfOtherKindsAndSources) {
  mv1::MemberEnrolled enrolled;
  *enrolled.mutable_member()->mutable_enrolment() = kSha;
  *enrolled.mutable_member()->mutable_enrolled_at() = At(D(2026, 7, 4));
  Post(kSettlementSource, enrolled, D(2026, 7, 4));
  av1::CreditPosted credit;
  Post(kAccrualSource, credit, D(2026, 7, 4));
  rv1::RedemptionCancelled cancelled;
  Post(kRedemptionSource, cancelled, D(2026, 7, 4));
  EXPECT_EQ(Report(D(2026, 7, 1), D(2026, 7, 31)).by_office_size(), 0);
}

TEST_F(SalesOfficesTest, BadRequestsNameTheField) {
  absl::StatusOr<v1::GetSalesOfficeReportResponse> r =
      Query(D(2026, 2, 1), D(2026, 1, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(mileagebank::testing::NamesField(r.status(), "range.to_date"));
  r = Query(D(2020, 1, 1), D(2030, 1, 1));
  EXPECT_TRUE(mileagebank::testing::NamesField(r.status(), "range.to_date"));
  r = Query(D(2026, 1, 1), D(2026, 1, 31), std::string(33, 'X'));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(mileagebank::testing::NamesField(r.status(), "office_code"));
}

}  // namespace
}  // namespace mileagebank::reporting
