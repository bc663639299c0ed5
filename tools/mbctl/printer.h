// What mbctl prints: responses for people or as JSON, and errors.
//
// FormatHuman prints one "field: value" line per field, by reflection:
//
//   member:
//     member_number: 1000000016
//     profile:
//       family_name: Wang
//       date_of_birth: 1985-04-12
//     status: ACTIVE
//     enrolled_at: 2024-05-01T08:00:00Z
//     nominees:
//       - nominee_id: 1
//         family_name: Li
//
// Nested messages are indented, enum values shown by name, repeated fields
// as "- " lists, mileagebank.common.v1.Date as YYYY-MM-DD,
// google.protobuf.Timestamp as RFC 3339 UTC, google.protobuf.FieldMask as
// comma-separated paths. Fields at their default (empty, zero, unset) are
// left out, with one exception: the number, bool and enum fields of the
// top-level message are always shown, because there the default is often the
// answer ("verified: false", "miles_to_next_tier: 0").
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_TOOLS_MBCTL_PRINTER_H_
#define MILEAGEBANK_TOOLS_MBCTL_PRINTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace mileagebank::mbctl {

// The human-readable text of `message`, each line ending in "\n".
std::string FormatHuman(const google::protobuf::Message& message);

// Protobuf JSON with whitespace (default-valued fields left out), ending in
// "\n".
absl::StatusOr<std::string> FormatJson(
    const google::protobuf::Message& message);

// The error a service returned (as FromGrpcStatus gives it):
//
//   error: INVALID_ARGUMENT: profile.mobile_phone: must be E.164
//     profile.mobile_phone: must be E.164
//
// with one indented line per field violation of its ErrorDetails, and an
// "existing_id" line when the details name what already exists.
std::string FormatError(const absl::Status& status);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_PRINTER_H_
