// EndedSessions: the sessions ended early whose access tokens may still be
// unexpired, each until the time after which none of its tokens is left.
// Every access token check asks it, so it lives in memory; it forgets a
// session once that time passes.
//
// The store-backed Sessions keep one (reloaded from the store at start) and
// number each entry as it is added, so that fronts can follow it by cursor
// (GatewayState's ListEndedSessions); each front keeps its own copy, filled
// from that feed and by its own logouts.
//
//   EndedSessions ended;
//   ended.Add(session_id, access_expires, absl::Now());
//   if (ended.Contains(claims.session_id)) ...refuse...
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_ENDED_SESSIONS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_ENDED_SESSIONS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mileagebank::gateway {

class EndedSessions {
 public:
  struct Entry {
    // Increasing in the order entries were added to this set.
    int64_t cursor = 0;
    std::string session_id;
    absl::Time forget_after;
  };

  // Remembers `session_id` until `forget_after` (keeping the later time if
  // it is known already), and forgets those whose time is not after `now`.
  void Add(std::string session_id, absl::Time forget_after, absl::Time now);

  bool Contains(absl::string_view session_id) const;

  // The entries still remembered that were added after `after_cursor`,
  // oldest first, at most `limit`.
  std::vector<Entry> After(int64_t after_cursor, size_t limit) const;

  // The cursor of the latest entry added (0 before any).
  int64_t last_cursor() const;

 private:
  void Forget(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  int64_t last_cursor_ ABSL_GUARDED_BY(mutex_) = 0;
  // session_id -> its entry's cursor.
  absl::flat_hash_map<std::string, int64_t> by_id_ ABSL_GUARDED_BY(mutex_);
  std::map<int64_t, Entry> by_cursor_ ABSL_GUARDED_BY(mutex_);
  // (forget_after, cursor), soonest first.
  std::set<std::pair<absl::Time, int64_t>> by_time_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_ENDED_SESSIONS_H_
