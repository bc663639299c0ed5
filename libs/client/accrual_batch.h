// A batch of credits (accrual's PostActivities) sent to a sharded accrual
// service: split by the members' shards, the parts sent at once, the
// results put back in the batch's order.
//
// Thread-safe, as ServiceClient is.
#ifndef MILEAGEBANK_LIBS_CLIENT_ACCRUAL_BATCH_H_
#define MILEAGEBANK_LIBS_CLIENT_ACCRUAL_BATCH_H_

#include "absl/status/statusor.h"
#include "libs/client/client.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"

namespace mileagebank::client {

// Each activity is applied at most once per idempotency key, so the whole
// batch may be sent again after a failure; a failure of any part fails the
// call (parts that succeeded are replayed by the retry).
absl::StatusOr<accrual::v1::PostActivitiesResponse> PostActivities(
    ServiceClient<accrual::v1::Accrual>& accrual,
    const accrual::v1::PostActivitiesRequest& request, const CallPolicy& policy);

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_ACCRUAL_BATCH_H_
