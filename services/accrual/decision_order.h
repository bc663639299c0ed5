#ifndef MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mileagebank::accrual {

// Keeps a caller's batches in its order when it has two in flight
// (PostActivitiesRequest.order_key / order_number / decide_after): a batch
// waits while the batch it names is being decided here. Only batches in
// progress are known, so nothing grows and a batch whose predecessor was
// decided earlier (or by another shard, or before a restart) never waits.
// Thread-safe.
class DecisionOrder {
 public:
  // A batch's place while it is being decided; leaving it (or destroying
  // it) lets the batches that wait for it go on.
  class Turn {
   public:
    Turn() = default;
    Turn(Turn&& other) noexcept { *this = std::move(other); }
    Turn& operator=(Turn&& other) noexcept;
    ~Turn() { Leave(); }
    // Blocks while the batch this one is to be decided after is in progress.
    void Await();
    void Leave();

   private:
    friend class DecisionOrder;
    DecisionOrder* order_ = nullptr;
    std::string key_;
    uint64_t number_ = 0;
    uint64_t after_ = 0;
  };

  // Enters batch `number` of `key`, to be decided after batch `after` (0:
  // after none). An empty key takes no part in any order.
  Turn Enter(absl::string_view key, uint64_t number, uint64_t after);

 private:
  using Place = std::pair<std::string, uint64_t>;
  absl::Mutex mutex_;
  absl::flat_hash_set<Place> deciding_ ABSL_GUARDED_BY(mutex_);
  // Signalled whenever a batch leaves.
  absl::CondVar left_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_
