// What the chaos suite's clients did and were told, operation by operation:
// the record the final checks hold the system to. Each client thread keeps
// a Book of its own; they are merged when the clients stop.
//
// Thread-compatible.
#ifndef MILEAGEBANK_TESTS_CHAOS_BOOK_H_
#define MILEAGEBANK_TESTS_CHAOS_BOOK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "tests/chaos/journal.h"

namespace mileagebank::chaos {

// An own flight whose award seats the test set, shared by every client.
struct AwardFlight {
  int32_t flight_number = 0;
  absl::CivilDay date;
  int32_t capacity = 0;
};

struct Book {
  struct Enrolment {
    // The sample (tests/support/e2e.h) enrolled, and its request_id.
    int sample = 0;
    std::string request_id;
    Outcome outcome = Outcome::kUnknown;
    // Acknowledged: the member made.
    std::string member;
  };
  struct Credit {
    std::string member;
    // The flight identity (coupon 1): the idempotency key.
    std::string ticket;
    Outcome outcome = Outcome::kUnknown;
    // Acknowledged: the miles credited.
    int64_t miles = 0;
  };
  struct Claim {
    std::string member;
    std::string ticket;
    std::string request_id;
    Outcome submitted = Outcome::kUnknown;
    std::string claim_id;
    // Unset when no approval was asked for.
    std::optional<Outcome> approved;
    int64_t miles = 0;
  };
  struct Redemption {
    std::string member;
    std::string request_id;
    // Index into the run's award flights.
    int flight = 0;
    Outcome created = Outcome::kUnknown;
    std::string redemption_id;
    // The latest state a transition was acknowledged into (HELD once
    // created).
    redemption::v1::RedemptionState acknowledged =
        redemption::v1::REDEMPTION_STATE_UNSPECIFIED;
    // Transitions asked for and not refused (acknowledged or unknown): the
    // states the redemption may have reached besides EXPIRED.
    bool may_issue = false;
    bool may_cancel = false;
    bool may_refund = false;
    // A transition's outcome is unknown: its state is not known.
    bool uncertain = false;
  };
  struct FileRecord {
    std::string member;
    std::string reference;
    int64_t miles = 0;
  };
  struct PartnerFile {
    int seq = 0;
    std::string bytes;
    // Whether an upload of it was ever acknowledged.
    Outcome uploaded = Outcome::kUnknown;
    std::vector<FileRecord> records;
  };

  std::vector<Enrolment> enrolments;
  std::vector<Credit> credits;
  std::vector<Claim> claims;
  std::vector<Redemption> redemptions;
  std::vector<PartnerFile> files;

  // Every operation (reads included) by outcome.
  int64_t acknowledged = 0;
  int64_t refused = 0;
  int64_t unknown = 0;

  void Count(Outcome outcome);
  // Appends `other`'s records and counts.
  void Merge(Book other);
  int64_t operations() const { return acknowledged + refused + unknown; }
};

}  // namespace mileagebank::chaos

#endif  // MILEAGEBANK_TESTS_CHAOS_BOOK_H_
