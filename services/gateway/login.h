// Login: a member proves who they are with their member number or e-mail
// address and password, and gets a session (sessions.h).
//
// Passwords and their lockout belong to membership, so the gateway asks it
// (through MemberDirectory, an interface so tests need no membership). The
// answers are shaped so that a caller learns as little as possible:
// - an unknown member number or e-mail, a malformed login, a member with no
//   password and a wrong password are all UNAUTHENTICATED "member number,
//   e-mail or password is wrong", so logins cannot be used to find out who
//   is a member;
// - a locked member is FAILED_PRECONDITION with the unlock time (membership
//   locks after 5 wrong attempts in a row), so the member knows to wait;
// - membership not answering is UNAVAILABLE: the caller may try again, and
//   must not be told their password was wrong.
// A wrong login that never reached a password check (no such member or
// e-mail, no password) is answered no sooner than a typical check takes
// (a running average of membership's answers to checked passwords): the
// check is a deliberately slow Argon2id hash, whose absence would otherwise
// tell who is a member by the time the answer takes.
//
//   GrpcMemberDirectory directory(&membership_client, absl::Seconds(5));
//   MemberLogin login(&directory, sessions.get());
//   absl::StatusOr<v1::LoginResponse> pair = login.Login(request);
//
// Thread-safe when the directory is.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_LOGIN_H_
#define MILEAGEBANK_SERVICES_GATEWAY_LOGIN_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/client/client.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "services/gateway/state.h"

namespace mileagebank::gateway {

// The message of every wrong login, whatever was wrong.
inline constexpr absl::string_view kWrongLoginMessage =
    "member number, e-mail or password is wrong";

// Membership's answer to one password attempt.
struct PasswordCheck {
  bool verified = false;
  // Wrong attempts left before the member is locked.
  int attempts_remaining = 0;
  // InfinitePast unless the member is locked until then.
  absl::Time locked_until = absl::InfinitePast();
};

// What login needs of membership.
class MemberDirectory {
 public:
  virtual ~MemberDirectory() = default;
  // The member number of the one member (not merged) with `email`;
  // NOT_FOUND when there is none or more than one.
  virtual absl::StatusOr<std::string> FindByEmail(absl::string_view email) = 0;
  // Checks one attempt (which counts toward the lockout). NOT_FOUND for an
  // unknown member, FAILED_PRECONDITION for one without a password or
  // merged, INVALID_ARGUMENT for a malformed number, UNAVAILABLE or
  // DEADLINE_EXCEEDED when membership does not answer.
  virtual absl::StatusOr<PasswordCheck> VerifyPassword(
      absl::string_view member_number, absl::string_view password) = 0;
};

// MemberDirectory over membership's FindMembers and VerifyPassword.
class GrpcMemberDirectory final : public MemberDirectory {
 public:
  // `membership` outlives the directory; `deadline` bounds each call.
  GrpcMemberDirectory(
      client::ServiceClient<membership::v1::Membership>* membership,
      absl::Duration deadline)
      : membership_(membership), deadline_(deadline) {}

  absl::StatusOr<std::string> FindByEmail(absl::string_view email) override;
  absl::StatusOr<PasswordCheck> VerifyPassword(
      absl::string_view member_number, absl::string_view password) override;

 private:
  client::ServiceClient<membership::v1::Membership>* const membership_;
  const absl::Duration deadline_;
};

class MemberLogin {
 public:
  using Clock = std::function<absl::Time()>;
  using Sleep = std::function<void(absl::Duration)>;

  // Both outlive the MemberLogin.
  MemberLogin(MemberDirectory* directory, SessionRegistry* sessions,
              Clock clock = absl::Now, Sleep sleep = absl::SleepFor)
      : directory_(directory),
        sessions_(sessions),
        clock_(std::move(clock)),
        sleep_(std::move(sleep)) {}

  // A new session for the member `login` (member number or e-mail address)
  // names, when `password` is theirs. INVALID_ARGUMENT when either is empty;
  // otherwise as the file comment says.
  absl::StatusOr<v1::LoginResponse> Login(absl::string_view login,
                                          absl::string_view password);

 private:
  // Membership's refusal of an unknown login, answered no sooner than a
  // typical password check would have been, `spent` having passed already
  // in calls to membership that did not check a password.
  absl::Status RefusedUnchecked(const absl::Status& failure,
                                absl::string_view step, absl::Duration spent);
  void RecordCheck(absl::Duration took);

  MemberDirectory* const directory_;
  SessionRegistry* const sessions_;
  const Clock clock_;
  const Sleep sleep_;

  absl::Mutex mutex_;
  // Running average of a password check's round trip; zero before the
  // first.
  absl::Duration typical_check_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_LOGIN_H_
