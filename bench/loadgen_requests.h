// The requests the load generator sends, and the identifiers in them.
//
// Every idempotency key (ticket number, request_id) and every enrolment's
// unique fields (identity document, phone) are derived from a run id and a
// counter, so a run never replays or collides with the keys of an earlier
// run with another run id, and preloading again with the same run id replays
// the same enrolments instead of creating new members.
//
//   std::string ticket = TicketNumber(run_id, "post-flights", 41);
//   PostOwnFlightRequest request =
//       RandomOwnFlight(member_number, ticket, today, rng);
//
// Thread-safe: the functions are pure (the random generator is the
// caller's).
#ifndef MILEAGEBANK_BENCH_LOADGEN_REQUESTS_H_
#define MILEAGEBANK_BENCH_LOADGEN_REQUESTS_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::loadgen {

// The longest run id: keeps every request_id within 64 characters.
inline constexpr int kMaxRunIdLength = 32;

// 1 to kMaxRunIdLength characters of A-Z a-z 0-9 "." "_" "-" (all allowed in
// the services' request ids).
bool IsValidRunId(absl::string_view run_id);

// A run id from the time (UTC, to the second) and some entropy, e.g.
// "20261123T175831-k3f9", so runs started in the same second still differ.
std::string DefaultRunId(absl::Time now, uint64_t entropy);

// 64-bit FNV-1a: the same in every process and build.
uint64_t StableHash(absl::string_view text);

// The `counter`th ticket number (13 digits, the first not 0) of `purpose`
// (e.g. "post-flights") in run `run_id`. The tickets of one run and purpose
// are consecutive numbers from an offset hashed from both, so two runs share
// a ticket only if their ranges (ops per run, out of 9 x 10^12) overlap.
std::string TicketNumber(absl::string_view run_id, absl::string_view purpose,
                         int64_t counter);

// "lg-<run_id>-<kind><counter>", e.g. "lg-20261123T175831-k3f9-h17": at most
// 64 characters for kind of at most 8 characters.
std::string RequestId(absl::string_view run_id, absl::string_view kind,
                      int64_t counter);

// The password preload gives every member it enrols, and redeem-cancel
// sends as member_password, unless --member_password says otherwise.
inline constexpr char kDefaultMemberPassword[] = "loadgen-pass-1";

// membership's rule for a password: 8 to 128 characters.
bool IsValidPassword(absl::string_view password);

// The enrolment of the `index`th load-test member of `run_id` with initial
// password `password` (none when empty): the same request every time for
// the same arguments (so Enrol replays it), and unique identity document,
// mobile phone and name for different ones.
membership::v1::EnrolRequest EnrolRequestFor(absl::string_view run_id,
                                             int64_t index,
                                             absl::string_view password);

// The airports of generated flights; all are in the accrual service's table.
inline constexpr const char* kAirports[] = {"PEK", "PVG", "CAN", "SZX", "CTU",
                                            "KMG", "XIY", "HGH", "CKG", "SHA",
                                            "LAX", "JFK", "LHR", "NRT"};

// An own flight (carrier FM, coupon 1) for `member_number` on one of a fixed
// list of real routes between kAirports, in either direction, in a booking
// class that earns (mostly economy), flown 1 to 30 days before `today`
// (UTC), with a flight number of 1 to 9999.
accrual::v1::PostOwnFlightRequest RandomOwnFlight(
    absl::string_view member_number, absl::string_view ticket_number,
    absl::CivilDay today, std::mt19937_64& rng);

// A long first-class flight (PEK-JFK in F, about 13,700 base miles) flown
// 1 to 30 days before `today`: credits enough miles for many small holds.
accrual::v1::PostOwnFlightRequest LargeOwnFlight(
    absl::string_view member_number, absl::string_view ticket_number,
    absl::CivilDay today, std::mt19937_64& rng);

// Award flights of redeem-cancel: own flights (carrier FM) numbered 1 to
// kAwardFlightNumbers, dated 1 to kAwardDays days after today, each flight
// number always on the same route: one of kAwardRoutes (all between 601 and
// 1,200 miles, so every award costs the same 12,000 ECONOMY miles), odd
// numbers outbound and even ones back.
inline constexpr int kAwardFlightNumbers = 9999;
inline constexpr int kAwardDays = 300;
inline constexpr const char* kAwardRoutes[][2] = {
    {"PEK", "PVG"}, {"CAN", "CTU"}, {"SZX", "HGH"}, {"XIY", "KMG"}};

// The flight of op `counter` of run `run_id`. Consecutive counters take
// consecutive flight-dates of the kAwardFlightNumbers x kAwardDays (about
// 3 million), all the numbers of one date before the next date, from an
// offset hashed from the run id: ops in flight together are on different
// flight-dates unless kAwardFlightNumbers of them are, and runs do not all
// start on the same ones.
redemption::v1::Segment AwardFlight(absl::string_view run_id, int64_t counter,
                                    absl::CivilDay today);

// The CreateRedemption of op `counter` of run `run_id`: a STANDARD_AWARD,
// ONE_WAY in ECONOMY on AwardFlight(run_id, counter, today), for the member
// alone, made by a call centre agent (CALL_CENTRE, office "PEK01", operator
// "agent-1") with the member's password; request_id
// RequestId(run_id, "r", counter).
redemption::v1::CreateRedemptionRequest RedeemRequestFor(
    absl::string_view member_number, absl::string_view password,
    absl::string_view run_id, int64_t counter, absl::CivilDay today);

// The CancelRedemption of `redemption_id` by the same agent, reason
// "LOADGEN".
redemption::v1::CancelRedemptionRequest CancelRequestFor(
    absl::string_view redemption_id);

}  // namespace mileagebank::loadgen

#endif  // MILEAGEBANK_BENCH_LOADGEN_REQUESTS_H_
