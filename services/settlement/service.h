// SettlementService: the gRPC face of the settlement components. Each unary
// method hands the request to the component operation of the same name and
// maps its status onto the wire; the streaming methods adapt the stream to
// the component's reader or writer.
//
// Partner authentication: the gateway (or a TLS terminator checking client
// certificates) sets `x-mb-partner` to the partner a connection is
// authenticated as. Such a caller reaches only its own partner record,
// files, outbound records and statements, and none of the staff operations
// (registering partners, submitting flights, issuing statements ...):
// PERMISSION_DENIED. Without the key the caller is staff or an internal job;
// which staff role may do what is the gateway's to decide.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_SERVICE_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_SERVICE_H_

#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "services/settlement/accrual_files.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/outbound.h"
#include "services/settlement/partners.h"
#include "services/settlement/statement_book.h"

namespace mileagebank::settlement {

// The metadata key naming the partner a connection is authenticated as.
inline constexpr char kAuthenticatedPartnerKey[] = "x-mb-partner";

// The components the service speaks for; all outlive it.
struct SettlementParts {
  Partners* partners;
  DropFolders* folders;
  AccrualFiles* files;
  Outbound* outbound;
  StatementBook* statements;
};

// Operations for staff and internal jobs only, by component.
#define MB_SETTLEMENT_STAFF_RPCS(X)        \
  X(partners, RegisterPartner)             \
  X(partners, UpdatePartner)               \
  X(partners, ChangePartnerStatus)         \
  X(partners, ListPartners)                \
  X(outbound, SubmitOutboundFlights)       \
  X(outbound, GenerateOutboundFiles)       \
  X(outbound, ResendOutboundRecord)        \
  X(statements, IssueStatement)            \
  X(statements, SettleStatement)

// Operations about one partner named by the request's partner_code, which a
// partner may call for itself.
#define MB_SETTLEMENT_PARTNER_SCOPED_RPCS(X) \
  X(partners, GetPartner)                    \
  X(partners, GetEarningTable)               \
  X(files, ListAccrualFiles)                 \
  X(outbound, ListOutboundRecords)           \
  X(statements, GetStatement)                \
  X(statements, ListStatements)

class SettlementService final : public v1::Settlement::Service {
 public:
  explicit SettlementService(SettlementParts parts) : parts_(parts) {}

#define MB_DECLARE_RPC(Part, Method)                             \
  grpc::Status Method(grpc::ServerContext* context,              \
                      const v1::Method##Request* request,        \
                      v1::Method##Response* response) override;
  MB_SETTLEMENT_STAFF_RPCS(MB_DECLARE_RPC)
  MB_SETTLEMENT_PARTNER_SCOPED_RPCS(MB_DECLARE_RPC)
  MB_DECLARE_RPC(, GetAccrualFile)
  MB_DECLARE_RPC(, GetAcknowledgement)
  MB_DECLARE_RPC(, ListOutboxFiles)
#undef MB_DECLARE_RPC

  grpc::Status UploadAccrualFile(
      grpc::ServerContext* context,
      grpc::ServerReader<v1::UploadAccrualFileRequest>* reader,
      v1::UploadAccrualFileResponse* response) override;
  grpc::Status UploadOutboundAcknowledgement(
      grpc::ServerContext* context,
      grpc::ServerReader<v1::UploadOutboundAcknowledgementRequest>* reader,
      v1::UploadOutboundAcknowledgementResponse* response) override;
  grpc::Status DownloadFile(
      grpc::ServerContext* context, const v1::DownloadFileRequest* request,
      grpc::ServerWriter<v1::DownloadFileResponse>* writer) override;

 private:
  const SettlementParts parts_;
};

// The partner `context` is authenticated as; empty when none.
std::string AuthenticatedPartner(const grpc::ServerContext& context);

// PERMISSION_DENIED naming `field` when the connection is authenticated as
// a partner other than `partner_code`.
absl::Status CheckPartnerAccess(const grpc::ServerContext& context,
                                absl::string_view field,
                                absl::string_view partner_code);

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_SERVICE_H_
