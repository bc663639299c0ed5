// Settlement statements: the monthly figures of one partner (product rules
// section 6) and the statement file sent once a statement is ISSUED
// (partner-files.md section 3).
//
// A statement has three lines, each priced on its own per 1,000 miles and
// rounded half-even to the minor unit (symmetrically for negative amounts,
// -2.5 -> -2):
//   ACCRUAL     the partner's accepted records and their miles, at
//               mile_sale_price (owed by the partner);
//   REDEMPTION  award miles issued on the partner less those refunded, at
//               award_price (owed to the partner; may be negative);
//   PURCHASE    miles the partner's programme credited for own flights, as
//               its acknowledgements say, at mile_purchase_price (owed to
//               the partner);
// net = ACCRUAL - REDEMPTION - PURCHASE, negative when the mileage bank pays.
//
//   StatementActivity activity;
//   activity.accrual_records = 12;
//   activity.accrual_miles = 123457;
//   absl::StatusOr<v1::Statement> statement = ComputeStatement(
//       "CA", absl::CivilMonth(2026, 3), "CNY", partner.contract(), activity);
//   ... statement->set_status(v1::ISSUED); set issued_at ...
//   absl::StatusOr<std::string> bytes = FormatStatementFile(*statement);
//
// Thread-safe: the functions are pure. No floating point anywhere: amounts
// are exact integer arithmetic (absl::int128 for the products).
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENTS_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENTS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "libs/money/per_thousand.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// Statement amounts are rounded as libs/money says.
using money::RoundHalfEvenPerThousand;
using money::TryRoundHalfEvenPerThousand;

// What one partner's calendar month (by posting date) holds, as the source
// services report it. Counts and miles are all >= 0; the REDEMPTION line is
// the difference of issued and refunded, which may be negative.
struct StatementActivity {
  // ACCRUAL: the partner's accepted records posted in the month, those that
  // earned 0 included, and the redeemable miles credited from them, tier
  // bonus included.
  int64_t accrual_records = 0;
  int64_t accrual_miles = 0;
  // REDEMPTION: awards issued on the partner in the month and their miles,
  // and awards refunded in the month and their miles.
  int64_t awards_issued = 0;
  int64_t award_miles_issued = 0;
  int64_t awards_refunded = 0;
  int64_t award_miles_refunded = 0;
  // PURCHASE: the records the partner programme's acknowledgements recorded
  // in the month accepted, and the miles they say it credited.
  int64_t purchase_records = 0;
  int64_t purchase_miles = 0;
};

// "<PARTNER>_<YYYYMM>", e.g. "CA_202603".
std::string StatementId(absl::string_view partner_code, absl::CivilMonth month);

// "<PARTNER>_<YYYYMM>.stmt.csv", e.g. "CA_202603.stmt.csv".
std::string StatementFileName(absl::string_view partner_code,
                              absl::CivilMonth month);

// The figures of `partner_code`'s statement for `month`: statement_id,
// partner_code, year, month, currency_code, the three lines (ACCRUAL,
// REDEMPTION, PURCHASE, in that order), receivable (the ACCRUAL amount),
// payable (REDEMPTION + PURCHASE amounts), net (receivable - payable) and a
// copy of `contract`. Status is DRAFT; timestamps, stream positions, the
// file name and the payment are the caller's.
//
// Errors (nothing is computed):
// - INVALID_ARGUMENT naming the field: a partner code that is not 2-8
//   characters of A-Z and 0-9; a month outside years 1-9999; a currency that
//   is not 3 upper-case letters; a negative count or miles in `activity`
//   ("activity.<field>"); a price in another currency or below zero
//   ("contract.<price>"); contract.mile_sale_price unset.
// - FAILED_PRECONDITION naming the price: award_price unset while there are
//   award miles, or mile_purchase_price unset while there are purchase
//   miles (an unset price with no miles prices the line at 0).
// - OUT_OF_RANGE: an amount, or a sum of amounts, beyond int64.
absl::StatusOr<v1::Statement> ComputeStatement(
    absl::string_view partner_code, absl::CivilMonth month,
    absl::string_view currency_code, const v1::Contract& contract,
    const StatementActivity& activity);

// The statement file (partner-files.md section 3), LF line ends:
//   H,<partner>,<YYYY-MM>,<currency>,<issued>,1
//   L,ACCRUAL,<records>,<miles>,<amount_minor>
//   L,REDEMPTION,<awards>,<miles>,<amount_minor>
//   L,PURCHASE,<records>,<miles>,<amount_minor>
//   T,<net_amount_minor>
// <issued> is statement.issued_at as YYYY-MM-DDTHH:MM:SSZ (UTC, fractions
// of a second dropped). Its name is StatementFileName(partner, month).
//
// FAILED_PRECONDITION when the statement is not one ComputeStatement could
// have produced: issued_at unset (or outside years 1-9999), lines not exactly
// ACCRUAL, REDEMPTION, PURCHASE, an amount in another currency, or net not
// equal to ACCRUAL - REDEMPTION - PURCHASE.
absl::StatusOr<std::string> FormatStatementFile(const v1::Statement& statement);

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENTS_H_
