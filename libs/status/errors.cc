#include "libs/status/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace mileagebank {
namespace {

absl::Status WithDetails(absl::Status status,
                         const common::v1::ErrorDetails& details) {
  status.SetPayload(kErrorDetailsUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

common::v1::ErrorDetails OneViolation(absl::string_view field,
                                      absl::string_view rule) {
  common::v1::ErrorDetails details;
  auto* violation = details.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(rule));
  return details;
}

}  // namespace

absl::Status InvalidField(absl::string_view field, absl::string_view rule) {
  return WithDetails(absl::InvalidArgumentError(absl::StrCat(field, ": ", rule)),
                     OneViolation(field, rule));
}

absl::Status FailedPreconditionField(absl::string_view field,
                                     absl::string_view rule) {
  return WithDetails(
      absl::FailedPreconditionError(absl::StrCat(field, ": ", rule)),
      OneViolation(field, rule));
}

absl::Status NotFoundField(absl::string_view field, absl::string_view rule) {
  return WithDetails(absl::NotFoundError(absl::StrCat(field, ": ", rule)),
                     OneViolation(field, rule));
}

absl::Status AlreadyExistsError(absl::string_view message,
                                absl::string_view existing_id) {
  common::v1::ErrorDetails details;
  details.set_existing_id(std::string(existing_id));
  return WithDetails(absl::AlreadyExistsError(message), details);
}

std::optional<common::v1::ErrorDetails> GetErrorDetails(
    const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrorDetailsUrl);
  if (!payload) return std::nullopt;
  common::v1::ErrorDetails details;
  if (!details.ParseFromString(std::string(*payload))) return std::nullopt;
  return details;
}

void FieldErrors::Add(absl::string_view field, absl::string_view rule) {
  auto* violation = details_.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(rule));
}

void FieldErrors::Merge(absl::string_view prefix, const absl::Status& status) {
  if (status.ok()) return;
  std::optional<common::v1::ErrorDetails> details = GetErrorDetails(status);
  if (!details || details->field_violations().empty()) {
    Add(prefix, status.message());
    return;
  }
  for (const auto& violation : details->field_violations()) {
    Add(prefix.empty() ? violation.field()
                       : absl::StrCat(prefix, ".", violation.field()),
        violation.description());
  }
}

absl::Status FieldErrors::ToStatus() const {
  if (empty()) return absl::OkStatus();
  std::string message;
  for (const auto& violation : details_.field_violations()) {
    absl::StrAppend(&message, message.empty() ? "" : "; ", violation.field(),
                    ": ", violation.description());
  }
  return WithDetails(absl::InvalidArgumentError(message), details_);
}

}  // namespace mileagebank
