// PurchaseLedger: where the outbound exchange reports what partner
// programmes credited for own flights (the statements' PURCHASE line), so
// that the outbound records and the statements need not know each other.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_PURCHASES_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_PURCHASES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/store/store.h"

namespace mileagebank::settlement {

class PurchaseLedger {
 public:
  virtual ~PurchaseLedger() = default;
  // Adds an acknowledged outbound file's accepted records and the miles the
  // partner credited to the month of `acknowledged_at`, in `batch` (which
  // the caller commits with the acknowledgement). Calls for one partner are
  // serialised by the caller, and each batch is in the store's line before
  // the next call for that partner.
  virtual absl::Status AddPurchase(absl::string_view partner_code,
                                   absl::Time acknowledged_at,
                                   int64_t records_accepted,
                                   int64_t miles_credited,
                                   store::WriteBatch& batch) = 0;
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_PURCHASES_H_
