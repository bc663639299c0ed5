// The protobuf JSON mapping for the REST face. protobuf's own
// MessageToJsonString describes every message type afresh on each call
// (google.protobuf.Type built from the descriptors), which made JSON a
// large part of a dashboard's cost; here the descriptions are built once
// per type and kept.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_JSON_H_
#define MILEAGEBANK_SERVICES_GATEWAY_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mileagebank::gateway {

// Every field printed, zeros included, in lowerCamelCase.
std::string ToJson(const google::protobuf::Message& message);

// Parses `json` into `message` (cleared first); unknown fields are errors.
// The status message is the parser's.
absl::Status FromJson(absl::string_view json,
                      google::protobuf::Message* message);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_JSON_H_
