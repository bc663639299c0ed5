// End to end: the real membership, accrual, redemption and settlement
// processes. A partner's accrual file goes through the upload and the drop
// folder with the same outcome, and a file whose processing is killed again
// and again (by the process itself right after a committed batch, and by
// SIGKILL at arbitrary moments) is finished after each restart with no
// record credited twice or lost and the acknowledgement an uninterrupted run
// writes, byte for byte apart from the processed timestamp. Membership,
// accrual and redemption run as $MB_TEST_SHARDS shards, so a file's credits
// are split by shard.
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/client/client.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tests/support/e2e.h"
#include "tests/support/system.h"

namespace mileagebank {
namespace {

using settlement::v1::Settlement;
namespace sv1 = settlement::v1;

// One whole mileage bank (but the gateway and reporting) on fresh data.
class System {
 public:
  explicit System(const std::string& data, std::vector<std::string> settlement_extra = {})
      : data_(data) {
    testing::SystemOptions options;
    options.data_dir = data;
    options.shards = testing::ShardsFromEnvironment();
    options.services = {"membership", "accrual", "redemption", "settlement"};
    options.flags["membership"] = {"--password_hash_ops=1",
                                   "--password_hash_memory_kib=8"};
    options.flags["accrual"] = {"--disable_daily_expiry"};
    options.flags["settlement"] = {"--credit_batch_size=50",
                                   "--inbox_poll_ms=100",
                                   "--disable_daily_outbound"};
    system_ = std::make_unique<testing::WholeSystem>(options);
    settlement().set_extra_args(std::move(settlement_extra));
    absl::Status started = system_->Start();
    EXPECT_TRUE(started.ok()) << started;
    members_ =
        std::make_unique<client::ServiceClient<membership::v1::Membership>>(
            system_->Targets("membership"));
    accrual_ = std::make_unique<client::ServiceClient<accrual::v1::Accrual>>(
        system_->Targets("accrual"));
    settlement_stub_ = FreshSettlementStub();
  }

  // (Re)starts settlement with its usual flags and `extra`.
  void StartSettlement(std::vector<std::string> extra = {}) {
    settlement().set_extra_args(std::move(extra));
    absl::Status started = settlement().Start();
    EXPECT_TRUE(started.ok()) << started;
    settlement_stub_ = FreshSettlementStub();
  }
  testing::ServiceProcess& settlement() {
    return system_->process_of("settlement");
  }

  std::string Enrol(int n, const std::string& family = "Chen") {
    grpc::ClientContext context;
    membership::v1::EnrolResponse response;
    const membership::v1::EnrolRequest request =
        testing::SampleEnrolment(n, family);
    grpc::Status status =
        members_->For(request).Enrol(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.member().member_number();
  }

  void RegisterPartner(const std::string& code, sv1::PartnerType type,
                       const std::string& name) {
    sv1::RegisterPartnerRequest request;
    sv1::Partner* partner = request.mutable_partner();
    partner->set_partner_code(code);
    partner->set_name(name);
    partner->set_type(type);
    partner->set_currency_code("CNY");
    auto* sale = partner->mutable_contract()->mutable_mile_sale_price();
    sale->set_currency_code("CNY");
    sale->set_minor_units(1250);
    request.mutable_actor()->set_operator_id("e2e");
    grpc::ClientContext context;
    sv1::RegisterPartnerResponse response;
    grpc::Status status =
        settlement_stub_->RegisterPartner(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  sv1::AccrualFile Upload(const std::string& partner, const std::string& name,
                          const std::string& bytes) {
    grpc::ClientContext context;
    sv1::UploadAccrualFileResponse response;
    auto writer = settlement_stub_->UploadAccrualFile(&context, &response);
    sv1::UploadAccrualFileRequest first;
    first.mutable_metadata()->set_partner_code(partner);
    first.mutable_metadata()->set_file_name(name);
    EXPECT_TRUE(writer->Write(first));
    for (size_t at = 0; at < bytes.size(); at += 64 * 1024) {
      sv1::UploadAccrualFileRequest chunk;
      chunk.set_chunk(bytes.substr(at, 64 * 1024));
      EXPECT_TRUE(writer->Write(chunk));
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.file();
  }

  absl::optional<sv1::AccrualFile> GetFile(const std::string& file_id) {
    sv1::GetAccrualFileRequest request;
    request.set_file_id(file_id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    sv1::GetAccrualFileResponse response;
    if (!settlement_stub_->GetAccrualFile(&context, request, &response).ok()) {
      return absl::nullopt;
    }
    return response.file();
  }

  // The partner's only file, once processed.
  absl::optional<sv1::AccrualFile> ProcessedFileOf(const std::string& partner) {
    sv1::ListAccrualFilesRequest request;
    request.set_partner_code(partner);
    request.add_statuses(sv1::ACCEPTED);
    request.add_statuses(sv1::REFUSED);
    grpc::ClientContext context;
    sv1::ListAccrualFilesResponse response;
    if (!settlement_stub_->ListAccrualFiles(&context, request, &response).ok() ||
        response.files_size() != 1) {
      return absl::nullopt;
    }
    return response.files(0);
  }

  bool WaitProcessed(const std::string& file_id,
                     absl::Duration timeout = absl::Seconds(120)) {
    return testing::Eventually(
        [&] {
          absl::optional<sv1::AccrualFile> file = GetFile(file_id);
          return file && (file->status() == sv1::ACCEPTED ||
                          file->status() == sv1::REFUSED);
        },
        timeout);
  }

  std::string Download(const std::string& partner, const std::string& name) {
    sv1::DownloadFileRequest request;
    request.set_partner_code(partner);
    request.set_file_name(name);
    grpc::ClientContext context;
    auto reader = settlement_stub_->DownloadFile(&context, request);
    std::string bytes;
    sv1::DownloadFileResponse part;
    while (reader->Read(&part)) bytes += part.chunk();
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return bytes;
  }

  int64_t Balance(const std::string& member) {
    accrual::v1::GetBalanceRequest request;
    request.set_member_number(member);
    grpc::ClientContext context;
    accrual::v1::GetBalanceResponse response;
    EXPECT_TRUE(
        accrual_->For(request).GetBalance(&context, request, &response).ok());
    return response.balance().balance();
  }

  const std::string& data() const { return data_; }

 private:
  // A channel of its own: a shared one would still be waiting out the
  // reconnect backoff it built up while settlement was down, during which a
  // restarted settlement can finish the whole file unobserved.
  std::unique_ptr<Settlement::Stub> FreshSettlementStub() {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return Settlement::NewStub(grpc::CreateCustomChannel(
        system_->Targets("settlement"), grpc::InsecureChannelCredentials(),
        arguments));
  }

  std::string data_;
  std::unique_ptr<testing::WholeSystem> system_;
  std::unique_ptr<client::ServiceClient<membership::v1::Membership>> members_;
  std::unique_ptr<client::ServiceClient<accrual::v1::Accrual>> accrual_;
  std::unique_ptr<Settlement::Stub> settlement_stub_;
};

// A partner accrual file: `records` D records over `members` (family name
// Chen), a third of them AIR on PEK-PVG, the rest OTHER with stated miles;
// record 10 names a member that does not exist, record 20 the wrong family
// name, and record 30 repeats record 29's reference.
std::string AccrualFile(const std::string& partner, int seq,
                        const std::vector<std::string>& members, int records) {
  const absl::CivilDay yesterday = validation::UtcDay(absl::Now()) - 1;
  const std::string date = validation::FormatDate(yesterday);
  std::string file = absl::StrCat(
      "H,", partner, ",", seq, ",",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()),
      ",1\n");
  // Tickets are unique over every path, partners included.
  const int64_t first_ticket = 7810000000000 + (partner == "CA" ? 0 : 5000000);
  int64_t total = 0;
  for (int i = 1; i <= records; ++i) {
    std::string member = members[i % members.size()];
    std::string family = "Chen";
    if (i == 10) member = validation::MemberNumberFromSerial(999999990);
    if (i == 20) family = "Wrong";
    const int ref_number = i == 30 ? 29 : i;
    if (i % 3 == 0 && i != 30) {
      absl::StrAppend(&file, "D,", i, ",", member, ",", family, ",Flyer,", date,
                      ",AIR,", first_ticket + seq * 100000 + i, "/1,", partner,
                      ",1501,PEK,PVG,Y,\n");
    } else {
      const int miles = 100 + i % 50;
      total += miles;
      absl::StrAppend(&file, "D,", i, ",", member, ",", family, ",Flyer,", date,
                      ",OTHER,REF-", seq, "-", ref_number, ",,,,,,", miles, "\n");
    }
  }
  absl::StrAppend(&file, "T,", records, ",", total, "\n");
  return file;
}

std::string WithoutProcessedTimestamp(const std::string& ack) {
  std::vector<std::string> lines = absl::StrSplit(ack, '\n');
  if (!lines.empty()) {
    std::vector<std::string> header = absl::StrSplit(lines[0], ',');
    if (header.size() == 5) header[3] = "<processed>";
    lines[0] = absl::StrJoin(header, ",");
  }
  return absl::StrJoin(lines, "\n");
}

// Miles per member as the acknowledgement credited them.
std::map<std::string, int64_t> CreditedByMember(const std::string& file,
                                                const std::string& ack) {
  std::map<int64_t, std::string> member_of_record;
  for (absl::string_view line : absl::StrSplit(file, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() == 14 && fields[0] == "D") {
      member_of_record[std::stoll(fields[1])] = fields[2];
    }
  }
  std::map<std::string, int64_t> credited;
  for (absl::string_view line : absl::StrSplit(ack, '\n')) {
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() == 5 && fields[0] == "R" && fields[2] == "ACCEPTED") {
      credited[member_of_record[std::stoll(fields[1])]] += std::stoll(fields[4]);
    }
  }
  return credited;
}

std::vector<std::string> EnrolMembers(System& system, int count) {
  std::vector<std::string> members;
  for (int n = 0; n < count; ++n) members.push_back(system.Enrol(n));
  return members;
}

TEST(SettlementE2eTest, UploadAndDropFolderGiveTheSameAcknowledgement) {
  System system(testing::FreshTestDir());
  system.RegisterPartner("CA", sv1::AIRLINE, "Air China");
  system.RegisterPartner("MU", sv1::AIRLINE, "China Eastern");
  const std::vector<std::string> members = EnrolMembers(system, 12);

  // The same records from two airlines: one uploads, one drops its file.
  const std::string uploaded = AccrualFile("CA", 1, members, 120);
  sv1::AccrualFile received = system.Upload("CA", "CA_000001.acc.csv", uploaded);
  ASSERT_FALSE(received.file_id().empty());
  ASSERT_TRUE(system.WaitProcessed(received.file_id()));

  const std::string dropped = AccrualFile("MU", 1, members, 120);
  const std::string inbox = system.data() + "/partners/MU/inbox";
  ASSERT_TRUE(testing::Eventually([&] { return std::filesystem::exists(inbox); }));
  {
    // Written elsewhere and renamed in, as the interface asks.
    std::ofstream(inbox + "/.MU_000001.acc.csv.tmp") << dropped;
    std::filesystem::rename(inbox + "/.MU_000001.acc.csv.tmp",
                            inbox + "/MU_000001.acc.csv");
  }
  absl::optional<sv1::AccrualFile> from_folder;
  ASSERT_TRUE(testing::Eventually(
      [&] { return (from_folder = system.ProcessedFileOf("MU")).has_value(); },
      absl::Seconds(60)));

  sv1::AccrualFile from_upload = *system.GetFile(received.file_id());
  EXPECT_EQ(from_upload.status(), sv1::ACCEPTED);
  EXPECT_EQ(from_folder->status(), sv1::ACCEPTED);
  EXPECT_EQ(from_upload.records_accepted(), from_folder->records_accepted());
  EXPECT_EQ(from_upload.records_rejected(), 3);
  const std::string upload_ack =
      system.Download("CA", from_upload.acknowledgement_file_name());
  const std::string folder_ack = system.Download("MU", "MU_000001.ack.csv");
  std::string expected = upload_ack;
  expected.replace(expected.find("H,CA,"), 5, "H,MU,");
  EXPECT_EQ(WithoutProcessedTimestamp(folder_ack), WithoutProcessedTimestamp(expected));
  EXPECT_NE(upload_ack.find("R,10,REJECTED,MEMBER_NOT_FOUND,0"), std::string::npos);
  EXPECT_NE(upload_ack.find("R,20,REJECTED,NAME_MISMATCH,0"), std::string::npos);
  EXPECT_NE(upload_ack.find("R,30,REJECTED,DUPLICATE_ACTIVITY,0"), std::string::npos);
  // The acknowledgement lands in the drop folder's outbox, the file in
  // processed/.
  EXPECT_TRUE(std::filesystem::exists(system.data() + "/partners/MU/outbox/MU_000001.ack.csv"));
  EXPECT_TRUE(testing::Eventually([&] {
    return std::filesystem::exists(system.data() + "/partners/MU/processed/MU_000001.acc.csv") &&
           !std::filesystem::exists(inbox + "/MU_000001.acc.csv");
  }));

  // The identical file again: the same acknowledgement, nothing credited.
  const int64_t balance_before = system.Balance(members[1]);
  sv1::AccrualFile again = system.Upload("CA", "CA_000001.acc.csv", uploaded);
  ASSERT_TRUE(system.WaitProcessed(again.file_id()));
  EXPECT_EQ(system.GetFile(again.file_id())->identical_to_file_id(), received.file_id());
  EXPECT_EQ(system.Download("CA", "CA_000001.ack.csv"), upload_ack);
  EXPECT_EQ(system.Balance(members[1]), balance_before);

  // A different file under the used seq: DUPLICATE_FILE, beside the
  // accepted file's acknowledgement rather than over it.
  sv1::AccrualFile different =
      system.Upload("CA", "CA_000001.acc.csv", AccrualFile("CA", 1, members, 5));
  ASSERT_TRUE(system.WaitProcessed(different.file_id()));
  sv1::AccrualFile refused = *system.GetFile(different.file_id());
  EXPECT_EQ(refused.status(), sv1::REFUSED);
  EXPECT_EQ(refused.refusal_code(), sv1::DUPLICATE_FILE);
  EXPECT_EQ(refused.acknowledgement_file_name(), "CA_000001.dup.ack.csv");
  EXPECT_EQ(system.Download("CA", "CA_000001.ack.csv"), upload_ack);
}

TEST(SettlementE2eTest, KilledMidFileFinishesWithTheSameAcknowledgement) {
  constexpr int kRecords = 10000;
  const std::string root = testing::FreshTestDir();

  // The reference: an uninterrupted run on a system of its own.
  std::string reference_ack;
  std::string file;
  {
    System reference(root + "/reference");
    reference.RegisterPartner("CA", sv1::AIRLINE, "Air China");
    const std::vector<std::string> members = EnrolMembers(reference, 60);
    file = AccrualFile("CA", 1, members, kRecords);
    sv1::AccrualFile received = reference.Upload("CA", "CA_000001.acc.csv", file);
    ASSERT_TRUE(reference.WaitProcessed(received.file_id()));
    ASSERT_EQ(reference.GetFile(received.file_id())->status(), sv1::ACCEPTED);
    reference_ack = reference.Download("CA", "CA_000001.ack.csv");
  }

  // The same members (numbers are issued in order) and the same file, with
  // settlement ending itself after its 7th committed batch.
  System system(root + "/interrupted", {"--crash_after_credit_batches=7"});
  system.RegisterPartner("CA", sv1::AIRLINE, "Air China");
  const std::vector<std::string> members = EnrolMembers(system, 60);
  sv1::AccrualFile received = system.Upload("CA", "CA_000001.acc.csv", file);
  ASSERT_FALSE(received.file_id().empty());
  ASSERT_TRUE(testing::Eventually(
      [&] { return system.GetFile(received.file_id()) == absl::nullopt; },
      absl::Seconds(60)))
      << "settlement did not end itself mid-file";
  system.settlement().Kill();  // Reaps it.

  // Then SIGKILL at arbitrary moments while it works through the rest.
  std::mt19937 random(20261123);
  int kills_mid_file = 0;
  for (int kill = 0; kill < 3; ++kill) {
    system.StartSettlement();
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(50, 400)(random)));
    const absl::optional<sv1::AccrualFile> progress =
        system.GetFile(received.file_id());
    if (progress && progress->status() != sv1::PROCESSING) break;
    system.settlement().Kill();
    if (progress) ++kills_mid_file;
  }
  // At least one SIGKILL must have landed while the file was in progress,
  // or the test proves nothing about them.
  EXPECT_GE(kills_mid_file, 1);
  if (!system.settlement().Alive()) system.StartSettlement();
  ASSERT_TRUE(system.WaitProcessed(received.file_id()));
  sv1::AccrualFile finished = *system.GetFile(received.file_id());
  EXPECT_EQ(finished.status(), sv1::ACCEPTED);
  EXPECT_EQ(finished.records_judged(), kRecords);

  const std::string ack = system.Download("CA", "CA_000001.ack.csv");
  EXPECT_EQ(WithoutProcessedTimestamp(ack), WithoutProcessedTimestamp(reference_ack));
  // Nothing credited twice or lost: each member's balance is what the
  // acknowledgement says was credited to it.
  const std::map<std::string, int64_t> credited = CreditedByMember(file, ack);
  ASSERT_EQ(credited.size(), members.size());
  for (const std::string& member : members) {
    EXPECT_EQ(system.Balance(member), credited.at(member)) << member;
  }
}

}  // namespace
}  // namespace mileagebank
