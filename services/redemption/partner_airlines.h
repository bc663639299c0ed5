// PartnerAirlines: whether awards may be sold on a partner carrier's
// flights. They may for the settlement service's ACTIVE AIRLINE partners;
// settlement owns partners, and redemption keeps no copy of them.
//
// Settlement is asked about a carrier and its answer is used for `ttl`
// (RedemptionConfig.partner_cache_seconds), so quotes and redemptions do not
// each cost a call, and a suspension stops awards on the partner within that
// time. Only partners settlement has are kept: one registered a moment ago
// is redeemable at once. When settlement cannot be asked and no fresh answer
// is kept, the check is UNAVAILABLE: an award is never sold on a carrier
// that could not be checked.
//
//   PartnerAirlines partners(&settlement, absl::Seconds(30));
//   MB_RETURN_IF_ERROR(partners.Check("CA", "upgrade.segment.carrier"));
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_PARTNER_AIRLINES_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_PARTNER_AIRLINES_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/redemption/neighbours.h"

namespace mileagebank::redemption {

class PartnerAirlines {
 public:
  using Clock = std::function<absl::Time()>;

  // `settlement` outlives the PartnerAirlines.
  PartnerAirlines(SettlementGateway* settlement, absl::Duration ttl,
                  Clock clock = absl::Now)
      : settlement_(settlement), ttl_(ttl), clock_(std::move(clock)) {}
  PartnerAirlines(const PartnerAirlines&) = delete;
  PartnerAirlines& operator=(const PartnerAirlines&) = delete;

  // OK when `carrier` is an ACTIVE AIRLINE partner. NOT_FOUND naming `field`
  // when settlement has no airline partner by that code; FAILED_PRECONDITION
  // naming `field` when it is SUSPENDED; UNAVAILABLE naming `field`, the
  // carrier and the settlement service when settlement cannot be asked.
  absl::Status Check(absl::string_view carrier, absl::string_view field);

 private:
  // What settlement said about a partner.
  struct Answer {
    settlement::v1::PartnerType type;
    settlement::v1::PartnerStatus status;
    absl::Time asked_at;
  };

  SettlementGateway* const settlement_;
  const absl::Duration ttl_;
  const Clock clock_;
  absl::Mutex mutex_;
  std::map<std::string, Answer, std::less<>> answers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_PARTNER_AIRLINES_H_
