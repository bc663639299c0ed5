// End to end: the real membership and accrual processes. Accrual is backed
// up online through its admin service while clients credit flights; the
// backup, restored into a new data folder with `mbctl backup restore`,
// serves every credit acknowledged before the backup began, ends at the
// backup's event, and keeps the ledger invariant. And accrual refuses to
// start on a store with a flipped byte, saying which file and what to do.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/common/v1/admin.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/service_process.h"
#include "tools/mbctl/cli.h"

namespace mileagebank {
namespace {

namespace fs = std::filesystem;
using accrual::v1::Accrual;

// An own flight PEK-PVG flown yesterday; the ticket is its idempotency key.
accrual::v1::PostOwnFlightRequest Flight(const std::string& member,
                                         int64_t ticket) {
  accrual::v1::PostOwnFlightRequest request;
  request.set_member_number(member);
  request.mutable_flight_identity()->set_ticket_number(
      absl::StrCat(7840000000000 + ticket));
  request.mutable_flight_identity()->set_coupon_number(1);
  auto* flight = request.mutable_flight();
  flight->set_carrier("FM");
  flight->set_flight_number(101);
  *flight->mutable_flight_date() =
      validation::ToProtoDate(validation::UtcDay(absl::Now()) - 1);
  flight->set_origin("PEK");
  flight->set_destination("PVG");
  flight->set_booking_class("Y");
  return request;
}

class BackupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = mileagebank::testing::FreshTestDir();
    const std::string membership_address =
        absl::StrCat("127.0.0.1:", testing::PickFreePort());
    accrual_address_ = absl::StrCat("127.0.0.1:", testing::PickFreePort());
    membership_ = std::make_unique<testing::ServiceProcess>(
        testing::RunfilePath("services/membership/membership"),
        std::vector<std::string>{
            "--server.data_dir=" + data_,
            "--server.listen_address=" + membership_address,
            "--accrual_target=" + accrual_address_, "--password_hash_ops=1",
            "--password_hash_memory_kib=8"});
    ASSERT_TRUE(membership_->Start().ok());
    accrual_ = StartAccrual(data_, membership_address);
    ASSERT_NE(accrual_, nullptr);
    auto members = membership::v1::Membership::NewStub(grpc::CreateChannel(
        membership_address, grpc::InsecureChannelCredentials()));
    for (int i = 0; i < 20; ++i) {
      grpc::ClientContext context;
      membership::v1::EnrolResponse enrolled;
      ASSERT_TRUE(
          members->Enrol(&context, testing::SampleEnrolment(400 + i), &enrolled)
              .ok());
      members_.push_back(enrolled.member().member_number());
    }
    membership_address_ = membership_address;
  }

  // Accrual on `data_dir`, always at the same address, so that membership
  // follows whichever one runs.
  std::unique_ptr<testing::ServiceProcess> StartAccrual(
      const std::string& data_dir, const std::string& membership_address,
      const std::string& log_file = "") {
    auto accrual = std::make_unique<testing::ServiceProcess>(
        testing::RunfilePath("services/accrual/accrual"),
        std::vector<std::string>{"--server.data_dir=" + data_dir,
                                 "--server.listen_address=" + accrual_address_,
                                 "--membership_target=" + membership_address,
                                 "--settlement_target=127.0.0.1:1",
                                 "--disable_daily_expiry"});
    if (!log_file.empty()) accrual->set_log_file(log_file);
    start_status_ = accrual->Start();
    return start_status_.ok() ? std::move(accrual) : nullptr;
  }

  std::unique_ptr<Accrual::Stub> AccrualStub() {
    return Accrual::NewStub(grpc::CreateChannel(
        accrual_address_, grpc::InsecureChannelCredentials()));
  }

  std::string data_;
  std::string accrual_address_;
  std::string membership_address_;
  std::vector<std::string> members_;
  std::unique_ptr<testing::ServiceProcess> membership_, accrual_;
  absl::Status start_status_;
};

TEST_F(BackupE2eTest, ABackupUnderLoadRestoresEveryCreditAcknowledgedBeforeIt) {
  std::mutex mutex;
  std::map<int64_t, accrual::v1::Transaction> acknowledged;
  std::atomic<int64_t> next_ticket{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      std::unique_ptr<Accrual::Stub> stub = AccrualStub();
      while (!stop) {
        const int64_t ticket = next_ticket++;
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        accrual::v1::PostOwnFlightResponse response;
        if (stub->PostOwnFlight(
                    &context,
                    Flight(members_[ticket % members_.size()], ticket),
                    &response)
                .ok()) {
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged[ticket] = response.transaction();
        }
      }
    });
  }
  ASSERT_TRUE(testing::Eventually([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size() >= 200;
  }));
  // What was acknowledged before the backup call started.
  std::map<int64_t, accrual::v1::Transaction> before;
  {
    std::lock_guard<std::mutex> lock(mutex);
    before = acknowledged;
  }
  common::v1::BackupRequest request;
  request.set_destination("backups/under-load");
  common::v1::BackupResponse backup;
  grpc::ClientContext context;
  grpc::Status backed_up =
      common::v1::AccrualAdmin::NewStub(
          grpc::CreateChannel(accrual_address_,
                              grpc::InsecureChannelCredentials()))
          ->Backup(&context, request, &backup);
  // The load goes on past the backup.
  const size_t at_backup = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size();
  }();
  ASSERT_TRUE(testing::Eventually([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size() >= at_backup + 100;
  }));
  stop = true;
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(backed_up.ok()) << backed_up.error_message();
  ASSERT_EQ(backup.backups_size(), 1);
  const common::v1::StoreBackup& made = backup.backups(0);
  EXPECT_EQ(made.store(), "accrual");
  EXPECT_EQ(
      made.folder(),
      fs::weakly_canonical(data_ + "/backups/under-load/accrual").string());
  EXPECT_GE(made.sequence(), before.size());
  EXPECT_EQ(accrual_->Stop(), 0);

  // Restored into a new data folder, with the operator's tool.
  const std::string restored_data =
      mileagebank::testing::FreshTestDir("-restored");
  std::ostringstream out, err;
  ASSERT_EQ(mbctl::Run({"backup", "restore", "--from=" + made.folder(),
                        "--to=" + restored_data},
                       out, err),
            mbctl::kExitOk)
      << err.str();
  EXPECT_NE(out.str().find(restored_data + "/accrual"), std::string::npos)
      << out.str();
  // A second restore into the same folder would overwrite a store: refused.
  std::ostringstream again_out, again_err;
  EXPECT_EQ(mbctl::Run({"backup", "restore", "--from=" + made.folder(),
                        "--to=" + restored_data},
                       again_out, again_err),
            mbctl::kExitRefused);
  EXPECT_NE(again_err.str().find("FAILED_PRECONDITION"), std::string::npos)
      << again_err.str();

  accrual_ = StartAccrual(restored_data, membership_address_);
  ASSERT_NE(accrual_, nullptr) << start_status_;
  std::unique_ptr<Accrual::Stub> stub = AccrualStub();
  // The restored ledger holds its invariant and ends at the backup's event:
  // nothing after it was needed.
  grpc::ClientContext verify_context;
  accrual::v1::VerifyLedgerResponse verified;
  ASSERT_TRUE(stub->VerifyLedger(&verify_context, {}, &verified).ok());
  EXPECT_EQ(verified.differences_size(), 0);
  EXPECT_EQ(verified.as_of_sequence(), made.sequence());
  // Every credit acknowledged before the backup began is there: sent again,
  // it is the very same transaction, replayed.
  for (const auto& [ticket, transaction] : before) {
    grpc::ClientContext replay_context;
    accrual::v1::PostOwnFlightResponse replay;
    ASSERT_TRUE(
        stub->PostOwnFlight(&replay_context,
                            Flight(members_[ticket % members_.size()], ticket),
                            &replay)
            .ok());
    EXPECT_TRUE(replay.replayed()) << ticket;
    EXPECT_EQ(replay.transaction().transaction_id(),
              transaction.transaction_id());
  }
  grpc::ClientContext after_context;
  accrual::v1::VerifyLedgerResponse after;
  ASSERT_TRUE(stub->VerifyLedger(&after_context, {}, &after).ok());
  EXPECT_EQ(after.differences_size(), 0);
  EXPECT_EQ(after.as_of_sequence(), made.sequence());
  EXPECT_EQ(after.total_balance(), verified.total_balance());
}

TEST_F(BackupE2eTest, AStoreWithAFlippedByteIsRefusedAtStart) {
  std::unique_ptr<Accrual::Stub> stub = AccrualStub();
  for (int64_t ticket = 1; ticket <= 50; ++ticket) {
    grpc::ClientContext context;
    accrual::v1::PostOwnFlightResponse response;
    ASSERT_TRUE(
        stub->PostOwnFlight(&context,
                            Flight(members_[ticket % members_.size()], ticket),
                            &response)
            .ok());
  }
  // Starting again writes what the log held into a table file.
  EXPECT_EQ(accrual_->Stop(), 0);
  accrual_ = StartAccrual(data_, membership_address_);
  ASSERT_NE(accrual_, nullptr) << start_status_;
  EXPECT_EQ(accrual_->Stop(), 0);
  std::string table;
  for (const auto& entry : fs::directory_iterator(data_ + "/accrual")) {
    if (entry.path().extension() == ".sst" &&
        (table.empty() || entry.path().string() > table)) {
      table = entry.path().string();
    }
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream io(table, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(10);
    char byte = 0;
    io.get(byte);
    io.seekp(10);
    io.put(static_cast<char>(byte ^ 0x10));
  }

  const std::string log = data_ + "/accrual.log";
  accrual_ = StartAccrual(data_, membership_address_, log);
  EXPECT_EQ(accrual_, nullptr);
  EXPECT_NE(std::string(start_status_.message()).find("exit status 2"),
            std::string::npos)
      << start_status_;
  std::ifstream file(log);
  const std::string said(std::istreambuf_iterator<char>(file), {});
  EXPECT_NE(said.find(absl::StrCat("store ", data_, "/accrual is corrupt")),
            std::string::npos)
      << said;
  EXPECT_NE(said.find(table), std::string::npos) << said;
  EXPECT_NE(said.find("mbctl backup restore"), std::string::npos) << said;
}

}  // namespace
}  // namespace mileagebank
