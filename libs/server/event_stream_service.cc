#include "libs/server/event_stream_service.h"

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::server {
namespace {

constexpr size_t kEventsPerRead = 512;
// A batch's size where the next event starts a new message, well below
// gRPC's 4 MiB default limit on a received message.
constexpr size_t kBatchBytes = 1 << 20;
// How long a caught-up follower sleeps before checking for cancellation.
constexpr absl::Duration kFollowPoll = absl::Milliseconds(250);

}  // namespace

grpc::Status EventStreamService::Subscribe(
    grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
    grpc::ServerWriter<common::v1::Event>* writer) {
  return Stream(context, *request,
                [writer](std::vector<common::v1::Event>& events) {
                  for (const common::v1::Event& event : events) {
                    if (!writer->Write(event)) return false;
                  }
                  return true;
                });
}

grpc::Status EventStreamService::SubscribeBatched(
    grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
    grpc::ServerWriter<common::v1::EventBatch>* writer) {
  return Stream(context, *request,
                [writer](std::vector<common::v1::Event>& events) {
                  common::v1::EventBatch batch;
                  size_t bytes = 0;
                  for (common::v1::Event& event : events) {
                    bytes += event.ByteSizeLong();
                    *batch.add_events() = std::move(event);
                    if (bytes >= kBatchBytes) {
                      if (!writer->Write(batch)) return false;
                      batch.Clear();
                      bytes = 0;
                    }
                  }
                  return batch.events().empty() || writer->Write(batch);
                });
}

grpc::Status EventStreamService::Stream(
    grpc::ServerContext* context, const common::v1::SubscribeRequest& request,
    const std::function<bool(std::vector<common::v1::Event>&)>& send) {
  uint64_t cursor = request.after_sequence();
  // Only durable events are ever served, so a cursor past the last one
  // means this store was rewound (restored from a backup) after the
  // subscriber read on: going on would hand it new events under numbers it
  // has already consumed, and it would skip them.
  const uint64_t last = store_->LastSequence();
  if (cursor > last) {
    log::Error("subscriber_ahead_of_stream", {{"peer", context->peer()},
                                              {"after_sequence", cursor},
                                              {"last_sequence", last}});
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("after_sequence: ", cursor,
                     " is beyond this stream's last event ", last,
                     "; the store was restored to an earlier point than the "
                     "subscriber has read (docs/operations.md, Backups and "
                     "restore)"));
  }
  log::Info("subscriber_joined",
            {{"peer", context->peer()}, {"after_sequence", cursor}});
  while (!context->IsCancelled()) {
    absl::StatusOr<std::vector<common::v1::Event>> events =
        store_->ReadEvents(cursor, kEventsPerRead);
    if (!events.ok()) return ToGrpcStatus(events.status());
    if (!events->empty()) {
      cursor = events->back().sequence();
      if (!send(*events)) {
        return grpc::Status(grpc::StatusCode::CANCELLED, "subscriber left");
      }
      continue;
    }
    if (!request.follow()) return grpc::Status::OK;
    if (store_->stopping()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "service is shutting down; resubscribe");
    }
    store_->WaitForEvents(cursor, kFollowPoll);
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "subscriber left");
}

grpc::Status EventStreamService::GetHead(
    grpc::ServerContext*, const common::v1::GetHeadRequest*,
    common::v1::GetHeadResponse* response) {
  response->set_last_sequence(store_->LastSequence());
  return grpc::Status::OK;
}

}  // namespace mileagebank::server
