#include "services/membership/service.h"

#include "libs/server/respond.h"

namespace mileagebank::membership {

#define MB_MEMBERSHIP_RPC(Method)                                          \
  grpc::Status MembershipService::Method(grpc::ServerContext*,             \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) { \
    return server::Respond(members_->Method(*request), response);          \
  }
MB_MEMBERSHIP_RPC(Enrol)
MB_MEMBERSHIP_RPC(GetMember)
MB_MEMBERSHIP_RPC(UpdateProfile)
MB_MEMBERSHIP_RPC(FindMembers)
MB_MEMBERSHIP_RPC(ChangeStatus)
MB_MEMBERSHIP_RPC(MergeMembers)
MB_MEMBERSHIP_RPC(SetPassword)
MB_MEMBERSHIP_RPC(VerifyPassword)
MB_MEMBERSHIP_RPC(AddNominee)
MB_MEMBERSHIP_RPC(RemoveNominee)
MB_MEMBERSHIP_RPC(ListNominees)
MB_MEMBERSHIP_RPC(RecordQualifyingActivity)
MB_MEMBERSHIP_RPC(ReverseQualifyingActivity)
MB_MEMBERSHIP_RPC(GetTier)
MB_MEMBERSHIP_RPC(ImportMembers)
#undef MB_MEMBERSHIP_RPC

}  // namespace mileagebank::membership
