#include "libs/status/grpc_status.h"

#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "libs/status/errors.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  std::optional<common::v1::ErrorDetails> details = GetErrorDetails(status);
  if (!details) return grpc::Status(code, message);
  common::v1::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(message);
  rich.add_details()->PackFrom(*details);
  return grpc::Status(code, message, rich.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  common::v1::Status rich;
  if (!status.error_details().empty() &&
      rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      common::v1::ErrorDetails details;
      if (any.UnpackTo(&details)) {
        result.SetPayload(kErrorDetailsUrl,
                          absl::Cord(details.SerializeAsString()));
      }
    }
  }
  return result;
}

}  // namespace mileagebank
