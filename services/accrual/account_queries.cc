// Ledger: reading accounts (balance, transactions, statement, lots), the
// expiry run, and verification of the ledger invariant.
#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "services/accrual/account.h"
#include "services/accrual/ledger.h"
#include "services/accrual/request_checks.h"

namespace mileagebank::accrual {
namespace {

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;

absl::CivilDay Day(const common::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPage) {
    return InvalidField("page.page_size", "must be 0 to 1,000");
  }
  return page.page_size() == 0 ? kDefaultPage : page.page_size();
}

}  // namespace

v1::Balance Ledger::BalanceOf(const records::Account& account) {
  v1::Balance balance;
  balance.set_member_number(account.member_number());
  balance.set_balance(account.balance());
  balance.set_held(account.held());
  balance.set_available(Available(account));
  balance.set_lifetime_earned(account.lifetime_earned());
  // Lots are in expiry order: the first with miles left expires next.
  int32_t next_day = 0;
  for (const records::OpenLot& lot : account.lots()) {
    if (lot.remaining_miles() <= 0) continue;
    if (next_day == 0) next_day = lot.expiry_day();
    if (lot.expiry_day() != next_day) break;
    balance.set_next_expiry_miles(balance.next_expiry_miles() +
                                  lot.remaining_miles());
  }
  if (next_day != 0) {
    *balance.mutable_next_expiry_date() =
        validation::ToProtoDate(FromDayNumber(next_day));
  }
  balance.set_as_of_sequence(store_.raw().LastSequence());
  return balance;
}

absl::StatusOr<v1::Balance> Ledger::BalanceOfMember(
    const std::string& member_number,
    const std::optional<records::Account>& account) {
  if (account) return BalanceOf(*account);
  // No account yet: a known member simply has nothing.
  records::Account empty;
  MB_ASSIGN_OR_RETURN(*empty.mutable_member_number(),
                      ResolveMember("member_number", member_number,
                                    /*require_active=*/false));
  return BalanceOf(empty);
}

absl::StatusOr<v1::GetBalanceResponse> Ledger::GetBalance(
    const v1::GetBalanceRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::optional<records::Account> account,
                      store_.Account(request.member_number()));
  v1::GetBalanceResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_balance(),
                      BalanceOfMember(request.member_number(), account));
  return response;
}

absl::StatusOr<v1::GetTransactionResponse> Ledger::GetTransaction(
    const v1::GetTransactionRequest& request) {
  if (request.transaction_id().empty()) {
    return InvalidField("transaction_id", "required");
  }
  MB_ASSIGN_OR_RETURN(std::optional<v1::Transaction> transaction,
                      store_.Transaction(request.transaction_id()));
  if (!transaction) {
    return absl::NotFoundError(
        absl::StrCat("transaction_id: no transaction ", request.transaction_id()));
  }
  v1::GetTransactionResponse response;
  *response.mutable_transaction() = *std::move(transaction);
  return response;
}

absl::StatusOr<v1::GetStatementResponse> Ledger::GetStatement(
    const v1::GetStatementRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  absl::CivilDay from = absl::CivilDay(1, 1, 1);
  absl::CivilDay to = absl::CivilDay(9999, 12, 31);
  if (request.has_from_date()) {
    from = CheckDate(errors, "from_date", request.from_date(), to);
  }
  if (request.has_to_date()) {
    to = CheckDate(errors, "to_date", request.to_date(), to);
  }
  if (from > to) errors.Add("from_date", "must not be after to_date");
  absl::StatusOr<int> page_size = PageSize(request.page());
  if (!page_size.ok()) errors.Merge("", page_size.status());
  uint64_t before = 0;
  if (!request.page().page_token().empty() &&
      !absl::SimpleAtoi(request.page().page_token(), &before)) {
    errors.Add("page.page_token", "is not a token this service gave");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  std::set<int> types(request.types().begin(), request.types().end());

  v1::GetStatementResponse response;
  uint64_t last_sequence = 0;
  bool more = false;
  MB_RETURN_IF_ERROR(store_.ScanStatement(
      request.member_number(), before,
      [&](uint64_t sequence, const v1::Transaction& transaction) {
        const absl::CivilDay posted = Day(transaction.posting_date());
        if (posted < from) return false;  // Newest first: nothing older fits.
        if (posted > to) return true;
        if (!types.empty() && types.count(transaction.type()) == 0) return true;
        if (response.transactions_size() == *page_size) {
          more = true;
          return false;
        }
        *response.add_transactions() = transaction;
        last_sequence = sequence;
        return true;
      }));
  if (more) {
    response.mutable_page()->set_next_page_token(std::to_string(last_sequence));
  }
  MB_ASSIGN_OR_RETURN(v1::GetBalanceResponse balance,
                      GetBalance([&] {
                        v1::GetBalanceRequest balance_request;
                        balance_request.set_member_number(request.member_number());
                        return balance_request;
                      }()));
  *response.mutable_balance() = balance.balance();
  return response;
}

absl::StatusOr<v1::ListLotsResponse> Ledger::ListLots(
    const v1::ListLotsRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  absl::StatusOr<int> page_size = PageSize(request.page());
  if (!page_size.ok()) errors.Merge("", page_size.status());
  int64_t offset = 0;
  if (!request.page().page_token().empty() &&
      (!absl::SimpleAtoi(request.page().page_token(), &offset) || offset < 0)) {
    errors.Add("page.page_token", "is not a token this service gave");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::optional<records::Account> account,
                      store_.Account(request.member_number()));
  v1::ListLotsResponse response;
  MB_ASSIGN_OR_RETURN(*response.mutable_balance(),
                      BalanceOfMember(request.member_number(), account));
  std::vector<v1::Lot> lots;
  if (account) {
    for (const records::OpenLot& lot : account->lots()) {
      lots.push_back(ToLot(*account, lot));
    }
  }
  if (request.include_empty()) {
    MB_RETURN_IF_ERROR(store_.ScanUsedLots(request.member_number(),
                                           [&](const v1::Lot& lot) {
                                             lots.push_back(lot);
                                             return true;
                                           }));
    std::stable_sort(lots.begin(), lots.end(),
                     [](const v1::Lot& a, const v1::Lot& b) {
                       return Day(a.expiry_date()) < Day(b.expiry_date());
                     });
  }
  for (size_t i = offset; i < lots.size() && response.lots_size() < *page_size; ++i) {
    *response.add_lots() = lots[i];
  }
  if (offset + response.lots_size() < static_cast<int64_t>(lots.size())) {
    response.mutable_page()->set_next_page_token(
        std::to_string(offset + response.lots_size()));
  }
  return response;
}

absl::StatusOr<uint64_t> Ledger::ExpireMember(
    const std::string& member, const std::vector<absl::CivilDay>& due_days,
    absl::CivilDay run_date, const common::v1::Actor& actor,
    v1::RunExpiryResponse& response) {
  store::KeyLocks::Guard guard = locks_.Lock(member);
  MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
  ExpiryChange change = Expire(account, run_date);
  store::WriteBatch batch = store_.raw().NewBatch();
  // A day stays in the index while lots of it still hold miles (kept back
  // for holds); the others are done with.
  for (absl::CivilDay day : due_days) {
    bool still_due = false;
    for (const records::OpenLot& lot : account.lots()) {
      still_due |= lot.expiry_day() == DayNumber(day) && lot.remaining_miles() > 0;
    }
    if (!still_due) store_.UnindexExpiry(batch, day, member);
  }
  if (change.expired > 0) {
    v1::Transaction transaction = NewTransaction(account, v1::EXPIRE, actor);
    transaction.set_miles(-change.expired);
    transaction.set_idempotency_key(
        absl::StrCat("expire:", validation::FormatDate(run_date)));
    *transaction.mutable_activity_date() = validation::ToProtoDate(run_date);
    RecordLots(batch, account, change.lots, transaction);
    store_.PutTransaction(batch, transaction);
    AppendPosted(batch, transaction);
    for (const v1::Lot& lot : change.expired_lots) {
      v1::LotExpired event;
      event.set_member_number(member);
      event.set_lot_id(lot.lot_id());
      *event.mutable_expiry_date() = lot.expiry_date();
      event.set_miles(lot.remaining_miles());
      event.set_transaction_id(transaction.transaction_id());
      *event.mutable_run_date() = validation::ToProtoDate(run_date);
      batch.AppendEvent(member, event);
    }
    response.set_members_affected(response.members_affected() + 1);
    response.set_lots_expired(response.lots_expired() + change.expired_lots.size());
    response.set_miles_expired(response.miles_expired() + change.expired);
  }
  response.set_miles_kept_for_holds(response.miles_kept_for_holds() +
                                    change.kept_for_holds);
  store_.PutAccount(batch, account);
  return store_.raw().Enqueue(batch);
}

absl::StatusOr<v1::RunExpiryResponse> Ledger::RunExpiry(
    const v1::RunExpiryRequest& request) {
  FieldErrors errors;
  const absl::CivilDay run_date =
      CheckDate(errors, "run_date", request.run_date(), Today());
  if (!request.has_run_date()) errors.Add("run_date", "required");
  MB_RETURN_IF_ERROR(errors.ToStatus());

  v1::RunExpiryResponse response;
  *response.mutable_run_date() = request.run_date();
  MB_ASSIGN_OR_RETURN(auto due, store_.ExpiringBefore(run_date));
  std::map<std::string, std::vector<absl::CivilDay>> members;
  for (const auto& [day, member] : due) members[member].push_back(day);
  uint64_t last_ticket = 0;
  for (const auto& [member, days] : members) {
    MB_ASSIGN_OR_RETURN(last_ticket, ExpireMember(member, days, run_date,
                                                  request.actor(), response));
  }
  store_.raw().Wait(last_ticket);
  log::Info("expiry_run", {{"run_date", validation::FormatDate(run_date)},
                           {"members", response.members_affected()},
                           {"miles", response.miles_expired()},
                           {"kept_for_holds", response.miles_kept_for_holds()}});
  return response;
}

absl::StatusOr<std::optional<v1::LedgerDifference>> Ledger::VerifyMember(
    const std::string& member, int64_t* balance) {
  records::Account account;
  std::string description;
  {
    // Under the lock nothing new is decided; waiting for what is in line
    // makes the durable ledger and the account agree in time. The record
    // checked is the stored one, and decisions' copy in memory must equal
    // it.
    store::KeyLocks::Guard guard = locks_.Lock(member);
    uint64_t ticket = 0;
    MB_ASSIGN_OR_RETURN(records::Account latest,
                        store_.LatestAccount(member, &ticket));
    store_.raw().Wait(ticket);
    MB_ASSIGN_OR_RETURN(std::optional<records::Account> stored,
                        store_.Account(member));
    if (stored) account = *std::move(stored);
    account.set_member_number(member);
    if (latest.SerializeAsString() != account.SerializeAsString()) {
      description = "the account in memory differs from the stored one; ";
    }
  }
  int64_t ledger_sum = 0;
  MB_RETURN_IF_ERROR(store_.ScanStatement(
      member, 0, [&](uint64_t, const v1::Transaction& transaction) {
        ledger_sum += transaction.miles();
        return true;
      }));
  int64_t holds_sum = 0;
  for (const records::ActiveHold& hold : account.holds()) holds_sum += hold.miles();
  const int64_t lot_sum = LotSum(account);
  *balance = account.balance();
  if (account.balance() != ledger_sum) {
    absl::StrAppend(&description, "balance ", account.balance(), " != ledger ",
                    ledger_sum, "; ");
  }
  if (account.balance() != lot_sum) {
    absl::StrAppend(&description, "balance ", account.balance(), " != lots ",
                    lot_sum, "; ");
  }
  if (account.held() != holds_sum) {
    absl::StrAppend(&description, "held ", account.held(), " != active holds ",
                    holds_sum, "; ");
  }
  if (description.empty()) return std::nullopt;
  v1::LedgerDifference difference;
  difference.set_member_number(member);
  difference.set_balance(account.balance());
  difference.set_ledger_sum(ledger_sum);
  difference.set_lot_sum(lot_sum);
  difference.set_held(account.held());
  difference.set_active_holds_sum(holds_sum);
  difference.set_description(description.substr(0, description.size() - 2));
  return difference;
}

absl::StatusOr<v1::VerifyLedgerResponse> Ledger::VerifyLedger(
    const v1::VerifyLedgerRequest& request) {
  std::vector<std::string> members;
  if (!request.member_number().empty()) {
    FieldErrors errors;
    CheckMemberNumber(errors, "member_number", request.member_number());
    MB_RETURN_IF_ERROR(errors.ToStatus());
    members.push_back(request.member_number());
  } else {
    MB_RETURN_IF_ERROR(store_.ScanAccounts([&](const records::Account& account) {
      members.push_back(account.member_number());
      return true;
    }));
  }
  v1::VerifyLedgerResponse response;
  for (const std::string& member : members) {
    int64_t balance = 0;
    MB_ASSIGN_OR_RETURN(std::optional<v1::LedgerDifference> difference,
                        VerifyMember(member, &balance));
    response.set_members_checked(response.members_checked() + 1);
    response.set_total_balance(response.total_balance() + balance);
    if (difference) *response.add_differences() = *std::move(difference);
  }
  response.set_as_of_sequence(store_.raw().LastSequence());
  if (response.differences_size() > 0) {
    log::Error("ledger_differences", {{"count", response.differences_size()}});
  }
  return response;
}

}  // namespace mileagebank::accrual
