#include "services/reporting/buckets.h"

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/store/keys.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

using absl::CivilDay;

constexpr char kTable[] = "t";

std::vector<PeriodStart> Periods(CivilDay from, CivilDay to) {
  return PeriodsCovering(ReportRange{from, to});
}

TEST(PeriodsCoveringTest, AYearIsOneYearRow) {
  EXPECT_EQ(Periods(CivilDay(2025, 1, 1), CivilDay(2025, 12, 31)),
            (std::vector<PeriodStart>{{Period::kYear, CivilDay(2025, 1, 1)}}));
}

TEST(PeriodsCoveringTest, RaggedEndsAreDaysAndTheMiddleIsMonthsAndYears) {
  const std::vector<PeriodStart> periods =
      Periods(CivilDay(2024, 11, 30), CivilDay(2026, 2, 2));
  std::vector<PeriodStart> expected = {
      {Period::kDay, CivilDay(2024, 11, 30)},
      {Period::kMonth, CivilDay(2024, 12, 1)},
      {Period::kYear, CivilDay(2025, 1, 1)},
      {Period::kMonth, CivilDay(2026, 1, 1)},
      {Period::kDay, CivilDay(2026, 2, 1)},
      {Period::kDay, CivilDay(2026, 2, 2)}};
  EXPECT_EQ(periods, expected);
}

TEST(PeriodsCoveringTest, APartOfOneMonthIsItsDays) {
  EXPECT_EQ(Periods(CivilDay(2025, 3, 5), CivilDay(2025, 3, 6)),
            (std::vector<PeriodStart>{{Period::kDay, CivilDay(2025, 3, 5)},
                                      {Period::kDay, CivilDay(2025, 3, 6)}}));
}

struct Fact {
  CivilDay day;
  std::string dims;
  int64_t value;
};

const CivilDay kFirstDay(2022, 10, 1);
constexpr int kDays = 3 * 365 + 120;

// Facts on random days and dimensions, added to `state`.
std::vector<Fact> AddRandomFacts(ViewState& state) {
  std::mt19937 random(7);
  std::vector<Fact> facts;
  const std::string dims[] = {
      store::KeyBuilder().String("LH").String("FRA").Build(),
      store::KeyBuilder().String("LH").String("MUC").Build(),
      store::KeyBuilder().String("LX").String("ZRH").Build(),
      store::KeyBuilder().String("").String("PEK").Build()};
  for (int i = 0; i < 3000; ++i) {
    Fact fact{kFirstDay + static_cast<int>(random() % kDays),
              dims[random() % 4], static_cast<int64_t>(random() % 100) - 20};
    EXPECT_TRUE(
        AddToPeriods(state, kTable, fact.day, fact.dims, {1, fact.value}).ok());
    facts.push_back(fact);
  }
  return facts;
}

// Every range read through ScanPeriods must equal the sum of the facts
// dated in it, for all dimensions and for one prefix.
void ExpectRangesAgreeWithTheFacts(const ViewReader& view,
                                   const std::vector<Fact>& facts) {
  std::mt19937 random(11);
  const std::string lh = store::KeyBuilder().String("LH").Build();
  for (int i = 0; i < 300; ++i) {
    CivilDay from = kFirstDay + static_cast<int>(random() % kDays);
    CivilDay to = kFirstDay + static_cast<int>(random() % kDays);
    if (to < from) std::swap(from, to);
    if (i % 10 == 0) {  // Whole years and months are the roll-ups' case.
      from = CivilDay(absl::CivilYear(from));
      to = CivilDay(absl::CivilMonth(to) + 1) - 1;
    }
    for (const std::string& prefix : {std::string(), lh}) {
      std::map<std::string, std::vector<int64_t>> expected, read;
      for (const Fact& fact : facts) {
        if (fact.day < from || fact.day > to ||
            fact.dims.compare(0, prefix.size(), prefix) != 0) {
          continue;
        }
        AddCounters({1, fact.value}, &expected[fact.dims]);
      }
      ASSERT_TRUE(ScanPeriods(view, kTable, ReportRange{from, to}, prefix,
                              [&](absl::string_view key,
                                  const std::vector<int64_t>& values) {
                                AddCounters(values, &read[std::string(key)]);
                                return absl::OkStatus();
                              })
                      .ok());
      EXPECT_EQ(read, expected) << from << ".." << to << " prefix "
                                << prefix.size();
    }
  }
}

TEST(ScanPeriodsTest, RollUpsAgreeWithTheDaysOnAnyRange) {
  MemoryView view;
  ExpectRangesAgreeWithTheFacts(view, AddRandomFacts(view));
}

// A rebuild's deferred roll-ups: ranges read from the days alone, then the
// derived year and month rows are those kept current fact by fact.
TEST(ScanPeriodsTest, DeferredRollUpsReadTheDaysAndDeriveTheSameRows) {
  MemoryView current;
  AddRandomFacts(current);
  MemoryView deferred;
  DeferRollUps(deferred, {kTable});
  const std::vector<Fact> facts = AddRandomFacts(deferred);
  EXPECT_LT(deferred.Rows(kTable).size(), current.Rows(kTable).size());
  ExpectRangesAgreeWithTheFacts(deferred, facts);

  const MemoryView applied = deferred;
  ASSERT_TRUE(DeriveRollUps(applied, deferred, {kTable}).ok());
  EXPECT_EQ(deferred.Rows(kTable), current.Rows(kTable));
  ExpectRangesAgreeWithTheFacts(deferred, facts);
  // Derived once: a second call finds nothing deferred.
  ASSERT_TRUE(DeriveRollUps(applied, deferred, {kTable}).ok());
  EXPECT_EQ(deferred.Rows(kTable), current.Rows(kTable));
}

TEST(ScanPeriodsTest, TheVisitsFirstErrorEndsTheScanAndIsReturned) {
  MemoryView view;
  for (int day = 0; day < 3; ++day) {
    ASSERT_TRUE(AddToPeriods(view, kTable, kFirstDay + day, "", {1}).ok());
  }
  int visits = 0;
  absl::Status status =
      ScanPeriods(view, kTable, ReportRange{kFirstDay, kFirstDay + 2}, "",
                  [&](absl::string_view, const std::vector<int64_t>&) {
                    ++visits;
                    return absl::DataLossError("unreadable dimensions");
                  });
  EXPECT_EQ(status, absl::DataLossError("unreadable dimensions"));
  EXPECT_EQ(visits, 1);
}

TEST(ScanPeriodsTest, ADayRowThatIsNotCountersIsDataLossWhenDeriving) {
  MemoryView view;
  DeferRollUps(view, {kTable});
  ASSERT_TRUE(AddToPeriods(view, kTable, kFirstDay, "", {1}).ok());
  view.Put(kTable,
           store::KeyBuilder()
               .Int64(static_cast<int64_t>(Period::kDay))
               .Day(kFirstDay + 1)
               .Build(),
           "\xff");  // A varint cut short.
  const MemoryView applied = view;
  EXPECT_EQ(DeriveRollUps(applied, view, {kTable}).code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace mileagebank::reporting
