// GrpcSettlementLookup: the SettlementLookup of a running accrual service,
// asking the settlement service over gRPC (libs/client: a deadline on every
// call, a retry when settlement is unavailable).
//
//   GrpcSettlementLookup settlement("127.0.0.1:7104");
//   absl::StatusOr<settlement::v1::Partner> ca = settlement.GetPartner("CA");
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_

#include <string>

#include "libs/client/client.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "services/accrual/partner_directory.h"

namespace mileagebank::accrual {

class GrpcSettlementLookup : public SettlementLookup {
 public:
  // `target`: settlement's "host:port".
  explicit GrpcSettlementLookup(std::string target)
      : target_(std::move(target)), settlement_({target_}) {}

  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code) override;

 private:
  const std::string target_;
  client::ServiceClient<settlement::v1::Settlement> settlement_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_
