#include "services/reporting/partner_settlement.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/settlement/statements.h"

namespace mileagebank::reporting {
namespace {

namespace sv1 = settlement::v1;

// Counter row of the items tables.
enum ItemColumn {
  kAccrualRecords = 0,
  kAccrualMiles,
  kAwardsIssued,
  kAwardMilesIssued,
  kAwardsRefunded,
  kAwardMilesRefunded,
  kPurchaseRecords,
  kPurchaseMiles,
  kItemColumns
};
using Items = std::array<int64_t, kItemColumns>;

// Counter row of the issued table: the issued statements' lines.
enum IssuedColumn {
  kIssuedAccrualRecords = 0,
  kIssuedAccrualMiles,
  kIssuedAwards,
  kIssuedAwardMiles,
  kIssuedPurchaseRecords,
  kIssuedPurchaseMiles,
  kIssuedColumns
};

int64_t MonthIndex(absl::CivilMonth month) {
  return month.year() * 12 + (month.month() - 1);
}

absl::CivilMonth MonthOfIndex(int64_t index) {
  return absl::CivilMonth(index / 12, index % 12 + 1);
}

std::string PartnerKey(absl::string_view code) {
  return store::KeyBuilder().String(code).Build();
}

std::string MonthKey(absl::string_view code, absl::CivilMonth month) {
  return store::KeyBuilder().String(code).Int64(MonthIndex(month)).Build();
}

absl::CivilMonth UtcMonth(const google::protobuf::Timestamp& time) {
  return absl::CivilMonth(
      validation::UtcDay(validation::FromProtoTimestamp(time)));
}

bool IsSet(const google::protobuf::Timestamp& time) {
  return time.seconds() != 0 || time.nanos() != 0;
}

// As settlement dates an item: its date, else its time, else the event's.
absl::CivilMonth ItemMonth(const common::v1::Date* date,
                           const google::protobuf::Timestamp* time,
                           const common::v1::Event& event) {
  if (date != nullptr) {
    absl::StatusOr<absl::CivilDay> day = validation::ToCivilDay("date", *date);
    if (day.ok()) return absl::CivilMonth(*day);
  }
  if (time != nullptr && IsSet(*time)) return UtcMonth(*time);
  return UtcMonth(event.recorded_at());
}

bool IsPartnerCode(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 8 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

absl::Status RecordItem(ViewState& state, absl::string_view code,
                        absl::CivilMonth month, const Items& delta) {
  MB_RETURN_IF_ERROR(
      state.Add(kPartnerSettlementItemsTable, MonthKey(code, month), delta));
  return state.Add(kPartnerSettlementItemTotalsTable, PartnerKey(code), delta);
}

absl::Status ApplyAccrual(const SourceEvent& event, ViewState& state) {
  MB_ASSIGN_OR_RETURN(const accrual::v1::CreditPosted* posted,
                      event.Payload<accrual::v1::CreditPosted>());
  if (posted == nullptr) return absl::OkStatus();
  const accrual::v1::Transaction& transaction = posted->transaction();
  if ((transaction.type() != accrual::v1::PARTNER_FLIGHT &&
       transaction.type() != accrual::v1::PARTNER_ACTIVITY) ||
      transaction.partner_code().empty()) {
    return absl::OkStatus();
  }
  Items delta{};
  delta[kAccrualRecords] = 1;
  delta[kAccrualMiles] = transaction.miles();
  return RecordItem(
      state, transaction.partner_code(),
      ItemMonth(transaction.has_posting_date() ? &transaction.posting_date()
                                               : nullptr,
                &transaction.posted_at(), event.event()),
      delta);
}

absl::Status ApplyRedemption(const SourceEvent& event, ViewState& state) {
  namespace rv1 = redemption::v1;
  MB_ASSIGN_OR_RETURN(const rv1::RedemptionIssued* issued,
                      event.Payload<rv1::RedemptionIssued>());
  const rv1::RedemptionRecord* award =
      issued != nullptr ? &issued->redemption() : nullptr;
  if (award == nullptr) {
    MB_ASSIGN_OR_RETURN(const rv1::RedemptionRefunded* refunded,
                        event.Payload<rv1::RedemptionRefunded>());
    if (refunded == nullptr) return absl::OkStatus();
    award = &refunded->redemption();
  }
  if (award->partner_code().empty()) return absl::OkStatus();
  Items delta{};
  if (issued != nullptr) {
    delta[kAwardsIssued] = 1;
    delta[kAwardMilesIssued] = award->total_miles();
  } else {
    delta[kAwardsRefunded] = 1;
    delta[kAwardMilesRefunded] = award->total_miles();
  }
  return RecordItem(state, award->partner_code(),
                    ItemMonth(nullptr,
                              issued != nullptr ? &award->issued_at()
                                                : &award->refunded_at(),
                              event.event()),
                    delta);
}

// The line of `type` in a statement; null when it has none.
const sv1::StatementLine* LineOf(const sv1::Statement& statement,
                                 sv1::StatementLineType type) {
  for (const sv1::StatementLine& line : statement.lines()) {
    if (line.type() == type) return &line;
  }
  return nullptr;
}

absl::Status ApplySettlement(const SourceEvent& event, ViewState& state) {
  MB_ASSIGN_OR_RETURN(const sv1::PartnerRegistered* registered,
                      event.Payload<sv1::PartnerRegistered>());
  const sv1::Partner* registered_partner =
      registered != nullptr ? &registered->partner() : nullptr;
  if (registered_partner == nullptr) {
    MB_ASSIGN_OR_RETURN(const sv1::PartnerUpdated* updated,
                        event.Payload<sv1::PartnerUpdated>());
    if (updated != nullptr) registered_partner = &updated->partner();
  }
  if (registered_partner != nullptr) {
    sv1::Partner partner = *registered_partner;
    // Only what the report shows and prices with is kept.
    partner.mutable_contract()->clear_earning_table();
    state.PutProto(kPartnerSettlementPartnersTable,
                   PartnerKey(partner.partner_code()), partner);
    return absl::OkStatus();
  }
  MB_ASSIGN_OR_RETURN(const sv1::OutboundFileAcknowledged* acknowledged,
                      event.Payload<sv1::OutboundFileAcknowledged>());
  if (acknowledged != nullptr) {
    const sv1::OutboundFile& file = acknowledged->file();
    Items delta{};
    delta[kPurchaseRecords] = file.records_accepted();
    delta[kPurchaseMiles] = file.miles_credited();
    return RecordItem(state, file.partner_code(),
                      ItemMonth(nullptr, &file.acknowledged_at(), event.event()),
                      delta);
  }
  MB_ASSIGN_OR_RETURN(const sv1::StatementIssued* statement_issued,
                      event.Payload<sv1::StatementIssued>());
  const bool issued = statement_issued != nullptr;
  sv1::Statement statement;
  if (issued) {
    statement = statement_issued->statement();
  } else {
    MB_ASSIGN_OR_RETURN(const sv1::StatementSettled* settled,
                        event.Payload<sv1::StatementSettled>());
    if (settled == nullptr) return absl::OkStatus();
    statement = settled->statement();
  }
  // The report shows figures; the contract and positions are settlement's.
  statement.clear_contract();
  statement.clear_stream_positions();
  const absl::CivilMonth month(statement.year(), statement.month());
  state.PutProto(kPartnerSettlementStatementsTable,
                 MonthKey(statement.partner_code(), month), statement);
  if (!issued) return absl::OkStatus();
  std::array<int64_t, kIssuedColumns> took{};
  if (const auto* line = LineOf(statement, sv1::ACCRUAL)) {
    took[kIssuedAccrualRecords] = line->count();
    took[kIssuedAccrualMiles] = line->miles();
  }
  if (const auto* line = LineOf(statement, sv1::REDEMPTION)) {
    took[kIssuedAwards] = line->count();
    took[kIssuedAwardMiles] = line->miles();
  }
  if (const auto* line = LineOf(statement, sv1::PURCHASE)) {
    took[kIssuedPurchaseRecords] = line->count();
    took[kIssuedPurchaseMiles] = line->miles();
  }
  return state.Add(kPartnerSettlementIssuedTable,
                   PartnerKey(statement.partner_code()), took);
}

// ---------------------------------------------------------------------------
// The query

absl::Status Unreadable(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": unreadable row"));
}

Items ItemsOf(const std::vector<int64_t>& values) {
  Items items{};
  for (size_t i = 0; i < items.size() && i < values.size(); ++i) {
    items[i] = values[i];
  }
  return items;
}

// Rows of `table` for `code`'s months [first, end), keyed by month.
template <typename Visit>
absl::Status ScanMonths(const ViewReader& view, absl::string_view table,
                        absl::string_view code, int64_t first, int64_t end,
                        const Visit& visit) {
  store::ScanRange range;
  range.start = store::KeyBuilder().String(code).Int64(first).Build();
  range.end = end == INT64_MAX
                  ? store::PrefixEnd(PartnerKey(code))
                  : store::KeyBuilder().String(code).Int64(end).Build();
  bool corrupt = false;
  MB_RETURN_IF_ERROR(view.Scan(
      table, range, [&](absl::string_view raw, absl::string_view value) {
        store::KeyReader key(raw);
        std::string ignored;
        int64_t index = 0;
        if (!key.String(&ignored) || !key.Int64(&index) || !key.done() ||
            !visit(index, value)) {
          corrupt = true;
          return false;
        }
        return true;
      }));
  return corrupt ? Unreadable(table) : absl::OkStatus();
}

// The months of one partner that the report shows, with what it needs.
struct PartnerMonths {
  std::map<int64_t, sv1::Statement> issued;
  std::map<int64_t, Items> items;
  // The month after the last issued one, or the registration month.
  absl::CivilMonth first_draft;
};

absl::Status AddMoney(int64_t delta, int64_t* sum) {
  if (__builtin_add_overflow(*sum, delta, sum)) {
    return absl::OutOfRangeError("currency totals beyond the int64 range");
  }
  return absl::OkStatus();
}

common::v1::Money Money(absl::string_view currency, int64_t minor_units) {
  common::v1::Money money;
  money.set_currency_code(std::string(currency));
  money.set_minor_units(minor_units);
  return money;
}

// The first DRAFT month's activity: every item of months up to it, less
// what the issued statements took.
absl::StatusOr<settlement::StatementActivity> FirstDraftActivity(
    const ViewReader& view, absl::string_view code,
    absl::CivilMonth first_draft) {
  MB_ASSIGN_OR_RETURN(
      std::vector<int64_t> totals,
      view.Counters(kPartnerSettlementItemTotalsTable, PartnerKey(code)));
  Items through = ItemsOf(totals);
  MB_RETURN_IF_ERROR(ScanMonths(
      view, kPartnerSettlementItemsTable, code, MonthIndex(first_draft) + 1,
      INT64_MAX, [&](int64_t, absl::string_view value) {
        std::vector<int64_t> later;
        if (!DecodeCounters(value, &later)) return false;
        for (size_t i = 0; i < through.size() && i < later.size(); ++i) {
          through[i] -= later[i];
        }
        return true;
      }));
  MB_ASSIGN_OR_RETURN(
      std::vector<int64_t> took_values,
      view.Counters(kPartnerSettlementIssuedTable, PartnerKey(code)));
  took_values.resize(kIssuedColumns, 0);
  const auto left = [](int64_t value) { return std::max<int64_t>(value, 0); };
  settlement::StatementActivity activity;
  activity.accrual_records =
      left(through[kAccrualRecords] - took_values[kIssuedAccrualRecords]);
  activity.accrual_miles =
      left(through[kAccrualMiles] - took_values[kIssuedAccrualMiles]);
  activity.purchase_records =
      left(through[kPurchaseRecords] - took_values[kIssuedPurchaseRecords]);
  activity.purchase_miles =
      left(through[kPurchaseMiles] - took_values[kIssuedPurchaseMiles]);
  // Only issued less refunded matters to the line; a negative net is shown
  // as refunds.
  const int64_t awards = through[kAwardsIssued] - through[kAwardsRefunded] -
                         took_values[kIssuedAwards];
  const int64_t award_miles = through[kAwardMilesIssued] -
                              through[kAwardMilesRefunded] -
                              took_values[kIssuedAwardMiles];
  activity.awards_issued = left(awards);
  activity.awards_refunded = left(-awards);
  activity.award_miles_issued = left(award_miles);
  activity.award_miles_refunded = left(-award_miles);
  return activity;
}

settlement::StatementActivity ActivityOf(const Items& items) {
  settlement::StatementActivity activity;
  activity.accrual_records = items[kAccrualRecords];
  activity.accrual_miles = items[kAccrualMiles];
  activity.awards_issued = items[kAwardsIssued];
  activity.award_miles_issued = items[kAwardMilesIssued];
  activity.awards_refunded = items[kAwardsRefunded];
  activity.award_miles_refunded = items[kAwardMilesRefunded];
  activity.purchase_records = items[kPurchaseRecords];
  activity.purchase_miles = items[kPurchaseMiles];
  return activity;
}

void FillRow(const sv1::Partner& partner, const sv1::Statement& statement,
             v1::PartnerSettlementRow* row) {
  row->set_partner_code(partner.partner_code());
  row->set_partner_name(partner.name());
  row->set_partner_type(partner.type());
  row->set_year(statement.year());
  row->set_month(statement.month());
  row->set_status(statement.status());
  if (const auto* line = LineOf(statement, sv1::ACCRUAL)) {
    row->set_accrual_records(line->count());
    row->set_accrual_miles(line->miles());
  }
  if (const auto* line = LineOf(statement, sv1::REDEMPTION)) {
    row->set_redemption_awards(line->count());
    row->set_redemption_miles(line->miles());
  }
  if (const auto* line = LineOf(statement, sv1::PURCHASE)) {
    row->set_purchase_records(line->count());
    row->set_purchase_miles(line->miles());
  }
  *row->mutable_receivable() = statement.receivable();
  *row->mutable_payable() = statement.payable();
  *row->mutable_net() = statement.net();
}

// Appends the partner's rows for months [first, last].
absl::Status PartnerRows(const ViewReader& view, const sv1::Partner& partner,
                         absl::CivilMonth first, absl::CivilMonth last,
                         v1::GetPartnerSettlementReportResponse* response) {
  const std::string& code = partner.partner_code();
  const absl::CivilMonth registered = UtcMonth(partner.created_at());

  // Issued months are a prefix: the last one names the first DRAFT.
  absl::CivilMonth first_draft = registered;
  {
    store::ScanRange range = store::PrefixRange(PartnerKey(code));
    range.reverse = true;
    bool corrupt = false;
    MB_RETURN_IF_ERROR(view.Scan(
        kPartnerSettlementStatementsTable, range,
        [&](absl::string_view raw, absl::string_view) {
          store::KeyReader key(raw);
          std::string ignored;
          int64_t index = 0;
          if (!key.String(&ignored) || !key.Int64(&index)) {
            corrupt = true;
          } else {
            first_draft = std::max(first_draft, MonthOfIndex(index) + 1);
          }
          return false;
        }));
    if (corrupt) return Unreadable(kPartnerSettlementStatementsTable);
  }

  std::map<int64_t, sv1::Statement> issued;
  if (first < first_draft) {
    MB_RETURN_IF_ERROR(ScanMonths(
        view, kPartnerSettlementStatementsTable, code, MonthIndex(first),
        MonthIndex(std::min(last + 1, first_draft)),
        [&](int64_t index, absl::string_view value) {
          return issued[index].ParseFromArray(value.data(),
                                              static_cast<int>(value.size()));
        }));
  }
  std::map<int64_t, Items> items;
  if (last > first_draft) {
    MB_RETURN_IF_ERROR(ScanMonths(view, kPartnerSettlementItemsTable, code,
                                  MonthIndex(std::max(first, first_draft + 1)),
                                  MonthIndex(last + 1),
                                  [&](int64_t index, absl::string_view value) {
                                    std::vector<int64_t> values;
                                    if (!DecodeCounters(value, &values))
                                      return false;
                                    items[index] = ItemsOf(values);
                                    return true;
                                  }));
  }

  const bool airline = partner.type() == sv1::AIRLINE;
  for (absl::CivilMonth month = first; month <= last; ++month) {
    const int64_t index = MonthIndex(month);
    if (month < first_draft) {
      auto found = issued.find(index);
      if (found == issued.end()) {
        return absl::DataLossError(
            absl::StrCat("reporting: ", settlement::StatementId(code, month),
                         " precedes an issued statement but is missing"));
      }
      FillRow(partner, found->second, response->add_rows());
      continue;
    }
    settlement::StatementActivity activity;
    if (month == first_draft) {
      MB_ASSIGN_OR_RETURN(activity, FirstDraftActivity(view, code, month));
    } else {
      auto found = items.find(index);
      if (found != items.end()) activity = ActivityOf(found->second);
    }
    if (!airline) {
      // As settlement: only an airline has REDEMPTION and PURCHASE lines.
      const int64_t accrual_records = activity.accrual_records;
      const int64_t accrual_miles = activity.accrual_miles;
      activity = settlement::StatementActivity();
      activity.accrual_records = accrual_records;
      activity.accrual_miles = accrual_miles;
    }
    absl::StatusOr<sv1::Statement> draft = settlement::ComputeStatement(
        code, month, partner.currency_code(), partner.contract(), activity);
    if (!draft.ok()) {
      return absl::Status(
          draft.status().code(),
          absl::StrCat("the DRAFT statement ",
                       settlement::StatementId(code, month),
                       " cannot be priced: ", draft.status().message()));
    }
    FillRow(partner, *draft, response->add_rows());
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> PartnerSettlementProjection::Tables() const {
  return {kPartnerSettlementPartnersTable, kPartnerSettlementItemsTable,
          kPartnerSettlementItemTotalsTable, kPartnerSettlementStatementsTable,
          kPartnerSettlementIssuedTable};
}

absl::Status PartnerSettlementProjection::Apply(const SourceEvent& event,
                                                ViewState& state) {
  if (event.source() == kAccrualSource) return ApplyAccrual(event, state);
  if (event.source() == kRedemptionSource) {
    return ApplyRedemption(event, state);
  }
  if (event.source() == kSettlementSource) {
    return ApplySettlement(event, state);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetPartnerSettlementReportResponse> PartnerSettlementReport(
    const ViewReader& view,
    const v1::GetPartnerSettlementReportRequest& request,
    const ReportContext& context) {
  MB_ASSIGN_OR_RETURN(const ReportRange range, CheckRange(request.range()));
  if (!request.partner_code().empty() &&
      !IsPartnerCode(request.partner_code())) {
    return InvalidField("partner_code",
                        "must be 2-8 characters of A-Z and 0-9 when given");
  }
  if (!sv1::PartnerType_IsValid(request.partner_type())) {
    return InvalidField("partner_type", "must be a PartnerType value");
  }

  std::vector<sv1::Partner> partners;
  if (!request.partner_code().empty()) {
    sv1::Partner partner;
    MB_ASSIGN_OR_RETURN(
        bool found,
        view.GetProto(kPartnerSettlementPartnersTable,
                      PartnerKey(request.partner_code()), &partner));
    if (found) partners.push_back(std::move(partner));
  } else {
    bool corrupt = false;
    MB_RETURN_IF_ERROR(
        view.Scan(kPartnerSettlementPartnersTable, store::ScanRange(),
                  [&](absl::string_view, absl::string_view value) {
                    partners.emplace_back();
                    if (!partners.back().ParseFromArray(
                            value.data(), static_cast<int>(value.size()))) {
                      corrupt = true;
                      return false;
                    }
                    return true;
                  }));
    if (corrupt) return Unreadable(kPartnerSettlementPartnersTable);
  }

  v1::GetPartnerSettlementReportResponse response;
  const absl::CivilMonth current(validation::UtcDay(context.now));
  for (const sv1::Partner& partner : partners) {
    if (request.partner_type() != sv1::PARTNER_TYPE_UNSPECIFIED &&
        partner.type() != request.partner_type()) {
      continue;
    }
    const absl::CivilMonth first =
        std::max(absl::CivilMonth(range.from), UtcMonth(partner.created_at()));
    const absl::CivilMonth last = std::min(absl::CivilMonth(range.to), current);
    if (first > last) continue;
    MB_RETURN_IF_ERROR(PartnerRows(view, partner, first, last, &response));
  }

  struct Sums {
    int64_t receivable = 0;
    int64_t payable = 0;
    int64_t net = 0;
  };
  std::map<std::string, Sums> by_currency;
  for (const v1::PartnerSettlementRow& row : response.rows()) {
    Sums& sums = by_currency[row.receivable().currency_code()];
    MB_RETURN_IF_ERROR(
        AddMoney(row.receivable().minor_units(), &sums.receivable));
    MB_RETURN_IF_ERROR(AddMoney(row.payable().minor_units(), &sums.payable));
    MB_RETURN_IF_ERROR(AddMoney(row.net().minor_units(), &sums.net));
  }
  for (const auto& [currency, sums] : by_currency) {
    v1::CurrencyTotalRow* total = response.add_totals();
    total->set_currency_code(currency);
    *total->mutable_receivable() = Money(currency, sums.receivable);
    *total->mutable_payable() = Money(currency, sums.payable);
    *total->mutable_net() = Money(currency, sums.net);
  }
  return response;
}

}  // namespace mileagebank::reporting
