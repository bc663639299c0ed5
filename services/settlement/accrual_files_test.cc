#include "services/settlement/accrual_files.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/store/keys.h"
#include "libs/testing/testing.h"
#include "libs/validation/member_number.h"

namespace mileagebank::settlement {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;
namespace fs = std::filesystem;
using ::mileagebank::testing::NamesField;

const std::string kLi = validation::MemberNumberFromSerial(100000001);
const std::string kWang = validation::MemberNumberFromSerial(100000002);
// Merged into Li.
const std::string kMerged = validation::MemberNumberFromSerial(100000004);
const std::string kZhao = validation::MemberNumberFromSerial(100000006);
const std::string kZhou = validation::MemberNumberFromSerial(100000007);
const std::string kNobody = validation::MemberNumberFromSerial(100000009);

absl::Time At(const char* timestamp) { return *ParseTimestamp(timestamp); }

// Membership as far as files need it: members, one merge, and an outage.
class FakeMembership : public MembershipGateway {
 public:
  FakeMembership() {
    Set(kLi, "Li", mv1::ACTIVE);
    Set(kWang, "Wang", mv1::SUSPENDED);
    Set(kZhao, "Zhao", mv1::ACTIVE);
    Set(kZhou, "Zhou", mv1::ACTIVE);
  }
  absl::StatusOr<std::vector<absl::optional<MemberFacts>>> FindMembers(
      absl::Span<const std::string> numbers) override {
    absl::MutexLock lock(&mutex_);
    if (down_) return absl::UnavailableError("membership is down");
    std::vector<absl::optional<MemberFacts>> found;
    for (const std::string& number : numbers) {
      auto member = members_.find(number == kMerged ? kLi : number);
      found.push_back(member == members_.end()
                          ? absl::optional<MemberFacts>()
                          : absl::optional<MemberFacts>(member->second));
    }
    return found;
  }
  void Set(const std::string& number, const std::string& family,
           mv1::MemberStatus status) {
    absl::MutexLock lock(&mutex_);
    members_[number] = MemberFacts{number, family, status};
  }
  void SetDown(bool down) {
    absl::MutexLock lock(&mutex_);
    down_ = down;
  }

 private:
  absl::Mutex mutex_;
  std::map<std::string, MemberFacts> members_;
  bool down_ = false;
};

// Accrual as files see it: one credit per partner reference or ticket and
// coupon; the same request again (PartnerSource included) replays it, other
// content is ALREADY_EXISTS. A flight earns 1,000 + its flight number, 0 in
// G, X and Z.
class FakeAccrual : public AccrualGateway {
 public:
  struct Credit {
    std::string fingerprint;
    av1::Transaction transaction;
  };

  absl::StatusOr<av1::PostActivitiesResponse> PostActivities(
      const av1::PostActivitiesRequest& request) override {
    absl::MutexLock lock(&mutex_);
    ++calls_;
    const bool failing =
        (fail_from_call_ > 0 && calls_ >= fail_from_call_) ||
        (fail_from_record_ > 0 && request.order_number() >= fail_from_record_);
    if (failing && !credit_before_failing_) {
      return absl::UnavailableError("accrual is down");
    }
    av1::PostActivitiesResponse response;
    for (int i = 0; i < request.activities_size(); ++i) {
      *response.add_results() = Post(request.activities(i), i);
    }
    // Credited, but the answer is lost on the way.
    if (failing) return absl::UnavailableError("connection reset");
    return response;
  }

  // A credit made by another path or file.
  void Seed(const std::string& key) {
    absl::MutexLock lock(&mutex_);
    credits_[key].fingerprint = "another request";
  }
  // The answer for the activity with this reference (ticket/coupon for
  // flights).
  void Force(const std::string& ref, absl::StatusCode code,
             const std::string& field) {
    common::v1::Status error;
    error.set_code(static_cast<int>(code));
    error.set_message(absl::StrCat(field, ": forced"));
    common::v1::ErrorDetails details;
    details.add_field_violations()->set_field(field);
    error.add_details()->PackFrom(details);
    absl::MutexLock lock(&mutex_);
    forced_[ref] = error;
  }
  void ClearForced() {
    absl::MutexLock lock(&mutex_);
    forced_.clear();
  }
  // 0: no more failures.
  void FailFromCall(int call, bool credit_before_failing) {
    absl::MutexLock lock(&mutex_);
    fail_from_call_ = call;
    fail_from_record_ = 0;
    credit_before_failing_ = credit_before_failing;
  }
  // Fails the batches of a file from the one starting at `record` on,
  // whatever order the batches in flight arrive in.
  void FailFromRecord(int64_t record, bool credit_before_failing) {
    absl::MutexLock lock(&mutex_);
    fail_from_call_ = 0;
    fail_from_record_ = record;
    credit_before_failing_ = credit_before_failing;
  }
  int calls() {
    absl::MutexLock lock(&mutex_);
    return calls_;
  }
  int replays() {
    absl::MutexLock lock(&mutex_);
    return replays_;
  }
  // Credits made from records of `file_id`: count and miles.
  std::pair<int64_t, int64_t> CreditsOf(const std::string& file_id) {
    absl::MutexLock lock(&mutex_);
    std::pair<int64_t, int64_t> total{0, 0};
    for (const auto& [key, credit] : credits_) {
      if (credit.transaction.partner_source().file_id() == file_id) {
        ++total.first;
        total.second += credit.transaction.miles();
      }
    }
    return total;
  }
  absl::optional<av1::Transaction> Find(const std::string& key) {
    absl::MutexLock lock(&mutex_);
    auto found = credits_.find(key);
    if (found == credits_.end()) return absl::nullopt;
    return found->second.transaction;
  }

 private:
  av1::ActivityResult Post(const av1::Activity& activity, int index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    av1::ActivityResult result;
    result.set_index(index);
    av1::Activity content = activity;
    if (content.has_partner_flight()) {
      content.mutable_partner_flight()->clear_actor();
    } else {
      content.mutable_partner_activity()->clear_actor();
    }
    std::string key, ref;
    av1::Transaction transaction;
    if (activity.has_partner_flight()) {
      const av1::PostPartnerFlightRequest& flight = activity.partner_flight();
      ref = absl::StrCat(flight.flight_identity().ticket_number(), "/",
                         flight.flight_identity().coupon_number());
      key = "flight:" + ref;
      transaction.set_member_number(flight.member_number());
      const std::string& booking = flight.flight().booking_class();
      transaction.set_miles(booking == "G" || booking == "X" || booking == "Z"
                                ? 0
                                : 1000 + flight.flight().flight_number());
      *transaction.mutable_partner_source() = flight.source();
    } else {
      const av1::PostPartnerActivityRequest& stay = activity.partner_activity();
      ref = stay.partner_reference();
      key = absl::StrCat("ref:", stay.partner_code(), "/", ref);
      transaction.set_member_number(stay.member_number());
      transaction.set_miles(stay.miles());
      *transaction.mutable_partner_source() = stay.source();
    }
    auto forced = forced_.find(ref);
    if (forced != forced_.end()) {
      *result.mutable_error() = forced->second;
      return result;
    }
    const std::string fingerprint = content.SerializeAsString();
    auto earlier = credits_.find(key);
    if (earlier != credits_.end()) {
      if (earlier->second.fingerprint != fingerprint) {
        result.mutable_error()->set_code(
            static_cast<int>(absl::StatusCode::kAlreadyExists));
        result.mutable_error()->set_message(
            absl::StrCat(key, " was already used with different content"));
        return result;
      }
      ++replays_;
      *result.mutable_transaction() = earlier->second.transaction;
      result.set_replayed(true);
      return result;
    }
    transaction.set_transaction_id(absl::StrCat("T", credits_.size() + 1));
    credits_[key] = Credit{fingerprint, transaction};
    *result.mutable_transaction() = transaction;
    return result;
  }

  absl::Mutex mutex_;
  std::map<std::string, Credit> credits_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, common::v1::Status> forced_ ABSL_GUARDED_BY(mutex_);
  int calls_ ABSL_GUARDED_BY(mutex_) = 0;
  int replays_ ABSL_GUARDED_BY(mutex_) = 0;
  int fail_from_call_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t fail_from_record_ ABSL_GUARDED_BY(mutex_) = 0;
  bool credit_before_failing_ ABSL_GUARDED_BY(mutex_) = false;
};

// An accrual file: H, the D lines, and a trailer that adds them up.
std::string AccrualFileText(const std::string& partner, int seq,
                            const std::vector<std::string>& records,
                            const char* created = "2026-05-10T08:00:00Z") {
  std::string text = absl::StrCat("H,", partner, ",", seq, ",", created, ",1\n");
  int64_t miles = 0;
  for (const std::string& record : records) {
    absl::StrAppend(&text, record, "\n");
    std::vector<std::string> fields = absl::StrSplit(record, ',');
    int64_t value = 0;
    if (fields.size() == 14 && fields[6] != "AIR" &&
        absl::SimpleAtoi(fields[13], &value)) {
      miles += value;
    }
  }
  absl::StrAppend(&text, "T,", records.size(), ",", miles, "\n");
  return text;
}

std::string Stay(int number, const std::string& member,
                 const std::string& family, const char* date,
                 const std::string& ref, int miles, const char* type = "OTHER") {
  return absl::StrCat("D,", number, ",", member, ",", family, ",Wei,", date, ",",
                      type, ",", ref, ",,,,,,", miles);
}

std::string Flight(int number, const std::string& member,
                   const std::string& family, const std::string& ticket,
                   int flight, const char* booking_class) {
  return absl::StrCat("D,", number, ",", member, ",", family,
                      ",Wei,2026-05-01,AIR,", ticket, ",CA,", flight,
                      ",PEK,SHA,", booking_class, ",");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A store, the partners CA (an airline) and HILTON (a hotel chain), drop
// folders and the pipeline, with a fixed clock.
class Installation {
 public:
  explicit Installation(const std::string& dir, AccrualFilesOptions options = {})
      : dir_(dir), options_(std::move(options)) {
    std::vector<std::string> tables = AccrualFiles::Tables();
    tables.push_back(kPartnersTable);
    tables.push_back(kOutboxTable);
    store_ = *store::Store::Open({.path = dir + "/store", .tables = tables});
    partners_ = std::make_unique<Partners>(store_.get(), "FM", clock_);
    folders_ = std::make_unique<DropFolders>(store_.get(), dir + "/partners",
                                             clock_);
    Register("CA", v1::AIRLINE);
    Register("HILTON", v1::HOTEL);
    options_.work_dir = dir + "/work";
    Restart();
  }

  // A new AccrualFiles over the same store and work folder, as after a
  // crash of the process (with other options when given).
  void Restart(absl::optional<AccrualFilesOptions> options = absl::nullopt) {
    if (options.has_value()) {
      options->work_dir = options_.work_dir;
      options_ = *options;
    }
    files_.reset();
    files_ = std::make_unique<AccrualFiles>(
        store_.get(), partners_.get(), folders_.get(), &membership_, &accrual_,
        &airports::AirportTable::Builtin(), options_, &registry_, clock_);
  }

  absl::StatusOr<v1::AccrualFile> Upload(const std::string& partner,
                                         const std::string& file_name,
                                         const std::string& bytes,
                                         const std::string& authenticated = "") {
    std::vector<v1::UploadAccrualFileRequest> messages(1);
    messages[0].mutable_metadata()->set_partner_code(partner);
    messages[0].mutable_metadata()->set_file_name(file_name);
    for (size_t at = 0; at < bytes.size(); at += 700) {
      messages.emplace_back().set_chunk(bytes.substr(at, 700));
    }
    absl::StatusOr<v1::UploadAccrualFileResponse> response =
        UploadMessages(messages, authenticated);
    if (!response.ok()) return response.status();
    return response->file();
  }

  absl::StatusOr<v1::UploadAccrualFileResponse> UploadMessages(
      const std::vector<v1::UploadAccrualFileRequest>& messages,
      const std::string& authenticated = "",
      std::function<bool()> cancelled = nullptr) {
    size_t next = 0;
    return files_->UploadAccrualFile(
        [&](v1::UploadAccrualFileRequest* message) {
          if (next == messages.size()) return false;
          *message = messages[next++];
          return true;
        },
        authenticated, cancelled);
  }

  v1::AccrualFile Get(const std::string& file_id) {
    v1::GetAccrualFileRequest request;
    request.set_file_id(file_id);
    absl::StatusOr<v1::GetAccrualFileResponse> response =
        files_->GetAccrualFile(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->file() : v1::AccrualFile();
  }

  std::string Outbox(const std::string& partner, const std::string& name) {
    return ReadAll(folders_->OutboxFilePath(partner, name));
  }

  int64_t LastAcceptedSeq(const std::string& partner) {
    return partners_->Find(partner)->last_accepted_file_seq();
  }

  template <typename Event>
  std::vector<Event> Events() {
    std::vector<Event> events;
    absl::StatusOr<std::vector<common::v1::Event>> all =
        store_->ReadEvents(0, 100'000);
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return events;
    for (const common::v1::Event& event : *all) {
      Event payload;
      if (event.payload().UnpackTo(&payload)) events.push_back(payload);
    }
    return events;
  }

  void Suspend(const std::string& partner) {
    v1::ChangePartnerStatusRequest request;
    request.set_partner_code(partner);
    request.set_status(v1::SUSPENDED);
    request.set_reason("TEST");
    request.mutable_actor()->set_operator_id("staff");
    ASSERT_TRUE(partners_->ChangePartnerStatus(request).ok());
  }

  AccrualFiles& files() { return *files_; }
  FakeMembership& membership() { return membership_; }
  FakeAccrual& accrual() { return accrual_; }
  DropFolders& folders() { return *folders_; }
  store::Store& store() { return *store_; }
  const std::string& work_dir() const { return options_.work_dir; }

 private:
  void Register(const std::string& code, v1::PartnerType type) {
    v1::RegisterPartnerRequest request;
    v1::Partner* partner = request.mutable_partner();
    partner->set_partner_code(code);
    partner->set_name(code);
    partner->set_type(type);
    partner->set_currency_code("CNY");
    partner->mutable_contract()->mutable_mile_sale_price()->set_currency_code("CNY");
    partner->mutable_contract()->mutable_mile_sale_price()->set_minor_units(1500);
    request.mutable_actor()->set_operator_id("staff");
    absl::StatusOr<v1::RegisterPartnerResponse> registered =
        partners_->RegisterPartner(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }

  const std::string dir_;
  AccrualFilesOptions options_;
  const AccrualFiles::Clock clock_ = [] { return At("2026-05-10T12:00:00Z"); };
  prometheus::Registry registry_;
  FakeMembership membership_;
  FakeAccrual accrual_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Partners> partners_;
  std::unique_ptr<DropFolders> folders_;
  std::unique_ptr<AccrualFiles> files_;
};

class AccrualFilesTest : public ::testing::Test {
 protected:
  void Install(AccrualFilesOptions options = {}) {
    site_.reset();
    site_ = std::make_unique<Installation>(mileagebank::testing::FreshTestDir(),
                                           std::move(options));
  }
  void SetUp() override { Install(); }

  // Uploads and processes a file; returns it as it ends.
  v1::AccrualFile Process(const std::string& partner, const std::string& name,
                          const std::string& bytes) {
    absl::StatusOr<v1::AccrualFile> received = site_->Upload(partner, name, bytes);
    EXPECT_TRUE(received.ok()) << received.status();
    if (!received.ok()) return v1::AccrualFile();
    EXPECT_EQ(received->status(), v1::RECEIVED);
    absl::Status processed = site_->files().ProcessPending();
    EXPECT_TRUE(processed.ok()) << processed;
    return site_->Get(received->file_id());
  }

  std::unique_ptr<Installation> site_;
};

TEST_F(AccrualFilesTest, AcceptsAMixedFileAndAcknowledgesEveryRecord) {
  Install({.credit_batch_size = 5});
  site_->accrual().Seed("ref:CA/SEEDED-1");
  site_->accrual().Force("7812345678901/3", absl::StatusCode::kInvalidArgument,
                         "activities[2].partner_flight.flight.origin");
  site_->accrual().Force("ZHAO-1", absl::StatusCode::kFailedPrecondition,
                         "activities[1].partner_activity.member_number");
  const std::string text = AccrualFileText(
      "CA", 1,
      {Flight(1, kLi, "Li", "7812345678901/1", 981, "Y"),
       Stay(2, kLi, "Li", "2026-05-02", "BONUS-1", 500),
       Flight(3, kNobody, "Li", "7812345678901/4", 983, "Y"),
       Stay(4, kLi, "Wrong", "2026-05-02", "BONUS-2", 100),
       Stay(5, kWang, "Wang", "2026-05-02", "BONUS-3", 100),
       Stay(6, kLi, "Li", "2026-05-11", "BONUS-4", 100),
       Stay(7, kLi, "Li", "2025-11-09", "BONUS-5", 100),
       Flight(8, kLi, "Li", "7812345678902/1", 984, "E"),
       Stay(9, kLi, "Li", "2026-05-02", "SEEDED-1", 100),
       Stay(10, kLi, "Li", "2026-05-03", "BONUS-1", 600),
       Flight(11, kMerged, "l-i", "7812345678901/2", 982, "G"),
       Stay(12, kZhao, "Zhao", "2026-05-02", "ZHAO-1", 100),
       Flight(13, kLi, "Li", "7812345678901/3", 985, "Y"),
       "D,14," + kLi + ",Li,Wei,2026-05-02,OTHER,BONUS-6,,,,,"});
  const v1::AccrualFile file = Process("CA", "CA_000001.acc.csv", text);

  EXPECT_EQ(file.status(), v1::ACCEPTED);
  EXPECT_EQ(file.header_seq(), 1);
  EXPECT_EQ(file.records_total(), 14);
  EXPECT_EQ(file.records_judged(), 14);
  EXPECT_EQ(file.records_accepted(), 3);
  EXPECT_EQ(file.records_rejected(), 11);
  EXPECT_EQ(file.miles_credited(), 2481);
  EXPECT_EQ(file.acknowledgement_file_name(), "CA_000001.ack.csv");
  EXPECT_EQ(site_->Outbox("CA", "CA_000001.ack.csv"),
            "H,CA,000001,2026-05-10T12:00:00Z,1\n"
            "R,1,ACCEPTED,,1981\n"
            "R,2,ACCEPTED,,500\n"
            "R,3,REJECTED,MEMBER_NOT_FOUND,0\n"
            "R,4,REJECTED,NAME_MISMATCH,0\n"
            "R,5,REJECTED,MEMBER_INACTIVE,0\n"
            "R,6,REJECTED,FUTURE_DATE,0\n"
            "R,7,REJECTED,TOO_OLD,0\n"
            "R,8,REJECTED,INVALID_FIELD:class,0\n"
            "R,9,REJECTED,DUPLICATE_ACTIVITY,0\n"
            "R,10,REJECTED,DUPLICATE_ACTIVITY,0\n"
            "R,11,ACCEPTED,,0\n"
            "R,12,REJECTED,MEMBER_INACTIVE,0\n"
            "R,13,REJECTED,INVALID_FIELD:from,0\n"
            "R,14,REJECTED,INVALID_FIELD:record,0\n"
            "T,14,3,11,2481\n");
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 1);

  // Credited with where they came from, the merged member as written.
  absl::optional<av1::Transaction> flight =
      site_->accrual().Find("flight:7812345678901/2");
  ASSERT_TRUE(flight.has_value());
  EXPECT_EQ(flight->member_number(), kMerged);
  EXPECT_EQ(flight->partner_source().file_id(), file.file_id());
  EXPECT_EQ(flight->partner_source().record_number(), 11);
  EXPECT_EQ(site_->accrual().CreditsOf(file.file_id()),
            (std::pair<int64_t, int64_t>{3, 2481}));

  std::vector<v1::AccrualRecordsJudged> judged =
      site_->Events<v1::AccrualRecordsJudged>();
  ASSERT_EQ(judged.size(), 3u);
  EXPECT_EQ(judged[2].first_record_number(), 11);
  EXPECT_EQ(judged[2].last_record_number(), 14);
  EXPECT_EQ(judged[2].accepted(), 1);
  EXPECT_EQ(judged[2].rejected(), 3);
  ASSERT_EQ(judged[2].rejected_by_reason_size(), 2);
  EXPECT_EQ(judged[2].rejected_by_reason(0).reason_code(), v1::INVALID_FIELD);
  EXPECT_EQ(judged[2].rejected_by_reason(0).count(), 2);
  std::vector<v1::AccrualFileAccepted> accepted =
      site_->Events<v1::AccrualFileAccepted>();
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].file().records_accepted(), 3);
  // The work copies are gone.
  EXPECT_TRUE(fs::is_empty(site_->work_dir()));
}

TEST_F(AccrualFilesTest, AFileWithoutRecordsIsAccepted) {
  const v1::AccrualFile file =
      Process("HILTON", "HILTON_000001.acc.csv", AccrualFileText("HILTON", 1, {}));
  EXPECT_EQ(file.status(), v1::ACCEPTED);
  EXPECT_EQ(site_->Outbox("HILTON", "HILTON_000001.ack.csv"),
            "H,HILTON,000001,2026-05-10T12:00:00Z,1\nT,0,0,0,0\n");
  EXPECT_EQ(site_->accrual().calls(), 0);
}

TEST_F(AccrualFilesTest, WholeFileRefusalsAreAcknowledgedAndUseNoSequence) {
  struct Case {
    std::string partner;
    std::string name;
    std::string text;
    v1::FileRefusalCode code;
    std::string ack_name;
  };
  const std::string record = Stay(1, kLi, "Li", "2026-05-02", "R-1", 100);
  const std::string good = AccrualFileText("CA", 1, {record});
  std::vector<Case> cases = {
      {"CA", "CA_000001.acc.csv",
       "H,CA,1,2026-05-10T08:00:00Z,2\n" + record + "\nT,1,100\n",
       v1::UNSUPPORTED_VERSION, "CA_000001.ack.csv"},
      {"CA", "CA_000001.acc.csv", AccrualFileText("HILTON", 1, {record}),
       v1::BAD_HEADER, "CA_000001.ack.csv"},
      {"CA", "", "", v1::BAD_HEADER, "CA_000000.ack.csv"},
      {"CA", "CA_000001.acc.csv", good.substr(0, good.rfind("T,")),
       v1::BAD_TRAILER, "CA_000001.ack.csv"},
      {"CA", "CA_000001.acc.csv",
       AccrualFileText("CA", 1, {record}).substr(0, good.rfind("T,")) +
           "T,2,100\n",
       v1::TOTALS_MISMATCH, "CA_000001.ack.csv"},
      {"CA", "CA_000001.acc.csv",
       AccrualFileText("CA", 1,
                       {record, Stay(3, kLi, "Li", "2026-05-02", "R-2", 1)}),
       v1::BAD_RECORD_ORDER, "CA_000001.ack.csv"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(v1::FileRefusalCode_Name(c.code));
    const v1::AccrualFile file = Process(c.partner, c.name, c.text);
    EXPECT_EQ(file.status(), v1::REFUSED);
    EXPECT_EQ(file.refusal_code(), c.code);
    EXPECT_FALSE(file.refusal_message().empty());
    EXPECT_EQ(file.acknowledgement_file_name(), c.ack_name);
    const std::string ack = site_->Outbox(c.partner, c.ack_name);
    EXPECT_TRUE(absl::StrContains(
        ack, absl::StrCat("\nE,", v1::FileRefusalCode_Name(c.code), ",")))
        << ack;
    EXPECT_TRUE(absl::EndsWith(ack, "\nT,0,0,0,0\n")) << ack;

    v1::GetAcknowledgementRequest request;
    request.set_file_id(file.file_id());
    absl::StatusOr<v1::GetAcknowledgementResponse> parsed =
        site_->files().GetAcknowledgement(request);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->refusal_code(), c.code);
    EXPECT_EQ(parsed->refusal_message(), file.refusal_message());
    EXPECT_EQ(parsed->records_size(), 0);
  }
  EXPECT_EQ(site_->Events<v1::AccrualFileRefused>().size(), cases.size());
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 0);
  EXPECT_EQ(site_->accrual().calls(), 0);

  // The corrected file under the same seq is accepted, and a suspended
  // partner's file is refused.
  EXPECT_EQ(Process("CA", "CA_000001.acc.csv", good).status(), v1::ACCEPTED);
  site_->Suspend("HILTON");
  const v1::AccrualFile inactive = Process(
      "HILTON", "HILTON_000001.acc.csv", AccrualFileText("HILTON", 1, {}));
  EXPECT_EQ(inactive.refusal_code(), v1::PARTNER_INACTIVE);
}

TEST_F(AccrualFilesTest, AStreamOverTheLimitIsCutAndRefusedTooLarge) {
  Install({.max_file_bytes = 2048});
  std::vector<std::string> records;
  for (int i = 1; i <= 40; ++i) {
    records.push_back(Stay(i, kLi, "Li", "2026-05-02", absl::StrCat("R-", i), 10));
  }
  const std::string text = AccrualFileText("CA", 1, records);
  ASSERT_GT(text.size(), 2048u);
  v1::AccrualFile file = Process("CA", "CA_000001.acc.csv", text);
  EXPECT_EQ(file.size_bytes(), 2048);
  EXPECT_EQ(file.refusal_code(), v1::TOO_LARGE);

  // An earlier check still has its say.
  std::string version_two = text;
  version_two.replace(version_two.find(",1\n"), 3, ",2\n");
  file = Process("CA", "CA_000001.acc.csv", version_two);
  EXPECT_EQ(file.refusal_code(), v1::UNSUPPORTED_VERSION);
}

TEST_F(AccrualFilesTest, AnIdenticalResendGetsTheEarlierAcknowledgement) {
  const std::string text = AccrualFileText(
      "CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-1", 100),
                Stay(2, kLi, "Li", "2026-05-02", "R-2", 200)});
  const v1::AccrualFile first = Process("CA", "CA_000001.acc.csv", text);
  ASSERT_EQ(first.status(), v1::ACCEPTED);
  const std::string ack = site_->Outbox("CA", "CA_000001.ack.csv");
  const auto written = fs::last_write_time(
      site_->folders().OutboxFilePath("CA", "CA_000001.ack.csv"));
  const int calls = site_->accrual().calls();

  const v1::AccrualFile again = Process("CA", "CA_000001.acc.csv", text);
  EXPECT_EQ(again.status(), v1::ACCEPTED);
  EXPECT_EQ(again.identical_to_file_id(), first.file_id());
  EXPECT_EQ(again.acknowledgement_file_name(), "CA_000001.ack.csv");
  EXPECT_EQ(again.records_accepted(), 0);
  EXPECT_EQ(site_->accrual().calls(), calls);
  EXPECT_EQ(site_->Outbox("CA", "CA_000001.ack.csv"), ack);
  EXPECT_EQ(fs::last_write_time(
                site_->folders().OutboxFilePath("CA", "CA_000001.ack.csv")),
            written);
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 1);

  v1::GetAcknowledgementRequest request;
  request.set_file_id(again.file_id());
  absl::StatusOr<v1::GetAcknowledgementResponse> parsed =
      site_->files().GetAcknowledgement(request);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->records_size(), 2);
  EXPECT_EQ(parsed->total_miles_credited(), 300);
}

TEST_F(AccrualFilesTest, AnotherFileUnderAnAcceptedSeqIsADuplicate) {
  const v1::AccrualFile first = Process(
      "CA", "CA_000001.acc.csv",
      AccrualFileText("CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-1", 100)}));
  ASSERT_EQ(first.status(), v1::ACCEPTED);
  const std::string ack = site_->Outbox("CA", "CA_000001.ack.csv");

  const v1::AccrualFile other = Process(
      "CA", "CA_000001.acc.csv",
      AccrualFileText("CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-9", 900)}));
  EXPECT_EQ(other.status(), v1::REFUSED);
  EXPECT_EQ(other.refusal_code(), v1::DUPLICATE_FILE);
  EXPECT_EQ(other.acknowledgement_file_name(), "CA_000001.dup.ack.csv");
  EXPECT_TRUE(absl::StartsWith(site_->Outbox("CA", "CA_000001.dup.ack.csv"),
                               "H,CA,000001,2026-05-10T12:00:00Z,1\n"
                               "E,DUPLICATE_FILE,"));
  EXPECT_EQ(site_->Outbox("CA", "CA_000001.ack.csv"), ack);
  EXPECT_FALSE(site_->accrual().Find("ref:CA/R-9").has_value());
}

TEST_F(AccrualFilesTest, ASeqTooFarAheadIsASequenceGap) {
  const v1::AccrualFile gap =
      Process("CA", "CA_000002.acc.csv", AccrualFileText("CA", 2, {}));
  EXPECT_EQ(gap.refusal_code(), v1::SEQUENCE_GAP);
  EXPECT_EQ(gap.acknowledgement_file_name(), "CA_000002.ack.csv");
  EXPECT_EQ(gap.header_seq(), 2);
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 0);
  EXPECT_EQ(Process("CA", "CA_000001.acc.csv", AccrualFileText("CA", 1, {})).status(),
            v1::ACCEPTED);
  // Seq 2 is next now; its acknowledgement replaces the refusal's.
  EXPECT_EQ(Process("CA", "CA_000002.acc.csv", AccrualFileText("CA", 2, {})).status(),
            v1::ACCEPTED);
  EXPECT_EQ(site_->Outbox("CA", "CA_000002.ack.csv"),
            "H,CA,000002,2026-05-10T12:00:00Z,1\nT,0,0,0,0\n");
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 2);
}

TEST_F(AccrualFilesTest, AccrualAnswersAreMappedAndOutagesWait) {
  site_->accrual().Force("R-2", absl::StatusCode::kNotFound,
                         "activities[1].partner_activity.partner_code");
  const std::string text = AccrualFileText(
      "CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-1", 100),
                Stay(2, kLi, "Li", "2026-05-02", "R-2", 200)});
  absl::StatusOr<v1::AccrualFile> received =
      site_->Upload("CA", "CA_000001.acc.csv", text);
  ASSERT_TRUE(received.ok());
  // The partner is not yet known to accrual: nothing is judged.
  EXPECT_EQ(site_->files().ProcessPending().code(), absl::StatusCode::kNotFound);
  v1::AccrualFile file = site_->Get(received->file_id());
  EXPECT_EQ(file.status(), v1::PROCESSING);
  EXPECT_EQ(file.records_judged(), 0);

  v1::GetAcknowledgementRequest request;
  request.set_file_id(file.file_id());
  EXPECT_EQ(site_->files().GetAcknowledgement(request).status().code(),
            absl::StatusCode::kFailedPrecondition);

  site_->accrual().ClearForced();
  site_->accrual().FailFromCall(site_->accrual().calls() + 1, false);
  EXPECT_EQ(site_->files().ProcessPending().code(),
            absl::StatusCode::kUnavailable);
  site_->accrual().FailFromCall(0, false);
  // The verdicts were stored with the batch: membership is not asked again.
  site_->membership().SetDown(true);
  site_->accrual().Force("R-2", absl::StatusCode::kNotFound, "member_number");
  ASSERT_TRUE(site_->files().ProcessPending().ok());
  file = site_->Get(received->file_id());
  EXPECT_EQ(file.status(), v1::ACCEPTED);
  EXPECT_EQ(site_->Outbox("CA", "CA_000001.ack.csv"),
            "H,CA,000001,2026-05-10T12:00:00Z,1\n"
            "R,1,ACCEPTED,,100\n"
            "R,2,REJECTED,MEMBER_NOT_FOUND,0\n"
            "T,2,1,1,100\n");
}

TEST_F(AccrualFilesTest, MembershipOutageLeavesTheFileToGoOnLater) {
  const std::string text = AccrualFileText(
      "CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-1", 100)});
  absl::StatusOr<v1::AccrualFile> received =
      site_->Upload("CA", "CA_000001.acc.csv", text);
  ASSERT_TRUE(received.ok());
  site_->membership().SetDown(true);
  EXPECT_EQ(site_->files().ProcessPending().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(site_->Get(received->file_id()).status(), v1::PROCESSING);
  EXPECT_EQ(site_->accrual().calls(), 0);
  site_->membership().SetDown(false);
  ASSERT_TRUE(site_->files().ProcessPending().ok());
  EXPECT_EQ(site_->Get(received->file_id()).records_accepted(), 1);
}

// Records 101-150 (the third batch) are for Zhou; all others for Li.
std::string InterruptedFileText() {
  std::vector<std::string> records;
  for (int i = 1; i <= 250; ++i) {
    const bool zhou = i > 100 && i <= 150;
    if (i % 5 == 0) {
      records.push_back(Flight(i, zhou ? kZhou : kLi, zhou ? "Zhou" : "Li",
                               absl::StrCat("78100000", 10000 + i, "/1"), i,
                               "Y"));
    } else {
      records.push_back(Stay(i, zhou ? kZhou : kLi, zhou ? "Zhou" : "Li",
                             "2026-05-02", absl::StrCat("REF-", i % 240), i));
    }
  }
  return AccrualFileText("CA", 1, records);
}

TEST_F(AccrualFilesTest, AnInterruptedFileEndsAsIfUninterrupted) {
  const std::string text = InterruptedFileText();
  const AccrualFilesOptions options{.credit_batch_size = 50};

  Installation reference(mileagebank::testing::FreshTestDir("-reference"),
                         options);
  ASSERT_TRUE(reference.Upload("CA", "CA_000001.acc.csv", text).ok());
  ASSERT_TRUE(reference.files().ProcessPending().ok());
  const std::string expected = reference.Outbox("CA", "CA_000001.ack.csv");
  ASSERT_TRUE(absl::StrContains(expected, "DUPLICATE_ACTIVITY"));

  Install(options);
  absl::StatusOr<v1::AccrualFile> received =
      site_->Upload("CA", "CA_000001.acc.csv", text);
  ASSERT_TRUE(received.ok());
  // Accrual credits the third batch and the fourth (sent while the third
  // is decided) but their answers are lost.
  site_->accrual().FailFromRecord(101, /*credit_before_failing=*/true);
  EXPECT_EQ(site_->files().ProcessPending().code(),
            absl::StatusCode::kUnavailable);
  const v1::AccrualFile cut = site_->Get(received->file_id());
  EXPECT_EQ(cut.status(), v1::PROCESSING);
  EXPECT_EQ(cut.records_judged(), 100);
  // Lines written after the last commit, as a crash might leave them.
  {
    std::ofstream partial(
        absl::StrCat(site_->work_dir(), "/", cut.file_id(), ".ack.partial"),
        std::ios::app);
    partial << "R,101,ACCEPTED,,101\nR,102,";
  }
  // Whatever the member's state now, the verdicts of the batches in flight
  // stand: their credits are replayed, not refused.
  site_->membership().Set(kZhou, "Zhou", mv1::SUSPENDED);

  // Restarted with another batch size: the batches planned (the two in
  // flight) are still the ones planned, and both are replayed.
  const int replays_before = site_->accrual().replays();
  site_->Restart(AccrualFilesOptions{.credit_batch_size = 30});
  site_->accrual().FailFromCall(0, false);
  ASSERT_TRUE(site_->files().ProcessPending().ok());
  const v1::AccrualFile file = site_->Get(received->file_id());
  EXPECT_EQ(file.status(), v1::ACCEPTED);
  EXPECT_EQ(site_->Outbox("CA", "CA_000001.ack.csv"), expected);
  EXPECT_EQ(site_->accrual().replays() - replays_before, 100);
  // Each accepted record credited once, none lost.
  EXPECT_EQ(site_->accrual().CreditsOf(file.file_id()),
            (std::pair<int64_t, int64_t>{file.records_accepted(),
                                         file.miles_credited()}));
  const v1::AccrualFile uninterrupted =
      reference.Get(reference.Events<v1::AccrualFileAccepted>()[0].file().file_id());
  EXPECT_EQ(file.records_accepted(), uninterrupted.records_accepted());
  EXPECT_EQ(file.miles_credited(), uninterrupted.miles_credited());
  // One progress event per batch committed, none for the batch lost.
  std::vector<v1::AccrualRecordsJudged> judged =
      site_->Events<v1::AccrualRecordsJudged>();
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const v1::AccrualRecordsJudged& event : judged) {
    ranges.emplace_back(event.first_record_number(), event.last_record_number());
  }
  EXPECT_EQ(ranges, (std::vector<std::pair<int64_t, int64_t>>{{1, 50},
                                                              {51, 100},
                                                              {101, 150},
                                                              {151, 200},
                                                              {201, 230},
                                                              {231, 250}}));
}

TEST_F(AccrualFilesTest, AnInboxFileIsReceivedOnceAndMovedWhenAcknowledged) {
  ASSERT_TRUE(site_->folders().Ensure("CA").ok());
  const std::string text = AccrualFileText(
      "CA", 1, {Stay(1, kLi, "Li", "2026-05-02", "R-1", 100)});
  const std::string path = site_->folders().InboxPath("CA") + "/CA_000001.acc.csv";
  WriteFile(path, text);
  const InboxFile inbox{"CA", "CA_000001.acc.csv", path, text.size()};
  ASSERT_TRUE(site_->files().ReceiveInboxFile(inbox).ok());
  ASSERT_TRUE(site_->files().ReceiveInboxFile(inbox).ok());
  site_->Restart();
  ASSERT_TRUE(site_->files().ReceiveInboxFile(inbox).ok());
  absl::StatusOr<v1::ListAccrualFilesResponse> listed =
      site_->files().ListAccrualFiles({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->files_size(), 1);
  EXPECT_EQ(listed->files(0).file_name(), "CA_000001.acc.csv");
  EXPECT_TRUE(fs::exists(path));

  ASSERT_TRUE(site_->files().ProcessPending().ok());
  EXPECT_EQ(site_->Get(listed->files(0).file_id()).status(), v1::ACCEPTED);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(ReadAll(site_->folders().ProcessedPath("CA") + "/CA_000001.acc.csv"),
            text);

  // A crash between the acknowledgement and the move: the next look moves
  // the original without receiving it again.
  WriteFile(path, text);
  store::WriteBatch batch = site_->store().NewBatch();
  batch.Put(kAccrualInboxTable,
            store::KeyBuilder().String("CA").String("CA_000001.acc.csv").Build(),
            listed->files(0).file_id());
  ASSERT_TRUE(site_->store().Commit(batch).ok());
  ASSERT_TRUE(site_->files().ReceiveInboxFile(inbox).ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists(site_->folders().ProcessedPath("CA") + "/CA_000001.acc.1.csv"));
  EXPECT_EQ(site_->files().ListAccrualFiles({})->files_size(), 1);

  // Once moved, a new file of the same name is a new file.
  WriteFile(path, AccrualFileText("CA", 2, {}));
  ASSERT_TRUE(site_->files().ReceiveInboxFile(inbox).ok());
  listed = site_->files().ListAccrualFiles({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->files_size(), 2);
  // Receipt numbers go on after the restart: the newcomer lists first.
  EXPECT_EQ(listed->files(0).status(), v1::RECEIVED);
}

TEST_F(AccrualFilesTest, BadUploadsAreRefusedAndStoreNothing) {
  auto metadata = [](const std::string& partner, const std::string& name) {
    v1::UploadAccrualFileRequest message;
    message.mutable_metadata()->set_partner_code(partner);
    message.mutable_metadata()->set_file_name(name);
    return message;
  };
  v1::UploadAccrualFileRequest chunk;
  chunk.set_chunk(AccrualFileText("CA", 1, {}));

  absl::Status status = site_->UploadMessages({}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(NamesField(status, "metadata")) << status;
  status = site_->UploadMessages({chunk, metadata("CA", "")}).status();
  EXPECT_TRUE(NamesField(status, "metadata")) << status;
  status = site_->UploadMessages({metadata("CA", ""), chunk, metadata("CA", "")})
               .status();
  EXPECT_TRUE(NamesField(status, "metadata")) << status;
  for (const char* code : {"", "ca", "C"}) {
    status = site_->UploadMessages({metadata(code, ""), chunk}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(NamesField(status, "metadata.partner_code")) << status;
  }
  status = site_->UploadMessages({metadata("XX", ""), chunk}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(NamesField(status, "metadata.partner_code")) << status;
  status = site_->UploadMessages({metadata("CA", ""), chunk}, "HILTON").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  for (const char* name : {"CA_1.acc.csv", "HILTON_000001.acc.csv", "CA_000001.csv"}) {
    status = site_->UploadMessages({metadata("CA", name), chunk}).status();
    EXPECT_TRUE(NamesField(status, "metadata.file_name")) << name << status;
  }
  v1::UploadAccrualFileRequest big;
  big.set_chunk(std::string((size_t{1} << 20) + 1, 'x'));
  status = site_->UploadMessages({metadata("CA", ""), big}).status();
  EXPECT_TRUE(NamesField(status, "chunk")) << status;
  status = site_->UploadMessages({metadata("CA", ""), chunk}, "",
                                 [] { return true; })
               .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);

  EXPECT_EQ(site_->files().ListAccrualFiles({})->files_size(), 0);
  EXPECT_TRUE(fs::is_empty(site_->work_dir()));
  // Authenticated as itself, with or without a name, is fine.
  EXPECT_TRUE(site_->UploadMessages({metadata("CA", ""), chunk}, "CA").ok());
  EXPECT_TRUE(site_->UploadMessages({metadata("CA", "CA_000001.acc.csv"), chunk}).ok());
}

TEST_F(AccrualFilesTest, AcknowledgementsArePaged) {
  std::vector<std::string> records;
  for (int i = 1; i <= 7; ++i) {
    records.push_back(Stay(i, i == 4 ? kWang : kLi, i == 4 ? "Wang" : "Li",
                           "2026-05-02", absl::StrCat("P-", i), 10 * i));
  }
  const v1::AccrualFile file =
      Process("CA", "CA_000001.acc.csv", AccrualFileText("CA", 1, records));
  ASSERT_EQ(file.status(), v1::ACCEPTED);

  v1::GetAcknowledgementRequest request;
  request.set_file_id(file.file_id());
  request.mutable_page()->set_page_size(3);
  std::vector<v1::AcknowledgedRecord> seen;
  int pages = 0;
  do {
    absl::StatusOr<v1::GetAcknowledgementResponse> page =
        site_->files().GetAcknowledgement(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_EQ(page->file_name(), "CA_000001.ack.csv");
    EXPECT_EQ(page->seq(), "000001");
    EXPECT_EQ(page->processed_at().seconds(),
              absl::ToUnixSeconds(At("2026-05-10T12:00:00Z")));
    EXPECT_EQ(page->count(), 7);
    EXPECT_EQ(page->accepted(), 6);
    EXPECT_EQ(page->rejected(), 1);
    EXPECT_EQ(page->total_miles_credited(), 240);
    seen.insert(seen.end(), page->records().begin(), page->records().end());
    request.mutable_page()->set_page_token(page->page().next_page_token());
  } while (!request.page().page_token().empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(seen[i].record_number(), i + 1);
  EXPECT_EQ(seen[3].status(), v1::RECORD_REJECTED);
  EXPECT_EQ(seen[3].reason_code(), v1::MEMBER_INACTIVE);
  EXPECT_EQ(seen[3].reason(), "MEMBER_INACTIVE");
  EXPECT_EQ(seen[6].status(), v1::RECORD_ACCEPTED);
  EXPECT_EQ(seen[6].miles(), 70);

  request.mutable_page()->set_page_token("5");
  EXPECT_TRUE(NamesField(site_->files().GetAcknowledgement(request).status(),
                         "page.page_token"));
  request.mutable_page()->set_page_token("");
  request.mutable_page()->set_page_size(1001);
  EXPECT_TRUE(NamesField(site_->files().GetAcknowledgement(request).status(),
                         "page.page_size"));
  request.set_file_id("nope");
  request.mutable_page()->set_page_size(0);
  EXPECT_EQ(site_->files().GetAcknowledgement(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AccrualFilesTest, ALargerFileIsCreditedInBatchesWithProgress) {
  Install({.credit_batch_size = 100});
  std::vector<std::string> records;
  for (int i = 1; i <= 2500; ++i) {
    records.push_back(Stay(i, kLi, "Li", "2026-05-02", absl::StrCat("B-", i), 1));
  }
  const v1::AccrualFile file =
      Process("CA", "CA_000001.acc.csv", AccrualFileText("CA", 1, records));
  EXPECT_EQ(file.status(), v1::ACCEPTED);
  EXPECT_EQ(file.records_accepted(), 2500);
  EXPECT_EQ(file.miles_credited(), 2500);
  EXPECT_EQ(site_->accrual().calls(), 25);
  std::vector<v1::AccrualRecordsJudged> judged =
      site_->Events<v1::AccrualRecordsJudged>();
  ASSERT_EQ(judged.size(), 25u);
  for (size_t i = 0; i < judged.size(); ++i) {
    EXPECT_EQ(judged[i].first_record_number(), 100 * static_cast<int64_t>(i) + 1);
    EXPECT_EQ(judged[i].last_record_number(), 100 * static_cast<int64_t>(i) + 100);
    EXPECT_EQ(judged[i].accepted(), 100);
    EXPECT_EQ(judged[i].miles_credited(), 100);
  }
}

TEST_F(AccrualFilesTest, ListsNewestFirstWithFiltersAndPages) {
  const v1::AccrualFile a =
      Process("CA", "CA_000001.acc.csv", AccrualFileText("CA", 1, {}));
  const v1::AccrualFile b =
      Process("HILTON", "HILTON_000001.acc.csv", AccrualFileText("HILTON", 1, {}));
  const v1::AccrualFile c =
      Process("CA", "CA_000003.acc.csv", AccrualFileText("CA", 3, {}));
  absl::StatusOr<v1::AccrualFile> d = site_->Upload("CA", "", AccrualFileText("CA", 2, {}));
  ASSERT_TRUE(d.ok());

  v1::ListAccrualFilesRequest request;
  request.mutable_page()->set_page_size(3);
  absl::StatusOr<v1::ListAccrualFilesResponse> page =
      site_->files().ListAccrualFiles(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->files_size(), 3);
  EXPECT_EQ(page->files(0).file_id(), d->file_id());
  EXPECT_EQ(page->files(1).file_id(), c.file_id());
  EXPECT_EQ(page->files(2).file_id(), b.file_id());
  request.mutable_page()->set_page_token(page->page().next_page_token());
  page = site_->files().ListAccrualFiles(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->files_size(), 1);
  EXPECT_EQ(page->files(0).file_id(), a.file_id());
  EXPECT_TRUE(page->page().next_page_token().empty());

  request.Clear();
  request.set_partner_code("CA");
  request.add_statuses(v1::ACCEPTED);
  request.add_statuses(v1::REFUSED);
  page = site_->files().ListAccrualFiles(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->files_size(), 2);
  EXPECT_EQ(page->files(0).file_id(), c.file_id());
  EXPECT_EQ(page->files(0).refusal_code(), v1::SEQUENCE_GAP);
  EXPECT_EQ(page->files(1).file_id(), a.file_id());

  request.set_partner_code("XX");
  EXPECT_EQ(site_->files().ListAccrualFiles(request).status().code(),
            absl::StatusCode::kNotFound);
  request.set_partner_code("");
  request.mutable_page()->set_page_size(1001);
  EXPECT_TRUE(NamesField(site_->files().ListAccrualFiles(request).status(),
                         "page.page_size"));
}

TEST_F(AccrualFilesTest, WorkersProcessEachPartnersFilesInReceiptOrder) {
  site_->files().Start();
  std::vector<std::string> ids;
  for (int seq = 1; seq <= 3; ++seq) {
    for (const std::string partner : {"CA", "HILTON"}) {
      absl::StatusOr<v1::AccrualFile> received = site_->Upload(
          partner, absl::StrCat(partner, "_00000", seq, ".acc.csv"),
          AccrualFileText(partner, seq,
                          {Stay(1, kLi, "Li", "2026-05-02",
                                absl::StrCat("W-", seq), seq, "HOTEL")}));
      ASSERT_TRUE(received.ok()) << received.status();
      ids.push_back(received->file_id());
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  bool done = false;
  while (!done && absl::Now() < deadline) {
    done = true;
    for (const std::string& id : ids) {
      done = done && site_->Get(id).status() == v1::ACCEPTED;
    }
    if (!done) absl::SleepFor(absl::Milliseconds(20));
  }
  site_->files().Stop();
  site_->files().Stop();
  for (const std::string& id : ids) {
    const v1::AccrualFile file = site_->Get(id);
    EXPECT_EQ(file.status(), v1::ACCEPTED) << file.ShortDebugString();
    EXPECT_EQ(file.records_accepted(), 1);
  }
  EXPECT_EQ(site_->LastAcceptedSeq("CA"), 3);
  EXPECT_EQ(site_->LastAcceptedSeq("HILTON"), 3);
}

}  // namespace
}  // namespace mileagebank::settlement
