// SettlementService: the gRPC face of the settlement components. Each unary
// method hands the request to the component operation of the same name and
// maps its status onto the wire; the streaming methods adapt the stream to
// the component's reader or writer.
//
// Partner authentication: the gateway (or a TLS terminator checking client
// certificates) sets `x-mb-partner` to the partner a connection is
// authenticated as; a request about another partner's files is then
// PERMISSION_DENIED. Without it the caller is staff or an internal job.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_SERVICE_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_SERVICE_H_

#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/partners.h"

namespace mileagebank::settlement {

// The metadata key naming the partner a connection is authenticated as.
inline constexpr char kAuthenticatedPartnerKey[] = "x-mb-partner";

#define MB_SETTLEMENT_PARTNER_RPCS(X) \
  X(RegisterPartner)                  \
  X(UpdatePartner)                    \
  X(ChangePartnerStatus)              \
  X(GetPartner)                       \
  X(ListPartners)                     \
  X(GetEarningTable)

class SettlementService final : public v1::Settlement::Service {
 public:
  SettlementService(Partners* partners, DropFolders* folders)
      : partners_(partners), folders_(folders) {}

#define MB_DECLARE_RPC(Method)                                   \
  grpc::Status Method(grpc::ServerContext* context,              \
                      const v1::Method##Request* request,        \
                      v1::Method##Response* response) override;
  MB_SETTLEMENT_PARTNER_RPCS(MB_DECLARE_RPC)
  MB_DECLARE_RPC(ListOutboxFiles)
#undef MB_DECLARE_RPC

  grpc::Status DownloadFile(
      grpc::ServerContext* context, const v1::DownloadFileRequest* request,
      grpc::ServerWriter<v1::DownloadFileResponse>* writer) override;

 private:
  Partners* partners_;
  DropFolders* folders_;
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
