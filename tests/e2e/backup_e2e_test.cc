// End to end: the real membership and accrual processes. Accrual is backed
// up online through its admin service while clients credit flights; the
// backup, restored into a new data folder with `mbctl backup restore`,
// serves every credit acknowledged before the backup began, ends at the
// backup's event, and keeps the ledger invariant. And accrual refuses to
// start on a store with a flipped byte, saying which file and what to do.
// Membership and accrual run as $MB_TEST_SHARDS shards: each accrual shard
// is backed up into one set, restored together, and checked on its own.
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
#include "libs/client/client.h"
#include "libs/client/shard_streams.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/common/v1/admin.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/system.h"
#include "tools/mbctl/cli.h"

namespace mileagebank {
namespace {

namespace fs = std::filesystem;
using accrual::v1::Accrual;

// An own flight PEK-PVG flown yesterday; the ticket is its idempotency key.
accrual::v1::PostOwnFlightRequest Flight(const std::string& member,
                                         int64_t ticket) {
  return testing::SampleOwnFlight(member, absl::StrCat(7840000000000 + ticket));
}

class BackupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = mileagebank::testing::FreshTestDir();
    testing::SystemOptions options;
    options.data_dir = data_;
    options.shards = testing::ShardsFromEnvironment();
    options.services = {"membership", "accrual"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    ASSERT_TRUE(system_->Start().ok());
    accrual_ = std::make_unique<client::ServiceClient<Accrual>>(
        system_->Targets("accrual"));
    client::ServiceClient<membership::v1::Membership> members(
        system_->Targets("membership"));
    for (int i = 0; i < 20; ++i) {
      const membership::v1::EnrolRequest request =
          testing::SampleEnrolment(400 + i);
      grpc::ClientContext context;
      membership::v1::EnrolResponse enrolled;
      ASSERT_TRUE(
          members.For(request).Enrol(&context, request, &enrolled).ok());
      members_.push_back(enrolled.member().member_number());
    }
  }

  int shards() const { return system_->shards(); }
  testing::ServiceProcess& accrual(int shard) {
    return system_->process_of("accrual", shard);
  }
  // Accrual shard `shard`'s store, as a folder under the data folder names
  // it: "accrual", or "accrual-<shard>" when sharded.
  std::string StoreName(int shard) const {
    return client::ShardStreams("accrual", system_->Targets("accrual"))[shard]
        .source;
  }
  // Stops every accrual shard (SIGTERM); whether each exited cleanly.
  bool StopAccrual() {
    bool clean = true;
    for (int shard = 0; shard < shards(); ++shard)
      clean &= accrual(shard).Stop() == 0;
    return clean;
  }

  accrual::v1::PostOwnFlightRequest Credit(int64_t ticket) const {
    return Flight(members_[ticket % members_.size()], ticket);
  }

  std::string data_;
  std::vector<std::string> members_;
  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<Accrual>> accrual_;
};

TEST_F(BackupE2eTest, ABackupUnderLoadRestoresEveryCreditAcknowledgedBeforeIt) {
  std::mutex mutex;
  std::map<int64_t, accrual::v1::Transaction> acknowledged;
  std::atomic<int64_t> next_ticket{1};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      while (!stop) {
        const int64_t ticket = next_ticket++;
        const accrual::v1::PostOwnFlightRequest request = Credit(ticket);
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        accrual::v1::PostOwnFlightResponse response;
        if (accrual_->For(request)
                .PostOwnFlight(&context, request, &response)
                .ok()) {
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged[ticket] = response.transaction();
        }
      }
    });
  }
  // A failed assertion must not leave the clients running.
  auto stop_clients = [&] {
    stop = true;
    for (std::thread& client : clients) client.join();
    clients.clear();
  };
  if (!testing::Eventually([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return acknowledged.size() >= 200;
      })) {
    stop_clients();
    FAIL() << "credits did not flow";
  }
  // What was acknowledged before the backup calls started.
  std::map<int64_t, accrual::v1::Transaction> before;
  {
    std::lock_guard<std::mutex> lock(mutex);
    before = acknowledged;
  }
  // Every shard into one set, one after the other, as an operator would.
  std::vector<grpc::Status> backed_up(shards());
  std::vector<common::v1::BackupResponse> backups(shards());
  const std::vector<std::string> targets =
      client::SplitTargets(system_->Targets("accrual"));
  for (int shard = 0; shard < shards(); ++shard) {
    common::v1::BackupRequest request;
    request.set_destination("backups/under-load");
    grpc::ClientContext context;
    backed_up[shard] =
        common::v1::AccrualAdmin::NewStub(client::ChannelFor(targets[shard]))
            ->Backup(&context, request, &backups[shard]);
  }
  // The load goes on past the backup.
  const size_t at_backup = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size();
  }();
  const bool went_on = testing::Eventually([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size() >= at_backup + 100;
  });
  stop_clients();
  ASSERT_TRUE(went_on);
  // Each shard's credits acknowledged before the backup.
  std::vector<uint64_t> before_on_shard(shards());
  for (const auto& [ticket, transaction] : before) {
    ++before_on_shard[client::ShardOfMember(transaction.member_number(),
                                            shards())];
  }
  std::vector<common::v1::StoreBackup> made(shards());
  for (int shard = 0; shard < shards(); ++shard) {
    ASSERT_TRUE(backed_up[shard].ok()) << backed_up[shard].error_message();
    ASSERT_EQ(backups[shard].backups_size(), 1);
    made[shard] = backups[shard].backups(0);
    EXPECT_EQ(made[shard].store(), StoreName(shard));
    EXPECT_EQ(
        made[shard].folder(),
        fs::weakly_canonical(data_ + "/backups/under-load/" + StoreName(shard))
            .string());
    EXPECT_GE(made[shard].sequence(), before_on_shard[shard]);
  }
  EXPECT_TRUE(StopAccrual());

  // Restored into a new data folder, with the operator's tool.
  const std::string set = data_ + "/backups/under-load";
  const std::string restored_data =
      mileagebank::testing::FreshTestDir("-restored");
  std::ostringstream out, err;
  ASSERT_EQ(mbctl::Run(
                {"backup", "restore", "--from=" + set, "--to=" + restored_data},
                out, err),
            mbctl::kExitOk)
      << err.str();
  for (int shard = 0; shard < shards(); ++shard) {
    EXPECT_NE(out.str().find(restored_data + "/" + StoreName(shard)),
              std::string::npos)
        << out.str();
  }
  // A second restore into the same folder would overwrite a store: refused.
  std::ostringstream again_out, again_err;
  EXPECT_EQ(mbctl::Run(
                {"backup", "restore", "--from=" + set, "--to=" + restored_data},
                again_out, again_err),
            mbctl::kExitRefused);
  EXPECT_NE(again_err.str().find("FAILED_PRECONDITION"), std::string::npos)
      << again_err.str();

  // The same addresses on the restored data, so that membership follows
  // the restored shards.
  for (int shard = 0; shard < shards(); ++shard) {
    accrual(shard).set_extra_args({"--server.data_dir=" + restored_data});
  }
  ASSERT_TRUE(system_->Start().ok());
  // Each restored ledger holds its invariant and ends at its backup's
  // event: nothing after it was needed.
  std::vector<accrual::v1::VerifyLedgerResponse> verified(shards());
  for (int shard = 0; shard < shards(); ++shard) {
    ASSERT_TRUE(
        accrual_->Shard(shard)
            .VerifyLedger(testing::WaitingContext().get(), {}, &verified[shard])
            .ok());
    EXPECT_EQ(verified[shard].differences_size(), 0);
    EXPECT_EQ(verified[shard].as_of_sequence(), made[shard].sequence());
  }
  // Every credit acknowledged before the backup began is there: sent again,
  // it is the very same transaction, replayed.
  for (const auto& [ticket, transaction] : before) {
    const accrual::v1::PostOwnFlightRequest request = Credit(ticket);
    accrual::v1::PostOwnFlightResponse replay;
    ASSERT_TRUE(
        accrual_->For(request)
            .PostOwnFlight(testing::WaitingContext().get(), request, &replay)
            .ok());
    EXPECT_TRUE(replay.replayed()) << ticket;
    EXPECT_EQ(replay.transaction().transaction_id(),
              transaction.transaction_id());
  }
  for (int shard = 0; shard < shards(); ++shard) {
    grpc::ClientContext after_context;
    accrual::v1::VerifyLedgerResponse after;
    ASSERT_TRUE(
        accrual_->Shard(shard).VerifyLedger(&after_context, {}, &after).ok());
    EXPECT_EQ(after.differences_size(), 0);
    EXPECT_EQ(after.as_of_sequence(), made[shard].sequence());
    EXPECT_EQ(after.total_balance(), verified[shard].total_balance());
  }
}

TEST_F(BackupE2eTest, AStoreWithAFlippedByteIsRefusedAtStart) {
  for (int64_t ticket = 1; ticket <= 50; ++ticket) {
    const accrual::v1::PostOwnFlightRequest request = Credit(ticket);
    grpc::ClientContext context;
    accrual::v1::PostOwnFlightResponse response;
    ASSERT_TRUE(accrual_->For(request)
                    .PostOwnFlight(&context, request, &response)
                    .ok());
  }
  // Starting again writes what the log held into a table file.
  EXPECT_TRUE(StopAccrual());
  ASSERT_TRUE(system_->Start().ok());
  EXPECT_TRUE(StopAccrual());
  // The first shard's store (every shard holds some of the 20 members).
  const std::string store = data_ + "/" + StoreName(0);
  std::string table;
  for (const auto& entry : fs::directory_iterator(store)) {
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
  accrual(0).set_log_file(log);
  absl::Status started = accrual(0).Start();
  EXPECT_FALSE(accrual(0).running());
  EXPECT_NE(std::string(started.message()).find("exit status 2"),
            std::string::npos)
      << started;
  std::ifstream file(log);
  const std::string said(std::istreambuf_iterator<char>(file), {});
  EXPECT_NE(said.find(absl::StrCat("store ", store, " is corrupt")),
            std::string::npos)
      << said;
  EXPECT_NE(said.find(table), std::string::npos) << said;
  EXPECT_NE(said.find("mbctl backup restore"), std::string::npos) << said;
}

}  // namespace
}  // namespace mileagebank
