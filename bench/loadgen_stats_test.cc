#include "bench/loadgen_stats.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace mileagebank::loadgen {
namespace {

TEST(NearestRankPercentileTest, EmptyIsZero) {
  EXPECT_EQ(NearestRankPercentile({}, 50), 0);
  EXPECT_EQ(NearestRankPercentile({}, 99), 0);
}

TEST(NearestRankPercentileTest, SingleValueIsEveryPercentile) {
  EXPECT_EQ(NearestRankPercentile({7}, 1), 7);
  EXPECT_EQ(NearestRankPercentile({7}, 50), 7);
  EXPECT_EQ(NearestRankPercentile({7}, 100), 7);
}

TEST(NearestRankPercentileTest, OneToHundredGivesThePercentItself) {
  std::vector<int64_t> values;
  for (int64_t v = 1; v <= 100; ++v) values.push_back(v);
  EXPECT_EQ(NearestRankPercentile(values, 50), 50);
  EXPECT_EQ(NearestRankPercentile(values, 90), 90);
  EXPECT_EQ(NearestRankPercentile(values, 99), 99);
  EXPECT_EQ(NearestRankPercentile(values, 99.9), 100);
  EXPECT_EQ(NearestRankPercentile(values, 100), 100);
}

TEST(NearestRankPercentileTest, ExactRankIsNotRoundedUp) {
  // 50% of 10 values is rank 5 exactly; 10% of 10 is rank 1.
  std::vector<int64_t> values = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRankPercentile(values, 50), 50);
  EXPECT_EQ(NearestRankPercentile(values, 10), 10);
  // Just over a rank boundary takes the next value.
  EXPECT_EQ(NearestRankPercentile(values, 51), 60);
}

TEST(NearestRankPercentileTest, SmallSetsRoundTheRankUp) {
  // p99 of 3 values is the largest; p50 of 3 is the middle one.
  EXPECT_EQ(NearestRankPercentile({1, 2, 3}, 99), 3);
  EXPECT_EQ(NearestRankPercentile({1, 2, 3}, 50), 2);
  // p50 of 4 values is the second (ceil(2) = 2).
  EXPECT_EQ(NearestRankPercentile({1, 2, 3, 4}, 50), 2);
}

TEST(LatencySampleTest, EmptySummaryIsAllZero) {
  LatencySample sample;
  LatencySummary summary = sample.Summarize();
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.p50_us, 0);
  EXPECT_EQ(summary.p99_us, 0);
  EXPECT_EQ(summary.max_us, 0);
  EXPECT_EQ(summary.mean_us, 0);
}

TEST(LatencySampleTest, SummarizesUnsortedValues) {
  LatencySample sample;
  for (int64_t v = 1000; v >= 1; --v) sample.Add(v);
  LatencySummary summary = sample.Summarize();
  EXPECT_EQ(summary.count, 1000);
  EXPECT_EQ(summary.p50_us, 500);
  EXPECT_EQ(summary.p90_us, 900);
  EXPECT_EQ(summary.p99_us, 990);
  EXPECT_EQ(summary.p999_us, 999);
  EXPECT_EQ(summary.max_us, 1000);
  EXPECT_DOUBLE_EQ(summary.mean_us, 500.5);
}

TEST(LatencySampleTest, MergeKeepsEveryValueOfBoth) {
  LatencySample a;
  LatencySample b;
  for (int64_t v = 1; v <= 50; ++v) a.Add(v);
  for (int64_t v = 51; v <= 100; ++v) b.Add(v);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100);
  EXPECT_EQ(b.count(), 50);
  LatencySummary summary = a.Summarize();
  EXPECT_EQ(summary.p50_us, 50);
  EXPECT_EQ(summary.p99_us, 99);
  EXPECT_EQ(summary.max_us, 100);
}

TEST(LatencySampleTest, SummarizeLeavesTheSampleUsable) {
  LatencySample sample;
  sample.Add(3);
  sample.Add(1);
  EXPECT_EQ(sample.Summarize().max_us, 3);
  sample.Add(9);
  EXPECT_EQ(sample.Summarize().max_us, 9);
  EXPECT_EQ(sample.count(), 3);
}

TEST(ResultLineTest, HasTheExactFormat) {
  EXPECT_EQ(ResultLine(18234.4, 3412, 9050, 0),
            "ops_per_s=18234 p50_ms=3.412 p99_ms=9.050 errors=0");
}

TEST(ResultLineTest, RoundsOpsAndKeepsMillisecondDecimalsExact) {
  EXPECT_EQ(ResultLine(99.5, 1, 1000000, 12),
            "ops_per_s=100 p50_ms=0.001 p99_ms=1000.000 errors=12");
  EXPECT_EQ(ResultLine(0, 0, 0, 0),
            "ops_per_s=0 p50_ms=0.000 p99_ms=0.000 errors=0");
}

TEST(ErrorTallyTest, NoErrorsGiveAnEmptyReport) {
  ErrorTally tally;
  EXPECT_EQ(tally.total(), 0);
  EXPECT_TRUE(tally.Report().empty());
}

TEST(ErrorTallyTest, CountsRepeatsOfOneMessage) {
  ErrorTally tally;
  tally.Add("FAILED_PRECONDITION: miles: more than available");
  tally.Add("UNAVAILABLE: connection refused");
  tally.Add("FAILED_PRECONDITION: miles: more than available");
  EXPECT_EQ(tally.total(), 3);
  EXPECT_EQ(tally.Report(),
            (std::vector<std::string>{
                "2 x FAILED_PRECONDITION: miles: more than available",
                "1 x UNAVAILABLE: connection refused"}));
}

TEST(ErrorTallyTest, KeepsOnlyTheFirstDistinctMessages) {
  ErrorTally tally(/*max_distinct=*/2);
  tally.Add("a");
  tally.Add("b");
  tally.Add("c");
  tally.Add("d");
  tally.Add("a");
  EXPECT_EQ(tally.total(), 5);
  EXPECT_EQ(tally.Report(),
            (std::vector<std::string>{"2 x a", "1 x b",
                                      "2 more errors with other messages"}));
}

TEST(ErrorTallyTest, CountsEveryErrorFromManyThreads) {
  ErrorTally tally;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tally] {
      for (int i = 0; i < 1000; ++i) tally.Add("same");
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(tally.total(), 4000);
  EXPECT_EQ(tally.Report(), (std::vector<std::string>{"4000 x same"}));
}

}  // namespace
}  // namespace mileagebank::loadgen
