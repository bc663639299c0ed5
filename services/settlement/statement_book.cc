#include "services/settlement/statement_book.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/optional.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/client/client.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "services/settlement/statements.h"

namespace mileagebank::settlement {
namespace {

namespace records = statement_records;

// The purchase figures come from AddPurchase, not from a stream of their
// own: they are named apart from the streams.
constexpr char kPurchaseSource[] = "purchase";
constexpr const char* kSources[] = {kAccrualStream, kRedemptionStream,
                                    kPurchaseSource};

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1000;
constexpr int kMaxReferenceLength = 64;

// Catching up usually takes milliseconds: poll fast first, then back off.
constexpr absl::Duration kFirstPoll = absl::Milliseconds(2);
constexpr absl::Duration kMaxPoll = absl::Milliseconds(50);

int64_t MonthIndex(absl::CivilMonth month) {
  return month.year() * 12 + (month.month() - 1);
}

absl::CivilMonth UtcMonth(absl::Time time) {
  return absl::CivilMonth(validation::UtcDay(time));
}

std::string MonthText(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

std::string FiguresPrefix(absl::string_view partner, absl::string_view source) {
  return store::KeyBuilder().String(partner).String(source).Build();
}

std::string FiguresKey(absl::string_view partner, absl::string_view source,
                       absl::CivilMonth month) {
  return store::KeyBuilder(FiguresPrefix(partner, source))
      .Int64(MonthIndex(month))
      .Build();
}

std::string StatementKey(absl::string_view partner, absl::CivilMonth month) {
  return store::KeyBuilder().String(partner).Int64(MonthIndex(month)).Build();
}

std::string ProgressKey(absl::string_view partner) {
  return store::KeyBuilder().String(partner).Build();
}

bool IsPartnerCode(absl::string_view code) {
  return code.size() >= 2 && code.size() <= 8 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c) || absl::ascii_isdigit(c);
         });
}

bool IsCurrencyCode(absl::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isupper(c);
         });
}

void CheckPartnerCode(FieldErrors& errors, absl::string_view code) {
  if (!IsPartnerCode(code)) {
    errors.Add("partner_code", "required: 2-8 characters of A-Z and 0-9");
  }
}

void CheckPeriod(FieldErrors& errors, int32_t year, int32_t month) {
  if (year < 2000 || year > 9999) errors.Add("year", "must be 2000 to 9999");
  if (month < 1 || month > 12) errors.Add("month", "must be 1 to 12");
}

// 1-64 characters (UTF-8 code points; protobuf has checked the encoding),
// none of them a control character: it is printed on remittance advice.
bool IsPaymentReference(absl::string_view reference) {
  int64_t characters = 0;
  for (char c : reference) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return false;
    if ((byte & 0xC0) != 0x80) ++characters;
  }
  return characters >= 1 && characters <= kMaxReferenceLength;
}

absl::Status AddTo(records::Figures& sum, const records::Figures& delta) {
  int64_t values[4];
  if (__builtin_add_overflow(sum.count(), delta.count(), &values[0]) ||
      __builtin_add_overflow(sum.miles(), delta.miles(), &values[1]) ||
      __builtin_add_overflow(sum.refunded_count(), delta.refunded_count(),
                             &values[2]) ||
      __builtin_add_overflow(sum.refunded_miles(), delta.refunded_miles(),
                             &values[3])) {
    return absl::OutOfRangeError("statement figures beyond the int64 range");
  }
  sum.set_count(values[0]);
  sum.set_miles(values[1]);
  sum.set_refunded_count(values[2]);
  sum.set_refunded_miles(values[3]);
  return absl::OkStatus();
}

// `later` - `earlier` of one source's counters; the counters only grow, so
// a negative difference means the records were damaged.
absl::StatusOr<records::Figures> Since(const records::Figures& later,
                                       const records::Figures& earlier,
                                       absl::string_view what) {
  records::Figures difference;
  difference.set_count(later.count() - earlier.count());
  difference.set_miles(later.miles() - earlier.miles());
  difference.set_refunded_count(later.refunded_count() -
                                earlier.refunded_count());
  difference.set_refunded_miles(later.refunded_miles() -
                                earlier.refunded_miles());
  if (difference.count() < 0 || difference.miles() < 0 ||
      difference.refunded_count() < 0 || difference.refunded_miles() < 0) {
    return absl::DataLossError(
        absl::StrCat("settlement statements: ", what,
                     " figures are below what issued statements already took"));
  }
  return difference;
}

// The month an item counts in: its date, else its time, else when the
// source committed it.
absl::CivilMonth MonthOf(const common::v1::Date* date,
                         const google::protobuf::Timestamp* time,
                         const common::v1::Event& event) {
  if (date != nullptr) {
    absl::StatusOr<absl::CivilDay> day = validation::ToCivilDay("date", *date);
    if (day.ok()) return absl::CivilMonth(*day);
  }
  if (time != nullptr && (time->seconds() != 0 || time->nanos() != 0)) {
    return UtcMonth(validation::FromProtoTimestamp(*time));
  }
  return UtcMonth(validation::FromProtoTimestamp(event.recorded_at()));
}

}  // namespace

// ---------------------------------------------------------------------------
// GrpcStreamProgress

GrpcStreamProgress::GrpcStreamProgress(std::map<std::string, Source> sources,
                                       absl::Duration deadline)
    : deadline_(deadline) {
  for (auto& [name, source] : sources) {
    Stream stream;
    stream.stub =
        common::v1::EventStream::NewStub(client::ChannelFor(source.target));
    stream.source = std::move(source);
    streams_.emplace(name, std::move(stream));
  }
}

absl::StatusOr<uint64_t> GrpcStreamProgress::Head(absl::string_view source) {
  auto it = streams_.find(source);
  if (it == streams_.end()) {
    return absl::NotFoundError(absl::StrCat("no stream named ", source));
  }
  common::v1::GetHeadRequest request;
  common::v1::GetHeadResponse response;
  client::CallPolicy policy;
  policy.deadline = deadline_;
  policy.idempotent = true;
  policy.max_attempts = 3;
  MB_RETURN_IF_ERROR(client::Call(*it->second.stub,
                                  &common::v1::EventStream::Stub::GetHead,
                                  request, &response, policy));
  return response.last_sequence();
}

uint64_t GrpcStreamProgress::Applied(absl::string_view source) {
  auto it = streams_.find(source);
  if (it == streams_.end() || !it->second.source.applied) return 0;
  return it->second.source.applied();
}

std::vector<std::string> GrpcStreamProgress::Streams() const {
  std::vector<std::string> names;
  for (const auto& [name, stream] : streams_) names.push_back(name);
  return names;
}

// ---------------------------------------------------------------------------
// StatementBook

StatementBook::StatementBook(store::Store* store, Partners* partners,
                             DropFolders* folders, StreamProgress* progress,
                             Clock clock, absl::Duration catch_up_timeout)
    : store_(store),
      partners_(partners),
      folders_(folders),
      progress_(progress),
      clock_(std::move(clock)),
      catch_up_timeout_(catch_up_timeout) {}

std::vector<std::string> StatementBook::Tables() {
  return {kStatementsTable, kStatementFiguresTable, kStatementProgressTable};
}

absl::Status StatementBook::Record(absl::string_view partner_code,
                                   absl::string_view source,
                                   absl::CivilMonth month,
                                   const records::Figures& delta,
                                   Deltas& deltas) {
  return AddTo(deltas[FiguresKey(partner_code, source, month)], delta);
}

absl::Status StatementBook::Write(const Deltas& deltas,
                                  store::WriteBatch& batch) {
  std::vector<std::pair<const std::string*, records::Figures>> sums;
  sums.reserve(deltas.size());
  for (const auto& [key, delta] : deltas) {
    records::Figures figures;
    // The previous batch's write may still be in line: GetLatest.
    MB_RETURN_IF_ERROR(
        store_->GetLatestProto(kStatementFiguresTable, key, &figures).status());
    MB_RETURN_IF_ERROR(AddTo(figures, delta));
    sums.emplace_back(&key, std::move(figures));
  }
  for (const auto& [key, figures] : sums) {
    batch.PutProto(kStatementFiguresTable, *key, figures);
  }
  return absl::OkStatus();
}

absl::Status StatementBook::ApplyAccrualEvent(const common::v1::Event& event,
                                              store::WriteBatch& batch) {
  return ApplyAccrualEvents(absl::MakeConstSpan(&event, 1), batch);
}

absl::Status StatementBook::ApplyRedemptionEvent(const common::v1::Event& event,
                                                 store::WriteBatch& batch) {
  return ApplyRedemptionEvents(absl::MakeConstSpan(&event, 1), batch);
}

std::vector<std::string> StatementBook::AccrualEventTypes() {
  return {accrual::v1::CreditPosted::descriptor()->full_name()};
}

std::vector<std::string> StatementBook::RedemptionEventTypes() {
  return {redemption::v1::RedemptionIssued::descriptor()->full_name(),
          redemption::v1::RedemptionRefunded::descriptor()->full_name()};
}

absl::Status StatementBook::ApplyAccrualEvents(
    absl::Span<const common::v1::Event> events, store::WriteBatch& batch) {
  Deltas deltas;
  for (const common::v1::Event& event : events) {
    MB_RETURN_IF_ERROR(AddAccrualEvent(event, deltas));
  }
  return Write(deltas, batch);
}

absl::Status StatementBook::ApplyRedemptionEvents(
    absl::Span<const common::v1::Event> events, store::WriteBatch& batch) {
  Deltas deltas;
  for (const common::v1::Event& event : events) {
    MB_RETURN_IF_ERROR(AddRedemptionEvent(event, deltas));
  }
  return Write(deltas, batch);
}

namespace {

// The partner an event names; nullopt when it is not registered here (the
// event is then none of the statements' business).
absl::StatusOr<absl::optional<v1::Partner>> KnownPartner(
    Partners& partners, absl::string_view code, absl::string_view source,
    const common::v1::Event& event) {
  absl::StatusOr<v1::Partner> partner = partners.Find(code);
  if (partner.ok()) return absl::optional<v1::Partner>(*std::move(partner));
  if (partner.status().code() != absl::StatusCode::kNotFound) {
    return partner.status();
  }
  log::Warning(
      "statement_item_of_unknown_partner",
      {{"source", source}, {"sequence", event.sequence()}, {"partner", code}});
  return absl::optional<v1::Partner>();
}

}  // namespace

absl::Status StatementBook::AddAccrualEvent(const common::v1::Event& event,
                                            Deltas& deltas) {
  // Every ledger transaction is in exactly one CreditPosted or DebitPosted;
  // partner credits are CreditPosted. Their reversals (DebitPosted
  // REVERSAL, CreditReversed) are left out on purpose: the ACCRUAL line
  // counts the credits posted in the month, and its miles can never be
  // negative.
  if (!event.payload().Is<accrual::v1::CreditPosted>()) return absl::OkStatus();
  accrual::v1::CreditPosted posted;
  if (!event.payload().UnpackTo(&posted)) {
    return absl::DataLossError(absl::StrCat("accrual event ", event.sequence(),
                                            ": unreadable CreditPosted"));
  }
  const accrual::v1::Transaction& transaction = posted.transaction();
  if (transaction.type() != accrual::v1::PARTNER_FLIGHT &&
      transaction.type() != accrual::v1::PARTNER_ACTIVITY) {
    return absl::OkStatus();
  }
  if (transaction.miles() < 0) {
    return absl::DataLossError(
        absl::StrCat("accrual event ", event.sequence(), ": credit ",
                     transaction.transaction_id(), " has negative miles"));
  }
  // Partners are never removed, so one found once is not looked up again
  // (a partner file brings a credit event per record).
  bool known;
  {
    absl::MutexLock lock(&known_partners_mutex_);
    known = known_partners_.contains(transaction.partner_code());
  }
  if (!known) {
    MB_ASSIGN_OR_RETURN(absl::optional<v1::Partner> partner,
                        KnownPartner(*partners_, transaction.partner_code(),
                                     kAccrualStream, event));
    if (!partner.has_value()) return absl::OkStatus();
    absl::MutexLock lock(&known_partners_mutex_);
    known_partners_.insert(partner->partner_code());
  }
  records::Figures delta;
  delta.set_count(1);
  delta.set_miles(transaction.miles());
  // Statements go by posting date (the UTC date of posted_at).
  const absl::CivilMonth month = MonthOf(
      transaction.has_posting_date() ? &transaction.posting_date() : nullptr,
      &transaction.posted_at(), event);
  return Record(transaction.partner_code(), kAccrualStream, month, delta,
                deltas);
}

absl::Status StatementBook::AddRedemptionEvent(const common::v1::Event& event,
                                               Deltas& deltas) {
  const bool issued = event.payload().Is<redemption::v1::RedemptionIssued>();
  const bool refunded =
      event.payload().Is<redemption::v1::RedemptionRefunded>();
  if (!issued && !refunded) return absl::OkStatus();
  redemption::v1::RedemptionRecord award;
  bool unpacked = false;
  if (issued) {
    redemption::v1::RedemptionIssued payload;
    unpacked = event.payload().UnpackTo(&payload);
    award = payload.redemption();
  } else {
    redemption::v1::RedemptionRefunded payload;
    unpacked = event.payload().UnpackTo(&payload);
    award = payload.redemption();
  }
  if (!unpacked) {
    return absl::DataLossError(
        absl::StrCat("redemption event ", event.sequence(), ": unreadable"));
  }
  // An award on the host carrier has no partner_code. A partner award has
  // every segment on that partner (redemption refuses mixed carriers), so
  // its whole total_miles are the partner's.
  if (award.partner_code().empty()) return absl::OkStatus();
  if (award.total_miles() < 0) {
    return absl::DataLossError(
        absl::StrCat("redemption event ", event.sequence(), ": award ",
                     award.redemption_id(), " has negative miles"));
  }
  MB_ASSIGN_OR_RETURN(
      absl::optional<v1::Partner> partner,
      KnownPartner(*partners_, award.partner_code(), kRedemptionStream, event));
  if (!partner.has_value()) return absl::OkStatus();
  if (partner->type() != v1::AIRLINE) {
    // Only an airline has a REDEMPTION line; redemption never sells awards
    // on another kind of partner.
    log::Warning(
        "statement_award_on_non_airline",
        {{"sequence", event.sequence()}, {"partner", partner->partner_code()}});
    return absl::OkStatus();
  }
  records::Figures delta;
  absl::CivilMonth month;
  if (issued) {
    delta.set_count(1);
    delta.set_miles(award.total_miles());
    month = MonthOf(nullptr, &award.issued_at(), event);
  } else {
    delta.set_refunded_count(1);
    delta.set_refunded_miles(award.total_miles());
    month = MonthOf(nullptr, &award.refunded_at(), event);
  }
  return Record(partner->partner_code(), kRedemptionStream, month, delta,
                deltas);
}

absl::Status StatementBook::AddPurchase(absl::string_view partner_code,
                                        absl::Time acknowledged_at,
                                        int64_t records_accepted,
                                        int64_t miles_credited,
                                        store::WriteBatch& batch) {
  FieldErrors errors;
  CheckPartnerCode(errors, partner_code);
  if (records_accepted < 0) errors.Add("records_accepted", "must be 0 or more");
  if (miles_credited < 0) errors.Add("miles_credited", "must be 0 or more");
  MB_RETURN_IF_ERROR(errors.ToStatus());
  absl::StatusOr<v1::Partner> partner = partners_->Find(partner_code);
  if (partner.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField("partner_code",
                         absl::StrCat("no partner ", partner_code));
  }
  MB_RETURN_IF_ERROR(partner.status());
  if (partner->type() != v1::AIRLINE) {
    return FailedPreconditionField(
        "partner_code",
        absl::StrCat(partner_code,
                     " is not an AIRLINE: it has no PURCHASE line"));
  }
  if (records_accepted == 0 && miles_credited == 0) return absl::OkStatus();
  records::Figures delta;
  delta.set_count(records_accepted);
  delta.set_miles(miles_credited);
  Deltas deltas;
  MB_RETURN_IF_ERROR(Record(partner_code, kPurchaseSource,
                            UtcMonth(acknowledged_at), delta, deltas));
  return Write(deltas, batch);
}

// ---------------------------------------------------------------------------
// Reading the book

absl::StatusOr<StatementBook::Book> StatementBook::LoadBook(
    absl::string_view partner_code) {
  absl::StatusOr<v1::Partner> partner = partners_->Find(partner_code);
  if (partner.status().code() == absl::StatusCode::kNotFound) {
    return NotFoundField("partner_code",
                         absl::StrCat("no partner ", partner_code));
  }
  MB_RETURN_IF_ERROR(partner.status());
  return BookOf(*std::move(partner));
}

absl::StatusOr<StatementBook::Book> StatementBook::BookOf(v1::Partner partner) {
  const std::string code = partner.partner_code();
  Book book;
  book.partner = std::move(partner);
  book.registered =
      UtcMonth(validation::FromProtoTimestamp(book.partner.created_at()));
  // Only IssueStatement writes progress, and it commits before it answers:
  // what is durable is all there is.
  MB_RETURN_IF_ERROR(
      store_
          ->GetProto(kStatementProgressTable, ProgressKey(code), &book.progress)
          .status());
  book.first_draft = book.progress.last_issued_year() == 0
                         ? book.registered
                         : absl::CivilMonth(book.progress.last_issued_year(),
                                            book.progress.last_issued_month()) +
                               1;
  return book;
}

absl::StatusOr<bool> StatementBook::LoadIssued(absl::string_view partner_code,
                                               absl::CivilMonth month,
                                               v1::Statement* statement) const {
  return store_->GetProto(kStatementsTable, StatementKey(partner_code, month),
                          statement);
}

StatementBook::Positions StatementBook::ReadPositions() {
  Positions positions;
  // The followers' positions first: every event up to them is already in
  // the store's line, and after WaitForQueued it is durable, so the durable
  // reads that follow include it.
  for (const std::string& source : progress_->Streams()) {
    positions[source] = progress_->Applied(source);
  }
  store_->WaitForQueued();
  positions[kSettlementStream] = store_->LastSequence();
  return positions;
}

absl::StatusOr<v1::Statement> StatementBook::ComputeDraft(
    const Book& book, absl::CivilMonth month, const Positions& positions,
    std::map<std::string, records::Figures>* taken) {
  const std::string& code = book.partner.partner_code();
  if (month < book.first_draft) {
    return absl::InternalError(
        absl::StrCat(StatementId(code, month), " is issued; it has no draft"));
  }
  std::map<std::string, records::Figures> figures;
  for (const char* source : kSources) {
    if (month == book.first_draft) {
      // Everything the source recorded for months up to this one, less what
      // issued statements took: this month's own items and the late ones.
      records::Figures through;
      store::ScanRange range;
      range.start = FiguresPrefix(code, source);
      range.end = FiguresKey(code, source, month + 1);
      MB_RETURN_IF_ERROR(store_->ScanChecked(
          kStatementFiguresTable, range,
          [&](absl::string_view,
              absl::string_view value) -> absl::StatusOr<bool> {
            records::Figures one;
            if (!one.ParseFromArray(value.data(),
                                    static_cast<int>(value.size()))) {
              return absl::DataLossError(
                  absl::StrCat("settlement statements: unreadable ", source,
                               " figures of ", code));
            }
            MB_RETURN_IF_ERROR(AddTo(through, one));
            return true;
          }));
      const auto included = book.progress.included().find(source);
      if (included == book.progress.included().end()) {
        figures[source] = through;
      } else {
        MB_ASSIGN_OR_RETURN(
            figures[source],
            Since(through, included->second, absl::StrCat(code, " ", source)));
      }
      if (taken != nullptr) (*taken)[source] = through;
    } else {
      MB_RETURN_IF_ERROR(store_
                             ->GetProto(kStatementFiguresTable,
                                        FiguresKey(code, source, month),
                                        &figures[source])
                             .status());
    }
  }
  StatementActivity activity;
  activity.accrual_records = figures[kAccrualStream].count();
  activity.accrual_miles = figures[kAccrualStream].miles();
  if (book.partner.type() == v1::AIRLINE) {
    const records::Figures& awards = figures[kRedemptionStream];
    activity.awards_issued = awards.count();
    activity.award_miles_issued = awards.miles();
    activity.awards_refunded = awards.refunded_count();
    activity.award_miles_refunded = awards.refunded_miles();
    activity.purchase_records = figures[kPurchaseSource].count();
    activity.purchase_miles = figures[kPurchaseSource].miles();
  }
  MB_ASSIGN_OR_RETURN(
      v1::Statement statement,
      ComputeStatement(code, month, book.partner.currency_code(),
                       book.partner.contract(), activity));
  for (const auto& [source, position] : positions) {
    (*statement.mutable_stream_positions())[source] = position;
  }
  *statement.mutable_computed_at() = validation::ToProtoTimestamp(clock_());
  return statement;
}

absl::Status StatementBook::CatchUp() {
  std::map<std::string, uint64_t> heads;
  for (const std::string& source : progress_->Streams()) {
    absl::StatusOr<uint64_t> head = progress_->Head(source);
    if (!head.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read the head of the ", source, " EventStream (",
          head.status().message(), "); the statement stays DRAFT, try again"));
    }
    heads[source] = *head;
  }
  // Real time, not the service clock: this bounds a wait, it dates nothing.
  const absl::Time deadline = absl::Now() + catch_up_timeout_;
  absl::Duration pause = kFirstPoll;
  while (true) {
    std::string behind;
    for (const auto& [source, head] : heads) {
      const uint64_t applied = progress_->Applied(source);
      if (applied < head) {
        behind = absl::StrCat("the ", source, " EventStream is applied up to ",
                              applied, " of ", head);
        break;
      }
    }
    if (behind.empty()) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(absl::StrCat(
          behind, " after waiting ", absl::FormatDuration(catch_up_timeout_),
          "; the statement stays DRAFT, try again"));
    }
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, kMaxPoll);
  }
}

// ---------------------------------------------------------------------------
// The RPCs

absl::StatusOr<v1::GetStatementResponse> StatementBook::GetStatement(
    const v1::GetStatementRequest& request) {
  FieldErrors errors;
  CheckPartnerCode(errors, request.partner_code());
  CheckPeriod(errors, request.year(), request.month());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const absl::CivilMonth month(request.year(), request.month());
  MB_ASSIGN_OR_RETURN(Book book, LoadBook(request.partner_code()));
  const absl::CivilMonth current = UtcMonth(clock_());
  if (month < book.registered || month > current) {
    return InvalidField(
        "month", absl::StrCat("must be from the partner's registration month ",
                              MonthText(book.registered),
                              " to the current month ", MonthText(current)));
  }
  v1::GetStatementResponse response;
  if (month < book.first_draft) {
    MB_ASSIGN_OR_RETURN(bool found, LoadIssued(request.partner_code(), month,
                                               response.mutable_statement()));
    if (!found) {
      return absl::DataLossError(
          absl::StrCat(StatementId(request.partner_code(), month),
                       " is issued but missing"));
    }
    return response;
  }
  const Positions positions = ReadPositions();
  MB_ASSIGN_OR_RETURN(*response.mutable_statement(),
                      ComputeDraft(book, month, positions, nullptr));
  return response;
}

absl::StatusOr<v1::ListStatementsResponse> StatementBook::ListStatements(
    const v1::ListStatementsRequest& request) {
  FieldErrors errors;
  if (!request.partner_code().empty()) {
    CheckPartnerCode(errors, request.partner_code());
  }
  std::vector<bool> wanted(v1::StatementStatus_ARRAYSIZE,
                           request.statuses().empty());
  for (int i = 0; i < request.statuses_size(); ++i) {
    const v1::StatementStatus status = request.statuses(i);
    if (status != v1::DRAFT && status != v1::ISSUED && status != v1::SETTLED) {
      errors.Add(absl::StrCat("statuses[", i, "]"),
                 "must be DRAFT, ISSUED or SETTLED");
    } else {
      wanted[status] = true;
    }
  }
  const int page_size = request.page().page_size() == 0
                            ? kDefaultPage
                            : request.page().page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    errors.Add("page.page_size", "must be 0 to 1,000");
  }
  // The token is a statement_id, "<PARTNER>_<YYYYMM>".
  const std::string& token = request.page().page_token();
  std::string token_partner;
  absl::optional<absl::CivilMonth> token_month;
  if (!token.empty()) {
    const size_t underscore = token.rfind('_');
    int period = 0;
    if (underscore != std::string::npos && token.size() - underscore == 7 &&
        IsPartnerCode(token.substr(0, underscore)) &&
        absl::SimpleAtoi(token.substr(underscore + 1), &period) &&
        period / 100 >= 2000 && period % 100 >= 1 && period % 100 <= 12) {
      token_partner = token.substr(0, underscore);
      token_month = absl::CivilMonth(period / 100, period % 100);
    } else {
      errors.Add("page.page_token",
                 "must be the next_page_token of the previous page");
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  std::vector<Book> books;
  if (!request.partner_code().empty()) {
    MB_ASSIGN_OR_RETURN(Book book, LoadBook(request.partner_code()));
    books.push_back(std::move(book));
  } else {
    // ListPartners gives them by code, the list's second key.
    v1::ListPartnersRequest list;
    list.mutable_page()->set_page_size(kMaxPage);
    do {
      MB_ASSIGN_OR_RETURN(v1::ListPartnersResponse partners,
                          partners_->ListPartners(list));
      for (v1::Partner& partner : *partners.mutable_partners()) {
        MB_ASSIGN_OR_RETURN(Book book, BookOf(std::move(partner)));
        books.push_back(std::move(book));
      }
      list.mutable_page()->set_page_token(partners.page().next_page_token());
    } while (!list.page().page_token().empty());
  }
  v1::ListStatementsResponse response;
  if (books.empty()) return response;
  const absl::CivilMonth current = UtcMonth(clock_());
  absl::CivilMonth earliest = current;
  for (const Book& book : books) earliest = std::min(earliest, book.registered);
  absl::optional<Positions> positions;

  for (absl::CivilMonth month = token_month ? std::min(*token_month, current)
                                            : current;
       month >= earliest; --month) {
    for (const Book& book : books) {
      const std::string& code = book.partner.partner_code();
      if (month < book.registered) continue;
      if (token_month && month == *token_month && code <= token_partner)
        continue;
      v1::Statement statement;
      const bool issued = month < book.first_draft;
      if (issued) {
        MB_ASSIGN_OR_RETURN(bool found, LoadIssued(code, month, &statement));
        if (!found) {
          return absl::DataLossError(
              absl::StrCat(StatementId(code, month), " is issued but missing"));
        }
      }
      if (!wanted[issued ? statement.status() : v1::DRAFT]) continue;
      if (response.statements_size() == page_size) {
        response.mutable_page()->set_next_page_token(
            response.statements(page_size - 1).statement_id());
        return response;
      }
      if (!issued) {
        if (!positions) positions = ReadPositions();
        MB_ASSIGN_OR_RETURN(statement,
                            ComputeDraft(book, month, *positions, nullptr));
      }
      *response.add_statements() = std::move(statement);
    }
  }
  return response;
}

absl::StatusOr<v1::IssueStatementResponse> StatementBook::IssueStatement(
    const v1::IssueStatementRequest& request) {
  FieldErrors errors;
  CheckPartnerCode(errors, request.partner_code());
  CheckPeriod(errors, request.year(), request.month());
  if (request.actor().channel() != common::v1::SYSTEM &&
      request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id",
               "required: statements are issued by staff or the SYSTEM job");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const std::string& code = request.partner_code();
  const absl::CivilMonth month(request.year(), request.month());
  MB_ASSIGN_OR_RETURN(Book book, LoadBook(code));
  if (month < book.registered) {
    return InvalidField("month",
                        absl::StrCat("must not be before the partner's "
                                     "registration month ",
                                     MonthText(book.registered)));
  }
  const absl::Time now = clock_();
  if (month >= UtcMonth(now)) {
    return FailedPreconditionField(
        "month",
        absl::StrCat(MonthText(month), " has not ended (today is ",
                     validation::FormatDate(validation::UtcDay(now)), ")"));
  }
  v1::IssueStatementResponse response;
  auto issued_or_in_order = [&](const Book& current) -> absl::StatusOr<bool> {
    if (month < current.first_draft) {
      MB_ASSIGN_OR_RETURN(
          bool found, LoadIssued(code, month, response.mutable_statement()));
      if (!found) {
        return absl::DataLossError(
            absl::StrCat(StatementId(code, month), " is issued but missing"));
      }
      return true;
    }
    if (current.first_draft < month) {
      return FailedPreconditionField(
          "month",
          absl::StrCat("the statement ", StatementId(code, current.first_draft),
                       " is still DRAFT: a partner's months are "
                       "issued in order"));
    }
    return false;
  };
  MB_ASSIGN_OR_RETURN(bool done, issued_or_in_order(book));
  if (done) return response;

  MB_RETURN_IF_ERROR(CatchUp());

  store::KeyLocks::Guard guard = locks_.Lock(code);
  // Another call may have issued it while this one caught up.
  MB_ASSIGN_OR_RETURN(book, LoadBook(code));
  MB_ASSIGN_OR_RETURN(done, issued_or_in_order(book));
  if (done) return response;

  const Positions positions = ReadPositions();
  std::map<std::string, records::Figures> taken;
  MB_ASSIGN_OR_RETURN(v1::Statement statement,
                      ComputeDraft(book, month, positions, &taken));
  const google::protobuf::Timestamp issued_at =
      validation::ToProtoTimestamp(clock_());
  statement.set_status(v1::ISSUED);
  *statement.mutable_computed_at() = issued_at;
  *statement.mutable_issued_at() = issued_at;
  *statement.mutable_issued_by() = request.actor();
  statement.set_file_name(StatementFileName(code, month));
  MB_ASSIGN_OR_RETURN(std::string bytes, FormatStatementFile(statement));

  store::WriteBatch batch = store_->NewBatch();
  MB_RETURN_IF_ERROR(
      folders_->WriteOutboxFile(code, statement.file_name(), bytes, batch)
          .status());
  records::StatementProgress progress = book.progress;
  progress.set_last_issued_year(static_cast<int32_t>(month.year()));
  progress.set_last_issued_month(month.month());
  for (const auto& [source, figures] : taken) {
    (*progress.mutable_included())[source] = figures;
  }
  batch.PutProto(kStatementsTable, StatementKey(code, month), statement);
  batch.PutProto(kStatementProgressTable, ProgressKey(code), progress);
  v1::StatementIssued event;
  *event.mutable_statement() = statement;
  batch.AppendEvent(code, event);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  log::Info("statement_issued",
            {{"statement_id", statement.statement_id()},
             {"net_minor_units", statement.net().minor_units()},
             {"currency", statement.currency_code()},
             {"operator", request.actor().operator_id()}});
  *response.mutable_statement() = std::move(statement);
  return response;
}

absl::StatusOr<v1::SettleStatementResponse> StatementBook::SettleStatement(
    const v1::SettleStatementRequest& request) {
  FieldErrors errors;
  CheckPartnerCode(errors, request.partner_code());
  CheckPeriod(errors, request.year(), request.month());
  const absl::Time now = clock_();
  const v1::Payment& payment = request.payment();
  if (!request.has_payment()) {
    errors.Add("payment", "required");
  } else {
    if (!payment.has_amount()) {
      errors.Add("payment.amount", "required: the statement's net amount");
    } else if (!IsCurrencyCode(payment.amount().currency_code())) {
      errors.Add("payment.amount.currency_code",
                 "must be an ISO 4217 code, e.g. CNY");
    }
    absl::StatusOr<absl::CivilDay> paid_on =
        validation::ToCivilDay("payment.paid_on", payment.paid_on());
    if (!paid_on.ok()) {
      errors.Merge("", paid_on.status());
    } else if (*paid_on > validation::UtcDay(now)) {
      errors.Add("payment.paid_on",
                 absl::StrCat("must not be after today ",
                              validation::FormatDate(validation::UtcDay(now))));
    }
    if (!IsPaymentReference(payment.payment_reference())) {
      errors.Add("payment.payment_reference",
                 "must be 1-64 characters, no control characters");
    }
  }
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: payments are recorded by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const std::string& code = request.partner_code();
  const absl::CivilMonth month(request.year(), request.month());
  MB_ASSIGN_OR_RETURN(Book book, LoadBook(code));
  if (month < book.registered) {
    return InvalidField("month",
                        absl::StrCat("must not be before the partner's "
                                     "registration month ",
                                     MonthText(book.registered)));
  }

  store::KeyLocks::Guard guard = locks_.Lock(code);
  v1::Statement statement;
  MB_ASSIGN_OR_RETURN(bool found, LoadIssued(code, month, &statement));
  if (!found) {
    return FailedPreconditionField(
        "month",
        absl::StrCat("the statement ", StatementId(code, month),
                     " is DRAFT: only an ISSUED statement is settled"));
  }
  v1::SettleStatementResponse response;
  if (statement.status() == v1::SETTLED) {
    if (!google::protobuf::util::MessageDifferencer::Equals(statement.payment(),
                                                            payment)) {
      return FailedPreconditionField(
          "payment",
          absl::StrCat("the statement ", statement.statement_id(),
                       " is SETTLED with another payment (",
                       statement.payment().payment_reference(), ")"));
    }
    *response.mutable_statement() = std::move(statement);
    return response;
  }
  if (payment.amount().currency_code() != statement.currency_code()) {
    return InvalidField("payment.amount.currency_code",
                        absl::StrCat("must be the statement's currency ",
                                     statement.currency_code()));
  }
  if (payment.amount().minor_units() != statement.net().minor_units()) {
    return InvalidField(
        "payment.amount",
        absl::StrCat("must equal the statement's net amount ",
                     statement.net().minor_units(), " ",
                     statement.currency_code(),
                     " (minor units; negative when the mileage bank pays)"));
  }
  statement.set_status(v1::SETTLED);
  *statement.mutable_settled_at() = validation::ToProtoTimestamp(now);
  *statement.mutable_settled_by() = request.actor();
  *statement.mutable_payment() = payment;
  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kStatementsTable, StatementKey(code, month), statement);
  v1::StatementSettled event;
  *event.mutable_statement() = statement;
  batch.AppendEvent(code, event);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  log::Info("statement_settled",
            {{"statement_id", statement.statement_id()},
             {"net_minor_units", statement.net().minor_units()},
             {"payment_reference", payment.payment_reference()},
             {"operator", request.actor().operator_id()}});
  *response.mutable_statement() = std::move(statement);
  return response;
}

}  // namespace mileagebank::settlement
