// AccountCache: account records kept parsed in memory between decisions,
// their lots packed (packed_lots.h).
//
// A credit reads, changes and writes its member's account record; with a
// busy account (a partner file credits each member again and again) reading
// it back from RocksDB and parsing it is a large part of a decision's cost.
// The cache holds the latest record of accounts recently written, with the
// ticket of the write it came from. The store stays the truth:
// - LedgerStore puts an account in only when the batch writing it is
//   enqueued (WriteBatch::OnEnqueued), under the member's lock, so the cache
//   never holds what the store will not;
// - a decision takes the record out (no copy), and puts it back by writing
//   it; one that writes nothing leaves the account to be read from the store
//   next time;
// - it never fills from reads, so nothing older than the store's latest can
//   get in.
// Bounded: past `capacity` accounts an arbitrary one is forgotten.
//
// Thread-safe. Callers hold the member's lock (KeyLocks) around Take and
// the write that puts the record back.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_CACHE_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_CACHE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/accrual/records.pb.h"

namespace mileagebank::accrual {

class AccountCache {
 public:
  // 0: nothing is cached.
  explicit AccountCache(size_t capacity) : capacity_(capacity) {}
  AccountCache(const AccountCache&) = delete;
  AccountCache& operator=(const AccountCache&) = delete;

  // Moves the cached account of `member` into `*account` and the ticket of
  // its write into `*ticket`, leaving it uncached; false when not cached.
  bool Take(absl::string_view member, records::Account* account,
            uint64_t* ticket);
  // The latest record of `account.member_number()`, written by `ticket`.
  void Put(records::Account account, uint64_t ticket);
  size_t size() const;

 private:
  struct Entry {
    records::Account account;
    uint64_t ticket = 0;
  };
  const size_t capacity_;
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_CACHE_H_
