// Ledger: the accrual service's operations, one per RPC, over the mileage
// accounts (product rules sections 3 and 4).
//
// Every write follows one pattern: validate the whole request; take the
// locks of the member(s) and the idempotency key; read what the decision
// needs with the store's latest reads (which see writes still in line);
// decide with the plain rules of earning_rules.h and account.h; put the
// changes and their events in one batch and enqueue it; release the locks;
// wait until the batch is durable; answer. Because the locks are not held
// across the fsync, one busy account keeps many decisions in flight, and
// the store writes them in the order they were decided.
//
// The operations are split over files by subject: ledger.cc (credits,
// adjustments, reversals, purchases, transfers, merges), holds.cc,
// claims.cc, account_queries.cc (balance, statement, lots, expiry, verify).
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_LEDGER_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_LEDGER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/airports/airports.h"
#include "libs/store/key_locks.h"
#include "libs/tiers/tiers.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/config/v1/accrual.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/accrual/account.h"
#include "services/accrual/decision_order.h"
#include "services/accrual/earning_rules.h"
#include "services/accrual/member_directory.h"
#include "services/accrual/partner_directory.h"
#include "services/accrual/store.h"

namespace mileagebank::accrual {

struct LedgerOptions {
  // This process's shard (server.shard_index/shard_count): members of other
  // shards are refused rather than given a second account here.
  int shard_index = 0;
  int shard_count = 1;
  std::string host_carrier = "FM";
  EarningTable own_earning = EarningTable::ProductDefault(500);
  BonusPercents bonus;
  tiers::TierThresholds thresholds;
  int lot_months = 36;
  int claim_months = 6;
  int64_t purchase_limit_per_year = 50'000;
  int64_t receive_limit_per_year = 100'000;
  int64_t transfer_fee = 1'000;
  absl::Duration hold_ttl = absl::Hours(72);
  // Accounts kept parsed between decisions (account_cache.h).
  size_t cached_accounts = 20'000;
  // How long a batch that names the batch to be decided before it
  // (PostActivitiesRequest.decide_after) waits for that one.
  absl::Duration order_patience = absl::Seconds(2);

  static absl::StatusOr<LedgerOptions> FromConfig(
      const config::v1::AccrualConfig& config);
};

class Ledger {
 public:
  using Clock = std::function<absl::Time()>;

  // Everything passed in outlives the Ledger.
  Ledger(store::Store* store, const airports::AirportTable* airports,
         PartnerDirectory* partners, MemberDirectory* members,
         LedgerOptions options, prometheus::Registry& metrics,
         Clock clock = absl::Now);

  absl::StatusOr<v1::PostOwnFlightResponse> PostOwnFlight(
      const v1::PostOwnFlightRequest& request);
  absl::StatusOr<v1::PostPartnerFlightResponse> PostPartnerFlight(
      const v1::PostPartnerFlightRequest& request);
  absl::StatusOr<v1::PostPartnerActivityResponse> PostPartnerActivity(
      const v1::PostPartnerActivityRequest& request);
  absl::StatusOr<v1::PostActivitiesResponse> PostActivities(
      const v1::PostActivitiesRequest& request);

  absl::StatusOr<v1::SubmitRetroClaimResponse> SubmitRetroClaim(
      const v1::SubmitRetroClaimRequest& request);
  absl::StatusOr<v1::GetRetroClaimResponse> GetRetroClaim(
      const v1::GetRetroClaimRequest& request);
  absl::StatusOr<v1::ListRetroClaimsResponse> ListRetroClaims(
      const v1::ListRetroClaimsRequest& request);
  absl::StatusOr<v1::ApproveRetroClaimResponse> ApproveRetroClaim(
      const v1::ApproveRetroClaimRequest& request);
  absl::StatusOr<v1::RejectRetroClaimResponse> RejectRetroClaim(
      const v1::RejectRetroClaimRequest& request);

  absl::StatusOr<v1::AdjustMilesResponse> AdjustMiles(
      const v1::AdjustMilesRequest& request);
  absl::StatusOr<v1::ReverseCreditResponse> ReverseCredit(
      const v1::ReverseCreditRequest& request);
  absl::StatusOr<v1::PurchaseMilesResponse> PurchaseMiles(
      const v1::PurchaseMilesRequest& request);
  absl::StatusOr<v1::TransferMilesResponse> TransferMiles(
      const v1::TransferMilesRequest& request);

  absl::StatusOr<v1::CreateHoldResponse> CreateHold(
      const v1::CreateHoldRequest& request);
  absl::StatusOr<v1::CaptureHoldResponse> CaptureHold(
      const v1::CaptureHoldRequest& request);
  absl::StatusOr<v1::ReleaseHoldResponse> ReleaseHold(
      const v1::ReleaseHoldRequest& request);
  absl::StatusOr<v1::GetHoldResponse> GetHold(const v1::GetHoldRequest& request);
  absl::StatusOr<v1::RedepositHoldResponse> RedepositHold(
      const v1::RedepositHoldRequest& request);

  absl::StatusOr<v1::GetBalanceResponse> GetBalance(
      const v1::GetBalanceRequest& request);
  absl::StatusOr<v1::GetTransactionResponse> GetTransaction(
      const v1::GetTransactionRequest& request);
  absl::StatusOr<v1::GetStatementResponse> GetStatement(
      const v1::GetStatementRequest& request);
  absl::StatusOr<v1::ListLotsResponse> ListLots(
      const v1::ListLotsRequest& request);
  absl::StatusOr<v1::RunExpiryResponse> RunExpiry(
      const v1::RunExpiryRequest& request);
  absl::StatusOr<v1::VerifyLedgerResponse> VerifyLedger(
      const v1::VerifyLedgerRequest& request);

  // Expires ACTIVE holds whose time ran out; returns how many.
  absl::StatusOr<int> SweepExpiredHolds();
  // Moves the whole account of a merged member to the member it was merged
  // into. Idempotent.
  absl::Status MergeAccounts(const Merge& merge);

 private:
  // A credit decided and in line to be written.
  struct Posted {
    v1::Transaction transaction;
    bool replayed = false;
    uint64_t ticket = 0;
  };
  // What a credit needs besides its transaction's fields.
  struct CreditInput {
    std::string member_number;
    std::string key;
    std::string fingerprint;
    // type, activity date, flight, identity, partner fields and actor set.
    v1::Transaction transaction;
    // Flights: the table and distance that decide the miles. Held by value:
    // a partner's table is looked up for each credit and lives nowhere else.
    std::optional<EarningTable> table;
    int64_t distance_miles = 0;
    // Other credits: the miles.
    int64_t miles = 0;
    // Counts toward lifetime earned.
    bool earning = false;
  };

  absl::CivilDay Today() const;
  // The member (merges followed); NOT_FOUND, or FAILED_PRECONDITION when
  // `require_active` and it is not ACTIVE.
  absl::StatusOr<std::string> ResolveMember(absl::string_view field,
                                            absl::string_view member_number,
                                            bool require_active);
  // FAILED_PRECONDITION naming `field` when the member is not on this shard.
  absl::Status CheckShard(absl::string_view field,
                          absl::string_view member_number) const;
  // The record of an idempotency key that was used with the same content, or
  // nullopt when unused; ALREADY_EXISTS for other content.
  absl::StatusOr<std::optional<records::KeyRecord>> CheckKey(
      absl::string_view key, absl::string_view fingerprint, uint64_t* ticket);
  // A new transaction of `account`, with id, times and balance to come.
  v1::Transaction NewTransaction(records::Account& account,
                                 v1::TransactionType type,
                                 const common::v1::Actor& actor);
  // Gives `transaction` what NewTransaction gives a new one beside its type
  // and actor: the account's next id, the member and the times.
  void Stamp(records::Account& account, v1::Transaction& transaction);
  // Records `change` and the transaction it belongs to in `batch`.
  void RecordLots(store::WriteBatch& batch, const records::Account& account,
                  const LotChange& change, v1::Transaction& transaction);
  // Whether the expiry index certainly holds `expiry_date` for `account`
  // already, with `change` made.
  static bool ExpiryIndexed(const records::Account& account,
                            const LotChange& change,
                            const common::v1::Date& expiry_date);
  // CreditPosted or DebitPosted, by the sign of the miles; `transaction` is
  // unchanged on return.
  void AppendPosted(store::WriteBatch& batch, v1::Transaction& transaction);
  void AppendQualifying(store::WriteBatch& batch,
                        const v1::Transaction& transaction, bool reversal);
  // The credits of one request as they are decided: a write for many of
  // them, each account in it read once and written once.
  struct CreditBatch {
    explicit CreditBatch(store::WriteBatch batch) : batch(std::move(batch)) {}
    // The account of `member` as the credits so far leave it, packed
    // (packed_lots.h).
    absl::StatusOr<records::Account*> Account(LedgerStore& store,
                                              const std::string& member);
    // Puts the changed accounts in `batch` and the batch in line, raising
    // `*ticket` to its ticket; the next credits start a new write.
    void Flush(LedgerStore& store, uint64_t* ticket);

    store::WriteBatch batch;
    // The accounts of the write in hand, in the order first read; a deque,
    // so that pointers stay valid.
    std::deque<records::Account> accounts;
    absl::flat_hash_map<std::string, size_t> index;
    // Members whose account a credit of the write in hand changed.
    absl::flat_hash_set<std::string> changed;
    // The outcome of each credit so far, in order.
    std::vector<absl::StatusOr<Posted>> results;
    // Keys this batch credited: their fingerprint and result.
    struct Decided {
      std::string fingerprint;
      size_t result;
    };
    absl::flat_hash_map<std::string, Decided> keys;
  };
  // Each partner a request names, looked up once.
  using PartnerMemo = absl::flat_hash_map<std::string, absl::StatusOr<Partner>>;

  absl::StatusOr<Partner> FindPartner(PartnerMemo& partners,
                                      const std::string& code);
  // Decides one credit into `credits` (its member and key locked); a
  // refused credit changes nothing. A credit made takes `input.transaction`.
  absl::StatusOr<Posted> DecideCredit(CreditInput& input, CreditBatch& credits);
  // Decides `inputs` in order under the locks of all their members and
  // keys, put in line as a few atomic writes (each credit whole in one);
  // `*ticket` is raised to what the answers must wait for. An input that is
  // an error is that item's outcome.
  std::vector<absl::StatusOr<Posted>> DecideCredits(
      std::vector<absl::StatusOr<CreditInput>> inputs, uint64_t* ticket);
  // DecideCredits of one input.
  absl::StatusOr<Posted> DecideOneCredit(absl::StatusOr<CreditInput> input,
                                         uint64_t* ticket);
  // One credit, durable on return.
  absl::StatusOr<Posted> PostCredit(absl::StatusOr<CreditInput> input);
  // Validation and inputs of the three credit kinds, shared by the single
  // RPCs and the batch.
  absl::StatusOr<CreditInput> OwnFlightInput(
      const v1::PostOwnFlightRequest& request, v1::TransactionType type);
  absl::StatusOr<CreditInput> PartnerFlightInput(
      const v1::PostPartnerFlightRequest& request, PartnerMemo& partners);
  absl::StatusOr<CreditInput> PartnerActivityInput(
      const v1::PostPartnerActivityRequest& request, PartnerMemo& partners);
  absl::StatusOr<CreditInput> ActivityInput(const v1::Activity& activity,
                                            PartnerMemo& partners);
  // The reversal of `credit` (already locked by the caller).
  absl::StatusOr<v1::Transaction> DecideReversal(
      const v1::Transaction& credit, const std::string& key,
      const v1::ReverseCreditRequest& request, uint64_t* ticket);
  // Expires one member's lots for `run_date` (its index days `due_days`);
  // adds to `response` and returns the batch's ticket.
  absl::StatusOr<uint64_t> ExpireMember(
      const std::string& member, const std::vector<absl::CivilDay>& due_days,
      absl::CivilDay run_date, const common::v1::Actor& actor,
      v1::RunExpiryResponse& response);
  // Verifies one member at a moment when nothing of it is in line.
  absl::StatusOr<std::optional<v1::LedgerDifference>> VerifyMember(
      const std::string& member, int64_t* balance);
  v1::Balance BalanceOf(const records::Account& account);
  // The balance of `member_number`'s account as read (`account`), or of a
  // known member without one yet; NOT_FOUND for an unknown member.
  absl::StatusOr<v1::Balance> BalanceOfMember(
      const std::string& member_number,
      const std::optional<records::Account>& account);
  absl::StatusOr<v1::Transaction> MustTransaction(
      absl::string_view field, absl::string_view transaction_id,
      uint64_t* ticket);

  LedgerStore store_;
  const airports::AirportTable* airports_;
  PartnerDirectory* partners_;
  MemberDirectory* members_;
  const LedgerOptions options_;
  const Clock clock_;
  store::KeyLocks locks_;
  DecisionOrder order_;

  prometheus::Family<prometheus::Counter>& miles_credited_;
  prometheus::Family<prometheus::Counter>& miles_debited_;
  prometheus::Counter& holds_expired_;
};

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_LEDGER_H_
