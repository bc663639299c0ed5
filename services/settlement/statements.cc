#include "services/settlement/statements.h"

#include <limits>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "libs/csv/csv.h"
#include "libs/status/errors.h"

namespace mileagebank::settlement {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

absl::optional<int64_t> Fit(absl::int128 value) {
  if (value > absl::int128(kInt64Max) || value < absl::int128(kInt64Min)) {
    return absl::nullopt;
  }
  return static_cast<int64_t>(value);
}

bool IsPartnerCode(absl::string_view code) {
  if (code.size() < 2 || code.size() > 8) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsCurrencyCode(absl::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c)) return false;
  }
  return true;
}

common::v1::Money MakeMoney(absl::string_view currency_code,
                            int64_t minor_units) {
  common::v1::Money money;
  money.set_currency_code(std::string(currency_code));
  money.set_minor_units(minor_units);
  return money;
}

// One price of the contract, checked: its minor units, 0 when unset.
absl::StatusOr<int64_t> PriceOf(absl::string_view name, bool has_price,
                                const common::v1::Money& price,
                                absl::string_view currency_code) {
  if (!has_price) return 0;
  if (price.currency_code() != currency_code) {
    return InvalidField(
        absl::StrCat("contract.", name, ".currency_code"),
        absl::StrCat("must be the partner's currency ", currency_code));
  }
  if (price.minor_units() < 0) {
    return InvalidField(absl::StrCat("contract.", name, ".minor_units"),
                        "must be 0 or more");
  }
  return price.minor_units();
}

absl::StatusOr<v1::StatementLine> MakeLine(v1::StatementLineType type,
                                           int64_t count, int64_t miles,
                                           int64_t price,
                                           absl::string_view currency_code) {
  absl::optional<int64_t> amount = TryRoundHalfEvenPerThousand(miles, price);
  if (!amount.has_value()) {
    return absl::OutOfRangeError(absl::StrCat(
        v1::StatementLineType_Name(type), " amount is beyond the int64 range"));
  }
  v1::StatementLine line;
  line.set_type(type);
  line.set_count(count);
  line.set_miles(miles);
  *line.mutable_amount() = MakeMoney(currency_code, *amount);
  return line;
}

}  // namespace

std::string StatementId(absl::string_view partner_code,
                        absl::CivilMonth month) {
  return absl::StrFormat("%s_%04d%02d", partner_code, month.year(),
                         month.month());
}

std::string StatementFileName(absl::string_view partner_code,
                              absl::CivilMonth month) {
  return absl::StrCat(StatementId(partner_code, month), ".stmt.csv");
}

absl::StatusOr<v1::Statement> ComputeStatement(
    absl::string_view partner_code, absl::CivilMonth month,
    absl::string_view currency_code, const v1::Contract& contract,
    const StatementActivity& activity) {
  if (!IsPartnerCode(partner_code)) {
    return InvalidField("partner_code", "must be 2-8 characters of A-Z, 0-9");
  }
  if (month.year() < 1 || month.year() > 9999) {
    return InvalidField("month", "year must be 1 to 9999");
  }
  if (!IsCurrencyCode(currency_code)) {
    return InvalidField("currency_code", "must be 3 upper-case letters");
  }
  const std::pair<const char*, int64_t> counts[] = {
      {"accrual_records", activity.accrual_records},
      {"accrual_miles", activity.accrual_miles},
      {"awards_issued", activity.awards_issued},
      {"award_miles_issued", activity.award_miles_issued},
      {"awards_refunded", activity.awards_refunded},
      {"award_miles_refunded", activity.award_miles_refunded},
      {"purchase_records", activity.purchase_records},
      {"purchase_miles", activity.purchase_miles},
  };
  for (const auto& [name, value] : counts) {
    if (value < 0) {
      return InvalidField(absl::StrCat("activity.", name), "must be 0 or more");
    }
  }
  if (!contract.has_mile_sale_price()) {
    return InvalidField("contract.mile_sale_price", "is required");
  }
  absl::StatusOr<int64_t> sale_price = PriceOf(
      "mile_sale_price", true, contract.mile_sale_price(), currency_code);
  if (!sale_price.ok()) return sale_price.status();
  absl::StatusOr<int64_t> award_price =
      PriceOf("award_price", contract.has_award_price(), contract.award_price(),
              currency_code);
  if (!award_price.ok()) return award_price.status();
  absl::StatusOr<int64_t> purchase_price =
      PriceOf("mile_purchase_price", contract.has_mile_purchase_price(),
              contract.mile_purchase_price(), currency_code);
  if (!purchase_price.ok()) return purchase_price.status();

  // Both operands are >= 0, so the differences cannot overflow.
  const int64_t awards = activity.awards_issued - activity.awards_refunded;
  const int64_t award_miles =
      activity.award_miles_issued - activity.award_miles_refunded;
  if (award_miles != 0 && !contract.has_award_price()) {
    return FailedPreconditionField("contract.award_price",
                                   "is required to price award miles");
  }
  if (activity.purchase_miles != 0 && !contract.has_mile_purchase_price()) {
    return FailedPreconditionField("contract.mile_purchase_price",
                                   "is required to price purchased miles");
  }

  absl::StatusOr<v1::StatementLine> accrual =
      MakeLine(v1::ACCRUAL, activity.accrual_records, activity.accrual_miles,
               *sale_price, currency_code);
  if (!accrual.ok()) return accrual.status();
  absl::StatusOr<v1::StatementLine> redemption = MakeLine(
      v1::REDEMPTION, awards, award_miles, *award_price, currency_code);
  if (!redemption.ok()) return redemption.status();
  absl::StatusOr<v1::StatementLine> purchase =
      MakeLine(v1::PURCHASE, activity.purchase_records, activity.purchase_miles,
               *purchase_price, currency_code);
  if (!purchase.ok()) return purchase.status();

  const int64_t receivable = accrual->amount().minor_units();
  const absl::optional<int64_t> payable =
      Fit(absl::int128(redemption->amount().minor_units()) +
          absl::int128(purchase->amount().minor_units()));
  if (!payable.has_value()) {
    return absl::OutOfRangeError("payable is beyond the int64 range");
  }
  const absl::optional<int64_t> net =
      Fit(absl::int128(receivable) - absl::int128(*payable));
  if (!net.has_value()) {
    return absl::OutOfRangeError("net is beyond the int64 range");
  }

  v1::Statement statement;
  statement.set_statement_id(StatementId(partner_code, month));
  statement.set_partner_code(std::string(partner_code));
  statement.set_year(static_cast<int32_t>(month.year()));
  statement.set_month(month.month());
  statement.set_currency_code(std::string(currency_code));
  statement.set_status(v1::DRAFT);
  *statement.add_lines() = *std::move(accrual);
  *statement.add_lines() = *std::move(redemption);
  *statement.add_lines() = *std::move(purchase);
  *statement.mutable_receivable() = MakeMoney(currency_code, receivable);
  *statement.mutable_payable() = MakeMoney(currency_code, *payable);
  *statement.mutable_net() = MakeMoney(currency_code, *net);
  *statement.mutable_contract() = contract;
  return statement;
}

absl::StatusOr<std::string> FormatStatementFile(
    const v1::Statement& statement) {
  if (!statement.has_issued_at()) {
    return FailedPreconditionField("statement.issued_at", "is required");
  }
  const absl::Time issued_at =
      absl::FromUnixSeconds(statement.issued_at().seconds());
  const int64_t issued_year =
      absl::ToCivilSecond(issued_at, absl::UTCTimeZone()).year();
  if (issued_year < 1 || issued_year > 9999) {
    return FailedPreconditionField("statement.issued_at",
                                   "must be in years 1 to 9999");
  }
  const v1::StatementLineType kOrder[] = {v1::ACCRUAL, v1::REDEMPTION,
                                          v1::PURCHASE};
  if (statement.lines_size() != 3) {
    return FailedPreconditionField("statement.lines",
                                   "must be ACCRUAL, REDEMPTION and PURCHASE");
  }
  for (int i = 0; i < 3; ++i) {
    const v1::StatementLine& line = statement.lines(i);
    if (line.type() != kOrder[i]) {
      return FailedPreconditionField(
          absl::StrCat("statement.lines[", i, "].type"),
          absl::StrCat("must be ", v1::StatementLineType_Name(kOrder[i])));
    }
    if (line.amount().currency_code() != statement.currency_code()) {
      return FailedPreconditionField(
          absl::StrCat("statement.lines[", i, "].amount.currency_code"),
          "must be the statement's currency");
    }
  }
  const absl::int128 net =
      absl::int128(statement.lines(0).amount().minor_units()) -
      absl::int128(statement.lines(1).amount().minor_units()) -
      absl::int128(statement.lines(2).amount().minor_units());
  if (statement.net().currency_code() != statement.currency_code() ||
      absl::int128(statement.net().minor_units()) != net) {
    return FailedPreconditionField("statement.net",
                                   "must be ACCRUAL - REDEMPTION - PURCHASE");
  }

  std::string file = csv::FormatRecord({
      "H",
      statement.partner_code(),
      absl::StrFormat("%04d-%02d", statement.year(), statement.month()),
      statement.currency_code(),
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", issued_at, absl::UTCTimeZone()),
      "1",
  });
  for (const v1::StatementLine& line : statement.lines()) {
    absl::StrAppend(
        &file, csv::FormatRecord({"L", v1::StatementLineType_Name(line.type()),
                                  absl::StrCat(line.count()),
                                  absl::StrCat(line.miles()),
                                  absl::StrCat(line.amount().minor_units())}));
  }
  absl::StrAppend(
      &file,
      csv::FormatRecord({"T", absl::StrCat(statement.net().minor_units())}));
  return file;
}

}  // namespace mileagebank::settlement
