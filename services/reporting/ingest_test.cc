#include "services/reporting/ingest.h"

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/server/event_stream_service.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/testing/loopback_server.h"
#include "libs/testing/testing.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "prometheus/registry.h"
#include "services/reporting/store_view.h"

namespace mileagebank::reporting {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(20);

// An EventStream that answers nothing until opened: a source that is
// slow to come up. Then it relays the answers of the real service, served
// on a port of its own (cancellation passes through to it).
class GatedEventStream final : public common::v1::EventStream::Service {
 public:
  explicit GatedEventStream(const std::string& inner_target)
      : inner_(common::v1::EventStream::NewStub(grpc::CreateChannel(
            inner_target, grpc::InsecureChannelCredentials()))) {}
  void Open() { open_.Notify(); }

  grpc::Status Subscribe(
      grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
      grpc::ServerWriter<common::v1::Event>* writer) override {
    if (!WaitOpen(context)) return grpc::Status::CANCELLED;
    auto relayed = grpc::ClientContext::FromServerContext(*context);
    return Relay(inner_->Subscribe(relayed.get(), *request), writer);
  }
  grpc::Status SubscribeBatched(
      grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
      grpc::ServerWriter<common::v1::EventBatch>* writer) override {
    if (!WaitOpen(context)) return grpc::Status::CANCELLED;
    auto relayed = grpc::ClientContext::FromServerContext(*context);
    return Relay(inner_->SubscribeBatched(relayed.get(), *request), writer);
  }
  grpc::Status GetHead(grpc::ServerContext* context,
                       const common::v1::GetHeadRequest* request,
                       common::v1::GetHeadResponse* response) override {
    if (!WaitOpen(context)) return grpc::Status::CANCELLED;
    auto relayed = grpc::ClientContext::FromServerContext(*context);
    return inner_->GetHead(relayed.get(), *request, response);
  }

 private:
  template <typename M>
  static grpc::Status Relay(std::unique_ptr<grpc::ClientReader<M>> reader,
                            grpc::ServerWriter<M>* writer) {
    M message;
    while (reader->Read(&message)) {
      if (!writer->Write(message)) break;
    }
    return reader->Finish();
  }
  bool WaitOpen(grpc::ServerContext* context) {
    while (!open_.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
      if (context->IsCancelled()) return false;
    }
    return true;
  }
  const std::unique_ptr<common::v1::EventStream::Stub> inner_;
  absl::Notification open_;
};

// A producing service: a scratch store whose event log is served on a port
// (`gated`: answering only once Open() is called).
class Producer {
 public:
  explicit Producer(const std::string& path, bool gated = false) {
    store_ = std::move(*store::Store::Open({.path = path, .tables = {}}));
    service_ = std::make_unique<server::EventStreamService>(store_.get());
    inner_ = testing::ServeOnLoopback({service_.get()});
    gate_ = std::make_unique<GatedEventStream>(inner_.target);
    opened_ = !gated;
    if (!gated) gate_->Open();
    served_ = testing::ServeOnLoopback({gate_.get()});
  }
  ~Producer() {
    Open();
    store_->StopWaiters();
    for (testing::LoopbackServer* served : {&served_, &inner_}) {
      served->server->Shutdown(
          absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    }
  }
  void Open() {
    if (!opened_.exchange(true)) gate_->Open();
  }
  // Appends `count` events recorded at `first`, `first + step`, ... (as
  // another service wrote them), amounts as Emit's; returns the last
  // sequence.
  uint64_t EmitRecordedAt(int count, absl::Time first, absl::Duration step) {
    store::WriteBatch batch = store_->NewBatch();
    for (int i = 0; i < count; ++i) {
      common::v1::Money money;
      money.set_minor_units(++emitted_);
      common::v1::Event event;
      event.set_key(absl::StrCat("k", emitted_ % 7));
      event.mutable_payload()->PackFrom(money);
      const absl::Time at = first + i * step;
      event.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(at));
      event.mutable_recorded_at()->set_nanos(static_cast<int32_t>(
          (at - absl::FromUnixSeconds(absl::ToUnixSeconds(at))) /
          absl::Nanoseconds(1)));
      batch.AppendRecordedEvent(std::move(event));
    }
    EXPECT_TRUE(store_->Commit(batch).ok());
    return store_->LastSequence();
  }
  // Appends `count` events keyed "k0".."k6", the i-th of amount i; returns
  // the last sequence.
  uint64_t Emit(int count) {
    store::WriteBatch batch = store_->NewBatch();
    for (int i = 0; i < count; ++i) {
      common::v1::Money money;
      money.set_minor_units(++emitted_);
      batch.AppendEvent(absl::StrCat("k", emitted_ % 7), money);
      if (i % 1000 == 999 || i == count - 1) {
        EXPECT_TRUE(store_->Commit(batch).ok());
      }
    }
    return store_->LastSequence();
  }
  std::string target() const { return served_.target; }
  // What a correct consumer holds for key kN after everything emitted:
  // {events, sum of amounts}.
  std::vector<int64_t> Expected(int key) const {
    return ExpectedUpTo(key, emitted_);
  }
  // The same after the first `last` events; empty (no row) when none.
  static std::vector<int64_t> ExpectedUpTo(int key, int64_t last) {
    std::vector<int64_t> row = {0, 0};
    for (int64_t i = 1; i <= last; ++i) {
      if (i % 7 == key) {
        ++row[0];
        row[1] += i;
      }
    }
    if (row[0] == 0) return {};
    return row;
  }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<server::EventStreamService> service_;
  std::unique_ptr<GatedEventStream> gate_;
  std::atomic<bool> opened_{true};
  testing::LoopbackServer inner_;   // The real service.
  testing::LoopbackServer served_;  // Its gate.
  int64_t emitted_ = 0;
};

std::string CountKey(absl::string_view source, absl::string_view key) {
  return store::KeyBuilder().String(source).String(key).Build();
}

// Counts events and sums their amounts per source and key (Add), and keeps
// each source's last sequence with a read-modify-write (Get/Put), counting
// under "replayed" any event that is not after the previous one.
class CountingProjection final : public Projection {
 public:
  explicit CountingProjection(std::string prefix)
      : counts_(prefix + "_counts"), last_(prefix + "_last") {}

  std::vector<std::string> Tables() const override { return {counts_, last_}; }
  // Kept in memory: the crash and restart tests then check that it is
  // reloaded exactly.
  std::vector<std::string> ResidentTables() const override { return {last_}; }

  absl::Status Apply(const SourceEvent& source_event,
                     ViewState& state) override {
    const absl::string_view source = source_event.source();
    const common::v1::Event& event = source_event.event();
    common::v1::Money money;
    if (!event.payload().UnpackTo(&money)) {
      return absl::DataLossError("not money");
    }
    MB_RETURN_IF_ERROR(state.Add(counts_, CountKey(source, event.key()),
                                 {1, money.minor_units()}));
    MB_ASSIGN_OR_RETURN(std::optional<std::string> last,
                        state.Get(last_, source));
    if (last.has_value() && std::stoull(*last) >= event.sequence()) {
      MB_RETURN_IF_ERROR(state.Add(counts_, "replayed", {1}));
    }
    state.Put(last_, source, std::to_string(event.sequence()));
    return absl::OkStatus();
  }

  const std::string& counts() const { return counts_; }

 private:
  const std::string counts_;
  const std::string last_;
};

// Counts the events applied after one recorded later than themselves,
// whatever their source (row "late" of its table).
class RecordedOrderProjection final : public Projection {
 public:
  static constexpr char kTable[] = "order";
  std::vector<std::string> Tables() const override { return {kTable}; }
  absl::Status Apply(const SourceEvent& source_event,
                     ViewState& state) override {
    const google::protobuf::Timestamp& at = source_event.event().recorded_at();
    const int64_t micros = at.seconds() * 1'000'000 + at.nanos() / 1000;
    MB_ASSIGN_OR_RETURN(std::vector<int64_t> last,
                        state.Counters(kTable, "last"));
    if (!last.empty() && last[0] > micros) {
      MB_RETURN_IF_ERROR(state.Add(kTable, "late", {1}));
    }
    MB_RETURN_IF_ERROR(
        state.Add(kTable, "last", {micros - (last.empty() ? 0 : last[0])}));
    return state.Add(kTable, "applied", {1});
  }
};

// Fails the first `failures` attempts at one event of one source.
class FailingProjection final : public Projection {
 public:
  FailingProjection(std::string source, uint64_t sequence, int failures)
      : source_(std::move(source)), sequence_(sequence), failures_(failures) {}
  std::vector<std::string> Tables() const override { return {}; }
  absl::Status Apply(const SourceEvent& event, ViewState&) override {
    if (event.source() == source_ && event.event().sequence() == sequence_ &&
        failures_ > 0) {
      --failures_;
      ++failed_;
      return absl::DataLossError("injected");
    }
    return absl::OkStatus();
  }
  int failed() const { return failed_; }

 private:
  const std::string source_;
  const uint64_t sequence_;
  std::atomic<int> failures_;
  std::atomic<int> failed_{0};
};

google::protobuf::Map<std::string, uint64_t> Positions(
    std::initializer_list<std::pair<const std::string, uint64_t>> entries) {
  google::protobuf::Map<std::string, uint64_t> map;
  for (const auto& [name, sequence] : entries) map[name] = sequence;
  return map;
}

// Counts events per source (the base rows) and keeps their total (the
// derived row), deferred on an empty store and then derived from the
// counts, as Projection::DeferDerived describes.
class DerivingProjection final : public Projection {
 public:
  static constexpr char kBase[] = "derive_base";
  static constexpr char kDerived[] = "derive_total";

  std::vector<std::string> Tables() const override { return {kBase, kDerived}; }
  absl::Status Apply(const SourceEvent& event, ViewState& state) override {
    MB_RETURN_IF_ERROR(state.Add(kBase, event.source(), {1}));
    MB_ASSIGN_OR_RETURN(std::optional<std::string> deferred,
                        state.Get(kDerived, "deferred"));
    if (deferred.has_value()) return absl::OkStatus();
    return state.Add(kDerived, "total", {1});
  }
  void DeferDerived(ViewState& state) override {
    state.Put(kDerived, "deferred", "");
  }
  absl::Status DeriveDeferred(const ViewReader& view,
                              ViewState& state) override {
    MB_ASSIGN_OR_RETURN(std::optional<std::string> deferred,
                        state.Get(kDerived, "deferred"));
    if (!deferred.has_value()) return absl::OkStatus();
    ++derivations_;
    int64_t total = 0;
    MB_RETURN_IF_ERROR(view.ScanCounters(
        kBase, store::ScanRange{},
        [&](absl::string_view, const std::vector<int64_t>& values) {
          total += values.at(0);
          return true;
        }));
    state.Delete(kDerived, "deferred");
    return state.Add(kDerived, "total", {total});
  }

  std::atomic<int> derivations_{0};
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    membership_ = std::make_unique<Producer>(
        mileagebank::testing::FreshTestDir("membership"));
    accrual_ = std::make_unique<Producer>(
        mileagebank::testing::FreshTestDir("accrual"));
    path_ = mileagebank::testing::FreshTestDir("reporting");
    OpenStore();
  }
  void TearDown() override {
    ingest_.reset();
    store_.reset();
  }

  void OpenStore() {
    auto opened = store::Store::Open(
        {.path = path_, .tables = Ingest::Tables(Projections())});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }

  std::vector<Projection*> Projections() {
    std::vector<Projection*> all = {&counting_};
    if (failing_ != nullptr) all.push_back(failing_.get());
    if (check_order_) all.push_back(&order_);
    if (deriving_) all.push_back(&derived_);
    return all;
  }

  void StartIngest(int commit_every_events = 20000,
                   absl::Duration commit_every = absl::Milliseconds(20)) {
    registry_ = std::make_unique<prometheus::Registry>();
    ingest_ = std::make_unique<Ingest>(
        store_.get(), Projections(),
        IngestOptions{.targets = {{kMembershipSource, membership_->target()},
                                  {kAccrualSource, accrual_->target()}},
                      .commit_every_events = commit_every_events,
                      .commit_every = commit_every,
                      .merge_wait = merge_wait_},
        registry_.get());
    ingest_->Start();
  }

  void WaitForOrFail(uint64_t membership, uint64_t accrual) {
    absl::Status reached = ingest_->WaitFor(
        Positions({{kMembershipSource, membership}, {kAccrualSource, accrual}}),
        absl::Now() + kPatience);
    ASSERT_TRUE(reached.ok()) << reached;
  }

  // Every key's row, as the committed view holds it, against the producers.
  void ExpectExactCounts(const ViewReader& view) {
    for (int key = 0; key < 7; ++key) {
      const std::string k = absl::StrCat("k", key);
      EXPECT_EQ(
          *view.Counters(counting_.counts(), CountKey(kMembershipSource, k)),
          membership_->Expected(key))
          << "membership " << k;
      EXPECT_EQ(*view.Counters(counting_.counts(), CountKey(kAccrualSource, k)),
                accrual_->Expected(key))
          << "accrual " << k;
    }
    EXPECT_TRUE(view.Counters(counting_.counts(), "replayed")->empty());
  }

  double MetricValue(const std::string& family_name,
                     const std::string& source) {
    for (const auto& family : registry_->Collect()) {
      if (family.name != family_name) continue;
      for (const auto& metric : family.metric) {
        for (const auto& label : metric.label) {
          if (label.name == "source" && label.value == source) {
            return family.type == prometheus::MetricType::Counter
                       ? metric.counter.value
                       : metric.gauge.value;
          }
        }
      }
    }
    return -1;
  }

  std::unique_ptr<Producer> membership_;
  std::unique_ptr<Producer> accrual_;
  std::string path_;
  // Membership's log served only once membership_->Open() is called, and
  // the order of application checked.
  void SlowMembershipAndOrderChecked() {
    membership_ = std::make_unique<Producer>(
        mileagebank::testing::FreshTestDir("slow-membership"), /*gated=*/true);
    check_order_ = true;
    store_.reset();
    OpenStore();
  }

  CountingProjection counting_{"test"};
  std::unique_ptr<FailingProjection> failing_;
  RecordedOrderProjection order_;
  bool check_order_ = false;
  DerivingProjection derived_;
  bool deriving_ = false;
  absl::Duration merge_wait_ = IngestOptions().merge_wait;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(IngestTest, CatchesUpFromAnEmptyStore) {
  const uint64_t membership = membership_->Emit(5000);
  const uint64_t accrual = accrual_->Emit(3000);
  StartIngest();
  WaitForOrFail(membership, accrual);

  EXPECT_EQ(ingest_->positions(),
            (std::map<std::string, uint64_t>{{kAccrualSource, accrual},
                                             {kMembershipSource, membership}}));
  std::unique_ptr<ViewReader> view = ingest_->Reader();
  ExpectExactCounts(*view);
  EXPECT_EQ(view->positions().at(kMembershipSource), membership);
  EXPECT_EQ(view->positions().at(kAccrualSource), accrual);
  EXPECT_EQ(view->positions().at(kSettlementSource), 0u);
  EXPECT_EQ(*store_->ReadCursor(kMembershipSource), membership);
  EXPECT_EQ(MetricValue("mileagebank_reporting_events_applied_total",
                        kMembershipSource),
            5000);
  EXPECT_EQ(
      MetricValue("mileagebank_reporting_stream_position", kAccrualSource),
      3000);
}

const absl::Time kHistoryStart = absl::FromUnixSeconds(1'700'000'000);

TEST_F(IngestTest, AppliesTheSourcesInRecordedOrderWhateverArrivesFirst) {
  SlowMembershipAndOrderChecked();
  merge_wait_ = absl::Seconds(30);  // Membership answers long before.
  // Recorded alternately: membership at even seconds, accrual at odd ones.
  const uint64_t membership =
      membership_->EmitRecordedAt(3000, kHistoryStart, absl::Seconds(2));
  const uint64_t accrual = accrual_->EmitRecordedAt(
      3000, kHistoryStart + absl::Seconds(1), absl::Seconds(2));
  StartIngest();
  // Accrual's events are all in line by now; none may be applied while
  // membership, whose head is not known, may hold earlier ones.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(ingest_->positions().at(kAccrualSource), 0u);
  membership_->Open();
  WaitForOrFail(membership, accrual);

  std::unique_ptr<ViewReader> view = ingest_->Reader();
  EXPECT_EQ(*view->Counters(RecordedOrderProjection::kTable, "applied"),
            std::vector<int64_t>{6000});
  EXPECT_TRUE(view->Counters(RecordedOrderProjection::kTable, "late")->empty());
  ExpectExactCounts(*view);
}

TEST_F(IngestTest, GoesOnWithoutASourceThatDoesNotAnswer) {
  SlowMembershipAndOrderChecked();
  merge_wait_ = absl::Milliseconds(200);
  const uint64_t membership =
      membership_->EmitRecordedAt(100, kHistoryStart, absl::Seconds(2));
  const uint64_t accrual = accrual_->EmitRecordedAt(
      100, kHistoryStart + absl::Seconds(1), absl::Seconds(2));
  StartIngest();
  WaitForOrFail(0, accrual);
  EXPECT_EQ(ingest_->positions().at(kMembershipSource), 0u);
  // Once it answers, its events are applied too (later than recorded).
  membership_->Open();
  WaitForOrFail(membership, accrual);
  ExpectExactCounts(*ingest_->Reader());
}

// Until the derived row of DerivingProjection is derived and committed,
// and then equal to every event applied.
void ExpectDerivedTotalEventually(Ingest& ingest, int64_t events) {
  const absl::Time deadline = absl::Now() + kPatience;
  std::unique_ptr<ViewReader> view = ingest.Reader();
  while (absl::Now() < deadline &&
         view->Get(DerivingProjection::kDerived, "deferred")->has_value()) {
    absl::SleepFor(absl::Milliseconds(10));
    view = ingest.Reader();
  }
  EXPECT_FALSE(
      view->Get(DerivingProjection::kDerived, "deferred")->has_value());
  EXPECT_EQ(*view->Counters(DerivingProjection::kDerived, "total"),
            std::vector<int64_t>{events});
}

TEST_F(IngestTest, AnEmptyStoreDefersDerivedRowsAndDerivesThemOnceCaughtUp) {
  deriving_ = true;
  store_.reset();
  OpenStore();
  const uint64_t membership = membership_->Emit(3000);
  const uint64_t accrual = accrual_->Emit(2000);
  StartIngest();
  WaitForOrFail(membership, accrual);
  ExpectDerivedTotalEventually(*ingest_, 5000);
  EXPECT_EQ(derived_.derivations_, 1);

  // Kept current event by event from then on.
  const uint64_t more = accrual_->Emit(25);
  WaitForOrFail(membership, more);
  std::unique_ptr<ViewReader> view = ingest_->Reader();
  EXPECT_EQ(*view->Counters(DerivingProjection::kDerived, "total"),
            std::vector<int64_t>{5025});
  ExpectExactCounts(*view);
  EXPECT_EQ(derived_.derivations_, 1);
}

TEST_F(IngestTest, ARebuildStoppedBeforeCatchingUpDerivesAfterTheRestart) {
  deriving_ = true;
  membership_ = std::make_unique<Producer>(
      mileagebank::testing::FreshTestDir("slow-membership"), /*gated=*/true);
  store_.reset();
  OpenStore();
  merge_wait_ = absl::Milliseconds(100);
  const uint64_t membership = membership_->Emit(400);
  const uint64_t accrual = accrual_->Emit(600);
  StartIngest();
  // Membership does not answer: never caught up, the row stays deferred.
  WaitForOrFail(0, accrual);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(ingest_->Reader()
                  ->Get(DerivingProjection::kDerived, "deferred")
                  ->has_value());
  EXPECT_EQ(derived_.derivations_, 0);
  ingest_->Stop();
  ingest_.reset();

  membership_->Open();
  StartIngest();  // Not an empty store now: nothing deferred again.
  WaitForOrFail(membership, accrual);
  ExpectDerivedTotalEventually(*ingest_, 1000);
  EXPECT_EQ(derived_.derivations_, 1);
  ExpectExactCounts(*ingest_->Reader());
}

TEST_F(IngestTest, FollowsNewEvents) {
  StartIngest();
  const uint64_t first = membership_->Emit(10);
  WaitForOrFail(first, 0);
  const uint64_t membership = membership_->Emit(250);
  const uint64_t accrual = accrual_->Emit(40);
  WaitForOrFail(membership, accrual);
  ExpectExactCounts(*ingest_->Reader());
}

TEST_F(IngestTest, RestartResumesWithoutCountingTwice) {
  uint64_t membership = membership_->Emit(700);
  uint64_t accrual = accrual_->Emit(300);
  StartIngest();
  WaitForOrFail(membership, accrual);
  ingest_->Stop();
  ingest_->Stop();  // Idempotent.
  ingest_.reset();

  membership = membership_->Emit(200);
  accrual = accrual_->Emit(5);
  StartIngest();
  WaitForOrFail(membership, accrual);
  ExpectExactCounts(*ingest_->Reader());
}

TEST_F(IngestTest, CrashLosesBufferedChangesWithTheirCursorsTogether) {
  // Commits every 64 events only, so a crash leaves applied events behind.
  const uint64_t membership = membership_->Emit(1000);
  StartIngest(/*commit_every_events=*/64, /*commit_every=*/absl::Hours(1));
  // 15 batches of 64 commit; the last 40 events stay buffered.
  WaitForOrFail(960, 0);
  absl::SleepFor(absl::Milliseconds(200));  // Let the applier reach 1000.
  ingest_->StopWithoutCommitForTest();
  EXPECT_EQ(ingest_->positions().at(kMembershipSource), 960u);
  std::unique_ptr<ViewReader> crashed = ingest_->Reader();
  EXPECT_EQ(crashed->positions().at(kMembershipSource), 960u);
  int64_t counted = 0;
  for (int key = 0; key < 7; ++key) {
    std::vector<int64_t> row =
        *crashed->Counters(counting_.counts(),
                           CountKey(kMembershipSource, absl::StrCat("k", key)));
    EXPECT_EQ(row, membership_->ExpectedUpTo(key, 960));
    counted += row[0];
  }
  EXPECT_EQ(counted, 960);
  crashed.reset();
  ingest_.reset();
  store_.reset();

  OpenStore();  // As a restarted process would.
  StartIngest();
  WaitForOrFail(membership, 0);
  ExpectExactCounts(*ingest_->Reader());
}

TEST_F(IngestTest, ProjectionErrorIsRetriedWithoutSkippingOrCountingTwice) {
  // The counting projection applies event 437 before the failing one
  // refuses it, twice: that half-applied event must not count.
  failing_ = std::make_unique<FailingProjection>(kMembershipSource, 437, 2);
  store_.reset();
  OpenStore();
  const uint64_t membership = membership_->Emit(1000);
  const uint64_t accrual = accrual_->Emit(100);
  StartIngest();
  WaitForOrFail(membership, accrual);
  EXPECT_EQ(failing_->failed(), 2);
  ExpectExactCounts(*ingest_->Reader());
  EXPECT_EQ(MetricValue("mileagebank_reporting_apply_errors_total",
                        kMembershipSource),
            2);
}

TEST_F(IngestTest, WaitForRejectsUnknownSourceAndTimesOut) {
  StartIngest();
  absl::Status unknown =
      ingest_->WaitFor(Positions({{"payments", 1}}), absl::Now() + kPatience);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(mileagebank::testing::NamesField(unknown, "min_stream_positions"))
      << unknown;

  absl::Status late = ingest_->WaitFor(Positions({{kMembershipSource, 5}}),
                                       absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded) << late;

  EXPECT_TRUE(ingest_->WaitFor({}, absl::Now()).ok());
  // Waiting for events not yet written returns once they are committed.
  auto waited = std::async(std::launch::async, [&] {
    return ingest_->WaitFor(Positions({{kMembershipSource, 5}}),
                            absl::Now() + kPatience);
  });
  absl::SleepFor(absl::Milliseconds(50));
  membership_->Emit(5);
  EXPECT_TRUE(waited.get().ok());
  EXPECT_GE(ingest_->positions().at(kMembershipSource), 5u);
}

TEST_F(IngestTest, ReaderAtHoldsTheSourceBackToExactlyThatSequence) {
  membership_->Emit(100);
  accrual_->Emit(30);
  StartIngest();
  WaitForOrFail(100, 30);

  // Asked before the events exist; they then arrive in one burst.
  auto at = std::async(std::launch::async, [&] {
    return ingest_->ReaderAt(kMembershipSource, 150, absl::Now() + kPatience);
  });
  absl::SleepFor(absl::Milliseconds(100));
  const uint64_t membership = membership_->Emit(400);
  const uint64_t accrual = accrual_->Emit(20);
  absl::StatusOr<std::unique_ptr<ViewReader>> reader = at.get();
  ASSERT_TRUE(reader.ok()) << reader.status();
  const ViewReader& view = **reader;
  EXPECT_EQ(view.positions().at(kMembershipSource), 150u);
  int64_t counted = 0;
  for (int key = 0; key < 7; ++key) {
    std::vector<int64_t> row =
        *view.Counters(counting_.counts(),
                       CountKey(kMembershipSource, absl::StrCat("k", key)));
    EXPECT_EQ(row, membership_->ExpectedUpTo(key, 150));
    counted += row[0];
  }
  EXPECT_EQ(counted, 150);

  // The ingest went on afterwards.
  WaitForOrFail(membership, accrual);
  ExpectExactCounts(*ingest_->Reader());

  // At the head, with nothing after it: answered at once.
  absl::StatusOr<std::unique_ptr<ViewReader>> head =
      ingest_->ReaderAt(kMembershipSource, membership, absl::Now() + kPatience);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ((*head)->positions().at(kMembershipSource), membership);
}

TEST_F(IngestTest, ReaderAtRefusesPastUnknownAndUnreachedSequences) {
  membership_->Emit(50);
  StartIngest();
  WaitForOrFail(50, 0);
  EXPECT_EQ(ingest_->ReaderAt(kMembershipSource, 20, absl::Now() + kPatience)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  absl::Status unknown =
      ingest_->ReaderAt("payments", 1, absl::Now() + kPatience).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(mileagebank::testing::NamesField(unknown, "source")) << unknown;
  EXPECT_EQ(ingest_
                ->ReaderAt(kMembershipSource, 10'000,
                           absl::Now() + absl::Milliseconds(100))
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  // A timed-out hold does not hold the ingest back.
  const uint64_t membership = membership_->Emit(20'000 - 50);
  WaitForOrFail(membership, 0);
  ExpectExactCounts(*ingest_->Reader());
}

// ---------------------------------------------------------------------------
// The buffer and the snapshot reader on their own.

class StoreViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::Open(
        {.path = mileagebank::testing::FreshTestDir(), .tables = {"t", "c"}});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  void Commit(BufferedViewState& state) {
    store::WriteBatch batch = store_->NewBatch();
    state.Flush(batch);
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  std::unique_ptr<store::Store> store_;
};

TEST_F(StoreViewTest, ChangesStayBufferedUntilFlushed) {
  store::WriteBatch seed = store_->NewBatch();
  seed.Put("t", "stored", "s");
  seed.Put("t", "gone", "g");
  ASSERT_TRUE(store_->Commit(seed).ok());

  BufferedViewState state(store_.get());
  EXPECT_EQ(**state.Get("t", "stored"), "s");  // From the store.
  state.Put("t", "new", "n");
  state.Delete("t", "gone");
  EXPECT_EQ(**state.Get("t", "new"), "n");
  EXPECT_FALSE(state.Get("t", "gone")->has_value());
  EXPECT_FALSE(store_->Get("t", "new")->has_value());
  EXPECT_EQ(**store_->Get("t", "gone"), "g");

  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 2u);
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(**store_->Get("t", "new"), "n");
  EXPECT_FALSE(store_->Get("t", "gone")->has_value());
  store::WriteBatch empty = store_->NewBatch();
  EXPECT_EQ(state.Flush(empty), 0u);
  EXPECT_TRUE(empty.empty());
}

TEST_F(StoreViewTest, CountersAddToTheStoredRow) {
  store::WriteBatch seed = store_->NewBatch();
  seed.Put("c", "day1", EncodeCounters({10, -5}));
  ASSERT_TRUE(store_->Commit(seed).ok());

  BufferedViewState state(store_.get());
  ASSERT_TRUE(state.Add("c", "day1", {1, 2, 3}).ok());
  ASSERT_TRUE(state.Add("c", "day1", {1}).ok());
  ASSERT_TRUE(state.Add("c", "day2", {7}).ok());
  EXPECT_EQ(*state.Counters("c", "day1"), (std::vector<int64_t>{12, -3, 3}));
  std::vector<int64_t> after = {99, 99, 99, 99};
  ASSERT_TRUE(state.AddAndGet("c", "day1", {0, 1}, &after).ok());
  EXPECT_EQ(after, (std::vector<int64_t>{12, -2, 3}));
  ASSERT_TRUE(state.AddAndGet("c", "day1", {0, -1}, &after).ok());
  EXPECT_TRUE(state.Counters("c", "none")->empty());
  // A counter row read as bytes is its encoding.
  EXPECT_EQ(**state.Get("c", "day2"), EncodeCounters({7}));
  Commit(state);

  std::vector<int64_t> stored;
  ASSERT_TRUE(DecodeCounters(**store_->Get("c", "day1"), &stored));
  EXPECT_EQ(stored, (std::vector<int64_t>{12, -3, 3}));
  // The cached row goes on from what is stored, not from zero.
  ASSERT_TRUE(state.Add("c", "day1", {-12}).ok());
  Commit(state);
  ASSERT_TRUE(DecodeCounters(**store_->Get("c", "day1"), &stored));
  EXPECT_EQ(stored, (std::vector<int64_t>{0, -3, 3}));
  // "none" was only read: nothing written for it.
  EXPECT_FALSE(store_->Get("c", "none")->has_value());
}

TEST_F(StoreViewTest, PutAndAddOnOneKeyKeepTheLastMeaning) {
  BufferedViewState state(store_.get());
  state.Put("c", "k", EncodeCounters({5}));
  ASSERT_TRUE(state.Add("c", "k", {1}).ok());
  EXPECT_EQ(*state.Counters("c", "k"), (std::vector<int64_t>{6}));
  state.Put("c", "k", "\xff");  // An unfinished varint: no counter row.
  EXPECT_EQ(**state.Get("c", "k"), "\xff");
  EXPECT_EQ(state.Add("c", "k", {1}).code(), absl::StatusCode::kDataLoss);
  state.Delete("c", "k");
  ASSERT_TRUE(state.Add("c", "k", {2}).ok());
  Commit(state);
  std::vector<int64_t> stored;
  ASSERT_TRUE(DecodeCounters(**store_->Get("c", "k"), &stored));
  EXPECT_EQ(stored, (std::vector<int64_t>{2}));
}

TEST_F(StoreViewTest, DiscardDropsOnlyUnflushedChanges) {
  BufferedViewState state(store_.get());
  ASSERT_TRUE(state.Add("c", "k", {1}).ok());
  Commit(state);
  ASSERT_TRUE(state.Add("c", "k", {100}).ok());
  state.Put("t", "x", "y");
  state.Discard();
  EXPECT_EQ(*state.Counters("c", "k"), (std::vector<int64_t>{1}));
  EXPECT_FALSE(state.Get("t", "x")->has_value());
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 0u);
}

TEST_F(StoreViewTest, CacheIsBoundedAndReloadsWhatItDropped) {
  BufferedViewState state(store_.get(), {.max_cached_rows = 4});
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_TRUE(state.Add("c", key, {1}).ok());
    state.Put("t", key, key);
  }
  Commit(state);
  EXPECT_LE(state.cached_rows(), 4u);
  ASSERT_TRUE(state.Add("c", "a", {1}).ok());  // Reloaded if dropped.
  EXPECT_EQ(**state.Get("t", "b"), "b");
  EXPECT_FALSE(state.Get("t", "zz")->has_value());
  Commit(state);
  EXPECT_LE(state.cached_rows(), 4u);
  std::vector<int64_t> stored;
  ASSERT_TRUE(DecodeCounters(**store_->Get("c", "a"), &stored));
  EXPECT_EQ(stored, (std::vector<int64_t>{2}));
  EXPECT_FALSE(store_->Get("t", "zz")->has_value());
}

TEST_F(StoreViewTest, RowsThatLeftMemoryReadBackWritesStillInLine) {
  // Rows that stay in memory are written past the store's overlay
  // (PutUnread): one that leaves memory and is read again while its write
  // is still in line must be waited for, not read stale from the disk.
  BufferedViewState state(store_.get(),
                          {.max_cached_rows = 2, .resident_tables = {"t"}});
  ASSERT_TRUE(state.Load().ok());
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    for (const char* key : {"a", "b", "c", "d"}) {
      ASSERT_TRUE(state.Add("c", key, {1}).ok());
    }
    ASSERT_TRUE(state.Add("t", "member", {1}).ok());
    store::WriteBatch batch = store_->NewBatch();
    state.Flush(batch);
    store_->Enqueue(batch);  // Not waited for, as the ingest does.
    if (round % 10 == 9) {
      // A failed event: the resident row is read back from the store.
      ASSERT_TRUE(state.Add("t", "member", {1000}).ok());
      state.Discard();
    }
  }
  EXPECT_GT(state.store_reads(), 0u);  // The dropped rows were read back.
  store_->WaitForQueued();
  std::vector<int64_t> stored;
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(DecodeCounters(**store_->Get("c", key), &stored));
    EXPECT_EQ(stored, (std::vector<int64_t>{kRounds})) << key;
  }
  EXPECT_EQ(*state.Counters("t", "member"), (std::vector<int64_t>{kRounds}));
  ASSERT_TRUE(DecodeCounters(**store_->Get("t", "member"), &stored));
  EXPECT_EQ(stored, (std::vector<int64_t>{kRounds}));
}

TEST_F(StoreViewTest, UnreadRowsAreWrittenAtTheFlushAndReadBackOnceDurable) {
  BufferedViewState state(store_.get());
  state.PutUnread("t", "c", "c1");
  state.PutUnread("t", "a", "a1");
  state.PutUnread("t", "b", "b1");
  state.PutUnread("t", "a", "a2");  // The last value wins.
  state.PutUnread("t", "d", "d1");
  state.Discard();  // Forgets them as it does every change.
  state.PutUnread("t", "c", "c1");
  state.PutUnread("t", "a", "a1");
  state.PutUnread("t", "b", "b1");
  state.PutUnread("t", "a", "a2");
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 4u);
  EXPECT_EQ(state.cached_rows(), 0u);  // Bytes only, never rows.
  store_->Enqueue(batch);              // Not waited for, as the ingest does.

  // The table was empty, but it is read now, after the write is durable.
  EXPECT_EQ(**state.Get("t", "a"), "a2");
  EXPECT_EQ(**state.Get("t", "c"), "c1");
  EXPECT_FALSE(state.Get("t", "d")->has_value());
  // A row in memory takes the value as a Put: it stays true.
  state.PutUnread("t", "c", "c2");
  EXPECT_EQ(**state.Get("t", "c"), "c2");
  Commit(state);
  std::vector<std::string> rows;
  ASSERT_TRUE(store_
                  ->Scan("t", store::ScanRange{},
                         [&](absl::string_view key, absl::string_view value) {
                           rows.push_back(absl::StrCat(key, "=", value));
                           return true;
                         })
                  .ok());
  EXPECT_EQ(rows, (std::vector<std::string>{"a=a2", "b=b1", "c=c2"}));
}

// Keys that share their first 16 bytes, differ only past a padding of
// zeros, or come again: the last value of each is what the store holds.
TEST_F(StoreViewTest, ManyUnreadRowsKeepTheLastValueOfEachKey) {
  BufferedViewState state(store_.get());
  std::mt19937 random(5);
  const std::string shared(20, 'k');
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    std::string key;
    switch (random() % 4) {
      case 0:  // Alike in their first 16 bytes and more.
        key = shared + std::to_string(random() % 300);
        break;
      case 1:  // Short, with zeros that padding would hide.
        key = std::string("ab") + std::string(random() % 3, '\0');
        break;
      case 2:
        key = std::string(1 + random() % 20, static_cast<char>(random()));
        break;
      default:
        key = std::to_string(random() % 1000);
    }
    const std::string value = std::to_string(i);
    state.PutUnread("t", key, value);
    expected[key] = value;
  }
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 5000u);
  store_->Enqueue(batch);
  Commit(state);
  std::map<std::string, std::string> stored;
  ASSERT_TRUE(store_
                  ->Scan("t", store::ScanRange{},
                         [&](absl::string_view key, absl::string_view value) {
                           stored.emplace(key, value);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(stored, expected);
}

TEST_F(StoreViewTest, CachedRowsAreNotWrittenAgain) {
  store::WriteBatch seed = store_->NewBatch();
  seed.Put("t", "m", "1");
  ASSERT_TRUE(store_->Commit(seed).ok());
  BufferedViewState state(store_.get());
  EXPECT_EQ(**state.Get("t", "m"), "1");
  EXPECT_FALSE(state.Get("t", "absent")->has_value());
  ASSERT_TRUE(state.Counters("c", "x")->empty());
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 0u);  // Only read: nothing to write.
  state.Put("t", "m", "2");
  EXPECT_EQ(state.Flush(batch), 1u);
  EXPECT_EQ(state.cached_rows(), 3u);
}

TEST_F(StoreViewTest, ResidentTablesAreLoadedAndNeverAskedAgain) {
  store::WriteBatch seed = store_->NewBatch();
  seed.Put("t", "stored", "s");
  ASSERT_TRUE(store_->Commit(seed).ok());
  BufferedViewState state(store_.get(),
                          {.max_cached_rows = 0, .resident_tables = {"t"}});
  ASSERT_TRUE(state.Load().ok());
  // Written behind the state's back: a resident table is not read again.
  store::WriteBatch behind = store_->NewBatch();
  behind.Put("t", "later", "x");
  ASSERT_TRUE(store_->Commit(behind).ok());
  EXPECT_EQ(**state.Get("t", "stored"), "s");
  EXPECT_FALSE(state.Get("t", "later")->has_value());
  state.Put("t", "new", "n");
  Commit(state);
  // Rows stay whatever the bound on cached rows.
  EXPECT_EQ(**state.Get("t", "new"), "n");
  EXPECT_EQ(**state.Get("t", "stored"), "s");
}

TEST_F(StoreViewTest, RecordsStayParsedAndAreWrittenOncePerFlush) {
  BufferedViewState state(store_.get(), {.resident_tables = {"t"}});
  ASSERT_TRUE(state.Load().ok());
  bool found = true;
  auto money = state.MutableProto<common::v1::Money>("t", "m", &found);
  ASSERT_TRUE(money.ok());
  EXPECT_FALSE(found);
  (*money)->set_minor_units(5);
  money = state.MutableProto<common::v1::Money>("t", "m", &found);
  ASSERT_TRUE(money.ok());
  EXPECT_TRUE(found);
  (*money)->set_minor_units((*money)->minor_units() + 2);
  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 1u);
  ASSERT_TRUE(store_->Commit(batch).ok());
  common::v1::Money stored;
  ASSERT_TRUE(*store_->GetProto("t", "m", &stored));
  EXPECT_EQ(stored.minor_units(), 7);
  // A change thrown away goes back to what is stored.
  (*state.MutableProto<common::v1::Money>("t", "m", &found))
      ->set_minor_units(100);
  state.Discard();
  EXPECT_EQ(
      (*state.MutableProto<common::v1::Money>("t", "m", &found))->minor_units(),
      7);
  state.Delete("t", "m");
  Commit(state);
  EXPECT_FALSE(store_->Get("t", "m")->has_value());
}

bool DigitsNumber(absl::string_view key, uint64_t* number) {
  const std::optional<uint64_t> value = MemberNumberValue(key);
  if (value.has_value()) *number = *value;
  return value.has_value();
}
const NumberedKeys kDigitKeys = {&MemberNumberDigits, &DigitsNumber};

TEST_F(StoreViewTest, RowsKeptByNumberAreStoredUnderTheirKeys) {
  using Row = CountersRecord<2>;
  store::WriteBatch seed = store_->NewBatch();
  seed.Put("t", "1000000019", EncodeCounters({5}));
  seed.Put("t", "other", "q");  // No number's key: stays a row by key.
  ASSERT_TRUE(store_->Commit(seed).ok());
  BufferedViewState state(store_.get(), {.resident_tables = {"t"}});
  ASSERT_TRUE(state.Load().ok());
  bool found = false;
  absl::StatusOr<Row*> loaded =
      state.MutableNumbered<Row>("t", kDigitKeys, 1000000019, &found);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(found);
  EXPECT_EQ((*loaded)->At(0), 5);
  EXPECT_TRUE((*loaded)->Add({3}));
  absl::StatusOr<Row*> added =
      state.MutableNumbered<Row>("t", kDigitKeys, 1000000027, &found);
  ASSERT_TRUE(added.ok());
  EXPECT_FALSE(found);
  EXPECT_TRUE((*added)->Add({0, 2}));
  EXPECT_FALSE((*added)->Add({1, 2, 3}));  // Wider than the record.
  EXPECT_EQ(**state.Get("t", "other"), "q");
  EXPECT_EQ(state.Get("t", "1000000035").status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(state.cached_rows(), 2u + 1u);  // Two by number, one by key.

  store::WriteBatch batch = store_->NewBatch();
  EXPECT_EQ(state.Flush(batch), 2u);
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(**store_->Get("t", "1000000019"), EncodeCounters({8}));
  EXPECT_EQ(**store_->Get("t", "1000000027"), EncodeCounters({0, 2}));

  // A change thrown away is read back from the store.
  (*state.MutableNumbered<Row>("t", kDigitKeys, 1000000019, &found))
      ->Add({100});
  state.Discard();
  EXPECT_EQ(
      (*state.MutableNumbered<Row>("t", kDigitKeys, 1000000019, &found))->At(0),
      8);
  // Not resident: the row by its key.
  BufferedViewState unloaded(store_.get());
  loaded = unloaded.MutableNumbered<Row>("t", kDigitKeys, 1000000027, &found);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(found);
  EXPECT_EQ((*loaded)->At(1), 2);

  state.DeleteNumbered("t", kDigitKeys, 1000000027);
  Commit(state);
  EXPECT_FALSE(store_->Get("t", "1000000027")->has_value());
  ASSERT_TRUE(
      state.MutableNumbered<Row>("t", kDigitKeys, 1000000027, &found).ok());
  EXPECT_FALSE(found);
}

TEST(MemberNumberValueTest, TenDigitsNotLeadingWithZeroAndBack) {
  EXPECT_EQ(MemberNumberValue("1000000019"), 1000000019u);
  EXPECT_EQ(MemberNumberDigits(9999999999u), "9999999999");
  for (const char* not_one :
       {"", "0100000019", "100000001", "10000000190", "10000a0019"}) {
    EXPECT_FALSE(MemberNumberValue(not_one).has_value()) << not_one;
  }
}

// Sums per member in a resident record, a resident counter row and day
// rows; the same events with a restart (and a discarded change) in the
// middle must leave the same store as without.
TEST(StoreViewRestartTest, ReloadedStateEqualsANeverRestartedOne) {
  const std::vector<std::string> tables = {"records", "counters", "days"};
  const BufferedViewStateOptions options{
      .max_cached_rows = 8, .resident_tables = {"records", "counters"}};
  auto apply = [](BufferedViewState& state, int i) {
    const std::string member = absl::StrCat("m", i % 7);
    bool found = false;
    auto record =
        state.MutableProto<common::v1::Money>("records", member, &found);
    ASSERT_TRUE(record.ok());
    (*record)->set_minor_units((*record)->minor_units() + i);
    if (i % 11 == 0) state.Delete("records", member);
    const std::vector<int64_t> before = *state.Counters("counters", member);
    ASSERT_TRUE(
        state.Add("counters", member, {1, CounterAt(before, 0) % 3}).ok());
    const std::string day = store::KeyBuilder().Int64(i / 5).Build();
    ASSERT_TRUE(state.Add("days", day, {i}).ok());
  };
  auto commit = [](store::Store& store, BufferedViewState& state) {
    store::WriteBatch batch = store.NewBatch();
    state.Flush(batch);
    ASSERT_TRUE(store.Commit(batch).ok());
  };
  auto dump = [&](store::Store& store) {
    std::map<std::string, std::string> rows;
    for (const std::string& table : tables) {
      EXPECT_TRUE(
          store
              .Scan(table, store::ScanRange{},
                    [&](absl::string_view key, absl::string_view value) {
                      rows[absl::StrCat(table, "/", key)] = std::string(value);
                      return true;
                    })
              .ok());
    }
    return rows;
  };
  auto once = store::Store::Open(
      {.path = mileagebank::testing::FreshTestDir("once"), .tables = tables});
  auto restarted = store::Store::Open(
      {.path = mileagebank::testing::FreshTestDir("restarted"),
       .tables = tables});
  ASSERT_TRUE(once.ok() && restarted.ok());
  {
    BufferedViewState state(once->get(), options);
    ASSERT_TRUE(state.Load().ok());
    for (int i = 0; i < 200; ++i) {
      apply(state, i);
      if (i % 30 == 29) commit(**once, state);
    }
    commit(**once, state);
  }
  {
    auto first = std::make_unique<BufferedViewState>(restarted->get(), options);
    ASSERT_TRUE(first->Load().ok());
    for (int i = 0; i < 90; ++i) {
      apply(*first, i);
      if (i % 30 == 29) commit(**restarted, *first);
    }
    // What a crash loses: applied, never committed.
    for (int i = 90; i < 100; ++i) apply(*first, i);
    first->Discard();
    apply(*first, 90);
    first.reset();  // A restart: everything in memory is gone.
    BufferedViewState second(restarted->get(), options);
    ASSERT_TRUE(second.Load().ok());
    for (int i = 90; i < 200; ++i) {
      apply(second, i);
      if (i % 30 == 29) commit(**restarted, second);
    }
    commit(**restarted, second);
  }
  const std::map<std::string, std::string> expected = dump(**once);
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(dump(**restarted), expected);
}

TEST_F(StoreViewTest, SnapshotReaderIsConsistentWithItsPositions) {
  store::WriteBatch batch = store_->NewBatch();
  batch.Put("t", "a", "1");
  batch.SetCursor(kAccrualSource, 7);
  ASSERT_TRUE(store_->Commit(batch).ok());
  SnapshotViewReader reader(store_->NewSnapshot());
  store::WriteBatch later = store_->NewBatch();
  later.Put("t", "a", "2");
  later.Put("t", "b", "3");
  later.SetCursor(kAccrualSource, 9);
  ASSERT_TRUE(store_->Commit(later).ok());

  EXPECT_EQ(reader.positions(),
            (std::map<std::string, uint64_t>{{kAccrualSource, 7},
                                             {kMembershipSource, 0},
                                             {kRedemptionSource, 0},
                                             {kSettlementSource, 0}}));
  EXPECT_EQ(**reader.Get("t", "a"), "1");
  int rows = 0;
  ASSERT_TRUE(reader
                  .Scan("t", store::ScanRange{},
                        [&](absl::string_view, absl::string_view) {
                          ++rows;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(rows, 1);
}

}  // namespace
}  // namespace mileagebank::reporting
