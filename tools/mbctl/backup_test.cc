// `mbctl backup restore` over backups made by a service's admin service:
// one store or a whole set, into a new data folder only, each checked first.
#include "tools/mbctl/backup.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "libs/server/admin_service.h"
#include "libs/store/keys.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/common.pb.h"
#include "tools/mbctl/cli.h"

namespace mileagebank::mbctl {
namespace {

namespace fs = std::filesystem;

class BackupRestoreTest : public ::testing::Test {
 protected:
  // A data folder shared by membership and the gateway (whose store is
  // gateway/store), each backed up into the set backups/nightly.
  void SetUp() override {
    data_ = mileagebank::testing::FreshTestDir();
    for (const auto& [service, path] :
         {std::pair<std::string, std::string>{"membership", "membership"},
          {"gateway", "gateway/store"}}) {
      auto store = store::Store::Open(
          {.path = data_ + "/" + path, .tables = {"things"}});
      ASSERT_TRUE(store.ok()) << store.status();
      store::WriteBatch batch = (*store)->NewBatch();
      batch.Put("things", "owner", service);
      common::v1::Money money;
      batch.AppendEvent("k", money);
      ASSERT_TRUE((*store)->Commit(batch).ok());
      server::AdminService admin(service, data_, store->get());
      common::v1::BackupRequest request;
      request.set_destination("backups/nightly");
      ASSERT_TRUE(admin.Backup(request).ok());
    }
    set_ = data_ + "/backups/nightly";
    to_ = mileagebank::testing::FreshTestDir("-new");
  }

  int Restore(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"backup", "restore"};
    args.insert(args.end(), flags.begin(), flags.end());
    out_.str("");
    err_.str("");
    return mbctl::Run(args, out_, err_);
  }

  std::string Owner(const std::string& path) {
    auto store =
        store::Store::Open({.path = to_ + "/" + path, .tables = {"things"}});
    if (!store.ok()) return store.status().ToString();
    auto owner = (*store)->Get("things", "owner");
    return owner.ok() && owner->has_value() ? **owner : "";
  }

  std::string data_, set_, to_;
  std::ostringstream out_, err_;
};

TEST_F(BackupRestoreTest, ASetPutsEachStoreWhereItLives) {
  ASSERT_EQ(Restore({"--from=" + set_, "--to=" + to_}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("restored membership"), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("restored gateway"), std::string::npos);
  EXPECT_EQ(Owner("membership"), "membership");
  EXPECT_EQ(Owner("gateway/store"), "gateway");
}

TEST_F(BackupRestoreTest, OneStoreOfASetByServiceOrByFolder) {
  ASSERT_EQ(Restore({"--from=" + set_, "--to=" + to_, "--service=gateway"}),
            kExitOk)
      << err_.str();
  EXPECT_EQ(Owner("gateway/store"), "gateway");
  EXPECT_FALSE(fs::exists(to_ + "/membership"));
  ASSERT_EQ(Restore({"--from=" + set_ + "/membership", "--to=" + to_}), kExitOk)
      << err_.str();
  EXPECT_EQ(Owner("membership"), "membership");
}

TEST_F(BackupRestoreTest, AStoreInUseIsNeverOverwritten) {
  fs::create_directories(to_ + "/gateway/store");
  std::ofstream(to_ + "/gateway/store/CURRENT") << "MANIFEST-000001\n";
  EXPECT_EQ(Restore({"--from=" + set_, "--to=" + to_}), kExitRefused);
  EXPECT_NE(err_.str().find("FAILED_PRECONDITION"), std::string::npos)
      << err_.str();
  // Refused as a whole: membership was not restored either.
  EXPECT_FALSE(fs::exists(to_ + "/membership"));
}

TEST_F(BackupRestoreTest, ADamagedBackupIsRefusedNamingTheFile) {
  const std::string table = mileagebank::testing::NewestTableFile(set_ + "/membership/db");
  ASSERT_FALSE(table.empty());
  mileagebank::testing::FlipByte(table, 10);
  EXPECT_EQ(Restore({"--from=" + set_, "--to=" + to_}), kExitRefused);
  EXPECT_NE(err_.str().find("DATA_LOSS"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find(table), std::string::npos) << err_.str();
  EXPECT_FALSE(fs::exists(to_ + "/gateway"));
}

TEST_F(BackupRestoreTest, FlagsAreCheckedFirst) {
  EXPECT_EQ(Restore({"--from=" + set_}), kExitUsage);
  EXPECT_NE(err_.str().find("to: required"), std::string::npos) << err_.str();
  EXPECT_EQ(Restore({"--from=" + set_, "--to=" + to_, "--force"}), kExitUsage);
  EXPECT_EQ(Restore({"--from=" + data_ + "/nothing", "--to=" + to_}),
            kExitUsage);
  EXPECT_EQ(Restore({"--from=" + set_, "--to=" + to_, "--service=accrual"}),
            kExitRefused);
  EXPECT_NE(err_.str().find("NOT_FOUND"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace mileagebank::mbctl
