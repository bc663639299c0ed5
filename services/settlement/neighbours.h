// The services the settlement service calls while it processes accrual
// files, behind interfaces so that tests can fake them: membership (who a
// record's member is) and accrual (crediting the records). The gRPC
// implementations use libs/client: a deadline on every call, and retries,
// as every call here is idempotent (a read, or credits keyed by partner
// reference, flight identity and PartnerSource).
//
//   GrpcMembership membership(config.membership_target());
//   absl::StatusOr<std::vector<absl::optional<MemberFacts>>> members =
//       membership.FindMembers({"1000000018", "1000000026"});
//   if (!members.ok()) { ... membership cannot answer: try again later ... }
//   if (!(*members)[0].has_value()) { ... MEMBER_NOT_FOUND ... }
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_NEIGHBOURS_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_NEIGHBOURS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"
#include "libs/client/client.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "services/settlement/accrual_file.h"

namespace mileagebank::settlement {

// Who a record's member is.
class MembershipGateway {
 public:
  virtual ~MembershipGateway() = default;
  // For each of `member_numbers`, in order, the member it leads to, merges
  // followed (LookupMembers); nullopt when there is no such member. An
  // error status only when membership cannot answer (retry later).
  virtual absl::StatusOr<std::vector<absl::optional<MemberFacts>>> FindMembers(
      absl::Span<const std::string> member_numbers) = 0;
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
  // One call per shard and 1,000 numbers.
  absl::StatusOr<std::vector<absl::optional<MemberFacts>>> FindMembers(
      absl::Span<const std::string> member_numbers) override;

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
