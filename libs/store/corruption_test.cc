// A store with a flipped byte in a table file, its write-ahead log or its
// MANIFEST does not open: Open says which file is damaged and what to do.
// An intact store opens, and so does one whose log a crash cut short.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
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

std::string Value(int i) { return absl::StrCat("value-", i, "-of-the-store"); }

// Commits things 1..`count` from `first`, each with an event.
void Fill(Store& store, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    WriteBatch batch = store.NewBatch();
    batch.Put("things", KeyBuilder().Int64(i).Build(), Value(i));
    common::v1::Money money;
    money.set_minor_units(i);
    batch.AppendEvent("k", money);
    ASSERT_TRUE(store.Commit(batch).ok());
  }
}

std::string ReadAll(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The store's file named `*<extension>` that holds `text` ("" for any).
std::string FileOf(const std::string& path, const std::string& extension,
                   const std::string& text = "") {
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.path().extension() != extension) continue;
    if (text.empty() ||
        ReadAll(entry.path().string()).find(text) != std::string::npos) {
      return entry.path().string();
    }
  }
  return "";
}

// The MANIFEST the store's CURRENT file names.
std::string CurrentManifest(const std::string& path) {
  std::string name = ReadAll(path + "/CURRENT");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return path + "/" + name;
}


class CorruptionTest : public ::testing::Test {
 protected:
  // Things 1..50 in a table file (the next open writes what the log holds
  // into one), then 51..100 only in the write-ahead log of a process killed
  // without closing.
  void SetUp() override {
    path_ = mileagebank::testing::FreshTestDir();
    {
      auto store = Store::Open(Options(path_));
      ASSERT_TRUE(store.ok()) << store.status();
      Fill(**store, 1, 50);
    }
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = Store::Open(Options(path_));
      if (!store.ok()) _exit(2);
      for (int i = 51; i <= 100; ++i) {
        WriteBatch batch = (*store)->NewBatch();
        batch.Put("things", KeyBuilder().Int64(i).Build(), Value(i));
        common::v1::Money money;
        money.set_minor_units(i);
        batch.AppendEvent("k", money);
        if (!(*store)->Commit(batch).ok()) _exit(3);
      }
      kill(getpid(), SIGKILL);
    }
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status)) << wait_status;
  }

  // Open's refusal, which must name `file`.
  void ExpectRefusedNaming(const std::string& file) {
    auto store = Store::Open(Options(path_));
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
    const std::string message(store.status().message());
    EXPECT_NE(message.find(absl::StrCat("store ", path_, " is corrupt")),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(absl::StrCat("damaged file ", file)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("restore the store from a backup"),
              std::string::npos)
        << message;
  }

  std::string path_;
};

TEST_F(CorruptionTest, AnIntactStoreOpensWithEverythingAcknowledged) {
  auto store = Store::Open(Options(path_));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LastSequence(), 100u);
  EXPECT_EQ(**(*store)->Get("things", KeyBuilder().Int64(1).Build()), Value(1));
  EXPECT_EQ(**(*store)->Get("things", KeyBuilder().Int64(100).Build()),
            Value(100));
}

TEST_F(CorruptionTest, AFlippedByteInATableFileIsRefused) {
  const std::string table = FileOf(path_, ".sst");
  ASSERT_FALSE(table.empty());
  mileagebank::testing::FlipByte(table, 10);  // In the first data block.
  ExpectRefusedNaming(table);
}

TEST_F(CorruptionTest, AFlippedByteInTheMiddleOfTheLogIsRefused) {
  const std::string log = FileOf(path_, ".log", Value(75));
  ASSERT_FALSE(log.empty());
  const std::string bytes = ReadAll(log);
  // Inside the 25th of the log's 50 records, far from its end.
  const size_t at = bytes.find(Value(75));
  ASSERT_NE(at, std::string::npos);
  mileagebank::testing::FlipByte(log, at + 3);
  ExpectRefusedNaming(log);
}

TEST_F(CorruptionTest, AFlippedByteInTheManifestIsRefused) {
  const std::string manifest = CurrentManifest(path_);
  ASSERT_TRUE(fs::exists(manifest)) << manifest;
  // Inside the first record, after its header.
  mileagebank::testing::FlipByte(manifest, 12);
  ExpectRefusedNaming(manifest);
}

// A crash in the middle of writing a batch leaves its record cut short at
// the end of the log; that batch was never acknowledged, so the store opens
// without it.
TEST_F(CorruptionTest, ALogCutShortAtTheEndStillOpens) {
  const std::string log = FileOf(path_, ".log", Value(100));
  ASSERT_FALSE(log.empty());
  fs::resize_file(log, fs::file_size(log) - 20);
  auto store = Store::Open(Options(path_));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LastSequence(), 99u);
  EXPECT_FALSE(
      (*(*store)->Get("things", KeyBuilder().Int64(100).Build())).has_value());
}

}  // namespace
}  // namespace mileagebank::store
