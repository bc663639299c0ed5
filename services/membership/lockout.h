// Password verification lockout (product rules section 1): a run of wrong
// passwords locks verification for a while; a right one resets the run.
//
// Pure state transitions over a member's lockout state, so that the rule is
// tested without a clock or a store. Thread-compatible.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_LOCKOUT_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_LOCKOUT_H_

#include "absl/time/time.h"

namespace mileagebank::membership {

struct LockoutPolicy {
  // Wrong passwords in a row that lock verification.
  int max_attempts = 5;
  absl::Duration lockout = absl::Minutes(15);
};

struct LockoutState {
  // Wrong passwords in a row since the last right one or the last lock.
  int failed_attempts = 0;
  // Verification is refused before this instant.
  absl::Time locked_until = absl::InfinitePast();

  bool operator==(const LockoutState& other) const {
    return failed_attempts == other.failed_attempts &&
           locked_until == other.locked_until;
  }
};

// Whether verification is refused at `now`, without looking at a password.
bool IsLocked(const LockoutState& state, absl::Time now);

// The state after a password check at `now` that was `correct`. Must not be
// called while IsLocked (a locked member's attempts are not checked at all).
LockoutState AfterAttempt(const LockoutState& state, bool correct,
                          absl::Time now, const LockoutPolicy& policy);

// Wrong attempts left before the next lock.
int AttemptsRemaining(const LockoutState& state, const LockoutPolicy& policy);

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_LOCKOUT_H_
