// The gateway's own operations (gateway.proto's Gateway service): member
// sessions, API keys and the audit trail. The Dispatcher has already checked
// who may call; these do the work.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_GATEWAY_OPERATIONS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_GATEWAY_OPERATIONS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "services/gateway/login.h"
#include "services/gateway/principal.h"
#include "services/gateway/state.h"

namespace mileagebank::gateway {

class GatewayOperations {
 public:
  // All outlive this.
  GatewayOperations(MemberLogin* login, SessionRegistry* sessions,
                    ApiKeyRegistry* api_keys, AuditTrail* audit)
      : login_(login), sessions_(sessions), api_keys_(api_keys), audit_(audit) {}

  // `request` and `response` are of `method`'s generated types.
  absl::Status Call(const Principal& principal, absl::string_view method,
                    const google::protobuf::Message& request,
                    google::protobuf::Message* response);

 private:
  MemberLogin* login_;
  SessionRegistry* sessions_;
  ApiKeyRegistry* api_keys_;
  AuditTrail* audit_;
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_GATEWAY_OPERATIONS_H_
