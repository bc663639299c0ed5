#include "services/reporting/top_members.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/validation/dates.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "services/reporting/members.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace mv1 = membership::v1;
using absl::CivilDay;

absl::Time Noon(CivilDay day) {
  return absl::FromCivil(day, absl::UTCTimeZone()) + absl::Hours(12);
}

std::string Number(int i) { return absl::StrCat(100000000 + i); }

class TopMembersTest : public ::testing::Test {
 protected:
  TopMembersTest() : projection_(tiers::TierThresholds{}) {
    projection_.DeferDerived(deferred_);
  }

  void Apply(const google::protobuf::Message& payload, CivilDay recorded) {
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(Noon(recorded));
    event.mutable_payload()->PackFrom(payload);
    for (MemoryView* view : {&view_, &deferred_}) {
      const absl::Status applied =
          projection_.Apply(SourceEvent(kMembershipSource, event), *view);
      ASSERT_TRUE(applied.ok()) << applied;
    }
  }

  void Enrol(int i, bool consent = false) {
    mv1::MemberEnrolled enrolled;
    mv1::Member* member = enrolled.mutable_member();
    member->set_member_number(Number(i));
    member->set_status(mv1::ACTIVE);
    member->mutable_profile()->set_family_name(absl::StrCat("Family", i));
    member->mutable_profile()->set_given_name("Given");
    member->mutable_profile()->set_nationality("CN");
    member->mutable_profile()->set_marketing_consent(consent);
    Apply(enrolled, CivilDay(2024, 1, 1));
  }

  void Activity(int i, CivilDay flown, int64_t miles, int32_t segments) {
    mv1::QualifyingActivityRecorded activity;
    activity.set_member_number(Number(i));
    activity.set_activity_id(absl::StrCat("A", ++activities_));
    *activity.mutable_activity_date() = validation::ToProtoDate(flown);
    activity.set_qualifying_miles(miles);
    activity.set_qualifying_segments(segments);
    Apply(activity, flown);
  }

  void SetStatus(int i, mv1::MemberStatus to) {
    mv1::StatusChanged changed;
    changed.set_member_number(Number(i));
    changed.set_to_status(to);
    Apply(changed, CivilDay(2026, 5, 1));
  }

  absl::StatusOr<v1::GetTopMembersReportResponse> Query(
      CivilDay from, CivilDay to, int top_n = 0, int percent = 0, int limit = 0,
      MemoryView* view = nullptr) {
    v1::GetTopMembersReportRequest request;
    *request.mutable_range()->mutable_from_date() =
        validation::ToProtoDate(from);
    *request.mutable_range()->mutable_to_date() = validation::ToProtoDate(to);
    request.set_top_n(top_n);
    request.set_near_tier_percent(percent);
    request.set_near_tier_limit(limit);
    return TopMembersReport(
        view == nullptr ? view_ : *view, request,
        ReportContext{Noon(CivilDay(2026, 6, 1)), &config_});
  }

  std::vector<std::string> TopNumbers(
      const v1::GetTopMembersReportResponse& response) {
    std::vector<std::string> numbers;
    for (const auto& row : response.top_members()) {
      numbers.push_back(row.member_number());
    }
    return numbers;
  }

  std::vector<std::string> NearNumbers(
      const v1::GetTopMembersReportResponse& response) {
    std::vector<std::string> numbers;
    for (const auto& row : response.near_tier_members()) {
      numbers.push_back(row.member_number());
    }
    return numbers;
  }

  MemoryView view_;
  // The same events with the qualifying indexes deferred (a rebuild).
  MemoryView deferred_;
  MembersProjection projection_;
  config::v1::ReportingConfig config_;
  uint64_t sequence_ = 0;
  int activities_ = 0;
};

TEST_F(TopMembersTest, RanksByMilesThenSegmentsThenNumber) {
  for (int i = 1; i <= 6; ++i) Enrol(i, /*consent=*/i == 2);
  Activity(1, CivilDay(2026, 1, 5), 10'000, 3);
  Activity(2, CivilDay(2026, 1, 5), 20'000, 2);
  Activity(3, CivilDay(2026, 1, 5), 10'000, 5);
  Activity(4, CivilDay(2026, 1, 5), 10'000, 3);
  Activity(5, CivilDay(2026, 1, 5), 90'000, 9);    // Suspended below.
  Activity(6, CivilDay(2025, 12, 31), 99'000, 9);  // Another year.
  Activity(1, CivilDay(2026, 2, 5), 0, 1);         // Adds up within the year.
  SetStatus(5, mv1::SUSPENDED);

  auto response = Query(CivilDay(2026, 1, 1), CivilDay(2026, 12, 31));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(
      TopNumbers(*response),
      (std::vector<std::string>{Number(2), Number(3), Number(1), Number(4)}));
  const v1::TopMemberRow& first = response->top_members(0);
  EXPECT_EQ(first.rank(), 1);
  EXPECT_EQ(first.family_name(), "Family2");
  EXPECT_EQ(first.given_name(), "Given");
  EXPECT_EQ(first.qualifying_miles(), 20'000);
  EXPECT_EQ(first.qualifying_segments(), 2);
  EXPECT_TRUE(first.marketing_consent());
  EXPECT_EQ(first.tier(), mv1::BLUE);
  EXPECT_EQ(response->top_members(2).qualifying_segments(), 4);
  EXPECT_EQ(response->top_members(3).rank(), 4);

  auto two = Query(CivilDay(2026, 3, 1), CivilDay(2026, 3, 31), 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(TopNumbers(*two), (std::vector<std::string>{Number(2), Number(3)}));
}

TEST_F(TopMembersTest, SeveralYearsRankByTheirSum) {
  // Enough members that the merge reads several batches of each year.
  constexpr int kMembers = 400;
  std::vector<std::tuple<int64_t, int64_t, std::string>> expected;
  for (int i = 1; i <= kMembers; ++i) {
    Enrol(i);
    const int64_t a = (i * 7919) % 5000 * 10;
    const int64_t b = (i * 104729) % 3000 * 10;
    const int32_t qs_a = i % 7;
    const int32_t qs_b = i % 5;
    if (a > 0 || qs_a > 0) Activity(i, CivilDay(2024, 6, 1), a, qs_a);
    if (b > 0 || qs_b > 0) Activity(i, CivilDay(2025, 6, 1), b, qs_b);
    // Outside the years asked: must not count.
    if (i % 3 == 0) Activity(i, CivilDay(2026, 1, 2), 500'000, 50);
    if (a + b + qs_a + qs_b > 0) {
      expected.emplace_back(-(a + b), -(qs_a + qs_b), Number(i));
    }
  }
  std::sort(expected.begin(), expected.end());
  auto response = Query(CivilDay(2024, 1, 1), CivilDay(2025, 12, 31), 150);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->top_members_size(), 150);
  for (int rank = 0; rank < 150; ++rank) {
    const auto& row = response->top_members(rank);
    EXPECT_EQ(row.member_number(), std::get<2>(expected[rank])) << rank;
    EXPECT_EQ(row.qualifying_miles(), -std::get<0>(expected[rank]));
    EXPECT_EQ(row.qualifying_segments(), -std::get<1>(expected[rank]));
  }
  // Fewer members with activity than asked: all of them.
  auto all = Query(CivilDay(2024, 1, 1), CivilDay(2025, 12, 31), 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->top_members_size(), static_cast<int>(expected.size()));
}

TEST_F(TopMembersTest, NearTierClosestFirst) {
  for (int i = 1; i <= 8; ++i) Enrol(i, /*consent=*/true);
  const CivilDay day(2026, 3, 1);
  Activity(1, day, 23'000, 1);  // 8% short of SILVER's QM.
  Activity(2, day, 22'000, 1);  // 12%: not near.
  Activity(3, day, 1'000, 28);  // 2/30 = 6.7% short of SILVER's QS.
  Activity(4, day, 48'000, 5);  // SILVER now, 4% short of GOLD.
  Activity(5, CivilDay(2025, 3, 1), 50'000, 5);  // GOLD from last year...
  Activity(5, day, 48'000, 5);  // ...so GOLD is no next tier: 52% short.
  Activity(6, day, 24'000, 1);  // 4% short of SILVER; ties with 4.
  Activity(7, day, 24'500, 1);  // Near, but suspended below.
  Activity(8, CivilDay(2025, 3, 1), 24'000, 1);  // Last year's does not count.
  SetStatus(7, mv1::SUSPENDED);

  auto response = Query(CivilDay(2026, 1, 1), CivilDay(2026, 6, 1));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(
      NearNumbers(*response),
      (std::vector<std::string>{Number(4), Number(6), Number(3), Number(1)}));
  const v1::NearTierMemberRow& row = response->near_tier_members(0);
  EXPECT_EQ(row.tier(), mv1::SILVER);
  EXPECT_EQ(row.next_tier(), mv1::GOLD);
  EXPECT_EQ(row.qualifying_miles(), 48'000);
  EXPECT_EQ(row.qualifying_segments(), 5);
  EXPECT_EQ(row.miles_to_next_tier(), 2'000);
  EXPECT_EQ(row.segments_to_next_tier(), 55);
  EXPECT_TRUE(row.marketing_consent());
  EXPECT_EQ(row.family_name(), "Family4");
  const v1::NearTierMemberRow& by_segments = response->near_tier_members(2);
  EXPECT_EQ(by_segments.tier(), mv1::BLUE);
  EXPECT_EQ(by_segments.next_tier(), mv1::SILVER);
  EXPECT_EQ(by_segments.segments_to_next_tier(), 2);

  // A wider band takes member 2 in; a limit cuts the farthest.
  auto wider = Query(CivilDay(2026, 1, 1), CivilDay(2026, 6, 1), 0, 12, 5);
  ASSERT_TRUE(wider.ok());
  EXPECT_EQ(NearNumbers(*wider),
            (std::vector<std::string>{Number(4), Number(6), Number(3),
                                      Number(1), Number(2)}));
  auto limited = Query(CivilDay(2026, 1, 1), CivilDay(2026, 6, 1), 0, 12, 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(NearNumbers(*limited),
            (std::vector<std::string>{Number(4), Number(6)}));
}

TEST_F(TopMembersTest, NearTierUsesConfiguredThresholds) {
  config_.mutable_tiers()->mutable_silver()->set_qualifying_miles(10'000);
  Enrol(1);
  Enrol(2);
  Activity(1, CivilDay(2026, 3, 1), 9'500, 1);   // Near 10,000.
  Activity(2, CivilDay(2026, 3, 1), 23'000, 1);  // SILVER already.
  auto response = Query(CivilDay(2026, 1, 1), CivilDay(2026, 6, 1));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(NearNumbers(*response), (std::vector<std::string>{Number(1)}));
  EXPECT_EQ(response->near_tier_members(0).miles_to_next_tier(), 500);
}

TEST_F(TopMembersTest, MergedActivityRanksUnderTheTarget) {
  Enrol(1);
  Enrol(2);
  Enrol(3);
  Activity(1, CivilDay(2026, 1, 5), 30'000, 3);
  Activity(2, CivilDay(2026, 1, 5), 20'000, 2);
  Activity(3, CivilDay(2026, 1, 5), 40'000, 4);
  mv1::MembersMerged merged;
  merged.set_source_member_number(Number(1));
  merged.set_target_member_number(Number(2));
  Apply(merged, CivilDay(2026, 2, 1));
  SetStatus(1, mv1::MERGED);
  auto response = Query(CivilDay(2026, 1, 1), CivilDay(2026, 12, 31));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(TopNumbers(*response),
            (std::vector<std::string>{Number(2), Number(3)}));
  EXPECT_EQ(response->top_members(0).qualifying_miles(), 50'000);
  EXPECT_EQ(response->top_members(0).tier(), mv1::GOLD);
}

TEST_F(TopMembersTest, BadFieldsAreNamed) {
  const CivilDay from(2026, 1, 1), to(2026, 12, 31);
  for (const auto& [top_n, percent, limit, field] :
       std::vector<std::tuple<int, int, int, std::string>>{
           {1001, 0, 0, "top_n"},
           {-1, 0, 0, "top_n"},
           {0, 51, 0, "near_tier_percent"},
           {0, -5, 0, "near_tier_percent"},
           {0, 0, 10'001, "near_tier_limit"}}) {
    auto response = Query(from, to, top_n, percent, limit);
    ASSERT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument)
        << field;
    EXPECT_NE(response.status().message().find(field), std::string::npos)
        << response.status();
  }
  EXPECT_TRUE(Query(from, to, 1000, 50, 10'000).ok());
  v1::GetTopMembersReportRequest no_range;
  EXPECT_EQ(
      TopMembersReport(view_, no_range, ReportContext{Noon(from), &config_})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(TopMembersTest, DeferredIndexesAnswerTheSameAndDeriveTheSameRows) {
  for (int i = 1; i <= 60; ++i) {
    Enrol(i);
    Activity(i, CivilDay(2025, 3, 1), (i * 7919) % 60'000, i % 40);
    Activity(i, CivilDay(2026, 2, 1), (i * 104729) % 110'000, i % 70);
    if (i % 4 == 0) Activity(i, CivilDay(2026, 4, 1), -1'000, -1);
  }
  SetStatus(5, mv1::SUSPENDED);
  SetStatus(9, mv1::CLOSED);
  ASSERT_TRUE(*QualifyingIndexDeferred(deferred_));
  EXPECT_TRUE(deferred_.Rows(kMembersTopByQmTable).empty());

  // Read while deferred: derived from the records, the same answers.
  for (const auto& [from, to] :
       {std::pair{CivilDay(2026, 1, 1), CivilDay(2026, 12, 31)},
        std::pair{CivilDay(2025, 1, 1), CivilDay(2026, 12, 31)}}) {
    auto kept = Query(from, to, 20, 20, 50);
    auto derived = Query(from, to, 20, 20, 50, &deferred_);
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_TRUE(derived.ok()) << derived.status();
    EXPECT_GT(kept->top_members_size(), 0);
    EXPECT_GT(kept->near_tier_members_size(), 0);
    EXPECT_EQ(derived->SerializeAsString(), kept->SerializeAsString());
  }

  // Derived once: the rows kept current event by event, byte for byte.
  const MemoryView snapshot = deferred_;
  ASSERT_TRUE(projection_.DeriveDeferred(snapshot, deferred_).ok());
  EXPECT_FALSE(*QualifyingIndexDeferred(deferred_));
  for (const char* table : {kMembersTopByQmTable, kMembersTopByQsTable}) {
    EXPECT_FALSE(view_.Rows(table).empty());
    EXPECT_EQ(deferred_.Rows(table), view_.Rows(table)) << table;
  }
  // From now on kept current as usual.
  Activity(3, CivilDay(2026, 5, 1), 5'000, 2);
  for (const char* table : {kMembersTopByQmTable, kMembersTopByQsTable}) {
    EXPECT_EQ(deferred_.Rows(table), view_.Rows(table)) << table;
  }
}

}  // namespace
}  // namespace mileagebank::reporting
