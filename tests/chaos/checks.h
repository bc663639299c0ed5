// The chaos suite's verdict: what the system must show once the kills
// stopped, against what its clients were told (the Book).
//
// - Nothing acknowledged is lost: every acknowledged enrolment's member,
//   credit, claim and its approval, partner file record and redemption is
//   there (a redemption in its acknowledged state or a later one).
// - Nothing is applied twice, and nothing refused is applied: one
//   enrolment per identity document, one transaction per idempotency key
//   and type, one redemption per request_id, one accepted file per seq;
//   every transaction and redemption comes from a request the clients made.
// - Every ledger invariant: accrual's VerifyLedger on every shard; each
//   balance is the sum of its statement; held miles are the HELD
//   redemptions' miles; no available balance is negative; the shards'
//   total is the sum of the members' balances.
// - Award seats are never oversold: each award flight's seats taken are at
//   most its capacity and equal its live (HELD and ISSUED) redemptions.
// - Every redemption agrees with its hold and its ledger lines.
// - Reports equal their sources: reporting's CheckConsistency.
//
// What the system finishes by itself after a crash (open redemption steps,
// partner files, reporting's catch-up) may take a while, so the checks run
// in rounds until one finds nothing or `patience` has passed; the last
// round's violations are the verdict.
//
// Thread-compatible.
#ifndef MILEAGEBANK_TESTS_CHAOS_CHECKS_H_
#define MILEAGEBANK_TESTS_CHAOS_CHECKS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/chaos/book.h"
#include "tests/chaos/workload.h"

namespace mileagebank::chaos {

// The services' addresses (a sharded one's shards comma-separated).
struct Targets {
  std::string membership;
  std::string accrual;
  std::string redemption;
  std::string settlement;
  std::string reporting;
};

// One line per violation; empty when the system kept every promise.
// `looked` says what the last round read (members, transactions, ...).
std::vector<std::string> CheckEverything(const Book& book, Workload& workload,
                                         const Targets& targets,
                                         absl::Duration patience,
                                         std::string* looked);

}  // namespace mileagebank::chaos

#endif  // MILEAGEBANK_TESTS_CHAOS_CHECKS_H_
