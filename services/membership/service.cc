#include "services/membership/service.h"

#include "libs/server/respond.h"

namespace mileagebank::membership {

#define MB_DEFINE_RPC(Method)                                              \
  grpc::Status MembershipService::Method(grpc::ServerContext*,             \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) { \
    return server::Respond(members_->Method(*request), response);          \
  }
MB_MEMBERSHIP_RPCS(MB_DEFINE_RPC)
#undef MB_DEFINE_RPC

}  // namespace mileagebank::membership
