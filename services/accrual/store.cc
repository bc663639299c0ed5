#include "services/accrual/store.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "services/accrual/packed_lots.h"

namespace mileagebank::accrual {
namespace {

using store::KeyBuilder;
using store::KeyReader;

constexpr absl::string_view kAccounts = "accounts";
constexpr absl::string_view kTransactions = "transactions";
constexpr absl::string_view kLots = "lots";
constexpr absl::string_view kKeys = "keys";
constexpr absl::string_view kHolds = "holds";
constexpr absl::string_view kHoldExpiry = "hold_expiry";
constexpr absl::string_view kExpiry = "expiry";
constexpr absl::string_view kClaims = "claims";
constexpr absl::string_view kClaimIndex = "claim_index";
constexpr absl::string_view kMembers = "members";
constexpr absl::string_view kPartners = "partners";
// Members' states kept in memory (about 100 bytes each).
constexpr size_t kCachedMembers = 200'000;

std::string One(absl::string_view part) {
  return KeyBuilder().String(part).Build();
}

int64_t Micros(const google::protobuf::Timestamp& timestamp) {
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(timestamp);
}

std::string TransactionKey(absl::string_view member, uint64_t sequence) {
  return KeyBuilder().String(member).Uint64(sequence).Build();
}

std::string HoldExpiryKey(const v1::Hold& hold) {
  return KeyBuilder().Int64(Micros(hold.expires_at())).String(hold.hold_id()).Build();
}

std::string FlightKey(const v1::FlightIdentity& identity) {
  return absl::StrCat(identity.ticket_number(), "/", identity.coupon_number());
}

std::string ClaimStateKey(const v1::RetroClaim& claim) {
  return KeyBuilder()
      .String("state")
      .Int64(claim.state())
      .Int64(Micros(claim.submitted_at()))
      .String(claim.claim_id())
      .Build();
}

std::string ClaimMemberKey(const v1::RetroClaim& claim) {
  return KeyBuilder()
      .String("member")
      .String(claim.member_number())
      .Int64(Micros(claim.submitted_at()))
      .String(claim.claim_id())
      .Build();
}

std::string ClaimFlightKey(const v1::RetroClaim& claim) {
  return KeyBuilder().String("flight").String(FlightKey(claim.flight_identity())).Build();
}

// GetLatest parsed, raising *ticket to the value's ticket.
template <typename Message>
absl::StatusOr<std::optional<Message>> LatestProto(store::Store* store,
                                                   absl::string_view table,
                                                   absl::string_view key,
                                                   uint64_t* ticket) {
  Message message;
  uint64_t value_ticket = 0;
  absl::StatusOr<bool> found =
      store->GetLatestProto(table, key, &message, &value_ticket);
  if (!found.ok()) return found.status();
  if (ticket != nullptr) *ticket = std::max(*ticket, value_ticket);
  if (!*found) return std::nullopt;
  return message;
}

template <typename Message>
absl::StatusOr<std::optional<Message>> DurableProto(store::Store* store,
                                                    absl::string_view table,
                                                    absl::string_view key) {
  Message message;
  absl::StatusOr<bool> found = store->GetProto(table, key, &message);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return message;
}

// Claim ids under an index prefix, after a position.
absl::StatusOr<std::vector<std::string>> ClaimIds(store::Store* store,
                                                  const std::string& prefix,
                                                  int64_t after_micros,
                                                  absl::string_view after_id,
                                                  size_t max) {
  store::ScanRange range = store::PrefixRange(prefix);
  if (!after_id.empty()) {
    range.start = KeyBuilder(prefix).Int64(after_micros).String(after_id).Build();
    range.start.push_back('\0');  // Just after that claim.
  }
  std::vector<std::string> ids;
  MB_RETURN_IF_ERROR(store->ScanChecked(
      kClaimIndex, range,
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        int64_t micros;
        std::string id;
        if (!reader.Int64(&micros) || !reader.String(&id)) {
          return absl::DataLossError("accrual claim index: malformed key");
        }
        ids.push_back(std::move(id));
        return ids.size() < max;
      }));
  return ids;
}

}  // namespace

std::vector<std::string> AccrualTables() {
  return {std::string(kAccounts),   std::string(kTransactions),
          std::string(kLots),       std::string(kKeys),
          std::string(kHolds),      std::string(kHoldExpiry),
          std::string(kExpiry),     std::string(kClaims),
          std::string(kClaimIndex), std::string(kMembers),
          std::string(kPartners)};
}

std::vector<std::string> AccrualBloomTables() {
  return {std::string(kKeys), std::string(kClaimIndex)};
}

bool ParseTransactionId(absl::string_view id, std::string* member,
                        uint64_t* sequence) {
  size_t dash = id.rfind("-T");
  if (dash == absl::string_view::npos || dash == 0) return false;
  if (!absl::SimpleAtoi(id.substr(dash + 2), sequence)) return false;
  *member = std::string(id.substr(0, dash));
  return true;
}

absl::StatusOr<records::Account> LedgerStore::LatestAccount(
    absl::string_view member, uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(records::Account account,
                      LatestPackedAccount(member, ticket));
  MB_RETURN_IF_ERROR(UnpackAccount(account));
  return account;
}

absl::StatusOr<records::Account> LedgerStore::LatestPackedAccount(
    absl::string_view member, uint64_t* ticket) {
  records::Account cached;
  uint64_t cached_ticket = 0;
  if (accounts_.Take(member, &cached, &cached_ticket)) {
    if (ticket != nullptr) *ticket = std::max(*ticket, cached_ticket);
    return cached;
  }
  MB_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      store_->GetLatest(kAccounts, One(member), ticket));
  records::Account account;
  if (bytes) {
    MB_RETURN_IF_ERROR(ParsePackedAccount(*bytes, &account));
  } else {
    account.set_member_number(std::string(member));
  }
  return account;
}

absl::StatusOr<std::optional<records::KeyRecord>> LedgerStore::LatestKey(
    absl::string_view key, uint64_t* ticket) {
  return LatestProto<records::KeyRecord>(store_, kKeys, One(key), ticket);
}

absl::StatusOr<std::optional<v1::Transaction>> LedgerStore::LatestTransaction(
    absl::string_view transaction_id, uint64_t* ticket) {
  std::string member;
  uint64_t sequence;
  if (!ParseTransactionId(transaction_id, &member, &sequence)) {
    return std::nullopt;
  }
  return LatestProto<v1::Transaction>(store_, kTransactions,
                                      TransactionKey(member, sequence), ticket);
}

absl::StatusOr<std::optional<v1::Hold>> LedgerStore::LatestHold(
    absl::string_view hold_id, uint64_t* ticket) {
  return LatestProto<v1::Hold>(store_, kHolds, One(hold_id), ticket);
}

absl::StatusOr<std::optional<v1::RetroClaim>> LedgerStore::LatestClaim(
    absl::string_view claim_id, uint64_t* ticket) {
  return LatestProto<v1::RetroClaim>(store_, kClaims, One(claim_id), ticket);
}

absl::StatusOr<std::optional<std::string>> LedgerStore::LatestPendingClaimFor(
    const v1::FlightIdentity& identity) {
  return store_->GetLatest(
      kClaimIndex, KeyBuilder().String("flight").String(FlightKey(identity)).Build());
}

absl::StatusOr<std::optional<records::MemberState>> LedgerStore::LatestMember(
    absl::string_view member) {
  uint64_t generation;
  {
    absl::MutexLock lock(&members_mutex_);
    auto it = members_.find(member);
    if (it != members_.end()) return it->second;
    generation = member_writes_;
  }
  auto state =
      LatestProto<records::MemberState>(store_, kMembers, One(member), nullptr);
  if (state.ok() && state->has_value()) CacheMember(member, **state, generation);
  return state;
}

void LedgerStore::CacheMember(absl::string_view member,
                              const records::MemberState& state,
                              std::optional<uint64_t> generation) {
  absl::MutexLock lock(&members_mutex_);
  if (!generation.has_value()) {
    ++member_writes_;
  } else if (*generation != member_writes_) {
    return;
  }
  auto [it, inserted] = members_.insert_or_assign(std::string(member), state);
  if (inserted && members_.size() > kCachedMembers) {
    auto victim = members_.begin();
    if (victim == it) ++victim;
    members_.erase(victim);
  }
}

absl::StatusOr<std::optional<records::PartnerState>> LedgerStore::LatestPartner(
    absl::string_view partner_code) {
  return LatestProto<records::PartnerState>(store_, kPartners,
                                            One(partner_code), nullptr);
}

absl::StatusOr<std::optional<v1::Lot>> LedgerStore::FindUsedLot(
    absl::string_view member, absl::string_view transaction_id) {
  std::optional<v1::Lot> found;
  absl::Status scanned = ScanUsedLots(member, [&](const v1::Lot& lot) {
    if (lot.transaction_id() == transaction_id) found = lot;
    return !found.has_value();
  });
  if (!scanned.ok()) return scanned;
  return found;
}

absl::StatusOr<std::optional<records::Account>> LedgerStore::Account(
    absl::string_view member) {
  MB_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      store_->Get(kAccounts, One(member)));
  if (!bytes) return std::nullopt;
  records::Account account;
  MB_RETURN_IF_ERROR(ParseStoredAccount(*bytes, &account));
  return account;
}

absl::StatusOr<std::optional<v1::Transaction>> LedgerStore::Transaction(
    absl::string_view transaction_id) {
  std::string member;
  uint64_t sequence;
  if (!ParseTransactionId(transaction_id, &member, &sequence)) {
    return std::nullopt;
  }
  return DurableProto<v1::Transaction>(store_, kTransactions,
                                       TransactionKey(member, sequence));
}

absl::StatusOr<std::optional<v1::Hold>> LedgerStore::Hold(
    absl::string_view hold_id) {
  return DurableProto<v1::Hold>(store_, kHolds, One(hold_id));
}

absl::StatusOr<std::optional<v1::RetroClaim>> LedgerStore::Claim(
    absl::string_view claim_id) {
  return DurableProto<v1::RetroClaim>(store_, kClaims, One(claim_id));
}

absl::Status LedgerStore::ScanStatement(
    absl::string_view member, uint64_t before_sequence,
    const std::function<bool(uint64_t, const v1::Transaction&)>& visit) {
  const std::string prefix = One(member);
  store::ScanRange range = store::PrefixRange(prefix);
  range.reverse = true;
  if (before_sequence != 0) range.end = TransactionKey(member, before_sequence);
  return store_->ScanChecked(
      kTransactions, range,
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        uint64_t sequence;
        v1::Transaction transaction;
        if (!reader.Uint64(&sequence) ||
            !transaction.ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError("accrual transactions: malformed");
        }
        return visit(sequence, transaction);
      });
}

absl::Status LedgerStore::ScanUsedLots(
    absl::string_view member, const std::function<bool(const v1::Lot&)>& visit) {
  return store_->ScanChecked(
      kLots, store::PrefixRange(One(member)),
      [&](absl::string_view, absl::string_view value) -> absl::StatusOr<bool> {
        v1::Lot lot;
        if (!lot.ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError("accrual lots: malformed");
        }
        return visit(lot);
      });
}

absl::Status LedgerStore::ScanAccounts(
    const std::function<bool(const records::Account&)>& visit) {
  return store_->ScanChecked(
      kAccounts, store::ScanRange{},
      [&](absl::string_view, absl::string_view value) -> absl::StatusOr<bool> {
        records::Account account;
        MB_RETURN_IF_ERROR(ParseStoredAccount(value, &account));
        return visit(account);
      });
}

absl::StatusOr<std::vector<std::pair<absl::CivilDay, std::string>>>
LedgerStore::ExpiringBefore(absl::CivilDay day) {
  std::vector<std::pair<absl::CivilDay, std::string>> due;
  store::ScanRange range{"", KeyBuilder().Day(day).Build()};
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kExpiry, range,
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        KeyReader reader(key);
        absl::CivilDay expiry;
        std::string member;
        if (!reader.Day(&expiry) || !reader.String(&member)) {
          return absl::DataLossError("accrual expiry index: malformed");
        }
        due.emplace_back(expiry, std::move(member));
        return true;
      }));
  return due;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
LedgerStore::HoldsExpiredBy(absl::Time now) {
  std::vector<std::pair<std::string, std::string>> due;
  store::ScanRange range{"", KeyBuilder().Int64(absl::ToUnixMicros(now) + 1).Build()};
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kHoldExpiry, range,
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        KeyReader reader(key);
        int64_t micros;
        std::string hold_id;
        if (!reader.Int64(&micros) || !reader.String(&hold_id)) {
          return absl::DataLossError("accrual hold expiry: malformed");
        }
        due.emplace_back(std::move(hold_id), std::string(value));
        return due.size() < 10'000;
      }));
  return due;
}

absl::StatusOr<std::vector<std::string>> LedgerStore::ClaimsByState(
    v1::RetroClaimState state, int64_t after_micros, absl::string_view after_id,
    size_t max) {
  return ClaimIds(store_, KeyBuilder().String("state").Int64(state).Build(),
                  after_micros, after_id, max);
}

absl::StatusOr<std::vector<std::string>> LedgerStore::ClaimsByMember(
    absl::string_view member, int64_t after_micros, absl::string_view after_id,
    size_t max) {
  return ClaimIds(store_, KeyBuilder().String("member").String(member).Build(),
                  after_micros, after_id, max);
}

void LedgerStore::PutAccount(store::WriteBatch& batch,
                             records::Account account) {
  PackAccount(account);
  batch.Put(kAccounts, One(account.member_number()), StoredAccount(account));
  batch.OnEnqueued(
      [this, cached = std::make_shared<records::Account>(std::move(account))](
          uint64_t ticket) { accounts_.Put(std::move(*cached), ticket); });
}

void LedgerStore::PutTransaction(store::WriteBatch& batch,
                                 const v1::Transaction& transaction) {
  std::string member;
  uint64_t sequence = 0;
  ParseTransactionId(transaction.transaction_id(), &member, &sequence);
  batch.PutProto(kTransactions, TransactionKey(member, sequence), transaction);
}

void LedgerStore::PutUsedLot(store::WriteBatch& batch, const v1::Lot& lot) {
  batch.PutProto(kLots,
                 KeyBuilder().String(lot.member_number()).String(lot.lot_id()).Build(),
                 lot);
}

void LedgerStore::PutKey(store::WriteBatch& batch, absl::string_view key,
                         const records::KeyRecord& record) {
  batch.PutProto(kKeys, One(key), record);
}

void LedgerStore::PutHold(store::WriteBatch& batch, const v1::Hold& hold) {
  batch.PutProto(kHolds, One(hold.hold_id()), hold);
}

void LedgerStore::IndexHoldExpiry(store::WriteBatch& batch, const v1::Hold& hold) {
  batch.Put(kHoldExpiry, HoldExpiryKey(hold), hold.member_number());
}

void LedgerStore::UnindexHoldExpiry(store::WriteBatch& batch,
                                    const v1::Hold& hold) {
  batch.Delete(kHoldExpiry, HoldExpiryKey(hold));
}

void LedgerStore::IndexExpiry(store::WriteBatch& batch, absl::CivilDay day,
                              absl::string_view member) {
  batch.Put(kExpiry, KeyBuilder().Day(day).String(member).Build(), "");
}

void LedgerStore::UnindexExpiry(store::WriteBatch& batch, absl::CivilDay day,
                                absl::string_view member) {
  batch.Delete(kExpiry, KeyBuilder().Day(day).String(member).Build());
}

void LedgerStore::PutClaim(store::WriteBatch& batch,
                           const v1::RetroClaim& claim,
                           const v1::RetroClaim* before) {
  if (before != nullptr) {
    batch.Delete(kClaimIndex, ClaimStateKey(*before));
    batch.Delete(kClaimIndex, ClaimMemberKey(*before));
    if (before->state() == v1::CLAIM_PENDING) {
      batch.Delete(kClaimIndex, ClaimFlightKey(*before));
    }
  }
  batch.PutProto(kClaims, One(claim.claim_id()), claim);
  batch.Put(kClaimIndex, ClaimStateKey(claim), "");
  batch.Put(kClaimIndex, ClaimMemberKey(claim), "");
  if (claim.state() == v1::CLAIM_PENDING) {
    batch.Put(kClaimIndex, ClaimFlightKey(claim), claim.claim_id());
  }
}

void LedgerStore::PutMember(store::WriteBatch& batch, absl::string_view member,
                            const records::MemberState& state) {
  batch.PutProto(kMembers, One(member), state);
  batch.OnEnqueued([this, member = std::string(member), state](uint64_t) {
    CacheMember(member, state, std::nullopt);
  });
}

void LedgerStore::PutPartner(store::WriteBatch& batch,
                             absl::string_view partner_code,
                             const records::PartnerState& state) {
  batch.PutProto(kPartners, One(partner_code), state);
}

}  // namespace mileagebank::accrual
