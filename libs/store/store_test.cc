#include "libs/store/store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/store/key_locks.h"
#include "libs/store/keys.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = mileagebank::testing::FreshTestDir();
    Reopen();
  }

  void Reopen() {
    store_.reset();
    auto opened = Store::Open({.path = path_, .tables = {"things"}});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }

  static common::v1::Money Money(int64_t minor) {
    common::v1::Money money;
    money.set_currency_code("CNY");
    money.set_minor_units(minor);
    return money;
  }

  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, GetMissingKeyReturnsNullopt) {
  auto value = store_->Get("things", "nothing");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
}

TEST_F(StoreTest, CommittedBatchIsReadBackAfterReopen) {
  WriteBatch batch = store_->NewBatch();
  batch.Put("things", "a", "1");
  batch.PutProto("things", "m", Money(250));
  ASSERT_TRUE(store_->Commit(batch).ok());
  Reopen();
  EXPECT_EQ(**store_->Get("things", "a"), "1");
  common::v1::Money money;
  ASSERT_TRUE(*store_->GetProto("things", "m", &money));
  EXPECT_EQ(money.minor_units(), 250);
}

TEST_F(StoreTest, ScanWalksRangeForwardAndBackward) {
  WriteBatch batch = store_->NewBatch();
  for (int i = 0; i < 10; ++i) {
    batch.Put("things", KeyBuilder().String("m").Int64(i).Build(),
              std::to_string(i));
  }
  batch.Put("things", KeyBuilder().String("n").Int64(0).Build(), "other");
  ASSERT_TRUE(store_->Commit(batch).ok());

  std::string forward, backward;
  ScanRange range = PrefixRange(KeyBuilder().String("m").Build());
  ASSERT_TRUE(store_
                  ->Scan("things", range,
                         [&](absl::string_view, absl::string_view value) {
                           forward += std::string(value);
                           return true;
                         })
                  .ok());
  range.reverse = true;
  ASSERT_TRUE(store_
                  ->Scan("things", range,
                         [&](absl::string_view, absl::string_view value) {
                           backward += std::string(value);
                           return backward.size() < 3;
                         })
                  .ok());
  EXPECT_EQ(forward, "0123456789");
  EXPECT_EQ(backward, "987");
}

TEST_F(StoreTest, ACheckedScanEndsAtTheFirstErrorAndReturnsIt) {
  WriteBatch batch = store_->NewBatch();
  for (int i = 0; i < 5; ++i) {
    batch.Put("things", KeyBuilder().Int64(i).Build(), i == 3 ? "bad" : "ok");
  }
  ASSERT_TRUE(store_->Commit(batch).ok());

  int visited = 0;
  auto until_bad = [&](absl::string_view,
                       absl::string_view value) -> absl::StatusOr<bool> {
    ++visited;
    if (value == "bad") return absl::DataLossError("row 3 is bad");
    return true;
  };
  absl::Status scanned = store_->ScanChecked("things", ScanRange{}, until_bad);
  EXPECT_EQ(scanned.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(scanned.message(), "row 3 is bad");
  EXPECT_EQ(visited, 4);

  // A visitor that stops first never sees the bad row.
  visited = 0;
  EXPECT_TRUE(store_
                  ->ScanChecked("things", ScanRange{},
                                [&](absl::string_view,
                                    absl::string_view) -> absl::StatusOr<bool> {
                                  return ++visited < 2;
                                })
                  .ok());
  EXPECT_EQ(visited, 2);
}

TEST_F(StoreTest, EventsGetConsecutiveSequencesAcrossReopen) {
  for (int i = 1; i <= 3; ++i) {
    WriteBatch batch = store_->NewBatch();
    batch.Put("things", "k", std::to_string(i));
    batch.AppendEvent("member", Money(i));
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  Reopen();
  EXPECT_EQ(store_->LastSequence(), 3u);
  WriteBatch batch = store_->NewBatch();
  batch.AppendEvent("member", Money(4));
  batch.AppendEvent("member", Money(5));
  ASSERT_TRUE(store_->Commit(batch).ok());

  auto events = store_->ReadEvents(2, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  for (size_t i = 0; i < events->size(); ++i) {
    const common::v1::Event& event = (*events)[i];
    EXPECT_EQ(event.sequence(), i + 3);
    EXPECT_EQ(event.key(), "member");
    common::v1::Money money;
    ASSERT_TRUE(event.payload().UnpackTo(&money));
    EXPECT_EQ(money.minor_units(), static_cast<int64_t>(i + 3));
    EXPECT_TRUE(event.has_recorded_at());
  }
}

TEST_F(StoreTest, VisitedEventsAreTheStoredBytesFromMemoryAsFromDisk) {
  for (int i = 1; i <= 6; ++i) {
    WriteBatch batch = store_->NewBatch();
    batch.AppendEvent("member", Money(i));
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  auto visit_after_one = [this](size_t max) {
    std::vector<std::pair<uint64_t, std::string>> visited;
    EXPECT_TRUE(store_
                    ->VisitEvents(1, max,
                                  [&](uint64_t sequence, absl::string_view e) {
                                    visited.emplace_back(sequence, e);
                                    return visited.size() < 4;
                                  })
                    .ok());
    return visited;
  };
  const auto from_memory = visit_after_one(100);
  EXPECT_EQ(visit_after_one(2).size(), 2u);  // At most `max`.
  Reopen();  // Nothing in memory: read from the log on disk.
  const auto from_disk = visit_after_one(100);
  EXPECT_EQ(visit_after_one(2).size(), 2u);
  ASSERT_EQ(from_memory.size(), 4u);  // Until `visit` said stop.
  EXPECT_EQ(from_memory, from_disk);
  for (size_t i = 0; i < from_disk.size(); ++i) {
    EXPECT_EQ(from_disk[i].first, i + 2);
    common::v1::Event event;
    ASSERT_TRUE(event.ParseFromString(from_disk[i].second));
    EXPECT_EQ(event.sequence(), i + 2);
    common::v1::Money money;
    ASSERT_TRUE(event.payload().UnpackTo(&money));
    EXPECT_EQ(money.minor_units(), static_cast<int64_t>(i + 2));
  }
}

TEST_F(StoreTest, RecordedEventKeepsItsTimeButTakesTheNextSequence) {
  WriteBatch first = store_->NewBatch();
  first.AppendEvent("member", Money(1));
  ASSERT_TRUE(store_->Commit(first).ok());
  common::v1::Event recorded;
  recorded.set_sequence(41);
  recorded.set_key("member");
  recorded.mutable_recorded_at()->set_seconds(1700000000);
  recorded.mutable_payload()->PackFrom(Money(2));
  WriteBatch batch = store_->NewBatch();
  batch.AppendRecordedEvent(recorded);
  batch.AppendEvent("member", Money(3));
  ASSERT_TRUE(store_->Commit(batch).ok());

  auto events = store_->ReadEvents(1, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].sequence(), 2u);
  EXPECT_EQ((*events)[0].recorded_at().seconds(), 1700000000);
  EXPECT_EQ((*events)[1].sequence(), 3u);
  EXPECT_GT((*events)[1].recorded_at().seconds(), 1700000000);
}

TEST_F(StoreTest, CursorCommitsWithDerivedState) {
  EXPECT_EQ(*store_->ReadCursor("accrual"), 0u);
  WriteBatch batch = store_->NewBatch();
  batch.Put("things", "derived", "x");
  batch.SetCursor("accrual", 17);
  ASSERT_TRUE(store_->Commit(batch).ok());
  Reopen();
  EXPECT_EQ(*store_->ReadCursor("accrual"), 17u);
}

TEST_F(StoreTest, ConcurrentCommitsPublishEveryEventInOrder) {
  constexpr int kThreads = 8;
  constexpr int kCommitsEach = 200;
  std::atomic<bool> reader_ok{true};
  std::thread reader([&] {
    uint64_t cursor = 0;
    while (cursor < kThreads * kCommitsEach) {
      store_->WaitForEvents(cursor, absl::Milliseconds(100));
      auto events = store_->ReadEvents(cursor, 1000);
      if (!events.ok()) {
        reader_ok = false;
        return;
      }
      for (const auto& event : *events) {
        if (event.sequence() != cursor + 1) reader_ok = false;
        cursor = event.sequence();
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kCommitsEach; ++i) {
        WriteBatch batch = store_->NewBatch();
        batch.Put("things", KeyBuilder().Int64(t).Int64(i).Build(), "v");
        batch.AppendEvent("k", Money(i));
        ASSERT_TRUE(store_->Commit(batch).ok());
      }
    });
  }
  for (auto& writer : writers) writer.join();
  reader.join();
  EXPECT_TRUE(reader_ok);
  EXPECT_EQ(store_->LastSequence(),
            static_cast<uint64_t>(kThreads * kCommitsEach));
}

TEST_F(StoreTest, AcknowledgedCommitsSurviveSigkill) {
  store_.reset();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto opened = Store::Open({.path = path_, .tables = {"things"}});
    if (!opened.ok()) _exit(2);
    for (int i = 1; i <= 50; ++i) {
      WriteBatch batch = (*opened)->NewBatch();
      batch.Put("things", KeyBuilder().Int64(i).Build(), "v");
      batch.AppendEvent("k", Money(i));
      if (!(*opened)->Commit(batch).ok()) _exit(3);
    }
    // Die without closing anything, as a crash would.
    kill(getpid(), SIGKILL);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << wait_status;
  Reopen();
  EXPECT_EQ(store_->LastSequence(), 50u);
  auto events = store_->ReadEvents(0, 100);
  ASSERT_EQ(events->size(), 50u);
  EXPECT_EQ(events->back().sequence(), 50u);
  EXPECT_TRUE((*store_->Get("things", KeyBuilder().Int64(50).Build()))
                  .has_value());
}

TEST_F(StoreTest, LatestReadSeesQueuedWritesAndTicketsBecomeDurableInOrder) {
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    WriteBatch batch = store_->NewBatch();
    batch.Put("things", "counter", std::to_string(i));
    if (i % 10 == 0) batch.Delete("things", "gone");
    batch.AppendEvent("k", Money(i));
    uint64_t ticket = store_->Enqueue(batch);
    EXPECT_GT(ticket, last);
    last = ticket;
    uint64_t pending_ticket = 0;
    auto latest = store_->GetLatest("things", "counter", &pending_ticket);
    ASSERT_TRUE(latest.ok());
    // Whether or not the writer got to it yet, the newest value is visible.
    EXPECT_EQ(**latest, std::to_string(i));
    EXPECT_TRUE(pending_ticket == 0 || pending_ticket == ticket);
  }
  store_->Wait(last);
  EXPECT_EQ(**store_->Get("things", "counter"), "99");
  EXPECT_FALSE(store_->Get("things", "gone")->has_value());
  EXPECT_EQ(store_->LastSequence(), 100u);
  uint64_t ticket = 1;
  EXPECT_EQ(**store_->GetLatest("things", "counter", &ticket), "99");
  EXPECT_EQ(ticket, 0u);  // Durable now: nothing left in line.
}

// The overlay points into the batches in line rather than copying their
// values: readers racing the writer must only ever see whole values that
// were written, each key's newest or a durable one.
TEST_F(StoreTest, LatestReadsRacingTheWriterSeeWholeWrittenValues) {
  constexpr int kWriters = 3;
  constexpr int kBatchesEach = 300;
  constexpr int kKeys = 7;
  std::atomic<bool> writing{true};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; writing.load(); ++i) {
        const std::string key = absl::StrCat("k", (i + r) % kKeys);
        absl::StatusOr<std::optional<std::string>> value =
            store_->GetLatest("things", key);
        if (!value.ok() ||
            (value->has_value() && !absl::StartsWith(**value, key + "="))) {
          ++bad;
        }
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kBatchesEach; ++i) {
        WriteBatch batch = store_->NewBatch();
        for (int k = 0; k < kKeys; k += 1 + (i + w) % 3) {
          const std::string key = absl::StrCat("k", k);
          batch.Put("things", key,
                    absl::StrCat(key, "=", w, "/", i, std::string(40, 'x')));
        }
        store_->Enqueue(batch);
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  WriteBatch last = store_->NewBatch();
  last.Put("things", "k0", "k0=last");
  ASSERT_TRUE(store_->Commit(last).ok());
  writing = false;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(**store_->GetLatest("things", "k0"), "k0=last");
}

// AppendEvent encodes an event's fields itself: the log must hold what an
// Event message with an Any payload encodes to, byte for byte.
TEST_F(StoreTest, EventsAreStoredAsTheEventMessageEncodesThem) {
  common::v1::Event recorded;
  recorded.set_key("elsewhere");
  recorded.mutable_recorded_at()->set_seconds(1700000000);
  recorded.mutable_payload()->PackFrom(Money(7));
  WriteBatch batch = store_->NewBatch();
  batch.AppendEvent("member", Money(250));
  batch.AppendEvent("", common::v1::Money());  // An empty key and payload.
  batch.AppendRecordedEvent(recorded);
  ASSERT_TRUE(store_->Commit(batch).ok());

  std::vector<std::string> stored;
  ASSERT_TRUE(store_
                  ->VisitEvents(0, 10,
                                [&](uint64_t, absl::string_view bytes) {
                                  stored.emplace_back(bytes);
                                  return true;
                                })
                  .ok());
  ASSERT_EQ(stored.size(), 3u);
  common::v1::Event first;
  ASSERT_TRUE(first.ParseFromString(stored[0]));
  EXPECT_GT(first.recorded_at().seconds(), 1700000000);
  std::vector<common::v1::Event> expected(3);
  expected[0].set_sequence(1);
  *expected[0].mutable_recorded_at() = first.recorded_at();
  expected[0].set_key("member");
  expected[0].mutable_payload()->PackFrom(Money(250));
  expected[1].set_sequence(2);
  *expected[1].mutable_recorded_at() = first.recorded_at();
  expected[1].mutable_payload()->PackFrom(common::v1::Money());
  expected[2] = recorded;
  expected[2].set_sequence(3);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(stored[i], expected[i].SerializeAsString()) << "event " << i;
  }
}

TEST_F(StoreTest, UnreadWritesAreDurableInOrderWithTheBatchsOtherWrites) {
  WriteBatch first = store_->NewBatch();
  first.Put("things", "a", "listed");
  first.Put("things", "gone", "x");
  ASSERT_TRUE(store_->Commit(first).ok());

  WriteBatch batch = store_->NewBatch();
  batch.Reserve(5);
  batch.Put("things", "b", "listed");
  batch.PutUnread("things", "a", "unread");
  batch.DeleteUnread("things", "gone");
  batch.Put("things", "c", "listed");
  batch.SetCursor("source", 7);
  const uint64_t ticket = store_->Enqueue(batch);
  // The batch's other writes are still in the overlay while in line.
  EXPECT_EQ(**store_->GetLatest("things", "c"), "listed");
  store_->Wait(ticket);
  for (bool reopened : {false, true}) {
    if (reopened) Reopen();
    EXPECT_EQ(**store_->Get("things", "a"), "unread");
    EXPECT_EQ(**store_->Get("things", "b"), "listed");
    EXPECT_EQ(**store_->Get("things", "c"), "listed");
    EXPECT_FALSE(store_->Get("things", "gone")->has_value());
    EXPECT_EQ(*store_->ReadCursor("source"), 7u);
    // Once durable, GetLatest reads the store and the overlay is empty.
    uint64_t pending = 1;
    EXPECT_EQ(**store_->GetLatest("things", "b", &pending), "listed");
    EXPECT_EQ(pending, 0u);
    EXPECT_EQ(**store_->GetLatest("things", "a"), "unread");
  }
}

TEST_F(StoreTest, BatchesInLineAreWrittenInTheirOrderWhateverTheirKind) {
  // Enqueued without waiting, so the writer takes several at once and
  // joins them into one RocksDB write: the last batch's write of a key wins.
  constexpr int kBatches = 200;
  uint64_t last = 0;
  for (int i = 0; i < kBatches; ++i) {
    WriteBatch batch = store_->NewBatch();
    if (i % 3 == 0) {
      batch.Put("things", "k", absl::StrCat("listed ", i));
    } else {
      batch.PutUnread("things", "k", absl::StrCat("unread ", i));
    }
    if (i % 2 == 0) batch.DeleteUnread("things", absl::StrCat("gone ", i));
    batch.PutUnread("things", absl::StrCat("row ", i), std::to_string(i));
    batch.AppendEvent("k", Money(i));
    last = store_->Enqueue(batch);
  }
  store_->Wait(last);
  for (bool reopened : {false, true}) {
    if (reopened) Reopen();
    EXPECT_EQ(**store_->Get("things", "k"),
              absl::StrCat((kBatches - 1) % 3 == 0 ? "listed " : "unread ",
                           kBatches - 1));
    for (int i = 0; i < kBatches; ++i) {
      EXPECT_EQ(**store_->Get("things", absl::StrCat("row ", i)),
                std::to_string(i));
    }
    EXPECT_EQ(store_->LastSequence(), static_cast<uint64_t>(kBatches));
    auto events = store_->ReadEvents(0, kBatches + 1);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), static_cast<size_t>(kBatches));
    EXPECT_EQ(events->back().sequence(), static_cast<uint64_t>(kBatches));
  }
}

TEST_F(StoreTest, CheckpointIsAnOpenableCopy) {
  WriteBatch batch = store_->NewBatch();
  batch.Put("things", "a", "1");
  batch.AppendEvent("k", Money(1));
  ASSERT_TRUE(store_->Commit(batch).ok());
  std::string copy = path_ + "-copy";
  std::filesystem::remove_all(copy);
  ASSERT_TRUE(store_->Checkpoint(copy).ok());
  auto opened = Store::Open({.path = copy, .tables = {"things"}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*(*(*opened)->Get("things", "a")), "1");
  EXPECT_EQ((*opened)->LastSequence(), 1u);
}

TEST_F(StoreTest, WaitForEventsTimesOutWhenNothingArrives) {
  EXPECT_FALSE(store_->WaitForEvents(0, absl::Milliseconds(10)));
  store_->StopWaiters();
  EXPECT_FALSE(store_->WaitForEvents(0, absl::Hours(1)));
}

TEST_F(StoreTest, EnqueueHooksRunWithTheTicketOnceTheWritesAreInLine) {
  uint64_t seen = 0;
  std::optional<std::string> value_then;
  WriteBatch batch = store_->NewBatch();
  batch.Put("things", "k", "v");
  batch.OnEnqueued([&](uint64_t ticket) {
    seen = ticket;
    value_then = **store_->GetLatest("things", "k");
  });
  EXPECT_EQ(seen, 0u);
  const uint64_t ticket = store_->Enqueue(batch);
  EXPECT_EQ(seen, ticket);
  EXPECT_EQ(value_then, "v");
  // The hook went with the batch: enqueuing the emptied batch again does not
  // run it, and a batch dropped unenqueued never does.
  seen = 0;
  store_->Enqueue(batch);
  EXPECT_EQ(seen, 0u);
  {
    WriteBatch dropped = store_->NewBatch();
    dropped.Put("things", "k", "other");
    dropped.OnEnqueued([&](uint64_t) { seen = 1; });
  }
  EXPECT_EQ(seen, 0u);
  store_->Wait(ticket);
}

TEST_F(StoreTest, MemtableBloomStoresAndFindsAsUsual) {
  store_.reset();
  store_ = std::move(*Store::Open({.path = path_,
                                   .tables = {"things"},
                                   .memtable_bloom_tables = {"things"}}));
  WriteBatch batch = store_->NewBatch();
  batch.Put("things", "present", "1");
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(**store_->Get("things", "present"), "1");
  EXPECT_FALSE(store_->Get("things", "absent")->has_value());
}

TEST_F(StoreTest, RewrittenTableKeepsEachRowsLastVersionThroughFlushes) {
  store_.reset();
  auto open = [&] {
    return Store::Open({.path = path_,
                        .tables = {"things", "totals"},
                        .rewritten_tables = {"totals"}});
  };
  store_ = std::move(*open());
  // ~20 MB of versions of 100 rows: its small memtable is flushed several
  // times meanwhile.
  const std::string padding(200, 'x');
  for (int round = 0; round < 1'000; ++round) {
    WriteBatch batch = store_->NewBatch();
    for (int row = 0; row < 100; ++row) {
      batch.Put("totals", absl::StrCat("row-", row),
                absl::StrCat(round, "/", row, "/", padding));
    }
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  store_.reset();
  store_ = std::move(*open());
  for (int row = 0; row < 100; ++row) {
    EXPECT_EQ(**store_->Get("totals", absl::StrCat("row-", row)),
              absl::StrCat(999, "/", row, "/", padding));
  }
}

TEST(KeyLocksTest, GuardsSerialiseTheSameKey) {
  KeyLocks locks(16);
  int counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        KeyLocks::Guard guard = locks.Lock({"a", "b"});
        ++counter;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter, 40000);
}

TEST(KeyLocksTest, KeysSharingAStripeAreLockedOnce) {
  KeyLocks locks(1);  // Every key on the one stripe.
  KeyLocks::Guard guard = locks.Lock(std::vector<std::string>{"a", "b", "a"});
  SUCCEED();  // Locking the stripe twice would never return.
}


TEST_F(StoreTest, SnapshotKeepsWhatWasDurableWhenTaken) {
  WriteBatch before = store_->NewBatch();
  before.Put("things", "a", "1");
  before.Put("things", "b", "2");
  before.SetCursor("accrual", 5);
  ASSERT_TRUE(store_->Commit(before).ok());

  std::unique_ptr<Snapshot> snapshot = store_->NewSnapshot();

  WriteBatch after = store_->NewBatch();
  after.Put("things", "a", "changed");
  after.Delete("things", "b");
  after.Put("things", "c", "3");
  after.SetCursor("accrual", 9);
  after.SetCursor("membership", 4);
  ASSERT_TRUE(store_->Commit(after).ok());

  EXPECT_EQ(**snapshot->Get("things", "a"), "1");
  EXPECT_EQ(**snapshot->Get("things", "b"), "2");
  EXPECT_FALSE(snapshot->Get("things", "c")->has_value());
  EXPECT_EQ(*snapshot->ReadCursor("accrual"), 5u);
  EXPECT_EQ(*snapshot->ReadCursor("membership"), 0u);
  std::vector<std::string> seen;
  ASSERT_TRUE(snapshot
                  ->Scan("things", ScanRange{},
                         [&](absl::string_view key, absl::string_view value) {
                           seen.push_back(absl::StrCat(key, "=", value));
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a=1", "b=2"}));

  // The store itself moved on.
  EXPECT_EQ(**store_->Get("things", "a"), "changed");
  EXPECT_EQ(*store_->ReadCursor("accrual"), 9u);
}

TEST_F(StoreTest, SnapshotScanHonoursBoundsAndReverse) {
  WriteBatch batch = store_->NewBatch();
  for (const char* key : {"k1", "k2", "k3", "k4", "z"}) {
    batch.Put("things", key, key);
  }
  ASSERT_TRUE(store_->Commit(batch).ok());
  std::unique_ptr<Snapshot> snapshot = store_->NewSnapshot();
  WriteBatch later = store_->NewBatch();
  later.Put("things", "k25", "late");
  ASSERT_TRUE(store_->Commit(later).ok());

  auto keys = [&](const ScanRange& range, size_t limit) {
    std::vector<std::string> out;
    EXPECT_TRUE(snapshot
                    ->Scan("things", range,
                           [&](absl::string_view key, absl::string_view) {
                             out.emplace_back(key);
                             return out.size() < limit;
                           })
                    .ok());
    return out;
  };
  EXPECT_EQ(keys(PrefixRange("k"), 10),
            (std::vector<std::string>{"k1", "k2", "k3", "k4"}));
  EXPECT_EQ(keys(ScanRange{"k2", "k4", /*reverse=*/true}, 10),
            (std::vector<std::string>{"k3", "k2"}));
  EXPECT_EQ(keys(ScanRange{"k", "", /*reverse=*/true}, 2),
            (std::vector<std::string>{"z", "k4"}));
}

}  // namespace
}  // namespace mileagebank::store
