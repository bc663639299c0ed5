// SettlementPartners: one partner from the settlement service, asked
// briefly. Accrual (earning tables) and redemption (partner airlines) ask it
// while a member's request waits, so the call has a short deadline and one
// retry, and a failure says where settlement was looked for: the error
// reaches an operator, who needs to know which process to look at.
//
//   SettlementPartners settlement("127.0.0.1:7104");
//   absl::StatusOr<settlement::v1::Partner> ca = settlement.GetPartner("CA");
//
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_CLIENT_SETTLEMENT_PARTNERS_H_
#define MILEAGEBANK_LIBS_CLIENT_SETTLEMENT_PARTNERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/client/client.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"

namespace mileagebank::client {

class SettlementPartners {
 public:
  // `target`: settlement's "host:port".
  explicit SettlementPartners(std::string target)
      : target_(std::move(target)), client_(target_) {}

  // NOT_FOUND as settlement says it; any other failure with settlement's
  // address in the message.
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view partner_code);

 private:
  const std::string target_;
  ServiceClient<settlement::v1::Settlement> client_;
};

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_SETTLEMENT_PARTNERS_H_
