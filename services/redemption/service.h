// RedemptionService: the gRPC face of Redemptions. Each method hands the
// request to the operation of the same name and maps its status onto the
// wire. CreateRedemption also passes on the member of the caller's web
// session, from the `x-mb-session-member` metadata the gateway sets after
// authenticating the member (services are reachable only through the
// gateway, which strips that header from outside callers).
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_SERVICE_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_SERVICE_H_

#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "services/redemption/redemptions.h"

namespace mileagebank::redemption {

// Every RPC of the Redemption service but CreateRedemption, for X-macros.
#define MB_REDEMPTION_RPCS(X) \
  X(QuoteAward)               \
  X(QuoteUpgrade)             \
  X(GetAwardSeats)            \
  X(SetAwardSeatCapacity)     \
  X(IssueRedemption)          \
  X(CancelRedemption)         \
  X(RefundRedemption)         \
  X(GetRedemption)            \
  X(ListRedemptions)

class RedemptionService final : public v1::Redemption::Service {
 public:
  explicit RedemptionService(Redemptions* redemptions)
      : redemptions_(redemptions) {}

  grpc::Status CreateRedemption(grpc::ServerContext* context,
                                const v1::CreateRedemptionRequest* request,
                                v1::CreateRedemptionResponse* response) override;
#define MB_DECLARE_RPC(Method)                                   \
  grpc::Status Method(grpc::ServerContext* context,              \
                      const v1::Method##Request* request,        \
                      v1::Method##Response* response) override;
  MB_REDEMPTION_RPCS(MB_DECLARE_RPC)
#undef MB_DECLARE_RPC

 private:
  Redemptions* redemptions_;
};

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_SERVICE_H_
