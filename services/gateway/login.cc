#include "services/gateway/login.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/member_number.h"

namespace mileagebank::gateway {
namespace {

namespace mv1 = membership::v1;
using google::protobuf::util::TimeUtil;

absl::Status WrongLogin() {
  return absl::UnauthenticatedError(kWrongLoginMessage);
}

bool Unreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// Membership's failure as the login's answer: who it was about, and why,
// stay inside the gateway's log.
absl::Status LoginFailure(const absl::Status& status, absl::string_view step) {
  if (Unreachable(status)) {
    log::Warning("login_membership_unavailable",
                 {{"step", step}, {"error", status.ToString()}});
    return absl::UnavailableError(
        "membership is not answering; try again shortly");
  }
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status) ||
      absl::IsFailedPrecondition(status)) {
    log::Info("login_refused", {{"step", step}, {"reason", status.message()}});
    return WrongLogin();
  }
  return status;
}

}  // namespace

absl::StatusOr<std::string> GrpcMemberDirectory::FindByEmail(
    absl::string_view email) {
  mv1::FindMembersRequest request;
  request.set_email(std::string(email));
  // An address may be on any shard.
  mv1::FindMembersResponse response;
  for (int shard = 0; shard < membership_->shard_count(); ++shard) {
    mv1::FindMembersResponse part;
    MB_RETURN_IF_ERROR(client::Call(
        membership_->Shard(shard), &mv1::Membership::Stub::FindMembers, request,
        &part, client::CallPolicy{.deadline = deadline_, .idempotent = true}));
    response.MergeFrom(part);
  }
  std::string found;
  for (const mv1::Member& member : response.members()) {
    if (member.status() == mv1::MERGED) continue;
    // Two members sharing an address cannot log in with it: neither is
    // guessed, both can use their member number.
    if (!found.empty()) {
      return absl::NotFoundError("e-mail address names more than one member");
    }
    found = member.member_number();
  }
  if (found.empty()) return absl::NotFoundError("no member has this e-mail");
  return found;
}

absl::StatusOr<PasswordCheck> GrpcMemberDirectory::VerifyPassword(
    absl::string_view member_number, absl::string_view password) {
  mv1::VerifyPasswordRequest request;
  request.set_member_number(std::string(member_number));
  request.set_password(std::string(password));
  mv1::VerifyPasswordResponse response;
  // Not retried: a repeat would count as a second attempt toward the lockout.
  MB_RETURN_IF_ERROR(client::Call(
      membership_->ForMember(member_number),
      &mv1::Membership::Stub::VerifyPassword, request, &response,
      client::CallPolicy{.deadline = deadline_, .idempotent = false}));
  PasswordCheck check;
  check.verified = response.verified();
  check.attempts_remaining = response.attempts_remaining();
  if (response.has_locked_until()) {
    check.locked_until = absl::FromUnixMicros(
        TimeUtil::TimestampToMicroseconds(response.locked_until()));
  }
  return check;
}

absl::StatusOr<v1::LoginResponse> MemberLogin::Login(
    absl::string_view login, absl::string_view password) {
  login = absl::StripAsciiWhitespace(login);
  FieldErrors errors;
  if (login.empty()) errors.Add("login", "required");
  if (password.empty()) errors.Add("password", "required");
  MB_RETURN_IF_ERROR(errors.ToStatus());

  std::string member_number;
  if (absl::StrContains(login, '@')) {
    absl::StatusOr<std::string> found = directory_->FindByEmail(login);
    if (!found.ok()) {
      return RefusedUnchecked(found.status(), "find_by_email",
                              absl::ZeroDuration());
    }
    member_number = *std::move(found);
  } else {
    // A mistyped number is refused here, without an attempt at membership,
    // and in the same words as a wrong password.
    if (!validation::ValidateMemberNumber("login", login).ok()) {
      return WrongLogin();
    }
    member_number = std::string(login);
  }

  const absl::Time asked = clock_();
  absl::StatusOr<PasswordCheck> check =
      directory_->VerifyPassword(member_number, password);
  const absl::Duration took = clock_() - asked;
  if (!check.ok()) {
    return RefusedUnchecked(check.status(), "verify_password", took);
  }
  // A locked member's attempt is refused before the hash, and says so.
  if (check->locked_until == absl::InfinitePast()) RecordCheck(took);
  if (check->verified) return sessions_->Start(member_number);
  if (check->locked_until != absl::InfinitePast()) {
    log::Info("login_locked", {{"member_number", member_number}});
    return absl::FailedPreconditionError(absl::StrCat(
        "too many wrong passwords: login is locked until ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", check->locked_until,
                         absl::UTCTimeZone())));
  }
  log::Info("login_wrong_password",
            {{"member_number", member_number},
             {"attempts_remaining", check->attempts_remaining}});
  return WrongLogin();
}

absl::Status MemberLogin::RefusedUnchecked(const absl::Status& failure,
                                           absl::string_view step,
                                           absl::Duration spent) {
  absl::Status answer = LoginFailure(failure, step);
  if (!absl::IsUnauthenticated(answer)) return answer;
  absl::Duration typical;
  {
    absl::MutexLock lock(&mutex_);
    typical = typical_check_;
  }
  if (typical > spent) sleep_(typical - spent);
  return answer;
}

void MemberLogin::RecordCheck(absl::Duration took) {
  absl::MutexLock lock(&mutex_);
  // Weighs the last few dozen checks: follows a change of hash settings or
  // load within a minute of logins, not one slow answer.
  typical_check_ = typical_check_ == absl::ZeroDuration()
                       ? took
                       : typical_check_ + (took - typical_check_) / 16;
}

}  // namespace mileagebank::gateway
