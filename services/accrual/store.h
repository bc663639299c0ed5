// All RocksDB access of the accrual service.
//
// Tables and keys (libs/store/keys.h encodings):
//   accounts      String(member)                       -> records.Account
//   transactions  String(member) Uint64(n)             -> v1.Transaction
//                 (id "<member>-T<n>"; a statement is a reverse scan)
//   lots          String(member) String(lot_id)        -> v1.Lot (used up)
//   keys          String(idempotency key)              -> records.KeyRecord
//   holds         String(hold_id)                      -> v1.Hold
//   hold_expiry   Int64(expires_at µs) String(hold_id) -> member (ACTIVE holds)
//   expiry        Day(expiry date) String(member)      -> "" (members with
//                 lots expiring that day)
//   claims        String(claim_id)                     -> v1.RetroClaim
//   claim_index   String("state") Int64(state) Int64(submitted µs)
//                   String(claim_id)                    -> ""
//                 String("member") String(member) Int64(submitted µs)
//                   String(claim_id)                    -> ""
//                 String("flight") String(ticket/coupon) -> claim_id (PENDING)
//   members       String(member)                       -> records.MemberState
//   partners      String(partner_code)                 -> records.PartnerState
//
// Decisions read with the *Latest methods (they see writes still in line);
// queries read what is durable. Writes go into a caller's WriteBatch.
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_STORE_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/store/store.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/accrual/account_cache.h"
#include "services/accrual/records.pb.h"

namespace mileagebank::accrual {

std::vector<std::string> AccrualTables();
// Of those, the tables StoreOptions::memtable_bloom_tables names: every
// credit first looks up its idempotency key and a pending retro-claim of
// its flight, mostly never written.
std::vector<std::string> AccrualBloomTables();

// The parts of a transaction id "<member>-T<n>"; false when malformed.
bool ParseTransactionId(absl::string_view id, std::string* member,
                        uint64_t* sequence);

class LedgerStore {
 public:
  // Up to `cached_accounts` accounts written through this LedgerStore are
  // kept parsed (account_cache.h); the ledger's LedgerStore is the only one
  // that writes accounts. Members' states (read for every credit) are kept
  // too, up to kCachedMembers; the member directory's LedgerStore is the
  // only one that writes and reads them.
  explicit LedgerStore(store::Store* store, size_t cached_accounts = 0)
      : store_(store), accounts_(cached_accounts) {}
  store::Store& raw() { return *store_; }

  // Latest reads, for decisions under the member's lock. `ticket`, when
  // given, is raised to the ticket of any write still in line that the
  // value came from. An account comes out of the cache when there (which
  // then has it again only once it is written).
  absl::StatusOr<records::Account> LatestAccount(absl::string_view member,
                                                 uint64_t* ticket = nullptr);
  // The same, packed (packed_lots.h) as stored.
  absl::StatusOr<records::Account> LatestPackedAccount(
      absl::string_view member, uint64_t* ticket = nullptr);
  absl::StatusOr<std::optional<records::KeyRecord>> LatestKey(
      absl::string_view key, uint64_t* ticket = nullptr);
  absl::StatusOr<std::optional<v1::Transaction>> LatestTransaction(
      absl::string_view transaction_id, uint64_t* ticket = nullptr);
  absl::StatusOr<std::optional<v1::Hold>> LatestHold(absl::string_view hold_id,
                                                     uint64_t* ticket = nullptr);
  absl::StatusOr<std::optional<v1::RetroClaim>> LatestClaim(
      absl::string_view claim_id, uint64_t* ticket = nullptr);
  // The PENDING claim for a flight, if any.
  absl::StatusOr<std::optional<std::string>> LatestPendingClaimFor(
      const v1::FlightIdentity& identity);
  absl::StatusOr<std::optional<records::MemberState>> LatestMember(
      absl::string_view member);
  absl::StatusOr<std::optional<records::PartnerState>> LatestPartner(
      absl::string_view partner_code);
  // A used-up lot of `member` created by `transaction_id`, if any.
  absl::StatusOr<std::optional<v1::Lot>> FindUsedLot(
      absl::string_view member, absl::string_view transaction_id);

  // Durable reads, for queries.
  absl::StatusOr<std::optional<records::Account>> Account(
      absl::string_view member);
  absl::StatusOr<std::optional<v1::Transaction>> Transaction(
      absl::string_view transaction_id);
  absl::StatusOr<std::optional<v1::Hold>> Hold(absl::string_view hold_id);
  absl::StatusOr<std::optional<v1::RetroClaim>> Claim(absl::string_view claim_id);
  // A member's transactions newest first, starting below `before_sequence`
  // (0: from the newest); `visit` returns false to stop.
  absl::Status ScanStatement(
      absl::string_view member, uint64_t before_sequence,
      const std::function<bool(uint64_t sequence, const v1::Transaction&)>&
          visit);
  absl::Status ScanUsedLots(absl::string_view member,
                            const std::function<bool(const v1::Lot&)>& visit);
  // Every account, in member order.
  absl::Status ScanAccounts(
      const std::function<bool(const records::Account&)>& visit);
  // Members with lots expiring before `day`, with those days.
  absl::StatusOr<std::vector<std::pair<absl::CivilDay, std::string>>>
  ExpiringBefore(absl::CivilDay day);
  // ACTIVE holds whose time ran out by `now`: (hold_id, member).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  HoldsExpiredBy(absl::Time now);
  // Claim ids, oldest submission first, after the claim `after_id` submitted
  // at `after_micros` (empty: from the start). By state, or by member.
  absl::StatusOr<std::vector<std::string>> ClaimsByState(
      v1::RetroClaimState state, int64_t after_micros, absl::string_view after_id,
      size_t max);
  absl::StatusOr<std::vector<std::string>> ClaimsByMember(
      absl::string_view member, int64_t after_micros, absl::string_view after_id,
      size_t max);

  // Writes.
  // Packed or not; it is stored and cached packed.
  void PutAccount(store::WriteBatch& batch, records::Account account);
  void PutTransaction(store::WriteBatch& batch,
                      const v1::Transaction& transaction);
  void PutUsedLot(store::WriteBatch& batch, const v1::Lot& lot);
  void PutKey(store::WriteBatch& batch, absl::string_view key,
              const records::KeyRecord& record);
  void PutHold(store::WriteBatch& batch, const v1::Hold& hold);
  void IndexHoldExpiry(store::WriteBatch& batch, const v1::Hold& hold);
  void UnindexHoldExpiry(store::WriteBatch& batch, const v1::Hold& hold);
  void IndexExpiry(store::WriteBatch& batch, absl::CivilDay day,
                   absl::string_view member);
  void UnindexExpiry(store::WriteBatch& batch, absl::CivilDay day,
                     absl::string_view member);
  // Puts a claim and moves its index entries from `before` (if any).
  void PutClaim(store::WriteBatch& batch, const v1::RetroClaim& claim,
                const v1::RetroClaim* before);
  void PutMember(store::WriteBatch& batch, absl::string_view member,
                 const records::MemberState& state);
  void PutPartner(store::WriteBatch& batch, absl::string_view partner_code,
                  const records::PartnerState& state);

 private:
  // Remembers `state`: written (`generation` nullopt), or read when no
  // member was written since `generation`, so that a read never puts back
  // a state older than one written meanwhile.
  void CacheMember(absl::string_view member, const records::MemberState& state,
                   std::optional<uint64_t> generation);

  store::Store* store_;
  AccountCache accounts_;
  absl::Mutex members_mutex_;
  absl::flat_hash_map<std::string, records::MemberState> members_
      ABSL_GUARDED_BY(members_mutex_);
  // Counts members' writes put in line.
  uint64_t member_writes_ ABSL_GUARDED_BY(members_mutex_) = 0;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_STORE_H_
