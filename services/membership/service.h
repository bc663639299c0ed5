// MembershipService: the gRPC face of Members. Each method hands the request
// to the operation of the same name and maps its status (with field details)
// onto the wire; nothing else happens here.
//
// Thread-safe; served with the synchronous API, since operations block on
// fsync and password hashing.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_SERVICE_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_SERVICE_H_

#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "services/membership/members.h"

namespace mileagebank::membership {

class MembershipService final : public v1::Membership::Service {
 public:
  explicit MembershipService(Members* members) : members_(members) {}

#define MB_MEMBERSHIP_RPC(Method)                                           \
  grpc::Status Method(grpc::ServerContext* context,                         \
                      const v1::Method##Request* request,                   \
                      v1::Method##Response* response) override;
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

 private:
  Members* members_;
};

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_SERVICE_H_
