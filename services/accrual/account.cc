#include "services/accrual/account.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/validation/dates.h"

namespace mileagebank::accrual {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

absl::CivilDay Day(const common::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::LotMovement Movement(const records::Account& account,
                         const records::OpenLot& lot, int64_t miles) {
  v1::LotMovement movement;
  movement.set_lot_id(LotId(account, lot));
  movement.set_miles(miles);
  *movement.mutable_expiry_date() =
      validation::ToProtoDate(FromDayNumber(lot.expiry_day()));
  return movement;
}

// Places `lot` after every lot expiring on or before its expiry.
void InsertInOrder(records::Account& account, records::OpenLot lot) {
  auto* lots = account.mutable_lots();
  int position = lots->size();
  for (int i = 0; i < lots->size(); ++i) {
    if (lots->Get(i).expiry_day() > lot.expiry_day()) {
      position = i;
      break;
    }
  }
  *lots->Add() = std::move(lot);
  for (int i = lots->size() - 1; i > position; --i) lots->SwapElements(i, i - 1);
}

// Moves lots that reached exactly zero out of the account.
void RemoveEmpty(records::Account& account, LotChange& change) {
  auto* lots = account.mutable_lots();
  for (int i = 0; i < lots->size();) {
    if (lots->Get(i).remaining_miles() == 0) {
      change.emptied.push_back(ToLot(account, lots->Get(i)));
      lots->DeleteSubrange(i, 1);
    } else {
      ++i;
    }
  }
}

// Fills deficit lots with up to `miles`; returns what is left.
int64_t FillDeficits(records::Account& account, int64_t miles,
                     LotChange& change) {
  for (records::OpenLot& lot : *account.mutable_lots()) {
    if (miles == 0) break;
    if (lot.remaining_miles() >= 0) continue;
    const int64_t fill = std::min(miles, -lot.remaining_miles());
    lot.set_remaining_miles(lot.remaining_miles() + fill);
    change.movements.push_back(Movement(account, lot, fill));
    miles -= fill;
  }
  return miles;
}

// Takes up to `miles` from lots with miles left, in order; returns what it
// could not take.
int64_t TakeInOrder(records::Account& account, int64_t miles,
                    LotChange& change) {
  for (records::OpenLot& lot : *account.mutable_lots()) {
    if (miles == 0) break;
    if (lot.remaining_miles() <= 0) continue;
    const int64_t take = std::min(miles, lot.remaining_miles());
    lot.set_remaining_miles(lot.remaining_miles() - take);
    change.movements.push_back(Movement(account, lot, -take));
    miles -= take;
  }
  return miles;
}

// The number after "-<kind>" at the end of an id ("<member>-T17" -> 17).
uint64_t IdNumber(absl::string_view id) {
  uint64_t number = 0;
  size_t dash = id.rfind('-');
  if (dash != absl::string_view::npos && dash + 2 <= id.size()) {
    (void)absl::SimpleAtoi(id.substr(dash + 2), &number);
  }
  return number;
}

records::OpenLot MakeLot(records::Account& account,
                         const std::string& transaction_id,
                         v1::TransactionType source_type,
                         absl::CivilDay activity_date,
                         absl::CivilDay expiry_date, int64_t original,
                         int64_t remaining) {
  records::OpenLot lot;
  account.set_last_sequence(account.last_sequence() + 1);
  lot.set_number(account.last_sequence());
  lot.set_transaction(IdNumber(transaction_id));
  lot.set_source_type(source_type);
  lot.set_activity_day(DayNumber(activity_date));
  lot.set_expiry_day(DayNumber(expiry_date));
  lot.set_original_miles(original);
  lot.set_remaining_miles(remaining);
  return lot;
}

// The open form of a lot recorded in API form (to restore a used-up lot).
records::OpenLot FromLot(const records::Account& account, const v1::Lot& lot) {
  records::OpenLot open;
  open.set_number(IdNumber(lot.lot_id()));
  const std::string origin = lot.lot_id().substr(0, lot.lot_id().rfind('-'));
  if (origin != account.member_number()) open.set_origin(origin);
  open.set_transaction(IdNumber(lot.transaction_id()));
  open.set_source_type(lot.source_type());
  open.set_activity_day(DayNumber(Day(lot.activity_date())));
  open.set_expiry_day(DayNumber(Day(lot.expiry_date())));
  open.set_original_miles(lot.original_miles());
  open.set_remaining_miles(lot.remaining_miles());
  open.set_expired(lot.expired());
  return open;
}

}  // namespace

int64_t Available(const records::Account& account) {
  return account.balance() - account.held();
}

std::string NextId(records::Account& account, char kind) {
  account.set_last_sequence(account.last_sequence() + 1);
  return absl::StrCat(account.member_number(), "-", std::string(1, kind),
                      account.last_sequence());
}

int32_t DayNumber(absl::CivilDay day) {
  return static_cast<int32_t>(day - kEpoch);
}

absl::CivilDay FromDayNumber(int32_t number) { return kEpoch + number; }

std::string LotId(const records::Account& account, const records::OpenLot& lot) {
  return absl::StrCat(lot.origin().empty() ? account.member_number() : lot.origin(),
                      "-L", lot.number());
}

std::string CreditId(const records::Account& account,
                     const records::OpenLot& lot) {
  return absl::StrCat(lot.origin().empty() ? account.member_number() : lot.origin(),
                      "-T", lot.transaction());
}

v1::Lot ToLot(const records::Account& account, const records::OpenLot& lot) {
  v1::Lot api;
  api.set_lot_id(LotId(account, lot));
  api.set_member_number(account.member_number());
  api.set_transaction_id(CreditId(account, lot));
  api.set_source_type(static_cast<v1::TransactionType>(lot.source_type()));
  *api.mutable_activity_date() =
      validation::ToProtoDate(FromDayNumber(lot.activity_day()));
  *api.mutable_expiry_date() =
      validation::ToProtoDate(FromDayNumber(lot.expiry_day()));
  api.set_original_miles(lot.original_miles());
  api.set_remaining_miles(lot.remaining_miles());
  api.set_expired(lot.expired());
  return api;
}

const records::OpenLot* FindCreditLot(const records::Account& account,
                                      absl::string_view transaction_id) {
  for (const records::OpenLot& lot : account.lots()) {
    if (CreditId(account, lot) == transaction_id) return &lot;
  }
  return nullptr;
}

LotChange Credit(records::Account& account, int64_t miles, const NewLot& lot) {
  LotChange change;
  const int64_t left = FillDeficits(account, miles, change);
  records::OpenLot created = MakeLot(account, lot.transaction_id, lot.source_type,
                                     lot.activity_date, lot.expiry_date, miles, left);
  if (left > 0) {
    change.movements.push_back(Movement(account, created, left));
    InsertInOrder(account, std::move(created));
  } else {
    change.emptied.push_back(ToLot(account, created));
  }
  account.set_balance(account.balance() + miles);
  RemoveEmpty(account, change);
  return change;
}

bool CreditsPacked(const records::Account& account, int64_t miles) {
  return miles > 0 && account.lots().empty() &&
         (account.packed_lots().empty() || account.every_lot_holds_miles());
}

v1::LotMovement CreditPacked(records::Account& account, int64_t miles,
                             const NewLot& lot, const PackedSlot& slot) {
  const records::OpenLot created =
      MakeLot(account, lot.transaction_id, lot.source_type, lot.activity_date,
              lot.expiry_date, miles, miles);
  InsertPackedLot(account, slot, created);
  account.set_balance(account.balance() + miles);
  return Movement(account, created, miles);
}

LotChange CreditKeepingExpiry(records::Account& account,
                              const std::vector<v1::LotMovement>& sources,
                              int64_t miles, const std::string& transaction_id,
                              v1::TransactionType source_type,
                              absl::CivilDay activity_date) {
  LotChange change;
  int64_t deficit_left = FillDeficits(account, miles, change);
  // What deficits took is taken from the earliest sources first.
  int64_t to_skip = miles - deficit_left;
  for (const v1::LotMovement& source : sources) {
    int64_t amount = -source.miles();
    if (amount <= 0) continue;
    const int64_t skipped = std::min(to_skip, amount);
    to_skip -= skipped;
    amount -= skipped;
    if (amount == 0) continue;
    records::OpenLot lot = MakeLot(account, transaction_id, source_type,
                                   activity_date, Day(source.expiry_date()),
                                   amount, amount);
    change.movements.push_back(Movement(account, lot, amount));
    InsertInOrder(account, std::move(lot));
  }
  account.set_balance(account.balance() + miles);
  RemoveEmpty(account, change);
  return change;
}

LotChange Debit(records::Account& account, int64_t miles) {
  LotChange change;
  TakeInOrder(account, miles, change);
  account.set_balance(account.balance() - miles);
  RemoveEmpty(account, change);
  return change;
}

LotChange Reverse(records::Account& account, const v1::Lot& credit_lot,
                  int64_t miles) {
  LotChange change;
  int64_t left = miles;
  records::OpenLot* own = nullptr;
  for (records::OpenLot& lot : *account.mutable_lots()) {
    if (LotId(account, lot) == credit_lot.lot_id()) own = &lot;
  }
  if (own != nullptr && own->remaining_miles() > 0) {
    const int64_t take = std::min(left, own->remaining_miles());
    own->set_remaining_miles(own->remaining_miles() - take);
    change.movements.push_back(Movement(account, *own, -take));
    left -= take;
  }
  left = TakeInOrder(account, left, change);
  if (left > 0) {
    // Too few miles: the credit's lot carries the deficit until later
    // credits fill it.
    if (own == nullptr) {
      records::OpenLot deficit = FromLot(account, credit_lot);
      deficit.set_remaining_miles(-left);
      deficit.set_expired(false);
      change.movements.push_back(Movement(account, deficit, -left));
      InsertInOrder(account, std::move(deficit));
    } else {
      own->set_remaining_miles(own->remaining_miles() - left);
      change.movements.push_back(Movement(account, *own, -left));
    }
  }
  account.set_balance(account.balance() - miles);
  RemoveEmpty(account, change);
  return change;
}

ExpiryChange Expire(records::Account& account, absl::CivilDay run_date) {
  ExpiryChange change;
  const int32_t run_day = DayNumber(run_date);
  int64_t due = 0;
  for (const records::OpenLot& lot : account.lots()) {
    if (lot.remaining_miles() > 0 && lot.expiry_day() < run_day) {
      due += lot.remaining_miles();
    }
  }
  int64_t to_expire = std::min(due, std::max<int64_t>(0, Available(account)));
  change.kept_for_holds = due - to_expire;
  change.expired = to_expire;
  for (records::OpenLot& lot : *account.mutable_lots()) {
    if (to_expire == 0) break;
    if (lot.remaining_miles() <= 0 || lot.expiry_day() >= run_day) continue;
    const int64_t take = std::min(to_expire, lot.remaining_miles());
    lot.set_remaining_miles(lot.remaining_miles() - take);
    if (lot.remaining_miles() == 0) lot.set_expired(true);
    change.lots.movements.push_back(Movement(account, lot, -take));
    v1::Lot expired = ToLot(account, lot);
    expired.set_remaining_miles(take);  // Miles this run expired from it.
    change.expired_lots.push_back(std::move(expired));
    to_expire -= take;
  }
  account.set_balance(account.balance() - change.expired);
  RemoveEmpty(account, change.lots);
  return change;
}

records::YearFigures& Year(records::Account& account, int32_t year) {
  for (records::YearFigures& figures : *account.mutable_years()) {
    if (figures.year() == year) return figures;
  }
  records::YearFigures* figures = account.add_years();
  figures->set_year(year);
  return *figures;
}

records::YearFigures YearOrZero(const records::Account& account, int32_t year) {
  for (const records::YearFigures& figures : account.years()) {
    if (figures.year() == year) return figures;
  }
  records::YearFigures zero;
  zero.set_year(year);
  return zero;
}

int64_t LotSum(const records::Account& account) {
  int64_t sum = 0;
  for (const records::OpenLot& lot : account.lots()) sum += lot.remaining_miles();
  return sum;
}

}  // namespace mileagebank::accrual
