#ifndef MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mileagebank::accrual {

// Keeps a caller's batches in its order when it has more than one in flight
// (PostActivitiesRequest.order_key / order_number / decide_after): a batch
// is decided only once the batch it names has been decided by this process.
// What was decided is known only in memory: after a restart, or once the
// caller's sequence is forgotten to bound the memory, a batch that names
// one waits in vain and is refused, and the caller sends it again once it
// has the answer to the one before. Forgetting therefore costs time, never
// order. Thread-safe.
class DecisionOrder {
 public:
  // `patience`: how long a batch waits for the one it names.
  explicit DecisionOrder(absl::Duration patience) : patience_(patience) {}

  // Whether batch `after` of `key` (or a later one) has been decided here,
  // waiting up to the patience for it.
  bool AwaitDecided(absl::string_view key, uint64_t after);

  // Batch `number` of `key` is decided: its writes are in line, so the
  // batch after it reads them.
  void Decided(absl::string_view key, uint64_t number);

 private:
  // Sequences remembered at most; more forget them all.
  static constexpr size_t kMaxKeys = 1024;

  const absl::Duration patience_;
  absl::Mutex mutex_;
  // Per key, the highest order_number decided.
  absl::flat_hash_map<std::string, uint64_t> decided_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_DECISION_ORDER_H_
