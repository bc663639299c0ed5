#include "services/gateway/ended_sessions.h"

namespace mileagebank::gateway {

void EndedSessions::Add(std::string session_id, absl::Time forget_after,
                        absl::Time now) {
  absl::MutexLock lock(&mutex_);
  Forget(now);
  if (forget_after <= now) return;  // No access token of it is left.
  auto known = by_id_.find(session_id);
  if (known != by_id_.end()) {
    const Entry& entry = by_cursor_.at(known->second);
    if (entry.forget_after >= forget_after) return;
    by_time_.erase({entry.forget_after, entry.cursor});
    by_cursor_.erase(known->second);
  }
  const int64_t cursor = ++last_cursor_;
  by_id_[session_id] = cursor;
  by_time_.emplace(forget_after, cursor);
  by_cursor_.emplace(cursor,
                     Entry{cursor, std::move(session_id), forget_after});
}

bool EndedSessions::Contains(absl::string_view session_id) const {
  absl::ReaderMutexLock lock(&mutex_);
  return by_id_.contains(session_id);
}

std::vector<EndedSessions::Entry> EndedSessions::After(int64_t after_cursor,
                                                       size_t limit) const {
  std::vector<Entry> entries;
  absl::ReaderMutexLock lock(&mutex_);
  for (auto it = by_cursor_.upper_bound(after_cursor);
       it != by_cursor_.end() && entries.size() < limit; ++it) {
    entries.push_back(it->second);
  }
  return entries;
}

int64_t EndedSessions::last_cursor() const {
  absl::ReaderMutexLock lock(&mutex_);
  return last_cursor_;
}

void EndedSessions::Forget(absl::Time now) {
  while (!by_time_.empty() && by_time_.begin()->first <= now) {
    auto entry = by_cursor_.find(by_time_.begin()->second);
    by_id_.erase(entry->second.session_id);
    by_cursor_.erase(entry);
    by_time_.erase(by_time_.begin());
  }
}

}  // namespace mileagebank::gateway
