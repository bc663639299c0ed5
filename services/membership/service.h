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

// Every RPC of the Membership service, for X-macros.
#define MB_MEMBERSHIP_RPCS(X)  \
  X(Enrol)                     \
  X(GetMember)                 \
  X(LookupMembers)             \
  X(UpdateProfile)             \
  X(FindMembers)               \
  X(ChangeStatus)              \
  X(MergeMembers)              \
  X(SetPassword)               \
  X(VerifyPassword)            \
  X(AddNominee)                \
  X(RemoveNominee)             \
  X(ListNominees)              \
  X(RecordQualifyingActivity)  \
  X(ReverseQualifyingActivity) \
  X(GetTier)                   \
  X(ImportMembers)

class MembershipService final : public v1::Membership::Service {
 public:
  explicit MembershipService(Members* members) : members_(members) {}

#define MB_DECLARE_RPC(Method)                                   \
  grpc::Status Method(grpc::ServerContext* context,              \
                      const v1::Method##Request* request,        \
                      v1::Method##Response* response) override;
  MB_MEMBERSHIP_RPCS(MB_DECLARE_RPC)
#undef MB_DECLARE_RPC

 private:
  Members* members_;
};

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_SERVICE_H_
