#include "services/accrual/account_cache.h"

#include <utility>

namespace mileagebank::accrual {

bool AccountCache::Take(absl::string_view member, records::Account* account,
                        uint64_t* ticket) {
  absl::MutexLock lock(&mutex_);
  auto it = entries_.find(member);
  if (it == entries_.end()) return false;
  account->Swap(&it->second.account);
  *ticket = it->second.ticket;
  entries_.erase(it);
  return true;
}

void AccountCache::Put(records::Account account, uint64_t ticket) {
  if (capacity_ == 0) return;
  std::string member = account.member_number();
  absl::MutexLock lock(&mutex_);
  auto [it, inserted] = entries_.try_emplace(std::move(member));
  it->second.account.Swap(&account);
  it->second.ticket = ticket;
  if (inserted && entries_.size() > capacity_) {
    auto victim = entries_.begin();
    if (victim == it) ++victim;
    entries_.erase(victim);
  }
}

size_t AccountCache::size() const {
  absl::MutexLock lock(&mutex_);
  return entries_.size();
}

}  // namespace mileagebank::accrual
