#include "services/accrual/ledger.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"
#include "libs/validation/member_number.h"

namespace mileagebank::accrual {
namespace {

namespace mv1 = membership::v1;

// Membership behind its interface: members and their status.
class FakeMembership : public MembershipLookup {
 public:
  void Add(const std::string& number, mv1::MemberStatus status = mv1::ACTIVE) {
    absl::MutexLock lock(&mutex_);
    members_[number] = status;
  }
  absl::StatusOr<MemberInfo> Lookup(absl::string_view number) override {
    absl::MutexLock lock(&mutex_);
    auto it = members_.find(std::string(number));
    if (it == members_.end()) return absl::NotFoundError("no member");
    return MemberInfo{it->first, it->second};
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, mv1::MemberStatus> members_;
};

// Settlement behind its interface: the partners it has, and whether it
// answers at all.
class FakeSettlement : public SettlementLookup {
 public:
  void Put(const settlement::v1::Partner& partner) {
    absl::MutexLock lock(&mutex_);
    partners_[partner.partner_code()] = partner;
  }
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view code) override {
    if (down) {
      return absl::UnavailableError(
          "settlement service at 127.0.0.1:1: connection refused");
    }
    absl::MutexLock lock(&mutex_);
    auto it = partners_.find(std::string(code));
    if (it == partners_.end()) return absl::NotFoundError("no partner");
    return it->second;
  }
  std::atomic<bool> down{false};

 private:
  absl::Mutex mutex_;
  std::map<std::string, settlement::v1::Partner> partners_;
};

settlement::v1::Partner Registered(const std::string& code,
                                   settlement::v1::PartnerType type,
                                   int64_t version = 1) {
  settlement::v1::Partner partner;
  partner.set_partner_code(code);
  partner.set_type(type);
  partner.set_status(settlement::v1::ACTIVE);
  partner.set_version(version);
  return partner;
}

void AddRate(settlement::v1::Partner& partner, const std::string& booking_class,
             int percent) {
  settlement::v1::ClassEarningRate* rate =
      partner.mutable_contract()->add_earning_table();
  rate->set_booking_class(booking_class);
  rate->set_percent(percent);
}

using ::mileagebank::testing::NamesField;

common::v1::Date Date(int year, int month, int day) {
  common::v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = mileagebank::testing::FreshTestDir();
    Open();
    member_ = validation::MemberNumberFromSerial(100000000);
    other_ = validation::MemberNumberFromSerial(100000001);
    membership_.Add(member_);
    membership_.Add(other_);
    settlement_.Put(Registered("CA", settlement::v1::AIRLINE));
    settlement_.Put(Registered("HILTON", settlement::v1::HOTEL));
  }

  void Open() {
    ledger_.reset();
    partners_.reset();
    directory_.reset();
    ledger_store_.reset();
    store_.reset();
    store_ = std::move(*store::Store::Open({.path = path_, .tables = AccrualTables()}));
    ledger_store_ = std::make_unique<LedgerStore>(store_.get());
    directory_ = std::make_unique<MemberDirectory>(ledger_store_.get(), &membership_);
    partners_ =
        std::make_unique<PartnerDirectory>(ledger_store_.get(), &settlement_);
    options_ = *LedgerOptions::FromConfig(config::v1::AccrualConfig());
    // A batch waiting for one never decided here gives up sooner.
    options_.order_patience = absl::Milliseconds(200);
    ledger_ = std::make_unique<Ledger>(
        store_.get(), &airports::AirportTable::Builtin(), partners_.get(),
        directory_.get(), options_, registry_, [this] { return Now(); });
  }

  // What settlement's event stream would bring to the replica.
  void Replicate(const settlement::v1::Partner& partner) {
    settlement::v1::PartnerUpdated updated;
    *updated.mutable_partner() = partner;
    common::v1::Event event;
    event.mutable_payload()->PackFrom(updated);
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(partners_->Apply(event, batch).ok());
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  // A partner flight PEK-PVG (683 miles).
  v1::PostPartnerFlightRequest PartnerFlight(const std::string& partner,
                                             int ticket,
                                             const std::string& booking_class) {
    v1::PostPartnerFlightRequest request;
    request.set_member_number(member_);
    request.set_partner_code(partner);
    request.mutable_flight_identity()->set_ticket_number(
        absl::StrCat("99900", 10000000 + ticket));
    request.mutable_flight_identity()->set_coupon_number(1);
    v1::Flight* flight = request.mutable_flight();
    flight->set_carrier(partner);
    flight->set_flight_number(981);
    *flight->mutable_flight_date() = Date(2026, 11, 1);
    flight->set_origin("PEK");
    flight->set_destination("PVG");
    flight->set_booking_class(booking_class);
    return request;
  }

  v1::PostPartnerActivityRequest Stay(const std::string& partner,
                                      const std::string& reference) {
    v1::PostPartnerActivityRequest request;
    request.set_member_number(member_);
    request.set_partner_code(partner);
    request.set_partner_reference(reference);
    request.set_activity_type(v1::HOTEL);
    *request.mutable_activity_date() = Date(2026, 11, 20);
    request.set_miles(1500);
    return request;
  }

  absl::Time Now() {
    absl::MutexLock lock(&clock_mutex_);
    return now_;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&clock_mutex_);
    now_ += by;
  }

  v1::PostOwnFlightRequest Flight(const std::string& member, int ticket,
                                  const std::string& from, const std::string& to,
                                  const std::string& booking_class,
                                  common::v1::Date date = Date(2026, 11, 1)) {
    v1::PostOwnFlightRequest request;
    request.set_member_number(member);
    request.mutable_flight_identity()->set_ticket_number(
        absl::StrCat("78100", 10000000 + ticket));
    request.mutable_flight_identity()->set_coupon_number(1);
    v1::Flight* flight = request.mutable_flight();
    flight->set_carrier("FM");
    flight->set_flight_number(9101);
    *flight->mutable_flight_date() = date;
    flight->set_origin(from);
    flight->set_destination(to);
    flight->set_booking_class(booking_class);
    request.mutable_actor()->set_channel(common::v1::SYSTEM);
    return request;
  }

  v1::Transaction Post(const v1::PostOwnFlightRequest& request) {
    auto response = ledger_->PostOwnFlight(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->transaction() : v1::Transaction();
  }

  v1::Balance Balance(const std::string& member) {
    v1::GetBalanceRequest request;
    request.set_member_number(member);
    return ledger_->GetBalance(request)->balance();
  }

  void ExpectConsistent() {
    auto verified = ledger_->VerifyLedger(v1::VerifyLedgerRequest());
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_EQ(verified->differences_size(), 0)
        << verified->differences(0).description();
  }

  absl::StatusOr<v1::Hold> Hold(const std::string& member, int64_t miles,
                                const std::string& request_id) {
    v1::CreateHoldRequest request;
    request.set_member_number(member);
    request.set_miles(miles);
    request.set_request_id(request_id);
    auto response = ledger_->CreateHold(request);
    if (!response.ok()) return response.status();
    return response->hold();
  }

  std::string path_;
  std::string member_, other_;
  absl::Mutex clock_mutex_;
  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0),
                                    absl::UTCTimeZone());
  FakeMembership membership_;
  FakeSettlement settlement_;
  prometheus::Registry registry_;
  LedgerOptions options_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LedgerStore> ledger_store_;
  std::unique_ptr<MemberDirectory> directory_;
  std::unique_ptr<PartnerDirectory> partners_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, OwnFlightEarnsByDistanceClassAndMinimum) {
  // PEK-PVG is 683 miles: Y earns 100 %, H 75 %, F 200 %.
  v1::Transaction y = Post(Flight(member_, 1, "PEK", "PVG", "Y"));
  const int64_t distance = y.earning().distance_miles();
  EXPECT_EQ(distance, 683);
  EXPECT_EQ(y.miles(), distance);
  EXPECT_EQ(y.qualifying_miles(), distance);
  EXPECT_EQ(y.qualifying_segments(), 1);
  EXPECT_EQ(Post(Flight(member_, 2, "PEK", "PVG", "H")).miles(), distance * 75 / 100);
  EXPECT_EQ(Post(Flight(member_, 3, "PEK", "PVG", "F")).miles(), distance * 2);
  // A short flight in a 100 % class earns the 500 minimum; in a 75 % class not.
  v1::Transaction short_y = Post(Flight(member_, 4, "PEK", "TSN", "Y"));
  EXPECT_EQ(short_y.miles(), 500);
  EXPECT_TRUE(short_y.earning().minimum_applied());
  EXPECT_LT(Post(Flight(member_, 5, "PEK", "TSN", "K")).miles(), 500);
  // An award ticket class earns nothing and no segment.
  v1::Transaction award = Post(Flight(member_, 6, "PEK", "PVG", "X"));
  EXPECT_EQ(award.miles(), 0);
  EXPECT_EQ(award.qualifying_segments(), 0);
  ExpectConsistent();
}

TEST_F(LedgerTest, LotsComeWithTheBalanceOfTheSameRead) {
  Post(Flight(member_, 1, "PEK", "PVG", "Y"));
  Post(Flight(member_, 2, "PEK", "JFK", "Y"));
  v1::ListLotsRequest request;
  request.set_member_number(member_);
  auto lots = ledger_->ListLots(request);
  ASSERT_TRUE(lots.ok()) << lots.status();
  ASSERT_EQ(lots->lots_size(), 2);
  EXPECT_EQ(lots->balance().SerializeAsString(),
            Balance(member_).SerializeAsString());
  EXPECT_EQ(lots->balance().balance(),
            lots->lots(0).remaining_miles() + lots->lots(1).remaining_miles());
  // A known member without an account has an empty balance; an unknown
  // member none at all.
  membership_.Add(other_, mv1::ACTIVE);
  request.set_member_number(other_);
  lots = ledger_->ListLots(request);
  ASSERT_TRUE(lots.ok()) << lots.status();
  EXPECT_EQ(lots->lots_size(), 0);
  EXPECT_EQ(lots->balance().member_number(), other_);
  EXPECT_EQ(lots->balance().balance(), 0);
  request.set_member_number(validation::MemberNumberFromSerial(555555555));
  EXPECT_EQ(ledger_->ListLots(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, TierBonusUsesTheTierBeforeTheCredit) {
  // PEK-JFK in F is about 13,700 miles: two of them cross SILVER (25,000).
  v1::Transaction first = Post(Flight(member_, 1, "PEK", "JFK", "F"));
  v1::Transaction second = Post(Flight(member_, 2, "PEK", "JFK", "F"));
  EXPECT_EQ(first.earning().bonus_percent(), 0);
  EXPECT_EQ(second.earning().bonus_percent(), 0);  // Crossed by this one.
  v1::Transaction third = Post(Flight(member_, 3, "PEK", "PVG", "Y"));
  EXPECT_EQ(third.earning().tier(), mv1::SILVER);
  EXPECT_EQ(third.earning().bonus_miles(), third.earning().base_miles() * 25 / 100);
  EXPECT_EQ(third.qualifying_miles(), third.earning().base_miles());  // No bonus in QM.
}

TEST_F(LedgerTest, FlightIdentityIsCreditedOnceEver) {
  v1::PostOwnFlightRequest request = Flight(member_, 1, "PEK", "PVG", "Y");
  v1::Transaction first = Post(request);
  auto again = ledger_->PostOwnFlight(request);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->transaction().transaction_id(), first.transaction_id());
  EXPECT_EQ(Balance(member_).balance(), first.miles());
  // The same identity with another content, or for another member.
  v1::PostOwnFlightRequest changed = request;
  changed.mutable_flight()->set_booking_class("F");
  absl::Status status = ledger_->PostOwnFlight(changed).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(GetErrorDetails(status)->existing_id(), first.transaction_id());
  changed = request;
  changed.set_member_number(other_);
  EXPECT_EQ(ledger_->PostOwnFlight(changed).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Even after a reversal the identity stays used.
  v1::ReverseCreditRequest reverse;
  reverse.set_transaction_id(first.transaction_id());
  reverse.set_reason_code("TICKET_REFUNDED");
  ASSERT_TRUE(ledger_->ReverseCredit(reverse).ok());
  EXPECT_TRUE(ledger_->PostOwnFlight(request)->replayed());
}

TEST_F(LedgerTest, MalformedFlightsNameTheField) {
  struct Case {
    std::function<void(v1::PostOwnFlightRequest&)> spoil;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {[](auto& r) { r.mutable_flight()->set_origin("XXX"); }, "flight.origin"},
           {[](auto& r) { r.mutable_flight()->set_origin("pek"); }, "flight.origin"},
           {[](auto& r) { r.mutable_flight()->set_destination("PEK"); },
            "flight.destination"},
           {[](auto& r) { r.mutable_flight()->set_booking_class("E"); },
            "flight.booking_class"},
           {[](auto& r) { r.mutable_flight()->set_booking_class("YY"); },
            "flight.booking_class"},
           {[](auto& r) { r.mutable_flight_identity()->set_ticket_number("123"); },
            "flight_identity.ticket_number"},
           {[](auto& r) { r.mutable_flight_identity()->set_coupon_number(5); },
            "flight_identity.coupon_number"},
           {[](auto& r) { r.mutable_flight()->set_flight_number(-1); },
            "flight.flight_number"},
           {[](auto& r) { r.mutable_flight()->set_flight_number(100000); },
            "flight.flight_number"},
           {[](auto& r) { *r.mutable_flight()->mutable_flight_date() = Date(2026, 2, 30); },
            "flight.flight_date"},
           {[](auto& r) { *r.mutable_flight()->mutable_flight_date() = Date(2027, 1, 1); },
            "flight.flight_date"},
           {[](auto& r) { r.mutable_flight()->set_carrier("CA"); }, "flight.carrier"},
           {[](auto& r) { r.set_member_number("1000000001"); }, "member_number"},
       }) {
    v1::PostOwnFlightRequest request = Flight(member_, 1, "PEK", "PVG", "Y");
    c.spoil(request);
    absl::Status status = ledger_->PostOwnFlight(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(NamesField(status, c.field)) << c.field << ": " << status;
  }
  EXPECT_EQ(store_->LastSequence(), 0u);  // Nothing half-written.
}

TEST_F(LedgerTest, OnlyActiveMembersEarn) {
  membership_.Add(other_, mv1::SUSPENDED);
  EXPECT_EQ(ledger_->PostOwnFlight(Flight(other_, 1, "PEK", "PVG", "Y")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::string unknown = validation::MemberNumberFromSerial(555555555);
  EXPECT_EQ(ledger_->PostOwnFlight(Flight(unknown, 2, "PEK", "PVG", "Y")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, PartnerCreditsUseThePartnersTableAndReference) {
  v1::PostPartnerFlightRequest flight;
  flight.set_member_number(member_);
  flight.set_partner_code("CA");
  flight.mutable_flight_identity()->set_ticket_number("9991234567890");
  flight.mutable_flight_identity()->set_coupon_number(2);
  flight.mutable_flight()->set_carrier("CA");
  flight.mutable_flight()->set_flight_number(981);
  *flight.mutable_flight()->mutable_flight_date() = Date(2026, 11, 1);
  flight.mutable_flight()->set_origin("PEK");
  flight.mutable_flight()->set_destination("TSN");
  flight.mutable_flight()->set_booking_class("Y");
  auto posted = ledger_->PostPartnerFlight(flight);
  ASSERT_TRUE(posted.ok()) << posted.status();
  // Partners have no minimum by default.
  EXPECT_LT(posted->transaction().miles(), 500);
  EXPECT_EQ(posted->transaction().partner_reference(), "9991234567890/2");

  v1::PostPartnerActivityRequest stay;
  stay.set_member_number(member_);
  stay.set_partner_code("HILTON");
  stay.set_partner_reference("H-2026-11-0042");
  stay.set_activity_type(v1::HOTEL);
  *stay.mutable_activity_date() = Date(2026, 11, 20);
  stay.set_miles(1500);
  auto credited = ledger_->PostPartnerActivity(stay);
  ASSERT_TRUE(credited.ok()) << credited.status();
  EXPECT_EQ(credited->transaction().miles(), 1500);
  EXPECT_EQ(credited->transaction().qualifying_miles(), 0);
  stay.set_miles(100'001);
  EXPECT_TRUE(NamesField(ledger_->PostPartnerActivity(stay).status(), "miles"));
  stay.set_partner_code("NOBODY");
  stay.set_miles(10);
  EXPECT_EQ(ledger_->PostPartnerActivity(stay).status().code(),
            absl::StatusCode::kNotFound);
  flight.set_partner_code("HILTON");
  flight.mutable_flight()->set_carrier("HILTON");
  EXPECT_FALSE(ledger_->PostPartnerFlight(flight).ok());
}

TEST_F(LedgerTest, PartnerFlightsEarnByTheContractsTableAndMinimum) {
  settlement::v1::Partner mu = Registered("MU", settlement::v1::AIRLINE);
  AddRate(mu, "J", 125);
  AddRate(mu, "Y", 100);
  AddRate(mu, "V", 25);
  mu.mutable_contract()->set_minimum_miles(800);
  settlement_.Put(mu);
  auto j = ledger_->PostPartnerFlight(PartnerFlight("MU", 1, "J"));
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->transaction().earning().rate_percent(), 125);
  EXPECT_EQ(j->transaction().miles(), 683 * 125 / 100);
  EXPECT_FALSE(j->transaction().earning().minimum_applied());
  auto y = ledger_->PostPartnerFlight(PartnerFlight("MU", 2, "Y"));
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->transaction().miles(), 800);
  EXPECT_TRUE(y->transaction().earning().minimum_applied());
  EXPECT_EQ(y->transaction().qualifying_segments(), 1);
  // A rate under 100 is not raised to the minimum.
  auto v = ledger_->PostPartnerFlight(PartnerFlight("MU", 3, "V"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->transaction().miles(), 683 * 25 / 100);
  EXPECT_FALSE(v->transaction().earning().minimum_applied());
  // F is the host's class but not in MU's table.
  const uint64_t written = store_->LastSequence();
  absl::Status f =
      ledger_->PostPartnerFlight(PartnerFlight("MU", 4, "F")).status();
  EXPECT_EQ(f.code(), absl::StatusCode::kInvalidArgument) << f;
  EXPECT_TRUE(NamesField(f, "flight.booking_class")) << f;
  EXPECT_EQ(store_->LastSequence(), written);
  // Without a table of its own a partner earns by the default table, and
  // without a minimum by the plain rate.
  auto ca = ledger_->PostPartnerFlight(PartnerFlight("CA", 5, "W"));
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(ca->transaction().earning().rate_percent(), 110);
  EXPECT_EQ(ca->transaction().miles(), 683 * 110 / 100);
  ExpectConsistent();
}

TEST_F(LedgerTest, OnlyActivePartnersEarnAndOnlyAirlinesFly) {
  settlement::v1::Partner suspended =
      Registered("CA", settlement::v1::AIRLINE, 2);
  suspended.set_status(settlement::v1::SUSPENDED);
  settlement_.Put(suspended);
  absl::Status flight =
      ledger_->PostPartnerFlight(PartnerFlight("CA", 1, "Y")).status();
  EXPECT_EQ(flight.code(), absl::StatusCode::kFailedPrecondition) << flight;
  EXPECT_TRUE(NamesField(flight, "partner_code")) << flight;
  settlement::v1::Partner hilton =
      Registered("HILTON", settlement::v1::HOTEL, 2);
  hilton.set_status(settlement::v1::SUSPENDED);
  Replicate(hilton);
  absl::Status stay =
      ledger_->PostPartnerActivity(Stay("HILTON", "H-1")).status();
  EXPECT_EQ(stay.code(), absl::StatusCode::kFailedPrecondition) << stay;
  EXPECT_TRUE(NamesField(stay, "partner_code")) << stay;
  // A car rental firm whose code looks like an airline's.
  settlement_.Put(Registered("C2", settlement::v1::CAR));
  absl::Status car =
      ledger_->PostPartnerFlight(PartnerFlight("C2", 2, "Y")).status();
  EXPECT_EQ(car.code(), absl::StatusCode::kFailedPrecondition) << car;
  EXPECT_NE(car.message().find("not an AIRLINE"), absl::string_view::npos)
      << car;
  absl::Status unknown =
      ledger_->PostPartnerFlight(PartnerFlight("ZZ", 3, "Y")).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound) << unknown;
  EXPECT_TRUE(NamesField(unknown, "partner_code")) << unknown;
  EXPECT_EQ(Balance(member_).balance(), 0);
}

TEST_F(LedgerTest, PartnerChangesFromSettlementDecideTheNextCredit) {
  settlement::v1::Partner mu = Registered("MU", settlement::v1::AIRLINE);
  AddRate(mu, "J", 125);
  Replicate(mu);
  EXPECT_EQ(ledger_->PostPartnerFlight(PartnerFlight("MU", 1, "J"))
                ->transaction()
                .miles(),
            683 * 125 / 100);
  mu.set_version(2);
  mu.mutable_contract()->mutable_earning_table(0)->set_percent(150);
  Replicate(mu);
  EXPECT_EQ(ledger_->PostPartnerFlight(PartnerFlight("MU", 2, "J"))
                ->transaction()
                .miles(),
            683 * 150 / 100);
  // A credit already made keeps what it earned when it is sent again.
  auto again = ledger_->PostPartnerFlight(PartnerFlight("MU", 1, "J"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->transaction().miles(), 683 * 125 / 100);
}

TEST_F(LedgerTest,
       WithSettlementDownKnownPartnersEarnAndUnknownAreUnavailable) {
  Replicate(Registered("CA", settlement::v1::AIRLINE));
  Replicate(Registered("HILTON", settlement::v1::HOTEL));
  settlement_.Put(Registered("MU", settlement::v1::AIRLINE));
  settlement_.down = true;
  EXPECT_TRUE(ledger_->PostPartnerFlight(PartnerFlight("CA", 1, "Y")).ok());
  EXPECT_TRUE(ledger_->PostPartnerActivity(Stay("HILTON", "H-1")).ok());
  absl::Status mu =
      ledger_->PostPartnerFlight(PartnerFlight("MU", 2, "Y")).status();
  EXPECT_EQ(mu.code(), absl::StatusCode::kUnavailable) << mu;
  EXPECT_NE(mu.message().find("partner_code"), absl::string_view::npos) << mu;
  EXPECT_NE(mu.message().find("MU"), absl::string_view::npos) << mu;
  EXPECT_NE(mu.message().find("settlement service"), absl::string_view::npos)
      << mu;
  // In a batch the item fails the same way and the others are credited.
  v1::PostActivitiesRequest batch;
  *batch.add_activities()->mutable_partner_flight() =
      PartnerFlight("MU", 3, "Y");
  *batch.add_activities()->mutable_partner_flight() =
      PartnerFlight("CA", 4, "Y");
  auto posted = ledger_->PostActivities(batch);
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(posted->results(0).error().code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(posted->results(1).has_transaction());
  // Once settlement answers, the partner it knows earns.
  settlement_.down = false;
  EXPECT_TRUE(ledger_->PostPartnerFlight(PartnerFlight("MU", 2, "Y")).ok());
  ExpectConsistent();
}

TEST_F(LedgerTest, BatchPostsEachItemOnItsOwn) {
  v1::PostActivitiesRequest batch;
  *batch.add_activities()->mutable_own_flight() = Flight(member_, 1, "PEK", "PVG", "Y");
  v1::PostOwnFlightRequest bad = Flight(member_, 2, "PEK", "ZZZ", "Y");
  *batch.add_activities()->mutable_own_flight() = bad;
  *batch.add_activities()->mutable_own_flight() = Flight(member_, 1, "PEK", "PVG", "Y");
  auto response = ledger_->PostActivities(batch);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->results_size(), 3);
  EXPECT_TRUE(response->results(0).has_transaction());
  ASSERT_TRUE(response->results(1).has_error());
  EXPECT_EQ(response->results(1).error().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(response->results(1).error().message().find(
                "activities[1].own_flight.flight.destination"),
            std::string::npos)
      << response->results(1).error().message();
  EXPECT_TRUE(response->results(2).replayed());
  EXPECT_EQ(ledger_->PostActivities(v1::PostActivitiesRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, AnOrderedBatchIsDecidedOnlyAfterTheOneItNames) {
  auto ordered = [](uint64_t number, uint64_t after) {
    v1::PostActivitiesRequest batch;
    batch.set_order_key("file-1");
    batch.set_order_number(number);
    batch.set_decide_after(after);
    return batch;
  };
  v1::PostActivitiesRequest second = ordered(11, 1);
  *second.add_activities()->mutable_own_flight() =
      Flight(member_, 11, "PEK", "PVG", "Y");
  // Its predecessor was never decided here (a restart, a failure): nothing
  // is credited and the caller sends it again once it has that answer.
  auto refused = ledger_->PostActivities(second);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(absl::StartsWith(refused.status().message(), "decide_after: "))
      << refused.status();
  EXPECT_EQ(Balance(member_).balance(), 0);

  // A predecessor answered with a failure the caller retries (a partner
  // accrual does not know yet) is not decided either.
  v1::PostActivitiesRequest first = ordered(1, 0);
  v1::PostPartnerActivityRequest stay;
  stay.set_member_number(member_);
  stay.set_partner_code("NOBODY");
  stay.set_partner_reference("N-1");
  stay.set_activity_type(v1::HOTEL);
  *stay.mutable_activity_date() = Date(2026, 11, 20);
  stay.set_miles(10);
  *first.add_activities()->mutable_partner_activity() = stay;
  ASSERT_TRUE(ledger_->PostActivities(first).ok());
  EXPECT_EQ(ledger_->PostActivities(second).status().code(),
            absl::StatusCode::kAborted);

  // Decided (a refusal of the activity itself counts): the batch after it
  // waits for it, then goes.
  first.clear_activities();
  *first.add_activities()->mutable_own_flight() =
      Flight(member_, 1, "PEK", "ZZZ", "Y");
  absl::StatusOr<v1::PostActivitiesResponse> credited;
  std::thread waiting([&] { credited = ledger_->PostActivities(second); });
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(ledger_->PostActivities(first).ok());
  waiting.join();
  ASSERT_TRUE(credited.ok()) << credited.status();
  EXPECT_TRUE(credited->results(0).has_transaction());
  EXPECT_GT(Balance(member_).balance(), 0);

  // An empty ordered batch (a shard's part of a batch with nothing for it)
  // only tells that it is decided.
  auto empty = ledger_->PostActivities(ordered(21, 11));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->results_size(), 0);
  v1::PostActivitiesRequest fourth = ordered(31, 21);
  *fourth.add_activities()->mutable_own_flight() =
      Flight(member_, 31, "PEK", "PVG", "Y");
  EXPECT_TRUE(ledger_->PostActivities(fourth).ok());
  EXPECT_TRUE(NamesField(ledger_->PostActivities(ordered(31, 31)).status(),
                         "decide_after"));
}

TEST_F(LedgerTest, BriefBatchResultsCarryIdMemberAndMilesOnly) {
  v1::PostActivitiesRequest batch;
  batch.set_brief_results(true);
  *batch.add_activities()->mutable_own_flight() = Flight(member_, 1, "PEK", "PVG", "Y");
  *batch.add_activities()->mutable_own_flight() = Flight(member_, 2, "PEK", "ZZZ", "Y");
  *batch.add_activities()->mutable_own_flight() = Flight(member_, 1, "PEK", "PVG", "Y");
  auto response = ledger_->PostActivities(batch);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 3);
  const v1::Transaction& brief = response->results(0).transaction();
  v1::GetTransactionRequest get;
  get.set_transaction_id(brief.transaction_id());
  auto full = ledger_->GetTransaction(get);
  ASSERT_TRUE(full.ok()) << full.status();
  v1::Transaction expected;
  expected.set_transaction_id(full->transaction().transaction_id());
  expected.set_member_number(member_);
  expected.set_miles(full->transaction().miles());
  EXPECT_GT(expected.miles(), 0);
  EXPECT_EQ(brief.SerializeAsString(), expected.SerializeAsString());
  EXPECT_TRUE(response->results(1).has_error());
  EXPECT_TRUE(response->results(2).replayed());
  EXPECT_EQ(response->results(2).transaction().SerializeAsString(),
            expected.SerializeAsString());
}

TEST_F(LedgerTest, HoldsReserveCaptureReleaseAndExpire) {
  Post(Flight(member_, 1, "PEK", "JFK", "F"));  // ~13,700 miles.
  const int64_t balance = Balance(member_).balance();
  auto hold = Hold(member_, 10'000, "r1");
  ASSERT_TRUE(hold.ok()) << hold.status();
  EXPECT_EQ(Balance(member_).available(), balance - 10'000);
  EXPECT_EQ(Hold(member_, balance, "r2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Hold(member_, 10'000, "r1")->hold_id(), hold->hold_id());  // Replay.

  v1::CaptureHoldRequest capture;
  capture.set_hold_id(hold->hold_id());
  auto captured = ledger_->CaptureHold(capture);
  ASSERT_TRUE(captured.ok()) << captured.status();
  EXPECT_EQ(captured->transaction().miles(), -10'000);
  EXPECT_EQ(ledger_->CaptureHold(capture)->transaction().transaction_id(),
            captured->transaction().transaction_id());
  v1::ReleaseHoldRequest release;
  release.set_hold_id(hold->hold_id());
  EXPECT_EQ(ledger_->ReleaseHold(release).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto second = Hold(member_, 1'000, "r3");
  release.set_hold_id(second->hold_id());
  EXPECT_EQ(ledger_->ReleaseHold(release)->hold().state(), v1::HOLD_RELEASED);
  EXPECT_EQ(ledger_->ReleaseHold(release)->hold().state(), v1::HOLD_RELEASED);

  auto third = Hold(member_, 1'000, "r4");
  Advance(absl::Hours(73));
  capture.set_hold_id(third->hold_id());
  EXPECT_EQ(ledger_->CaptureHold(capture).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*ledger_->SweepExpiredHolds(), 1);
  v1::GetHoldRequest get;
  get.set_hold_id(third->hold_id());
  EXPECT_EQ(ledger_->GetHold(get)->hold().state(), v1::HOLD_EXPIRED);
  EXPECT_EQ(Balance(member_).held(), 0);
  ExpectConsistent();
}

TEST_F(LedgerTest, RedepositKeepsTheCapturedExpiriesLessTheFee) {
  Post(Flight(member_, 1, "PEK", "JFK", "F"));
  auto hold = Hold(member_, 5'000, "r1");
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(hold->hold_id());
  ASSERT_TRUE(ledger_->CaptureHold(capture).ok());
  const int64_t before = Balance(member_).balance();
  v1::RedepositHoldRequest redeposit;
  redeposit.set_hold_id(hold->hold_id());
  redeposit.set_fee_miles(1'000);
  auto response = ledger_->RedepositHold(redeposit);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->redeposit().miles(), 5'000);
  EXPECT_EQ(response->fee().miles(), -1'000);
  EXPECT_EQ(response->redeposit().lot_movements(0).expiry_date().year(), 2029);
  EXPECT_EQ(Balance(member_).balance(), before + 4'000);
  EXPECT_EQ(ledger_->RedepositHold(redeposit)->redeposit().transaction_id(),
            response->redeposit().transaction_id());
  ExpectConsistent();
}

TEST_F(LedgerTest, ConcurrentHoldsNeverOverdrawOneMember) {
  Post(Flight(member_, 1, "PEK", "PVG", "Y"));
  const int64_t balance = Balance(member_).balance();
  std::atomic<int64_t> captured{0};
  std::atomic<int> counter{0};
  std::atomic<bool> negative{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        const int n = counter++;
        auto hold = Hold(member_, 7, absl::StrCat("c", n));
        if (!hold.ok()) continue;
        if (n % 3 == 0) {
          v1::ReleaseHoldRequest release;
          release.set_hold_id(hold->hold_id());
          ASSERT_TRUE(ledger_->ReleaseHold(release).ok());
        } else {
          v1::CaptureHoldRequest capture;
          capture.set_hold_id(hold->hold_id());
          if (ledger_->CaptureHold(capture).ok()) captured += 7;
        }
        if (Balance(member_).available() < 0) negative = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(negative);
  EXPECT_EQ(Balance(member_).balance(), balance - captured);
  EXPECT_GE(Balance(member_).available(), 0);
  ExpectConsistent();
}

TEST_F(LedgerTest, ReversalRemovesMilesQmAndQsAndMayGoNegative) {
  v1::Transaction credit = Post(Flight(member_, 1, "PEK", "JFK", "F"));
  auto hold = Hold(member_, credit.miles() - 100, "spend");
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(hold->hold_id());
  ASSERT_TRUE(ledger_->CaptureHold(capture).ok());
  v1::ReverseCreditRequest reverse;
  *reverse.mutable_flight_identity() = credit.flight_identity();
  reverse.set_reason_code("FRAUD");
  auto reversed = ledger_->ReverseCredit(reverse);
  ASSERT_TRUE(reversed.ok()) << reversed.status();
  EXPECT_EQ(reversed->transaction().miles(), -credit.miles());
  EXPECT_EQ(reversed->transaction().qualifying_miles(), -credit.qualifying_miles());
  EXPECT_EQ(Balance(member_).balance(), 100 - credit.miles());
  EXPECT_TRUE(ledger_->ReverseCredit(reverse)->replayed());
  ExpectConsistent();
  // A later credit fills the deficit first.
  Post(Flight(member_, 2, "PEK", "JFK", "F"));
  EXPECT_EQ(Balance(member_).balance(), 100);
  ExpectConsistent();
}

TEST_F(LedgerTest, ExpiryAtTheEndOfThe36thMonth) {
  // Activity on 2026-03-15 expires at the end of 2029-03-31.
  now_ = absl::FromCivil(absl::CivilSecond(2026, 4, 1, 0, 0, 0), absl::UTCTimeZone());
  v1::Transaction credit = Post(Flight(member_, 1, "PEK", "PVG", "Y", Date(2026, 3, 15)));
  EXPECT_EQ(credit.lot_movements(0).expiry_date().year(), 2029);
  EXPECT_EQ(credit.lot_movements(0).expiry_date().month(), 3);
  EXPECT_EQ(credit.lot_movements(0).expiry_date().day(), 31);
  now_ = absl::FromCivil(absl::CivilSecond(2029, 4, 2, 0, 0, 0), absl::UTCTimeZone());
  v1::RunExpiryRequest run;
  *run.mutable_run_date() = Date(2029, 3, 31);
  EXPECT_EQ(ledger_->RunExpiry(run)->miles_expired(), 0);  // Usable all that day.
  *run.mutable_run_date() = Date(2029, 4, 1);
  auto expired = ledger_->RunExpiry(run);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(expired->miles_expired(), credit.miles());
  EXPECT_EQ(expired->members_affected(), 1);
  EXPECT_EQ(ledger_->RunExpiry(run)->miles_expired(), 0);  // Nothing new.
  EXPECT_EQ(Balance(member_).balance(), 0);
  ExpectConsistent();
}

TEST_F(LedgerTest, ExpiryFindsEveryLotOfAMonthCreditedManyTimes) {
  // Later credits expiring in a month already indexed for the member do
  // not index it again; expiry still finds every lot of that month.
  now_ = absl::FromCivil(absl::CivilSecond(2026, 5, 1, 0, 0, 0), absl::UTCTimeZone());
  const int64_t march =
      Post(Flight(member_, 1, "PEK", "PVG", "Y", Date(2026, 3, 5))).miles() +
      Post(Flight(member_, 2, "PEK", "PVG", "Y", Date(2026, 3, 20))).miles() +
      Post(Flight(member_, 3, "PEK", "PVG", "Y", Date(2026, 3, 31))).miles();
  const int64_t april =
      Post(Flight(member_, 4, "PEK", "PVG", "Y", Date(2026, 4, 2))).miles();
  now_ = absl::FromCivil(absl::CivilSecond(2029, 6, 1, 0, 0, 0), absl::UTCTimeZone());
  v1::RunExpiryRequest run;
  *run.mutable_run_date() = Date(2029, 4, 1);
  auto expired = ledger_->RunExpiry(run);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(expired->miles_expired(), march);
  EXPECT_EQ(expired->lots_expired(), 3);
  EXPECT_EQ(Balance(member_).balance(), april);
  *run.mutable_run_date() = Date(2029, 5, 1);
  EXPECT_EQ(ledger_->RunExpiry(run)->miles_expired(), april);
  EXPECT_EQ(Balance(member_).balance(), 0);
  ExpectConsistent();
}

TEST_F(LedgerTest, ClaimsWaitForStaffWithinTheWindow) {
  v1::SubmitRetroClaimRequest claim;
  claim.set_member_number(member_);
  claim.mutable_flight_identity()->set_ticket_number("7810012345678");
  claim.mutable_flight_identity()->set_coupon_number(1);
  *claim.mutable_flight() = Flight(member_, 1, "PEK", "CAN", "Y").flight();
  claim.set_request_id("web-1");
  claim.mutable_actor()->set_channel(common::v1::WEB);
  auto submitted = ledger_->SubmitRetroClaim(claim);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_EQ(submitted->claim().state(), v1::CLAIM_PENDING);
  EXPECT_EQ(Balance(member_).balance(), 0);
  claim.set_request_id("web-2");
  EXPECT_EQ(ledger_->SubmitRetroClaim(claim).status().code(),
            absl::StatusCode::kAlreadyExists);  // One pending claim per flight.

  v1::ApproveRetroClaimRequest approve;
  approve.set_claim_id(submitted->claim().claim_id());
  EXPECT_TRUE(NamesField(ledger_->ApproveRetroClaim(approve).status(),
                         "actor.operator_id"));
  approve.mutable_actor()->set_operator_id("agent-1");
  auto approved = ledger_->ApproveRetroClaim(approve);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->transaction().type(), v1::RETRO_CLAIM);
  EXPECT_EQ(Balance(member_).balance(), approved->transaction().miles());
  EXPECT_EQ(ledger_->ApproveRetroClaim(approve)->transaction().transaction_id(),
            approved->transaction().transaction_id());
  // The flight is credited now: a new claim for it is refused at once.
  claim.set_request_id("web-3");
  EXPECT_EQ(ledger_->SubmitRetroClaim(claim).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Past the six-month window.
  claim.mutable_flight_identity()->set_ticket_number("7810012345679");
  *claim.mutable_flight()->mutable_flight_date() = Date(2026, 5, 22);
  claim.set_request_id("web-4");
  absl::Status late = ledger_->SubmitRetroClaim(claim).status();
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(NamesField(late, "flight.flight_date"));
  *claim.mutable_flight()->mutable_flight_date() = Date(2026, 5, 23);
  auto in_time = ledger_->SubmitRetroClaim(claim);
  ASSERT_TRUE(in_time.ok()) << in_time.status();
  v1::RejectRetroClaimRequest reject;
  reject.set_claim_id(in_time->claim().claim_id());
  reject.set_reason("NOT_ON_MANIFEST");
  reject.mutable_actor()->set_operator_id("agent-1");
  EXPECT_EQ(ledger_->RejectRetroClaim(reject)->claim().state(), v1::CLAIM_REJECTED);
  v1::ListRetroClaimsRequest list;
  list.add_states(v1::CLAIM_PENDING);
  EXPECT_EQ(ledger_->ListRetroClaims(list)->claims_size(), 0);
  list.clear_states();
  list.set_member_number(member_);
  EXPECT_EQ(ledger_->ListRetroClaims(list)->claims_size(), 2);
}

TEST_F(LedgerTest, AdjustPurchaseAndTransferFollowTheirLimits) {
  v1::AdjustMilesRequest adjust;
  adjust.set_member_number(member_);
  adjust.set_miles(60'000);
  adjust.set_reason_code("GOODWILL");
  adjust.set_note("service recovery");
  adjust.set_request_id("a1");
  EXPECT_TRUE(NamesField(ledger_->AdjustMiles(adjust).status(), "actor.operator_id"));
  adjust.mutable_actor()->set_operator_id("supervisor-1");
  ASSERT_TRUE(ledger_->AdjustMiles(adjust).ok());

  v1::PurchaseMilesRequest purchase;
  purchase.set_member_number(member_);
  purchase.set_miles(40'000);
  purchase.mutable_price()->set_currency_code("CNY");
  purchase.mutable_price()->set_minor_units(120000);
  purchase.set_payment_reference("PAY-1");
  purchase.set_request_id("p1");
  auto bought = ledger_->PurchaseMiles(purchase);
  ASSERT_TRUE(bought.ok()) << bought.status();
  EXPECT_EQ(bought->purchase_allowance_left(), 10'000);
  purchase.set_request_id("p2");
  purchase.set_miles(10'001);
  EXPECT_EQ(ledger_->PurchaseMiles(purchase).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::TransferMilesRequest transfer;
  transfer.set_from_member_number(member_);
  transfer.set_to_member_number(other_);
  transfer.set_miles(50'000);
  transfer.set_request_id("t1");
  auto moved = ledger_->TransferMiles(transfer);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->fee().miles(), -1'000);
  EXPECT_EQ(Balance(member_).balance(), 100'000 - 51'000);
  EXPECT_EQ(Balance(other_).balance(), 50'000);
  transfer.set_request_id("t2");
  transfer.set_miles(48'001);  // Giver has 49,000: with the fee, too many.
  EXPECT_EQ(ledger_->TransferMiles(transfer).status().code(),
            absl::StatusCode::kFailedPrecondition);
  transfer.set_miles(40'000);
  ASSERT_TRUE(ledger_->TransferMiles(transfer).ok());
  transfer.set_request_id("t3");
  transfer.set_miles(10'001);  // The receiver would pass 100,000 this year.
  adjust.set_request_id("a2");
  ASSERT_TRUE(ledger_->AdjustMiles(adjust).ok());
  EXPECT_TRUE(NamesField(ledger_->TransferMiles(transfer).status(), "miles"));
  ExpectConsistent();
}

TEST_F(LedgerTest, MergeMovesTheWholeAccount) {
  Post(Flight(other_, 1, "PEK", "JFK", "F"));
  auto hold = Hold(other_, 1'000, "h");
  const v1::Balance source = Balance(other_);
  Post(Flight(member_, 2, "PEK", "PVG", "Y"));
  const v1::Balance target = Balance(member_);
  ASSERT_TRUE(ledger_->MergeAccounts({other_, member_}).ok());
  ASSERT_TRUE(ledger_->MergeAccounts({other_, member_}).ok());  // Idempotent.
  EXPECT_EQ(Balance(other_).balance(), 0);
  EXPECT_EQ(Balance(member_).balance(), source.balance() + target.balance());
  EXPECT_EQ(Balance(member_).held(), 1'000);
  v1::CaptureHoldRequest capture;
  capture.set_hold_id(hold->hold_id());
  ASSERT_TRUE(ledger_->CaptureHold(capture).ok());
  ExpectConsistent();
}

TEST_F(LedgerTest, StatementIsNewestFirstWithBalanceAfterAndPages) {
  for (int i = 1; i <= 5; ++i) Post(Flight(member_, i, "PEK", "PVG", "Y"));
  v1::GetStatementRequest request;
  request.set_member_number(member_);
  request.mutable_page()->set_page_size(2);
  auto page = ledger_->GetStatement(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->transactions_size(), 2);
  EXPECT_EQ(page->transactions(0).balance_after(), page->balance().balance());
  EXPECT_GT(page->transactions(0).balance_after(),
            page->transactions(1).balance_after());
  std::vector<std::string> seen;
  while (true) {
    for (const auto& transaction : page->transactions()) {
      seen.push_back(transaction.transaction_id());
    }
    if (page->page().next_page_token().empty()) break;
    request.mutable_page()->set_page_token(page->page().next_page_token());
    page = ledger_->GetStatement(request);
  }
  EXPECT_EQ(seen.size(), 5u);
  request.clear_page();
  request.add_types(v1::EXPIRE);
  EXPECT_EQ(ledger_->GetStatement(request)->transactions_size(), 0);
}

TEST_F(LedgerTest, AcknowledgedWritesSurviveReopening) {
  v1::Transaction credit = Post(Flight(member_, 1, "PEK", "PVG", "Y"));
  auto hold = Hold(member_, 100, "h");
  Open();
  EXPECT_EQ(Balance(member_).balance(), credit.miles());
  EXPECT_EQ(Balance(member_).held(), 100);
  EXPECT_TRUE(ledger_->PostOwnFlight(Flight(member_, 1, "PEK", "PVG", "Y"))->replayed());
  ExpectConsistent();
}

// Many credits of one member in one batch (more than one write's worth, see
// DecideCredits): decided in order on the account as the earlier ones left
// it, with the events of each credit in item order.
TEST_F(LedgerTest, BatchCreditsOneMemberManyTimesInOrder) {
  const uint64_t before = store_->LastSequence();
  v1::PostActivitiesRequest batch;
  for (int i = 0; i < 250; ++i) {
    const std::string& member = i % 5 == 4 ? other_ : member_;
    *batch.add_activities()->mutable_own_flight() =
        Flight(member, i, "PEK", i % 2 ? "PVG" : "JFK", i % 3 ? "Y" : "F");
  }
  auto response = ledger_->PostActivities(batch);
  ASSERT_TRUE(response.ok()) << response.status();
  int64_t miles = 0, member_credits = 0, balance_after = 0;
  for (const v1::ActivityResult& result : response->results()) {
    ASSERT_TRUE(result.has_transaction()) << result.error().message();
    EXPECT_FALSE(result.replayed());
    const v1::Transaction& credit = result.transaction();
    if (credit.member_number() != member_) continue;
    EXPECT_EQ(credit.transaction_id(),
              absl::StrCat(member_, "-T", 2 * ++member_credits - 1));
    EXPECT_EQ(credit.balance_after(), balance_after + credit.miles());
    balance_after = credit.balance_after();
    miles += credit.miles();
  }
  EXPECT_EQ(member_credits, 200);
  EXPECT_EQ(Balance(member_).balance(), miles);

  auto events = store_->ReadEvents(before, 10'000);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 500u);
  for (int i = 0; i < 250; ++i) {
    v1::CreditPosted posted;
    v1::QualifyingActivityPosted qualifying;
    ASSERT_TRUE((*events)[2 * i].payload().UnpackTo(&posted));
    ASSERT_TRUE((*events)[2 * i + 1].payload().UnpackTo(&qualifying));
    const v1::Transaction& credit = response->results(i).transaction();
    EXPECT_EQ(posted.transaction().SerializeAsString(),
              credit.SerializeAsString());
    EXPECT_EQ(qualifying.activity_id(), credit.transaction_id());
  }
  ExpectConsistent();
}

// A key used twice in one batch is credited once: the same content is a
// replay of the first, other content names it.
TEST_F(LedgerTest, BatchRepeatingAKeyCreditsItOnce) {
  v1::PostActivitiesRequest batch;
  *batch.add_activities()->mutable_own_flight() =
      Flight(member_, 1, "PEK", "PVG", "Y");
  *batch.add_activities()->mutable_own_flight() =
      Flight(member_, 1, "PEK", "PVG", "Y");
  *batch.add_activities()->mutable_own_flight() =
      Flight(member_, 1, "PEK", "JFK", "Y");
  *batch.add_activities()->mutable_own_flight() =
      Flight(other_, 2, "PEK", "PVG", "Y");
  auto response = ledger_->PostActivities(batch);
  ASSERT_TRUE(response.ok()) << response.status();
  const v1::Transaction& first = response->results(0).transaction();
  EXPECT_FALSE(response->results(0).replayed());
  EXPECT_TRUE(response->results(1).replayed());
  EXPECT_EQ(response->results(1).transaction().SerializeAsString(),
            first.SerializeAsString());
  EXPECT_EQ(response->results(2).error().code(),
            static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_NE(response->results(2).error().message().find(first.transaction_id()),
            std::string::npos);
  EXPECT_TRUE(response->results(3).has_transaction());
  EXPECT_EQ(Balance(member_).balance(), first.miles());
  // And in the next batch, from the store.
  auto again = ledger_->PostActivities(batch);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->results(0).replayed());
  EXPECT_EQ(again->results(0).transaction().transaction_id(),
            first.transaction_id());
  EXPECT_EQ(Balance(member_).balance(), first.miles());
  ExpectConsistent();
}

// A credit refused when it is decided (the partner's table does not sell
// the class) leaves no trace: no transaction number taken, the account and
// its key untouched, the credits around it written.
TEST_F(LedgerTest, BatchItemRefusedMidBatchLeavesNothingHalfWritten) {
  v1::PostActivitiesRequest batch;
  *batch.add_activities()->mutable_partner_flight() =
      PartnerFlight("CA", 1, "Y");
  *batch.add_activities()->mutable_partner_flight() =
      PartnerFlight("CA", 2, "E");
  *batch.add_activities()->mutable_partner_flight() =
      PartnerFlight("CA", 3, "Y");
  auto response = ledger_->PostActivities(batch);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->results(0).transaction().transaction_id(),
            absl::StrCat(member_, "-T1"));
  ASSERT_TRUE(response->results(1).has_error());
  // Each credit takes a transaction and a lot number.
  EXPECT_EQ(response->results(2).transaction().transaction_id(),
            absl::StrCat(member_, "-T3"));
  const int64_t credited = response->results(0).transaction().miles() +
                           response->results(2).transaction().miles();
  EXPECT_EQ(Balance(member_).balance(), credited);
  // Its key was never used: the corrected record is credited.
  auto corrected = ledger_->PostPartnerFlight(PartnerFlight("CA", 2, "Y"));
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_FALSE(corrected->replayed());
  EXPECT_EQ(corrected->transaction().transaction_id(),
            absl::StrCat(member_, "-T5"));
  ExpectConsistent();
}

// Accounts kept in memory between decisions agree with the store (which
// VerifyLedger compares them with), also after a restart empties them.
TEST_F(LedgerTest, AccountsInMemoryAgreeWithTheStoreAcrossRestarts) {
  v1::PostActivitiesRequest batch;
  for (int i = 0; i < 20; ++i) {
    *batch.add_activities()->mutable_own_flight() =
        Flight(i % 2 ? member_ : other_, i, "PEK", "PVG", "Y");
  }
  ASSERT_TRUE(ledger_->PostActivities(batch).ok());
  ASSERT_TRUE(Hold(member_, 100, "h1").ok());
  ExpectConsistent();
  const v1::Balance before = Balance(member_);
  Open();
  EXPECT_EQ(Balance(member_).balance(), before.balance());
  v1::Transaction more = Post(Flight(member_, 100, "PEK", "JFK", "F"));
  EXPECT_EQ(more.balance_after(), before.balance() + more.miles());
  ASSERT_TRUE(Hold(member_, 50, "h2").ok());
  EXPECT_EQ(Balance(member_).held(), 150);
  auto stored = ledger_store_->Account(member_);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->balance(), more.balance_after());
  ExpectConsistent();
}

}  // namespace
}  // namespace mileagebank::accrual
