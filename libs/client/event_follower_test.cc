// EventFollower's progress metrics against a real event stream: a follower
// stuck at an event shows the source's head ahead of its position.
#include "libs/client/event_follower.h"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/server/event_stream_service.h"
#include "libs/testing/loopback_server.h"
#include "mileagebank/common/v1/common.pb.h"
#include "prometheus/registry.h"

namespace mileagebank::client {
namespace {

// The gauge `name`'s value for source "producer"; -1 when it is missing.
double Gauge(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "source" && label.value == "producer") {
          return metric.gauge.value;
        }
      }
    }
  }
  return -1;
}

// A fresh store at `path` whose event log holds events 1 to 12.
std::unique_ptr<store::Store> StoreWithTwelveEvents(const std::string& path) {
  std::filesystem::remove_all(path);
  auto store = std::move(*store::Store::Open({.path = path, .tables = {}}));
  for (int i = 1; i <= 12; ++i) {
    common::v1::Money money;
    money.set_minor_units(i);
    store::WriteBatch batch = store->NewBatch();
    batch.AppendEvent("k", money);
    EXPECT_TRUE(store->Commit(batch).ok());
  }
  return store;
}

bool Eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

TEST(EventFollowerMetricsTest, PositionStopsAtAFailingEventWhileHeadMovesOn) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::filesystem::remove_all(dir + "/metrics-consumer");
  std::unique_ptr<store::Store> producer =
      StoreWithTwelveEvents(dir + "/metrics-producer");
  server::EventStreamService events(producer.get());
  testing::LoopbackServer served = testing::ServeOnLoopback({&events});
  ASSERT_NE(served.server, nullptr);

  auto consumer = std::move(
      *store::Store::Open({.path = dir + "/metrics-consumer", .tables = {}}));
  prometheus::Registry registry;
  // Event 8 cannot be applied: the follower retries it and gets no further.
  EventFollower follower(
      "producer", served.target, consumer.get(),
      [](const common::v1::Event& event, store::WriteBatch&) {
        return event.sequence() == 8 ? absl::DataLossError("event 8")
                                     : absl::OkStatus();
      },
      &registry);
  follower.Start();

  EXPECT_TRUE(Eventually([&] {
    return Gauge(registry, "mileagebank_follower_stream_head") == 12;
  }));
  EXPECT_TRUE(Eventually([&] {
    return Gauge(registry, "mileagebank_follower_stream_position") == 7;
  }));
  EXPECT_EQ(follower.position(), 7u);
  follower.Stop();
  consumer->StopWaiters();
  producer->StopWaiters();
  served.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
}

TEST(EventFollowerMetricsTest, BatchedStopsBeforeAFailingMessageWithNothingOfIt) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::filesystem::remove_all(dir + "/batched-consumer");
  std::unique_ptr<store::Store> producer =
      StoreWithTwelveEvents(dir + "/batched-producer");
  server::EventStreamService events(producer.get());
  testing::LoopbackServer served = testing::ServeOnLoopback({&events});
  ASSERT_NE(served.server, nullptr);

  auto consumer = std::move(*store::Store::Open(
      {.path = dir + "/batched-consumer", .tables = {"seen"}}));
  prometheus::Registry registry;
  // A message holding event 8 cannot be applied: its events before 8 are
  // not applied either (their writes are in the unused batch), the cursor
  // stays before the message, and the follower retries it.
  uint64_t first_of_failing = 0;
  EventFollower follower(
      "producer", served.target, consumer.get(),
      [&](absl::Span<const common::v1::Event> events, store::WriteBatch& batch) {
        for (const common::v1::Event& event : events) {
          if (event.sequence() == 8) {
            first_of_failing = events.front().sequence();
            return absl::DataLossError("event 8");
          }
          batch.Put("seen", std::to_string(event.sequence()), "");
        }
        return absl::OkStatus();
      },
      &registry);
  follower.Start();

  EXPECT_TRUE(Eventually([&] {
    return Gauge(registry, "mileagebank_follower_stream_head") == 12;
  }));
  EXPECT_TRUE(Eventually([&] { return first_of_failing != 0; }));
  follower.Stop();
  ASSERT_LE(first_of_failing, 8u);
  EXPECT_EQ(follower.position(), first_of_failing - 1);
  EXPECT_EQ(*consumer->ReadCursor("producer"), first_of_failing - 1);
  consumer->WaitForQueued();
  for (uint64_t sequence = 1; sequence <= 12; ++sequence) {
    EXPECT_EQ(consumer->Get("seen", std::to_string(sequence))->has_value(),
              sequence < first_of_failing)
        << sequence;
  }
  consumer->StopWaiters();
  producer->StopWaiters();
  served.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
}

}  // namespace
// Events 1 to 12 alternate two types (odd: Money, even: Actor); a follower
// asking for Money only is sent the odd ones and its cursor still reaches
// 12, in both modes, and so does it after a restart.
TEST(EventFollowerTest,
     OnlyPayloadTypesSendsThoseAndMovesTheCursorPastTheRest) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::filesystem::remove_all(dir + "/typed-producer");
  auto producer = std::move(
      *store::Store::Open({.path = dir + "/typed-producer", .tables = {}}));
  for (int i = 1; i <= 12; ++i) {
    store::WriteBatch batch = producer->NewBatch();
    if (i % 2 == 1) {
      common::v1::Money money;
      money.set_minor_units(i);
      batch.AppendEvent("k", money);
    } else {
      common::v1::Actor actor;
      actor.set_operator_id(std::to_string(i));
      batch.AppendEvent("k", actor);
    }
    ASSERT_TRUE(producer->Commit(batch).ok());
  }
  server::EventStreamService events(producer.get());
  testing::LoopbackServer served = testing::ServeOnLoopback({&events});
  ASSERT_NE(served.server, nullptr);
  const std::vector<std::string> money = {
      common::v1::Money::descriptor()->full_name()};

  for (const bool many : {false, true}) {
    const std::string path =
        dir + (many ? "/typed-consumer-many" : "/typed-consumer-one");
    std::filesystem::remove_all(path);
    auto consumer =
        std::move(*store::Store::Open({.path = path, .tables = {}}));
    absl::Mutex mutex;
    std::vector<uint64_t> applied;
    auto note = [&](const common::v1::Event& event) {
      EXPECT_TRUE(event.payload().Is<common::v1::Money>()) << event.sequence();
      absl::MutexLock lock(&mutex);
      applied.push_back(event.sequence());
    };
    auto follow = [&] {
      std::unique_ptr<EventFollower> follower;
      if (many) {
        follower = std::make_unique<EventFollower>(
            "producer", served.target, consumer.get(),
            [&](absl::Span<const common::v1::Event> events,
                store::WriteBatch&) {
              for (const common::v1::Event& event : events) note(event);
              return absl::OkStatus();
            });
      } else {
        follower = std::make_unique<EventFollower>(
            "producer", served.target, consumer.get(),
            [&](const common::v1::Event& event, store::WriteBatch&) {
              note(event);
              return absl::OkStatus();
            });
      }
      follower->OnlyPayloadTypes(money);
      follower->Start();
      EXPECT_TRUE(Eventually([&] { return follower->position() == 12; }))
          << many;
      follower->Stop();
    };
    follow();
    consumer->WaitForQueued();
    EXPECT_EQ(*consumer->ReadCursor("producer"), 12u) << many;
    follow();  // Resumes at 12: nothing applied again.
    absl::MutexLock lock(&mutex);
    EXPECT_EQ(applied, (std::vector<uint64_t>{1, 3, 5, 7, 9, 11})) << many;
    consumer->StopWaiters();
  }
  producer->StopWaiters();
  served.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
}

}  // namespace mileagebank::client
