#include "services/accrual/settlement_lookup.h"

#include "absl/strings/str_cat.h"

namespace mileagebank::accrual {

namespace sv1 = settlement::v1;

absl::StatusOr<sv1::Partner> GrpcSettlementLookup::GetPartner(
    absl::string_view partner_code) {
  sv1::GetPartnerRequest request;
  request.set_partner_code(std::string(partner_code));
  sv1::GetPartnerResponse response;
  // A credit waits for this answer, so it is asked briefly: the caller
  // reports settlement unreachable rather than hold the credit for long.
  absl::Status status = client::Call(
      settlement_.Any(), &sv1::Settlement::Stub::GetPartner, request, &response,
      client::CallPolicy{
          .deadline = absl::Seconds(2), .idempotent = true, .max_attempts = 2});
  if (status.code() == absl::StatusCode::kNotFound) return status;
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("settlement service at ", target_, ": ",
                                     status.message()));
  }
  return response.partner();
}

}  // namespace mileagebank::accrual
