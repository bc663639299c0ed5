// Google Benchmark of the accrual ledger's code paths, in process (no gRPC):
// what a durable flight credit, a balance read and a hold-and-capture pair
// cost the ledger itself.
//
//   bazel run -c opt //bench:ledger_benchmark -- --benchmark_min_time=2
#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "services/accrual/ledger.h"

namespace mileagebank::accrual {
namespace {

constexpr int kMembers = 1000;

// Every member exists and is ACTIVE.
class AllActive : public MembershipLookup {
 public:
  absl::StatusOr<MemberInfo> Lookup(absl::string_view number) override {
    return MemberInfo{std::string(number), membership::v1::ACTIVE};
  }
};

// Own flights only: no partner is ever asked for.
class NoPartners : public SettlementLookup {
 public:
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view) override {
    return absl::NotFoundError("no partners in this benchmark");
  }
};

struct Fixture {
  Fixture() {
    const char* base = std::getenv("MB_BENCH_DIR");
    std::string path = std::string(base ? base : "/tmp") + "/mb-bench-ledger";
    std::filesystem::remove_all(path);
    store = std::move(*store::Store::Open({.path = path, .tables = AccrualTables()}));
    ledger_store = std::make_unique<LedgerStore>(store.get());
    directory = std::make_unique<MemberDirectory>(ledger_store.get(), &lookup);
    partners =
        std::make_unique<PartnerDirectory>(ledger_store.get(), &no_partners);
    ledger = std::make_unique<Ledger>(
        store.get(), &airports::AirportTable::Builtin(), partners.get(),
        directory.get(), LedgerOptions(), registry);
    for (int i = 0; i < kMembers; ++i) {
      members.push_back(validation::MemberNumberFromSerial(100000000 + i));
    }
  }

  v1::PostOwnFlightRequest Flight(int64_t n) {
    v1::PostOwnFlightRequest request;
    request.set_member_number(members[n % kMembers]);
    request.mutable_flight_identity()->set_ticket_number(
        absl::StrCat(7000000000000 + n));
    request.mutable_flight_identity()->set_coupon_number(1);
    v1::Flight* flight = request.mutable_flight();
    flight->set_flight_number(1501);
    *flight->mutable_flight_date() =
        validation::ToProtoDate(validation::UtcDay(absl::Now()) - 1);
    flight->set_origin("PEK");
    flight->set_destination(n % 2 ? "PVG" : "JFK");
    flight->set_booking_class(n % 3 ? "Y" : "F");
    return request;
  }

  AllActive lookup;
  NoPartners no_partners;
  prometheus::Registry registry;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<LedgerStore> ledger_store;
  std::unique_ptr<MemberDirectory> directory;
  std::unique_ptr<PartnerDirectory> partners;
  std::unique_ptr<Ledger> ledger;
  std::vector<std::string> members;
  std::atomic<int64_t> next{0};
};

Fixture* fixture = nullptr;


void BM_PostOwnFlight(benchmark::State& state) {
  if (state.thread_index() == 0) fixture = new Fixture();
  for (auto _ : state) {
    auto posted = fixture->ledger->PostOwnFlight(fixture->Flight(fixture->next++));
    if (!posted.ok()) state.SkipWithError(posted.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete fixture;
    fixture = nullptr;
  }
}
BENCHMARK(BM_PostOwnFlight)->Threads(1)->Threads(64)->UseRealTime();

void BM_GetBalance(benchmark::State& state) {
  Fixture local;
  for (int i = 0; i < 5 * kMembers; ++i) {
    (void)local.ledger->PostOwnFlight(local.Flight(i));
  }
  int64_t n = 0;
  for (auto _ : state) {
    v1::GetBalanceRequest request;
    request.set_member_number(local.members[n++ % kMembers]);
    benchmark::DoNotOptimize(local.ledger->GetBalance(request));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetBalance);

}  // namespace
}  // namespace mileagebank::accrual
