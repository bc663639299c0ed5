// Google Benchmark of the accrual ledger's code paths, in process (no gRPC):
// what a durable flight credit, a balance read, and a batch of a partner
// file's flights cost the ledger itself.
//
//   bazel run -c opt //bench:ledger_benchmark -- --benchmark_min_time=2
//
// Instructions per credit of a partner file's batches (repeatable on a
// loaded machine: 50 batches of 1,000 over 1,000 members), with the
// optimised build's bazel-bin:
//   valgrind --tool=callgrind bench/ledger_benchmark --benchmark_filter=PostActivities
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

// Partners are in the replica: settlement is never asked.
class NoPartners : public SettlementLookup {
 public:
  absl::StatusOr<settlement::v1::Partner> GetPartner(
      absl::string_view) override {
    return absl::NotFoundError("no partners in this benchmark");
  }
};

constexpr const char* kAirports[] = {"PEK", "PVG", "SHA", "CAN", "CTU", "SZX",
                                     "HKG", "NRT", "LHR", "FRA", "JFK", "SIN"};

struct Fixture {
  Fixture() {
    const char* base = std::getenv("MB_BENCH_DIR");
    std::string path = std::string(base ? base : "/tmp") + "/mb-bench-ledger";
    std::filesystem::remove_all(path);
    store = std::move(
        *store::Store::Open({.path = path,
                             .tables = AccrualTables(),
                             .memtable_bloom_tables = AccrualBloomTables()}));
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
    // The replicas as following membership and settlement leaves them.
    store::WriteBatch batch = store->NewBatch();
    records::MemberState active;
    active.set_status(membership::v1::ACTIVE);
    for (const std::string& member : members) {
      ledger_store->PutMember(batch, member, active);
    }
    records::PartnerState airline;
    airline.set_type(settlement::v1::AIRLINE);
    airline.set_status(settlement::v1::ACTIVE);
    airline.set_version(1);
    ledger_store->PutPartner(batch, "CA", airline);
    (void)store->Commit(batch);
  }

  // A batch as settlement sends a partner file's records: consecutive
  // records, members taken in turn, flights over the last 150 days.
  v1::PostActivitiesRequest PartnerBatch(int64_t first, int size) {
    v1::PostActivitiesRequest request;
    const absl::CivilDay today = validation::UtcDay(absl::Now());
    for (int64_t n = first; n < first + size; ++n) {
      v1::PostPartnerFlightRequest* flight =
          request.add_activities()->mutable_partner_flight();
      flight->set_member_number(members[n % kMembers]);
      flight->set_partner_code("CA");
      flight->mutable_flight_identity()->set_ticket_number(
          absl::StrCat(1000000000000 + n));
      flight->mutable_flight_identity()->set_coupon_number(1 + n % 4);
      v1::Flight* flown = flight->mutable_flight();
      flown->set_carrier("CA");
      flown->set_flight_number(1 + n % 9999);
      *flown->mutable_flight_date() =
          validation::ToProtoDate(today - (n * 7919) % 150);
      flown->set_origin(kAirports[n % 12]);
      flown->set_destination(kAirports[(n % 12 + 1 + (n / 12) % 11) % 12]);
      flown->set_booking_class("Y");
      flight->mutable_source()->set_file_id("F1");
      flight->mutable_source()->set_record_number(n + 1);
      flight->mutable_actor()->set_channel(common::v1::PARTNER);
    }
    return request;
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

// Batches of a partner file's flights, 1,000 a call, each member credited
// many times over the run (its account grows a lot per credit).
void BM_PostActivities(benchmark::State& state) {
  Fixture local;
  constexpr int kBatch = 1000;
  int64_t next = 0;
  for (auto _ : state) {
    auto posted =
        local.ledger->PostActivities(local.PartnerBatch(next, kBatch));
    next += kBatch;
    if (!posted.ok()) state.SkipWithError(posted.status().ToString().c_str());
    for (const v1::ActivityResult& result : posted->results()) {
      if (result.has_error()) {
        state.SkipWithError(result.error().message().c_str());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PostActivities)->Iterations(50)->UseRealTime();

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
