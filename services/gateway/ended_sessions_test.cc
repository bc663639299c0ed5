#include "services/gateway/ended_sessions.h"

#include "gtest/gtest.h"

namespace mileagebank::gateway {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

TEST(EndedSessionsTest, RemembersASessionUntilItsTimeThenForgetsIt) {
  EndedSessions ended;
  ended.Add("a", kNow + absl::Minutes(15), kNow);
  EXPECT_TRUE(ended.Contains("a"));
  EXPECT_FALSE(ended.Contains("b"));
  // Forgetting happens as later sessions are added.
  ended.Add("b", kNow + absl::Hours(1), kNow + absl::Minutes(15));
  EXPECT_FALSE(ended.Contains("a"));
  EXPECT_TRUE(ended.Contains("b"));
}

TEST(EndedSessionsTest, SessionWhoseTokensHaveAllExpiredIsNotKept) {
  EndedSessions ended;
  ended.Add("a", kNow, kNow);
  EXPECT_FALSE(ended.Contains("a"));
  EXPECT_EQ(ended.last_cursor(), 0);
}

TEST(EndedSessionsTest, AfterPagesByCursorInTheOrderAdded) {
  EndedSessions ended;
  ended.Add("c", kNow + absl::Minutes(3), kNow);
  ended.Add("a", kNow + absl::Minutes(1), kNow);
  ended.Add("b", kNow + absl::Minutes(2), kNow);
  std::vector<EndedSessions::Entry> first = ended.After(0, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].session_id, "c");
  EXPECT_EQ(first[1].session_id, "a");
  std::vector<EndedSessions::Entry> rest = ended.After(first[1].cursor, 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].session_id, "b");
  EXPECT_EQ(rest[0].forget_after, kNow + absl::Minutes(2));
  EXPECT_EQ(rest[0].cursor, ended.last_cursor());
  EXPECT_TRUE(ended.After(ended.last_cursor(), 10).empty());
}

TEST(EndedSessionsTest, LaterTimeForAKnownSessionMovesItToTheEnd) {
  EndedSessions ended;
  ended.Add("a", kNow + absl::Minutes(1), kNow);
  ended.Add("b", kNow + absl::Minutes(1), kNow);
  const int64_t seen = ended.last_cursor();
  ended.Add("a", kNow + absl::Minutes(30), kNow);  // Moves: later.
  ended.Add("b", kNow + absl::Seconds(1), kNow);   // Kept: earlier.
  std::vector<EndedSessions::Entry> news = ended.After(seen, 10);
  ASSERT_EQ(news.size(), 1u);
  EXPECT_EQ(news[0].session_id, "a");
  ended.Add("c", kNow + absl::Hours(1), kNow + absl::Minutes(5));
  EXPECT_TRUE(ended.Contains("a"));
  EXPECT_FALSE(ended.Contains("b"));
}

}  // namespace
}  // namespace mileagebank::gateway
