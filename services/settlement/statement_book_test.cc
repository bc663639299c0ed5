#include "services/settlement/statement_book.h"

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::settlement {
namespace {

using ::mileagebank::testing::NamesField;

absl::Time Utc(int year, int month, int day, int hour = 12, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

std::string ReadAll(const std::string& path) {
  std::ifstream input(path, std::ios::binary);
  std::stringstream bytes;
  bytes << input.rdbuf();
  return bytes.str();
}

// Statements compared field by field (stream_positions is a map, whose
// serialised order is not fixed).
::testing::AssertionResult Same(const google::protobuf::Message& a,
                                const google::protobuf::Message& b) {
  if (google::protobuf::util::MessageDifferencer::Equals(a, b)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << a.DebugString() << "\nvs\n"
                                       << b.DebugString();
}

common::v1::Money Cny(int64_t minor_units) {
  common::v1::Money money;
  money.set_currency_code("CNY");
  money.set_minor_units(minor_units);
  return money;
}

// The followers' positions and the sources' heads, as a test sets them.
class FakeProgress : public StreamProgress {
 public:
  absl::StatusOr<uint64_t> Head(absl::string_view source) override {
    absl::MutexLock lock(&mutex_);
    if (!head_error_.ok()) return head_error_;
    return heads_[std::string(source)];
  }
  uint64_t Applied(absl::string_view source) override {
    absl::MutexLock lock(&mutex_);
    return applied_[std::string(source)];
  }
  // An event of `source` was applied: the head moves with it unless a test
  // holds it ahead.
  void SetApplied(const std::string& source, uint64_t sequence) {
    absl::MutexLock lock(&mutex_);
    applied_[source] = sequence;
    heads_[source] = std::max(heads_[source], sequence);
  }
  void SetHead(const std::string& source, uint64_t sequence) {
    absl::MutexLock lock(&mutex_);
    heads_[source] = sequence;
  }
  void SetHeadError(absl::Status error) {
    absl::MutexLock lock(&mutex_);
    head_error_ = std::move(error);
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, uint64_t> heads_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, uint64_t> applied_ ABSL_GUARDED_BY(mutex_);
  absl::Status head_error_ ABSL_GUARDED_BY(mutex_);
};

class StatementBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mileagebank::testing::FreshTestDir();
    std::vector<std::string> tables = StatementBook::Tables();
    tables.push_back(kPartnersTable);
    tables.push_back(kOutboxTable);
    store_ = std::move(
        *store::Store::Open({.path = dir_ + "/store", .tables = tables}));
    auto clock = [this] { return now_; };
    partners_ = std::make_unique<Partners>(store_.get(), "FM", clock);
    folders_ =
        std::make_unique<DropFolders>(store_.get(), dir_ + "/partners", clock);
    book_ = std::make_unique<StatementBook>(store_.get(), partners_.get(),
                                            folders_.get(), &progress_, clock,
                                            absl::Milliseconds(200));
  }

  // Registers an airline (sale 25.00, award 18.00, purchase 15.00 CNY per
  // 1,000 miles) or another partner (sale 10.00) at `at`.
  void Register(const std::string& code, v1::PartnerType type, absl::Time at) {
    now_ = at;
    v1::RegisterPartnerRequest request;
    v1::Partner* partner = request.mutable_partner();
    partner->set_partner_code(code);
    partner->set_name(code + " partner");
    partner->set_type(type);
    partner->set_currency_code("CNY");
    v1::Contract* contract = partner->mutable_contract();
    if (type == v1::AIRLINE) {
      *contract->mutable_mile_sale_price() = Cny(2500);
      *contract->mutable_award_price() = Cny(1800);
      *contract->mutable_mile_purchase_price() = Cny(1500);
    } else {
      *contract->mutable_mile_sale_price() = Cny(1000);
    }
    request.mutable_actor()->set_operator_id("finance-1");
    auto registered = partners_->RegisterPartner(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }

  void SetContract(const std::string& code, const std::string& path,
                   int64_t minor_units) {
    v1::UpdatePartnerRequest update;
    update.set_partner_code(code);
    v1::Contract* contract = update.mutable_partner()->mutable_contract();
    if (path == "contract.mile_sale_price")
      *contract->mutable_mile_sale_price() = Cny(minor_units);
    if (path == "contract.award_price")
      *contract->mutable_award_price() = Cny(minor_units);
    update.mutable_update_mask()->add_paths(path);
    update.mutable_actor()->set_operator_id("finance-1");
    auto updated = partners_->UpdatePartner(update);
    ASSERT_TRUE(updated.ok()) << updated.status();
  }

  // -- accrual's events, as its ledger writes them -------------------------

  // A PARTNER_FLIGHT credit: base miles by the partner's table plus the
  // tier bonus, posted at `posted`.
  static accrual::v1::CreditPosted PartnerFlight(const std::string& partner,
                                                 int64_t base, int64_t bonus,
                                                 absl::Time posted,
                                                 int record_number) {
    accrual::v1::CreditPosted event;
    accrual::v1::Transaction* t = event.mutable_transaction();
    t->set_transaction_id(absl::StrCat("T1000000018-", record_number));
    t->set_member_number("1000000018");
    t->set_type(accrual::v1::PARTNER_FLIGHT);
    t->set_miles(base + bonus);
    t->set_balance_after(50'000 + base + bonus);
    *t->mutable_posted_at() = validation::ToProtoTimestamp(posted);
    *t->mutable_posting_date() =
        validation::ToProtoDate(validation::UtcDay(posted));
    *t->mutable_activity_date() =
        validation::ToProtoDate(validation::UtcDay(posted) - 3);
    const std::string ticket = absl::StrCat("99912345678", 10 + record_number);
    t->set_idempotency_key(absl::StrCat("flight:", ticket, "/1"));
    accrual::v1::Flight* flight = t->mutable_flight();
    flight->set_carrier(partner);
    flight->set_flight_number(981);
    *flight->mutable_flight_date() = *t->mutable_activity_date();
    flight->set_origin("PEK");
    flight->set_destination("JFK");
    flight->set_booking_class(base == 0 ? "G" : "Y");
    t->mutable_flight_identity()->set_ticket_number(ticket);
    t->mutable_flight_identity()->set_coupon_number(1);
    accrual::v1::EarningBreakdown* earning = t->mutable_earning();
    earning->set_distance_miles(6'834);
    earning->set_rate_percent(base == 0 ? 0 : 100);
    earning->set_base_miles(base);
    earning->set_tier(bonus == 0 ? membership::v1::BLUE : membership::v1::GOLD);
    earning->set_bonus_percent(bonus == 0 ? 0 : 50);
    earning->set_bonus_miles(bonus);
    t->set_qualifying_miles(base);
    t->set_qualifying_segments(base == 0 ? 0 : 1);
    t->set_partner_code(partner);
    t->set_partner_reference(absl::StrCat(ticket, "/1"));
    t->mutable_partner_source()->set_file_id("F-0001");
    t->mutable_partner_source()->set_record_number(record_number);
    t->mutable_actor()->set_channel(common::v1::PARTNER);
    return event;
  }

  // A PARTNER_ACTIVITY credit (hotel stay, car rental...).
  static accrual::v1::CreditPosted PartnerActivity(
      const std::string& partner, int64_t miles, absl::Time posted,
      const std::string& reference) {
    accrual::v1::CreditPosted event;
    accrual::v1::Transaction* t = event.mutable_transaction();
    t->set_transaction_id("T1000000026-" + reference);
    t->set_member_number("1000000026");
    t->set_type(accrual::v1::PARTNER_ACTIVITY);
    t->set_miles(miles);
    *t->mutable_posted_at() = validation::ToProtoTimestamp(posted);
    *t->mutable_posting_date() =
        validation::ToProtoDate(validation::UtcDay(posted));
    *t->mutable_activity_date() = *t->mutable_posting_date();
    t->set_idempotency_key(absl::StrCat("partner:", partner, ":", reference));
    t->set_partner_code(partner);
    t->set_partner_reference(reference);
    t->set_partner_activity_type(accrual::v1::HOTEL);
    t->mutable_actor()->set_channel(common::v1::PARTNER);
    return event;
  }

  static accrual::v1::CreditPosted OwnFlight(int64_t miles, absl::Time posted) {
    accrual::v1::CreditPosted event;
    accrual::v1::Transaction* t = event.mutable_transaction();
    t->set_transaction_id("T1000000018-own");
    t->set_member_number("1000000018");
    t->set_type(accrual::v1::OWN_FLIGHT);
    t->set_miles(miles);
    *t->mutable_posted_at() = validation::ToProtoTimestamp(posted);
    *t->mutable_posting_date() =
        validation::ToProtoDate(validation::UtcDay(posted));
    t->mutable_flight()->set_carrier("FM");
    return event;
  }

  // -- redemption's events, as its service writes them ---------------------

  // An award of `miles_per_passenger` x `passengers` on `carrier` ("FM" is
  // the host; another is a partner award), issued at `issued`.
  static redemption::v1::RedemptionRecord Award(const std::string& id,
                                                const std::string& carrier,
                                                int64_t miles_per_passenger,
                                                int passengers,
                                                absl::Time issued) {
    redemption::v1::RedemptionRecord award;
    award.set_redemption_id(id);
    award.set_member_number("1000000018");
    award.set_state(redemption::v1::ISSUED);
    award.set_award_type(redemption::v1::STANDARD_AWARD);
    redemption::v1::Itinerary* itinerary = award.mutable_itinerary();
    itinerary->set_journey_type(redemption::v1::ONE_WAY);
    redemption::v1::Segment* segment =
        itinerary->mutable_outbound()->add_segments();
    segment->set_carrier(carrier);
    segment->set_flight_number(1501);
    *segment->mutable_flight_date() =
        validation::ToProtoDate(validation::UtcDay(issued) + 40);
    segment->set_origin("PEK");
    segment->set_destination("SHA");
    award.set_cabin(redemption::v1::ECONOMY);
    for (int i = 0; i < passengers; ++i) {
      award.add_passengers()->set_member(true);
      award.add_award_ticket_numbers(absl::StrCat("999000000000", i));
    }
    if (carrier != "FM") award.set_partner_code(carrier);
    redemption::v1::JourneyPrice* price = award.add_prices();
    price->set_distance_miles(664);
    price->mutable_band()->set_min_miles(601);
    price->mutable_band()->set_max_miles(1200);
    price->set_miles(miles_per_passenger);
    award.set_miles_per_passenger(miles_per_passenger);
    award.set_total_miles(miles_per_passenger * passengers);
    award.set_hold_id("H-" + id);
    award.set_request_id("req-" + id);
    *award.mutable_first_flight_date() = segment->flight_date();
    award.mutable_created_by()->set_channel(common::v1::WEB);
    *award.mutable_created_at() =
        validation::ToProtoTimestamp(issued - absl::Hours(1));
    award.mutable_issued_by()->set_channel(common::v1::WEB);
    *award.mutable_issued_at() = validation::ToProtoTimestamp(issued);
    return award;
  }

  static redemption::v1::RedemptionIssued Issued(
      const redemption::v1::RedemptionRecord& award) {
    redemption::v1::RedemptionIssued event;
    *event.mutable_redemption() = award;
    return event;
  }

  static redemption::v1::RedemptionRefunded Refunded(
      redemption::v1::RedemptionRecord award, absl::Time refunded) {
    award.set_state(redemption::v1::REFUNDED);
    award.mutable_refunded_by()->set_channel(common::v1::CALL_CENTRE);
    award.mutable_refunded_by()->set_operator_id("agent-7");
    *award.mutable_refunded_at() = validation::ToProtoTimestamp(refunded);
    award.set_refund_reason("CHANGE_OF_PLANS");
    award.set_redeposit_fee_miles(1'000);
    redemption::v1::RedemptionRefunded event;
    *event.mutable_redemption() = award;
    return event;
  }

  // -- applying, as EventFollower does --------------------------------------

  common::v1::Event NextEvent(const std::string& source, const std::string& key,
                              const google::protobuf::Message& payload) {
    common::v1::Event event;
    event.set_sequence(++sequences_[source]);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(now_);
    event.set_key(key);
    event.mutable_payload()->PackFrom(payload);
    return event;
  }

  // Applies the next event of `source` with its cursor in the same batch.
  absl::Status Follow(const std::string& source,
                      const google::protobuf::Message& payload) {
    common::v1::Event event = NextEvent(source, "1000000018", payload);
    store::WriteBatch batch = store_->NewBatch();
    absl::Status applied = source == kAccrualStream
                               ? book_->ApplyAccrualEvent(event, batch)
                               : book_->ApplyRedemptionEvent(event, batch);
    if (!applied.ok()) return applied;
    batch.SetCursor(source, event.sequence());
    store_->Enqueue(batch);
    progress_.SetApplied(source, event.sequence());
    return absl::OkStatus();
  }

  void Purchase(const std::string& partner, absl::Time acknowledged,
                int64_t records, int64_t miles) {
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(
        book_->AddPurchase(partner, acknowledged, records, miles, batch).ok());
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  // February 2026 of CA (registered in January) and HILTON.
  void FebruaryActivity() {
    now_ = Utc(2026, 2, 10);
    // 1,000 base + 234 tier bonus; a class that earns 0 (still a credit);
    // 567 base.
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerFlight("CA", 1'000, 234, now_, 1)).ok());
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerFlight("CA", 0, 0, now_, 2)).ok());
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerFlight("CA", 567, 0, now_, 3)).ok());
    ASSERT_TRUE(Follow(kAccrualStream, OwnFlight(4'000, now_)).ok());
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerActivity("HILTON", 1'001, now_, "STAY-1"))
            .ok());
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerActivity("HILTON", 500, now_, "STAY-2"))
            .ok());
    // Two partner awards and a host award, then one partner award refunded.
    now_ = Utc(2026, 2, 12);
    ASSERT_TRUE(
        Follow(kRedemptionStream, Issued(Award("R1", "CA", 8'000, 2, now_)))
            .ok());
    ASSERT_TRUE(
        Follow(kRedemptionStream, Issued(Award("R2", "CA", 12'000, 1, now_)))
            .ok());
    ASSERT_TRUE(
        Follow(kRedemptionStream, Issued(Award("R3", "FM", 20'000, 1, now_)))
            .ok());
    now_ = Utc(2026, 2, 14);
    ASSERT_TRUE(
        Follow(kRedemptionStream,
               Refunded(Award("R2", "CA", 12'000, 1, Utc(2026, 2, 12)), now_))
            .ok());
    // The partner acknowledged an outbound file: 3 records, 2,501 miles.
    Purchase("CA", Utc(2026, 2, 20), 3, 2'501);
  }

  absl::StatusOr<v1::Statement> Get(const std::string& partner, int year,
                                    int month) {
    v1::GetStatementRequest request;
    request.set_partner_code(partner);
    request.set_year(year);
    request.set_month(month);
    absl::StatusOr<v1::GetStatementResponse> response =
        book_->GetStatement(request);
    if (!response.ok()) return response.status();
    return response->statement();
  }

  absl::StatusOr<v1::Statement> Issue(
      const std::string& partner, int year, int month,
      const std::string& operator_id = "finance-1") {
    v1::IssueStatementRequest request;
    request.set_partner_code(partner);
    request.set_year(year);
    request.set_month(month);
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    request.mutable_actor()->set_operator_id(operator_id);
    absl::StatusOr<v1::IssueStatementResponse> response =
        book_->IssueStatement(request);
    if (!response.ok()) return response.status();
    return response->statement();
  }

  static v1::SettleStatementRequest Settlement(const std::string& partner,
                                               int year, int month,
                                               int64_t amount,
                                               const std::string& reference) {
    v1::SettleStatementRequest request;
    request.set_partner_code(partner);
    request.set_year(year);
    request.set_month(month);
    *request.mutable_payment()->mutable_amount() = Cny(amount);
    *request.mutable_payment()->mutable_paid_on() =
        validation::ToProtoDate(absl::CivilDay(2026, 3, 6));
    request.mutable_payment()->set_payment_reference(reference);
    request.mutable_actor()->set_channel(common::v1::SALES_OFFICE);
    request.mutable_actor()->set_operator_id("treasury-2");
    return request;
  }

  // The payloads of the settlement stream of type T.
  template <typename T>
  std::vector<T> EventsOf() {
    store_->WaitForQueued();
    std::vector<T> found;
    auto events = store_->ReadEvents(0, 10'000);
    EXPECT_TRUE(events.ok());
    for (const common::v1::Event& event : *events) {
      T payload;
      if (event.payload().UnpackTo(&payload)) found.push_back(payload);
    }
    return found;
  }

  static std::vector<int64_t> Line(const v1::Statement& statement, int index) {
    const v1::StatementLine& line = statement.lines(index);
    return {line.count(), line.miles(), line.amount().minor_units()};
  }

  std::string dir_;
  absl::Time now_ = Utc(2026, 1, 20);
  std::map<std::string, uint64_t> sequences_;
  FakeProgress progress_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Partners> partners_;
  std::unique_ptr<DropFolders> folders_;
  std::unique_ptr<StatementBook> book_;
};

TEST_F(StatementBookTest, DraftShowsTheMonthsFiguresRoundedHalfEven) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  Register("HILTON", v1::HOTEL, Utc(2026, 1, 21));
  FebruaryActivity();
  now_ = Utc(2026, 2, 25, 9, 30);

  auto statement = Get("CA", 2026, 2);
  ASSERT_TRUE(statement.ok()) << statement.status();
  EXPECT_EQ(statement->statement_id(), "CA_202602");
  EXPECT_EQ(statement->status(), v1::DRAFT);
  EXPECT_EQ(statement->currency_code(), "CNY");
  ASSERT_EQ(statement->lines_size(), 3);
  EXPECT_EQ(statement->lines(0).type(), v1::ACCRUAL);
  // 3 credits (the 0-mile one included), 1,234 + 0 + 567 = 1,801 miles;
  // 1,801 x 2,500 / 1,000 = 4,502.5 -> 4,502 (half to even).
  EXPECT_EQ(Line(*statement, 0), (std::vector<int64_t>{3, 1'801, 4'502}));
  // 2 awards issued (16,000 + 12,000) less 1 refunded (12,000); the host
  // award is not the partner's: 16,000 x 1,800 / 1,000.
  EXPECT_EQ(Line(*statement, 1), (std::vector<int64_t>{1, 16'000, 28'800}));
  // 2,501 x 1,500 / 1,000 = 3,751.5 -> 3,752 (half to even).
  EXPECT_EQ(Line(*statement, 2), (std::vector<int64_t>{3, 2'501, 3'752}));
  EXPECT_EQ(statement->receivable().minor_units(), 4'502);
  EXPECT_EQ(statement->payable().minor_units(), 32'552);
  EXPECT_EQ(statement->net().minor_units(), -28'050);
  EXPECT_EQ(statement->contract().award_price().minor_units(), 1'800);
  EXPECT_EQ(statement->stream_positions().at("accrual"), 6u);
  EXPECT_EQ(statement->stream_positions().at("redemption"), 4u);
  EXPECT_EQ(statement->stream_positions().at("settlement"),
            store_->LastSequence());
  EXPECT_EQ(validation::FromProtoTimestamp(statement->computed_at()), now_);
  EXPECT_FALSE(statement->has_issued_at());

  // A partner that is not an airline: zero REDEMPTION and PURCHASE lines.
  auto hotel = Get("HILTON", 2026, 2);
  ASSERT_TRUE(hotel.ok()) << hotel.status();
  // 1,501 x 1,000 / 1,000.
  EXPECT_EQ(Line(*hotel, 0), (std::vector<int64_t>{2, 1'501, 1'501}));
  EXPECT_EQ(Line(*hotel, 1), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(Line(*hotel, 2), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(hotel->net().minor_units(), 1'501);

  // January had nothing.
  auto january = Get("CA", 2026, 1);
  ASSERT_TRUE(january.ok()) << january.status();
  EXPECT_EQ(january->net().minor_units(), 0);
  EXPECT_EQ(Line(*january, 0), (std::vector<int64_t>{0, 0, 0}));

  // A DRAFT uses the current contract.
  SetContract("CA", "contract.mile_sale_price", 3'000);
  EXPECT_EQ(Get("CA", 2026, 2)->lines(0).amount().minor_units(), 5'403);
}

TEST_F(StatementBookTest, ReversalsAndOtherEventsChangeNothing) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 2, 10);
  accrual::v1::CreditPosted credit = PartnerFlight("CA", 1'000, 0, now_, 1);
  ASSERT_TRUE(Follow(kAccrualStream, credit).ok());
  // The credit is reversed: a REVERSAL debit (carrying the partner code) and
  // CreditReversed. The ACCRUAL line counts credits posted, and stays.
  accrual::v1::DebitPosted reversal;
  *reversal.mutable_transaction() = credit.transaction();
  reversal.mutable_transaction()->set_transaction_id("T-reversal");
  reversal.mutable_transaction()->set_type(accrual::v1::REVERSAL);
  reversal.mutable_transaction()->set_miles(-1'000);
  reversal.mutable_transaction()->set_reversed_transaction_id(
      credit.transaction().transaction_id());
  accrual::v1::CreditReversed reversed;
  reversed.set_member_number("1000000018");
  reversed.set_reversed_transaction_id(credit.transaction().transaction_id());
  reversed.set_reversed_type(accrual::v1::PARTNER_FLIGHT);
  reversed.set_miles(1'000);
  accrual::v1::HoldCreated hold;
  hold.mutable_hold()->set_hold_id("H1");
  hold.mutable_hold()->set_miles(8'000);
  for (const google::protobuf::Message* payload :
       std::vector<const google::protobuf::Message*>{&reversal, &reversed,
                                                     &hold}) {
    common::v1::Event event = NextEvent(kAccrualStream, "1000000018", *payload);
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(book_->ApplyAccrualEvent(event, batch).ok());
    EXPECT_TRUE(batch.empty()) << payload->GetTypeName();
  }
  // Held, cancelled and expired awards are not issued awards; a credit of a
  // partner unknown here is not ours.
  redemption::v1::RedemptionHeld held;
  *held.mutable_redemption() = Award("R9", "CA", 8'000, 1, now_);
  held.mutable_redemption()->set_state(redemption::v1::HELD);
  redemption::v1::RedemptionCancelled cancelled;
  *cancelled.mutable_redemption() = held.redemption();
  for (const google::protobuf::Message* payload :
       std::vector<const google::protobuf::Message*>{&held, &cancelled}) {
    common::v1::Event event =
        NextEvent(kRedemptionStream, "1000000018", *payload);
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(book_->ApplyRedemptionEvent(event, batch).ok());
    EXPECT_TRUE(batch.empty()) << payload->GetTypeName();
  }
  {
    common::v1::Event event =
        NextEvent(kAccrualStream, "1000000018",
                  PartnerActivity("NOBODY", 10, now_, "X1"));
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(book_->ApplyAccrualEvent(event, batch).ok());
    EXPECT_TRUE(batch.empty());
  }
  EXPECT_EQ(Line(*Get("CA", 2026, 2), 0),
            (std::vector<int64_t>{1, 1'000, 2'500}));
}

TEST_F(StatementBookTest, EventsAppliedTogetherCountAsOneAtATime) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  Register("HILTON", v1::HOTEL, Utc(2026, 1, 21));
  now_ = Utc(2026, 2, 10);
  // FebruaryActivity's credits, as one stream message, then two more CA
  // credits as the next message, put in one batch before the first is
  // durable: each must see what the other added.
  std::vector<common::v1::Event> first;
  for (const accrual::v1::CreditPosted& credit :
       {PartnerFlight("CA", 1'000, 234, now_, 1),
        PartnerFlight("CA", 0, 0, now_, 2), PartnerFlight("CA", 567, 0, now_, 3),
        OwnFlight(4'000, now_), PartnerActivity("HILTON", 1'001, now_, "STAY-1"),
        PartnerActivity("HILTON", 500, now_, "STAY-2")}) {
    first.push_back(NextEvent(kAccrualStream, "1000000018", credit));
  }
  std::vector<common::v1::Event> second = {
      NextEvent(kAccrualStream, "1000000018",
                PartnerFlight("CA", 100, 0, now_, 4)),
      NextEvent(kAccrualStream, "1000000018",
                PartnerFlight("CA", 200, 0, now_, 5))};
  for (const std::vector<common::v1::Event>* message : {&first, &second}) {
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(book_->ApplyAccrualEvents(*message, batch).ok());
    batch.SetCursor(kAccrualStream, message->back().sequence());
    store_->Enqueue(batch);
    progress_.SetApplied(kAccrualStream, message->back().sequence());
  }
  now_ = Utc(2026, 2, 25);
  // 5 credits, 1,234 + 0 + 567 + 100 + 200 = 2,101 miles; x 2.5 = 5,252.5
  // -> 5,252 (half to even).
  EXPECT_EQ(Line(*Get("CA", 2026, 2), 0),
            (std::vector<int64_t>{5, 2'101, 5'252}));
  EXPECT_EQ(Line(*Get("HILTON", 2026, 2), 0),
            (std::vector<int64_t>{2, 1'501, 1'501}));
}

TEST_F(StatementBookTest, ApplyLeavesTheBatchUnusedOnErrorAndRetriesTheSame) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 2, 10);
  common::v1::Event event = NextEvent(kAccrualStream, "1000000018",
                                      PartnerFlight("CA", 1'000, 0, now_, 1));
  common::v1::Event broken = event;
  broken.mutable_payload()->set_value("\xff\xff\xff");
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(book_->ApplyAccrualEvent(broken, batch).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(batch.empty());
  // The follower retries the same event: applied once.
  ASSERT_TRUE(book_->ApplyAccrualEvent(event, batch).ok());
  EXPECT_FALSE(batch.empty());
  batch.SetCursor(kAccrualStream, event.sequence());
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(Line(*Get("CA", 2026, 2), 0),
            (std::vector<int64_t>{1, 1'000, 2'500}));
}

TEST_F(StatementBookTest, AddPurchaseIsForAirlinesOnly) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  Register("HILTON", v1::HOTEL, Utc(2026, 1, 20));
  store::WriteBatch batch = store_->NewBatch();
  absl::Status hotel =
      book_->AddPurchase("HILTON", Utc(2026, 2, 1), 1, 100, batch);
  EXPECT_EQ(hotel.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(NamesField(hotel, "partner_code")) << hotel;
  absl::Status unknown =
      book_->AddPurchase("ZZ", Utc(2026, 2, 1), 1, 100, batch);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  absl::Status negative =
      book_->AddPurchase("CA", Utc(2026, 2, 1), -1, 100, batch);
  EXPECT_TRUE(NamesField(negative, "records_accepted")) << negative;
  EXPECT_TRUE(batch.empty());
  // Two acknowledgements add up, each in the month of its acknowledgement.
  Purchase("CA", Utc(2026, 2, 1, 0, 0), 2, 700);
  Purchase("CA", Utc(2026, 2, 28, 23, 59), 1, 300);
  Purchase("CA", Utc(2026, 3, 1, 0, 0), 5, 5'000);
  now_ = Utc(2026, 3, 2);
  EXPECT_EQ(Line(*Get("CA", 2026, 2), 2),
            (std::vector<int64_t>{3, 1'000, 1'500}));
  EXPECT_EQ(Line(*Get("CA", 2026, 3), 2),
            (std::vector<int64_t>{5, 5'000, 7'500}));
}

TEST_F(StatementBookTest, RefundInALaterMonthMakesANegativeRedemptionLine) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  // award_price 0.05 CNY per 1,000 miles with a configured chart band of 500
  // miles: -500 x 5 / 1,000 = -2.5 -> -2, and -1,500 x 5 / 1,000 = -7.5 -> -8.
  now_ = Utc(2026, 1, 25);
  SetContract("CA", "contract.award_price", 5);
  ASSERT_TRUE(
      Follow(kRedemptionStream, Issued(Award("R1", "CA", 500, 1, now_))).ok());
  ASSERT_TRUE(
      Follow(kRedemptionStream, Issued(Award("R2", "CA", 500, 3, now_))).ok());
  now_ = Utc(2026, 2, 3);
  ASSERT_TRUE(
      Follow(kRedemptionStream,
             Refunded(Award("R1", "CA", 500, 1, Utc(2026, 1, 25)), now_))
          .ok());
  auto february = Get("CA", 2026, 2);
  ASSERT_TRUE(february.ok()) << february.status();
  EXPECT_EQ(Line(*february, 1), (std::vector<int64_t>{-1, -500, -2}));
  EXPECT_EQ(february->payable().minor_units(), -2);
  EXPECT_EQ(february->net().minor_units(), 2);
  // The month the award was issued keeps it.
  EXPECT_EQ(Line(*Get("CA", 2026, 1), 1), (std::vector<int64_t>{2, 2'000, 10}));

  now_ = Utc(2026, 3, 3);
  ASSERT_TRUE(
      Follow(kRedemptionStream,
             Refunded(Award("R2", "CA", 500, 3, Utc(2026, 1, 25)), now_))
          .ok());
  EXPECT_EQ(Line(*Get("CA", 2026, 3), 1),
            (std::vector<int64_t>{-1, -1'500, -8}));
}

TEST_F(StatementBookTest, IssueFreezesWritesTheFileAndAppendsTheEvent) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  FebruaryActivity();
  now_ = Utc(2026, 3, 5, 8, 0);
  ASSERT_TRUE(Issue("CA", 2026, 1).ok());
  auto issued = Issue("CA", 2026, 2);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->status(), v1::ISSUED);
  EXPECT_EQ(validation::FromProtoTimestamp(issued->issued_at()), now_);
  EXPECT_EQ(issued->issued_by().operator_id(), "finance-1");
  EXPECT_EQ(issued->file_name(), "CA_202602.stmt.csv");
  EXPECT_EQ(issued->stream_positions().at("accrual"), 6u);
  EXPECT_EQ(issued->stream_positions().at("redemption"), 4u);
  EXPECT_EQ(issued->net().minor_units(), -28'050);

  const std::string expected =
      "H,CA,2026-02,CNY,2026-03-05T08:00:00Z,1\n"
      "L,ACCRUAL,3,1801,4502\n"
      "L,REDEMPTION,1,16000,28800\n"
      "L,PURCHASE,3,2501,3752\n"
      "T,-28050\n";
  EXPECT_EQ(ReadAll(folders_->OutboxFilePath("CA", "CA_202602.stmt.csv")),
            expected);
  auto described = folders_->FindOutboxFile("CA", "CA_202602.stmt.csv");
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->kind(), v1::STATEMENT_FILE);
  EXPECT_EQ(described->size_bytes(), static_cast<int64_t>(expected.size()));

  std::vector<v1::StatementIssued> events = EventsOf<v1::StatementIssued>();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(Same(events[1].statement(), *issued));
  EXPECT_TRUE(Same(*Get("CA", 2026, 2), *issued));

  // Frozen: a new contract changes the DRAFT months only.
  SetContract("CA", "contract.mile_sale_price", 3'000);
  EXPECT_TRUE(Same(*Get("CA", 2026, 2), *issued));
  EXPECT_EQ(Get("CA", 2026, 3)->contract().mile_sale_price().minor_units(),
            3'000);
}

TEST_F(StatementBookTest, LateItemsOfAnIssuedMonthFallIntoTheFirstDraftMonth) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  FebruaryActivity();
  now_ = Utc(2026, 3, 5, 8, 0);
  ASSERT_TRUE(Issue("CA", 2026, 1).ok());
  // An accrual event being applied while February is issued: decided, not
  // yet in the store's line when the figures are read.
  common::v1::Event in_flight =
      NextEvent(kAccrualStream, "1000000018",
                PartnerFlight("CA", 100, 0, Utc(2026, 2, 27), 9));
  store::WriteBatch racing = store_->NewBatch();
  ASSERT_TRUE(book_->ApplyAccrualEvent(in_flight, racing).ok());
  auto issued = Issue("CA", 2026, 2);
  ASSERT_TRUE(issued.ok()) << issued.status();
  racing.SetCursor(kAccrualStream, in_flight.sequence());
  ASSERT_TRUE(store_->Commit(racing).ok());
  progress_.SetApplied(kAccrualStream, in_flight.sequence());
  EXPECT_EQ(Line(*issued, 0), (std::vector<int64_t>{3, 1'801, 4'502}));

  // Late: a credit posted in February arrives now, and an acknowledgement
  // dated February is recorded late.
  now_ = Utc(2026, 3, 6);
  ASSERT_TRUE(
      Follow(kAccrualStream, PartnerFlight("CA", 200, 0, Utc(2026, 2, 28), 10))
          .ok());
  Purchase("CA", Utc(2026, 2, 28), 1, 40);
  // And March's own items.
  ASSERT_TRUE(
      Follow(kAccrualStream, PartnerFlight("CA", 1'000, 0, now_, 11)).ok());
  ASSERT_TRUE(
      Follow(kRedemptionStream,
             Refunded(Award("R1", "CA", 8'000, 2, Utc(2026, 2, 12)), now_))
          .ok());

  // February never changes; March shows its own and the late items.
  EXPECT_TRUE(Same(*Get("CA", 2026, 2), *issued));
  auto march = Get("CA", 2026, 3);
  ASSERT_TRUE(march.ok()) << march.status();
  EXPECT_EQ(march->status(), v1::DRAFT);
  EXPECT_EQ(Line(*march, 0), (std::vector<int64_t>{3, 1'300, 3'250}));
  EXPECT_EQ(Line(*march, 1), (std::vector<int64_t>{-1, -16'000, -28'800}));
  EXPECT_EQ(Line(*march, 2), (std::vector<int64_t>{1, 40, 60}));

  // Issuing March takes them; April starts empty, even with a late
  // February item recorded after March was issued.
  now_ = Utc(2026, 4, 1, 0, 5);
  auto issued_march = Issue("CA", 2026, 3);
  ASSERT_TRUE(issued_march.ok()) << issued_march.status();
  EXPECT_EQ(Line(*issued_march, 0), (std::vector<int64_t>{3, 1'300, 3'250}));
  ASSERT_TRUE(
      Follow(kAccrualStream, PartnerFlight("CA", 7, 0, Utc(2026, 2, 28), 12))
          .ok());
  ASSERT_TRUE(Follow(kAccrualStream, PartnerFlight("CA", 9, 0, now_, 13)).ok());
  auto april = Get("CA", 2026, 4);
  ASSERT_TRUE(april.ok()) << april.status();
  EXPECT_EQ(Line(*april, 0), (std::vector<int64_t>{2, 16, 40}));
  EXPECT_EQ(Line(*april, 1), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(Line(*april, 2), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_TRUE(Same(*Get("CA", 2026, 3), *issued_march));
}

TEST_F(StatementBookTest, MonthsAreIssuedInOrderOnceEnded) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 3, 5);
  auto out_of_order = Issue("CA", 2026, 2);
  EXPECT_EQ(out_of_order.status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(NamesField(out_of_order.status(), "month"));
  EXPECT_NE(out_of_order.status().message().find("CA_202601"),
            std::string::npos)
      << out_of_order.status();
  auto current = Issue("CA", 2026, 3);
  EXPECT_EQ(current.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(current.status().message().find("has not ended"),
            std::string::npos);
  EXPECT_EQ(Issue("CA", 2026, 7).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto before = Issue("CA", 2025, 12);
  EXPECT_EQ(before.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(before.status(), "month"));
  EXPECT_EQ(Issue("ZZ", 2026, 1).status().code(), absl::StatusCode::kNotFound);

  v1::IssueStatementRequest anonymous;
  anonymous.set_partner_code("CA");
  anonymous.set_year(2026);
  anonymous.set_month(1);
  anonymous.mutable_actor()->set_channel(common::v1::WEB);
  EXPECT_TRUE(NamesField(book_->IssueStatement(anonymous).status(),
                         "actor.operator_id"));
  anonymous.set_month(13);
  anonymous.set_partner_code("ca");
  absl::Status bad = book_->IssueStatement(anonymous).status();
  EXPECT_TRUE(NamesField(bad, "month")) << bad;
  EXPECT_TRUE(NamesField(bad, "partner_code")) << bad;
  EXPECT_TRUE(EventsOf<v1::StatementIssued>().empty());

  // The monthly job issues without an operator.
  v1::IssueStatementRequest job;
  job.set_partner_code("CA");
  job.set_year(2026);
  job.set_month(1);
  job.mutable_actor()->set_channel(common::v1::SYSTEM);
  auto january = book_->IssueStatement(job);
  ASSERT_TRUE(january.ok()) << january.status();
  EXPECT_EQ(january->statement().issued_by().channel(), common::v1::SYSTEM);
  EXPECT_TRUE(Issue("CA", 2026, 2).ok());
}

TEST_F(StatementBookTest, IssueIsIdempotent) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 2, 1, 0, 1);
  auto first = Issue("CA", 2026, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string path = folders_->OutboxFilePath("CA", "CA_202601.stmt.csv");
  const std::string bytes = ReadAll(path);
  EXPECT_EQ(bytes,
            "H,CA,2026-01,CNY,2026-02-01T00:01:00Z,1\n"
            "L,ACCRUAL,0,0,0\nL,REDEMPTION,0,0,0\nL,PURCHASE,0,0,0\nT,0\n");
  // February's activity does not reach it, nor does a later call.
  FebruaryActivity();
  now_ = Utc(2026, 3, 9);
  auto again = Issue("CA", 2026, 1, "someone-else");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(Same(*again, *first));
  EXPECT_EQ(ReadAll(path), bytes);
  EXPECT_EQ(EventsOf<v1::StatementIssued>().size(), 1u);
}

TEST_F(StatementBookTest, IssueCatchesUpWithTheStreamsFirst) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 2, 10);
  ASSERT_TRUE(
      Follow(kAccrualStream, PartnerFlight("CA", 1'000, 0, now_, 1)).ok());
  now_ = Utc(2026, 3, 5);
  ASSERT_TRUE(Issue("CA", 2026, 1).ok());

  // Accrual has an event the follower has not applied: no statement.
  progress_.SetHead(kAccrualStream, 2);
  auto late = Issue("CA", 2026, 2);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("accrual"), std::string::npos)
      << late.status();
  progress_.SetHeadError(absl::UnavailableError("connection refused"));
  auto unreachable = Issue("CA", 2026, 2);
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable);
  progress_.SetHeadError(absl::OkStatus());
  EXPECT_EQ(Get("CA", 2026, 2)->status(), v1::DRAFT);
  EXPECT_FALSE(folders_->FindOutboxFile("CA", "CA_202602.stmt.csv").ok());
  EXPECT_EQ(EventsOf<v1::StatementIssued>().size(), 1u);

  // The follower applies it while IssueStatement waits: it is included.
  std::thread follower([&] {
    absl::SleepFor(absl::Milliseconds(30));
    ASSERT_TRUE(
        Follow(kAccrualStream, PartnerFlight("CA", 500, 0, Utc(2026, 2, 27), 2))
            .ok());
  });
  auto issued = Issue("CA", 2026, 2);
  follower.join();
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(Line(*issued, 0), (std::vector<int64_t>{2, 1'500, 3'750}));
  EXPECT_EQ(issued->stream_positions().at("accrual"), 2u);
}

TEST_F(StatementBookTest, SettleRecordsTheNetPaymentOnce) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  FebruaryActivity();
  now_ = Utc(2026, 3, 6, 10);
  ASSERT_TRUE(Issue("CA", 2026, 1).ok());

  // February is still DRAFT.
  absl::Status draft =
      book_->SettleStatement(Settlement("CA", 2026, 2, -28'050, "PAY-1"))
          .status();
  EXPECT_EQ(draft.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Issue("CA", 2026, 2).ok());

  absl::Status wrong =
      book_->SettleStatement(Settlement("CA", 2026, 2, 28'050, "PAY-1"))
          .status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(wrong, "payment.amount")) << wrong;
  v1::SettleStatementRequest usd = Settlement("CA", 2026, 2, -28'050, "PAY-1");
  usd.mutable_payment()->mutable_amount()->set_currency_code("USD");
  EXPECT_TRUE(NamesField(book_->SettleStatement(usd).status(),
                         "payment.amount.currency_code"));
  v1::SettleStatementRequest bad = Settlement("CA", 2026, 2, -28'050, "");
  *bad.mutable_payment()->mutable_paid_on() =
      validation::ToProtoDate(absl::CivilDay(2026, 3, 7));
  bad.mutable_actor()->clear_operator_id();
  absl::Status invalid = book_->SettleStatement(bad).status();
  EXPECT_TRUE(NamesField(invalid, "payment.paid_on")) << invalid;
  EXPECT_TRUE(NamesField(invalid, "payment.payment_reference")) << invalid;
  EXPECT_TRUE(NamesField(invalid, "actor.operator_id")) << invalid;
  EXPECT_TRUE(NamesField(book_
                             ->SettleStatement(Settlement(
                                 "CA", 2026, 2, -28'050, std::string(65, 'R')))
                             .status(),
                         "payment.payment_reference"));
  EXPECT_TRUE(EventsOf<v1::StatementSettled>().empty());

  auto settled =
      book_->SettleStatement(Settlement("CA", 2026, 2, -28'050, "PAY-1"));
  ASSERT_TRUE(settled.ok()) << settled.status();
  EXPECT_EQ(settled->statement().status(), v1::SETTLED);
  EXPECT_EQ(settled->statement().payment().payment_reference(), "PAY-1");
  EXPECT_EQ(settled->statement().settled_by().operator_id(), "treasury-2");
  EXPECT_EQ(validation::FromProtoTimestamp(settled->statement().settled_at()),
            now_);
  EXPECT_EQ(settled->statement().net().minor_units(), -28'050);
  EXPECT_TRUE(Same(*Get("CA", 2026, 2), settled->statement()));

  now_ = Utc(2026, 3, 8);
  auto repeated =
      book_->SettleStatement(Settlement("CA", 2026, 2, -28'050, "PAY-1"));
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_TRUE(Same(repeated->statement(), settled->statement()));
  absl::Status other =
      book_->SettleStatement(Settlement("CA", 2026, 2, -28'050, "PAY-2"))
          .status();
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  std::vector<v1::StatementSettled> events = EventsOf<v1::StatementSettled>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(Same(events[0].statement(), settled->statement()));
  // Issuing a SETTLED statement returns it.
  EXPECT_EQ(Issue("CA", 2026, 2)->status(), v1::SETTLED);
}

TEST_F(StatementBookTest, GetChecksThePartnerAndTheMonth) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  now_ = Utc(2026, 3, 5);
  v1::GetStatementRequest request;
  request.set_partner_code("C");
  request.set_year(1999);
  request.set_month(0);
  absl::Status bad = book_->GetStatement(request).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(bad, "partner_code")) << bad;
  EXPECT_TRUE(NamesField(bad, "year")) << bad;
  EXPECT_TRUE(NamesField(bad, "month")) << bad;
  EXPECT_EQ(Get("MU", 2026, 2).status().code(), absl::StatusCode::kNotFound);
  auto before = Get("CA", 2025, 12);
  EXPECT_EQ(before.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(before.status(), "month"));
  auto future = Get("CA", 2026, 4);
  EXPECT_EQ(future.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Get("CA", 2026, 1).ok());
  EXPECT_TRUE(Get("CA", 2026, 3).ok());
}

TEST_F(StatementBookTest, ListIsNewestMonthFirstThenPartnerAndPages) {
  Register("CA", v1::AIRLINE, Utc(2026, 1, 20));
  Register("HILTON", v1::HOTEL, Utc(2026, 1, 21));
  Register("MU", v1::AIRLINE, Utc(2026, 2, 2));
  FebruaryActivity();
  now_ = Utc(2026, 3, 6);
  ASSERT_TRUE(Issue("CA", 2026, 1).ok());
  ASSERT_TRUE(Issue("CA", 2026, 2).ok());
  ASSERT_TRUE(
      book_->SettleStatement(Settlement("CA", 2026, 2, -28'050, "PAY-1")).ok());
  ASSERT_TRUE(Issue("HILTON", 2026, 1).ok());

  v1::ListStatementsRequest request;
  request.mutable_page()->set_page_size(3);
  std::vector<std::string> ids;
  std::vector<v1::StatementStatus> statuses;
  int pages = 0;
  do {
    auto page = book_->ListStatements(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const v1::Statement& statement : page->statements()) {
      ids.push_back(statement.statement_id());
      statuses.push_back(statement.status());
    }
    request.mutable_page()->set_page_token(page->page().next_page_token());
  } while (!request.page().page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"CA_202603", "HILTON_202603", "MU_202603",
                                      "CA_202602", "HILTON_202602", "MU_202602",
                                      "CA_202601", "HILTON_202601"}));
  EXPECT_EQ(statuses, (std::vector<v1::StatementStatus>{
                          v1::DRAFT, v1::DRAFT, v1::DRAFT, v1::SETTLED,
                          v1::DRAFT, v1::DRAFT, v1::ISSUED, v1::ISSUED}));

  // A DRAFT in the list is the same as GetStatement's (but computed_at).
  request.mutable_page()->set_page_size(0);
  request.mutable_page()->clear_page_token();
  auto all = book_->ListStatements(request);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->statements_size(), 8);
  EXPECT_TRUE(all->page().next_page_token().empty());
  EXPECT_EQ(all->statements(4).net().minor_units(),
            Get("HILTON", 2026, 2)->net().minor_units());
  EXPECT_EQ(all->statements(4).net().minor_units(), 1'501);

  request.add_statuses(v1::ISSUED);
  request.add_statuses(v1::SETTLED);
  auto issued = book_->ListStatements(request);
  ASSERT_EQ(issued->statements_size(), 3);
  EXPECT_EQ(issued->statements(0).statement_id(), "CA_202602");
  request.clear_statuses();
  request.add_statuses(v1::DRAFT);
  request.set_partner_code("CA");
  auto drafts = book_->ListStatements(request);
  ASSERT_EQ(drafts->statements_size(), 1);
  EXPECT_EQ(drafts->statements(0).statement_id(), "CA_202603");

  request.set_partner_code("ZZ");
  EXPECT_EQ(book_->ListStatements(request).status().code(),
            absl::StatusCode::kNotFound);
  request.clear_partner_code();
  request.add_statuses(v1::STATEMENT_STATUS_UNSPECIFIED);
  request.mutable_page()->set_page_size(1'001);
  request.mutable_page()->set_page_token("CA-2026");
  absl::Status bad = book_->ListStatements(request).status();
  EXPECT_TRUE(NamesField(bad, "statuses[1]")) << bad;
  EXPECT_TRUE(NamesField(bad, "page.page_size")) << bad;
  EXPECT_TRUE(NamesField(bad, "page.page_token")) << bad;
}

}  // namespace
}  // namespace mileagebank::settlement
