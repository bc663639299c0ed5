// The services the settlement service calls while it processes accrual
// files, behind interfaces so that tests can fake them: membership (who a
// record's member is) and accrual (crediting the records). The gRPC
// implementations use libs/client: a deadline on every call, and retries,
// as every call here is idempotent (a read, or credits keyed by partner
// reference, flight identity and PartnerSource).
//
//   GrpcMembership membership(config.membership_target());
//   absl::StatusOr<absl::optional<MemberFacts>> member =
//       membership.FindMember("1000000018");
//   if (!member.ok()) { ... membership cannot answer: try again later ... }
//   if (!member->has_value()) { ... MEMBER_NOT_FOUND ... }
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_NEIGHBOURS_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_NEIGHBOURS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "libs/client/client.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "services/settlement/accrual_file.h"

namespace mileagebank::settlement {

// Who a record's member is.
class MembershipGateway {
 public:
  virtual ~MembershipGateway() = default;
  // The member `member_number` leads to, merges followed (GetMember with
  // resolve_merges); nullopt when there is no such member; an error status
  // only when membership cannot answer (retry later).
  virtual absl::StatusOr<absl::optional<MemberFacts>> FindMember(
      absl::string_view member_number) = 0;
};

// Credits records.
class AccrualGateway {
 public:
  virtual ~AccrualGateway() = default;
  // Accrual's PostActivities: one result per activity, in order. An error
  // status only when the batch as a whole got no answer.
  virtual absl::StatusOr<accrual::v1::PostActivitiesResponse> PostActivities(
      const accrual::v1::PostActivitiesRequest& request) = 0;
};

class GrpcMembership : public MembershipGateway {
 public:
  explicit GrpcMembership(const std::string& target) : client_(target) {}
  absl::StatusOr<absl::optional<MemberFacts>> FindMember(
      absl::string_view member_number) override;

 private:
  client::ServiceClient<membership::v1::Membership> client_;
};

class GrpcAccrual : public AccrualGateway {
 public:
  explicit GrpcAccrual(const std::string& target) : client_(target) {}
  // A deadline generous enough for a batch of 1,000 credits, each fsynced
  // by accrual; retried, since every item is keyed.
  absl::StatusOr<accrual::v1::PostActivitiesResponse> PostActivities(
      const accrual::v1::PostActivitiesRequest& request) override;

 private:
  client::ServiceClient<accrual::v1::Accrual> client_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_NEIGHBOURS_H_
