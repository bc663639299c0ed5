#include "services/accrual/partners.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mileagebank::accrual {

absl::StatusOr<PartnerRegistry> PartnerRegistry::FromConfig(
    const google::protobuf::RepeatedPtrField<config::v1::PartnerConfig>&
        partners) {
  PartnerRegistry registry;
  for (int i = 0; i < partners.size(); ++i) {
    const config::v1::PartnerConfig& config = partners[i];
    const std::string field = absl::StrCat("partners[", i, "]");
    const std::string& code = config.code();
    if (code.size() < 2 || code.size() > 8 ||
        !std::all_of(code.begin(), code.end(), [](char c) {
          return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".code: must be 2-8 characters of A-Z and 0-9"));
    }
    Partner partner;
    partner.code = code;
    partner.type = config.type();
    if (partner.type != "AIRLINE" && partner.type != "HOTEL" &&
        partner.type != "CAR" && partner.type != "CARD" &&
        partner.type != "RETAIL") {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".type: must be AIRLINE, HOTEL, CAR, CARD or RETAIL"));
    }
    if (partner.type == "AIRLINE" && code.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".code: an airline's code is its 2-character IATA code"));
    }
    if (config.status() == "SUSPENDED") {
      partner.active = false;
    } else if (!config.status().empty() && config.status() != "ACTIVE") {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".status: must be ACTIVE or SUSPENDED"));
    }
    absl::StatusOr<EarningTable> table =
        EarningTable::FromConfig(config.earning(), /*default_minimum=*/0);
    if (!table.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".earning: ", table.status().message()));
    }
    partner.earning = *std::move(table);
    if (!registry.partners_.emplace(code, std::move(partner)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".code: ", code, " is configured twice"));
    }
  }
  return registry;
}

absl::StatusOr<const Partner*> PartnerRegistry::Find(
    absl::string_view field, absl::string_view code) const {
  auto it = partners_.find(code);
  if (it == partners_.end()) {
    return absl::NotFoundError(absl::StrCat(field, ": no partner ", code));
  }
  return &it->second;
}

}  // namespace mileagebank::accrual
