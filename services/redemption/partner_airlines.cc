#include "services/redemption/partner_airlines.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"

namespace mileagebank::redemption {

namespace sv1 = settlement::v1;

absl::Status PartnerAirlines::Check(absl::string_view carrier,
                                    absl::string_view field) {
  const absl::Time now = clock_();
  std::optional<Answer> answer;
  {
    absl::MutexLock lock(&mutex_);
    auto kept = answers_.find(carrier);
    if (kept != answers_.end() && now - kept->second.asked_at < ttl_) {
      answer = kept->second;
    }
  }
  if (!answer) {
    absl::StatusOr<sv1::Partner> partner = settlement_->GetPartner(carrier);
    if (partner.ok()) {
      answer = Answer{partner->type(), partner->status(), now};
      absl::MutexLock lock(&mutex_);
      answers_[std::string(carrier)] = *answer;
    } else if (partner.status().code() != absl::StatusCode::kNotFound) {
      return absl::UnavailableError(absl::StrCat(
          field, ": whether ", carrier,
          " is a partner airline could not be checked: the settlement "
          "service, which owns partners, did not answer (",
          partner.status().message(), "); try again later"));
    }
  }
  if (!answer || answer->type != sv1::AIRLINE) {
    return NotFoundField(field, absl::StrCat(carrier,
                                             " is neither the host carrier nor "
                                             "a partner airline"));
  }
  if (answer->status != sv1::ACTIVE) {
    return FailedPreconditionField(
        field, absl::StrCat("partner airline ", carrier, " is ",
                            sv1::PartnerStatus_Name(answer->status),
                            "; awards are sold only on ACTIVE partners"));
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::redemption
