#include "services/settlement/neighbours.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/client/accrual_batch.h"
#include "libs/client/shards.h"
#include "libs/status/status_macros.h"

namespace mileagebank::settlement {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;

// LookupMembers' most per call.
constexpr size_t kLookedUpPerCall = 1000;

// Up to 1,000 members read by membership, each from disk when its caches
// are cold (a slow disk takes milliseconds a read).
const client::CallPolicy kLookUp{.deadline = absl::Seconds(30),
                                 .idempotent = true,
                                 .max_attempts = 3};

// Accrual fsyncs each credit of a batch (group-committed, but still in
// order): a full batch of 1,000 on a slow disk takes seconds, and a retry
// of an attempt that timed out while accrual kept working only replays.
const client::CallPolicy kCredit{.deadline = absl::Seconds(60),
                                 .idempotent = true,
                                 .max_attempts = 3,
                                 .initial_backoff = absl::Milliseconds(200)};

}  // namespace

absl::StatusOr<std::vector<absl::optional<MemberFacts>>>
GrpcMembership::FindMembers(absl::Span<const std::string> member_numbers) {
  std::vector<absl::optional<MemberFacts>> members(member_numbers.size());
  // Indexes into `member_numbers`, by the shard that holds them.
  std::vector<std::vector<size_t>> by_shard(client_.shard_count());
  for (size_t i = 0; i < member_numbers.size(); ++i) {
    by_shard[client::ShardOfMember(member_numbers[i], client_.shard_count())]
        .push_back(i);
  }
  for (int shard = 0; shard < client_.shard_count(); ++shard) {
    const std::vector<size_t>& indexes = by_shard[shard];
    for (size_t first = 0; first < indexes.size(); first += kLookedUpPerCall) {
      const size_t end = std::min(indexes.size(), first + kLookedUpPerCall);
      mv1::LookupMembersRequest request;
      for (size_t k = first; k < end; ++k) {
        request.add_member_numbers(member_numbers[indexes[k]]);
      }
      mv1::LookupMembersResponse response;
      MB_RETURN_IF_ERROR(client::Call(client_.Shard(shard),
                                      &mv1::Membership::Stub::LookupMembers,
                                      request, &response, kLookUp));
      if (response.members_size() != request.member_numbers_size()) {
        return absl::UnavailableError(absl::StrCat(
            "membership answered ", response.members_size(), " lookups for ",
            request.member_numbers_size(), " member numbers"));
      }
      for (size_t k = first; k < end; ++k) {
        const mv1::MemberLookup& found = response.members(k - first);
        if (!found.found()) continue;
        members[indexes[k]] = MemberFacts{found.member_number(),
                                          found.family_name(), found.status()};
      }
    }
  }
  return members;
}

absl::StatusOr<av1::PostActivitiesResponse> GrpcAccrual::PostActivities(
    const av1::PostActivitiesRequest& request) {
  return client::PostActivities(client_, request, kCredit);
}

}  // namespace mileagebank::settlement
