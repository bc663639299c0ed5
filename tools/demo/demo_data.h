// The demo's people and their year: who joins, what they fly, claim and
// redeem. Everything is derived from the member's index (and a seed), so a
// loader run again after a failure sends the same requests, which the
// services replay instead of applying twice (request ids, ticket numbers).
//
//   membership::v1::EnrolRequest enrol = DemoEnrolment(7, "");
//   for (const auto& flight : DemoFlights(number, 7, today, seed)) ...
//
// Identifiers are kept apart from the README's examples (documents
// "G1...", phones "+86137...", tickets from 781..., award tickets 784888...)
// so that those still work on a system with the demo loaded.
//
// Thread-safe: pure functions.
#ifndef MILEAGEBANK_TOOLS_DEMO_DEMO_DATA_H_
#define MILEAGEBANK_TOOLS_DEMO_DEMO_DATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::demo {

// A sales office of the demo.
struct Office {
  const char* code;
  const char* city;
};
inline constexpr Office kOffices[] = {
    {"PEK01", "Beijing"}, {"SHA01", "Shanghai"}, {"CAN01", "Guangzhou"}};

// The API keys the demo makes: per office a supervisor's and `counters`
// AGENT keys, then one FINANCE key and one PARTNER key for `partner`.
std::vector<gateway::v1::ApiKey> DemoKeys(int counters,
                                          absl::string_view partner);

// The enrolment of demo member `index` (0-based): a Chinese name (Latin and
// characters), a birth date, a passport, a mobile phone, and for members
// with a password also an e-mail address. request_id "demo-m<index>".
membership::v1::EnrolRequest DemoEnrolment(int index,
                                           absl::string_view password);

// The own flights credited to member `index` over the year before `today`
// (0 to 6 of them, most in economy); the first two members fly far more
// (member 0 enough long-haul first class for GOLD, member 1 business for
// SILVER), and members below `password_members` get a long first-class flight
// that pays for an award.
std::vector<accrual::v1::PostOwnFlightRequest> DemoFlights(
    absl::string_view member_number, int index, int password_members,
    absl::CivilDay today, uint64_t seed);

// Whether member `index` has a retro claim, and the claim: an own flight 10
// to 150 days before `today` that was never credited.
bool HasRetroClaim(int index);
accrual::v1::SubmitRetroClaimRequest DemoRetroClaim(
    absl::string_view member_number, int index, absl::CivilDay today);

// What becomes of a retro claim / an award in the demo.
enum class ClaimOutcome { kApproved, kRejected, kPending };
ClaimOutcome RetroClaimOutcome(int index);
enum class AwardOutcome { kIssued, kRefunded, kCancelled, kHeld };
AwardOutcome AwardOutcomeOf(int index);

// A one-way economy award on an own flight 20 to 200 days after `today`,
// for the member alone, with the member's password; request_id
// "demo-r<index>".
redemption::v1::CreateRedemptionRequest DemoAward(
    absl::string_view member_number, int index, absl::string_view password,
    absl::CivilDay today);
// The award ticket number of member `index`'s award.
std::string DemoAwardTicket(int index);

}  // namespace mileagebank::demo

#endif  // MILEAGEBANK_TOOLS_DEMO_DEMO_DATA_H_
