// StatementBook: the monthly settlement statements of every partner (product
// rules section 6; the Statement RPCs of settlement.proto): the figures
// derived from the accrual and redemption EventStreams and from the
// outbound acknowledgements, and GetStatement, ListStatements,
// IssueStatement and SettleStatement.
//
// Where the figures come from (each source writes only its own records):
//   accrual     CreditPosted whose transaction is PARTNER_FLIGHT or
//               PARTNER_ACTIVITY: one credit (0 miles included) and its
//               redeemable miles, tier bonus included, in the month of its
//               posting_date. Reversals (REVERSAL debits, CreditReversed)
//               change nothing: the ACCRUAL line counts credits posted.
//   redemption  RedemptionIssued / RedemptionRefunded of an award with a
//               partner_code (a partner award: all of its segments are on
//               that carrier, the redemption service refuses mixed
//               carriers): one award and its total_miles, in the month of
//               issued_at / refunded_at. A refund counts in its own month,
//               whatever month the award was issued in. Awards on the host
//               carrier, and partners that are not airlines, are ignored.
//   purchase    AddPurchase, called by the outbound exchange when a
//               partner's acknowledgement is recorded: its accepted
//               records and miles credited, in the month of
//               acknowledged_at.
// Events of partners unknown here, and every other event, are ignored.
//
// Months and late items. A partner's months run from its registration
// month (created_at, UTC) to the current month; they are issued in order,
// so the ISSUED (and SETTLED) months are always a prefix and the rest are
// DRAFT. Items are always recorded under their own month; nothing recorded
// ever moves. The first DRAFT month D shows everything recorded for months
// up to D that no issued statement took (StatementProgress.included): its
// own items, plus items of issued months recorded after they were frozen
// (a late event, an event still being applied while the month was issued).
// A later DRAFT month shows only its own items. Issuing D takes exactly
// what D shows and adds it to `included`, so an issued statement never
// changes and every item is counted in exactly one statement: the first one
// issued after it was recorded whose month is not before its own.
//
// Tables (keys from libs/store/keys.h):
//   statements         String(partner) Int64(year*12+month-1) -> v1.Statement
//                      (ISSUED and SETTLED only; DRAFTs are computed)
//   statement_figures  String(partner) String(source) Int64(year*12+month-1)
//                      -> statement_records.Figures, source "accrual",
//                      "redemption" or "purchase"
//   statement_progress String(partner) -> statement_records.StatementProgress
//
// Thread-safe. ApplyAccrualEvent(s) and ApplyRedemptionEvent(s) each run on
// their follower's thread; AddPurchase calls for one partner are serialised by the
// caller; IssueStatement and SettleStatement are serialised per partner by
// the book's own lock. No two of them write the same record.
//
//   StatementBook book(store, partners, folders, progress);
//   EventFollower accrual("accrual", accrual_target, store,
//       [&](const common::v1::Event& e, store::WriteBatch& b) {
//         return book.ApplyAccrualEvent(e, b);
//       });
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENT_BOOK_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENT_BOOK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "libs/store/key_locks.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/settlement/drop_folders.h"
#include "services/settlement/partners.h"
#include "services/settlement/purchases.h"
#include "services/settlement/statement_records.pb.h"

namespace mileagebank::settlement {

inline constexpr char kStatementsTable[] = "statements";
inline constexpr char kStatementFiguresTable[] = "statement_figures";
inline constexpr char kStatementProgressTable[] = "statement_progress";

// The source streams' names, as followers store their cursors and as
// Statement.stream_positions names them.
inline constexpr char kAccrualStream[] = "accrual";
inline constexpr char kRedemptionStream[] = "redemption";
// This service's own stream (the acknowledgements' events).
inline constexpr char kSettlementStream[] = "settlement";

// How far the source streams are, for IssueStatement's catching up.
class StreamProgress {
 public:
  virtual ~StreamProgress() = default;
  // The newest sequence of the source's stream now ("accrual",
  // "redemption"), via EventStream.GetHead; an error when the source cannot
  // be reached.
  virtual absl::StatusOr<uint64_t> Head(absl::string_view source) = 0;
  // The last sequence of that source applied here (the follower's cursor).
  virtual uint64_t Applied(absl::string_view source) = 0;
  // The streams followed: "accrual" and "redemption", or with sharded
  // sources one per shard ("accrual-0", "accrual-1"...).
  virtual std::vector<std::string> Streams() const {
    return {kAccrualStream, kRedemptionStream};
  }
};

// StreamProgress over gRPC: each source's EventStream.GetHead, and the
// position its follower reports.
//
//   GrpcStreamProgress progress({
//       {"accrual", {accrual_target, [&] { return accrual.position(); }}},
//       {"redemption", {redemption_target, [&] { return redemption.position();
//       }}}});
//
// Thread-safe.
class GrpcStreamProgress final : public StreamProgress {
 public:
  struct Source {
    // The source service's address, "host:port".
    std::string target;
    // The sequence of the last event applied from it here.
    std::function<uint64_t()> applied;
  };

  // `deadline`: of each GetHead attempt.
  explicit GrpcStreamProgress(std::map<std::string, Source> sources,
                              absl::Duration deadline = absl::Seconds(2));

  // NOT_FOUND for a source not given; the callee's status (UNAVAILABLE,
  // DEADLINE_EXCEEDED...) when it cannot answer.
  absl::StatusOr<uint64_t> Head(absl::string_view source) override;
  // 0 for a source not given.
  uint64_t Applied(absl::string_view source) override;
  std::vector<std::string> Streams() const override;

 private:
  struct Stream {
    Source source;
    std::unique_ptr<common::v1::EventStream::Stub> stub;
  };
  const absl::Duration deadline_;
  std::map<std::string, Stream, std::less<>> streams_;
};

class StatementBook : public PurchaseLedger {
 public:
  using Clock = std::function<absl::Time()>;

  // Everything outlives the book; `store` was opened with Tables() and the
  // tables of `partners` and `folders`. `clock` gives "today" and the
  // current month; `catch_up_timeout` bounds IssueStatement's wait for the
  // followers (real time).
  StatementBook(store::Store* store, Partners* partners, DropFolders* folders,
                StreamProgress* progress, Clock clock = absl::Now,
                absl::Duration catch_up_timeout = absl::Seconds(30));
  StatementBook(const StatementBook&) = delete;
  StatementBook& operator=(const StatementBook&) = delete;

  // The tables the book keeps.
  static std::vector<std::string> Tables();

  // EventFollower apply functions: record what the event adds to a
  // partner's month in `batch` (left untouched when the event concerns no
  // partner, and on error). Deterministic: what they read of their own
  // figures they read with GetLatest.
  absl::Status ApplyAccrualEvent(const common::v1::Event& event,
                                 store::WriteBatch& batch);
  absl::Status ApplyRedemptionEvent(const common::v1::Event& event,
                                    store::WriteBatch& batch);
  // The same for several events of one stream in one batch (EventFollower's
  // ApplyMany): each figures record they change is read and written once.
  absl::Status ApplyAccrualEvents(absl::Span<const common::v1::Event> events,
                                  store::WriteBatch& batch);
  absl::Status ApplyRedemptionEvents(absl::Span<const common::v1::Event> events,
                                     store::WriteBatch& batch);
  // The payload types each of the two applies (the rest of the streams is
  // left unsent: EventFollower::OnlyPayloadTypes).
  static std::vector<std::string> AccrualEventTypes();
  static std::vector<std::string> RedemptionEventTypes();

  // PurchaseLedger. INVALID_ARGUMENT for negative counts; NOT_FOUND naming
  // partner_code for an unknown partner; FAILED_PRECONDITION naming it for
  // a partner that is not an AIRLINE (it has no PURCHASE line).
  absl::Status AddPurchase(absl::string_view partner_code,
                           absl::Time acknowledged_at, int64_t records_accepted,
                           int64_t miles_credited,
                           store::WriteBatch& batch) override;

  // The RPCs, as settlement.proto says. Checks run in the order written;
  // the first that fails answers, and nothing is written.
  //
  // GetStatement: the fields (partner_code, year 2000-9999, month 1-12:
  // INVALID_ARGUMENT naming each); the partner (NOT_FOUND); a month from the
  // registration month to the current month (INVALID_ARGUMENT naming
  // month). An issued month is returned as frozen. A DRAFT month is
  // computed now with the current contract; its stream_positions are read
  // before its figures, which include at least every event up to them.
  absl::StatusOr<v1::GetStatementResponse> GetStatement(
      const v1::GetStatementRequest& request);
  // Lists every statement GetStatement can show: each partner's months from
  // its registration month to the current month, issued ones as frozen, the
  // others as DRAFT figures so far (a month without activity included: it
  // is issued in its turn all the same). Newest month first, then
  // partner_code; next_page_token is the statement_id of the last one
  // returned. INVALID_ARGUMENT naming partner_code, statuses[i] (only
  // DRAFT, ISSUED, SETTLED), page.page_size (0 means 50, at most 1,000) or
  // page.page_token; NOT_FOUND for an unknown partner.
  absl::StatusOr<v1::ListStatementsResponse> ListStatements(
      const v1::ListStatementsRequest& request);
  // The fields, and an actor that is staff (operator_id) or channel SYSTEM
  // (INVALID_ARGUMENT naming actor.operator_id); the partner (NOT_FOUND); a
  // month not before the registration month (INVALID_ARGUMENT naming
  // month); a month that has ended (FAILED_PRECONDITION naming month); an
  // ISSUED or SETTLED statement is returned unchanged; the first DRAFT
  // month must be this one (FAILED_PRECONDITION naming month, its message
  // naming the earlier statement_id); caught up with accrual and redemption
  // (UNAVAILABLE when a head cannot be read or the followers do not reach
  // it within catch_up_timeout). Then, under the partner's lock: frozen
  // with the current contract, the file written to the outbox, and the
  // statement, the progress and StatementIssued committed in one batch.
  absl::StatusOr<v1::IssueStatementResponse> IssueStatement(
      const v1::IssueStatementRequest& request);
  // The fields: payment (amount with a currency code, paid_on a valid date
  // not after today, payment_reference 1-64 characters without control
  // characters) and actor.operator_id (INVALID_ARGUMENT naming each); the
  // partner (NOT_FOUND); a month not before the registration month
  // (INVALID_ARGUMENT naming month). Then, under the partner's lock: a
  // DRAFT month is FAILED_PRECONDITION naming month; a SETTLED statement
  // is returned for the same payment, FAILED_PRECONDITION naming payment
  // for another; an ISSUED one needs the statement's currency and net
  // amount (INVALID_ARGUMENT naming payment.amount.currency_code /
  // payment.amount), then becomes SETTLED with StatementSettled.
  absl::StatusOr<v1::SettleStatementResponse> SettleStatement(
      const v1::SettleStatementRequest& request);

 private:
  // Codes of partners found registered by ApplyAccrualEvent.
  absl::Mutex known_partners_mutex_;
  absl::flat_hash_set<std::string> known_partners_
      ABSL_GUARDED_BY(known_partners_mutex_);

  // A partner with the months its statements may cover.
  struct Book {
    v1::Partner partner;
    absl::CivilMonth registered;
    statement_records::StatementProgress progress;
    // The first month not issued.
    absl::CivilMonth first_draft;
  };
  // Positions of the three streams, read before the figures they describe.
  using Positions = std::map<std::string, uint64_t>;

  // What a set of events adds, by figures key, before it is written.
  using Deltas = std::map<std::string, statement_records::Figures>;
  // Adds `delta` to `source`'s figures of the partner's `month` in `deltas`.
  absl::Status Record(absl::string_view partner_code, absl::string_view source,
                      absl::CivilMonth month,
                      const statement_records::Figures& delta, Deltas& deltas);
  // Adds `deltas` to the figures they name, in `batch` (untouched on error).
  absl::Status Write(const Deltas& deltas, store::WriteBatch& batch);
  // What one event adds, into `deltas`.
  absl::Status AddAccrualEvent(const common::v1::Event& event, Deltas& deltas);
  absl::Status AddRedemptionEvent(const common::v1::Event& event,
                                  Deltas& deltas);

  // The partner and its progress (durable); NOT_FOUND naming partner_code.
  absl::StatusOr<Book> LoadBook(absl::string_view partner_code);
  // As LoadBook, for a partner already read.
  absl::StatusOr<Book> BookOf(v1::Partner partner);
  // The ISSUED or SETTLED statement of `month`, if any (durable).
  absl::StatusOr<bool> LoadIssued(absl::string_view partner_code,
                                  absl::CivilMonth month,
                                  v1::Statement* statement) const;
  // The applied positions of the sources, then everything in the store's
  // line made durable, then this service's own last sequence: the figures
  // read afterwards include at least everything up to these positions.
  Positions ReadPositions();
  // The DRAFT figures of `month` (not before book.first_draft) with the
  // partner's current contract; `taken` (if given) receives, per source,
  // what issuing it would add to StatementProgress.included.
  absl::StatusOr<v1::Statement> ComputeDraft(
      const Book& book, absl::CivilMonth month, const Positions& positions,
      std::map<std::string, statement_records::Figures>* taken);
  // Waits until every source's applied position reaches its head as read
  // now; UNAVAILABLE when a head cannot be read or the wait times out.
  absl::Status CatchUp();

  store::Store* const store_;
  Partners* const partners_;
  DropFolders* const folders_;
  StreamProgress* const progress_;
  const Clock clock_;
  const absl::Duration catch_up_timeout_;
  // Serialises issuing and settling per partner.
  store::KeyLocks locks_;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_STATEMENT_BOOK_H_
