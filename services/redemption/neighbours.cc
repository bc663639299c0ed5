#include "services/redemption/neighbours.h"

#include "google/protobuf/util/time_util.h"

namespace mileagebank::redemption {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;

// Every call here is idempotent (reads, or writes keyed by their request or
// hold), so every call may be retried.
const client::CallPolicy kIdempotent{.deadline = absl::Seconds(3),
                                     .idempotent = true,
                                     .max_attempts = 3};

common::v1::Actor System() {
  common::v1::Actor actor;
  actor.set_channel(common::v1::SYSTEM);
  return actor;
}

}  // namespace

absl::StatusOr<mv1::Member> GrpcMembership::GetMember(
    absl::string_view member_number) {
  mv1::GetMemberRequest request;
  request.set_member_number(std::string(member_number));
  mv1::GetMemberResponse response;
  absl::Status status =
      client::Call(client_.ForMember(member_number),
                   &mv1::Membership::Stub::GetMember, request, &response,
                   kIdempotent);
  if (!status.ok()) return status;
  return response.member();
}

absl::StatusOr<mv1::VerifyPasswordResponse> GrpcMembership::VerifyPassword(
    absl::string_view member_number, absl::string_view password) {
  mv1::VerifyPasswordRequest request;
  request.set_member_number(std::string(member_number));
  request.set_password(std::string(password));
  mv1::VerifyPasswordResponse response;
  // Not retried: a repeat would count as a second attempt toward the lockout.
  absl::Status status =
      client::Call(client_.ForMember(member_number),
                   &mv1::Membership::Stub::VerifyPassword, request, &response,
                   client::CallPolicy{.deadline = absl::Seconds(3)});
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<av1::Hold> GrpcAccrual::CreateHold(
    absl::string_view member_number, int64_t miles,
    absl::string_view request_id, absl::Duration ttl,
    absl::string_view reference) {
  av1::CreateHoldRequest request;
  request.set_member_number(std::string(member_number));
  request.set_miles(miles);
  request.set_request_id(std::string(request_id));
  *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(
      absl::ToInt64Seconds(ttl));
  request.set_reference(std::string(reference));
  *request.mutable_actor() = System();
  av1::CreateHoldResponse response;
  absl::Status status =
      client::Call(client_.ForMember(member_number),
                   &av1::Accrual::Stub::CreateHold, request, &response,
                   kIdempotent);
  if (!status.ok()) return status;
  return response.hold();
}

absl::StatusOr<av1::Hold> GrpcAccrual::CaptureHold(absl::string_view hold_id) {
  av1::CaptureHoldRequest request;
  request.set_hold_id(std::string(hold_id));
  *request.mutable_actor() = System();
  av1::CaptureHoldResponse response;
  absl::Status status = client::Call(client_.For(request), &av1::Accrual::Stub::CaptureHold,
                                     request, &response, kIdempotent);
  if (!status.ok()) return status;
  return response.hold();
}

absl::StatusOr<av1::Hold> GrpcAccrual::ReleaseHold(absl::string_view hold_id,
                                                   absl::string_view reason) {
  av1::ReleaseHoldRequest request;
  request.set_hold_id(std::string(hold_id));
  request.set_reason(std::string(reason));
  *request.mutable_actor() = System();
  av1::ReleaseHoldResponse response;
  absl::Status status = client::Call(client_.For(request), &av1::Accrual::Stub::ReleaseHold,
                                     request, &response, kIdempotent);
  if (!status.ok()) return status;
  return response.hold();
}

absl::StatusOr<av1::Hold> GrpcAccrual::RedepositHold(absl::string_view hold_id,
                                                     int64_t fee_miles) {
  av1::RedepositHoldRequest request;
  request.set_hold_id(std::string(hold_id));
  request.set_fee_miles(fee_miles);
  *request.mutable_actor() = System();
  av1::RedepositHoldResponse response;
  absl::Status status =
      client::Call(client_.For(request), &av1::Accrual::Stub::RedepositHold, request,
                   &response, kIdempotent);
  if (!status.ok()) return status;
  return response.hold();
}

}  // namespace mileagebank::redemption
