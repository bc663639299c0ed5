// MemberDirectory: who a member is, as far as accrual needs to know (does
// the member exist, which member a chain of merges ends in, is it ACTIVE).
//
// It keeps a replica of membership's members, built by following
// membership's event stream (Apply), and asks membership itself (through a
// MembershipLookup) about a member the replica does not know yet, such as
// one enrolled a moment ago whose event has not arrived.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_MEMBER_DIRECTORY_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_MEMBER_DIRECTORY_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/client/client.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "services/accrual/store.h"

namespace mileagebank::accrual {

struct MemberInfo {
  // The member a chain of merges ends in.
  std::string member_number;
  membership::v1::MemberStatus status;
};

// The membership service, behind an interface so that tests can fake it.
class MembershipLookup {
 public:
  virtual ~MembershipLookup() = default;
  // The member `member_number`'s merges end in, with its status; NOT_FOUND
  // for an unknown member.
  virtual absl::StatusOr<MemberInfo> Lookup(absl::string_view member_number) = 0;
};

// Asks the real membership service over gRPC.
class GrpcMembershipLookup : public MembershipLookup {
 public:
  explicit GrpcMembershipLookup(const std::string& target)
      : membership_(target) {}
  absl::StatusOr<MemberInfo> Lookup(absl::string_view member_number) override;

 private:
  client::ServiceClient<membership::v1::Membership> membership_;
};

// A merge the replica learnt of, for the ledger to move the account.
struct Merge {
  std::string source;
  std::string target;
};

class MemberDirectory {
 public:
  // `fallback` outlives the directory.
  MemberDirectory(LedgerStore* store, MembershipLookup* fallback)
      : store_(store), fallback_(fallback) {}

  absl::StatusOr<MemberInfo> Resolve(absl::string_view member_number);

  // Applies one membership event to the replica, in `batch`; a merge is
  // returned for the ledger to follow.
  absl::StatusOr<std::optional<Merge>> Apply(const common::v1::Event& event,
                                             store::WriteBatch& batch);
  // The payload types Apply uses: the rest of membership's stream (mostly a
  // qualifying activity per credit) is left unsent.
  static std::vector<std::string> EventTypes();

 private:
  LedgerStore* store_;
  MembershipLookup* fallback_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_MEMBER_DIRECTORY_H_
