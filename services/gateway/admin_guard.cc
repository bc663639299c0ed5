#include "services/gateway/admin_guard.h"

#include "mileagebank/common/v1/admin.pb.h"
#include "services/gateway/grpc_face.h"
#include "services/gateway/policy.h"

namespace mileagebank::gateway {

server::AdminService::Guard GatewayAdminGuard(Dispatcher* dispatcher) {
  return [dispatcher](const grpc::ServerContext& context,
                      const std::function<absl::Status()>& call) {
    absl::StatusOr<Principal> principal =
        dispatcher->Authenticate(CredentialsOf(context));
    if (!principal.ok()) return principal.status();
    const Operation& operation = GatewayBackupOperation();
    // Admit reads a request only for a member's own data and the actor,
    // neither of which a backup has.
    common::v1::BackupRequest request;
    absl::Status outcome = dispatcher->Admit(*principal, operation, &request,
                                             absl::InfiniteFuture());
    if (outcome.ok()) outcome = call();
    dispatcher->Audit(*principal, operation, nullptr, outcome);
    return outcome;
  };
}

}  // namespace mileagebank::gateway
