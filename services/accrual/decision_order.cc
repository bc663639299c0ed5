#include "services/accrual/decision_order.h"

namespace mileagebank::accrual {

DecisionOrder::Turn DecisionOrder::Enter(absl::string_view key, uint64_t number,
                                         uint64_t after) {
  Turn turn;
  if (key.empty()) return turn;
  absl::MutexLock lock(&mutex_);
  // A second batch under the same place (a caller's retry while the first
  // is still here) takes no part: the first one holds the place.
  if (!deciding_.emplace(std::string(key), number).second) return turn;
  turn.order_ = this;
  turn.key_ = std::string(key);
  turn.number_ = number;
  turn.after_ = after;
  return turn;
}

DecisionOrder::Turn& DecisionOrder::Turn::operator=(Turn&& other) noexcept {
  if (this != &other) {
    Leave();
    order_ = std::exchange(other.order_, nullptr);
    key_ = std::move(other.key_);
    number_ = other.number_;
    after_ = other.after_;
  }
  return *this;
}

void DecisionOrder::Turn::Await() {
  if (order_ == nullptr || after_ == 0) return;
  const Place before(key_, after_);
  absl::MutexLock lock(&order_->mutex_);
  while (order_->deciding_.contains(before))
    order_->left_.Wait(&order_->mutex_);
}

void DecisionOrder::Turn::Leave() {
  if (order_ == nullptr) return;
  absl::MutexLock lock(&order_->mutex_);
  order_->deciding_.erase(Place(key_, number_));
  order_->left_.SignalAll();
  order_ = nullptr;
}

}  // namespace mileagebank::accrual
