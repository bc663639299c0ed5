#include "services/accrual/service.h"

#include "libs/server/respond.h"

namespace mileagebank::accrual {

#define MB_DEFINE_RPC(Method)                                            \
  grpc::Status AccrualService::Method(grpc::ServerContext*,              \
                                      const v1::Method##Request* request, \
                                      v1::Method##Response* response) {  \
    return server::Respond(ledger_->Method(*request), response);         \
  }
MB_ACCRUAL_RPCS(MB_DEFINE_RPC)
#undef MB_DEFINE_RPC

}  // namespace mileagebank::accrual
