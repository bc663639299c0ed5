// Masks personal data in responses for callers who do not need it
// (policy.h's SeesPersonalData): identity document numbers, mobile phone
// numbers and e-mail addresses, wherever they appear in a message. Enough
// is left for a person to recognise their own ("+86******5678",
// "j***@example.com", "******1234").
#ifndef MILEAGEBANK_SERVICES_GATEWAY_MASKING_H_
#define MILEAGEBANK_SERVICES_GATEWAY_MASKING_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mileagebank::gateway {

// Masks every personal field in `message` and the messages within it.
// Returns whether anything was masked.
bool MaskPersonalData(google::protobuf::Message* message);

// The masked forms, for the tests and the docs.
std::string MaskEmail(absl::string_view email);
std::string MaskPhone(absl::string_view phone);
std::string MaskDocumentNumber(absl::string_view number);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_MASKING_H_
