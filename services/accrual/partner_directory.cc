#include "services/accrual/partner_directory.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"
#include "mileagebank/config/v1/accrual.pb.h"

namespace mileagebank::accrual {
namespace {

namespace sv1 = settlement::v1;

// Settlement's rule for every partner code: asking it about anything else
// would only cost a call.
bool CouldBePartnerCode(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 8 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

records::PartnerState StateOf(const sv1::Partner& partner) {
  records::PartnerState state;
  state.set_type(partner.type());
  state.set_status(partner.status());
  *state.mutable_earning_table() = partner.contract().earning_table();
  state.set_minimum_miles(partner.contract().minimum_miles());
  state.set_version(partner.version());
  return state;
}

absl::StatusOr<Partner> ToPartner(absl::string_view code,
                                  const records::PartnerState& state) {
  Partner partner;
  partner.code = std::string(code);
  partner.type = state.type();
  partner.status = state.status();
  partner.version = state.version();
  if (state.type() == sv1::AIRLINE) {
    // The one way to build a table that checks it; settlement's limits are
    // within accrual's, so a refusal means the two disagree on the contract.
    config::v1::EarningTableConfig table;
    for (const sv1::ClassEarningRate& rate : state.earning_table()) {
      config::v1::ClassRate* entry = table.add_classes();
      entry->set_booking_class(rate.booking_class());
      entry->set_rate_percent(rate.percent());
    }
    table.set_minimum_miles(state.minimum_miles());
    table.set_no_minimum(state.minimum_miles() == 0);
    absl::StatusOr<EarningTable> earning =
        EarningTable::FromConfig(table, /*default_minimum=*/0);
    if (!earning.ok()) {
      return absl::InternalError(
          absl::StrCat("partner ", code, " version ", state.version(),
                       ": settlement's earning table cannot be used: ",
                       earning.status().message()));
    }
    partner.earning = *std::move(earning);
  }
  return partner;
}

}  // namespace

absl::StatusOr<Partner> PartnerDirectory::Find(absl::string_view field,
                                               absl::string_view code) {
  if (!CouldBePartnerCode(code)) {
    return NotFoundField(field, absl::StrCat("no partner ", code));
  }
  absl::StatusOr<std::optional<records::PartnerState>> replica =
      store_->LatestPartner(code);
  if (!replica.ok()) return replica.status();
  {
    absl::MutexLock lock(&mutex_);
    auto asked = asked_.find(code);
    if (asked != asked_.end()) {
      if (!replica->has_value() ||
          (*replica)->version() < asked->second.version()) {
        return ToPartner(code, asked->second);
      }
      asked_.erase(asked);  // The replica caught up.
    }
  }
  if (replica->has_value()) return ToPartner(code, **replica);

  absl::StatusOr<sv1::Partner> answer = fallback_->GetPartner(code);
  if (answer.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField(field, absl::StrCat("no partner ", code));
  }
  if (!answer.ok()) {
    return absl::UnavailableError(absl::StrCat(
        field, ": partner ", code,
        " is not in accrual's replica of partners yet, and the settlement "
        "service, which owns partners, could not be asked about it (",
        answer.status().message(), "); try again later"));
  }
  records::PartnerState state = StateOf(*answer);
  {
    absl::MutexLock lock(&mutex_);
    records::PartnerState& kept = asked_[std::string(code)];
    // Two callers may ask at once; the newer answer stands.
    if (state.version() >= kept.version()) kept = state;
    state = kept;
  }
  return ToPartner(code, state);
}

absl::Status PartnerDirectory::Apply(const common::v1::Event& event,
                                     store::WriteBatch& batch) {
  sv1::PartnerRegistered registered;
  sv1::PartnerUpdated updated;
  const sv1::Partner* partner = nullptr;
  if (event.payload().UnpackTo(&registered)) {
    partner = &registered.partner();
  } else if (event.payload().UnpackTo(&updated)) {
    partner = &updated.partner();
  } else {
    return absl::OkStatus();
  }
  store_->PutPartner(batch, partner->partner_code(), StateOf(*partner));
  return absl::OkStatus();
}

}  // namespace mileagebank::accrual
