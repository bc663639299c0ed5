#include "libs/server/event_stream_service.h"

#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
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

using google::protobuf::internal::WireFormatLite;

void AppendVarint(uint64_t value, std::string& out) {
  for (; value >= 0x80; value >>= 7) {
    out.push_back(static_cast<char>(value | 0x80));
  }
  out.push_back(static_cast<char>(value));
}

// Appends a serialized Event to a serialized EventBatch, as its `events`
// field (length-delimited) encodes it.
void AppendToBatch(absl::string_view event, std::string& batch) {
  static const char kTag = static_cast<char>(
      WireFormatLite::MakeTag(common::v1::EventBatch::kEventsFieldNumber,
                              WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  batch.push_back(kTag);
  AppendVarint(event.size(), batch);
  batch.append(event.data(), event.size());
}

void AppendReadTo(uint64_t sequence, std::string& batch) {
  static const char kTag = static_cast<char>(
      WireFormatLite::MakeTag(common::v1::EventBatch::kReadToFieldNumber,
                              WireFormatLite::WIRETYPE_VARINT));
  batch.push_back(kTag);
  AppendVarint(sequence, batch);
}

// The full name of a serialized Event's payload type, read off its bytes
// without parsing the rest; nullopt when they cannot be read that way.
std::optional<absl::string_view> PayloadType(absl::string_view event) {
  using google::protobuf::io::CodedInputStream;
  auto field = [](absl::string_view bytes,
                  int number) -> std::optional<absl::string_view> {
    CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                           static_cast<int>(bytes.size()));
    while (const uint32_t tag = input.ReadTag()) {
      if (WireFormatLite::GetTagFieldNumber(tag) == number &&
          WireFormatLite::GetTagWireType(tag) ==
              WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        uint32_t size;
        if (!input.ReadVarint32(&size)) return std::nullopt;
        const int at = input.CurrentPosition();
        if (size > bytes.size() - at) return std::nullopt;
        return bytes.substr(at, size);
      }
      if (!WireFormatLite::SkipField(&input, tag)) return std::nullopt;
    }
    return std::nullopt;
  };
  const std::optional<absl::string_view> payload =
      field(event, common::v1::Event::kPayloadFieldNumber);
  if (!payload) return std::nullopt;
  const std::optional<absl::string_view> url =
      field(*payload, google::protobuf::Any::kTypeUrlFieldNumber);
  if (!url) return std::nullopt;
  return url->substr(url->rfind('/') + 1);
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
  const absl::flat_hash_set<std::string> wanted(
      request->payload_types().begin(), request->payload_types().end());
  std::string batch;
  // The last event read but not sent, with a filter.
  uint64_t unsent = 0;
  auto send = [&] {
    if (unsent != 0) AppendReadTo(unsent, batch);
    unsent = 0;
    const bool sent = batch.empty() || WriteBytes(writer, batch);
    batch.clear();
    return sent;
  };
  return Stream(
      context, *request,
      [&](uint64_t sequence, absl::string_view event) {
        if (!wanted.empty()) {
          // Unreadable bytes are sent: the follower says what is wrong.
          const std::optional<absl::string_view> type = PayloadType(event);
          if (type && !wanted.contains(*type)) {
            unsent = sequence;
            return true;
          }
          unsent = 0;
        }
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
