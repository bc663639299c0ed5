// GrpcSettlementLookup: the SettlementLookup of a running accrual service,
// the settlement service asked over gRPC (libs/client/settlement_partners.h:
// briefly, as a credit waits for it).
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_

#include <string>

#include "libs/client/settlement_partners.h"
#include "services/accrual/partner_directory.h"

namespace mileagebank::accrual {

class GrpcSettlementLookup : public SettlementLookup {
 public:
  // `target`: settlement's "host:port".
  explicit GrpcSettlementLookup(std::string target)
      : settlement_(std::move(target)) {}

  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code) override {
    return settlement_.GetPartner(partner_code);
  }

 private:
  client::SettlementPartners settlement_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_SETTLEMENT_LOOKUP_H_
