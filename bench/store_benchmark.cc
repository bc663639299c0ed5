// Google Benchmark of the store's commit path: what one durable (fsynced)
// commit costs, and how concurrent commits share their fsync through the
// store's pipelined group commit.
//
//   bazel run -c opt //bench:store_benchmark -- --benchmark_min_time=2
//
// The folder is taken from $MB_BENCH_DIR (default /tmp), so that it can be put
// on the disk whose fsync is to be measured.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "libs/store/keys.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/common.pb.h"

namespace mileagebank::store {
namespace {

std::unique_ptr<Store> OpenFresh(const std::string& name) {
  const char* base = std::getenv("MB_BENCH_DIR");
  std::string path = std::string(base ? base : "/tmp") + "/mb-bench-" + name;
  std::filesystem::remove_all(path);
  auto store = Store::Open({.path = path, .tables = {"things"}});
  if (!store.ok()) std::abort();
  return std::move(*store);
}

// One shared store per benchmark run, so that threads contend on it.
Store* shared_store = nullptr;
std::atomic<int64_t> next_key{0};

void Commit(Store& store) {
  common::v1::Money payload;
  payload.set_minor_units(next_key++);
  WriteBatch batch = store.NewBatch();
  batch.Put("things", KeyBuilder().Int64(payload.minor_units()).Build(),
            std::string(200, 'x'));
  batch.AppendEvent("member", payload);
  if (!store.Commit(batch).ok()) std::abort();
}

void BM_DurableCommitWithEvent(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_store = OpenFresh("commit").release();
  }
  for (auto _ : state) Commit(*shared_store);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete shared_store;
    shared_store = nullptr;
  }
}
BENCHMARK(BM_DurableCommitWithEvent)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

void BM_PointRead(benchmark::State& state) {
  std::unique_ptr<Store> store = OpenFresh("read");
  constexpr int kKeys = 100'000;
  for (int i = 0; i < kKeys; i += 1000) {
    WriteBatch batch = store->NewBatch();
    for (int j = i; j < i + 1000; ++j) {
      batch.Put("things", KeyBuilder().Int64(j).Build(), std::string(200, 'x'));
    }
    if (!store->Commit(batch).ok()) std::abort();
  }
  int64_t key = 0;
  for (auto _ : state) {
    auto value = store->Get("things", KeyBuilder().Int64(key++ % kKeys).Build());
    benchmark::DoNotOptimize(value);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointRead);

void BM_CompositeKey(benchmark::State& state) {
  int64_t n = 0;
  for (auto _ : state) {
    std::string key = KeyBuilder().String("1000000016").Int64(n++).Build();
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_CompositeKey);

}  // namespace
}  // namespace mileagebank::store
