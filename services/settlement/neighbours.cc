#include "services/settlement/neighbours.h"

#include "libs/client/accrual_batch.h"

namespace mileagebank::settlement {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;

const client::CallPolicy kLookUp{.deadline = absl::Seconds(3),
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

absl::StatusOr<absl::optional<MemberFacts>> GrpcMembership::FindMember(
    absl::string_view member_number) {
  mv1::GetMemberRequest request;
  request.set_member_number(std::string(member_number));
  request.set_resolve_merges(true);
  mv1::GetMemberResponse response;
  absl::Status status =
      client::Call(client_.ForMember(member_number),
                   &mv1::Membership::Stub::GetMember, request, &response,
                   kLookUp);
  // A number membership calls malformed can belong to no member; the file
  // checks let only well-formed numbers through, so this is a safeguard
  // that keeps one odd record from holding its file up for ever.
  if (status.code() == absl::StatusCode::kNotFound ||
      status.code() == absl::StatusCode::kInvalidArgument) {
    return absl::optional<MemberFacts>();
  }
  if (!status.ok()) return status;
  MemberFacts facts;
  facts.member_number = response.member().member_number();
  facts.family_name = response.member().profile().family_name();
  facts.status = response.member().status();
  return absl::optional<MemberFacts>(std::move(facts));
}

absl::StatusOr<av1::PostActivitiesResponse> GrpcAccrual::PostActivities(
    const av1::PostActivitiesRequest& request) {
  return client::PostActivities(client_, request, kCredit);
}

}  // namespace mileagebank::settlement
