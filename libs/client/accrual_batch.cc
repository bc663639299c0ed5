#include "libs/client/accrual_batch.h"

#include <algorithm>
#include <future>
#include <vector>

#include "libs/client/shards.h"

namespace mileagebank::client {
namespace {

using accrual::v1::Activity;

const google::protobuf::Message& Keyed(const Activity& activity) {
  switch (activity.activity_case()) {
    case Activity::kPartnerFlight: return activity.partner_flight();
    case Activity::kPartnerActivity: return activity.partner_activity();
    case Activity::kOwnFlight:
    case Activity::ACTIVITY_NOT_SET: break;
  }
  return activity.own_flight();
}

}  // namespace

absl::StatusOr<accrual::v1::PostActivitiesResponse> PostActivities(
    ServiceClient<accrual::v1::Accrual>& accrual,
    const accrual::v1::PostActivitiesRequest& request, const CallPolicy& policy) {
  accrual::v1::PostActivitiesResponse response;
  const int shards = accrual.shard_count();
  if (shards == 1) {
    absl::Status status = Call(accrual.Any(),
                               &accrual::v1::Accrual::Stub::PostActivities,
                               request, &response, policy);
    if (!status.ok()) return status;
    return response;
  }
  std::vector<accrual::v1::PostActivitiesRequest> parts(shards);
  for (accrual::v1::PostActivitiesRequest& part : parts) {
    part.set_brief_results(request.brief_results());
    // Each shard keeps the order among the parts it is sent.
    part.set_order_key(request.order_key());
    part.set_order_number(request.order_number());
    part.set_decide_after(request.decide_after());
  }
  // positions[s][i]: the batch index of part s's activity i.
  std::vector<std::vector<int>> positions(shards);
  for (int i = 0; i < request.activities_size(); ++i) {
    int shard = RouteOf(Keyed(request.activities(i)), shards).shard;
    *parts[shard].add_activities() = request.activities(i);
    positions[shard].push_back(i);
  }
  std::vector<accrual::v1::PostActivitiesResponse> answers(shards);
  std::vector<std::future<absl::Status>> calls;
  for (int shard = 0; shard < shards; ++shard) {
    // A shard is told of an ordered batch that holds nothing for it, as
    // the next batch it is sent may name this one.
    if (parts[shard].activities().empty() && request.order_key().empty()) {
      calls.push_back(std::async(std::launch::deferred, [] { return absl::OkStatus(); }));
      continue;
    }
    calls.push_back(std::async(std::launch::async, [&, shard] {
      return Call(accrual.Shard(shard), &accrual::v1::Accrual::Stub::PostActivities,
                  parts[shard], &answers[shard], policy);
    }));
  }
  absl::Status failed;
  for (auto& call : calls) {
    absl::Status status = call.get();
    if (failed.ok()) failed = status;
  }
  if (!failed.ok()) return failed;
  for (int shard = 0; shard < shards; ++shard) {
    for (accrual::v1::ActivityResult& result : *answers[shard].mutable_results()) {
      if (result.index() < 0 ||
          result.index() >= static_cast<int>(positions[shard].size())) {
        return absl::InternalError("accrual answered for an activity it was not sent");
      }
      result.set_index(positions[shard][result.index()]);
      *response.add_results() = std::move(result);
    }
  }
  std::sort(response.mutable_results()->begin(), response.mutable_results()->end(),
            [](const accrual::v1::ActivityResult& a,
               const accrual::v1::ActivityResult& b) { return a.index() < b.index(); });
  return response;
}

}  // namespace mileagebank::client
