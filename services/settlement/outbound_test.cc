#include "services/settlement/outbound.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"
#include "libs/validation/dates.h"
#include "services/settlement/outbound_file.h"

namespace mileagebank::settlement {
namespace {

using ::mileagebank::testing::NamesField;

absl::Time Utc(int y, int m, int d, int hh, int mm, int ss) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss),
                         absl::UTCTimeZone());
}

// As written, not normalised, so that invalid dates can be sent.
common::v1::Date Date(int y, int m, int d) {
  common::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

std::string ReadAll(const std::string& path) {
  std::ifstream input(path, std::ios::binary);
  std::stringstream bytes;
  bytes << input.rdbuf();
  return bytes.str();
}

// The ErrorDetails of one item's error.
common::v1::ErrorDetails DetailsOf(const common::v1::Status& status) {
  common::v1::ErrorDetails details;
  if (status.details_size() > 0) status.details(0).UnpackTo(&details);
  return details;
}

bool ItemNamesField(const common::v1::Status& status,
                    const std::string& field) {
  const common::v1::ErrorDetails details = DetailsOf(status);
  for (const auto& violation : details.field_violations()) {
    if (violation.field() == field) return true;
  }
  return false;
}

// Remembers every purchase reported, and writes nothing.
class RecordingLedger : public PurchaseLedger {
 public:
  struct Call {
    std::string partner;
    absl::Time at;
    int64_t records;
    int64_t miles;
  };
  absl::Status AddPurchase(absl::string_view partner_code,
                           absl::Time acknowledged_at, int64_t records_accepted,
                           int64_t miles_credited,
                           store::WriteBatch&) override {
    absl::MutexLock lock(&mutex_);
    calls_.push_back({std::string(partner_code), acknowledged_at,
                      records_accepted, miles_credited});
    return absl::OkStatus();
  }
  std::vector<Call> calls() {
    absl::MutexLock lock(&mutex_);
    return calls_;
  }

 private:
  absl::Mutex mutex_;
  std::vector<Call> calls_;
};

class OutboundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mileagebank::testing::FreshTestDir();
    Open();
    Register("CA", v1::AIRLINE);
    Register("MU", v1::AIRLINE);
    Register("HILTON", v1::HOTEL);
  }

  void Open() {
    std::vector<std::string> tables = Outbound::Tables();
    tables.push_back(kPartnersTable);
    tables.push_back(kOutboxTable);
    auto opened =
        store::Store::Open({.path = dir_ + "/store", .tables = tables});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
    Clock clock = [this] {
      absl::MutexLock lock(&clock_mutex_);
      return now_;
    };
    partners_ = std::make_unique<Partners>(store_.get(), "FM", clock);
    folders_ =
        std::make_unique<DropFolders>(store_.get(), dir_ + "/partners", clock);
    outbound_ = std::make_unique<Outbound>(
        store_.get(), partners_.get(), folders_.get(), &ledger_, "FM",
        &airports::AirportTable::Builtin(), clock);
  }

  // A restart: everything closed and opened again over the same folder.
  void Restart() {
    outbound_.reset();
    folders_.reset();
    partners_.reset();
    store_.reset();
    Open();
  }

  using Clock = std::function<absl::Time()>;

  void SetNow(absl::Time now) {
    absl::MutexLock lock(&clock_mutex_);
    now_ = now;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&clock_mutex_);
    now_ += by;
  }

  void Register(const std::string& code, v1::PartnerType type) {
    v1::RegisterPartnerRequest request;
    v1::Partner* partner = request.mutable_partner();
    partner->set_partner_code(code);
    partner->set_name(code);
    partner->set_type(type);
    partner->set_currency_code("CNY");
    partner->mutable_contract()->mutable_mile_sale_price()->set_currency_code(
        "CNY");
    partner->mutable_contract()->mutable_mile_sale_price()->set_minor_units(
        2500);
    request.mutable_actor()->set_operator_id("finance-1");
    ASSERT_TRUE(partners_->RegisterPartner(request).ok());
  }

  void SetStatus(const std::string& code, v1::PartnerStatus status) {
    v1::ChangePartnerStatusRequest request;
    request.set_partner_code(code);
    request.set_status(status);
    request.set_reason("TEST");
    request.mutable_actor()->set_operator_id("finance-1");
    ASSERT_TRUE(partners_->ChangePartnerStatus(request).ok());
  }

  static v1::OutboundFlight Flight(const std::string& partner,
                                   const std::string& ticket, int coupon = 1) {
    v1::OutboundFlight flight;
    flight.set_partner_code(partner);
    flight.set_partner_member_number("CA000123456");
    flight.set_family_name("WANG");
    flight.set_given_name("XIAOMING");
    flight.set_ticket_number(ticket);
    flight.set_coupon_number(coupon);
    flight.set_carrier("FM");
    flight.set_flight_number(9101);
    *flight.mutable_flight_date() = Date(2026, 3, 1);
    flight.set_origin("PEK");
    flight.set_destination("SHA");
    flight.set_booking_class("Y");
    return flight;
  }

  v1::SubmitOutboundFlightsResponse Submit(
      std::vector<v1::OutboundFlight> flights) {
    v1::SubmitOutboundFlightsRequest request;
    for (auto& flight : flights) *request.add_flights() = std::move(flight);
    request.mutable_actor()->set_channel(common::v1::SYSTEM);
    auto response = outbound_->SubmitOutboundFlights(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::SubmitOutboundFlightsResponse();
  }

  std::string SubmitOne(const v1::OutboundFlight& flight) {
    v1::SubmitOutboundFlightsResponse response = Submit({flight});
    EXPECT_TRUE(response.results(0).has_record()) << response.DebugString();
    return response.results(0).record().record_id();
  }

  absl::StatusOr<v1::GenerateOutboundFilesResponse> Generate(int y, int m,
                                                             int d) {
    v1::GenerateOutboundFilesRequest request;
    *request.mutable_file_date() = Date(y, m, d);
    request.mutable_actor()->set_channel(common::v1::SYSTEM);
    return outbound_->GenerateOutboundFiles(request);
  }

  // Uploads `bytes` in chunks of `chunk` bytes as `partner`.
  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> Upload(
      const std::string& partner, const std::string& file_name,
      const std::string& bytes, size_t chunk = 7,
      absl::string_view authenticated = "") {
    std::vector<v1::UploadOutboundAcknowledgementRequest> messages(1);
    messages[0].mutable_metadata()->set_partner_code(partner);
    messages[0].mutable_metadata()->set_file_name(file_name);
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      messages.emplace_back().set_chunk(bytes.substr(at, chunk));
    }
    return UploadMessages(messages, authenticated);
  }

  absl::StatusOr<v1::UploadOutboundAcknowledgementResponse> UploadMessages(
      const std::vector<v1::UploadOutboundAcknowledgementRequest>& messages,
      absl::string_view authenticated = "") {
    size_t next = 0;
    return outbound_->UploadOutboundAcknowledgement(
        [&](v1::UploadOutboundAcknowledgementRequest* message) {
          if (next == messages.size()) return false;
          *message = messages[next++];
          return true;
        },
        authenticated);
  }

  v1::OutboundRecord Record(const std::string& record_id) {
    v1::ListOutboundRecordsRequest request;
    request.mutable_page()->set_page_size(1000);
    auto listed = outbound_->ListOutboundRecords(request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    for (const auto& record : listed->records()) {
      if (record.record_id() == record_id) return record;
    }
    ADD_FAILURE() << "no record " << record_id;
    return v1::OutboundRecord();
  }

  std::vector<v1::OutboundRecord> Records(const std::string& partner = "") {
    v1::ListOutboundRecordsRequest request;
    request.set_partner_code(partner);
    request.mutable_page()->set_page_size(1000);
    auto listed = outbound_->ListOutboundRecords(request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return {listed->records().begin(), listed->records().end()};
  }

  std::string Outbox(const std::string& partner, const std::string& name) {
    return ReadAll(folders_->OutboxFilePath(partner, name));
  }

  // Three CA flights submitted a minute apart on 2026-03-03, sent in
  // FM_CA_000001.out.csv; their ids in record order.
  std::vector<std::string> SendThree() {
    SetNow(Utc(2026, 3, 3, 8, 0, 0));
    std::vector<std::string> ids;
    for (const char* ticket :
         {"7812345678901", "7812345678902", "7812345678903"}) {
      ids.push_back(SubmitOne(Flight("CA", ticket)));
      Advance(absl::Minutes(1));
    }
    SetNow(Utc(2026, 3, 3, 23, 0, 0));
    auto generated = Generate(2026, 3, 3);
    EXPECT_TRUE(generated.ok()) << generated.status();
    return ids;
  }

  std::string dir_;
  absl::Mutex clock_mutex_;
  absl::Time now_ = Utc(2026, 3, 3, 8, 0, 0);
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Partners> partners_;
  std::unique_ptr<DropFolders> folders_;
  RecordingLedger ledger_;
  std::unique_ptr<Outbound> outbound_;
};

constexpr char kAckOfThree[] =
    "H,FM,000001,2026-03-04T02:00:00Z,1\n"
    "R,1,ACCEPTED,,500\n"
    "R,2,REJECTED,INVALID_FIELD:member,0\n"
    "R,3,ACCEPTED,,300\n"
    "T,3,2,1,800\n";

// ---------------------------------------------------------------------------
// Submitting

TEST_F(OutboundTest, SubmitRecordsEachFlightOnceByTicketAndCoupon) {
  v1::SubmitOutboundFlightsResponse first = Submit(
      {Flight("CA", "7812345678901", 1), Flight("CA", "7812345678901", 2)});
  ASSERT_EQ(first.results_size(), 2);
  const v1::OutboundRecord& record = first.results(0).record();
  EXPECT_FALSE(first.results(0).replayed());
  EXPECT_EQ(record.status(), v1::OUTBOUND_PENDING);
  EXPECT_EQ(record.version(), 1);
  EXPECT_FALSE(record.record_id().empty());
  EXPECT_NE(first.results(1).record().record_id(), record.record_id());

  v1::SubmitOutboundFlightsResponse again =
      Submit({Flight("CA", "7812345678901", 1)});
  EXPECT_TRUE(again.results(0).replayed());
  EXPECT_EQ(again.results(0).record().record_id(), record.record_id());

  v1::OutboundFlight other = Flight("CA", "7812345678901", 1);
  other.set_booking_class("J");
  v1::SubmitOutboundFlightsResponse conflict = Submit({other});
  ASSERT_TRUE(conflict.results(0).has_error());
  EXPECT_EQ(conflict.results(0).error().code(),
            static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(DetailsOf(conflict.results(0).error()).existing_id(),
            record.record_id());
  EXPECT_EQ(Records().size(), 2u);
}

TEST_F(OutboundTest, SubmitNamesEveryBadFieldOfEachFlight) {
  v1::OutboundFlight bad = Flight("CA", "78123");
  bad.set_carrier("CA");
  *bad.mutable_flight_date() = Date(2026, 3, 4);  // Tomorrow.
  bad.set_origin("XQZ");
  bad.set_family_name("WANG,LI");
  bad.set_partner_member_number("ca-1");
  v1::OutboundFlight same_airports = Flight("CA", "7812345678909");
  same_airports.set_destination("PEK");
  v1::SubmitOutboundFlightsResponse response =
      Submit({Flight("CA", "7812345678901"), bad, same_airports});
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_TRUE(response.results(0).has_record());
  const common::v1::Status& error = response.results(1).error();
  EXPECT_EQ(error.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  for (const char* field :
       {"flights[1].ticket_number", "flights[1].carrier",
        "flights[1].flight_date", "flights[1].origin", "flights[1].family_name",
        "flights[1].partner_member_number"}) {
    EXPECT_TRUE(ItemNamesField(error, field))
        << field << " " << error.DebugString();
  }
  EXPECT_FALSE(ItemNamesField(error, "flights[1].destination"));
  EXPECT_TRUE(
      ItemNamesField(response.results(2).error(), "flights[2].destination"));
  EXPECT_EQ(response.results(2).index(), 2);
  EXPECT_EQ(Records().size(), 1u);

  v1::SubmitOutboundFlightsRequest none;
  EXPECT_TRUE(
      NamesField(outbound_->SubmitOutboundFlights(none).status(), "flights"));
  v1::SubmitOutboundFlightsRequest too_many;
  for (int i = 0; i < 1001; ++i)
    *too_many.add_flights() = Flight("CA", "7812345678901");
  EXPECT_TRUE(NamesField(outbound_->SubmitOutboundFlights(too_many).status(),
                         "flights"));
  EXPECT_EQ(Records().size(), 1u);
}

TEST_F(OutboundTest, SubmitNeedsAKnownAirlinePartner) {
  v1::SubmitOutboundFlightsResponse response = Submit(
      {Flight("HILTON", "7812345678901"), Flight("ZZ", "7812345678902")});
  EXPECT_EQ(response.results(0).error().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(
      ItemNamesField(response.results(0).error(), "flights[0].partner_code"));
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_TRUE(
      ItemNamesField(response.results(1).error(), "flights[1].partner_code"));
  EXPECT_TRUE(Records().empty());
}

TEST_F(OutboundTest, ASuspendedPartnersRecordsAreKeptAndWait) {
  SetStatus("MU", v1::SUSPENDED);
  const std::string id = SubmitOne(Flight("MU", "7812345678901"));
  auto generated = Generate(2026, 3, 3);
  ASSERT_TRUE(generated.ok()) << generated.status();
  EXPECT_EQ(generated->files_size(), 0);
  EXPECT_EQ(Record(id).status(), v1::OUTBOUND_PENDING);

  SetStatus("MU", v1::ACTIVE);
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  generated = Generate(2026, 3, 4);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->files_size(), 1);
  EXPECT_EQ(generated->files(0).partner_code(), "MU");
  EXPECT_EQ(Record(id).status(), v1::OUTBOUND_SENT);
}

// ---------------------------------------------------------------------------
// Generating

TEST_F(OutboundTest, GenerateWritesOneFilePerPartnerWithPendingRecords) {
  v1::OutboundFlight second = Flight("CA", "7812345678902", 4);
  second.set_partner_member_number("ZZ9");
  second.set_family_name("O-BRIEN");
  second.set_given_name("");
  second.set_flight_number(7);
  *second.mutable_flight_date() = Date(2026, 3, 2);
  second.set_origin("SHA");
  second.set_destination("CAN");
  second.set_booking_class("J");
  // Submitted in this order a minute apart: the file keeps it.
  const std::string first_id = SubmitOne(Flight("CA", "7812345678901"));
  Advance(absl::Minutes(1));
  const std::string second_id = SubmitOne(second);
  SetNow(Utc(2026, 3, 3, 1, 2, 3));
  const uint64_t events_before = store_->LastSequence();

  auto generated = Generate(2026, 3, 3);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->files_size(), 1);  // MU has nothing pending.
  const v1::OutboundFile& file = generated->files(0);
  EXPECT_EQ(file.partner_code(), "CA");
  EXPECT_EQ(file.seq(), 1);
  EXPECT_EQ(file.file_name(), "FM_CA_000001.out.csv");
  EXPECT_EQ(file.record_count(), 2);
  EXPECT_EQ(file.status(), v1::OUTBOUND_FILE_SENT);
  EXPECT_EQ(Outbox("CA", file.file_name()),
            "H,FM,000001,2026-03-03T01:02:03Z,1\n"
            "D,1,CA000123456,WANG,XIAOMING,2026-03-01,AIR,7812345678901/1,FM,"
            "9101,PEK,SHA,Y,\n"
            "D,2,ZZ9,O-BRIEN,,2026-03-02,AIR,7812345678902/4,FM,7,SHA,CAN,J,\n"
            "T,2,0\n");
  EXPECT_TRUE(folders_->FindOutboxFile("CA", file.file_name()).ok());
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
  EXPECT_EQ(partners_->Find("MU")->last_outbound_file_seq(), 0);
  const v1::OutboundRecord second_record = Record(second_id);
  EXPECT_EQ(second_record.status(), v1::OUTBOUND_SENT);
  EXPECT_EQ(second_record.file_id(), file.file_id());
  EXPECT_EQ(second_record.file_seq(), 1);
  EXPECT_EQ(second_record.record_number(), 2);
  EXPECT_EQ(second_record.times_sent(), 1);
  EXPECT_EQ(second_record.version(), 2);
  EXPECT_EQ(Record(first_id).record_number(), 1);

  auto events = store_->ReadEvents(events_before, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  v1::OutboundFileGenerated event;
  ASSERT_TRUE((*events)[0].payload().UnpackTo(&event));
  EXPECT_EQ(event.file().file_id(), file.file_id());
  EXPECT_EQ((*events)[0].key(), "CA");

  // The same date again: the same files, nothing written; even a flight
  // pending since waits for another date.
  const std::string later_id = SubmitOne(Flight("CA", "7812345678903"));
  const uint64_t events_after = store_->LastSequence();
  auto again = Generate(2026, 3, 3);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->files_size(), 1);
  EXPECT_EQ(again->files(0).file_id(), file.file_id());
  EXPECT_EQ(store_->LastSequence(), events_after);
  EXPECT_EQ(Record(later_id).status(), v1::OUTBOUND_PENDING);

  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next_day = Generate(2026, 3, 4);
  ASSERT_TRUE(next_day.ok()) << next_day.status();
  ASSERT_EQ(next_day->files_size(), 1);
  EXPECT_EQ(next_day->files(0).seq(), 2);
  EXPECT_EQ(next_day->files(0).record_count(), 1);
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 2);
}

TEST_F(OutboundTest, GenerateRefusesADateAfterToday) {
  EXPECT_TRUE(NamesField(Generate(2026, 3, 4).status(), "file_date"));
  EXPECT_TRUE(NamesField(Generate(2026, 2, 30).status(), "file_date"));
}

TEST_F(OutboundTest, AFileLeftByAnInterruptedRunIsWrittenAgainIdentically) {
  SubmitOne(Flight("CA", "7812345678901"));
  // What a run at 01:00 wrote before dying ahead of its commit.
  OutboundFileHeader header{"FM", "CA", 1, Utc(2026, 3, 3, 1, 0, 0)};
  const std::string left =
      *FormatOutboundFile(header, {Flight("CA", "7812345678901")});
  ASSERT_TRUE(folders_->Ensure("CA").ok());
  std::ofstream(folders_->OutboxFilePath("CA", "FM_CA_000001.out.csv"),
                std::ios::binary)
      << left;

  SetNow(Utc(2026, 3, 3, 9, 30, 0));
  auto generated = Generate(2026, 3, 3);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->files_size(), 1);
  EXPECT_EQ(Outbox("CA", "FM_CA_000001.out.csv"), left);
  EXPECT_EQ(validation::FromProtoTimestamp(generated->files(0).created_at()),
            Utc(2026, 3, 3, 1, 0, 0));
}

TEST_F(OutboundTest, GenerationAndSubmissionsTogetherLoseAndRepeatNothing) {
  constexpr int kThreads = 4;
  constexpr int kEach = 40;
  SetNow(Utc(2026, 3, 31, 12, 0, 0));
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        v1::SubmitOutboundFlightsRequest request;
        *request.add_flights() = Flight(t % 2 == 0 ? "CA" : "MU",
                                        absl::StrFormat("78100%04d%04d", t, i));
        auto response = outbound_->SubmitOutboundFlights(request);
        EXPECT_TRUE(response.ok() && response->results(0).has_record());
      }
    });
  }
  for (int day = 1; day <= 30; ++day) ASSERT_TRUE(Generate(2026, 3, day).ok());
  for (std::thread& submitter : submitters) submitter.join();
  ASSERT_TRUE(Generate(2026, 3, 31).ok());

  std::vector<v1::OutboundRecord> records = Records();
  ASSERT_EQ(records.size(), static_cast<size_t>(kThreads * kEach));
  std::set<std::string> slots;
  for (const v1::OutboundRecord& record : records) {
    EXPECT_EQ(record.status(), v1::OUTBOUND_SENT);
    EXPECT_EQ(record.times_sent(), 1);
    EXPECT_TRUE(slots
                    .insert(absl::StrCat(record.flight().partner_code(), "/",
                                         record.file_seq(), "/",
                                         record.record_number()))
                    .second);
  }
  // Each file's records are numbered 1..n with no gap.
  for (const char* partner : {"CA", "MU"}) {
    const int32_t last = partners_->Find(partner)->last_outbound_file_seq();
    int64_t total = 0;
    for (int32_t seq = 1; seq <= last; ++seq) {
      const std::string name = OutboundFileName("FM", partner, seq);
      const std::string bytes = Outbox(partner, name);
      const size_t t = bytes.rfind("\nT,");
      ASSERT_NE(t, std::string::npos) << name;
      int64_t count = 0;
      ASSERT_TRUE(absl::SimpleAtoi(
          bytes.substr(t + 3, bytes.find(',', t + 3) - t - 3), &count));
      for (int64_t n = 1; n <= count; ++n) {
        EXPECT_EQ(slots.count(absl::StrCat(partner, "/", seq, "/", n)), 1u)
            << name << " record " << n;
      }
      total += count;
    }
    EXPECT_EQ(total, kThreads / 2 * kEach) << partner;
  }
}

// ---------------------------------------------------------------------------
// Acknowledgements

TEST_F(OutboundTest, AnAcknowledgementSetsEachRecordAndReportsThePurchaseOnce) {
  const std::vector<std::string> ids = SendThree();
  SetNow(Utc(2026, 3, 4, 3, 0, 0));
  const uint64_t events_before = store_->LastSequence();
  auto recorded = Upload("CA", "FM_CA_000001.ack.csv", kAckOfThree);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(recorded->accepted());
  const v1::OutboundFile& file = recorded->file();
  EXPECT_EQ(file.status(), v1::OUTBOUND_FILE_ACKNOWLEDGED);
  EXPECT_EQ(file.records_accepted(), 2);
  EXPECT_EQ(file.records_rejected(), 1);
  EXPECT_EQ(file.miles_credited(), 800);
  EXPECT_EQ(validation::FromProtoTimestamp(file.acknowledged_at()),
            Utc(2026, 3, 4, 3, 0, 0));

  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_ACCEPTED);
  EXPECT_EQ(Record(ids[0]).miles_credited(), 500);
  EXPECT_EQ(Record(ids[2]).miles_credited(), 300);
  const v1::OutboundRecord rejected = Record(ids[1]);
  EXPECT_EQ(rejected.status(), v1::OUTBOUND_REJECTED);
  EXPECT_EQ(rejected.reason(), "INVALID_FIELD:member");
  EXPECT_EQ(rejected.reason_code(), v1::INVALID_FIELD);
  EXPECT_EQ(rejected.invalid_field(), "member");
  EXPECT_EQ(rejected.miles_credited(), 0);

  ASSERT_EQ(ledger_.calls().size(), 1u);
  EXPECT_EQ(ledger_.calls()[0].partner, "CA");
  EXPECT_EQ(ledger_.calls()[0].at, Utc(2026, 3, 4, 3, 0, 0));
  EXPECT_EQ(ledger_.calls()[0].records, 2);
  EXPECT_EQ(ledger_.calls()[0].miles, 800);
  auto events = store_->ReadEvents(events_before, 10);
  ASSERT_EQ(events->size(), 1u);
  v1::OutboundFileAcknowledged event;
  ASSERT_TRUE((*events)[0].payload().UnpackTo(&event));
  EXPECT_EQ(event.file().miles_credited(), 800);

  // The same acknowledgement again, written later: nothing changes.
  std::string later = kAckOfThree;
  later.replace(later.find("2026-03-04T02"), 13, "2026-03-05T09");
  SetNow(Utc(2026, 3, 5, 10, 0, 0));
  auto repeat = Upload("CA", "", later, 1 << 20);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->accepted());
  EXPECT_EQ(repeat->file().file_id(), file.file_id());
  EXPECT_EQ(validation::FromProtoTimestamp(repeat->file().acknowledged_at()),
            Utc(2026, 3, 4, 3, 0, 0));
  EXPECT_EQ(ledger_.calls().size(), 1u);
  EXPECT_EQ(store_->LastSequence(), events_before + 1);
  EXPECT_EQ(Record(ids[0]).version(), 3);
}

TEST_F(OutboundTest, CopiesOfAnAcknowledgementArrivingTogetherAreRecordedOnce) {
  const std::vector<std::string> ids = SendThree();
  const uint64_t events_before = store_->LastSequence();
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t) {
    senders.emplace_back([this] {
      auto outcome = Upload("CA", "", kAckOfThree);
      EXPECT_TRUE(outcome.ok() && outcome->accepted());
    });
  }
  for (std::thread& sender : senders) sender.join();
  EXPECT_EQ(ledger_.calls().size(), 1u);
  EXPECT_EQ(store_->LastSequence(), events_before + 1);
  EXPECT_EQ(Record(ids[2]).version(), 3);
}

TEST_F(OutboundTest, AnAcknowledgementThatDoesNotMatchChangesNothing) {
  const std::vector<std::string> ids = SendThree();
  const uint64_t events_before = store_->LastSequence();
  struct Case {
    std::string bytes;
    v1::AcknowledgementRefusalCode code;
  };
  const Case cases[] = {
      {"H,FM,000009,2026-03-04T02:00:00Z,1\nR,1,ACCEPTED,,5\nT,1,1,0,5\n",
       v1::ACK_UNKNOWN_FILE},
      {"H,FM,000001,2026-03-04T02:00:00Z,1\nR,1,ACCEPTED,,5\nR,2,ACCEPTED,,5\n"
       "T,2,2,0,10\n",
       v1::ACK_COUNT_MISMATCH},
      {"H,FM,000001,2026-03-04T02:00:00Z,1\nR,1,ACCEPTED,,5\nR,2,ACCEPTED,,5\n"
       "R,3,ACCEPTED,,5\nT,3,3,0,99\n",
       v1::ACK_MALFORMED},
      {"H,CA,000001,2026-03-04T02:00:00Z,1\nT,0,0,0,0\n", v1::ACK_MALFORMED},
      {"", v1::ACK_MALFORMED},
  };
  for (const Case& c : cases) {
    auto outcome = Upload("CA", "", c.bytes);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_FALSE(outcome->accepted()) << c.bytes;
    EXPECT_EQ(outcome->refusal_code(), c.code) << c.bytes;
    EXPECT_FALSE(outcome->refusal_message().empty());
  }
  for (const std::string& id : ids)
    EXPECT_EQ(Record(id).status(), v1::OUTBOUND_SENT);
  EXPECT_TRUE(ledger_.calls().empty());
  EXPECT_EQ(store_->LastSequence(), events_before);

  ASSERT_TRUE(Upload("CA", "", kAckOfThree)->accepted());
  std::string different = kAckOfThree;
  different.replace(different.find(",500"), 4, ",501");
  different.replace(different.find("T,3,2,1,800"), 11, "T,3,2,1,801");
  auto conflict = Upload("CA", "", different);
  ASSERT_TRUE(conflict.ok()) << conflict.status();
  EXPECT_FALSE(conflict->accepted());
  EXPECT_EQ(conflict->refusal_code(), v1::ACK_CONFLICT);
  EXPECT_EQ(Record(ids[0]).miles_credited(), 500);
  EXPECT_EQ(ledger_.calls().size(), 1u);
  EXPECT_EQ(store_->LastSequence(), events_before + 1);
}

TEST_F(OutboundTest, AWholeFileRefusalRejectsEveryRecordForResending) {
  const std::vector<std::string> ids = SendThree();
  auto outcome = Upload("CA", "FM_CA_000001.ack.csv",
                        "H,FM,000001,2026-03-04T02:00:00Z,1\n"
                        "E,TOTALS_MISMATCH,\"count 3, total 0\"\n"
                        "T,0,0,0,0\n");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->accepted());
  EXPECT_EQ(outcome->file().records_accepted(), 0);
  EXPECT_EQ(outcome->file().records_rejected(), 3);
  for (const std::string& id : ids) {
    const v1::OutboundRecord record = Record(id);
    EXPECT_EQ(record.status(), v1::OUTBOUND_REJECTED);
    EXPECT_EQ(record.reason(), "TOTALS_MISMATCH");
  }
  ASSERT_EQ(ledger_.calls().size(), 1u);
  EXPECT_EQ(ledger_.calls()[0].records, 0);

  v1::ResendOutboundRecordRequest resend;
  resend.set_record_id(ids[1]);
  resend.mutable_actor()->set_operator_id("ops-7");
  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next = Generate(2026, 3, 4);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  EXPECT_EQ(next->files(0).seq(), 1);  // The refused file's seq again.
  EXPECT_EQ(next->files(0).record_count(), 1);
}

// partner-files.md section 1: a refused file does not use up its seq.
constexpr char kRefusalOfOne[] =
    "H,FM,000001,2026-03-04T02:00:00Z,1\n"
    "E,TOTALS_MISMATCH,\"count 3, total 0\"\n"
    "T,0,0,0,0\n";

TEST_F(OutboundTest, AWholeFileRefusalGivesItsSeqToTheFileThatReplacesIt) {
  const std::vector<std::string> ids = SendThree();
  const std::string name = "FM_CA_000001.out.csv";
  const v1::OutboundFile refused_file = Generate(2026, 3, 3)->files(0);
  const std::string refused_bytes = Outbox("CA", name);
  SetNow(Utc(2026, 3, 4, 3, 0, 0));
  auto refused = Upload("CA", "FM_CA_000001.ack.csv", kRefusalOfOne);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_TRUE(refused->accepted());
  EXPECT_EQ(refused->file().file_id(), refused_file.file_id());
  EXPECT_EQ(refused->file().records_rejected(), 3);
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 0);
  for (const std::string& id : ids) {
    const v1::OutboundRecord record = Record(id);
    EXPECT_EQ(record.status(), v1::OUTBOUND_REJECTED);
    EXPECT_EQ(record.reason(), "TOTALS_MISMATCH");
    EXPECT_EQ(record.file_id(), refused_file.file_id());
    EXPECT_EQ(record.file_seq(), 1);
  }
  const uint64_t events_after_refusal = store_->LastSequence();

  // Before anything is sent under seq 1 again: the same refusal is a
  // repeat; any other acknowledgement of seq 1 conflicts with it.
  auto repeat = Upload("CA", "", kRefusalOfOne);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->accepted());
  EXPECT_EQ(repeat->file().file_id(), refused_file.file_id());
  auto other = Upload("CA", "", kAckOfThree);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->accepted());
  EXPECT_EQ(other->refusal_code(), v1::ACK_CONFLICT);
  EXPECT_EQ(store_->LastSequence(), events_after_refusal);
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_REJECTED);

  // Staff resend two of them, one corrected; the next file is seq 1 again,
  // under the same name, replacing the refused file in the outbox.
  v1::ResendOutboundRecordRequest resend;
  resend.mutable_actor()->set_operator_id("ops-7");
  resend.set_record_id(ids[0]);
  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  resend.set_record_id(ids[2]);
  resend.mutable_corrections()->set_partner_member_number("CA000999999");
  resend.mutable_update_mask()->add_paths("partner_member_number");
  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next = Generate(2026, 3, 4);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  const v1::OutboundFile replacement = next->files(0);
  EXPECT_EQ(replacement.seq(), 1);
  EXPECT_EQ(replacement.file_name(), name);
  EXPECT_NE(replacement.file_id(), refused_file.file_id());
  EXPECT_EQ(replacement.record_count(), 2);
  EXPECT_EQ(replacement.status(), v1::OUTBOUND_FILE_SENT);
  const std::string bytes =
      "H,FM,000001,2026-03-04T23:00:00Z,1\n"
      "D,1,CA000123456,WANG,XIAOMING,2026-03-01,AIR,7812345678901/1,FM,"
      "9101,PEK,SHA,Y,\n"
      "D,2,CA000999999,WANG,XIAOMING,2026-03-01,AIR,7812345678903/1,FM,"
      "9101,PEK,SHA,Y,\n"
      "T,2,0\n";
  EXPECT_NE(refused_bytes, bytes);
  EXPECT_EQ(Outbox("CA", name), bytes);
  auto described = folders_->FindOutboxFile("CA", name);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
  const v1::OutboundRecord resent = Record(ids[2]);
  EXPECT_EQ(resent.status(), v1::OUTBOUND_SENT);
  EXPECT_EQ(resent.file_id(), replacement.file_id());
  EXPECT_EQ(resent.file_seq(), 1);
  EXPECT_EQ(resent.record_number(), 2);
  EXPECT_EQ(resent.times_sent(), 2);
  const v1::OutboundRecord left = Record(ids[1]);
  EXPECT_EQ(left.status(), v1::OUTBOUND_REJECTED);
  EXPECT_EQ(left.reason(), "TOTALS_MISMATCH");
  EXPECT_EQ(left.file_id(), refused_file.file_id());
  // The refused file is kept: the first date still answers with it.
  auto first_date = Generate(2026, 3, 3);
  ASSERT_TRUE(first_date.ok()) << first_date.status();
  ASSERT_EQ(first_date->files_size(), 1);
  EXPECT_EQ(first_date->files(0).file_id(), refused_file.file_id());
  EXPECT_EQ(first_date->files(0).status(), v1::OUTBOUND_FILE_ACKNOWLEDGED);
  EXPECT_EQ(first_date->files(0).records_rejected(), 3);

  // The refusal arriving again, late: about the refused file, not this one.
  const uint64_t events_before = store_->LastSequence();
  auto late = Upload("CA", "FM_CA_000001.ack.csv", kRefusalOfOne);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->accepted());
  EXPECT_EQ(late->file().file_id(), refused_file.file_id());
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_SENT);
  EXPECT_EQ(Record(ids[0]).file_id(), replacement.file_id());
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
  EXPECT_EQ(store_->LastSequence(), events_before);
  EXPECT_EQ(ledger_.calls().size(), 1u);

  // The replacement's acknowledgement is recorded against it; the
  // sequence goes on from there.
  auto accepted = Upload("CA", "",
                         "H,FM,000001,2026-03-05T02:00:00Z,1\n"
                         "R,1,ACCEPTED,,500\n"
                         "R,2,REJECTED,INVALID_FIELD:member,0\n"
                         "T,2,1,1,500\n");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->accepted()) << accepted->refusal_message();
  EXPECT_EQ(accepted->file().file_id(), replacement.file_id());
  EXPECT_EQ(accepted->file().miles_credited(), 500);
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_ACCEPTED);
  EXPECT_EQ(Record(ids[2]).reason(), "INVALID_FIELD:member");
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
  ASSERT_EQ(ledger_.calls().size(), 2u);
  EXPECT_EQ(ledger_.calls()[1].miles, 500);
  auto later = Upload("CA", "", kRefusalOfOne);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->accepted());
  EXPECT_EQ(later->file().file_id(), refused_file.file_id());
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_ACCEPTED);

  resend.Clear();
  resend.mutable_actor()->set_operator_id("ops-7");
  resend.set_record_id(ids[1]);
  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  SetNow(Utc(2026, 3, 5, 23, 0, 0));
  auto after = Generate(2026, 3, 5);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->files_size(), 1);
  EXPECT_EQ(after->files(0).seq(), 2);
  EXPECT_EQ(after->files(0).record_count(), 1);  // Never the accepted one.
  EXPECT_EQ(Record(ids[1]).file_seq(), 2);
  EXPECT_EQ(Record(ids[1]).times_sent(), 2);
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 2);
}

TEST_F(OutboundTest, ARefusedSeqIsGivenBackAcrossRestarts) {
  const std::vector<std::string> ids = SendThree();
  const std::string refused_id = Record(ids[0]).file_id();
  SetNow(Utc(2026, 3, 4, 3, 0, 0));
  ASSERT_TRUE(Upload("CA", "", kRefusalOfOne)->accepted());
  Restart();
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 0);
  auto repeat = Upload("CA", "", kRefusalOfOne);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->accepted());
  EXPECT_EQ(repeat->file().file_id(), refused_id);
  for (const std::string& id : ids) {
    v1::ResendOutboundRecordRequest resend;
    resend.set_record_id(id);
    resend.mutable_actor()->set_operator_id("ops-7");
    ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  }
  Restart();
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next = Generate(2026, 3, 4);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  EXPECT_EQ(next->files(0).seq(), 1);
  EXPECT_EQ(next->files(0).file_name(), "FM_CA_000001.out.csv");
  EXPECT_EQ(next->files(0).record_count(), 3);
  // Not the refused file's created time: this is no leftover.
  EXPECT_EQ(validation::FromProtoTimestamp(next->files(0).created_at()),
            Utc(2026, 3, 4, 23, 0, 0));
  EXPECT_EQ(Outbox("CA", "FM_CA_000001.out.csv").substr(0, 35),
            "H,FM,000001,2026-03-04T23:00:00Z,1\n");

  Restart();
  const uint64_t events_before = store_->LastSequence();
  auto late = Upload("CA", "", kRefusalOfOne);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->accepted());
  EXPECT_EQ(late->file().file_id(), refused_id);
  EXPECT_EQ(store_->LastSequence(), events_before);
  for (const std::string& id : ids)
    EXPECT_EQ(Record(id).status(), v1::OUTBOUND_SENT);

  auto accepted = Upload("CA", "",
                         "H,FM,000001,2026-03-05T02:00:00Z,1\n"
                         "R,1,ACCEPTED,,500\nR,2,ACCEPTED,,500\n"
                         "R,3,ACCEPTED,,500\nT,3,3,0,1500\n");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->accepted()) << accepted->refusal_message();
  Restart();
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
  SetNow(Utc(2026, 3, 5, 8, 0, 0));
  SubmitOne(Flight("CA", "7812345678904"));
  SetNow(Utc(2026, 3, 5, 23, 0, 0));
  auto after = Generate(2026, 3, 5);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->files_size(), 1);
  EXPECT_EQ(after->files(0).seq(), 2);
  EXPECT_EQ(after->files(0).record_count(), 1);
}

TEST_F(OutboundTest, AReplacementLeftByAnInterruptedRunIsWrittenAgainAsItWas) {
  const std::vector<std::string> ids = SendThree();
  SetNow(Utc(2026, 3, 4, 3, 0, 0));
  ASSERT_TRUE(Upload("CA", "", kRefusalOfOne)->accepted());
  for (const std::string& id : ids) {
    v1::ResendOutboundRecordRequest resend;
    resend.set_record_id(id);
    resend.mutable_actor()->set_operator_id("ops-7");
    ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  }
  // What a run at 22:00 wrote over the refused file before dying ahead of
  // its commit.
  OutboundFileHeader header{"FM", "CA", 1, Utc(2026, 3, 4, 22, 0, 0)};
  const std::string left = *FormatOutboundFile(
      header, {Flight("CA", "7812345678901"), Flight("CA", "7812345678902"),
               Flight("CA", "7812345678903")});
  std::ofstream(folders_->OutboxFilePath("CA", "FM_CA_000001.out.csv"),
                std::ios::binary)
      << left;
  Restart();
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto generated = Generate(2026, 3, 4);
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->files_size(), 1);
  EXPECT_EQ(generated->files(0).seq(), 1);
  EXPECT_EQ(Outbox("CA", "FM_CA_000001.out.csv"), left);
  EXPECT_EQ(validation::FromProtoTimestamp(generated->files(0).created_at()),
            Utc(2026, 3, 4, 22, 0, 0));
}

TEST_F(OutboundTest, ARefusalOfTheReplacementIsRecordedAgainstIt) {
  const std::vector<std::string> ids = SendThree();
  SetNow(Utc(2026, 3, 4, 3, 0, 0));
  ASSERT_TRUE(Upload("CA", "", kRefusalOfOne)->accepted());
  v1::ResendOutboundRecordRequest resend;
  resend.set_record_id(ids[0]);
  resend.mutable_actor()->set_operator_id("ops-7");
  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next = Generate(2026, 3, 4);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  const std::string replacement_id = next->files(0).file_id();

  // The same refusal written again later (another processed time) while
  // the replacement is out: the replacement refused, for the same reason.
  std::string again = kRefusalOfOne;
  again.replace(again.find("2026-03-04T02"), 13, "2026-03-05T02");
  auto refused = Upload("CA", "", again);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_TRUE(refused->accepted());
  EXPECT_EQ(refused->file().file_id(), replacement_id);
  EXPECT_EQ(refused->file().records_rejected(), 1);
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_REJECTED);
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 0);
  // Both copies are repeats now, each of its own refusal.
  EXPECT_EQ(Upload("CA", "", kRefusalOfOne)->file().file_id(),
            Record(ids[1]).file_id());
  EXPECT_EQ(Upload("CA", "", again)->file().file_id(), replacement_id);

  ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  SetNow(Utc(2026, 3, 5, 23, 0, 0));
  auto third = Generate(2026, 3, 5);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(third->files_size(), 1);
  EXPECT_EQ(third->files(0).seq(), 1);
  EXPECT_EQ(Record(ids[0]).times_sent(), 3);
  // Each date answers with its own file of seq 1.
  EXPECT_EQ(Generate(2026, 3, 4)->files(0).file_id(), replacement_id);
  EXPECT_EQ(Generate(2026, 3, 3)->files(0).file_id(), Record(ids[1]).file_id());
}

// A file S refused while S + 1 was already out: S's refusal cannot rewind
// (the sequence is at S + 1), but S + 1 is bound to be refused too (the
// partner still expects S, so SEQUENCE_GAP), and that refusal rewinds past
// S, which was refused and not sent again, to S - 1.
TEST_F(OutboundTest, ARefusalWhileALaterFileIsOutRewindsWithTheLaterOne) {
  const std::vector<std::string> ids = SendThree();
  SetNow(Utc(2026, 3, 4, 8, 0, 0));
  const std::string fourth = SubmitOne(Flight("CA", "7812345678904"));
  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto second = Generate(2026, 3, 4);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->files_size(), 1);
  ASSERT_EQ(second->files(0).seq(), 2);

  SetNow(Utc(2026, 3, 5, 3, 0, 0));
  ASSERT_TRUE(Upload("CA", "", kRefusalOfOne)->accepted());
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 2);
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_REJECTED);
  EXPECT_EQ(Record(fourth).status(), v1::OUTBOUND_SENT);

  auto gap = Upload("CA", "FM_CA_000002.ack.csv",
                    "H,FM,000002,2026-03-05T02:00:00Z,1\n"
                    "E,SEQUENCE_GAP,expected 000001\n"
                    "T,0,0,0,0\n");
  ASSERT_TRUE(gap.ok()) << gap.status();
  EXPECT_TRUE(gap->accepted()) << gap->refusal_message();
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 0);
  EXPECT_EQ(Record(fourth).reason(), "SEQUENCE_GAP");

  for (const std::string& id : {ids[0], ids[1], ids[2], fourth}) {
    v1::ResendOutboundRecordRequest resend;
    resend.set_record_id(id);
    resend.mutable_actor()->set_operator_id("ops-7");
    ASSERT_TRUE(outbound_->ResendOutboundRecord(resend).ok());
  }
  SetNow(Utc(2026, 3, 5, 23, 0, 0));
  auto next = Generate(2026, 3, 5);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  EXPECT_EQ(next->files(0).seq(), 1);
  EXPECT_EQ(next->files(0).record_count(), 4);
  EXPECT_EQ(partners_->Find("CA")->last_outbound_file_seq(), 1);
}

TEST_F(OutboundTest,
       ARejectedRecordIsCorrectedAndSentAgainButAcceptedOnesNever) {
  const std::vector<std::string> ids = SendThree();
  ASSERT_TRUE(Upload("CA", "", kAckOfThree)->accepted());
  const v1::OutboundRecord rejected = Record(ids[1]);

  v1::ResendOutboundRecordRequest resend;
  resend.set_record_id(ids[1]);
  resend.mutable_corrections()->set_partner_member_number("CA000999999");
  resend.mutable_corrections()->set_family_name("WANG-LI");
  resend.mutable_update_mask()->add_paths("partner_member_number");
  resend.mutable_update_mask()->add_paths("family_name");
  resend.set_expected_version(rejected.version());
  resend.mutable_actor()->set_operator_id("ops-7");

  v1::ResendOutboundRecordRequest stale = resend;
  stale.set_expected_version(rejected.version() - 1);
  EXPECT_TRUE(NamesField(outbound_->ResendOutboundRecord(stale).status(),
                         "expected_version"));
  v1::ResendOutboundRecordRequest fixed_field = resend;
  fixed_field.mutable_update_mask()->add_paths("ticket_number");
  fixed_field.mutable_actor()->clear_operator_id();
  absl::Status refused = outbound_->ResendOutboundRecord(fixed_field).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(refused, "update_mask")) << refused;
  EXPECT_TRUE(NamesField(refused, "actor.operator_id")) << refused;
  v1::ResendOutboundRecordRequest invalid = resend;
  invalid.mutable_corrections()->set_family_name("WANG\"LI");
  EXPECT_TRUE(NamesField(outbound_->ResendOutboundRecord(invalid).status(),
                         "corrections.family_name"));
  v1::ResendOutboundRecordRequest accepted = resend;
  accepted.set_record_id(ids[0]);
  accepted.set_expected_version(0);
  EXPECT_EQ(outbound_->ResendOutboundRecord(accepted).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto resent = outbound_->ResendOutboundRecord(resend);
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_EQ(resent->record().status(), v1::OUTBOUND_PENDING);
  EXPECT_EQ(resent->record().flight().family_name(), "WANG-LI");
  EXPECT_EQ(resent->record().reason(), "");
  EXPECT_EQ(resent->record().version(), rejected.version() + 1);
  // Asking again: the record as resent, unchanged.
  auto repeated = outbound_->ResendOutboundRecord(resend);
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_EQ(repeated->record().version(), rejected.version() + 1);
  // The feed replaying the original flight is still a replay.
  v1::SubmitOutboundFlightsResponse replay =
      Submit({Flight("CA", "7812345678902")});
  EXPECT_TRUE(replay.results(0).replayed());
  EXPECT_EQ(replay.results(0).record().flight().family_name(), "WANG-LI");

  SetNow(Utc(2026, 3, 4, 23, 0, 0));
  auto next = Generate(2026, 3, 4);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->files_size(), 1);
  EXPECT_EQ(next->files(0).seq(), 2);
  EXPECT_EQ(
      Outbox("CA", "FM_CA_000002.out.csv"),
      "H,FM,000002,2026-03-04T23:00:00Z,1\n"
      "D,1,CA000999999,WANG-LI,XIAOMING,2026-03-01,AIR,7812345678902/1,FM,"
      "9101,PEK,SHA,Y,\n"
      "T,1,0\n");
  const v1::OutboundRecord sent = Record(ids[1]);
  EXPECT_EQ(sent.times_sent(), 2);
  EXPECT_EQ(sent.file_seq(), 2);
  EXPECT_EQ(sent.record_number(), 1);
  EXPECT_EQ(outbound_->ResendOutboundRecord(resend).status().code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Upload("CA", "",
                     "H,FM,000002,2026-03-05T02:00:00Z,1\nR,1,ACCEPTED,,250\n"
                     "T,1,1,0,250\n")
                  ->accepted());
  EXPECT_EQ(Record(ids[1]).status(), v1::OUTBOUND_ACCEPTED);
  SetNow(Utc(2026, 3, 5, 23, 0, 0));
  auto after = Generate(2026, 3, 5);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->files_size(), 0);
  EXPECT_EQ(ledger_.calls().size(), 2u);
}

TEST_F(OutboundTest, AnUploadKeepsTheStreamsRules) {
  SendThree();
  using Request = v1::UploadOutboundAcknowledgementRequest;
  Request metadata;
  metadata.mutable_metadata()->set_partner_code("CA");
  Request chunk;
  chunk.set_chunk("H,FM");

  EXPECT_TRUE(NamesField(UploadMessages({}).status(), "metadata"));
  EXPECT_TRUE(
      NamesField(UploadMessages({chunk, metadata}).status(), "metadata"));
  EXPECT_TRUE(NamesField(UploadMessages({metadata, chunk, metadata}).status(),
                         "metadata"));
  Request big;
  big.set_chunk(std::string((1 << 20) + 1, 'R'));
  EXPECT_TRUE(NamesField(UploadMessages({metadata, big}).status(), "chunk"));
  EXPECT_TRUE(
      NamesField(Upload("CA", "FM_MU_000001.ack.csv", kAckOfThree).status(),
                 "metadata.file_name"));
  EXPECT_TRUE(
      NamesField(Upload("CA", "CA_000001.ack.csv", kAckOfThree).status(),
                 "metadata.file_name"));
  EXPECT_EQ(Upload("CA", "", kAckOfThree, 7, "MU").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Upload("ZZ", "", kAckOfThree).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Upload("HILTON", "", kAckOfThree).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A name whose SEQ differs from the H line's is a malformed acknowledgement.
  auto misnamed = Upload("CA", "FM_CA_000002.ack.csv", kAckOfThree);
  ASSERT_TRUE(misnamed.ok());
  EXPECT_EQ(misnamed->refusal_code(), v1::ACK_MALFORMED);
  EXPECT_TRUE(ledger_.calls().empty());

  auto as_itself = Upload("CA", "FM_CA_000001.ack.csv", kAckOfThree, 3, "CA");
  ASSERT_TRUE(as_itself.ok()) << as_itself.status();
  EXPECT_TRUE(as_itself->accepted());
}

TEST_F(OutboundTest, TheInboxPathRecordsOrRefusesAndFilesAwayEitherWay) {
  const std::vector<std::string> ids = SendThree();
  auto drop = [&](const std::string& name, const std::string& bytes) {
    const std::string path = absl::StrCat(folders_->InboxPath("CA"), "/", name);
    std::ofstream(path, std::ios::binary) << bytes;
    return InboxFile{"CA", name, path, bytes.size()};
  };
  const std::string processed = folders_->ProcessedPath("CA");

  InboxFile bad =
      drop("FM_CA_000001.ack.csv", "H,FM,000001,garbage,1\nT,0,0,0,0\n");
  auto refused = outbound_->ReceiveInboxAcknowledgement(bad);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->refusal_code(), v1::ACK_MALFORMED);
  EXPECT_FALSE(std::filesystem::exists(bad.path));
  EXPECT_TRUE(std::filesystem::exists(processed + "/FM_CA_000001.ack.csv"));
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_SENT);

  InboxFile misnamed = drop("acknowledgement.ack.csv", kAckOfThree);
  auto wrong_name = outbound_->ReceiveInboxAcknowledgement(misnamed);
  EXPECT_EQ(wrong_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(processed + "/acknowledgement.ack.csv"));
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_SENT);

  InboxFile good = drop("FM_CA_000001.ack.csv", kAckOfThree);
  auto recorded = outbound_->ReceiveInboxAcknowledgement(good);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(recorded->accepted());
  EXPECT_FALSE(std::filesystem::exists(good.path));
  EXPECT_EQ(ReadAll(processed + "/FM_CA_000001.ack.1.csv"), kAckOfThree);
  EXPECT_EQ(Record(ids[0]).status(), v1::OUTBOUND_ACCEPTED);
  EXPECT_EQ(Record(ids[1]).status(), v1::OUTBOUND_REJECTED);
  EXPECT_EQ(ledger_.calls().size(), 1u);

  // Handed again after a crash before the move: a repeat, filed away.
  InboxFile again = drop("FM_CA_000001.ack.csv", kAckOfThree);
  auto repeat = outbound_->ReceiveInboxAcknowledgement(again);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->accepted());
  EXPECT_FALSE(std::filesystem::exists(again.path));
  EXPECT_EQ(ledger_.calls().size(), 1u);
}

// ---------------------------------------------------------------------------
// Listing

TEST_F(OutboundTest, ListPagesOldestFirstWithFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(SubmitOne(
        Flight(i == 2 ? "MU" : "CA", absl::StrFormat("781234567890%d", i))));
    Advance(absl::Seconds(i == 3 ? 0 : 10));  // Two share a created time.
  }
  v1::ListOutboundRecordsRequest request;
  request.mutable_page()->set_page_size(2);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = outbound_->ListOutboundRecords(request);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& record : page->records())
      seen.push_back(record.record_id());
    request.mutable_page()->set_page_token(page->page().next_page_token());
    ++pages;
  } while (!request.page().page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected = ids;
  if (expected[3] > expected[4]) std::swap(expected[3], expected[4]);
  EXPECT_EQ(seen, expected);

  v1::ListOutboundRecordsRequest ca;
  ca.set_partner_code("CA");
  ca.mutable_page()->set_page_size(3);
  auto first = outbound_->ListOutboundRecords(ca);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->records_size(), 3);
  EXPECT_EQ(first->records(2).record_id(), expected[3]);
  ca.mutable_page()->set_page_token(first->page().next_page_token());
  auto rest = outbound_->ListOutboundRecords(ca);
  ASSERT_EQ(rest->records_size(), 1);
  EXPECT_EQ(rest->records(0).record_id(), expected[4]);
  EXPECT_TRUE(rest->page().next_page_token().empty());

  ASSERT_TRUE(Generate(2026, 3, 3).ok());
  SetNow(Utc(2026, 3, 4, 12, 0, 0));
  const std::string pending = SubmitOne(Flight("CA", "7812345678999"));
  v1::ListOutboundRecordsRequest waiting;
  waiting.add_statuses(v1::OUTBOUND_PENDING);
  auto listed = outbound_->ListOutboundRecords(waiting);
  ASSERT_EQ(listed->records_size(), 1);
  EXPECT_EQ(listed->records(0).record_id(), pending);

  v1::ListOutboundRecordsRequest bad;
  bad.mutable_page()->set_page_size(1001);
  bad.add_statuses(v1::OUTBOUND_RECORD_STATUS_UNSPECIFIED);
  bad.mutable_page()->set_page_token("nonsense");
  absl::Status status = outbound_->ListOutboundRecords(bad).status();
  EXPECT_TRUE(NamesField(status, "page.page_size")) << status;
  EXPECT_TRUE(NamesField(status, "statuses[0]")) << status;
  EXPECT_TRUE(NamesField(status, "page.page_token")) << status;
  v1::ListOutboundRecordsRequest unknown;
  unknown.set_partner_code("ZZ");
  EXPECT_EQ(outbound_->ListOutboundRecords(unknown).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mileagebank::settlement
