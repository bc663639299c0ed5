#include <cstdlib>
#include <algorithm>
#include <filesystem>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/client/event_follower.h"
#include "libs/server/event_stream_service.h"
#include "libs/store/keys.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::client {
namespace {

// A producing service: a store whose event log is served on a port.
class Producer {
 public:
  Producer(const std::string& path, int port) {
    store_ = std::move(*store::Store::Open({.path = path, .tables = {}}));
    service_ = std::make_unique<server::EventStreamService>(store_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
  }
  ~Producer() {
    store_->StopWaiters();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  void Emit(int64_t amount) {
    common::v1::Money money;
    money.set_minor_units(amount);
    store::WriteBatch batch = store_->NewBatch();
    batch.AppendEvent("k", money);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<server::EventStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A consumer that sums the amounts it has seen, with its cursor: an event
// at a time, or (`batched`) a stream message's events in one batch.
class Consumer {
 public:
  Consumer(const std::string& path, int port, bool batched) {
    store_ = std::move(*store::Store::Open({.path = path, .tables = {"sums"}}));
    const std::string target = "127.0.0.1:" + std::to_string(port);
    if (batched) {
      follower_ = std::make_unique<EventFollower>(
          "producer", target, store_.get(),
          [this](absl::Span<const common::v1::Event> events,
                 store::WriteBatch& batch) {
            int64_t total = Total();
            for (const common::v1::Event& event : events) {
              common::v1::Money money;
              if (!event.payload().UnpackTo(&money)) {
                return absl::DataLossError("not money");
              }
              total += money.minor_units();
            }
            largest_message_ = std::max<size_t>(largest_message_, events.size());
            batch.Put("sums", "total", std::to_string(total));
            return absl::OkStatus();
          });
    } else {
      follower_ = std::make_unique<EventFollower>(
          "producer", target, store_.get(),
          [this](const common::v1::Event& event, store::WriteBatch& batch) {
            common::v1::Money money;
            if (!event.payload().UnpackTo(&money)) {
              return absl::DataLossError("not money");
            }
            batch.Put("sums", "total",
                      std::to_string(Total() + money.minor_units()));
            return absl::OkStatus();
          });
    }
    follower_->Start();
  }
  ~Consumer() { follower_->Stop(); }
  // The newest total: earlier events' writes may still be in line.
  int64_t Total() const {
    auto value = store_->GetLatest("sums", "total");
    return value->has_value() ? std::stoll(**value) : 0;
  }
  uint64_t position() const { return follower_->position(); }
  // The most events applied in one call (batched); stops the follower.
  size_t largest_message() {
    follower_->Stop();
    return largest_message_;
  }
  bool WaitFor(uint64_t sequence) const {
    for (int i = 0; i < 500 && position() < sequence; ++i) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return position() >= sequence;
  }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<EventFollower> follower_;
  // Written by the follower's thread, read once it is stopped.
  size_t largest_message_ = 0;
};

class EventFollowerTest : public ::testing::TestWithParam<bool> {};

TEST_P(EventFollowerTest, EachEventAppliedOnceAcrossRestartsOfBothSides) {
  const bool batched = GetParam();
  std::string dir = std::getenv("TEST_TMPDIR");
  std::filesystem::remove_all(dir + "/producer");
  std::filesystem::remove_all(dir + "/consumer");
  auto producer = std::make_unique<Producer>(dir + "/producer", 0);
  const int port = producer->port();
  int64_t expected = 0;
  uint64_t sequence = 0;
  auto emit = [&](int count) {
    for (int i = 0; i < count; ++i) {
      producer->Emit(++sequence);
      expected += sequence;
    }
  };

  emit(20);
  auto consumer = std::make_unique<Consumer>(dir + "/consumer", port, batched);
  ASSERT_TRUE(consumer->WaitFor(sequence));
  EXPECT_EQ(consumer->Total(), expected);

  // The consumer restarts while events keep coming.
  consumer.reset();
  emit(15);
  consumer = std::make_unique<Consumer>(dir + "/consumer", port, batched);
  ASSERT_TRUE(consumer->WaitFor(sequence));
  EXPECT_EQ(consumer->Total(), expected);

  // The producer restarts on the same port; the consumer reconnects.
  producer.reset();
  producer = std::make_unique<Producer>(dir + "/producer", port);
  ASSERT_EQ(producer->port(), port);
  emit(10);
  ASSERT_TRUE(consumer->WaitFor(sequence));
  EXPECT_EQ(consumer->Total(), expected);
  EXPECT_EQ(consumer->position(), 45u);
  // Events waiting when a consumer starts come several to a message.
  if (batched) {
    EXPECT_GT(consumer->largest_message(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(OneByOneAndBatched, EventFollowerTest,
                         ::testing::Bool());

TEST(CallTest, RetriesIdempotentCallsUntilTheServiceComesUp) {
  // Nothing listens yet; an idempotent call retries, a plain one does not.
  std::string dir = std::getenv("TEST_TMPDIR");
  std::filesystem::remove_all(dir + "/late");
  auto first = std::make_unique<Producer>(dir + "/late", 0);
  const int port = first->port();
  first.reset();

  auto stub = common::v1::EventStream::NewStub(
      ChannelFor("127.0.0.1:" + std::to_string(port)));
  common::v1::GetHeadResponse head;
  absl::Status plain = Call(*stub, &common::v1::EventStream::Stub::GetHead,
                            common::v1::GetHeadRequest(), &head,
                            CallPolicy{.deadline = absl::Milliseconds(200)});
  EXPECT_EQ(plain.code(), absl::StatusCode::kUnavailable);

  std::unique_ptr<Producer> late;
  std::thread starter([&] {
    absl::SleepFor(absl::Milliseconds(300));
    late = std::make_unique<Producer>(dir + "/late", port);
  });
  absl::Status retried =
      Call(*stub, &common::v1::EventStream::Stub::GetHead,
           common::v1::GetHeadRequest(), &head,
           CallPolicy{.deadline = absl::Milliseconds(500),
                      .idempotent = true,
                      .max_attempts = 10,
                      .initial_backoff = absl::Milliseconds(100)});
  starter.join();
  EXPECT_TRUE(retried.ok()) << retried;
}

}  // namespace
}  // namespace mileagebank::client
