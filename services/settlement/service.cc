#include "services/settlement/service.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "libs/server/respond.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"

namespace mileagebank::settlement {
namespace {

constexpr size_t kDownloadChunkBytes = size_t{1} << 20;

}  // namespace

std::string AuthenticatedPartner(const grpc::ServerContext& context) {
  auto found = context.client_metadata().find(kAuthenticatedPartnerKey);
  if (found == context.client_metadata().end()) return "";
  return std::string(found->second.data(), found->second.size());
}

absl::Status CheckPartnerAccess(const grpc::ServerContext& context,
                                absl::string_view field,
                                absl::string_view partner_code) {
  const std::string authenticated = AuthenticatedPartner(context);
  if (authenticated.empty() || authenticated == partner_code) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": the connection is authenticated as partner ",
                   authenticated, ", not ", partner_code));
}

#define MB_DEFINE_RPC(Method)                                                \
  grpc::Status SettlementService::Method(grpc::ServerContext*,               \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) {   \
    return server::Respond(partners_->Method(*request), response);           \
  }
MB_SETTLEMENT_PARTNER_RPCS(MB_DEFINE_RPC)
#undef MB_DEFINE_RPC

grpc::Status SettlementService::ListOutboxFiles(
    grpc::ServerContext* context, const v1::ListOutboxFilesRequest* request,
    v1::ListOutboxFilesResponse* response) {
  auto list = [&]() -> absl::StatusOr<v1::ListOutboxFilesResponse> {
    if (request->partner_code().empty()) {
      return InvalidField("partner_code", "is required");
    }
    MB_RETURN_IF_ERROR(
        CheckPartnerAccess(*context, "partner_code", request->partner_code()));
    v1::GetPartnerRequest get;
    get.set_partner_code(request->partner_code());
    MB_RETURN_IF_ERROR(partners_->GetPartner(get).status());
    std::vector<v1::OutboxFile> files;
    std::string next;
    MB_RETURN_IF_ERROR(folders_->ListOutbox(request->partner_code(),
                                            request->kind(), request->page(),
                                            &files, &next));
    v1::ListOutboxFilesResponse listed;
    for (v1::OutboxFile& file : files) *listed.add_files() = std::move(file);
    listed.mutable_page()->set_next_page_token(next);
    return listed;
  };
  return server::Respond(list(), response);
}

grpc::Status SettlementService::DownloadFile(
    grpc::ServerContext* context, const v1::DownloadFileRequest* request,
    grpc::ServerWriter<v1::DownloadFileResponse>* writer) {
  auto download = [&]() -> absl::Status {
    if (request->partner_code().empty()) {
      return InvalidField("partner_code", "is required");
    }
    if (request->file_name().empty()) {
      return InvalidField("file_name", "is required");
    }
    MB_RETURN_IF_ERROR(
        CheckPartnerAccess(*context, "partner_code", request->partner_code()));
    MB_ASSIGN_OR_RETURN(v1::OutboxFile file,
                        folders_->FindOutboxFile(request->partner_code(),
                                                 request->file_name()));
    const std::string path =
        folders_->OutboxFilePath(request->partner_code(), request->file_name());
    std::ifstream input(path, std::ios::binary);
    if (!input) {
      return absl::DataLossError(
          absl::StrCat("file_name: ", request->file_name(),
                       " is recorded but missing from the outbox"));
    }
    v1::DownloadFileResponse head;
    *head.mutable_file() = file;
    if (!writer->Write(head)) return absl::CancelledError("client went away");
    std::string buffer(kDownloadChunkBytes, '\0');
    int64_t sent = 0;
    while (input) {
      input.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const std::streamsize got = input.gcount();
      if (got <= 0) break;
      v1::DownloadFileResponse chunk;
      chunk.set_chunk(buffer.data(), static_cast<size_t>(got));
      if (!writer->Write(chunk)) return absl::CancelledError("client went away");
      sent += got;
    }
    if (sent != file.size_bytes()) {
      return absl::DataLossError(absl::StrCat(
          "file_name: ", request->file_name(), " holds ", sent,
          " bytes on disk but ", file.size_bytes(), " were written"));
    }
    return absl::OkStatus();
  };
  return ToGrpcStatus(download());
}

}  // namespace mileagebank::settlement
