// Errors that name the field and the rule.
//
// Every service reports bad input the same way: an absl::Status whose message
// reads "<field>: <rule>" and whose payload carries a
// mileagebank.common.v1.ErrorDetails listing each field at fault. ToGrpcStatus
// (grpc_status.h) turns that into a gRPC status with rich details, and the
// gateway into an HTTP error body.
//
//   FieldErrors errors;
//   if (!IsE164(phone)) errors.Add("profile.mobile_phone", "must be E.164");
//   MB_RETURN_IF_ERROR(errors.ToStatus());
//
// Thread-compatible: a FieldErrors is used by one thread at a time.
#ifndef MILEAGEBANK_LIBS_STATUS_ERRORS_H_
#define MILEAGEBANK_LIBS_STATUS_ERRORS_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank {

// The payload URL under which ErrorDetails travel inside an absl::Status.
inline constexpr absl::string_view kErrorDetailsUrl =
    "type.googleapis.com/mileagebank.common.v1.ErrorDetails";

// INVALID_ARGUMENT "<field>: <rule>" carrying the field violation.
absl::Status InvalidField(absl::string_view field, absl::string_view rule);

// ALREADY_EXISTS with `message`, carrying the existing entity's id.
absl::Status AlreadyExistsError(absl::string_view message,
                                absl::string_view existing_id);

// FAILED_PRECONDITION "<field>: <rule>" carrying the field violation, for a
// well-formed value that the current state does not allow.
absl::Status FailedPreconditionField(absl::string_view field,
                                     absl::string_view rule);

// NOT_FOUND "<field>: <rule>" carrying the field violation, for a
// well-formed reference to something that does not exist.
absl::Status NotFoundField(absl::string_view field, absl::string_view rule);

// The ErrorDetails a status carries, if any.
std::optional<common::v1::ErrorDetails> GetErrorDetails(
    const absl::Status& status);

// Collects every field violation of one request, to report them together.
class FieldErrors {
 public:
  void Add(absl::string_view field, absl::string_view rule);
  // Adds `prefix` + "." before the field names of `status`'s violations; a
  // status without violations (or OK) is added as-is under `prefix`.
  void Merge(absl::string_view prefix, const absl::Status& status);
  bool empty() const { return details_.field_violations().empty(); }
  // OK when nothing was added; otherwise INVALID_ARGUMENT whose message lists
  // every violation and whose payload carries them.
  absl::Status ToStatus() const;

 private:
  common::v1::ErrorDetails details_;
};

}  // namespace mileagebank

#endif  // MILEAGEBANK_LIBS_STATUS_ERRORS_H_
