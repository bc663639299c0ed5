// The streaming calls against an in-process fake of the settlement service
// on port 0: what goes over the wire, what lands on disk, the commands built
// on them (upload --wait, download, ack over all pages), and the API key they
// carry when the fake stands for the gateway.
#include "tools/mbctl/file_transfer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/crypto/password.h"
#include "libs/testing/loopback_server.h"
#include "libs/testing/testing.h"
#include "mileagebank/reporting/v1/reporting.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tools/mbctl/cli.h"

namespace mileagebank::mbctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace v1 = ::mileagebank::settlement::v1;

constexpr char kUploadMethod[] =
    "/mileagebank.settlement.v1.Settlement/UploadAccrualFile";
constexpr char kDownloadMethod[] =
    "/mileagebank.settlement.v1.Settlement/DownloadFile";

std::string Sha256Of(const std::string& bytes) {
  crypto::Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

// Bytes of every value, in an order no chunking hides.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  }
  return bytes;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Records what it is sent and answers as the test sets it up.
class FakeSettlement final : public v1::Settlement::Service {
 public:
  grpc::Status UploadAccrualFile(
      grpc::ServerContext* context,
      grpc::ServerReader<v1::UploadAccrualFileRequest>* reader,
      v1::UploadAccrualFileResponse* response) override {
    absl::MutexLock lock(&mutex_);
    if (grpc::Status key = CheckKey(*context); !key.ok()) return key;
    v1::UploadAccrualFileRequest message;
    while (reader->Read(&message)) received_.push_back(message);
    if (!upload_error_.ok()) return upload_error_;
    std::string bytes;
    for (const auto& part : received_) bytes += part.chunk();
    response->mutable_file()->set_file_id("F1");
    response->mutable_file()->set_size_bytes(bytes.size());
    response->mutable_file()->set_sha256(Sha256Of(bytes));
    response->mutable_file()->set_status(v1::RECEIVED);
    return grpc::Status::OK;
  }

  grpc::Status GetAccrualFile(grpc::ServerContext* context,
                              const v1::GetAccrualFileRequest* request,
                              v1::GetAccrualFileResponse* response) override {
    absl::MutexLock lock(&mutex_);
    if (grpc::Status key = CheckKey(*context); !key.ok()) return key;
    ++polls_;
    response->mutable_file()->set_file_id(request->file_id());
    response->mutable_file()->set_status(polls_ < 3 ? v1::PROCESSING
                                                    : v1::ACCEPTED);
    response->mutable_file()->set_records_accepted(polls_ < 3 ? 0 : 2);
    return grpc::Status::OK;
  }

  grpc::Status GetAcknowledgement(
      grpc::ServerContext* context,
      const v1::GetAcknowledgementRequest* request,
      v1::GetAcknowledgementResponse* response) override {
    // Three pages of one record each; the token is the next record number.
    const int first = request->page().page_token().empty()
                          ? 1
                          : std::stoi(request->page().page_token());
    response->set_file_name("CA_000042.ack.csv");
    response->set_count(3);
    v1::AcknowledgedRecord* record = response->add_records();
    record->set_record_number(first);
    record->set_status(v1::RECORD_ACCEPTED);
    record->set_miles(100 * first);
    if (first < 3)
      response->mutable_page()->set_next_page_token(absl::StrCat(first + 1));
    return grpc::Status::OK;
  }

  grpc::Status DownloadFile(
      grpc::ServerContext* context, const v1::DownloadFileRequest* request,
      grpc::ServerWriter<v1::DownloadFileResponse>* writer) override {
    absl::MutexLock lock(&mutex_);
    if (grpc::Status key = CheckKey(*context); !key.ok()) return key;
    if (download_name_ != request->file_name()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such file");
    }
    v1::DownloadFileResponse first;
    first.mutable_file()->set_file_name(download_served_name_);
    first.mutable_file()->set_kind(v1::ACKNOWLEDGEMENT_FILE);
    first.mutable_file()->set_size_bytes(download_.size());
    first.mutable_file()->set_sha256(
        announced_sha256_.empty() ? Sha256Of(download_) : announced_sha256_);
    writer->Write(first);
    for (size_t at = 0; at < download_.size(); at += kChunkBytes) {
      v1::DownloadFileResponse chunk;
      chunk.set_chunk(download_.substr(at, kChunkBytes));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  void Serve(const std::string& name, const std::string& bytes,
             const std::string& served_name = "",
             const std::string& announced_sha256 = "") {
    absl::MutexLock lock(&mutex_);
    download_name_ = name;
    download_served_name_ = served_name.empty() ? name : served_name;
    download_ = bytes;
    announced_sha256_ = announced_sha256;
  }
  void FailUploads(grpc::Status error) {
    absl::MutexLock lock(&mutex_);
    upload_error_ = std::move(error);
  }
  std::vector<v1::UploadAccrualFileRequest> received() {
    absl::MutexLock lock(&mutex_);
    return received_;
  }
  // From now on, refuse calls as the gateway would unless they carry `key`.
  void RequireKey(std::string key) {
    absl::MutexLock lock(&mutex_);
    required_key_ = std::move(key);
  }
  // From now on, refuse every call with `status`, as the gateway refuses
  // what it does not offer.
  void RefuseAll(grpc::Status status) {
    absl::MutexLock lock(&mutex_);
    refusal_ = std::move(status);
  }
  // The x-api-key of every call so far ("" for none).
  std::vector<std::string> keys() {
    absl::MutexLock lock(&mutex_);
    return keys_;
  }

 private:
  grpc::Status CheckKey(const grpc::ServerContext& context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    auto found = context.client_metadata().find("x-api-key");
    const std::string key =
        found == context.client_metadata().end()
            ? ""
            : std::string(found->second.data(), found->second.size());
    keys_.push_back(key);
    if (!refusal_.ok()) return refusal_;
    if (required_key_.empty() || key == required_key_) {
      return grpc::Status::OK;
    }
    if (key.empty()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "credentials required");
    }
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not allowed");
  }

  absl::Mutex mutex_;
  std::string required_key_ ABSL_GUARDED_BY(mutex_);
  grpc::Status refusal_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::string> keys_ ABSL_GUARDED_BY(mutex_);
  std::vector<v1::UploadAccrualFileRequest> received_ ABSL_GUARDED_BY(mutex_);
  grpc::Status upload_error_ ABSL_GUARDED_BY(mutex_);
  int polls_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string download_name_ ABSL_GUARDED_BY(mutex_);
  std::string download_served_name_ ABSL_GUARDED_BY(mutex_);
  std::string download_ ABSL_GUARDED_BY(mutex_);
  std::string announced_sha256_ ABSL_GUARDED_BY(mutex_);
};

class FileTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::LoopbackServer served = testing::ServeOnLoopback({&service_});
    server_ = std::move(served.server);
    ASSERT_NE(server_, nullptr);
    target_ = served.target;
    route_ = {.target = target_};
    dir_ = testing::FreshTestDir();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { server_->Shutdown(); }

  // Runs mbctl against the fake, as the settlement service itself or as the
  // gateway; leaves the output in out_ and err_.
  int Mbctl(std::vector<std::string> args, bool as_gateway = false) {
    args.push_back((as_gateway ? "--gateway=" : "--target=") + target_);
    std::ostringstream out, err;
    const int code = mbctl::Run(args, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  FakeSettlement service_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
  // Straight to the fake, with no key.
  Route route_;
  std::string dir_;
  std::string out_, err_;
};

TEST_F(FileTransferTest, UploadSendsTheRequestThenChunksOfAtMostOneMiB) {
  const std::string bytes = Pattern(2 * kChunkBytes + kChunkBytes / 2 + 1);
  v1::UploadAccrualFileRequest request;
  request.mutable_metadata()->set_partner_code("CA");
  request.mutable_metadata()->set_file_name("CA_000042.acc.csv");
  std::istringstream content(bytes);
  v1::UploadAccrualFileResponse response;
  ASSERT_TRUE(UploadFile(route_, kUploadMethod, request, "chunk", content,
                         &response, absl::Seconds(10))
                  .ok());

  const std::vector<v1::UploadAccrualFileRequest> received =
      service_.received();
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(received[0].metadata().partner_code(), "CA");
  EXPECT_EQ(received[0].metadata().file_name(), "CA_000042.acc.csv");
  std::vector<size_t> sizes;
  std::string joined;
  for (size_t i = 1; i < received.size(); ++i) {
    EXPECT_TRUE(received[i].has_chunk());
    sizes.push_back(received[i].chunk().size());
    joined += received[i].chunk();
  }
  EXPECT_THAT(sizes,
              ElementsAre(kChunkBytes, kChunkBytes, kChunkBytes / 2 + 1));
  EXPECT_EQ(joined, bytes);
  EXPECT_EQ(response.file().file_id(), "F1");
  EXPECT_EQ(response.file().sha256(), Sha256Of(bytes));
}

TEST_F(FileTransferTest, AnEmptyFileIsTheRequestAlone) {
  v1::UploadAccrualFileRequest request;
  request.mutable_metadata()->set_partner_code("CA");
  std::istringstream content("");
  v1::UploadAccrualFileResponse response;
  ASSERT_TRUE(UploadFile(route_, kUploadMethod, request, "chunk", content,
                         &response, absl::Seconds(10))
                  .ok());
  EXPECT_EQ(service_.received().size(), 1u);
  EXPECT_EQ(response.file().size_bytes(), 0);
}

TEST_F(FileTransferTest, UploadReturnsTheServicesError) {
  service_.FailUploads(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "metadata.file_name: not an accrual file"));
  v1::UploadAccrualFileRequest request;
  request.mutable_metadata()->set_partner_code("CA");
  std::istringstream content("H,CA\n");
  v1::UploadAccrualFileResponse response;
  absl::Status status = UploadFile(route_, kUploadMethod, request, "chunk",
                                   content, &response, absl::Seconds(10));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("not an accrual file"));
}

TEST_F(FileTransferTest, DownloadWritesTheBytesExactly) {
  const std::string bytes = Pattern(2 * kChunkBytes + 17);
  service_.Serve("CA_000042.ack.csv", bytes);
  v1::DownloadFileRequest request;
  request.set_partner_code("CA");
  request.set_file_name("CA_000042.ack.csv");
  v1::DownloadFileResponse first;
  const std::string out = dir_ + "/copy.csv";
  absl::StatusOr<std::string> written = DownloadFile(
      route_, kDownloadMethod, request, out, &first, absl::Seconds(10));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, out);
  EXPECT_EQ(ReadAll(out), bytes);
  EXPECT_EQ(first.file().file_name(), "CA_000042.ack.csv");
  EXPECT_EQ(first.file().size_bytes(), static_cast<int64_t>(bytes.size()));
}

TEST_F(FileTransferTest, DownloadWithAnotherChecksumLeavesNothing) {
  service_.Serve("CA_000042.ack.csv", "H,CA,000042\n", "",
                 Sha256Of("something else"));
  v1::DownloadFileRequest request;
  request.set_file_name("CA_000042.ack.csv");
  v1::DownloadFileResponse first;
  absl::StatusOr<std::string> written =
      DownloadFile(route_, kDownloadMethod, request, dir_ + "/copy.csv",
                   &first, absl::Seconds(10));
  EXPECT_TRUE(absl::IsDataLoss(written.status())) << written.status();
  EXPECT_THAT(written.status().message(), HasSubstr("Nothing was written"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_)) << "temporary file left";
}

TEST_F(FileTransferTest, DownloadOfAMissingFileIsTheServicesError) {
  v1::DownloadFileRequest request;
  request.set_file_name("CA_000099.ack.csv");
  v1::DownloadFileResponse first;
  absl::StatusOr<std::string> written =
      DownloadFile(route_, kDownloadMethod, request, dir_ + "/copy.csv",
                   &first, absl::Seconds(10));
  EXPECT_TRUE(absl::IsNotFound(written.status())) << written.status();
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(FileTransferTest, DownloadCommandNamesTheFileAfterItsBaseName) {
  service_.Serve("CA_000042.ack.csv", "H,CA,000042\nT,0,0,0,0\n",
                 "../elsewhere/CA_000042.ack.csv");
  const std::string previous = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  const int code = Mbctl({"file", "download", "CA", "CA_000042.ack.csv"});
  std::filesystem::current_path(previous);
  EXPECT_EQ(code, kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("  file_name: ../elsewhere/CA_000042.ack.csv\n"));
  EXPECT_THAT(out_, HasSubstr("written: CA_000042.ack.csv\n"));
  EXPECT_EQ(ReadAll(dir_ + "/CA_000042.ack.csv"), "H,CA,000042\nT,0,0,0,0\n");
}

TEST_F(FileTransferTest, UploadCommandNamesTheFileAndWaitsUntilItIsFinal) {
  const std::string path = dir_ + "/CA_000042.acc.csv";
  std::ofstream(path) << "H,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n";

  ASSERT_EQ(Mbctl({"file", "upload", "CA", path, "--wait"}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("  status: ACCEPTED\n"));
  EXPECT_THAT(out_, HasSubstr("  records_accepted: 2\n"));
  const auto received = service_.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].metadata().file_name(), "CA_000042.acc.csv");

  // Without --wait: the upload's own reply. --name overrides the base name,
  // even with an empty name.
  ASSERT_EQ(Mbctl({"file", "upload", "CA", path, "--name="}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("  status: RECEIVED\n"));
  EXPECT_EQ(service_.received()[2].metadata().file_name(), "");
}

TEST_F(FileTransferTest, KeyTravelsOnEveryCallThroughTheGatewayOnly) {
  const std::string path = dir_ + "/CA_000042.acc.csv";
  std::ofstream(path) << "H,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n";
  service_.Serve("CA_000042.ack.csv", "H,CA,000042\n");
  const std::string key = "--api-key=mbk_0123456789ab_secret";

  ASSERT_EQ(Mbctl({"file", "upload", "CA", path, "--wait", key}, true),
            kExitOk)
      << err_;
  ASSERT_EQ(Mbctl({"file", "download", "CA", "CA_000042.ack.csv",
                   "--out=" + dir_ + "/ack.csv", key},
                  true),
            kExitOk)
      << err_;
  // An upload, three polls until ACCEPTED, a download.
  EXPECT_THAT(service_.keys(),
              ElementsAre("mbk_0123456789ab_secret", "mbk_0123456789ab_secret",
                          "mbk_0123456789ab_secret", "mbk_0123456789ab_secret",
                          "mbk_0123456789ab_secret"));

  // Straight to the service: no key, even when one is given.
  ASSERT_EQ(Mbctl({"file", "show", "F1", key}), kExitOk) << err_;
  EXPECT_EQ(service_.keys().back(), "");
}

TEST_F(FileTransferTest, GatewayRefusalsSayWhatToDo) {
  service_.RequireKey("mbk_admin");
  EXPECT_EQ(Mbctl({"file", "show", "F1"}, true), kExitRefused);
  EXPECT_THAT(err_, HasSubstr("error: UNAUTHENTICATED: credentials required"));
  EXPECT_THAT(err_, HasSubstr("hint: the gateway needs an API key: set "
                              "--api-key=KEY or $MBCTL_API_KEY (or "
                              "$MBCTL_API_KEY_FILE to a file holding it)"));

  EXPECT_EQ(Mbctl({"file", "show", "F1", "--api-key=mbk_agent"}, true),
            kExitRefused);
  EXPECT_THAT(err_, HasSubstr("error: PERMISSION_DENIED: not allowed"));
  EXPECT_THAT(err_, HasSubstr("hint: the API key's roles do not allow "
                              "/mileagebank.settlement.v1.Settlement/"
                              "GetAccrualFile"));

  // What the gateway offers to nobody is for the service's own port.
  service_.RefuseAll(grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      "/mileagebank.settlement.v1.Settlement/GetAccrualFile: not offered "
      "through the gateway to any caller"));
  EXPECT_EQ(Mbctl({"file", "show", "F1", "--api-key=mbk_admin"}, true),
            kExitRefused);
  EXPECT_THAT(err_, HasSubstr("hint: only the settlement service itself "
                              "answers it: --target or "
                              "$MBCTL_SETTLEMENT_TARGET calls it directly"));
  service_.RefuseAll(grpc::Status::OK);

  // A service's own refusal is not about keys.
  EXPECT_EQ(Mbctl({"file", "show", "F1"}), kExitRefused);
  EXPECT_THAT(err_, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(err_, ::testing::Not(HasSubstr("hint:")));
}

TEST_F(FileTransferTest, AckCommandReadsEveryPage) {
  ASSERT_EQ(Mbctl({"file", "ack", "F1", "--json"}), kExitOk) << err_;
  EXPECT_THAT(out_, HasSubstr("\"recordNumber\": \"1\""));
  EXPECT_THAT(out_, HasSubstr("\"recordNumber\": \"3\""));
  EXPECT_THAT(out_, HasSubstr("\"miles\": \"300\""));
  EXPECT_THAT(out_, ::testing::Not(HasSubstr("nextPageToken")));
}

}  // namespace
}  // namespace mileagebank::mbctl

namespace mileagebank::mbctl {
namespace {

namespace rv1 = ::mileagebank::reporting::v1;

// Streams a fixed CSV for ExportReportCsv, or refuses an unknown table.
class FakeReporting final : public rv1::Reporting::Service {
 public:
  grpc::Status ExportReportCsv(
      grpc::ServerContext*, const rv1::ExportReportCsvRequest* request,
      grpc::ServerWriter<rv1::ExportReportCsvResponse>* writer) override {
    {
      absl::MutexLock lock(&mutex_);
      received_.push_back(*request);
    }
    if (request->table() != "monthly") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "table: no such table");
    }
    rv1::ExportReportCsvResponse head;
    head.mutable_header()->set_file_name("liability_monthly.csv");
    head.mutable_header()->set_rows(2);
    writer->Write(head);
    for (const char* part : {"year,month\n2026,", "1\n2026,2\n"}) {
      rv1::ExportReportCsvResponse chunk;
      chunk.set_chunk(part);
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }
  std::vector<rv1::ExportReportCsvRequest> received() {
    absl::MutexLock lock(&mutex_);
    return received_;
  }

 private:
  absl::Mutex mutex_;
  std::vector<rv1::ExportReportCsvRequest> received_ ABSL_GUARDED_BY(mutex_);
};

class CsvExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::LoopbackServer served = testing::ServeOnLoopback({&service_});
    server_ = std::move(served.server);
    ASSERT_NE(server_, nullptr);
    target_ = served.target;
    dir_ = testing::FreshTestDir();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { server_->Shutdown(); }

  int Mbctl(std::vector<std::string> args) {
    args.push_back("--target=" + target_);
    std::ostringstream out, err;
    const int code = mbctl::Run(args, out, err);
    out_ = out.str();
    err_ = err.str();
    return code;
  }

  FakeReporting service_;
  std::unique_ptr<grpc::Server> server_;
  std::string target_;
  std::string dir_;
  std::string out_;
  std::string err_;
};

TEST_F(CsvExportTest, ReportCsvGoesToStandardOutput) {
  ASSERT_EQ(Mbctl({"report", "liability", "--from=2026-01-01",
                   "--to=2026-12-31", "--csv=monthly"}),
            kExitOk)
      << err_;
  EXPECT_EQ(out_, "year,month\n2026,1\n2026,2\n");
  auto received = service_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].table(), "monthly");
  ASSERT_TRUE(received[0].has_liability());
  EXPECT_EQ(received[0].liability().range().from_date().year(), 2026);
  EXPECT_EQ(received[0].liability().range().to_date().month(), 12);
}

TEST_F(CsvExportTest, ReportCsvWithOutIsWrittenWhole) {
  const std::string path = dir_ + "/liability.csv";
  ASSERT_EQ(Mbctl({"report", "liability", "--from=2026-01-01",
                   "--to=2026-12-31", "--csv=monthly", "--out=" + path}),
            kExitOk)
      << err_;
  EXPECT_EQ(ReadAll(path), "year,month\n2026,1\n2026,2\n");
  EXPECT_THAT(out_, HasSubstr("written: " + path));
  EXPECT_THAT(out_, HasSubstr("liability_monthly.csv"));
}

TEST_F(CsvExportTest, ARefusedExportLeavesNoFile) {
  const std::string path = dir_ + "/nothing.csv";
  EXPECT_EQ(Mbctl({"report", "members", "--from=2026-01-01",
                   "--to=2026-12-31", "--csv=nope", "--out=" + path}),
            kExitRefused);
  EXPECT_THAT(err_, HasSubstr("table"));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
  auto received = service_.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0].has_members());
}

TEST_F(CsvExportTest, CsvNeedsATable) {
  EXPECT_EQ(Mbctl({"report", "members", "--from=2026-01-01",
                   "--to=2026-12-31", "--csv"}),
            kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--csv"));
}

}  // namespace
}  // namespace mileagebank::mbctl
