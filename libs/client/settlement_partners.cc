#include "libs/client/settlement_partners.h"

#include "absl/strings/str_cat.h"

namespace mileagebank::client {

absl::StatusOr<settlement::v1::Partner> SettlementPartners::GetPartner(
    absl::string_view partner_code) {
  settlement::v1::GetPartnerRequest request;
  request.set_partner_code(std::string(partner_code));
  settlement::v1::GetPartnerResponse response;
  absl::Status status =
      Call(client_.Any(), &settlement::v1::Settlement::Stub::GetPartner,
           request, &response,
           CallPolicy{.deadline = absl::Seconds(2),
                      .idempotent = true,
                      .max_attempts = 2});
  if (status.code() == absl::StatusCode::kNotFound) return status;
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("settlement service at ", target_, ": ",
                                     status.message()));
  }
  return response.partner();
}

}  // namespace mileagebank::client
