// Redemptions: the redemption service's operations (product rules section
// 5): quotes, award seats, and the life of a redemption.
//
// A transition that calls accrual is two writes around the call. The first
// records the intent (the step, with seats taken or tickets recorded) and is
// durable before accrual is called; the call is idempotent (the hold is
// created under the redemption's id as its request id, captures, releases
// and redeposits are idempotent on the hold); the second write records the
// outcome. If the process dies between the two, or accrual times out, the
// redemption is left with its step open, and Recover (run at start and on a
// timer) repeats the idempotent call and records the outcome: a redemption
// and its hold never disagree for longer than that.
//
// Seats are taken and returned under the flights' locks in the same write as
// the redemption's own change, so they are never oversold and never lost.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_REDEMPTIONS_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_REDEMPTIONS_H_

#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/airports/airports.h"
#include "libs/store/key_locks.h"
#include "mileagebank/config/v1/redemption.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/redemption/award_chart.h"
#include "services/redemption/neighbours.h"
#include "services/redemption/partner_airlines.h"
#include "services/redemption/store.h"

namespace mileagebank::redemption {

struct RedemptionOptions {
  // This process's shard (server.shard_index/shard_count). Each shard sells
  // its own share of every flight's award seats (the capacity divided
  // evenly, the remainder to the lowest shards), so that shards never sell
  // the same seat and need not ask each other.
  int shard_index = 0;
  int shard_count = 1;
  std::string host_carrier = "FM";
  AwardChart chart = AwardChart::ProductDefault();
  // Award seats per cabin, indexed by Cabin - 1.
  std::array<int32_t, 3> seat_defaults = {4, 2, 1};
  int64_t redeposit_fee_miles = 1'000;
  // How long settlement's answer about a partner airline is used.
  absl::Duration partner_ttl = absl::Seconds(30);
  absl::Duration hold_ttl = absl::Hours(72);
  absl::Duration recovery_grace = absl::Seconds(30);
  // The award ticket stock of the WEB channel's issues (RedemptionConfig
  // award_ticket_prefix): 3 digits.
  std::string award_ticket_prefix = "774";
  // The block of its 10-digit serials the stock issues from.
  int64_t award_ticket_first_serial = 0;
  int64_t award_ticket_last_serial = 9'999'999'999;
  // Test only: see RedemptionConfig.crash_at.
  std::string crash_at;

  static absl::StatusOr<RedemptionOptions> FromConfig(
      const config::v1::RedemptionConfig& config);
};

class Redemptions {
 public:
  using Clock = std::function<absl::Time()>;

  // Everything passed in outlives the Redemptions.
  Redemptions(store::Store* store, const airports::AirportTable* airports,
              MembershipGateway* membership, AccrualGateway* accrual,
              SettlementGateway* settlement, RedemptionOptions options,
              prometheus::Registry& metrics, Clock clock = absl::Now);

  absl::StatusOr<v1::QuoteAwardResponse> QuoteAward(
      const v1::QuoteAwardRequest& request);
  absl::StatusOr<v1::QuoteUpgradeResponse> QuoteUpgrade(
      const v1::QuoteUpgradeRequest& request);
  absl::StatusOr<v1::GetAwardSeatsResponse> GetAwardSeats(
      const v1::GetAwardSeatsRequest& request);
  absl::StatusOr<v1::SetAwardSeatCapacityResponse> SetAwardSeatCapacity(
      const v1::SetAwardSeatCapacityRequest& request);
  // `session_member`: the member of the caller's authenticated web session,
  // as the gateway vouches for it; empty for other callers.
  absl::StatusOr<v1::CreateRedemptionResponse> CreateRedemption(
      const v1::CreateRedemptionRequest& request,
      absl::string_view session_member);
  absl::StatusOr<v1::IssueRedemptionResponse> IssueRedemption(
      const v1::IssueRedemptionRequest& request);
  absl::StatusOr<v1::CancelRedemptionResponse> CancelRedemption(
      const v1::CancelRedemptionRequest& request);
  absl::StatusOr<v1::RefundRedemptionResponse> RefundRedemption(
      const v1::RefundRedemptionRequest& request);
  absl::StatusOr<v1::GetRedemptionResponse> GetRedemption(
      const v1::GetRedemptionRequest& request);
  absl::StatusOr<v1::ListRedemptionsResponse> ListRedemptions(
      const v1::ListRedemptionsRequest& request);

  // Finishes steps left open longer than the grace (all of them when
  // `everything`, as at start) and expires HELD redemptions whose hold's
  // time ran out. Returns how many redemptions it settled.
  absl::StatusOr<int> Recover(bool everything = false);

 private:
  // Award seats one redemption takes on one own flight-date.
  struct SeatNeed {
    int32_t flight_number;
    absl::CivilDay date;
    v1::Cabin cabin;
    int32_t count;
    std::string field;
    std::string lock_key;
  };

  absl::CivilDay Today() const;
  std::vector<SeatNeed> SeatNeeds(const v1::RedemptionRecord& redemption) const;
  v1::AwardSeats SeatsView(int32_t flight_number, absl::CivilDay date,
                           const records::FlightSeats& seats) const;
  // This shard's share of the cabin's capacity.
  int32_t Capacity(const records::FlightSeats& seats, v1::Cabin cabin) const;
  int32_t ShareOfCapacity(int32_t capacity) const;
  // Adds `sign` x each need to the seats taken, in `batch`.
  absl::Status MoveSeats(store::WriteBatch& batch,
                         const std::vector<SeatNeed>& needs, int sign);
  // The carrier check: the host, or an ACTIVE partner airline of
  // settlement's (see PartnerAirlines).
  absl::Status CheckCarrier(absl::string_view carrier, absl::string_view field);
  absl::StatusOr<records::Stored> Load(absl::string_view redemption_id,
                                       uint64_t* ticket = nullptr);
  // Ends the process at `point` when the tests ask for it.
  void MaybeCrash(absl::string_view point) const;

  // The first half of a step: writes `next` (its step set) in place of
  // `before`, durably, with what `batch` holds already (when given). The
  // caller holds the redemption's lock.
  void OpenStep(records::Stored next, const records::Stored& before,
                store::WriteBatch* batch = nullptr);
  // Takes `count` numbers from the award ticket stock, advancing it in
  // `batch`, so that the numbers are taken exactly when the batch that
  // records them is written. The caller holds kTicketStockLock.
  absl::StatusOr<std::vector<std::string>> TakeTickets(store::WriteBatch& batch,
                                                       int count);
  // The second half of each step: records what accrual answered.
  absl::StatusOr<records::Stored> FinishCreate(const std::string& id);
  absl::StatusOr<records::Stored> FinishIssue(const std::string& id);
  // A release ends CANCELLED, or EXPIRED when the step is an expiry.
  absl::StatusOr<records::Stored> FinishRelease(const std::string& id);
  absl::StatusOr<records::Stored> FinishRefund(const std::string& id);
  // Ends a step whose hold is gone (released or expired): EXPIRED, seats
  // back.
  absl::StatusOr<records::Stored> Expire(const std::string& id);
  absl::StatusOr<records::Stored> Settle(const records::Stored& stored);

  RedemptionStore store_;
  const airports::AirportTable* airports_;
  MembershipGateway* membership_;
  AccrualGateway* accrual_;
  const RedemptionOptions options_;
  const Clock clock_;
  PartnerAirlines partner_airlines_;
  store::KeyLocks locks_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Counter& recoveries_;
};

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_REDEMPTIONS_H_
