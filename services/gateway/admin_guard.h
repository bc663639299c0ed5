// Who may back up the gateway's own store (sessions, API keys, audit
// trail). The gateway process serves admin.proto's GatewayAdmin itself on
// its gRPC port, beside the operations it relays; since that port faces the
// outside, a call is admitted as the gRPC face admits a relayed one
// (credentials, rate limit, GatewayBackupOperation's roles: ADMIN only) and
// written to the audit trail with its outcome.
//
//   server::AdminService admin("gateway", data_dir, store,
//                              GatewayAdminGuard(&dispatcher));
//
// Thread-safe, as the Dispatcher is.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_ADMIN_GUARD_H_
#define MILEAGEBANK_SERVICES_GATEWAY_ADMIN_GUARD_H_

#include "libs/server/admin_service.h"
#include "services/gateway/dispatcher.h"

namespace mileagebank::gateway {

// `dispatcher` outlives the guard.
server::AdminService::Guard GatewayAdminGuard(Dispatcher* dispatcher);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_ADMIN_GUARD_H_
