// Ledger: construction, the shared machinery of every write, and the
// credits, adjustments, reversals, purchases, transfers and merges.
#include "services/accrual/ledger.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/client/shards.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "services/accrual/account.h"
#include "services/accrual/packed_lots.h"
#include "services/accrual/request_checks.h"

namespace mileagebank::accrual {

namespace mv1 = membership::v1;
using google::protobuf::util::TimeUtil;

namespace {

constexpr int64_t kMaxAdjustment = 1'000'000;
constexpr int64_t kMaxPartnerMiles = 100'000;
constexpr int kMaxBatch = 1'000;
// Credits of a batch per atomic write (see DecideCredits).
constexpr size_t kCreditsPerWrite = 100;

absl::CivilDay Day(const common::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

bool IsEarning(v1::TransactionType type) {
  return type == v1::OWN_FLIGHT || type == v1::PARTNER_FLIGHT ||
         type == v1::PARTNER_ACTIVITY || type == v1::RETRO_CLAIM;
}

// The status of a batch item as the single RPC would have returned it, with
// its field paths under the item's path.
common::v1::Status ItemStatus(const absl::Status& status,
                              const std::string& prefix) {
  common::v1::Status item;
  item.set_code(static_cast<int>(status.code()));
  std::optional<common::v1::ErrorDetails> details = GetErrorDetails(status);
  std::string message(status.message());
  if (details) {
    for (auto& violation : *details->mutable_field_violations()) {
      violation.set_field(absl::StrCat(prefix, ".", violation.field()));
    }
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      message.clear();
      for (const auto& violation : details->field_violations()) {
        absl::StrAppend(&message, message.empty() ? "" : "; ", violation.field(),
                        ": ", violation.description());
      }
    }
    item.add_details()->PackFrom(*details);
  }
  item.set_message(message);
  return item;
}

// A key used before for other content, by `existing`.
absl::Status KeyConflict(absl::string_view key, const std::string& existing) {
  return AlreadyExistsError(
      absl::StrCat("the idempotency key ", key,
                   " was already used with different content, by ", existing),
      existing);
}

absl::Status CheckPartnerActive(const Partner& partner) {
  if (partner.status == settlement::v1::ACTIVE) return absl::OkStatus();
  return FailedPreconditionField(
      "partner_code",
      absl::StrCat(partner.code, " is not ACTIVE (",
                   settlement::v1::PartnerStatus_Name(partner.status),
                   "); only an ACTIVE partner's activity is credited"));
}

}  // namespace

absl::StatusOr<LedgerOptions> LedgerOptions::FromConfig(
    const config::v1::AccrualConfig& config) {
  LedgerOptions options;
  MB_ASSIGN_OR_RETURN(options.thresholds,
                      tiers::TierThresholds::FromConfig(config.tiers()));
  if (!config.host_carrier().empty()) {
    if (config.host_carrier().size() != 2) {
      return absl::InvalidArgumentError(
          "host_carrier: must be a 2-character IATA airline code");
    }
    options.host_carrier = config.host_carrier();
  }
  absl::StatusOr<EarningTable> own =
      EarningTable::FromConfig(config.own_earning(), /*default_minimum=*/500);
  if (!own.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("own_earning: ", own.status().message()));
  }
  options.own_earning = *std::move(own);
  for (auto [value, target, name] :
       {std::tuple{config.silver_bonus_percent(), &options.bonus.silver,
                   "silver_bonus_percent"},
        std::tuple{config.gold_bonus_percent(), &options.bonus.gold,
                   "gold_bonus_percent"},
        std::tuple{config.platinum_bonus_percent(), &options.bonus.platinum,
                   "platinum_bonus_percent"}}) {
    if (value < 0 || value > 500) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must be 0-500"));
    }
    if (value > 0) *target = value;
  }
  auto positive = [](int64_t value, int64_t* target, const char* name,
                     int64_t max) -> absl::Status {
    if (value < 0 || value > max) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": must be 1 to ", max));
    }
    if (value > 0) *target = value;
    return absl::OkStatus();
  };
  int64_t lot_months = options.lot_months, claim_months = options.claim_months,
          ttl_minutes = 72 * 60;
  MB_RETURN_IF_ERROR(positive(config.lot_months(), &lot_months, "lot_months", 600));
  MB_RETURN_IF_ERROR(positive(config.retro_claim_months(), &claim_months,
                              "retro_claim_months", 120));
  MB_RETURN_IF_ERROR(positive(config.purchase_limit_per_year(),
                              &options.purchase_limit_per_year,
                              "purchase_limit_per_year", 100'000'000));
  MB_RETURN_IF_ERROR(positive(config.transfer_receive_limit_per_year(),
                              &options.receive_limit_per_year,
                              "transfer_receive_limit_per_year", 100'000'000));
  MB_RETURN_IF_ERROR(positive(config.transfer_fee_miles(), &options.transfer_fee,
                              "transfer_fee_miles", 1'000'000));
  MB_RETURN_IF_ERROR(positive(config.hold_ttl_minutes(), &ttl_minutes,
                              "hold_ttl_minutes", 30 * 24 * 60));
  options.lot_months = static_cast<int>(lot_months);
  options.claim_months = static_cast<int>(claim_months);
  options.hold_ttl = absl::Minutes(ttl_minutes);
  return options;
}

Ledger::Ledger(store::Store* store, const airports::AirportTable* airports,
               PartnerDirectory* partners, MemberDirectory* members,
               LedgerOptions options, prometheus::Registry& metrics,
               Clock clock)
    : store_(store, options.cached_accounts),
      airports_(airports),
      partners_(partners),
      members_(members),
      options_(std::move(options)),
      clock_(std::move(clock)),
      order_(options_.order_patience),
      miles_credited_(prometheus::BuildCounter()
                          .Name("mileagebank_accrual_miles_credited_total")
                          .Help("Miles credited, by transaction type")
                          .Register(metrics)),
      miles_debited_(prometheus::BuildCounter()
                         .Name("mileagebank_accrual_miles_debited_total")
                         .Help("Miles debited, by transaction type")
                         .Register(metrics)),
      holds_expired_(prometheus::BuildCounter()
                         .Name("mileagebank_accrual_holds_expired_total")
                         .Help("Holds released by the sweep after their "
                               "time-to-live")
                         .Register(metrics)
                         .Add({})) {}

absl::CivilDay Ledger::Today() const { return validation::UtcDay(clock_()); }

absl::StatusOr<std::string> Ledger::ResolveMember(
    absl::string_view field, absl::string_view member_number,
    bool require_active) {
  MB_RETURN_IF_ERROR(CheckShard(field, member_number));
  absl::StatusOr<MemberInfo> member = members_->Resolve(member_number);
  if (!member.ok()) {
    if (member.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat(field, ": no member ", member_number));
    }
    return member.status();
  }
  if (require_active && member->status != mv1::ACTIVE) {
    return FailedPreconditionField(
        field, absl::StrCat("member ", member->member_number, " is ",
                            mv1::MemberStatus_Name(member->status),
                            "; only ACTIVE members earn, buy, transfer or "
                            "hold miles"));
  }
  MB_RETURN_IF_ERROR(CheckShard(field, member->member_number));
  return member->member_number;
}

absl::Status Ledger::CheckShard(absl::string_view field,
                                absl::string_view member_number) const {
  const int shard = client::ShardOfMember(member_number, options_.shard_count);
  if (shard == options_.shard_index) return absl::OkStatus();
  return FailedPreconditionField(
      field, absl::StrCat("member ", member_number, " is on shard ", shard,
                          " of ", options_.shard_count, ", this is shard ",
                          options_.shard_index,
                          "; miles move between members of one shard only"));
}

absl::StatusOr<std::optional<records::KeyRecord>> Ledger::CheckKey(
    absl::string_view key, absl::string_view fingerprint, uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> record,
                      store_.LatestKey(key, ticket));
  if (!record) return std::nullopt;
  if (record->fingerprint() != fingerprint) {
    return KeyConflict(key, !record->transaction_ids().empty()
                                ? record->transaction_ids(0)
                            : !record->hold_id().empty() ? record->hold_id()
                                                         : record->claim_id());
  }
  return record;
}

v1::Transaction Ledger::NewTransaction(records::Account& account,
                                       v1::TransactionType type,
                                       const common::v1::Actor& actor) {
  v1::Transaction transaction;
  transaction.set_type(type);
  *transaction.mutable_actor() = actor;
  Stamp(account, transaction);
  return transaction;
}

void Ledger::Stamp(records::Account& account, v1::Transaction& transaction) {
  transaction.set_transaction_id(NextId(account, 'T'));
  transaction.set_member_number(account.member_number());
  const absl::Time now = clock_();
  *transaction.mutable_posted_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(now));
  *transaction.mutable_posting_date() =
      validation::ToProtoDate(validation::UtcDay(now));
}

void Ledger::RecordLots(store::WriteBatch& batch, const records::Account& account,
                        const LotChange& change, v1::Transaction& transaction) {
  for (const v1::LotMovement& movement : change.movements) {
    *transaction.add_lot_movements() = movement;
  }
  for (const v1::Lot& lot : change.emptied) store_.PutUsedLot(batch, lot);
  for (const v1::LotMovement& movement : change.movements) {
    if (movement.miles() > 0 &&
        !ExpiryIndexed(account, change, movement.expiry_date())) {
      store_.IndexExpiry(batch, Day(movement.expiry_date()),
                         account.member_number());
    }
  }
  transaction.set_balance_after(account.balance());
}

bool Ledger::ExpiryIndexed(const records::Account& account,
                           const LotChange& change,
                           const common::v1::Date& expiry_date) {
  // A day stays in the expiry index while a lot of it holds miles (see
  // ExpireMember), so a lot of that day with miles that this change did not
  // move held them before it: the day is indexed already. Most credits of
  // a busy account fall on a month already indexed.
  const int32_t day = DayNumber(Day(expiry_date));
  for (const records::OpenLot& lot : account.lots()) {
    if (lot.expiry_day() != day || lot.remaining_miles() <= 0) continue;
    const std::string lot_id = LotId(account, lot);
    if (std::none_of(change.movements.begin(), change.movements.end(),
                     [&](const v1::LotMovement& movement) {
                       return movement.lot_id() == lot_id;
                     })) {
      return true;
    }
  }
  return false;
}

void Ledger::AppendPosted(store::WriteBatch& batch,
                          v1::Transaction& transaction) {
  const std::string type = v1::TransactionType_Name(transaction.type());
  // The event borrows the transaction rather than copy it.
  auto append = [&](auto& event) {
    event.mutable_transaction()->Swap(&transaction);
    batch.AppendEvent(event.transaction().member_number(), event);
    event.mutable_transaction()->Swap(&transaction);
  };
  if (transaction.miles() >= 0) {
    v1::CreditPosted event;
    append(event);
    miles_credited_.Add({{"type", type}}).Increment(transaction.miles());
  } else {
    v1::DebitPosted event;
    append(event);
    miles_debited_.Add({{"type", type}}).Increment(-transaction.miles());
  }
}

void Ledger::AppendQualifying(store::WriteBatch& batch,
                              const v1::Transaction& transaction,
                              bool reversal) {
  v1::QualifyingActivityPosted event;
  event.set_member_number(transaction.member_number());
  event.set_activity_id(reversal ? transaction.reversed_transaction_id()
                                 : transaction.transaction_id());
  *event.mutable_activity_date() = transaction.activity_date();
  event.set_qualifying_miles(std::abs(transaction.qualifying_miles()));
  event.set_qualifying_segments(std::abs(transaction.qualifying_segments()));
  event.set_reversal(reversal);
  event.set_source_type(transaction.type());
  batch.AppendEvent(transaction.member_number(), event);
}

absl::StatusOr<Ledger::Posted> Ledger::DecideCredit(CreditInput& input,
                                                    CreditBatch& credits) {
  if (auto done = credits.keys.find(input.key); done != credits.keys.end()) {
    const v1::Transaction& first =
        credits.results[done->second.result]->transaction;
    if (done->second.fingerprint != input.fingerprint) {
      return KeyConflict(input.key, first.transaction_id());
    }
    return Posted{first, /*replayed=*/true, 0};
  }
  Posted posted;
  MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                      CheckKey(input.key, input.fingerprint, &posted.ticket));
  if (earlier) {
    MB_ASSIGN_OR_RETURN(posted.transaction,
                        MustTransaction("key", earlier->transaction_ids(0),
                                        &posted.ticket));
    posted.replayed = true;
    return posted;
  }
  MB_ASSIGN_OR_RETURN(records::Account * account,
                      credits.Account(store_, input.member_number));
  const absl::CivilDay activity = Day(input.transaction.activity_date());

  // Everything that can fail comes before the account changes: a refused
  // credit leaves no trace in a batch that goes on.
  std::optional<FlightEarning> earning;
  if (input.table.has_value()) {
    const int32_t this_year = Today().year();
    tiers::QualifyingTotals now_totals{
        YearOrZero(*account, this_year).qualifying_miles(),
        YearOrZero(*account, this_year).qualifying_segments()};
    tiers::QualifyingTotals last_totals{
        YearOrZero(*account, this_year - 1).qualifying_miles(),
        YearOrZero(*account, this_year - 1).qualifying_segments()};
    const mv1::Tier tier =
        tiers::TierOn(now_totals, last_totals, options_.thresholds);
    MB_ASSIGN_OR_RETURN(earning, ComputeFlightEarning(
                                     input.distance_miles,
                                     input.transaction.flight().booking_class(),
                                     *input.table, tier, options_.bonus));
  }
  const int64_t miles = earning ? earning->redeemable_miles : input.miles;
  const absl::CivilDay expiry = LotExpiry(activity, options_.lot_months);
  std::optional<PackedSlot> slot;
  if (CreditsPacked(*account, miles)) {
    MB_ASSIGN_OR_RETURN(slot, FindPackedSlot(*account, DayNumber(expiry)));
  } else {
    MB_RETURN_IF_ERROR(UnpackAccount(*account));
  }

  // The input's transaction becomes the credit's: nothing can fail from
  // here on, and the input is not used again.
  v1::Transaction transaction = std::move(input.transaction);
  Stamp(*account, transaction);
  transaction.set_idempotency_key(input.key);
  if (earning) {
    v1::EarningBreakdown* breakdown = transaction.mutable_earning();
    breakdown->set_distance_miles(earning->distance_miles);
    breakdown->set_rate_percent(earning->rate_percent);
    breakdown->set_base_miles(earning->base_miles);
    breakdown->set_minimum_applied(earning->minimum_applied);
    breakdown->set_tier(earning->tier);
    breakdown->set_bonus_percent(earning->bonus_percent);
    breakdown->set_bonus_miles(earning->bonus_miles);
    transaction.set_qualifying_miles(earning->qualifying_miles);
    transaction.set_qualifying_segments(earning->qualifying_segments);
    records::YearFigures& year = Year(*account, activity.year());
    year.set_qualifying_miles(year.qualifying_miles() +
                              earning->qualifying_miles);
    year.set_qualifying_segments(year.qualifying_segments() +
                                 earning->qualifying_segments);
  }
  transaction.set_miles(miles);
  if (input.earning) {
    account->set_lifetime_earned(account->lifetime_earned() + miles);
  }
  const NewLot lot{transaction.transaction_id(), transaction.type(), activity,
                   expiry};
  store::WriteBatch& batch = credits.batch;
  if (slot) {
    // What RecordLots does. Every lot holds miles, so a day some lot
    // expires on is in the expiry index already.
    *transaction.add_lot_movements() =
        CreditPacked(*account, miles, lot, *slot);
    if (!slot->expiry_day_taken) {
      store_.IndexExpiry(batch, expiry, account->member_number());
    }
    transaction.set_balance_after(account->balance());
  } else {
    RecordLots(batch, *account, Credit(*account, miles, lot), transaction);
    // Packed while its lots are still in the processor's cache.
    PackAccount(*account);
  }
  store_.PutTransaction(batch, transaction);
  records::KeyRecord key;
  key.set_fingerprint(input.fingerprint);
  key.add_transaction_ids(transaction.transaction_id());
  store_.PutKey(batch, input.key, key);
  AppendPosted(batch, transaction);
  if (transaction.qualifying_miles() != 0 || transaction.qualifying_segments() != 0) {
    AppendQualifying(batch, transaction, /*reversal=*/false);
  }
  credits.changed.insert(input.member_number);
  posted.transaction = std::move(transaction);
  return posted;
}

absl::StatusOr<records::Account*> Ledger::CreditBatch::Account(
    LedgerStore& store, const std::string& member) {
  auto [it, inserted] = index.try_emplace(member, accounts.size());
  if (inserted) {
    absl::StatusOr<records::Account> account =
        store.LatestPackedAccount(member);
    if (!account.ok()) {
      index.erase(it);
      return account.status();
    }
    accounts.push_back(*std::move(account));
  }
  return &accounts[it->second];
}

void Ledger::CreditBatch::Flush(LedgerStore& store, uint64_t* ticket) {
  // Each account once, as the credits left it.
  for (records::Account& account : accounts) {
    if (changed.contains(account.member_number())) {
      store.PutAccount(batch, std::move(account));
    }
  }
  accounts.clear();
  index.clear();
  changed.clear();
  if (!batch.empty()) *ticket = std::max(*ticket, store.raw().Enqueue(batch));
}

std::vector<absl::StatusOr<Ledger::Posted>> Ledger::DecideCredits(
    std::vector<absl::StatusOr<CreditInput>> inputs, uint64_t* ticket) {
  std::vector<std::string> locked;
  for (const absl::StatusOr<CreditInput>& input : inputs) {
    if (!input.ok()) continue;
    locked.push_back(input->member_number);
    locked.push_back(input->key);
  }
  store::KeyLocks::Guard guard = locks_.Lock(locked);
  CreditBatch credits(store_.raw().NewBatch());
  credits.results.reserve(inputs.size());
  for (absl::StatusOr<CreditInput>& input : inputs) {
    if (!input.ok()) {
      credits.results.push_back(input.status());
    } else {
      absl::StatusOr<Posted> posted = DecideCredit(*input, credits);
      const bool credited = posted.ok() && !posted->replayed;
      if (posted.ok()) *ticket = std::max(*ticket, posted->ticket);
      credits.results.push_back(std::move(posted));
      if (credited) {
        credits.keys[input->key] = {input->fingerprint,
                                    credits.results.size() - 1};
      }
    }
    // Written a part at a time, so that the store writes one part while
    // the next is decided.
    if (credits.results.size() % kCreditsPerWrite == 0) {
      credits.Flush(store_, ticket);
    }
  }
  credits.Flush(store_, ticket);
  return std::move(credits.results);
}

absl::StatusOr<v1::Transaction> Ledger::MustTransaction(
    absl::string_view field, absl::string_view transaction_id, uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(std::optional<v1::Transaction> transaction,
                      store_.LatestTransaction(transaction_id, ticket));
  if (!transaction) {
    return absl::NotFoundError(
        absl::StrCat(field, ": no transaction ", transaction_id));
  }
  return *std::move(transaction);
}

absl::StatusOr<Ledger::CreditInput> Ledger::OwnFlightInput(
    const v1::PostOwnFlightRequest& given, v1::TransactionType type) {
  // An own flight's carrier can only be the host: empty means it.
  v1::PostOwnFlightRequest request = given;
  if (request.flight().carrier().empty()) {
    request.mutable_flight()->set_carrier(options_.host_carrier);
  }
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  CheckFlightIdentity(errors, "flight_identity", request.flight_identity());
  const int64_t distance =
      CheckFlight(errors, "flight", request.flight(), *airports_, Today());
  if (request.flight().carrier() != options_.host_carrier &&
      !request.flight().carrier().empty()) {
    errors.Add("flight.carrier",
               absl::StrCat("must be the host carrier ", options_.host_carrier,
                            " for an own flight"));
  }
  if (!options_.own_earning.RatePercent(request.flight().booking_class().empty()
                                            ? ' '
                                            : request.flight().booking_class()[0]) ||
      request.flight().booking_class().size() != 1) {
    errors.Add("flight.booking_class",
               "must be one upper-case letter of the earning table");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  CreditInput input;
  MB_ASSIGN_OR_RETURN(input.member_number,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  input.key = FlightKey(request.flight_identity());
  input.fingerprint = RequestFingerprint(request);
  input.transaction.set_type(type);
  *input.transaction.mutable_activity_date() = request.flight().flight_date();
  *input.transaction.mutable_flight() = request.flight();
  *input.transaction.mutable_flight_identity() = request.flight_identity();
  *input.transaction.mutable_actor() = request.actor();
  input.table = options_.own_earning;
  input.distance_miles = distance;
  input.earning = true;
  return input;
}

absl::StatusOr<Partner> Ledger::FindPartner(PartnerMemo& partners,
                                            const std::string& code) {
  auto it = partners.find(code);
  if (it == partners.end()) {
    it = partners.emplace(code, partners_->Find("partner_code", code)).first;
  }
  return it->second;
}

absl::StatusOr<Ledger::CreditInput> Ledger::PartnerFlightInput(
    const v1::PostPartnerFlightRequest& request, PartnerMemo& partners) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  CheckFlightIdentity(errors, "flight_identity", request.flight_identity());
  // Partner files may carry flights dated up to a day after receipt.
  const absl::CivilDay latest = Today() + (request.has_source() ? 1 : 0);
  const int64_t distance =
      CheckFlight(errors, "flight", request.flight(), *airports_, latest);
  if (request.flight().carrier() != request.partner_code()) {
    errors.Add("flight.carrier", "must equal partner_code");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(Partner partner,
                      FindPartner(partners, request.partner_code()));
  if (partner.type != settlement::v1::AIRLINE) {
    return FailedPreconditionField(
        "partner_code", absl::StrCat(partner.code, " is not an AIRLINE"));
  }
  MB_RETURN_IF_ERROR(CheckPartnerActive(partner));
  CreditInput input;
  MB_ASSIGN_OR_RETURN(input.member_number,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  input.key = FlightKey(request.flight_identity());
  input.fingerprint = RequestFingerprint(request);
  input.transaction.set_type(v1::PARTNER_FLIGHT);
  *input.transaction.mutable_activity_date() = request.flight().flight_date();
  *input.transaction.mutable_flight() = request.flight();
  *input.transaction.mutable_flight_identity() = request.flight_identity();
  input.transaction.set_partner_code(request.partner_code());
  input.transaction.set_partner_reference(
      absl::StrCat(request.flight_identity().ticket_number(), "/",
                   request.flight_identity().coupon_number()));
  *input.transaction.mutable_partner_source() = request.source();
  *input.transaction.mutable_actor() = request.actor();
  input.table = std::move(partner.earning);
  input.distance_miles = distance;
  input.earning = true;
  return input;
}

absl::StatusOr<Ledger::CreditInput> Ledger::PartnerActivityInput(
    const v1::PostPartnerActivityRequest& request, PartnerMemo& partners) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  const std::string& reference = request.partner_reference();
  if (reference.empty() || reference.size() > 32 ||
      !std::all_of(reference.begin(), reference.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '/' ||
               c == '.';
      })) {
    errors.Add("partner_reference",
               "must be 1-32 characters of A-Z a-z 0-9 and -_/.");
  }
  if (request.activity_type() == v1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED) {
    errors.Add("activity_type", "required: HOTEL, CAR, CARD or OTHER");
  }
  CheckDate(errors, "activity_date", request.activity_date(),
            Today() + (request.has_source() ? 1 : 0));
  if (request.miles() < 1 || request.miles() > kMaxPartnerMiles) {
    errors.Add("miles", "must be 1 to 100,000");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(Partner partner,
                      FindPartner(partners, request.partner_code()));
  MB_RETURN_IF_ERROR(CheckPartnerActive(partner));
  CreditInput input;
  MB_ASSIGN_OR_RETURN(input.member_number,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  input.key = PartnerKey(request.partner_code(), reference);
  input.fingerprint = RequestFingerprint(request);
  input.transaction.set_type(v1::PARTNER_ACTIVITY);
  *input.transaction.mutable_activity_date() = request.activity_date();
  input.transaction.set_partner_code(request.partner_code());
  input.transaction.set_partner_reference(reference);
  input.transaction.set_partner_activity_type(request.activity_type());
  *input.transaction.mutable_partner_source() = request.source();
  *input.transaction.mutable_actor() = request.actor();
  input.miles = request.miles();
  input.earning = true;
  return input;
}

absl::StatusOr<Ledger::Posted> Ledger::DecideOneCredit(
    absl::StatusOr<CreditInput> input, uint64_t* ticket) {
  std::vector<absl::StatusOr<CreditInput>> inputs;
  inputs.push_back(std::move(input));
  return std::move(DecideCredits(std::move(inputs), ticket).front());
}

absl::StatusOr<Ledger::Posted> Ledger::PostCredit(
    absl::StatusOr<CreditInput> input) {
  uint64_t ticket = 0;
  absl::StatusOr<Posted> posted = DecideOneCredit(std::move(input), &ticket);
  store_.raw().Wait(ticket);
  return posted;
}

namespace {

// The answer of a single credit RPC: the transaction and whether it was a
// repeat.
template <typename Response, typename Posted>
Response CreditResponse(Posted posted) {
  Response response;
  *response.mutable_transaction() = std::move(posted.transaction);
  response.set_replayed(posted.replayed);
  return response;
}

}  // namespace

absl::StatusOr<v1::PostOwnFlightResponse> Ledger::PostOwnFlight(
    const v1::PostOwnFlightRequest& request) {
  MB_ASSIGN_OR_RETURN(Posted posted,
                      PostCredit(OwnFlightInput(request, v1::OWN_FLIGHT)));
  return CreditResponse<v1::PostOwnFlightResponse>(std::move(posted));
}

absl::StatusOr<v1::PostPartnerFlightResponse> Ledger::PostPartnerFlight(
    const v1::PostPartnerFlightRequest& request) {
  PartnerMemo partners;
  MB_ASSIGN_OR_RETURN(Posted posted,
                      PostCredit(PartnerFlightInput(request, partners)));
  return CreditResponse<v1::PostPartnerFlightResponse>(std::move(posted));
}

absl::StatusOr<v1::PostPartnerActivityResponse> Ledger::PostPartnerActivity(
    const v1::PostPartnerActivityRequest& request) {
  PartnerMemo partners;
  MB_ASSIGN_OR_RETURN(Posted posted,
                      PostCredit(PartnerActivityInput(request, partners)));
  return CreditResponse<v1::PostPartnerActivityResponse>(std::move(posted));
}

absl::StatusOr<Ledger::CreditInput> Ledger::ActivityInput(
    const v1::Activity& activity, PartnerMemo& partners) {
  switch (activity.activity_case()) {
    case v1::Activity::kOwnFlight:
      return OwnFlightInput(activity.own_flight(), v1::OWN_FLIGHT);
    case v1::Activity::kPartnerFlight:
      return PartnerFlightInput(activity.partner_flight(), partners);
    case v1::Activity::kPartnerActivity:
      return PartnerActivityInput(activity.partner_activity(), partners);
    case v1::Activity::ACTIVITY_NOT_SET:
      break;
  }
  return InvalidField("activity",
                      "give own_flight, partner_flight or partner_activity");
}

namespace {

// Whether a credit's answer stands if asked again at once: a transaction or
// a refusal of the activity itself. A caller sends a batch with any other
// answer again (settlement: OutcomeOf), so that batch is not yet decided.
bool FinalAnswer(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
      return true;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      // The member's; a partner not yet known to accrual may be soon.
      return absl::StartsWith(status.message(), "member_number:");
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<v1::PostActivitiesResponse> Ledger::PostActivities(
    const v1::PostActivitiesRequest& request) {
  // An empty batch of an order tells that it is decided (a sharded
  // caller's batch may hold nothing for this shard).
  if ((request.activities().empty() && request.order_key().empty()) ||
      request.activities_size() > kMaxBatch) {
    return InvalidField("activities", "must hold 1 to 1,000 activities");
  }
  if (request.order_key().size() > 128) {
    return InvalidField("order_key", "at most 128 characters");
  }
  const bool ordered = !request.order_key().empty();
  if (ordered && (request.order_number() == 0 ||
                  request.decide_after() >= request.order_number())) {
    return InvalidField("decide_after",
                        "with order_key, order_number must be above 0 and "
                        "decide_after below order_number");
  }
  // Checked before anything is locked, each partner looked up once.
  PartnerMemo partners;
  std::vector<absl::StatusOr<CreditInput>> inputs;
  inputs.reserve(request.activities_size());
  for (const v1::Activity& activity : request.activities()) {
    inputs.push_back(ActivityInput(activity, partners));
  }
  if (ordered && request.decide_after() != 0 &&
      !order_.AwaitDecided(request.order_key(), request.decide_after())) {
    return absl::AbortedError(absl::StrCat(
        "decide_after: batch ", request.decide_after(), " of ",
        request.order_key(),
        " has not been decided here; send this batch again once that one "
        "is answered"));
  }
  // A few atomic writes (DecideCredits), all durable before the answer;
  // the next batch of the same order may be decided while they are made so.
  uint64_t ticket = 0;
  std::vector<absl::StatusOr<Posted>> posted =
      DecideCredits(std::move(inputs), &ticket);
  if (ordered && std::all_of(posted.begin(), posted.end(), [](const auto& one) {
        return FinalAnswer(one.status());
      })) {
    order_.Decided(request.order_key(), request.order_number());
  }
  store_.raw().Wait(ticket);
  v1::PostActivitiesResponse response;
  for (int i = 0; i < request.activities_size(); ++i) {
    v1::ActivityResult* result = response.add_results();
    result->set_index(i);
    if (posted[i].ok()) {
      v1::Transaction& transaction = posted[i]->transaction;
      if (request.brief_results()) {
        v1::Transaction* brief = result->mutable_transaction();
        brief->set_transaction_id(std::move(*transaction.mutable_transaction_id()));
        brief->set_member_number(std::move(*transaction.mutable_member_number()));
        brief->set_miles(transaction.miles());
      } else {
        *result->mutable_transaction() = std::move(transaction);
      }
      result->set_replayed(posted[i]->replayed);
    } else {
      const v1::Activity& activity = request.activities(i);
      const char* kind = activity.has_own_flight()         ? "own_flight"
                         : activity.has_partner_flight()   ? "partner_flight"
                         : activity.has_partner_activity() ? "partner_activity"
                                                           : "";
      std::string prefix = absl::StrCat("activities[", i, "]");
      if (*kind != '\0') absl::StrAppend(&prefix, ".", kind);
      *result->mutable_error() = ItemStatus(posted[i].status(), prefix);
    }
  }
  return response;
}

absl::StatusOr<v1::AdjustMilesResponse> Ledger::AdjustMiles(
    const v1::AdjustMilesRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (request.miles() == 0 || request.miles() > kMaxAdjustment ||
      request.miles() < -kMaxAdjustment) {
    errors.Add("miles", "must be non-zero, at most 1,000,000 either way");
  }
  CheckReasonCode(errors, "reason_code", request.reason_code());
  if (request.note().empty() || request.note().size() > 500) {
    errors.Add("note", "required, at most 500 characters");
  }
  CheckStaff(errors, request.actor());
  CheckRequestId(errors, "request_id", request.request_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::string member,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/false));
  const std::string key = RequestKey("adjust", member, request.request_id());
  const std::string fingerprint = RequestFingerprint(request);

  v1::AdjustMilesResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({member, key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        CheckKey(key, fingerprint, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                          MustTransaction("request_id",
                                          earlier->transaction_ids(0), &ticket));
      response.set_replayed(true);
    } else {
      MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
      if (request.miles() < 0 && -request.miles() > Available(account)) {
        return FailedPreconditionField(
            "miles", absl::StrCat("the member has ", Available(account),
                                  " available miles"));
      }
      v1::Transaction transaction =
          NewTransaction(account, v1::ADJUSTMENT, request.actor());
      transaction.set_miles(request.miles());
      transaction.set_idempotency_key(key);
      transaction.set_reason_code(request.reason_code());
      transaction.set_note(request.note());
      *transaction.mutable_activity_date() = transaction.posting_date();
      const absl::CivilDay today = Today();
      LotChange change =
          request.miles() > 0
              ? Credit(account, request.miles(),
                       NewLot{transaction.transaction_id(), v1::ADJUSTMENT, today,
                              LotExpiry(today, options_.lot_months)})
              : Debit(account, -request.miles());
      store::WriteBatch batch = store_.raw().NewBatch();
      RecordLots(batch, account, change, transaction);
      store_.PutAccount(batch, account);
      store_.PutTransaction(batch, transaction);
      records::KeyRecord record;
      record.set_fingerprint(fingerprint);
      record.add_transaction_ids(transaction.transaction_id());
      store_.PutKey(batch, key, record);
      AppendPosted(batch, transaction);
      v1::AdjustmentPosted event;
      event.set_member_number(member);
      event.set_transaction_id(transaction.transaction_id());
      event.set_miles(request.miles());
      event.set_reason_code(request.reason_code());
      event.set_note(request.note());
      *event.mutable_actor() = request.actor();
      batch.AppendEvent(member, event);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_transaction() = std::move(transaction);
    }
  }
  store_.raw().Wait(ticket);
  if (!response.replayed()) {
    log::Info("miles_adjusted", {{"member_number", member},
                                 {"miles", request.miles()},
                                 {"reason", request.reason_code()},
                                 {"operator", request.actor().operator_id()}});
  }
  return response;
}

absl::StatusOr<v1::Transaction> Ledger::DecideReversal(
    const v1::Transaction& credit, const std::string& key,
    const v1::ReverseCreditRequest& request, uint64_t* ticket) {
  const std::string& member = credit.member_number();
  MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
  if (!account.merged_into().empty()) {
    return FailedPreconditionField(
        "credit", absl::StrCat("the account of ", member, " was merged into ",
                               account.merged_into()));
  }
  // The credit's lot: still in the account, or used up.
  std::optional<v1::Lot> credit_lot;
  if (const records::OpenLot* open =
          FindCreditLot(account, credit.transaction_id())) {
    credit_lot = ToLot(account, *open);
  }
  if (!credit_lot) {
    store_.raw().WaitForQueued();  // The used-lots scan sees durable writes.
    MB_ASSIGN_OR_RETURN(credit_lot,
                        store_.FindUsedLot(member, credit.transaction_id()));
  }
  if (!credit_lot) {
    return absl::DataLossError(absl::StrCat("accrual: the lot of credit ",
                                            credit.transaction_id(), " is missing"));
  }
  v1::Transaction reversal =
      NewTransaction(account, v1::REVERSAL, request.actor());
  reversal.set_miles(-credit.miles());
  reversal.set_idempotency_key(key);
  reversal.set_reversed_transaction_id(credit.transaction_id());
  reversal.set_reason_code(request.reason_code());
  reversal.set_note(request.note());
  *reversal.mutable_activity_date() = credit.activity_date();
  *reversal.mutable_flight() = credit.flight();
  *reversal.mutable_flight_identity() = credit.flight_identity();
  reversal.set_partner_code(credit.partner_code());
  reversal.set_partner_reference(credit.partner_reference());
  reversal.set_qualifying_miles(-credit.qualifying_miles());
  reversal.set_qualifying_segments(-credit.qualifying_segments());
  LotChange change = Reverse(account, *credit_lot, credit.miles());
  if (IsEarning(credit.type())) {
    account.set_lifetime_earned(account.lifetime_earned() - credit.miles());
  }
  if (credit.qualifying_miles() != 0 || credit.qualifying_segments() != 0) {
    records::YearFigures& year = Year(account, credit.activity_date().year());
    year.set_qualifying_miles(year.qualifying_miles() - credit.qualifying_miles());
    year.set_qualifying_segments(year.qualifying_segments() -
                                 credit.qualifying_segments());
  }
  v1::Transaction reversed = credit;
  reversed.set_reversed_by_transaction_id(reversal.transaction_id());

  store::WriteBatch batch = store_.raw().NewBatch();
  RecordLots(batch, account, change, reversal);
  store_.PutAccount(batch, account);
  store_.PutTransaction(batch, reversal);
  store_.PutTransaction(batch, reversed);
  records::KeyRecord record;
  record.set_fingerprint(credit.transaction_id());
  record.add_transaction_ids(reversal.transaction_id());
  store_.PutKey(batch, key, record);
  AppendPosted(batch, reversal);
  v1::CreditReversed event;
  event.set_member_number(member);
  event.set_reversed_transaction_id(credit.transaction_id());
  event.set_reversal_transaction_id(reversal.transaction_id());
  event.set_reversed_type(credit.type());
  event.set_miles(credit.miles());
  event.set_qualifying_miles(credit.qualifying_miles());
  event.set_qualifying_segments(credit.qualifying_segments());
  event.set_reason_code(request.reason_code());
  event.set_balance_negative(account.balance() < 0);
  *event.mutable_actor() = request.actor();
  batch.AppendEvent(member, event);
  if (credit.qualifying_miles() != 0 || credit.qualifying_segments() != 0) {
    AppendQualifying(batch, reversal, /*reversal=*/true);
  }
  *ticket = store_.raw().Enqueue(batch);
  return reversal;
}

absl::StatusOr<v1::ReverseCreditResponse> Ledger::ReverseCredit(
    const v1::ReverseCreditRequest& request) {
  FieldErrors errors;
  switch (request.credit_case()) {
    case v1::ReverseCreditRequest::kTransactionId:
      if (request.transaction_id().empty()) errors.Add("transaction_id", "required");
      break;
    case v1::ReverseCreditRequest::kFlightIdentity:
      CheckFlightIdentity(errors, "flight_identity", request.flight_identity());
      break;
    case v1::ReverseCreditRequest::kPartnerReference:
      if (request.partner_reference().partner_code().empty() ||
          request.partner_reference().reference().empty()) {
        errors.Add("partner_reference", "partner_code and reference are required");
      }
      break;
    case v1::ReverseCreditRequest::CREDIT_NOT_SET:
      errors.Add("credit",
                 "give transaction_id, flight_identity or partner_reference");
  }
  CheckReasonCode(errors, "reason_code", request.reason_code());
  if (request.note().size() > 500) errors.Add("note", "at most 500 characters");
  MB_RETURN_IF_ERROR(errors.ToStatus());

  // Find the credit's id: directly, or through the key that credited it.
  std::string credit_id = request.transaction_id();
  if (request.credit_case() != v1::ReverseCreditRequest::kTransactionId) {
    const std::string credit_key =
        request.has_flight_identity()
            ? FlightKey(request.flight_identity())
            : PartnerKey(request.partner_reference().partner_code(),
                         request.partner_reference().reference());
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> credited,
                        store_.LatestKey(credit_key));
    if (!credited || credited->transaction_ids().empty()) {
      return absl::NotFoundError(
          absl::StrCat("credit: nothing was credited under ", credit_key));
    }
    credit_id = credited->transaction_ids(0);
  }
  uint64_t ticket = 0;
  MB_ASSIGN_OR_RETURN(v1::Transaction found,
                      MustTransaction("transaction_id", credit_id, &ticket));
  const std::string key = absl::StrCat("reverse:", credit_id);
  v1::ReverseCreditResponse response;
  {
    store::KeyLocks::Guard guard = locks_.Lock({found.member_number(), key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        store_.LatestKey(key, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                          MustTransaction("transaction_id",
                                          earlier->transaction_ids(0), &ticket));
      response.set_replayed(true);
    } else {
      MB_ASSIGN_OR_RETURN(v1::Transaction credit,
                          MustTransaction("transaction_id", credit_id, &ticket));
      const v1::TransactionType type = credit.type();
      if (!IsEarning(type) && type != v1::PURCHASE) {
        return FailedPreconditionField(
            "transaction_id",
            absl::StrCat(v1::TransactionType_Name(type),
                         " is not a credit that can be reversed"));
      }
      MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                          DecideReversal(credit, key, request, &ticket));
    }
  }
  store_.raw().Wait(ticket);
  if (!response.replayed()) {
    log::Info("credit_reversed",
              {{"member_number", response.transaction().member_number()},
               {"credit", credit_id},
               {"miles", -response.transaction().miles()},
               {"reason", request.reason_code()}});
  }
  return response;
}

absl::StatusOr<v1::PurchaseMilesResponse> Ledger::PurchaseMiles(
    const v1::PurchaseMilesRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (request.miles() < 1 || request.miles() > options_.purchase_limit_per_year) {
    errors.Add("miles", absl::StrCat("must be 1 to ",
                                     options_.purchase_limit_per_year));
  }
  if (request.price().currency_code().size() != 3 ||
      request.price().minor_units() < 0) {
    errors.Add("price", "must have an ISO 4217 currency and an amount >= 0");
  }
  if (request.payment_reference().empty() ||
      request.payment_reference().size() > 64) {
    errors.Add("payment_reference", "required, at most 64 characters");
  }
  CheckRequestId(errors, "request_id", request.request_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::string member,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  const std::string key = RequestKey("purchase", member, request.request_id());
  const std::string fingerprint = RequestFingerprint(request);
  const int32_t year = Today().year();

  v1::PurchaseMilesResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({member, key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        CheckKey(key, fingerprint, &ticket));
    MB_ASSIGN_OR_RETURN(records::Account account,
                        store_.LatestAccount(member, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                          MustTransaction("request_id",
                                          earlier->transaction_ids(0), &ticket));
      response.set_replayed(true);
    } else {
      const int64_t bought = YearOrZero(account, year).purchased();
      if (bought + request.miles() > options_.purchase_limit_per_year) {
        return FailedPreconditionField(
            "miles", absl::StrCat("the member bought ", bought,
                                  " miles this year; the limit is ",
                                  options_.purchase_limit_per_year));
      }
      v1::Transaction transaction =
          NewTransaction(account, v1::PURCHASE, request.actor());
      transaction.set_miles(request.miles());
      transaction.set_idempotency_key(key);
      transaction.set_note(absl::StrCat("payment ", request.payment_reference(),
                                        " ", request.price().minor_units(), " ",
                                        request.price().currency_code()));
      *transaction.mutable_activity_date() = transaction.posting_date();
      const absl::CivilDay today = Today();
      LotChange change =
          Credit(account, request.miles(),
                 NewLot{transaction.transaction_id(), v1::PURCHASE, today,
                        LotExpiry(today, options_.lot_months)});
      records::YearFigures& figures = Year(account, year);
      figures.set_purchased(figures.purchased() + request.miles());
      store::WriteBatch batch = store_.raw().NewBatch();
      RecordLots(batch, account, change, transaction);
      store_.PutAccount(batch, account);
      store_.PutTransaction(batch, transaction);
      records::KeyRecord record;
      record.set_fingerprint(fingerprint);
      record.add_transaction_ids(transaction.transaction_id());
      store_.PutKey(batch, key, record);
      AppendPosted(batch, transaction);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_transaction() = std::move(transaction);
    }
    response.set_purchased_this_year(YearOrZero(account, year).purchased());
    response.set_purchase_allowance_left(options_.purchase_limit_per_year -
                                         response.purchased_this_year());
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::TransferMilesResponse> Ledger::TransferMiles(
    const v1::TransferMilesRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "from_member_number", request.from_member_number());
  CheckMemberNumber(errors, "to_member_number", request.to_member_number());
  if (request.from_member_number() == request.to_member_number()) {
    errors.Add("to_member_number", "must differ from from_member_number");
  }
  if (request.miles() < 1 || request.miles() > options_.receive_limit_per_year) {
    errors.Add("miles", absl::StrCat("must be 1 to ",
                                     options_.receive_limit_per_year));
  }
  CheckRequestId(errors, "request_id", request.request_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::string from,
                      ResolveMember("from_member_number",
                                    request.from_member_number(), true));
  MB_ASSIGN_OR_RETURN(std::string to,
                      ResolveMember("to_member_number", request.to_member_number(),
                                    true));
  if (from == to) {
    return InvalidField("to_member_number",
                        "is the same member as from_member_number");
  }
  const std::string key = RequestKey("transfer", from, request.request_id());
  const std::string fingerprint = RequestFingerprint(request);
  const int32_t year = Today().year();

  v1::TransferMilesResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({from, to, key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        CheckKey(key, fingerprint, &ticket));
    MB_ASSIGN_OR_RETURN(records::Account giver, store_.LatestAccount(from, &ticket));
    MB_ASSIGN_OR_RETURN(records::Account receiver,
                        store_.LatestAccount(to, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(*response.mutable_debit(),
                          MustTransaction("request_id",
                                          earlier->transaction_ids(0), &ticket));
      MB_ASSIGN_OR_RETURN(*response.mutable_fee(),
                          MustTransaction("request_id",
                                          earlier->transaction_ids(1), &ticket));
      MB_ASSIGN_OR_RETURN(*response.mutable_credit(),
                          MustTransaction("request_id",
                                          earlier->transaction_ids(2), &ticket));
      response.set_replayed(true);
    } else {
      const int64_t received = YearOrZero(receiver, year).received();
      if (received + request.miles() > options_.receive_limit_per_year) {
        return FailedPreconditionField(
            "miles", absl::StrCat("the receiver got ", received,
                                  " miles by transfer this year; the limit is ",
                                  options_.receive_limit_per_year));
      }
      const int64_t needed = request.miles() + options_.transfer_fee;
      if (Available(giver) < needed) {
        return FailedPreconditionField(
            "miles", absl::StrCat("the giver has ", Available(giver),
                                  " available miles; the transfer and its fee "
                                  "need ",
                                  needed));
      }
      store::WriteBatch batch = store_.raw().NewBatch();
      v1::Transaction debit =
          NewTransaction(giver, v1::TRANSFER_OUT, request.actor());
      debit.set_miles(-request.miles());
      debit.set_counterparty_member_number(to);
      debit.set_idempotency_key(key);
      *debit.mutable_activity_date() = debit.posting_date();
      LotChange out = Debit(giver, request.miles());
      RecordLots(batch, giver, out, debit);
      v1::Transaction fee =
          NewTransaction(giver, v1::TRANSFER_FEE, request.actor());
      fee.set_miles(-options_.transfer_fee);
      fee.set_counterparty_member_number(to);
      fee.set_idempotency_key(key);
      *fee.mutable_activity_date() = fee.posting_date();
      LotChange fee_change = Debit(giver, options_.transfer_fee);
      RecordLots(batch, giver, fee_change, fee);
      v1::Transaction credit =
          NewTransaction(receiver, v1::TRANSFER_IN, request.actor());
      credit.set_miles(request.miles());
      credit.set_counterparty_member_number(from);
      credit.set_idempotency_key(key);
      *credit.mutable_activity_date() = credit.posting_date();
      LotChange in = CreditKeepingExpiry(
          receiver, out.movements, request.miles(), credit.transaction_id(),
          v1::TRANSFER_IN, Today());
      RecordLots(batch, receiver, in, credit);
      records::YearFigures& figures = Year(receiver, year);
      figures.set_received(figures.received() + request.miles());
      store_.PutAccount(batch, giver);
      store_.PutAccount(batch, receiver);
      for (v1::Transaction* transaction : {&debit, &fee, &credit}) {
        store_.PutTransaction(batch, *transaction);
        AppendPosted(batch, *transaction);
      }
      records::KeyRecord record;
      record.set_fingerprint(fingerprint);
      record.add_transaction_ids(debit.transaction_id());
      record.add_transaction_ids(fee.transaction_id());
      record.add_transaction_ids(credit.transaction_id());
      store_.PutKey(batch, key, record);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_debit() = std::move(debit);
      *response.mutable_fee() = std::move(fee);
      *response.mutable_credit() = std::move(credit);
    }
    response.set_received_this_year(YearOrZero(receiver, year).received());
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::Status Ledger::MergeAccounts(const Merge& merge) {
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({merge.source, merge.target});
    MB_ASSIGN_OR_RETURN(records::Account source, store_.LatestAccount(merge.source));
    if (!source.merged_into().empty()) return absl::OkStatus();  // Done before.
    MB_ASSIGN_OR_RETURN(records::Account target, store_.LatestAccount(merge.target));
    common::v1::Actor actor;
    actor.set_channel(common::v1::SYSTEM);
    store::WriteBatch batch = store_.raw().NewBatch();

    v1::Transaction out = NewTransaction(source, v1::MERGE_OUT, actor);
    v1::Transaction in = NewTransaction(target, v1::MERGE_IN, actor);
    out.set_miles(-source.balance());
    out.set_counterparty_member_number(merge.target);
    in.set_miles(source.balance());
    in.set_counterparty_member_number(merge.source);
    *out.mutable_activity_date() = out.posting_date();
    *in.mutable_activity_date() = in.posting_date();
    v1::AccountMerged event;
    event.set_source_member_number(merge.source);
    event.set_target_member_number(merge.target);
    event.set_miles(source.balance());
    // Lots move whole, keeping ids and expiries.
    for (records::OpenLot lot : source.lots()) {
      v1::LotMovement movement;
      movement.set_lot_id(LotId(source, lot));
      *movement.mutable_expiry_date() =
          validation::ToProtoDate(FromDayNumber(lot.expiry_day()));
      movement.set_miles(-lot.remaining_miles());
      *out.add_lot_movements() = movement;
      movement.set_miles(lot.remaining_miles());
      *in.add_lot_movements() = movement;
      // Its ids stay those of the account it was created in.
      if (lot.origin().empty()) lot.set_origin(merge.source);
      store_.IndexExpiry(batch, FromDayNumber(lot.expiry_day()), merge.target);
      *target.add_lots() = std::move(lot);
      event.set_lots_moved(event.lots_moved() + 1);
    }
    std::stable_sort(target.mutable_lots()->begin(), target.mutable_lots()->end(),
                     [](const records::OpenLot& a, const records::OpenLot& b) {
                       return a.expiry_day() < b.expiry_day();
                     });
    for (const records::ActiveHold& active : source.holds()) {
      MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold,
                          store_.LatestHold(active.hold_id()));
      if (hold) {
        hold->set_member_number(merge.target);
        store_.PutHold(batch, *hold);
        store_.IndexHoldExpiry(batch, *hold);
      }
      *target.add_holds() = active;
      event.set_holds_moved(event.holds_moved() + 1);
    }
    for (const records::YearFigures& figures : source.years()) {
      records::YearFigures& into = Year(target, figures.year());
      into.set_qualifying_miles(into.qualifying_miles() + figures.qualifying_miles());
      into.set_qualifying_segments(into.qualifying_segments() +
                                   figures.qualifying_segments());
      into.set_purchased(into.purchased() + figures.purchased());
      into.set_received(into.received() + figures.received());
    }
    store_.raw().WaitForQueued();  // The claims scan sees durable writes.
    MB_ASSIGN_OR_RETURN(std::vector<std::string> claims,
                        store_.ClaimsByMember(merge.source, 0, "", 100'000));
    for (const std::string& claim_id : claims) {
      MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim,
                          store_.LatestClaim(claim_id));
      if (!claim || claim->state() != v1::CLAIM_PENDING) continue;
      v1::RetroClaim moved = *claim;
      moved.set_member_number(merge.target);
      store_.PutClaim(batch, moved, &*claim);
      event.set_claims_moved(event.claims_moved() + 1);
    }
    target.set_balance(target.balance() + source.balance());
    target.set_held(target.held() + source.held());
    target.set_lifetime_earned(target.lifetime_earned() + source.lifetime_earned());
    source.clear_lots();
    source.clear_holds();
    source.set_balance(0);
    source.set_held(0);
    source.set_merged_into(merge.target);
    out.set_balance_after(0);
    in.set_balance_after(target.balance());
    event.set_merge_out_transaction_id(out.transaction_id());
    event.set_merge_in_transaction_id(in.transaction_id());

    store_.PutAccount(batch, source);
    store_.PutAccount(batch, target);
    for (v1::Transaction* transaction : {&out, &in}) {
      store_.PutTransaction(batch, *transaction);
      AppendPosted(batch, *transaction);
    }
    batch.AppendEvent(merge.target, event);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  log::Info("account_merged",
            {{"source", merge.source}, {"target", merge.target}});
  return absl::OkStatus();
}

}  // namespace mileagebank::accrual
