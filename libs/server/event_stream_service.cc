#include "libs/server/event_stream_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/method_handler.h"
#include "libs/log/log.h"
#include "libs/status/grpc_status.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::server {
namespace {

constexpr size_t kEventsPerRead = 512;
// A batch's size where the next event starts a new message, well below
// gRPC's 4 MiB default limit on a received message.
constexpr size_t kBatchBytes = 1 << 20;
// How long a caught-up follower sleeps before checking for cancellation.
constexpr absl::Duration kFollowPoll = absl::Milliseconds(250);

bool WriteBytes(grpc::ServerWriter<grpc::ByteBuffer>* writer,
                absl::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer buffer(&slice, 1);
  return writer->Write(buffer);
}

// Appends a serialized Event to a serialized EventBatch, as its `events`
// field (length-delimited) encodes it.
void AppendToBatch(absl::string_view event, std::string& batch) {
  using google::protobuf::internal::WireFormatLite;
  static const char kTag = static_cast<char>(
      WireFormatLite::MakeTag(common::v1::EventBatch::kEventsFieldNumber,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  batch.push_back(kTag);
  uint64_t size = event.size();
  for (; size >= 0x80; size >>= 7) {
    batch.push_back(static_cast<char>(size | 0x80));
  }
  batch.push_back(static_cast<char>(size));
  batch.append(event.data(), event.size());
}

}  // namespace

EventStreamService::EventStreamService(store::Store* store) : store_(store) {
  using grpc::internal::RpcMethod;
  using grpc::internal::RpcServiceMethod;
  using Streaming = grpc::internal::ServerStreamingHandler<
      EventStreamService, common::v1::SubscribeRequest, grpc::ByteBuffer>;
  const char* const kMethods[] = {"Subscribe", "SubscribeBatched", "GetHead"};
  for (size_t i = 0; i < paths_.size(); ++i) {
    paths_[i] = absl::StrCat("/", common::v1::EventStream::service_full_name(),
                             "/", kMethods[i]);
  }
  AddMethod(new RpcServiceMethod(
      paths_[0].c_str(), RpcMethod::SERVER_STREAMING,
      new Streaming(&EventStreamService::Subscribe, this)));
  AddMethod(new RpcServiceMethod(
      paths_[1].c_str(), RpcMethod::SERVER_STREAMING,
      new Streaming(&EventStreamService::SubscribeBatched, this)));
  AddMethod(new RpcServiceMethod(
      paths_[2].c_str(), RpcMethod::NORMAL_RPC,
      new grpc::internal::RpcMethodHandler<EventStreamService,
                                           common::v1::GetHeadRequest,
                                           common::v1::GetHeadResponse>(
          &EventStreamService::GetHead, this)));
}

grpc::Status EventStreamService::Subscribe(
    grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
    Writer* writer) {
  return Stream(
      context, *request,
      [writer](uint64_t, absl::string_view event) {
        return WriteBytes(writer, event);
      },
      [] { return true; });
}

grpc::Status EventStreamService::SubscribeBatched(
    grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
    Writer* writer) {
  std::string batch;
  auto send = [&] {
    const bool sent = batch.empty() || WriteBytes(writer, batch);
    batch.clear();
    return sent;
  };
  return Stream(
      context, *request,
      [&](uint64_t, absl::string_view event) {
        AppendToBatch(event, batch);
        return batch.size() < kBatchBytes || send();
      },
      send);
}

grpc::Status EventStreamService::Stream(
    grpc::ServerContext* context, const common::v1::SubscribeRequest& request,
    const store::Store::EventVisit& add, const std::function<bool()>& flush) {
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
    uint64_t read_to = cursor;
    bool left = false;
    absl::Status read =
        store_->VisitEvents(cursor, kEventsPerRead,
                            [&](uint64_t sequence, absl::string_view event) {
                              read_to = sequence;
                              left = !add(sequence, event);
                              return !left;
                            });
    if (!read.ok()) return ToGrpcStatus(read);
    if (left || (read_to != cursor && !flush())) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "subscriber left");
    }
    if (read_to != cursor) {
      cursor = read_to;
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
