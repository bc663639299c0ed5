#include "libs/store/key_locks.h"

#include <algorithm>
#include <string>

#include "absl/hash/hash.h"

namespace mileagebank::store {

KeyLocks::KeyLocks(size_t stripes)
    : stripes_(new std::mutex[stripes]), count_(stripes) {}

KeyLocks::Guard KeyLocks::Lock(std::initializer_list<absl::string_view> keys) {
  return Lock(std::vector<std::string>(keys.begin(), keys.end()));
}

KeyLocks::Guard KeyLocks::Lock(const std::vector<std::string>& keys) {
  std::vector<size_t> indexes;
  for (absl::string_view key : keys) {
    indexes.push_back(absl::Hash<absl::string_view>()(key) % count_);
  }
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  std::vector<std::mutex*> held;
  for (size_t index : indexes) {
    stripes_[index].lock();
    held.push_back(&stripes_[index]);
  }
  return Guard(std::move(held));
}

KeyLocks::Guard::Guard(std::vector<std::mutex*> held)
    : held_(std::move(held)) {}

KeyLocks::Guard::~Guard() {
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) (*it)->unlock();
}

}  // namespace mileagebank::store
