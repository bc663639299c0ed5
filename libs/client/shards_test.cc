#include "libs/client/shards.h"

#include <map>

#include "gtest/gtest.h"
#include "libs/client/shard_streams.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::client {
namespace {

TEST(ShardsTest, OneShardHoldsEveryone) {
  EXPECT_EQ(ShardOfMember("123456789", 1), 0);
  EXPECT_EQ(RouteOf(membership::v1::FindMembersRequest(), 1).kind,
            Route::Kind::kShard);
}

TEST(ShardsTest, MembersSpreadEvenlyAndStably) {
  std::map<int, int> counts;
  for (int serial = 100000000; serial < 100003000; ++serial) {
    counts[ShardOfMember(std::to_string(serial), 3)]++;
  }
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [shard, count] : counts) {
    EXPECT_GT(count, 850) << shard;
    EXPECT_LT(count, 1150) << shard;
  }
  // The layout of stored data depends on these: they must never change.
  EXPECT_EQ(ShardOfMember("100000018", 3), ShardOfMember("100000018", 3));
  EXPECT_EQ(ShardOfMember("", 3), 14695981039346656037ULL % 3);
}

TEST(ShardsTest, RequestsGoToTheirMembersShard) {
  accrual::v1::GetBalanceRequest balance;
  balance.set_member_number("100000018");
  Route route = RouteOf(balance, 3);
  EXPECT_EQ(route.kind, Route::Kind::kShard);
  EXPECT_EQ(route.shard, ShardOfMember("100000018", 3));

  accrual::v1::CaptureHoldRequest capture;
  capture.set_hold_id("100000018-H7");
  EXPECT_EQ(RouteOf(capture, 3).shard, route.shard);

  accrual::v1::TransferMilesRequest transfer;
  transfer.set_from_member_number("100000018");
  transfer.set_to_member_number("100000026");
  EXPECT_EQ(RouteOf(transfer, 3).shard, route.shard);
}

TEST(ShardsTest, EnrolmentsMeetOnTheirDocumentsShard) {
  membership::v1::EnrolRequest a;
  a.mutable_profile()->mutable_identity_document()->set_type(membership::v1::PASSPORT);
  a.mutable_profile()->mutable_identity_document()->set_issuing_country("CN");
  a.mutable_profile()->mutable_identity_document()->set_number("E1234567");
  membership::v1::EnrolRequest b = a;
  b.mutable_profile()->mutable_identity_document()->set_number(" e1234567");
  EXPECT_EQ(RouteOf(a, 7).kind, Route::Kind::kShard);
  EXPECT_EQ(RouteOf(a, 7).shard, RouteOf(b, 7).shard);
}

TEST(ShardsTest, RequestsWithoutAMemberAreLeftToTheCaller) {
  redemption::v1::GetRedemptionRequest get;
  get.set_redemption_id("R0123");
  EXPECT_EQ(RouteOf(get, 3).kind, Route::Kind::kUnkeyed);
  EXPECT_EQ(RouteOf(membership::v1::FindMembersRequest(), 3).kind,
            Route::Kind::kUnkeyed);
}

TEST(ShardStreamsTest, NamesOneStreamPerShard) {
  std::vector<ShardStream> one = ShardStreams("accrual", "h:1");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].source, "accrual");
  std::vector<ShardStream> three = ShardStreams("accrual", "h:1, h:2,h:3");
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[1].source, "accrual-1");
  EXPECT_EQ(three[1].target, "h:2");
  EXPECT_EQ(ServiceOfStream("accrual-12"), "accrual");
  EXPECT_EQ(ServiceOfStream("accrual"), "accrual");
  EXPECT_EQ(ServiceOfStream("two-words"), "two-words");
}

TEST(ShardStreamsTest, ANeighbourShardIsItsNamesake) {
  EXPECT_EQ(*NamesakeTarget("accrual_target", "h:1", 2, 3), "h:1");
  EXPECT_EQ(*NamesakeTarget("accrual_target", "h:1,h:2,h:3", 2, 3), "h:3");
  absl::StatusOr<std::string> wrong = NamesakeTarget("accrual_target", "h:1,h:2", 0, 3);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("accrual_target"), absl::string_view::npos);
}

}  // namespace
}  // namespace mileagebank::client
