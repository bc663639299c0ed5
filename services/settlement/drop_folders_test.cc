#include "services/settlement/drop_folders.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "libs/testing/testing.h"

namespace mileagebank::settlement {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream input(path, std::ios::binary);
  std::stringstream bytes;
  bytes << input.rdbuf();
  return bytes.str();
}

class DropFoldersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    store_ = *store::Store::Open({.path = dir_ + "/store", .tables = {kOutboxTable}});
    folders_ = std::make_unique<DropFolders>(store_.get(), dir_ + "/partners");
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<DropFolders> folders_;
};

TEST_F(DropFoldersTest, OutboxFilesAreWrittenWholeAndListedOldestFirst) {
  store::WriteBatch batch = store_->NewBatch();
  auto first = folders_->WriteOutboxFile("CA", "CA_000001.ack.csv", "abc", batch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind(), v1::ACKNOWLEDGEMENT_FILE);
  EXPECT_EQ(first->size_bytes(), 3);
  EXPECT_EQ(first->sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string staged = dir_ + "/staged";
  std::ofstream(staged) << "L,1\n";
  auto second = folders_->PublishOutboxFile("CA", "CA_202603.stmt.csv", staged, batch);
  ASSERT_TRUE(second.ok()) << second.status();
  // Not listed until the caller's batch is durable.
  EXPECT_FALSE(folders_->FindOutboxFile("CA", "CA_000001.ack.csv").ok());
  ASSERT_TRUE(store_->Commit(batch).ok());

  EXPECT_EQ(ReadAll(folders_->OutboxFilePath("CA", "CA_000001.ack.csv")), "abc");
  EXPECT_EQ(ReadAll(folders_->OutboxFilePath("CA", "CA_202603.stmt.csv")), "L,1\n");
  std::vector<v1::OutboxFile> files;
  std::string next;
  common::v1::PageRequest page;
  page.set_page_size(1);
  ASSERT_TRUE(folders_->ListOutbox("CA", v1::OUTBOX_FILE_KIND_UNSPECIFIED, page,
                                   &files, &next).ok());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].file_name(), "CA_000001.ack.csv");
  page.set_page_token(next);
  ASSERT_TRUE(folders_->ListOutbox("CA", v1::OUTBOX_FILE_KIND_UNSPECIFIED, page,
                                   &files, &next).ok());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].file_name(), "CA_202603.stmt.csv");
  EXPECT_EQ(files[0].kind(), v1::STATEMENT_FILE);
  ASSERT_TRUE(folders_->ListOutbox("CA", v1::STATEMENT_FILE, {}, &files, &next).ok());
  EXPECT_EQ(files.size(), 1u);
  EXPECT_EQ(folders_->FindOutboxFile("CA", "nope.csv").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DropFoldersTest, InboxFileIsReadyOnceItStopsChanging) {
  ASSERT_TRUE(folders_->Ensure("CA").ok());
  const std::string path = folders_->InboxPath("CA") + "/CA_000001.acc.csv";
  std::ofstream(path) << "H,";
  std::ofstream(folders_->InboxPath("CA") + "/.hidden") << "x";
  std::ofstream(folders_->InboxPath("CA") + "/upload.part") << "x";
  EXPECT_TRUE(folders_->ReadyInboxFiles({"CA"}).empty());
  std::ofstream(path, std::ios::app) << "CA";
  EXPECT_TRUE(folders_->ReadyInboxFiles({"CA"}).empty());
  std::vector<InboxFile> ready = folders_->ReadyInboxFiles({"CA", "MU"});
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].file_name, "CA_000001.acc.csv");
  EXPECT_EQ(ready[0].size_bytes, 4u);

  ASSERT_TRUE(folders_->MoveToProcessed("CA", "CA_000001.acc.csv").ok());
  std::ofstream(path) << "again";
  ASSERT_TRUE(folders_->MoveToProcessed("CA", "CA_000001.acc.csv").ok());
  EXPECT_EQ(ReadAll(folders_->ProcessedPath("CA") + "/CA_000001.acc.csv"), "H,CA");
  EXPECT_EQ(ReadAll(folders_->ProcessedPath("CA") + "/CA_000001.acc.1.csv"), "again");
  // Moving a file already moved (a repeat after a crash) is fine.
  EXPECT_TRUE(folders_->MoveToProcessed("CA", "CA_000001.acc.csv").ok());
}

}  // namespace
}  // namespace mileagebank::settlement
