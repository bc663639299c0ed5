#include "services/reporting/ingest.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/client/client.h"
#include "libs/client/event_reader.h"
#include "libs/client/shard_streams.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/grpc_status.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace mileagebank::reporting {
namespace {

// Events in line between the readers and the applier. The applier takes
// the whole line at once, so up to twice this many are in memory.
constexpr size_t kLineCapacity = 16384;
// Batches in the store's line not yet durable: enough to apply on while
// one is fsynced, few enough that a slow disk holds the applier back.
constexpr size_t kMaxInFlight = 2;
// How often the clock is read while applying a long run of events.
constexpr size_t kClockEvery = 1024;
constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr absl::Duration kHeadPoll = absl::Seconds(5);
constexpr absl::Duration kHeadDeadline = absl::Seconds(2);
// The layout of the reporting tables this build writes and reads, kept as a
// cursor beside the sources' (2: period rows with year roll-ups). A store
// another layout wrote would be misread: it must be deleted, and is then
// rebuilt from the streams.
constexpr char kLayoutCursor[] = "reporting_layout";
constexpr uint64_t kLayoutVersion = 2;

}  // namespace

// ---------------------------------------------------------------------------
// Metrics

struct Ingest::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : applied(prometheus::BuildCounter()
                    .Name("mileagebank_reporting_events_applied_total")
                    .Help("Events applied and committed, by source")
                    .Register(registry)),
        apply_errors(prometheus::BuildCounter()
                         .Name("mileagebank_reporting_apply_errors_total")
                         .Help("Events a projection failed to apply (each is "
                               "retried), by source")
                         .Register(registry)),
        interruptions(prometheus::BuildCounter()
                          .Name("mileagebank_reporting_stream_"
                                "interruptions_total")
                          .Help("Subscriptions that ended and were resumed, "
                                "by source")
                          .Register(registry)),
        position(prometheus::BuildGauge()
                     .Name("mileagebank_reporting_stream_position")
                     .Help("Sequence of the last committed event, by source")
                     .Register(registry)),
        head(prometheus::BuildGauge()
                 .Name("mileagebank_reporting_stream_head")
                 .Help("Newest sequence of the source's event log (polled), "
                       "by source")
                 .Register(registry)),
        commits(prometheus::BuildCounter()
                    .Name("mileagebank_reporting_commits_total")
                    .Help("Batches of applied events committed")
                    .Register(registry)
                    .Add({})),
        commit_events(
            prometheus::BuildHistogram()
                .Name("mileagebank_reporting_commit_events")
                .Help("Events per committed batch")
                .Register(registry)
                .Add({},
                     prometheus::Histogram::BucketBoundaries{
                         1, 10, 100, 1000, 5000, 10000, 20000, 50000})),
        commit_writes(
            prometheus::BuildHistogram()
                .Name("mileagebank_reporting_commit_writes")
                .Help("Store writes per committed batch")
                .Register(registry)
                .Add({},
                     prometheus::Histogram::BucketBoundaries{
                         10, 100, 1000, 10000, 50000, 100000, 200000})),
        commit_seconds(prometheus::BuildHistogram()
                           .Name("mileagebank_reporting_commit_seconds")
                           .Help("From putting a batch in the store's line "
                                 "to it being durable")
                           .Register(registry)
                           .Add({},
                                prometheus::Histogram::BucketBoundaries{
                                    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})),
        applier_waits(
            prometheus::BuildCounter()
                .Name("mileagebank_reporting_applier_wait_seconds_total")
                .Help("Time the applier waited: for events it may apply "
                      "(reason events) or for room in the store's line "
                      "(reason store)")
                .Register(registry)),
        waiting_for_events(applier_waits.Add({{"reason", "events"}})),
        waiting_for_store(applier_waits.Add({{"reason", "store"}})),
        derivation_pending(
            prometheus::BuildGauge()
                .Name("mileagebank_reporting_derivation_pending")
                .Help("1 until rows deferred by a rebuild (the top-members "
                      "indexes, the period tables' year and month rows) are "
                      "derived and durable, once caught up after a start; "
                      "0 after")
                .Register(registry)
                .Add({})) {
    derivation_pending.Set(1);
  }

  prometheus::Family<prometheus::Counter>& applied;
  prometheus::Family<prometheus::Counter>& apply_errors;
  prometheus::Family<prometheus::Counter>& interruptions;
  prometheus::Family<prometheus::Gauge>& position;
  prometheus::Family<prometheus::Gauge>& head;
  prometheus::Counter& commits;
  prometheus::Histogram& commit_events;
  prometheus::Histogram& commit_writes;
  prometheus::Histogram& commit_seconds;
  prometheus::Family<prometheus::Counter>& applier_waits;
  prometheus::Counter& waiting_for_events;
  prometheus::Counter& waiting_for_store;
  prometheus::Gauge& derivation_pending;
};

// One source: its reader thread and its metrics.
struct Ingest::Source {
  Source(std::string name_in, std::string target_in, Metrics& metrics)
      : name(std::move(name_in)),
        target(std::move(target_in)),
        applied(metrics.applied.Add({{"source", name}})),
        apply_errors(metrics.apply_errors.Add({{"source", name}})),
        interruptions(metrics.interruptions.Add({{"source", name}})),
        position(metrics.position.Add({{"source", name}})),
        head(metrics.head.Add({{"source", name}})) {}

  const std::string name;
  const std::string target;
  prometheus::Counter& applied;
  prometheus::Counter& apply_errors;
  prometheus::Counter& interruptions;
  prometheus::Gauge& position;
  prometheus::Gauge& head;

  std::thread reader;
  // The last sequence put in line; the reader thread's own.
  uint64_t pushed = 0;
  absl::Mutex mutex;
  grpc::ClientContext* active ABSL_GUARDED_BY(mutex) = nullptr;
  bool stopping ABSL_GUARDED_BY(mutex) = false;

  // Catch-up, for its log lines; guarded by commit_mutex_.
  bool catchup_known = false;
  bool catchup_logged = false;
  uint64_t catchup_from = 0;
  uint64_t catchup_head = 0;
  absl::Time catchup_started;
};

// ---------------------------------------------------------------------------
// Life cycle

Ingest::Ingest(store::Store* store, std::vector<Projection*> projections,
               IngestOptions options, prometheus::Registry* metrics)
    : store_(store),
      projections_(std::move(projections)),
      options_(std::move(options)),
      state_(store, {.resident_tables = ResidentTables(projections_)}) {
  if (options_.targets.empty() || options_.commit_every_events < 1 ||
      options_.catchup_commit_every_events < 1 ||
      options_.commit_every <= absl::ZeroDuration() || projections_.empty()) {
    log::Error("reporting_ingest_misconfigured",
               {{"sources", static_cast<int64_t>(options_.targets.size())},
                {"projections", static_cast<int64_t>(projections_.size())},
                {"commit_every_events", options_.commit_every_events}});
    std::abort();
  }
  if (metrics == nullptr) {
    own_registry_ = std::make_unique<prometheus::Registry>();
    metrics = own_registry_.get();
  }
  metrics_ = std::make_unique<Metrics>(*metrics);
  absl::MutexLock lock(&commit_mutex_);
  for (const auto& [name, target] : options_.targets) {
    absl::StatusOr<uint64_t> cursor = store_->ReadCursor(name);
    if (!cursor.ok()) {
      // The store cannot say where this source stands: nothing derived
      // from it can be trusted, and only an operator can decide.
      log::Error("reporting_cursor_unreadable",
                 {{"source", name}, {"error", cursor.status().ToString()}});
      std::abort();
    }
    auto source = std::make_unique<Source>(name, target, *metrics_);
    source->pushed = *cursor;
    source->position.Set(static_cast<double>(*cursor));
    sources_.push_back(std::move(source));
    applied_.push_back(*cursor);
    flushed_.push_back(*cursor);
    committed_.push_back(*cursor);
    events_since_flush_.push_back(0);
  }
  {
    absl::MutexLock queue_lock(&queue_mutex_);
    lines_.resize(sources_.size());
    heads_.resize(sources_.size());
    waived_.resize(sources_.size());
    for (const auto& source : sources_) lined_up_to_.push_back(source->pushed);
  }
  absl::StatusOr<uint64_t> layout = store_->ReadCursor(kLayoutCursor);
  const bool fresh = std::all_of(committed_.begin(), committed_.end(),
                                 [](uint64_t cursor) { return cursor == 0; });
  if (!layout.ok() || (!fresh && *layout != kLayoutVersion)) {
    log::Error("reporting_store_layout_mismatch",
               {{"path", store_->path()},
                {"layout", layout.ok() ? static_cast<int64_t>(*layout) : -1},
                {"needed", static_cast<int64_t>(kLayoutVersion)},
                {"action",
                 "delete the reporting store; it is rebuilt from "
                 "the event streams"}});
    std::abort();
  }
  layout_written_ = layout.ok() && *layout == kLayoutVersion;
}

Ingest::~Ingest() { Stop(); }

std::vector<std::string> Ingest::Tables(
    const std::vector<Projection*>& projections) {
  std::vector<std::string> tables;
  for (const Projection* projection : projections) {
    for (std::string& table : projection->Tables()) {
      tables.push_back(std::move(table));
    }
  }
  return tables;
}

std::vector<std::string> Ingest::ResidentTables(
    const std::vector<Projection*>& projections) {
  std::vector<std::string> tables;
  for (const Projection* projection : projections) {
    for (std::string& table : projection->ResidentTables()) {
      tables.push_back(std::move(table));
    }
  }
  return tables;
}

void Ingest::Start() {
  absl::MutexLock lock(&lifecycle_mutex_);
  if (started_ || stopped_) return;
  started_ = true;
  for (size_t i = 0; i < sources_.size(); ++i) {
    log::Info("reporting_ingest_started", {{"source", sources_[i]->name},
                                           {"target", sources_[i]->target},
                                           {"cursor", sources_[i]->pushed}});
  }
  committer_ = std::thread([this] { CommitLoop(); });
  applier_ = std::thread([this] { ApplyLoop(); });
  for (size_t i = 0; i < sources_.size(); ++i) {
    sources_[i]->reader = std::thread([this, i] { ReadLoop(i); });
  }
  monitor_ = std::thread([this] { MonitorLoop(); });
}

void Ingest::Stop() { StopImpl(/*commit=*/true); }

void Ingest::StopWithoutCommitForTest() { StopImpl(/*commit=*/false); }

void Ingest::StopImpl(bool commit) {
  absl::MutexLock lifecycle(&lifecycle_mutex_);
  if (stopped_) return;
  stopped_ = true;
  commit_on_stop_ = commit;
  // Readers first, so that nothing new arrives; then the applier, which
  // commits what it applied; then the committer, once that is durable.
  for (auto& source : sources_) {
    absl::MutexLock lock(&source->mutex);
    source->stopping = true;
    if (source->active != nullptr) source->active->TryCancel();
  }
  {
    absl::MutexLock lock(&queue_mutex_);
    readers_stopping_ = true;
  }
  for (auto& source : sources_) {
    if (source->reader.joinable()) source->reader.join();
  }
  {
    absl::MutexLock lock(&queue_mutex_);
    applier_stopping_ = true;
  }
  if (applier_.joinable()) applier_.join();
  {
    absl::MutexLock lock(&queue_mutex_);
    applier_gone_ = true;
    // Holds nobody will serve now.
    for (auto& hold : holds_) hold->done = true;
    holds_.clear();
  }
  {
    absl::MutexLock lock(&commit_mutex_);
    committer_stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
  stop_monitor_.Notify();
  if (monitor_.joinable()) monitor_.join();
}

// ---------------------------------------------------------------------------
// Queries

absl::StatusOr<size_t> Ingest::SourceIndex(absl::string_view name) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i]->name == name) return i;
  }
  return absl::NotFoundError(name);
}

std::map<std::string, uint64_t> Ingest::positions() const {
  std::map<std::string, uint64_t> out;
  absl::MutexLock lock(&commit_mutex_);
  for (size_t i = 0; i < sources_.size(); ++i) {
    out[sources_[i]->name] = committed_[i];
  }
  return out;
}

absl::Status Ingest::WaitFor(
    const google::protobuf::Map<std::string, uint64_t>& min,
    absl::Time deadline) const {
  std::vector<std::pair<size_t, uint64_t>> wanted;
  for (const auto& [name, sequence] : min) {
    absl::StatusOr<size_t> index = SourceIndex(name);
    if (!index.ok()) {
      std::vector<std::string> known;
      for (const auto& source : sources_) known.push_back(source->name);
      return InvalidField(
          "min_stream_positions",
          absl::StrCat("unknown source \"", name, "\"; known sources are ",
                       absl::StrJoin(known, ", ")));
    }
    wanted.emplace_back(*index, sequence);
  }
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mutex_) {
    for (const auto& [index, sequence] : wanted) {
      if (committed_[index] < sequence) return false;
    }
    return true;
  };
  absl::MutexLock lock(&commit_mutex_);
  if (commit_mutex_.AwaitWithDeadline(absl::Condition(&reached), deadline)) {
    return absl::OkStatus();
  }
  std::vector<std::string> behind;
  for (const auto& [index, sequence] : wanted) {
    if (committed_[index] < sequence) {
      behind.push_back(absl::StrCat(sources_[index]->name, " at ",
                                    committed_[index], " of ", sequence));
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("min_stream_positions: not reached by the deadline (",
                   absl::StrJoin(behind, ", "), ")"));
}

std::unique_ptr<ViewReader> Ingest::Reader() const {
  // Every source at its position (0 when not followed), but a sharded one
  // as its streams "accrual-0"... only, never also as a phantom "accrual".
  std::vector<std::string> names;
  for (const auto& source : sources_) names.push_back(source->name);
  for (const std::string& service : SnapshotViewReader::AllSources()) {
    const bool followed =
        std::any_of(names.begin(), names.end(), [&](const std::string& name) {
          return client::ServiceOfStream(name) == service;
        });
    if (!followed) names.push_back(service);
  }
  return std::make_unique<SnapshotViewReader>(store_->NewSnapshot(), names);
}

absl::StatusOr<std::unique_ptr<ViewReader>> Ingest::ReaderAt(
    const std::string& source, uint64_t sequence, absl::Time deadline) {
  absl::StatusOr<size_t> index = SourceIndex(source);
  if (!index.ok()) {
    return InvalidField("source",
                        absl::StrCat("unknown source \"", source, "\""));
  }
  {
    absl::MutexLock lock(&commit_mutex_);
    if (committed_[*index] > sequence) {
      return FailedPreconditionField(
          "sequence", absl::StrCat(source, " is already applied up to ",
                                   committed_[*index]));
    }
  }
  auto hold = std::make_shared<Hold>();
  hold->source = *index;
  hold->sequence = sequence;
  absl::MutexLock lock(&queue_mutex_);
  if (applier_gone_) return absl::UnavailableError("ingest stopped");
  holds_.push_back(hold);
  ++holds_added_;
  holds_pending_ = true;
  if (!queue_mutex_.AwaitWithDeadline(absl::Condition(&hold->done), deadline)) {
    holds_.erase(std::find(holds_.begin(), holds_.end(), hold));
    holds_pending_ = !holds_.empty();
    return absl::DeadlineExceededError(absl::StrCat(
        "reader at ", source, " ", sequence, ": not reached by the deadline"));
  }
  return std::move(hold->result);
}

// ---------------------------------------------------------------------------
// Readers

void Ingest::ReadLoop(size_t index) {
  Source& source = *sources_[index];
  absl::Duration backoff = kMinBackoff;
  while (true) {
    const uint64_t before = source.pushed;
    absl::Status ended = FollowOnce(index);
    {
      absl::MutexLock lock(&source.mutex);
      if (source.stopping) return;
    }
    if (source.pushed > before) backoff = kMinBackoff;
    source.interruptions.Increment();
    log::Warning("event_stream_interrupted", {{"source", source.name},
                                              {"position", source.pushed},
                                              {"reason", ended.ToString()}});
    absl::MutexLock lock(&source.mutex);
    source.mutex.AwaitWithTimeout(absl::Condition(&source.stopping), backoff);
    if (source.stopping) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

absl::Status Ingest::FollowOnce(size_t index) {
  Source& source = *sources_[index];
  auto stub =
      common::v1::EventStream::NewStub(client::ChannelFor(source.target));
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&source.mutex);
    if (source.stopping) return absl::CancelledError("stopping");
    source.active = &context;
  }
  common::v1::SubscribeRequest request;
  // Resumes after what is already in line, not after the stored cursor:
  // the applier holds everything in between.
  request.set_after_sequence(source.pushed);
  request.set_follow(true);
  client::EventReader reader(stub.get(), &context, request);
  std::vector<common::v1::Event> events;
  absl::Status result = absl::OkStatus();
  while (reader.NextMessage(&events)) {
    // Already in line: the start of a resumed stream.
    events.erase(events.begin(),
                 std::find_if(events.begin(), events.end(),
                              [&](const common::v1::Event& event) {
                                return event.sequence() > source.pushed;
                              }));
    if (events.empty()) continue;
    const uint64_t sequence = events.back().sequence();
    if (!Push(index, std::move(events))) {
      result = absl::CancelledError("stopping");
      context.TryCancel();
      break;
    }
    source.pushed = sequence;
    events.clear();
  }
  grpc::Status finished = reader.Finish();
  {
    absl::MutexLock lock(&source.mutex);
    source.active = nullptr;
  }
  if (!result.ok()) return result;
  return finished.ok() ? absl::UnavailableError("stream ended")
                       : FromGrpcStatus(finished);
}

bool Ingest::Push(size_t index, std::vector<common::v1::Event> events) {
  absl::MutexLock lock(&queue_mutex_);
  auto room = [this, index]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_) {
    return readers_stopping_ || lines_[index].size() < kLineCapacity;
  };
  queue_mutex_.Await(absl::Condition(&room));
  if (readers_stopping_) return false;
  lined_up_to_[index] = events.back().sequence();
  waived_[index] = false;
  queued_ += events.size();
  std::move(events.begin(), events.end(), std::back_inserter(lines_[index]));
  return true;
}

bool Ingest::Behind(size_t index) const {
  if (!lines_[index].empty() || waived_[index]) return false;
  return !heads_[index].has_value() || lined_up_to_[index] < *heads_[index];
}

namespace {

bool RecordedBefore(const common::v1::Event& a, const common::v1::Event& b) {
  const google::protobuf::Timestamp& x = a.recorded_at();
  const google::protobuf::Timestamp& y = b.recorded_at();
  return x.seconds() != y.seconds() ? x.seconds() < y.seconds()
                                    : x.nanos() < y.nanos();
}

}  // namespace

void Ingest::TakeInOrder(std::vector<Item>& work) {
  const size_t count = lines_.size();
  while (queued_ > 0) {
    std::optional<size_t> first;
    for (size_t i = 0; i < count; ++i) {
      if (Behind(i)) return;
      // Ties go to the source listed first: the same order on every run.
      if (!lines_[i].empty() &&
          (!first.has_value() ||
           RecordedBefore(lines_[i].front(), lines_[*first].front()))) {
        first = i;
      }
    }
    std::deque<common::v1::Event>& line = lines_[*first];
    work.push_back(Item{*first, std::move(line.front())});
    line.pop_front();
    --queued_;
  }
}

// ---------------------------------------------------------------------------
// Applier

void Ingest::ApplyLoop() {
  // Here rather than in the constructor: the service answers (from the
  // store) while a million member rows are read.
  const absl::Time loading = absl::Now();
  absl::Status loaded = state_.Load();
  if (!loaded.ok()) {
    // The store cannot be read back: only an operator can decide.
    log::Error("reporting_state_unreadable", {{"error", loaded.ToString()}});
    std::abort();
  }
  log::Info("reporting_state_loaded",
            {{"rows", static_cast<int64_t>(state_.cached_rows())},
             {"seconds", absl::ToDoubleSeconds(absl::Now() - loading)}});
  if (std::all_of(applied_.begin(), applied_.end(),
                  [](uint64_t sequence) { return sequence == 0; })) {
    // An empty store: a rebuild from the start of history.
    for (Projection* projection : projections_) {
      projection->DeferDerived(state_);
    }
    unflushed_outside_events_ = true;
  }
  std::vector<Item> work;
  size_t next = 0;  // First item of `work` not applied yet.
  bool catching_up = false;
  bool caught_up = false;
  absl::Duration backoff = kMinBackoff;
  while (true) {
    if (next == work.size()) {
      work.clear();
      next = 0;
      const bool stopping = !TakeWork(work, &catching_up, &caught_up);
      if (stopping) break;
      if (caught_up && derive_pending_ && absl::Now() >= derive_not_before_) {
        DeriveDeferred();
      }
      if (!catching_up && absl::Now() >= commit_due_) Commit();
      if (work.empty()) {
        if (holds_pending_) ServeHolds(nullptr);
        continue;
      }
    }
    for (; next < work.size(); ++next) {
      Item& item = work[next];
      if (holds_pending_) ServeHolds(&item);
      absl::Status applied = ApplyOne(item);
      if (!applied.ok()) {
        Source& source = *sources_[item.source];
        source.apply_errors.Increment();
        log::Error("reporting_apply_failed",
                   {{"source", source.name},
                    {"sequence", item.event.sequence()},
                    {"error", applied.ToString()},
                    {"retry_in_ms", absl::ToInt64Milliseconds(backoff)}});
        // Some projections may have applied this event already: drop
        // everything since the last flush and apply it all again.
        state_.Discard();
        applied_ = flushed_;
        std::fill(events_since_flush_.begin(), events_since_flush_.end(), 0);
        std::vector<Item> again = std::move(unflushed_);
        unflushed_.clear();
        again.insert(again.end(), std::make_move_iterator(work.begin() + next),
                     std::make_move_iterator(work.end()));
        work = std::move(again);
        next = 0;
        bool stopping;
        {
          absl::MutexLock lock(&queue_mutex_);
          queue_mutex_.AwaitWithTimeout(absl::Condition(&applier_stopping_),
                                        backoff);
          stopping = applier_stopping_;
        }
        backoff = std::min(backoff * 2, kMaxBackoff);
        if (stopping) {
          work.clear();
          break;
        }
        break;  // Restart the run from the first event to apply again.
      }
      backoff = kMinBackoff;
      applied_[item.source] = item.event.sequence();
      ++events_since_flush_[item.source];
      if (unflushed_.empty()) commit_due_ = absl::Now() + options_.commit_every;
      unflushed_.push_back(std::move(item));
      if (CommitDue(catching_up)) Commit();
    }
    // A hold may be due at the end of a run, with no next event to see.
    if (next == work.size() && holds_pending_) ServeHolds(nullptr);
    {
      absl::MutexLock lock(&queue_mutex_);
      if (applier_stopping_) break;
    }
  }
  if (commit_on_stop_) store_->Wait(Commit());
  absl::MutexLock lock(&queue_mutex_);
  for (auto& hold : holds_) hold->done = true;  // UNAVAILABLE.
  holds_.clear();
  holds_pending_ = false;
}

bool Ingest::TakeWork(std::vector<Item>& work, bool* catching_up,
                      bool* caught_up) {
  absl::MutexLock lock(&queue_mutex_);
  auto none_behind = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_) {
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (Behind(i)) return false;
    }
    return true;
  };
  // A hold already seen waits for events, not for the applier.
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_) {
    return (queued_ > 0 && none_behind()) || applier_stopping_ ||
           holds_added_ != holds_seen_;
  };
  auto held_back = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_) {
    return queued_ > 0 && !none_behind();
  };
  // Wakes also when events first wait for a source behind, to start
  // the clock of merge_wait.
  auto ready_or_held_back = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_) {
    return ready() || (!held_back_since_.has_value() && held_back());
  };
  const absl::Time began = absl::Now();
  while (!ready()) {
    if (!held_back_since_.has_value() && held_back()) {
      held_back_since_ = absl::Now();
    }
    const absl::Time deadline =
        held_back_since_.has_value()
            ? std::min(commit_due_, *held_back_since_ + options_.merge_wait)
            : commit_due_;
    if (!queue_mutex_.AwaitWithDeadline(absl::Condition(&ready_or_held_back),
                                        deadline)) {
      break;
    }
  }
  metrics_->waiting_for_events.Increment(
      absl::ToDoubleSeconds(absl::Now() - began));
  if (held_back()) {
    const absl::Time now = absl::Now();
    if (!held_back_since_.has_value()) held_back_since_ = now;
    if (now - *held_back_since_ >= options_.merge_wait) {
      for (size_t i = 0; i < lines_.size(); ++i) {
        if (!Behind(i)) continue;
        waived_[i] = true;
        log::Warning("reporting_source_not_waited_for",
                     {{"source", sources_[i]->name},
                      {"position", lined_up_to_[i]},
                      {"waited_ms",
                       absl::ToInt64Milliseconds(now - *held_back_since_)}});
      }
    }
  }
  if (queued_ == 0 || none_behind()) held_back_since_.reset();
  holds_seen_ = holds_added_;
  *catching_up = queued_ >= kLineCapacity / 2;
  *caught_up = !*catching_up;
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (!heads_[i].has_value() || lined_up_to_[i] < *heads_[i]) {
      *caught_up = false;
    }
  }
  TakeInOrder(work);
  return !applier_stopping_;
}

bool Ingest::CommitDue(bool catching_up) const {
  const size_t events = unflushed_.size();
  if (catching_up) {
    return events >= static_cast<size_t>(options_.catchup_commit_every_events);
  }
  // The clock is read once in a while only (and when the line is taken).
  return events >= static_cast<size_t>(options_.commit_every_events) ||
         (events % kClockEvery == 0 && absl::Now() >= commit_due_);
}

absl::Status Ingest::ApplyOne(const Item& item) {
  // Projections see the service ("accrual"), whichever shard's stream
  // ("accrual-2") brought the event.
  const SourceEvent event(client::ServiceOfStream(sources_[item.source]->name),
                          item.event);
  for (Projection* projection : projections_) {
    absl::Status status = projection->Apply(event, state_);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

uint64_t Ingest::Commit() {
  commit_due_ = absl::InfiniteFuture();
  if (unflushed_.empty() && applied_ == flushed_ &&
      !unflushed_outside_events_) {
    return last_ticket_;
  }
  unflushed_outside_events_ = false;
  store::WriteBatch batch = store_->NewBatch();
  InFlight flight;
  flight.writes = state_.Flush(batch);
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (applied_[i] != flushed_[i]) {
      batch.SetCursor(sources_[i]->name, applied_[i]);
    }
  }
  if (!layout_written_) {
    batch.SetCursor(kLayoutCursor, kLayoutVersion);
    layout_written_ = true;
  }
  flight.positions = applied_;
  flight.events = events_since_flush_;
  flight.total_events = unflushed_.size();
  {
    // Bounded: the applier waits while the disk is behind.
    absl::MutexLock lock(&commit_mutex_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mutex_) {
      return in_flight_.size() < kMaxInFlight;
    };
    const absl::Time began = absl::Now();
    commit_mutex_.Await(absl::Condition(&room));
    flight.enqueued = absl::Now();
    metrics_->waiting_for_store.Increment(
        absl::ToDoubleSeconds(flight.enqueued - began));
    // In line before it is published: the committer waits for this ticket.
    flight.ticket = store_->Enqueue(batch);
    last_ticket_ = flight.ticket;
    in_flight_.push_back(std::move(flight));
  }
  flushed_ = applied_;
  std::fill(events_since_flush_.begin(), events_since_flush_.end(), 0);
  unflushed_.clear();
  return last_ticket_;
}

void Ingest::DeriveDeferred() {
  const absl::Time began = absl::Now();
  store_->Wait(Commit());
  // Nothing is buffered now: the store holds everything applied.
  const std::unique_ptr<ViewReader> view = Reader();
  for (Projection* projection : projections_) {
    absl::Status derived = projection->DeriveDeferred(*view, state_);
    if (!derived.ok()) {
      // Its queries still answer, from the rows it derives from.
      log::Error("reporting_derive_failed",
                 {{"error", derived.ToString()},
                  {"retry_in_s", absl::ToInt64Seconds(kMaxBackoff)}});
      state_.Discard();
      derive_not_before_ = absl::Now() + kMaxBackoff;
      return;
    }
  }
  derive_pending_ = false;
  unflushed_outside_events_ = true;
  // Waited for once, so that the gauge says when the rebuild is complete.
  store_->Wait(Commit());
  metrics_->derivation_pending.Set(0);
  log::Info("reporting_deferred_rows_derived",
            {{"seconds", absl::ToDoubleSeconds(absl::Now() - began)}});
}

void Ingest::ServeHolds(const Item* next) {
  std::vector<std::shared_ptr<Hold>> holds;
  {
    absl::MutexLock lock(&queue_mutex_);
    holds = holds_;
  }
  std::vector<std::pair<std::shared_ptr<Hold>,
                        absl::StatusOr<std::unique_ptr<ViewReader>>>>
      ready;
  bool snapshot_needed = false;
  for (auto& hold : holds) {
    const uint64_t applied = applied_[hold->source];
    if (applied > hold->sequence) {
      ready.emplace_back(
          hold,
          FailedPreconditionField(
              "sequence", absl::StrCat(sources_[hold->source]->name,
                                       " is already applied up to ", applied)));
    } else if (applied == hold->sequence ||
               (next != nullptr && next->source == hold->source &&
                next->event.sequence() > hold->sequence)) {
      ready.emplace_back(hold, nullptr);
      snapshot_needed = true;
    }
  }
  if (ready.empty()) return;
  if (snapshot_needed) {
    // Everything applied so far is in line and durable before the snapshot,
    // and nothing later is: the applier is here.
    store_->Wait(Commit());
    for (auto& [hold, result] : ready) {
      if (result.ok()) result = Reader();
    }
  }
  absl::MutexLock lock(&queue_mutex_);
  for (auto& [hold, result] : ready) {
    auto it = std::find(holds_.begin(), holds_.end(), hold);
    if (it == holds_.end()) continue;  // Its caller gave up.
    hold->result = std::move(result);
    hold->done = true;
    holds_.erase(it);
  }
  holds_pending_ = !holds_.empty();
}

// ---------------------------------------------------------------------------
// Committer and head poller

void Ingest::CommitLoop() {
  while (true) {
    InFlight flight;
    {
      absl::MutexLock lock(&commit_mutex_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mutex_) {
        return !in_flight_.empty() || committer_stopping_;
      };
      commit_mutex_.Await(absl::Condition(&ready));
      if (in_flight_.empty()) return;
      flight = in_flight_.front();
    }
    store_->Wait(flight.ticket);
    const absl::Time now = absl::Now();
    metrics_->commits.Increment();
    metrics_->commit_events.Observe(static_cast<double>(flight.total_events));
    metrics_->commit_writes.Observe(static_cast<double>(flight.writes));
    metrics_->commit_seconds.Observe(
        absl::ToDoubleSeconds(now - flight.enqueued));
    absl::MutexLock lock(&commit_mutex_);
    in_flight_.pop_front();
    for (size_t i = 0; i < sources_.size(); ++i) {
      Source& source = *sources_[i];
      committed_[i] = flight.positions[i];
      if (flight.events[i] > 0) {
        source.applied.Increment(static_cast<double>(flight.events[i]));
      }
      source.position.Set(static_cast<double>(committed_[i]));
      if (source.catchup_known && !source.catchup_logged &&
          committed_[i] >= source.catchup_head) {
        source.catchup_logged = true;
        const double seconds =
            absl::ToDoubleSeconds(now - source.catchup_started);
        const uint64_t events = committed_[i] - source.catchup_from;
        log::Info(
            "reporting_catchup_finished",
            {{"source", source.name},
             {"position", committed_[i]},
             {"events", events},
             {"seconds", seconds},
             {"events_per_second",
              seconds > 0 ? static_cast<double>(events) / seconds : 0.0}});
      }
    }
  }
}

void Ingest::MonitorLoop() {
  std::vector<std::unique_ptr<common::v1::EventStream::Stub>> stubs;
  for (const auto& source : sources_) {
    stubs.push_back(
        common::v1::EventStream::NewStub(client::ChannelFor(source->target)));
  }
  do {
    for (size_t i = 0; i < sources_.size(); ++i) {
      Source& source = *sources_[i];
      common::v1::GetHeadResponse head;
      absl::Status asked = client::Call(
          *stubs[i], &common::v1::EventStream::Stub::GetHead,
          common::v1::GetHeadRequest(), &head,
          client::CallPolicy{.deadline = kHeadDeadline, .max_attempts = 1});
      if (!asked.ok()) continue;  // The reader logs the source's trouble.
      source.head.Set(static_cast<double>(head.last_sequence()));
      {
        absl::MutexLock lock(&queue_mutex_);
        heads_[i] = head.last_sequence();
      }
      absl::MutexLock lock(&commit_mutex_);
      if (source.catchup_known) continue;
      source.catchup_known = true;
      source.catchup_from = committed_[i];
      source.catchup_head = head.last_sequence();
      source.catchup_started = absl::Now();
      if (committed_[i] >= head.last_sequence()) {
        source.catchup_logged = true;  // Nothing to catch up.
        continue;
      }
      log::Info("reporting_catchup_started", {{"source", source.name},
                                              {"from", committed_[i]},
                                              {"head", head.last_sequence()}});
    }
  } while (!stop_monitor_.WaitForNotificationWithTimeout(kHeadPoll));
}

}  // namespace mileagebank::reporting
