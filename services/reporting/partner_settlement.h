// The partner settlement report (product rules section 7.7;
// GetPartnerSettlementReport in reporting.proto): receivable, payable and
// net per partner per month, with totals per currency.
//
//   PartnerSettlementProjection projection;   // given to the ingest
//   absl::StatusOr<v1::GetPartnerSettlementReportResponse> report =
//       PartnerSettlementReport(reader, request, context);
//
// ISSUED and SETTLED months are the statements as settlement issued them
// (StatementIssued, then StatementSettled, carry the whole statement).
// DRAFT months are computed as settlement's StatementBook computes them
// (services/settlement/statement_book.h), from the same items and priced by
// the same function, settlement::ComputeStatement (//services/settlement:
// statements, shared rather than copied):
//   accrual     CreditPosted of a PARTNER_FLIGHT or PARTNER_ACTIVITY credit:
//               one record and its miles, in the month of posting_date
//               (else posted_at, else the event's recorded_at); reversals
//               change nothing.
//   redemption  RedemptionIssued / RedemptionRefunded of an award with a
//               partner_code: one award and its total_miles issued or
//               refunded, in the month of issued_at / refunded_at; only for
//               AIRLINE partners.
//   settlement  OutboundFileAcknowledged: the file's records_accepted and
//               miles_credited as purchases, in the month of
//               acknowledged_at (AIRLINE partners only).
// with the partner's current contract and currency (PartnerRegistered /
// PartnerUpdated carry the Partner).
//
// Late items, as settlement does it: the first DRAFT month D (the month
// after the last issued one, or the registration month) shows everything
// recorded for months up to D less what the issued statements took. The
// issued statements took, summed, exactly their lines (each took the
// difference of two running sums), so D = (all items of months <= D) -
// (sum of the issued statements' lines); the REDEMPTION line only needs
// issued less refunded, which is what a line holds. Later DRAFT months show
// their own items. When reporting has applied fewer accrual or redemption
// events than settlement had when it issued a statement (the streams are
// followed independently), D's difference could briefly go below zero; it
// is shown as zero until reporting catches up.
//
// Items are recorded under the partner code whatever the order in which
// the streams arrive (a credit before its partner's registration still
// counts once the partner is known); a code settlement never registers
// never shows.
//
// Rows: every partner (filtered by partner_code and partner_type) and every
// month the range touches from the partner's registration month (created_at,
// UTC) to the current month (ReportContext::now), zero months included; by
// partner_code, then month. A partner_code that names no partner gives no
// rows.
//
// Tables (keys from libs/store/keys.h):
//   partner_settlement_partners    String(code) -> settlement.v1.Partner
//   partner_settlement_items       String(code) Int64(year*12+month-1)
//                                  -> counters [accrual records, accrual
//                                  miles, awards issued, award miles issued,
//                                  awards refunded, award miles refunded,
//                                  purchase records, purchase miles]
//   partner_settlement_item_totals String(code) -> the same, all months
//   partner_settlement_statements  String(code) Int64(year*12+month-1)
//                                  -> settlement.v1.Statement (ISSUED and
//                                  SETTLED)
//   partner_settlement_issued      String(code) -> counters [accrual records,
//                                  accrual miles, awards, award miles,
//                                  purchase records, purchase miles] summed
//                                  over the issued statements' lines
// A query reads, per partner, its statements and items of the range, and
// for D the totals and the items of the few months after D: a handful of
// rows per partner.
//
// Thread-compatible: the projection is applied by one thread; the query is a
// pure function of its reader.
#ifndef MILEAGEBANK_SERVICES_REPORTING_PARTNER_SETTLEMENT_H_
#define MILEAGEBANK_SERVICES_REPORTING_PARTNER_SETTLEMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

inline constexpr char kPartnerSettlementPartnersTable[] =
    "partner_settlement_partners";
inline constexpr char kPartnerSettlementItemsTable[] =
    "partner_settlement_items";
inline constexpr char kPartnerSettlementItemTotalsTable[] =
    "partner_settlement_item_totals";
inline constexpr char kPartnerSettlementStatementsTable[] =
    "partner_settlement_statements";
inline constexpr char kPartnerSettlementIssuedTable[] =
    "partner_settlement_issued";

class PartnerSettlementProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
};

// INVALID_ARGUMENT naming range.from_date / range.to_date (CheckRange),
// partner_code (2-8 characters of A-Z and 0-9 when given) or partner_type
// (a PartnerType value). A DRAFT month that settlement could not price
// either (e.g. award miles under a contract without award_price) fails the
// report with settlement's status, its message naming the statement.
// Everything but stream_positions and generated_at is filled.
absl::StatusOr<v1::GetPartnerSettlementReportResponse> PartnerSettlementReport(
    const ViewReader& view,
    const v1::GetPartnerSettlementReportRequest& request,
    const ReportContext& context);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_PARTNER_SETTLEMENT_H_
