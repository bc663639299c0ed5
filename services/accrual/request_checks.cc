#include "services/accrual/request_checks.h"

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "libs/crypto/password.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"

namespace mileagebank::accrual {
namespace {

bool AllOf(absl::string_view text, bool (*allowed)(char)) {
  return std::all_of(text.begin(), text.end(), allowed);
}

bool IsCarrier(absl::string_view carrier) {
  return carrier.size() == 2 &&
         AllOf(carrier, [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         }) &&
         std::any_of(carrier.begin(), carrier.end(),
                     [](char c) { return absl::ascii_isupper(c); });
}

void CheckAirport(FieldErrors& errors, const std::string& field,
                  absl::string_view code, const airports::AirportTable& airports) {
  if (code.size() != 3 || !AllOf(code, [](char c) { return absl::ascii_isupper(c); })) {
    errors.Add(field, "must be three upper-case letters (an IATA airport code)");
  } else if (airports.Find(code) == nullptr) {
    errors.Add(field, absl::StrCat("unknown airport ", code));
  }
}

}  // namespace

void CheckMemberNumber(FieldErrors& errors, absl::string_view field,
                       absl::string_view member_number) {
  errors.Merge("", validation::ValidateMemberNumber(field, member_number));
}

void CheckRequestId(FieldErrors& errors, absl::string_view field,
                    absl::string_view request_id, bool required) {
  if (request_id.empty() && !required) return;
  if (request_id.empty() || request_id.size() > 64 ||
      !AllOf(request_id, [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
               c == ':' || c == '/';
      })) {
    errors.Add(field, "must be 1-64 characters of A-Z a-z 0-9 and -_.:/");
  }
}

void CheckReasonCode(FieldErrors& errors, absl::string_view field,
                     absl::string_view reason, bool required) {
  if (reason.empty() && !required) return;
  if (reason.empty() || reason.size() > 32 ||
      !AllOf(reason, [](char c) {
        return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
      })) {
    errors.Add(field, "must be 1-32 characters of A-Z, 0-9 and _");
  }
}

void CheckFlightIdentity(FieldErrors& errors, absl::string_view field,
                         const v1::FlightIdentity& identity) {
  const std::string& ticket = identity.ticket_number();
  if (ticket.size() != 13 || !AllOf(ticket, [](char c) { return absl::ascii_isdigit(c); })) {
    errors.Add(absl::StrCat(field, ".ticket_number"), "must be exactly 13 digits");
  }
  if (identity.coupon_number() < 1 || identity.coupon_number() > 4) {
    errors.Add(absl::StrCat(field, ".coupon_number"), "must be 1 to 4");
  }
}

absl::CivilDay CheckDate(FieldErrors& errors, absl::string_view field,
                         const common::v1::Date& date,
                         absl::CivilDay latest_date) {
  absl::StatusOr<absl::CivilDay> day = validation::ToCivilDay(field, date);
  if (!day.ok()) {
    errors.Merge("", day.status());
    return latest_date;
  }
  if (*day > latest_date) {
    errors.Add(field, absl::StrCat("must not be after ",
                                   validation::FormatDate(latest_date)));
  }
  return *day;
}

int64_t CheckFlight(FieldErrors& errors, absl::string_view field,
                    const v1::Flight& flight, const airports::AirportTable& airports,
                    absl::CivilDay latest_date) {
  const std::string prefix(field);
  if (!IsCarrier(flight.carrier())) {
    errors.Add(prefix + ".carrier",
               "must be a 2-character IATA airline code (A-Z, 0-9, a letter)");
  }
  if (flight.flight_number() < 1 || flight.flight_number() > 9999) {
    errors.Add(prefix + ".flight_number", "must be 1 to 9999");
  }
  CheckDate(errors, prefix + ".flight_date", flight.flight_date(), latest_date);
  CheckAirport(errors, prefix + ".origin", flight.origin(), airports);
  CheckAirport(errors, prefix + ".destination", flight.destination(), airports);
  if (flight.origin() == flight.destination() && !flight.origin().empty()) {
    errors.Add(prefix + ".destination", "must differ from origin");
  }
  const airports::Airport* from = airports.Find(flight.origin());
  const airports::Airport* to = airports.Find(flight.destination());
  if (from == nullptr || to == nullptr || from == to) return 0;
  return airports::GreatCircleMiles(*from, *to);
}

void CheckStaff(FieldErrors& errors, const common::v1::Actor& actor) {
  if (actor.operator_id().empty()) {
    errors.Add("actor.operator_id", "required: this change is made by staff");
  }
}

std::string RequestFingerprint(const google::protobuf::Message& request) {
  const std::string serialized = request.SerializeAsString();
  const google::protobuf::FieldDescriptor* actor =
      request.GetDescriptor()->FindFieldByName("actor");
  if (actor == nullptr ||
      !request.GetReflection()->HasField(request, actor)) {
    return crypto::Digest(serialized);
  }
  // The request's bytes without the actor's: fields are written in number
  // order, so this is exactly a copy with the actor cleared, serialized
  // (what earlier keys were recorded with), without copying the request.
  std::string kept;
  kept.reserve(serialized.size());
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(serialized.data()),
      static_cast<int>(serialized.size()));
  while (true) {
    const int start = input.CurrentPosition();
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    if (!google::protobuf::internal::WireFormatLite::SkipField(&input, tag)) {
      // Not reachable for bytes protobuf itself wrote; fall back to a copy.
      std::unique_ptr<google::protobuf::Message> copy(request.New());
      copy->CopyFrom(request);
      copy->GetReflection()->ClearField(copy.get(), actor);
      return crypto::Digest(copy->SerializeAsString());
    }
    if (google::protobuf::internal::WireFormatLite::GetTagFieldNumber(tag) !=
        actor->number()) {
      kept.append(serialized, start, input.CurrentPosition() - start);
    }
  }
  return crypto::Digest(kept);
}

std::string FlightKey(const v1::FlightIdentity& identity) {
  return absl::StrCat("flight:", identity.ticket_number(), "/",
                      identity.coupon_number());
}

std::string PartnerKey(absl::string_view partner_code,
                       absl::string_view reference) {
  return absl::StrCat("partner:", partner_code, ":", reference);
}

std::string RequestKey(absl::string_view operation, absl::string_view member,
                       absl::string_view request_id) {
  return absl::StrCat(operation, ":", member, ":", request_id);
}

}  // namespace mileagebank::accrual
