// The chaos suite's clients: what an airline's offices and partners do all
// day, through the gateway's gRPC face with an API key, each operation under
// its own idempotency key, every request and answer in the journal.
//
// A call that fails or times out leaves its operation unknown; the client
// sends it again with the same key a few times, as a real client would (a
// retry must never apply twice), and gives up after that: the operation
// stays unknown and the checks allow it either way, but only once.
//
// Thread-safe: one thread per RunClient / RunPartner over a shared Workload.
#ifndef MILEAGEBANK_TESTS_CHAOS_WORKLOAD_H_
#define MILEAGEBANK_TESTS_CHAOS_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "grpcpp/grpcpp.h"
#include "tests/chaos/book.h"
#include "tests/chaos/journal.h"

namespace mileagebank::chaos {

// What every client of a run shares.
struct Workload {
  // The gateway's gRPC face and the key every client presents (a supervisor
  // of office PEK01, finance and admin at once).
  std::shared_ptr<grpc::Channel> gateway;
  std::string api_key;
  absl::CivilDay today;
  // The own flights redemptions are made on; every client competes for
  // their award seats.
  std::vector<AwardFlight> flights;
  // The (HOTEL) partner that sends accrual files.
  std::string partner_code = "HTL1";
  Journal* journal = nullptr;
  // Set to end the clients (each finishes the operation in hand).
  std::atomic<bool> stop{false};

  // Unique numbers across clients: sample people, ticket numbers, request
  // ids.
  std::atomic<int> next_sample{1};
  std::atomic<int64_t> next_ticket{0};
  std::atomic<int64_t> next_request{1};

  // Members whose enrolment was acknowledged, for partner files.
  void AddMember(const std::string& member);
  std::vector<std::string> Members(int count, uint32_t seed);

 private:
  absl::Mutex mutex_;
  std::vector<std::string> members_ ABSL_GUARDED_BY(mutex_);
};

// Registers the partner and sets each award flight's ECONOMY capacity, with
// the system up and nothing killing it; the calls count in `book`.
absl::Status PrepareWorkload(Workload& workload, Book& book);

// One client until `workload.stop`: enrolments, own flight credits,
// retro-claims (submitted, then approved), redemptions and their issue,
// cancellation and refund, reports and balance reads. Its own members only,
// but award seats are everyone's.
Book RunClient(Workload& workload, int index, uint32_t seed);

// The partner until `workload.stop`: accrual files of acknowledged members
// one after another, each sent again (the same bytes) until an upload is
// acknowledged and the file processed.
Book RunPartner(Workload& workload, uint32_t seed);

}  // namespace mileagebank::chaos

#endif  // MILEAGEBANK_TESTS_CHAOS_WORKLOAD_H_
