#include "services/accrual/member_directory.h"

#include "absl/strings/str_cat.h"

namespace mileagebank::accrual {

namespace mv1 = membership::v1;

absl::StatusOr<MemberInfo> GrpcMembershipLookup::Lookup(
    absl::string_view member_number) {
  mv1::GetMemberRequest request;
  request.set_member_number(std::string(member_number));
  request.set_resolve_merges(true);
  mv1::GetMemberResponse response;
  absl::Status status =
      client::Call(membership_.ForMember(member_number),
                   &mv1::Membership::Stub::GetMember, request, &response,
                   client::CallPolicy{.deadline = absl::Seconds(2),
                                      .idempotent = true,
                                      .max_attempts = 2});
  if (!status.ok()) return status;
  return MemberInfo{response.member().member_number(),
                    response.member().status()};
}

absl::StatusOr<MemberInfo> MemberDirectory::Resolve(
    absl::string_view member_number) {
  std::string number(member_number);
  // Merge chains are short; the bound only guards against a corrupt loop.
  for (int hop = 0; hop < 64; ++hop) {
    absl::StatusOr<std::optional<records::MemberState>> state =
        store_->LatestMember(number);
    if (!state.ok()) return state.status();
    if (!state->has_value()) {
      absl::StatusOr<MemberInfo> found = fallback_->Lookup(number);
      if (found.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(
            absl::StrCat("member_number: no member ", member_number));
      }
      return found;
    }
    if ((*state)->status() != mv1::MERGED) {
      return MemberInfo{number, (*state)->status()};
    }
    number = (*state)->merged_into();
  }
  return absl::DataLossError(
      absl::StrCat("member ", member_number, ": merge chain too long"));
}

std::vector<std::string> MemberDirectory::EventTypes() {
  return {mv1::MemberEnrolled::descriptor()->full_name(),
          mv1::StatusChanged::descriptor()->full_name(),
          mv1::MembersMerged::descriptor()->full_name()};
}

absl::StatusOr<std::optional<Merge>> MemberDirectory::Apply(
    const common::v1::Event& event, store::WriteBatch& batch) {
  records::MemberState state;
  mv1::MemberEnrolled enrolled;
  mv1::StatusChanged changed;
  mv1::MembersMerged merged;
  if (event.payload().UnpackTo(&enrolled)) {
    state.set_status(mv1::ACTIVE);
    store_->PutMember(batch, enrolled.member().member_number(), state);
  } else if (event.payload().UnpackTo(&changed)) {
    // MembersMerged, in the same write, says where a merged member went.
    if (changed.to_status() == mv1::MERGED) return std::nullopt;
    state.set_status(changed.to_status());
    store_->PutMember(batch, changed.member_number(), state);
  } else if (event.payload().UnpackTo(&merged)) {
    state.set_status(mv1::MERGED);
    state.set_merged_into(merged.target_member_number());
    store_->PutMember(batch, merged.source_member_number(), state);
    return Merge{merged.source_member_number(), merged.target_member_number()};
  }
  return std::nullopt;
}

}  // namespace mileagebank::accrual
