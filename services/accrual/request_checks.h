// Field checks shared by the accrual operations: each adds to a FieldErrors
// the violations of one part of a request, under the field path it is given.
// Plain functions; thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_REQUEST_CHECKS_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_REQUEST_CHECKS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "libs/status/errors.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "libs/airports/airports.h"

namespace mileagebank::accrual {

void CheckMemberNumber(FieldErrors& errors, absl::string_view field,
                       absl::string_view member_number);
// 1-64 characters of A-Z a-z 0-9 and "-_.:/"; `required` or may be empty.
void CheckRequestId(FieldErrors& errors, absl::string_view field,
                    absl::string_view request_id, bool required = true);
// 1-32 characters of A-Z, 0-9 and "_".
void CheckReasonCode(FieldErrors& errors, absl::string_view field,
                     absl::string_view reason, bool required = true);
void CheckFlightIdentity(FieldErrors& errors, absl::string_view field,
                         const v1::FlightIdentity& identity);
// Checks a flight (not dated after `latest_date`) and returns the distance
// between its airports (0 when they are not both known).
int64_t CheckFlight(FieldErrors& errors, absl::string_view field,
                    const v1::Flight& flight, const airports::AirportTable& airports,
                    absl::CivilDay latest_date);
// A date that must be a valid calendar date, not after `latest_date`.
absl::CivilDay CheckDate(FieldErrors& errors, absl::string_view field,
                         const common::v1::Date& date,
                         absl::CivilDay latest_date);
// The operator_id of a staff-only change.
void CheckStaff(FieldErrors& errors, const common::v1::Actor& actor);

// The digest of a request's content for idempotency checks. Who sent it
// (the `actor` field) is not part of it: a repeat from another channel is
// still the same request.
std::string RequestFingerprint(const google::protobuf::Message& request);

// Idempotency keys.
std::string FlightKey(const v1::FlightIdentity& identity);
std::string PartnerKey(absl::string_view partner_code,
                       absl::string_view reference);
std::string RequestKey(absl::string_view operation, absl::string_view member,
                       absl::string_view request_id);

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_REQUEST_CHECKS_H_
