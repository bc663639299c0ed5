#include "services/reporting/members.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/validation/dates.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace mv1 = membership::v1;
using absl::CivilDay;

absl::Time Noon(CivilDay day) {
  return absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(12);
}

class MembersTest : public ::testing::Test {
 protected:
  MembersTest() : projection_(tiers::TierThresholds{}) {}

  void Apply(const google::protobuf::Message& payload, CivilDay recorded,
             absl::string_view source = kMembershipSource) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(Noon(recorded));
    event.mutable_payload()->PackFrom(payload);
    const absl::Status applied = projection_.Apply(SourceEvent(source, event), view_);
    ASSERT_TRUE(applied.ok()) << applied;
  }

  void Enrol(const std::string& number, CivilDay day,
             const std::string& nationality = "CN",
             common::v1::Channel channel = common::v1::WEB,
             const std::string& office = "") {
    mv1::MemberEnrolled enrolled;
    mv1::Member* member = enrolled.mutable_member();
    member->set_member_number(number);
    member->set_status(mv1::ACTIVE);
    member->mutable_profile()->set_family_name("Li");
    member->mutable_profile()->set_nationality(nationality);
    member->mutable_enrolment()->set_channel(channel);
    member->mutable_enrolment()->set_office_code(office);
    *member->mutable_enrolled_at() = validation::ToProtoTimestamp(Noon(day));
    member->set_tier(mv1::BLUE);
    Apply(enrolled, day);
  }

  void SetStatus(const std::string& number, mv1::MemberStatus from,
                 mv1::MemberStatus to, CivilDay day) {
    mv1::StatusChanged changed;
    changed.set_member_number(number);
    changed.set_from_status(from);
    changed.set_to_status(to);
    Apply(changed, day);
  }

  void Activity(const std::string& number, CivilDay flown, int64_t miles,
                int32_t segments, CivilDay recorded, bool reversal = false) {
    mv1::QualifyingActivityRecorded activity;
    activity.set_member_number(number);
    activity.set_activity_id(absl::StrCat("A", ++activities_));
    *activity.mutable_activity_date() = validation::ToProtoDate(flown);
    activity.set_qualifying_miles(miles);
    activity.set_qualifying_segments(segments);
    activity.set_reversal(reversal);
    Apply(activity, recorded);
  }

  v1::GetMembersReportResponse Report(CivilDay from, CivilDay to,
                                      CivilDay today) {
    v1::GetMembersReportRequest request;
    *request.mutable_range()->mutable_from_date() =
        validation::ToProtoDate(from);
    *request.mutable_range()->mutable_to_date() = validation::ToProtoDate(to);
    ReportContext context{Noon(today), nullptr};
    absl::StatusOr<v1::GetMembersReportResponse> response =
        MembersReport(view_, request, context);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::GetMembersReportResponse();
  }

  std::map<mv1::Tier, int64_t> Tiers(const v1::GetMembersReportResponse& r) {
    std::map<mv1::Tier, int64_t> tiers;
    for (const auto& row : r.by_tier()) tiers[row.tier()] = row.members();
    return tiers;
  }

  std::map<mv1::MemberStatus, int64_t> Statuses(
      const v1::GetMembersReportResponse& r) {
    std::map<mv1::MemberStatus, int64_t> statuses;
    for (const auto& row : r.by_status())
      statuses[row.status()] = row.members();
    return statuses;
  }

  std::map<mv1::Tier, int64_t> TierMap(int64_t blue, int64_t silver,
                                       int64_t gold, int64_t platinum) {
    return {{mv1::BLUE, blue},
            {mv1::SILVER, silver},
            {mv1::GOLD, gold},
            {mv1::PLATINUM, platinum}};
  }

  MemoryView view_;
  MembersProjection projection_;
  uint64_t sequence_ = 0;
  int activities_ = 0;
};

TEST_F(MembersTest, CountsEnrolmentsStatusesAndNationalities) {
  Enrol("100000001", CivilDay(2026, 1, 10), "CN", common::v1::WEB);
  Enrol("100000002", CivilDay(2026, 1, 20), "US", common::v1::SALES_OFFICE,
        "PEK01");
  Enrol("100000003", CivilDay(2026, 2, 5), "US", common::v1::SALES_OFFICE,
        "PEK01");
  Enrol("100000004", CivilDay(2026, 3, 1), "DE", common::v1::SALES_OFFICE,
        "CAN02");
  SetStatus("100000002", mv1::ACTIVE, mv1::SUSPENDED, CivilDay(2026, 3, 10));
  SetStatus("100000003", mv1::ACTIVE, mv1::CLOSED, CivilDay(2026, 3, 20));

  const v1::GetMembersReportResponse report = Report(
      CivilDay(2026, 1, 15), CivilDay(2026, 3, 31), CivilDay(2026, 6, 1));
  EXPECT_EQ(report.summary().total_members(), 4);
  EXPECT_EQ(report.summary().current_members(), 3);
  EXPECT_EQ(report.summary().enrolments(), 3);  // Not the one of 10 January.
  EXPECT_EQ(Statuses(report),
            (std::map<mv1::MemberStatus, int64_t>{{mv1::ACTIVE, 2},
                                                  {mv1::SUSPENDED, 1},
                                                  {mv1::CLOSED, 1},
                                                  {mv1::MERGED, 0}}));
  EXPECT_EQ(Tiers(report), TierMap(3, 0, 0, 0));

  // CLOSED is not current: US keeps one member, so CN, DE and US tie at 1
  // and come by code.
  ASSERT_EQ(report.by_nationality_size(), 3);
  EXPECT_EQ(report.by_nationality(0).nationality(), "CN");
  EXPECT_EQ(report.by_nationality(1).nationality(), "DE");
  EXPECT_EQ(report.by_nationality(2).nationality(), "US");
  EXPECT_EQ(report.by_nationality(2).members(), 1);

  ASSERT_EQ(report.enrolments_by_channel_size(), 2);
  EXPECT_EQ(report.enrolments_by_channel(0).channel(),
            common::v1::SALES_OFFICE);
  EXPECT_EQ(report.enrolments_by_channel(0).office_code(), "CAN02");
  EXPECT_EQ(report.enrolments_by_channel(0).enrolments(), 1);
  EXPECT_EQ(report.enrolments_by_channel(1).office_code(), "PEK01");
  EXPECT_EQ(report.enrolments_by_channel(1).enrolments(), 2);

  ASSERT_EQ(report.enrolments_by_month_size(), 3);
  EXPECT_EQ(report.enrolments_by_month(0).month(), 1);
  EXPECT_EQ(report.enrolments_by_month(0).enrolments(), 1);  // Clipped.
  EXPECT_EQ(report.enrolments_by_month(1).enrolments(), 1);
  EXPECT_EQ(report.enrolments_by_month(2).year(), 2026);
  EXPECT_EQ(report.enrolments_by_month(2).enrolments(), 1);
}

TEST_F(MembersTest, StockIsAsAtTheEndOfToDate) {
  Enrol("100000001", CivilDay(2026, 1, 10), "CN");
  Enrol("100000002", CivilDay(2026, 1, 20), "CN");
  SetStatus("100000002", mv1::ACTIVE, mv1::CLOSED, CivilDay(2026, 3, 10));

  const auto before_close =
      Report(CivilDay(2026, 1, 1), CivilDay(2026, 3, 9), CivilDay(2026, 6, 1));
  EXPECT_EQ(before_close.summary().current_members(), 2);
  ASSERT_EQ(before_close.by_nationality_size(), 1);
  EXPECT_EQ(before_close.by_nationality(0).members(), 2);

  const auto on_close =
      Report(CivilDay(2026, 1, 1), CivilDay(2026, 3, 10), CivilDay(2026, 6, 1));
  EXPECT_EQ(on_close.summary().current_members(), 1);
  EXPECT_EQ(on_close.summary().total_members(), 2);

  const auto before_any = Report(CivilDay(2025, 1, 1), CivilDay(2025, 12, 31),
                                 CivilDay(2026, 6, 1));
  EXPECT_EQ(before_any.summary().total_members(), 0);
  EXPECT_EQ(Tiers(before_any), TierMap(0, 0, 0, 0));
  EXPECT_EQ(before_any.by_nationality_size(), 0);
  ASSERT_EQ(before_any.enrolments_by_month_size(), 12);
  for (const auto& month : before_any.enrolments_by_month()) {
    EXPECT_EQ(month.enrolments(), 0);
  }
  EXPECT_EQ(before_any.enrolments_by_channel_size(), 0);
}

TEST_F(MembersTest, TierHoldsThroughTheNextYearThenLapses) {
  Enrol("100000001", CivilDay(2025, 1, 10));
  Enrol("100000002", CivilDay(2025, 1, 10));
  // 50,000 QM in 2025: GOLD for the rest of 2025 and all of 2026.
  Activity("100000001", CivilDay(2025, 5, 30), 50'000, 10,
           CivilDay(2025, 6, 1));
  // 30 QS in 2026: SILVER for 2026 and 2027.
  Activity("100000002", CivilDay(2026, 2, 1), 1'000, 30, CivilDay(2026, 2, 2));

  const CivilDay today(2030, 1, 1);
  auto tiers_on = [&](CivilDay day) {
    return Tiers(Report(CivilDay(2025, 1, 1), day, today));
  };
  EXPECT_EQ(tiers_on(CivilDay(2025, 5, 31)), TierMap(2, 0, 0, 0));
  EXPECT_EQ(tiers_on(CivilDay(2025, 6, 1)), TierMap(1, 0, 1, 0));
  EXPECT_EQ(tiers_on(CivilDay(2026, 2, 1)), TierMap(1, 0, 1, 0));
  EXPECT_EQ(tiers_on(CivilDay(2026, 2, 2)), TierMap(0, 1, 1, 0));
  EXPECT_EQ(tiers_on(CivilDay(2026, 12, 31)), TierMap(0, 1, 1, 0));
  EXPECT_EQ(tiers_on(CivilDay(2027, 1, 1)), TierMap(1, 1, 0, 0));
  EXPECT_EQ(tiers_on(CivilDay(2028, 1, 1)), TierMap(2, 0, 0, 0));

  // A to_date after today is today's state.
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2030, 12, 31),
                         CivilDay(2026, 6, 1))),
            TierMap(0, 1, 1, 0));
}

TEST_F(MembersTest, ReversalTakesTheTierBackFromItsDay) {
  Enrol("100000001", CivilDay(2026, 1, 10));
  Activity("100000001", CivilDay(2026, 1, 15), 20'000, 5,
           CivilDay(2026, 1, 16));
  Activity("100000001", CivilDay(2026, 1, 20), 10'000, 5,
           CivilDay(2026, 1, 21));
  Activity("100000001", CivilDay(2026, 1, 20), 10'000, 5, CivilDay(2026, 3, 1),
           /*reversal=*/true);
  const CivilDay today(2026, 6, 1);
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 28), today)),
            TierMap(0, 1, 0, 0));
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 3, 1), today)),
            TierMap(1, 0, 0, 0));
}

TEST_F(MembersTest, SuspendedCountsInItsTierClosedDoesNot) {
  Enrol("100000001", CivilDay(2026, 1, 10));
  Activity("100000001", CivilDay(2026, 1, 15), 100'000, 5,
           CivilDay(2026, 1, 16));
  SetStatus("100000001", mv1::ACTIVE, mv1::SUSPENDED, CivilDay(2026, 2, 1));
  const CivilDay today(2026, 6, 1);
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 1), today)),
            TierMap(0, 0, 0, 1));
  SetStatus("100000001", mv1::SUSPENDED, mv1::CLOSED, CivilDay(2026, 3, 1));
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 3, 1), today)),
            TierMap(0, 0, 0, 0));
  SetStatus("100000001", mv1::CLOSED, mv1::ACTIVE, CivilDay(2026, 4, 1));
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 4, 1), today)),
            TierMap(0, 0, 0, 1));
}

TEST_F(MembersTest, MergeMovesQualifyingActivityToTheTarget) {
  Enrol("100000001", CivilDay(2026, 1, 10));
  Enrol("100000002", CivilDay(2026, 1, 10));
  Activity("100000001", CivilDay(2026, 2, 1), 30'000, 5, CivilDay(2026, 2, 2));
  Activity("100000002", CivilDay(2026, 2, 1), 25'000, 5, CivilDay(2026, 2, 2));
  const CivilDay today(2026, 6, 1);
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 28), today)),
            TierMap(0, 2, 0, 0));

  mv1::MembersMerged merged;
  merged.set_source_member_number("100000001");
  merged.set_target_member_number("100000002");
  Apply(merged, CivilDay(2026, 3, 1));
  SetStatus("100000001", mv1::ACTIVE, mv1::MERGED, CivilDay(2026, 3, 1));

  const auto after = Report(CivilDay(2026, 1, 1), CivilDay(2026, 3, 1), today);
  EXPECT_EQ(Tiers(after), TierMap(0, 0, 1, 0));  // 55,000 QM: GOLD.
  EXPECT_EQ(Statuses(after)[mv1::MERGED], 1);
  EXPECT_EQ(after.summary().total_members(), 2);
  EXPECT_EQ(after.summary().current_members(), 1);
  EXPECT_EQ(Tiers(Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 28), today)),
            TierMap(0, 2, 0, 0));
}

TEST_F(MembersTest, ProfileUpdateMovesTheNationality) {
  Enrol("100000001", CivilDay(2026, 1, 10), "CN");
  Enrol("100000002", CivilDay(2026, 1, 10), "CN");
  Enrol("100000003", CivilDay(2026, 1, 10), "JP");
  mv1::ProfileUpdated updated;
  updated.set_member_number("100000001");
  updated.mutable_profile()->set_family_name("Li");
  updated.mutable_profile()->set_nationality("JP");
  Apply(updated, CivilDay(2026, 2, 1));

  const auto report =
      Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 1), CivilDay(2026, 6, 1));
  ASSERT_EQ(report.by_nationality_size(), 2);
  EXPECT_EQ(report.by_nationality(0).nationality(), "JP");
  EXPECT_EQ(report.by_nationality(0).members(), 2);
  EXPECT_EQ(report.by_nationality(1).nationality(), "CN");
  EXPECT_EQ(report.by_nationality(1).members(), 1);
}

TEST_F(MembersTest, OtherSourcesAndUnknownEventsChangeNothing) {
  Enrol("100000001", CivilDay(2026, 1, 10));
  Enrol("100000002", CivilDay(2026, 1, 10), "CN", common::v1::WEB, "");
  // The same payload from another source is not membership's.
  mv1::MemberEnrolled enrolled;
  enrolled.mutable_member()->set_member_number("100000009");
  Apply(enrolled, CivilDay(2026, 1, 10), kAccrualSource);
  mv1::PasswordChanged password;
  password.set_member_number("100000001");
  Apply(password, CivilDay(2026, 1, 11));
  const auto report =
      Report(CivilDay(2026, 1, 1), CivilDay(2026, 1, 31), CivilDay(2026, 6, 1));
  EXPECT_EQ(report.summary().total_members(), 2);
  EXPECT_EQ(report.summary().enrolments(), 2);
}

TEST_F(MembersTest, WholeAndPartMonthsAgree) {
  // Enrolments on the first and last days of months, read once from the
  // monthly rows (whole months) and once from the daily ones (clipped).
  Enrol("100000001", CivilDay(2026, 1, 1));
  Enrol("100000002", CivilDay(2026, 1, 31));
  Enrol("100000003", CivilDay(2026, 2, 1));
  Enrol("100000004", CivilDay(2026, 2, 28));
  const CivilDay today(2026, 6, 1);
  const auto whole = Report(CivilDay(2026, 1, 1), CivilDay(2026, 2, 28), today);
  EXPECT_EQ(whole.summary().enrolments(), 4);
  const auto parts = Report(CivilDay(2026, 1, 2), CivilDay(2026, 2, 27), today);
  EXPECT_EQ(parts.summary().enrolments(), 2);
  ASSERT_EQ(parts.enrolments_by_month_size(), 2);
  EXPECT_EQ(parts.enrolments_by_month(0).enrolments(), 1);
  EXPECT_EQ(parts.enrolments_by_month(1).enrolments(), 1);
}

TEST_F(MembersTest, BadRangeNamesTheField) {
  v1::GetMembersReportRequest request;
  *request.mutable_range()->mutable_from_date() =
      validation::ToProtoDate(CivilDay(2026, 3, 1));
  absl::StatusOr<v1::GetMembersReportResponse> response = MembersReport(
      view_, request, ReportContext{Noon(CivilDay(2026, 6, 1)), nullptr});
  ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(response.status().message().find("range.to_date"),
            std::string::npos);
}

TEST_F(MembersTest, AggregatesAgreeWithARecount) {
  Enrol("100000001", CivilDay(2025, 1, 10));
  Enrol("100000002", CivilDay(2025, 1, 10));
  Enrol("100000003", CivilDay(2025, 1, 10));
  Enrol("100000004", CivilDay(2025, 1, 10));
  Activity("100000001", CivilDay(2025, 3, 1), 120'000, 10,
           CivilDay(2025, 3, 2));
  Activity("100000002", CivilDay(2025, 12, 30), 60'000, 10,
           CivilDay(2026, 1, 2));
  Activity("100000003", CivilDay(2026, 3, 1), 30'000, 10, CivilDay(2026, 3, 2));
  SetStatus("100000004", mv1::ACTIVE, mv1::SUSPENDED, CivilDay(2026, 4, 1));
  // After every event: the recount reads the records as they are now.
  for (const CivilDay day :
       {CivilDay(2026, 6, 1), CivilDay(2027, 6, 1), CivilDay(2028, 6, 1)}) {
    auto current = CurrentTierCounts(view_, Noon(day));
    auto recount = RecountTiers(view_, Noon(day));
    ASSERT_TRUE(current.ok() && recount.ok());
    EXPECT_EQ(*current, *recount) << day;
  }
  EXPECT_EQ(*CurrentTierCounts(view_, Noon(CivilDay(2026, 6, 1))),
            TierMap(1, 1, 1, 1));
  EXPECT_EQ(*CurrentTierCounts(view_, Noon(CivilDay(2027, 6, 1))),
            TierMap(3, 1, 0, 0));
}

TEST(MemberRowTest, EncodesAsTheStoredMessageDoesAndDecodesBack) {
  MemberRow row;
  row.member_number = "1000000019";
  row.enrolled = true;
  row.status = mv1::SUSPENDED;
  row.nationality = "CN";
  row.family_name = "A family name longer than fifteen bytes";
  row.given_name = "";  // Empty strings are left out.
  row.marketing_consent = true;
  row.years = {{2024, 30000, 12, mv1::SILVER},
               {2025, -5, -1, mv1::BLUE},  // Negatives: 10-byte varints.
               {2026, 0, 0, mv1::TIER_UNSPECIFIED},  // Zeros are left out.
               {-7, int64_t{1} << 40, 3, mv1::PLATINUM}};
  members_records::MemberRecord message;
  message.set_member_number(row.member_number);
  message.set_enrolled(row.enrolled);
  message.set_status(row.status);
  message.set_nationality(row.nationality);
  message.set_family_name(row.family_name);
  message.set_given_name(row.given_name);
  message.set_marketing_consent(row.marketing_consent);
  for (const MemberRow::Year& year : row.years) {
    members_records::YearTotals* added = message.add_years();
    added->set_year(year.year);
    added->set_qualifying_miles(year.qualifying_miles);
    added->set_qualifying_segments(year.qualifying_segments);
    added->set_earned_tier(year.earned_tier);
  }
  EXPECT_EQ(row.Encode(), message.SerializeAsString());
  EXPECT_EQ(MemberRow().Encode(), "");

  MemberRow decoded;
  decoded.given_name = "stale";
  decoded.years = {{2020, 1, 1, mv1::GOLD}};
  ASSERT_TRUE(decoded.Decode(message.SerializeAsString()));
  EXPECT_EQ(decoded.Encode(), row.Encode());
  EXPECT_FALSE(decoded.Decode("\xff"));
}

}  // namespace
}  // namespace mileagebank::reporting
