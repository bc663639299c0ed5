// AccrualService: the gRPC face of the Ledger. Each method hands the request
// to the operation of the same name and maps its status onto the wire.
//
// Thread-safe; served with the synchronous API: operations wait for their
// batch to be durable, and many wait at once.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_SERVICE_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_SERVICE_H_

#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "services/accrual/ledger.h"

namespace mileagebank::accrual {

// Every RPC of the Accrual service, for X-macros.
#define MB_ACCRUAL_RPCS(X) \
  X(PostOwnFlight)         \
  X(PostPartnerFlight)     \
  X(PostPartnerActivity)   \
  X(PostActivities)        \
  X(SubmitRetroClaim)      \
  X(GetRetroClaim)         \
  X(ListRetroClaims)       \
  X(ApproveRetroClaim)     \
  X(RejectRetroClaim)      \
  X(AdjustMiles)           \
  X(ReverseCredit)         \
  X(PurchaseMiles)         \
  X(TransferMiles)         \
  X(CreateHold)            \
  X(CaptureHold)           \
  X(ReleaseHold)           \
  X(GetHold)               \
  X(RedepositHold)         \
  X(GetBalance)            \
  X(GetTransaction)        \
  X(GetStatement)          \
  X(ListLots)              \
  X(RunExpiry)             \
  X(VerifyLedger)

class AccrualService final : public v1::Accrual::Service {
 public:
  explicit AccrualService(Ledger* ledger) : ledger_(ledger) {}

#define MB_DECLARE_RPC(Method)                                   \
  grpc::Status Method(grpc::ServerContext* context,              \
                      const v1::Method##Request* request,        \
                      v1::Method##Response* response) override;
  MB_ACCRUAL_RPCS(MB_DECLARE_RPC)
#undef MB_DECLARE_RPC

 private:
  Ledger* ledger_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_SERVICE_H_
