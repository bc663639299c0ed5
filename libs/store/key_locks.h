// KeyLocks: striped mutexes that serialise read-modify-write sequences on the
// same entity (a member, an account) while different entities proceed in
// parallel.
//
//   KeyLocks locks;
//   {
//     KeyLocks::Guard guard = locks.Lock({source_member, target_member});
//     ... read both members, decide, commit one batch ...
//   }
//
// Keys hash onto a fixed set of stripes; a guard over several keys takes
// their stripes in ascending order, so two guards never deadlock. Unrelated
// keys may share a stripe, which only costs parallelism. The stripes are
// plain std::mutex: a guard may hold hundreds of them (a batch of credits),
// and absl::Mutex's deadlock detector (on in the system's Abseil) costs per
// lock held. Thread-safe.
#ifndef MILEAGEBANK_LIBS_STORE_KEY_LOCKS_H_
#define MILEAGEBANK_LIBS_STORE_KEY_LOCKS_H_

#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mileagebank::store {

class KeyLocks {
 public:
  // Holds the stripes of some keys until destroyed.
  class Guard {
   public:
    Guard(Guard&& other) noexcept : held_(std::move(other.held_)) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();

   private:
    friend class KeyLocks;
    explicit Guard(std::vector<std::mutex*> held);
    std::vector<std::mutex*> held_;
  };

  explicit KeyLocks(size_t stripes = 4096);

  Guard Lock(absl::string_view key) { return Lock({key}); }
  Guard Lock(std::initializer_list<absl::string_view> keys);
  // Keys known only at run time. Always lock a set of keys in one call:
  // locking them one by one could take two keys' shared stripe twice, or
  // take stripes in an order another thread reverses.
  Guard Lock(const std::vector<std::string>& keys);

 private:
  std::unique_ptr<std::mutex[]> stripes_;
  size_t count_;
};

}  // namespace mileagebank::store

#endif  // MILEAGEBANK_LIBS_STORE_KEY_LOCKS_H_
