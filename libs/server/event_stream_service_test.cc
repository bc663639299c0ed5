// EventStreamService over a real store and a real gRPC channel: a
// subscriber resumes after its cursor, and one whose cursor lies beyond the
// stream (its source was restored to an earlier backup) is refused rather
// than handed new events under numbers it has already consumed.
#include "libs/server/event_stream_service.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/loopback_server.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::server {
namespace {

class EventStreamServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::Open(
        {.path = mileagebank::testing::FreshTestDir(), .tables = {}}));
    for (int i = 1; i <= 5; ++i) {
      common::v1::Money money;
      money.set_minor_units(i);
      store::WriteBatch batch = store_->NewBatch();
      batch.AppendEvent("k", money);
      ASSERT_TRUE(store_->Commit(batch).ok());
    }
    service_ = std::make_unique<EventStreamService>(store_.get());
    served_ = mileagebank::testing::ServeOnLoopback({service_.get()});
    ASSERT_NE(served_.server, nullptr);
    stub_ = common::v1::EventStream::NewStub(grpc::CreateChannel(
        served_.target, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    served_.server->Shutdown();
    store_->StopWaiters();
  }

  // Replays after `after_sequence` without following; the sequences read.
  grpc::Status Replay(uint64_t after_sequence, std::vector<uint64_t>* read) {
    grpc::ClientContext context;
    common::v1::SubscribeRequest request;
    request.set_after_sequence(after_sequence);
    auto reader = stub_->Subscribe(&context, request);
    common::v1::Event event;
    while (reader->Read(&event)) read->push_back(event.sequence());
    return reader->Finish();
  }

  // The same with SubscribeBatched: the messages read, as they came.
  grpc::Status ReplayBatched(uint64_t after_sequence,
                             std::vector<common::v1::EventBatch>* read,
                             std::vector<std::string> payload_types = {}) {
    grpc::ClientContext context;
    common::v1::SubscribeRequest request;
    request.set_after_sequence(after_sequence);
    for (std::string& type : payload_types) {
      request.add_payload_types(std::move(type));
    }
    auto reader = stub_->SubscribeBatched(&context, request);
    common::v1::EventBatch batch;
    while (reader->Read(&batch)) read->push_back(batch);
    return reader->Finish();
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<EventStreamService> service_;
  mileagebank::testing::LoopbackServer served_;
  std::unique_ptr<common::v1::EventStream::Stub> stub_;
};

TEST_F(EventStreamServiceTest, ResumesAfterTheCursor) {
  std::vector<uint64_t> read;
  ASSERT_TRUE(Replay(2, &read).ok());
  EXPECT_EQ(read, (std::vector<uint64_t>{3, 4, 5}));
  read.clear();
  ASSERT_TRUE(Replay(5, &read).ok());  // Caught up: nothing, and no error.
  EXPECT_TRUE(read.empty());
}

TEST_F(EventStreamServiceTest, BatchedCarriesTheSameEventsInFewerMessages) {
  std::vector<common::v1::EventBatch> batches;
  ASSERT_TRUE(ReplayBatched(1, &batches).ok());
  ASSERT_EQ(batches.size(), 1u);
  std::vector<uint64_t> read;
  for (const common::v1::Event& event : batches[0].events()) {
    read.push_back(event.sequence());
    EXPECT_EQ(event.key(), "k");
  }
  EXPECT_EQ(read, (std::vector<uint64_t>{2, 3, 4, 5}));
}

TEST_F(EventStreamServiceTest, BatchesStopNearAMebibyteAndKeepTheOrder) {
  // Events of 400 kB: a read of the log is split into several messages.
  for (int i = 0; i < 5; ++i) {
    common::v1::Event big;
    big.set_key(std::string(400'000, 'a' + i));
    store::WriteBatch batch = store_->NewBatch();
    batch.AppendEvent("big", big);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  std::vector<common::v1::EventBatch> batches;
  ASSERT_TRUE(ReplayBatched(4, &batches).ok());
  std::vector<uint64_t> read;
  std::vector<int> per_message;
  for (const common::v1::EventBatch& batch : batches) {
    per_message.push_back(batch.events_size());
    for (const common::v1::Event& event : batch.events()) {
      read.push_back(event.sequence());
      common::v1::Event inner;
      if (event.key() == "big") {
        ASSERT_TRUE(event.payload().UnpackTo(&inner));
        EXPECT_EQ(inner.key(),
                  std::string(400'000, 'a' + (event.sequence() - 6)));
      }
    }
  }
  EXPECT_EQ(read, (std::vector<uint64_t>{5, 6, 7, 8, 9, 10}));
  // The small one and three big ones (past 1 MiB), then the other two.
  EXPECT_EQ(per_message, (std::vector<int>{4, 2}));
}

TEST_F(EventStreamServiceTest, PayloadTypesLeaveTheRestUnsentButReadPast) {
  // Events 6 and 7 of another type after the five Money events.
  for (int i = 0; i < 2; ++i) {
    common::v1::Actor actor;
    actor.set_operator_id("op");
    store::WriteBatch batch = store_->NewBatch();
    batch.AppendEvent("a", actor);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  const std::string money = common::v1::Money::descriptor()->full_name();
  const std::string actor = common::v1::Actor::descriptor()->full_name();

  std::vector<common::v1::EventBatch> batches;
  ASSERT_TRUE(ReplayBatched(3, &batches, {money}).ok());
  ASSERT_EQ(batches.size(), 1u);
  std::vector<uint64_t> read;
  for (const common::v1::Event& event : batches[0].events()) {
    read.push_back(event.sequence());
  }
  EXPECT_EQ(read, (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(batches[0].read_to(), 7u);  // Past the two unsent.

  // Only events of no wanted type: a message saying how far it read.
  batches.clear();
  ASSERT_TRUE(
      ReplayBatched(5, &batches, {"mileagebank.common.v1.Nothing"}).ok());
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].events_size(), 0);
  EXPECT_EQ(batches[0].read_to(), 7u);

  // The last event sent: no read_to; several types; no filter as before.
  batches.clear();
  ASSERT_TRUE(ReplayBatched(4, &batches, {actor, money}).ok());
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].events_size(), 3);
  EXPECT_EQ(batches[0].read_to(), 0u);
  batches.clear();
  ASSERT_TRUE(ReplayBatched(5, &batches).ok());
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].events_size(), 2);
  EXPECT_EQ(batches[0].read_to(), 0u);
}

TEST_F(EventStreamServiceTest, GetHeadIsTheLastDurableEvent) {
  grpc::ClientContext context;
  common::v1::GetHeadResponse head;
  ASSERT_TRUE(
      stub_->GetHead(&context, common::v1::GetHeadRequest(), &head).ok());
  EXPECT_EQ(head.last_sequence(), 5u);
}

TEST_F(EventStreamServiceTest, ACursorBeyondTheStreamIsRefused) {
  std::vector<uint64_t> read;
  grpc::Status status = Replay(9, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("after_sequence: 9 is beyond this "
                                        "stream's last event 5"),
            std::string::npos)
      << status.error_message();
  EXPECT_TRUE(read.empty());
}

}  // namespace
}  // namespace mileagebank::server
