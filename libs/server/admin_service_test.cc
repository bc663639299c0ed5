// The admin service of a process: a backup lands in its set folder under the
// data folder with its description beside it, only there, never twice, and
// only past the guard.
#include "libs/server/admin_service.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/status/grpc_status.h"
#include "libs/store/keys.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/admin.grpc.pb.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank::server {
namespace {

namespace fs = std::filesystem;
using common::v1::BackupRequest;
using common::v1::BackupResponse;

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = mileagebank::testing::FreshTestDir();
    auto opened = store::Store::Open(
        {.path = data_ + "/accrual-2", .tables = {"things"}});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
    for (int i = 1; i <= 3; ++i) {
      store::WriteBatch batch = store_->NewBatch();
      batch.Put("things", store::KeyBuilder().Int64(i).Build(), "v");
      common::v1::Money money;
      money.set_minor_units(i);
      batch.AppendEvent("k", money);
      ASSERT_TRUE(store_->Commit(batch).ok());
    }
  }

  // Calls Backup through gRPC on a server holding `admin`.
  grpc::Status CallBackup(AdminService& admin, const BackupRequest& request,
                          BackupResponse* response) {
    grpc::ServerBuilder builder;
    builder.RegisterService(admin.grpc_service());
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    auto stub = common::v1::AccrualAdmin::NewStub(
        server->InProcessChannel(grpc::ChannelArguments()));
    grpc::ClientContext context;
    grpc::Status status = stub->Backup(&context, request, response);
    server->Shutdown();
    return status;
  }

  std::string data_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AdminServiceTest, ABackupGoesIntoItsSetWithItsDescription) {
  AdminService admin("accrual", data_, store_.get());
  BackupResponse response;
  grpc::Status status = CallBackup(admin, {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.backups_size(), 1);
  const common::v1::StoreBackup& backup = response.backups(0);
  EXPECT_EQ(backup.service(), "accrual");
  EXPECT_EQ(backup.store(), "accrual-2");
  EXPECT_EQ(backup.store_path(), "accrual-2");
  EXPECT_EQ(backup.sequence(), 3u);
  EXPECT_GT(backup.size_bytes(), 0);
  // backups/<UTC time>/accrual-2
  const fs::path folder(backup.folder());
  EXPECT_EQ(folder.filename(), "accrual-2");
  EXPECT_EQ(folder.parent_path().parent_path(),
            fs::weakly_canonical(data_ + "/backups"));
  EXPECT_FALSE(fs::exists(backup.folder() + ".partial"));

  std::ifstream file(backup.folder() + "/backup.json");
  std::string json(std::istreambuf_iterator<char>(file), {});
  common::v1::StoreBackup described;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(json, &described).ok());
  EXPECT_EQ(described.SerializeAsString(), backup.SerializeAsString());
  absl::StatusOr<store::CopyInfo> copy =
      store::CheckCopy(backup.folder() + "/db");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->sequence, 3u);
}

TEST_F(AdminServiceTest, ADestinationOutsideTheDataFolderIsRefused) {
  AdminService admin("accrual", data_, store_.get());
  for (const std::string& destination :
       {std::string("../elsewhere"), std::string("/tmp/elsewhere"),
        std::string("."), std::string("accrual-2/inside")}) {
    BackupRequest request;
    request.set_destination(destination);
    absl::StatusOr<BackupResponse> refused = admin.Backup(request);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
        << destination;
    EXPECT_TRUE(
        mileagebank::testing::NamesField(refused.status(), "destination"))
        << refused.status();
  }
  EXPECT_FALSE(fs::exists(data_ + "/../elsewhere"));
}

TEST_F(AdminServiceTest, ABackupFolderThatExistsIsRefused) {
  AdminService admin("accrual", data_, store_.get());
  BackupRequest request;
  request.set_destination("backups/before-upgrade");
  ASSERT_TRUE(admin.Backup(request).ok());
  BackupResponse response;
  grpc::Status again = CallBackup(admin, request, &response);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(again.error_message().find("destination"), std::string::npos)
      << again.error_message();
}

TEST_F(AdminServiceTest, TheGuardDecidesBeforeAnythingIsWritten) {
  int admitted = 0;
  AdminService admin(
      "accrual", data_, store_.get(),
      [&](const grpc::ServerContext& context,
          const std::function<absl::Status()>& call) -> absl::Status {
        auto key = context.client_metadata().find("x-api-key");
        if (key == context.client_metadata().end()) {
          return absl::UnauthenticatedError("credentials required");
        }
        ++admitted;
        return call();
      });
  BackupResponse response;
  grpc::Status refused = CallBackup(admin, {}, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(fs::exists(data_ + "/backups"));
  EXPECT_EQ(admitted, 0);
}

}  // namespace
}  // namespace mileagebank::server
