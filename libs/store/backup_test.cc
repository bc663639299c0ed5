// Online backups: a consistent copy with every write acknowledged before
// the backup began, files of its own, checked before it is reported and
// before it is put back.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/store/keys.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank::store {
namespace {

namespace fs = std::filesystem;

StoreOptions Options(const std::string& path) {
  return {.path = path, .tables = {"things"}};
}

void Put(Store& store, int64_t i) {
  WriteBatch batch = store.NewBatch();
  batch.Put("things", KeyBuilder().Int64(i).Build(), absl::StrCat("v", i));
  common::v1::Money money;
  money.set_minor_units(i);
  batch.AppendEvent("k", money);
  ASSERT_TRUE(store.Commit(batch).ok());
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = mileagebank::testing::FreshTestDir();
    auto store = Store::Open(Options(root_ + "/live"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::string root_;
  std::unique_ptr<Store> store_;
};

TEST_F(BackupTest, ABackupIsAnOpenableCopyWithFilesOfItsOwn) {
  for (int i = 1; i <= 20; ++i) Put(*store_, i);
  absl::StatusOr<CopyInfo> backup = store_->Backup(root_ + "/backup");
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->sequence, 20u);
  EXPECT_GT(backup->size_bytes, 0);
  // No file is shared with the live store: damage to one cannot reach the
  // other.
  for (const auto& entry : fs::directory_iterator(root_ + "/backup")) {
    EXPECT_EQ(entry.hard_link_count(), 1u) << entry.path();
  }
  Put(*store_, 21);
  store_.reset();
  auto copy = Store::Open(Options(root_ + "/backup"));
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->LastSequence(), 20u);
  EXPECT_EQ(**(*copy)->Get("things", KeyBuilder().Int64(20).Build()), "v20");
  EXPECT_FALSE(
      (*(*copy)->Get("things", KeyBuilder().Int64(21).Build())).has_value());
}

TEST_F(BackupTest, ABackupUnderLoadHoldsEveryWriteAcknowledgedBeforeIt) {
  std::mutex mutex;
  std::set<int64_t> acknowledged;
  std::atomic<int64_t> next{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      while (!stop) {
        const int64_t i = next++;
        Put(*store_, i);
        std::lock_guard<std::mutex> lock(mutex);
        acknowledged.insert(i);
      }
    });
  }
  while (next < 300) absl::SleepFor(absl::Milliseconds(5));
  std::set<int64_t> before;
  {
    std::lock_guard<std::mutex> lock(mutex);
    before = acknowledged;
  }
  absl::StatusOr<CopyInfo> backup = store_->Backup(root_ + "/backup");
  stop = true;
  for (std::thread& writer : writers) writer.join();
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_GE(backup->sequence, before.size());
  EXPECT_LE(backup->sequence, acknowledged.size());

  store_.reset();
  auto copy = Store::Open(Options(root_ + "/backup"));
  ASSERT_TRUE(copy.ok()) << copy.status();
  // Exactly the events up to the reported sequence, and each write that had
  // been acknowledged when the backup began.
  EXPECT_EQ((*copy)->LastSequence(), backup->sequence);
  auto events = (*copy)->ReadEvents(0, 1'000'000);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), backup->sequence);
  for (int64_t i : before) {
    EXPECT_TRUE(
        (*(*copy)->Get("things", KeyBuilder().Int64(i).Build())).has_value())
        << i;
  }
}

TEST_F(BackupTest, ABackupIntoAnExistingFolderIsRefused) {
  fs::create_directories(root_ + "/taken");
  EXPECT_FALSE(store_->Backup(root_ + "/taken").ok());
}

TEST_F(BackupTest, RestorePutsACheckedCopyIntoAnEmptyFolderOnly) {
  for (int i = 1; i <= 5; ++i) Put(*store_, i);
  ASSERT_TRUE(store_->Backup(root_ + "/backup").ok());

  fs::create_directories(root_ + "/occupied");
  std::ofstream(root_ + "/occupied/CURRENT") << "something\n";
  absl::StatusOr<CopyInfo> refused =
      RestoreCopy(root_ + "/backup", root_ + "/occupied");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<CopyInfo> restored =
      RestoreCopy(root_ + "/backup", root_ + "/new/live");
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->sequence, 5u);
  EXPECT_FALSE(fs::exists(root_ + "/new/live.restoring"));
  auto opened = Store::Open(Options(root_ + "/new/live"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ((*opened)->LastSequence(), 5u);
  EXPECT_EQ(**(*opened)->Get("things", KeyBuilder().Int64(5).Build()), "v5");
}

TEST_F(BackupTest, ADamagedBackupIsNotRestored) {
  for (int i = 1; i <= 5; ++i) Put(*store_, i);
  ASSERT_TRUE(store_->Backup(root_ + "/backup").ok());
  const std::string table = mileagebank::testing::NewestTableFile(root_ + "/backup");
  ASSERT_FALSE(table.empty());
  mileagebank::testing::FlipByte(table, 10);
  EXPECT_EQ(CheckCopy(root_ + "/backup").status().code(),
            absl::StatusCode::kDataLoss);
  absl::StatusOr<CopyInfo> restored =
      RestoreCopy(root_ + "/backup", root_ + "/new/live");
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(restored.status().message().find(table), std::string::npos)
      << restored.status();
  EXPECT_FALSE(fs::exists(root_ + "/new/live"));
}

}  // namespace
}  // namespace mileagebank::store
