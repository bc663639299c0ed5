#include "services/accrual/decision_order.h"

#include <algorithm>

namespace mileagebank::accrual {

bool DecisionOrder::AwaitDecided(absl::string_view key, uint64_t after) {
  absl::MutexLock lock(&mutex_);
  auto decided = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    auto it = decided_.find(key);
    return it != decided_.end() && it->second >= after;
  };
  return mutex_.AwaitWithTimeout(absl::Condition(&decided), patience_);
}

void DecisionOrder::Decided(absl::string_view key, uint64_t number) {
  absl::MutexLock lock(&mutex_);
  auto it = decided_.find(key);
  if (it != decided_.end()) {
    it->second = std::max(it->second, number);
    return;
  }
  if (decided_.size() >= kMaxKeys) decided_.clear();
  decided_.emplace(std::string(key), number);
}

}  // namespace mileagebank::accrual
