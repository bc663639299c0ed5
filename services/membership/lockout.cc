#include "services/membership/lockout.h"

namespace mileagebank::membership {

bool IsLocked(const LockoutState& state, absl::Time now) {
  return now < state.locked_until;
}

LockoutState AfterAttempt(const LockoutState& state, bool correct,
                          absl::Time now, const LockoutPolicy& policy) {
  if (correct) return LockoutState{};
  LockoutState next = state;
  ++next.failed_attempts;
  if (next.failed_attempts >= policy.max_attempts) {
    // After the lock ends the member gets a fresh run of attempts.
    next.failed_attempts = 0;
    next.locked_until = now + policy.lockout;
  }
  return next;
}

int AttemptsRemaining(const LockoutState& state, const LockoutPolicy& policy) {
  return policy.max_attempts - state.failed_attempts;
}

}  // namespace mileagebank::membership
