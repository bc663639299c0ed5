// The mileage account's rules (product rules section 4) over one account
// record: lots with their own expiry, debits oldest expiry first, deficits
// left by reversals, holds counting against available miles, and expiry.
//
// Plain functions over records::Account; no store, no clock of their own.
// Every function keeps balance equal to the sum of remaining lot miles.
// Thread-compatible.
#ifndef MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/accrual/packed_lots.h"
#include "services/accrual/records.pb.h"

namespace mileagebank::accrual {

// balance - held: what a hold, debit or transfer may use.
int64_t Available(const records::Account& account);

// The next number for an id of this account ("<member>-<kind><n>").
std::string NextId(records::Account& account, char kind);

// Days since 1970-01-01, as open lots keep their dates.
int32_t DayNumber(absl::CivilDay day);
absl::CivilDay FromDayNumber(int32_t number);

// An open lot's ids and API form.
std::string LotId(const records::Account& account, const records::OpenLot& lot);
std::string CreditId(const records::Account& account,
                     const records::OpenLot& lot);
v1::Lot ToLot(const records::Account& account, const records::OpenLot& lot);

// What a credit's new lot is.
struct NewLot {
  // "<member>-T<n>" of this account.
  std::string transaction_id;
  v1::TransactionType source_type;
  absl::CivilDay activity_date;
  absl::CivilDay expiry_date;
};

// What a change did to the lots.
struct LotChange {
  std::vector<v1::LotMovement> movements;
  // Lots that reached zero and left the account (for the used-lots table).
  std::vector<v1::Lot> emptied;
};

// Credits `miles` (>= 0): deficits are filled first, oldest first; what is
// left becomes a new lot. A credit of 0 makes an empty lot record only.
LotChange Credit(records::Account& account, int64_t miles, const NewLot& lot);

// The usual credit: a new lot to an account whose lots all hold miles (no
// deficit to fill, none to remove). Whether `account`, packed
// (packed_lots.h), takes a credit of `miles` that way; CreditPacked then does
// what Credit would, without unpacking the lots, given the slot found for
// the lot's expiry day (FindPackedSlot).
bool CreditsPacked(const records::Account& account, int64_t miles);
v1::LotMovement CreditPacked(records::Account& account, int64_t miles,
                             const NewLot& lot, const PackedSlot& slot);

// Credits miles that keep the expiries they came from (a transfer received,
// a redeposit, a merge): one lot per movement of `sources` (negative
// movements of the account they left), after filling deficits.
LotChange CreditKeepingExpiry(records::Account& account,
                              const std::vector<v1::LotMovement>& sources,
                              int64_t miles, const std::string& transaction_id,
                              v1::TransactionType source_type,
                              absl::CivilDay activity_date);

// Debits `miles` (> 0) from lots oldest expiry first. The caller has checked
// that the account has them (Available, or balance for a capture).
LotChange Debit(records::Account& account, int64_t miles);

// Takes back a credit's `miles`: from its own lot first, then other lots
// oldest expiry first; what is still missing stays as a deficit on the
// credit's lot (the only way a balance goes below zero).
// `credit_lot` is the credit's lot as last recorded (in the account, or in
// the used-lots table once it was used up).
LotChange Reverse(records::Account& account, const v1::Lot& credit_lot,
                  int64_t miles);

// Expires the remainder of lots whose expiry date is before `run_date`,
// except what active holds need: expiry never makes available negative.
struct ExpiryChange {
  LotChange lots;
  int64_t expired = 0;
  int64_t kept_for_holds = 0;
  // Lots that lost miles to this run.
  std::vector<v1::Lot> expired_lots;
};
ExpiryChange Expire(records::Account& account, absl::CivilDay run_date);

// The account's figures of `year`, created when missing.
records::YearFigures& Year(records::Account& account, int32_t year);
// The figures of `year`, or zeros.
records::YearFigures YearOrZero(const records::Account& account, int32_t year);

// The open lot created by credit `transaction_id`, if it is still open.
const records::OpenLot* FindCreditLot(const records::Account& account,
                                      absl::string_view transaction_id);

// Sum of remaining miles over the account's lots.
int64_t LotSum(const records::Account& account);

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_ACCOUNT_H_
