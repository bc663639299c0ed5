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
  if (partner_code.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        field, ": is required on a connection authenticated as partner ",
        authenticated, " (it must name that partner)"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": the connection is authenticated as partner ",
                   authenticated, ", not ", partner_code));
}

namespace {

absl::Status CheckStaff(const grpc::ServerContext& context,
                        absl::string_view method) {
  const std::string authenticated = AuthenticatedPartner(context);
  if (authenticated.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(method, " is for staff; the connection is authenticated as "
                           "partner ",
                   authenticated));
}

}  // namespace

#define MB_DEFINE_STAFF_RPC(Part, Method)                                    \
  grpc::Status SettlementService::Method(grpc::ServerContext* context,       \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) {   \
    absl::Status staff = CheckStaff(*context, #Method);                      \
    if (!staff.ok()) return ToGrpcStatus(staff);                             \
    return server::Respond(parts_.Part->Method(*request), response);         \
  }
MB_SETTLEMENT_STAFF_RPCS(MB_DEFINE_STAFF_RPC)
#undef MB_DEFINE_STAFF_RPC

#define MB_DEFINE_PARTNER_SCOPED_RPC(Part, Method)                           \
  grpc::Status SettlementService::Method(grpc::ServerContext* context,       \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) {   \
    absl::Status access =                                                    \
        CheckPartnerAccess(*context, "partner_code", request->partner_code()); \
    if (!access.ok()) return ToGrpcStatus(access);                           \
    return server::Respond(parts_.Part->Method(*request), response);         \
  }
MB_SETTLEMENT_PARTNER_SCOPED_RPCS(MB_DEFINE_PARTNER_SCOPED_RPC)
#undef MB_DEFINE_PARTNER_SCOPED_RPC

// A partner asking about a file that is not its own learns no more than it
// would of a file that does not exist.
grpc::Status SettlementService::GetAccrualFile(
    grpc::ServerContext* context, const v1::GetAccrualFileRequest* request,
    v1::GetAccrualFileResponse* response) {
  absl::StatusOr<v1::GetAccrualFileResponse> found =
      parts_.files->GetAccrualFile(*request);
  if (found.ok() &&
      !CheckPartnerAccess(*context, "file_id", found->file().partner_code())
           .ok()) {
    return ToGrpcStatus(
        NotFoundField("file_id", "names no file of this partner"));
  }
  return server::Respond(std::move(found), response);
}

grpc::Status SettlementService::GetAcknowledgement(
    grpc::ServerContext* context, const v1::GetAcknowledgementRequest* request,
    v1::GetAcknowledgementResponse* response) {
  absl::StatusOr<v1::GetAcknowledgementResponse> found =
      parts_.files->GetAcknowledgement(*request);
  if (found.ok() &&
      !CheckPartnerAccess(*context, "file_id", found->partner_code()).ok()) {
    return ToGrpcStatus(
        NotFoundField("file_id", "names no file of this partner"));
  }
  return server::Respond(std::move(found), response);
}

grpc::Status SettlementService::UploadAccrualFile(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::UploadAccrualFileRequest>* reader,
    v1::UploadAccrualFileResponse* response) {
  return server::Respond(
      parts_.files->UploadAccrualFile(
          [reader](v1::UploadAccrualFileRequest* next) {
            return reader->Read(next);
          },
          AuthenticatedPartner(*context),
          [context] { return context->IsCancelled(); }),
      response);
}

grpc::Status SettlementService::UploadOutboundAcknowledgement(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::UploadOutboundAcknowledgementRequest>* reader,
    v1::UploadOutboundAcknowledgementResponse* response) {
  return server::Respond(
      parts_.outbound->UploadOutboundAcknowledgement(
          [reader](v1::UploadOutboundAcknowledgementRequest* next) {
            return reader->Read(next);
          },
          AuthenticatedPartner(*context)),
      response);
}

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
    MB_RETURN_IF_ERROR(parts_.partners->GetPartner(get).status());
    std::vector<v1::OutboxFile> files;
    std::string next;
    MB_RETURN_IF_ERROR(parts_.folders->ListOutbox(request->partner_code(),
                                                  request->kind(),
                                                  request->page(), &files,
                                                  &next));
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
                        parts_.folders->FindOutboxFile(request->partner_code(),
                                                 request->file_name()));
    const std::string path =
        parts_.folders->OutboxFilePath(request->partner_code(), request->file_name());
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
