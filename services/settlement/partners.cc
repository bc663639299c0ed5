#include "services/settlement/partners.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"

namespace mileagebank::settlement {
namespace {

using google::protobuf::util::FieldMaskUtil;
using google::protobuf::util::TimeUtil;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;

// The product rules' earning table (section 3), for partners without one.
const std::vector<std::pair<char, int>>& DefaultTable() {
  static const auto* table = new std::vector<std::pair<char, int>>{
      {'A', 150}, {'B', 100}, {'C', 150}, {'D', 125}, {'F', 200}, {'G', 0},
      {'H', 75},  {'I', 125}, {'J', 150}, {'K', 75},  {'L', 75},  {'M', 100},
      {'N', 25},  {'Q', 50},  {'S', 25},  {'T', 50},  {'V', 50},  {'W', 110},
      {'X', 0},   {'Y', 100}, {'Z', 0}};
  return *table;
}

std::string Key(absl::string_view code) {
  return store::KeyBuilder().String(code).Build();
}

bool IsCodeOf(absl::string_view code, v1::PartnerType type) {
  const bool chars = std::all_of(code.begin(), code.end(), [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
  });
  if (!chars) return false;
  return type == v1::AIRLINE ? code.size() == 2 : code.size() >= 2 && code.size() <= 8;
}

void CheckPrice(FieldErrors& errors, const std::string& field,
                const common::v1::Money& price, absl::string_view currency,
                bool required) {
  if (!required && price.currency_code().empty() && price.minor_units() == 0) return;
  if (price.currency_code() != currency) {
    errors.Add(field + ".currency_code",
               absl::StrCat("must be the partner's currency ", currency));
  }
  if (price.minor_units() < 0) {
    errors.Add(field + ".minor_units", "must not be negative");
  }
}

bool IsReasonCode(absl::string_view reason) {
  return !reason.empty() && reason.size() <= 32 &&
         std::all_of(reason.begin(), reason.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
         });
}

}  // namespace

absl::Status ValidatePartner(const v1::Partner& partner, absl::string_view field,
                             absl::string_view host_carrier) {
  const std::string at(field);
  FieldErrors errors;
  if (partner.type() == v1::PARTNER_TYPE_UNSPECIFIED) {
    errors.Add(at + ".type", "required: AIRLINE, HOTEL, CAR, CARD or RETAIL");
  }
  if (!IsCodeOf(partner.partner_code(), partner.type())) {
    errors.Add(at + ".partner_code",
               partner.type() == v1::AIRLINE
                   ? "an airline's code is its 2-character IATA code (A-Z, 0-9)"
                   : "must be 2-8 characters of A-Z and 0-9");
  } else if (partner.partner_code() == host_carrier) {
    errors.Add(at + ".partner_code", "is the host carrier's own code");
  }
  if (partner.name().empty() || partner.name().size() > 100) {
    errors.Add(at + ".name", "required, at most 100 characters");
  }
  const std::string& currency = partner.currency_code();
  if (currency.size() != 3 ||
      !std::all_of(currency.begin(), currency.end(),
                   [](char c) { return absl::ascii_isupper(c); })) {
    errors.Add(at + ".currency_code", "must be an ISO 4217 code, e.g. CNY");
  }
  const v1::Contract& contract = partner.contract();
  const std::string c = at + ".contract";
  if (!partner.has_contract()) {
    errors.Add(c, "required");
  } else {
    CheckPrice(errors, c + ".mile_sale_price", contract.mile_sale_price(),
               currency, /*required=*/true);
    const bool airline = partner.type() == v1::AIRLINE;
    for (auto [price, name] :
         {std::pair{&contract.award_price(), ".award_price"},
          std::pair{&contract.mile_purchase_price(), ".mile_purchase_price"}}) {
      if (airline) {
        CheckPrice(errors, c + name, *price, currency, /*required=*/false);
      } else if (price->minor_units() != 0 || !price->currency_code().empty()) {
        errors.Add(c + name, "only for an AIRLINE partner");
      }
    }
    if (!airline && (contract.earning_table_size() > 0 || contract.minimum_miles() != 0)) {
      errors.Add(c + ".earning_table", "only for an AIRLINE partner");
    }
    std::set<std::string> classes;
    for (int i = 0; i < contract.earning_table_size(); ++i) {
      const v1::ClassEarningRate& rate = contract.earning_table(i);
      const std::string entry = absl::StrCat(c, ".earning_table[", i, "]");
      if (rate.booking_class().size() != 1 ||
          !absl::ascii_isupper(rate.booking_class()[0])) {
        errors.Add(entry + ".booking_class", "must be one letter A-Z");
      } else if (!classes.insert(rate.booking_class()).second) {
        errors.Add(entry + ".booking_class", "appears twice");
      }
      if (rate.percent() < 0 || rate.percent() > 500) {
        errors.Add(entry + ".percent", "must be 0 to 500");
      }
    }
    if (contract.minimum_miles() < 0 || contract.minimum_miles() > 10'000) {
      errors.Add(c + ".minimum_miles", "must be 0 to 10,000");
    }
  }
  if (partner.status() != v1::PARTNER_STATUS_UNSPECIFIED &&
      partner.status() != v1::ACTIVE && partner.status() != v1::SUSPENDED) {
    errors.Add(at + ".status", "must be ACTIVE or SUSPENDED");
  }
  return errors.ToStatus();
}

Partners::Partners(store::Store* store, std::string host_carrier, Clock clock)
    : store_(store), host_carrier_(std::move(host_carrier)), clock_(std::move(clock)) {}

absl::StatusOr<v1::Partner> Partners::Load(absl::string_view code) {
  v1::Partner partner;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetLatestProto(kPartnersTable, Key(code), &partner));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("partner_code: no partner ", code));
  }
  return partner;
}

absl::Status Partners::Save(v1::Partner& partner,
                            const google::protobuf::Message& event) {
  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kPartnersTable, Key(partner.partner_code()), partner);
  batch.AppendEvent(partner.partner_code(), event);
  return store_->Commit(batch);
}

absl::StatusOr<v1::RegisterPartnerResponse> Partners::RegisterPartner(
    const v1::RegisterPartnerRequest& request) {
  v1::Partner partner = request.partner();
  FieldErrors errors;
  errors.Merge("", ValidatePartner(partner, "partner", host_carrier_));
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: partners are registered by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  if (partner.status() == v1::PARTNER_STATUS_UNSPECIFIED) partner.set_status(v1::ACTIVE);
  partner.clear_version();
  partner.clear_created_at();
  partner.clear_updated_at();
  partner.clear_last_accepted_file_seq();
  partner.clear_last_outbound_file_seq();

  store::KeyLocks::Guard guard = locks_.Lock(partner.partner_code());
  absl::StatusOr<v1::Partner> existing = Load(partner.partner_code());
  if (existing.ok()) {
    v1::Partner comparable = *existing;
    comparable.clear_version();
    comparable.clear_created_at();
    comparable.clear_updated_at();
    comparable.clear_last_accepted_file_seq();
    comparable.clear_last_outbound_file_seq();
    if (comparable.SerializeAsString() != partner.SerializeAsString()) {
      return AlreadyExistsError(
          absl::StrCat("partner.partner_code: ", partner.partner_code(),
                       " is registered already, differently"),
          partner.partner_code());
    }
    v1::RegisterPartnerResponse response;
    *response.mutable_partner() = *std::move(existing);
    return response;
  }
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  const google::protobuf::Timestamp now =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
  partner.set_version(1);
  *partner.mutable_created_at() = now;
  *partner.mutable_updated_at() = now;
  v1::PartnerRegistered event;
  *event.mutable_partner() = partner;
  *event.mutable_actor() = request.actor();
  MB_RETURN_IF_ERROR(Save(partner, event));
  log::Info("partner_registered", {{"partner", partner.partner_code()},
                                   {"type", v1::PartnerType_Name(partner.type())},
                                   {"operator", request.actor().operator_id()}});
  v1::RegisterPartnerResponse response;
  *response.mutable_partner() = std::move(partner);
  return response;
}

absl::StatusOr<v1::UpdatePartnerResponse> Partners::UpdatePartner(
    const v1::UpdatePartnerRequest& request) {
  FieldErrors errors;
  if (request.update_mask().paths().empty()) {
    errors.Add("update_mask", "required: the fields to change");
  }
  for (const std::string& path : request.update_mask().paths()) {
    if (path != "name" && path != "contract" && !absl::StartsWith(path, "contract.")) {
      errors.Add("update_mask", absl::StrCat(path, ": only name and contract "
                                                   "(or fields within it) change here"));
    } else if (!FieldMaskUtil::GetFieldDescriptors(
                   v1::Partner::descriptor(), path, nullptr)) {
      errors.Add("update_mask", absl::StrCat(path, ": not a field of Partner"));
    }
  }
  if (request.expected_version() < 0) {
    errors.Add("expected_version", "must not be negative");
  }
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: partners are changed by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  store::KeyLocks::Guard guard = locks_.Lock(request.partner_code());
  MB_ASSIGN_OR_RETURN(v1::Partner partner, Load(request.partner_code()));
  if (request.expected_version() != 0 &&
      request.expected_version() != partner.version()) {
    return FailedPreconditionField(
        "expected_version", absl::StrCat("is ", request.expected_version(),
                                         " but the partner is at ",
                                         partner.version(), "; read it again"));
  }
  v1::Partner changed = partner;
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(request.partner(), request.update_mask(), options,
                                &changed);
  MB_RETURN_IF_ERROR(ValidatePartner(changed, "partner", host_carrier_));
  v1::UpdatePartnerResponse response;
  if (changed.SerializeAsString() == partner.SerializeAsString()) {
    *response.mutable_partner() = std::move(partner);
    return response;  // Nothing changes: no new version, no event.
  }
  changed.set_version(partner.version() + 1);
  *changed.mutable_updated_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
  v1::PartnerUpdated event;
  *event.mutable_partner() = changed;
  *event.mutable_changed() = request.update_mask();
  *event.mutable_actor() = request.actor();
  MB_RETURN_IF_ERROR(Save(changed, event));
  log::Info("partner_updated",
            {{"partner", changed.partner_code()},
             {"fields", FieldMaskUtil::ToString(request.update_mask())}});
  *response.mutable_partner() = std::move(changed);
  return response;
}

absl::StatusOr<v1::ChangePartnerStatusResponse> Partners::ChangePartnerStatus(
    const v1::ChangePartnerStatusRequest& request) {
  FieldErrors errors;
  if (request.status() != v1::ACTIVE && request.status() != v1::SUSPENDED) {
    errors.Add("status", "must be ACTIVE or SUSPENDED");
  }
  if (!IsReasonCode(request.reason())) {
    errors.Add("reason", "must be 1-32 characters of A-Z, 0-9 and _");
  }
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: partners are changed by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  store::KeyLocks::Guard guard = locks_.Lock(request.partner_code());
  MB_ASSIGN_OR_RETURN(v1::Partner partner, Load(request.partner_code()));
  v1::ChangePartnerStatusResponse response;
  if (partner.status() != request.status()) {
    partner.set_status(request.status());
    partner.set_version(partner.version() + 1);
    *partner.mutable_updated_at() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
    v1::PartnerUpdated event;
    *event.mutable_partner() = partner;
    event.mutable_changed()->add_paths("status");
    event.set_reason(request.reason());
    *event.mutable_actor() = request.actor();
    MB_RETURN_IF_ERROR(Save(partner, event));
    log::Info("partner_status_changed",
              {{"partner", partner.partner_code()},
               {"status", v1::PartnerStatus_Name(partner.status())},
               {"reason", request.reason()}});
  }
  *response.mutable_partner() = std::move(partner);
  return response;
}

absl::StatusOr<v1::GetPartnerResponse> Partners::GetPartner(
    const v1::GetPartnerRequest& request) {
  if (request.partner_code().empty()) return InvalidField("partner_code", "required");
  v1::Partner partner;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetProto(kPartnersTable,
                                                   Key(request.partner_code()), &partner));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("partner_code: no partner ", request.partner_code()));
  }
  v1::GetPartnerResponse response;
  *response.mutable_partner() = std::move(partner);
  return response;
}

absl::StatusOr<v1::ListPartnersResponse> Partners::ListPartners(
    const v1::ListPartnersRequest& request) {
  const int page_size =
      request.page().page_size() == 0 ? kDefaultPage : request.page().page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    return InvalidField("page.page_size", "must be 0 to 1,000");
  }
  store::ScanRange range;
  if (!request.page().page_token().empty()) {
    range.start = Key(request.page().page_token());
    range.start.push_back('\0');  // Just after that partner.
  }
  v1::ListPartnersResponse response;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kPartnersTable, range,
      [&](absl::string_view, absl::string_view value) -> absl::StatusOr<bool> {
        v1::Partner partner;
        if (!partner.ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError("settlement partners: unreadable record");
        }
        if (request.type() != v1::PARTNER_TYPE_UNSPECIFIED &&
            partner.type() != request.type()) {
          return true;
        }
        if (request.status() != v1::PARTNER_STATUS_UNSPECIFIED &&
            partner.status() != request.status()) {
          return true;
        }
        if (response.partners_size() == page_size) {
          response.mutable_page()->set_next_page_token(
              response.partners(page_size - 1).partner_code());
          return false;
        }
        *response.add_partners() = std::move(partner);
        return true;
      }));
  return response;
}

absl::StatusOr<v1::GetEarningTableResponse> Partners::GetEarningTable(
    const v1::GetEarningTableRequest& request) {
  MB_ASSIGN_OR_RETURN(v1::GetPartnerResponse found, GetPartner([&] {
                        v1::GetPartnerRequest get;
                        get.set_partner_code(request.partner_code());
                        return get;
                      }()));
  const v1::Partner& partner = found.partner();
  if (partner.type() != v1::AIRLINE) {
    return FailedPreconditionField(
        "partner_code", absl::StrCat(partner.partner_code(), " is not an AIRLINE"));
  }
  v1::GetEarningTableResponse response;
  response.set_partner_code(partner.partner_code());
  if (partner.contract().earning_table().empty()) {
    response.set_default_table(true);
    for (const auto& [letter, percent] : DefaultTable()) {
      v1::ClassEarningRate* rate = response.add_entries();
      rate->set_booking_class(std::string(1, letter));
      rate->set_percent(percent);
    }
  } else {
    *response.mutable_entries() = partner.contract().earning_table();
    std::sort(response.mutable_entries()->begin(), response.mutable_entries()->end(),
              [](const v1::ClassEarningRate& a, const v1::ClassEarningRate& b) {
                return a.booking_class() < b.booking_class();
              });
  }
  response.set_minimum_miles(partner.contract().minimum_miles());
  response.set_status(partner.status());
  response.set_version(partner.version());
  return response;
}

absl::Status Partners::Seed(const v1::Partner& partner) {
  {
    store::KeyLocks::Guard guard = locks_.Lock(partner.partner_code());
    absl::StatusOr<v1::Partner> existing = Load(partner.partner_code());
    if (existing.ok()) return absl::OkStatus();
    if (existing.status().code() != absl::StatusCode::kNotFound) {
      return existing.status();
    }
  }
  v1::RegisterPartnerRequest request;
  *request.mutable_partner() = partner;
  request.mutable_actor()->set_channel(common::v1::SYSTEM);
  request.mutable_actor()->set_operator_id("configuration");
  return RegisterPartner(request).status();
}

store::KeyLocks::Guard Partners::Lock(absl::string_view code) {
  return locks_.Lock(code);
}

absl::StatusOr<v1::Partner> Partners::Find(absl::string_view code) {
  return Load(code);
}

void Partners::Stage(const v1::Partner& partner, store::WriteBatch& batch) const {
  batch.PutProto(kPartnersTable, Key(partner.partner_code()), partner);
}

}  // namespace mileagebank::settlement
