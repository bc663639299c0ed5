// Google Benchmark of the reporting ingest's catch-up from an empty store.
//
// The real report projections are written separately; this measures the
// engine under a synthetic load shaped like them: per event, the payload is
// unpacked, five counter rows keyed by day (and a dimension) get Add()ed,
// and one per-member record (of 1,000,000 members) is read and written.
//
// - BM_IngestCatchUp: the whole Ingest (four reader threads subscribed over
//   gRPC to in-process EventStream servers, the applier, commits with
//   cursors) from an empty store to the sources' heads.
// - BM_ApplyAndCommit: the same projection load through BufferedViewState
//   and the store's commit path alone, without the network, to tell the two
//   costs apart; Arg(1) keeps rows cached across flushes (the default),
//   Arg(0) drops them at each flush (the cache's worth).
//
//   bazel run -c opt //bench:reporting_ingest_benchmark
//
// Stores go under $MB_BENCH_DIR (default /tmp). Events per run:
// $MB_BENCH_EVENTS (default 1,000,000, spread over four sources); members:
// $MB_BENCH_MEMBERS (default 1,000,000).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "libs/server/event_stream_service.h"
#include "libs/store/keys.h"
#include "libs/store/store.h"
#include "libs/testing/loopback_server.h"
#include "mileagebank/common/v1/common.pb.h"
#include "services/reporting/ingest.h"
#include "services/reporting/store_view.h"

namespace mileagebank::reporting {
namespace {

constexpr int kDays = 3 * 365;
const char* const kSources[] = {kMembershipSource, kAccrualSource,
                                kRedemptionSource, kSettlementSource};

std::string BenchDir(absl::string_view name) {
  const char* base = std::getenv("MB_BENCH_DIR");
  return absl::StrCat(base ? base : "/tmp", "/mb-bench-reporting-", name);
}

// 1,000,000 unless $MB_BENCH_MEMBERS says otherwise (fewer members give
// the reuse of a long history: 20 events per member over 20,000,000).
int64_t Members() {
  const char* members = std::getenv("MB_BENCH_MEMBERS");
  return members ? std::atoll(members) : 1'000'000;
}

int64_t TotalEvents() {
  const char* events = std::getenv("MB_BENCH_EVENTS");
  return events ? std::atoll(events) : 1'000'000;
}

// Deterministic pseudo-random members, so every run folds the same events.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The i-th event of a source: a member, and its activity date (history
// runs over three years in order).
void MakeEvent(int source, int64_t i, int64_t per_source,
               common::v1::Event* event) {
  const absl::CivilDay day =
      absl::CivilDay(2023, 1, 1) + (i * kDays) / std::max<int64_t>(per_source, 1);
  common::v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  event->set_key(absl::StrCat(
      1'000'000'000 + Mix(static_cast<uint64_t>(source) << 40 | i) % Members()));
  event->mutable_payload()->PackFrom(date);
}

class SyntheticProjection final : public Projection {
 public:
  std::vector<std::string> Tables() const override {
    return {"synthetic_daily", "synthetic_members"};
  }

  absl::Status Apply(const SourceEvent& source_event,
                     ViewState& state) override {
    const absl::string_view source = source_event.source();
    const common::v1::Event& event = source_event.event();
    common::v1::Date date;
    if (!event.payload().UnpackTo(&date)) {
      return absl::DataLossError("synthetic: not a date");
    }
    const absl::CivilDay day(date.year(), date.month(), date.day());
    const int64_t miles = static_cast<int64_t>(event.sequence() % 1000);
    const uint64_t member_hash = Mix(event.sequence());
    const std::string by_day = store::KeyBuilder().Day(day).Build();
    absl::Status status;
    status.Update(state.Add("synthetic_daily",
                            store::KeyBuilder(by_day).String("all").Build(),
                            {1, miles}));
    status.Update(state.Add("synthetic_daily",
                            store::KeyBuilder(by_day).String(source).Build(),
                            {1, miles}));
    status.Update(state.Add(
        "synthetic_daily",
        store::KeyBuilder(by_day).String("tier").Uint64(member_hash % 4).Build(),
        {1, miles, -miles}));
    status.Update(state.Add("synthetic_daily",
                            store::KeyBuilder(by_day)
                                .String("channel")
                                .Uint64(member_hash % 6)
                                .Build(),
                            {1}));
    status.Update(state.Add(
        "synthetic_daily",
        store::KeyBuilder()
            .String("month")
            .Day(absl::CivilDay(absl::CivilMonth(day)))
            .Build(),
        {miles}));
    if (!status.ok()) return status;
    // The member's running record: read, change, write back.
    common::v1::Money balance;
    absl::StatusOr<bool> found =
        state.GetProto("synthetic_members", event.key(), &balance);
    if (!found.ok()) return found.status();
    balance.set_minor_units(balance.minor_units() + miles);
    state.PutProto("synthetic_members", event.key(), balance);
    return absl::OkStatus();
  }
};

// A source service: a store filled with its history, served over gRPC.
class Producer {
 public:
  Producer(int source, int64_t events) {
    const std::string path = BenchDir(absl::StrCat("source-", source));
    std::filesystem::remove_all(path);
    store_ = std::move(*store::Store::Open({.path = path, .tables = {}}));
    store::WriteBatch batch = store_->NewBatch();
    for (int64_t i = 0; i < events; ++i) {
      common::v1::Event event;
      MakeEvent(source, i, events, &event);
      common::v1::Date date;
      event.payload().UnpackTo(&date);
      batch.AppendEvent(event.key(), date);
      if (i % 10'000 == 9'999 || i == events - 1) {
        if (!store_->Commit(batch).ok()) std::abort();
      }
    }
    service_ = std::make_unique<server::EventStreamService>(store_.get());
    served_ = testing::ServeOnLoopback({service_.get()});
  }
  ~Producer() {
    store_->StopWaiters();
    served_.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  std::string target() const { return served_.target; }
  uint64_t head() const { return store_->LastSequence(); }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<server::EventStreamService> service_;
  testing::LoopbackServer served_;
};

std::unique_ptr<store::Store> FreshViewStore(
    const std::vector<Projection*>& projections) {
  const std::string path = BenchDir("view");
  std::filesystem::remove_all(path);
  auto store =
      store::Store::Open({.path = path, .tables = Ingest::Tables(projections)});
  if (!store.ok()) std::abort();
  return std::move(*store);
}

void BM_IngestCatchUp(benchmark::State& state) {
  const int64_t per_source = TotalEvents() / 4;
  std::vector<std::unique_ptr<Producer>> producers;
  IngestOptions options;
  google::protobuf::Map<std::string, uint64_t> heads;
  for (int source = 0; source < 4; ++source) {
    producers.push_back(std::make_unique<Producer>(source, per_source));
    options.targets[kSources[source]] = producers.back()->target();
    heads[kSources[source]] = producers.back()->head();
  }
  SyntheticProjection projection;
  std::vector<Projection*> projections = {&projection};
  int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<store::Store> store = FreshViewStore(projections);
    state.ResumeTiming();
    Ingest ingest(store.get(), projections, options, nullptr);
    ingest.Start();
    absl::Status done = ingest.WaitFor(heads, absl::Now() + absl::Minutes(10));
    if (!done.ok()) {
      state.SkipWithError(done.ToString().c_str());
      break;
    }
    ingest.Stop();
    events += per_source * 4;
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(per_source * 4);
}
BENCHMARK(BM_IngestCatchUp)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(2);

void BM_ApplyAndCommit(benchmark::State& state) {
  const int64_t total = TotalEvents();
  const int64_t per_source = total / 4;
  std::vector<common::v1::Event> history;
  history.reserve(total);
  for (int64_t i = 0; i < per_source; ++i) {
    for (int source = 0; source < 4; ++source) {
      common::v1::Event& event = history.emplace_back();
      MakeEvent(source, i, per_source, &event);
      event.set_sequence(i + 1);
    }
  }
  SyntheticProjection projection;
  std::vector<Projection*> projections = {&projection};
  BufferedViewStateOptions cache;
  if (state.range(0) == 0) cache.max_cached_rows = 0;
  constexpr size_t kCommitEvery = 20'000;
  int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<store::Store> store = FreshViewStore(projections);
    state.ResumeTiming();
    BufferedViewState view(store.get(), cache);
    uint64_t ticket = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const common::v1::Event& event = history[i];
      if (!projection.Apply(SourceEvent(kSources[i % 4], event), view).ok()) std::abort();
      if (i % kCommitEvery == kCommitEvery - 1 || i + 1 == history.size()) {
        store::WriteBatch batch = store->NewBatch();
        view.Flush(batch);
        batch.SetCursor(kSources[i % 4], event.sequence());
        // One batch in flight, as the ingest allows a couple.
        if (ticket != 0) store->Wait(ticket);
        ticket = store->Enqueue(batch);
      }
    }
    store->Wait(ticket);
    events += static_cast<int64_t>(history.size());
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ApplyAndCommit)
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace
}  // namespace mileagebank::reporting
