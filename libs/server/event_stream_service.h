// EventStreamService: serves a Store's event log as the
// mileagebank.common.v1.EventStream gRPC service, which every service process
// registers beside its own.
//
// Subscribe replays the log in order from the requested position, then (with
// `follow`) waits for new commits and streams them, until the client goes
// away or the store stops its waiters at shutdown; SubscribeBatched does the
// same with the events read together sent in one message. Uses the synchronous
// API: one thread per subscriber, and subscribers are few (the services that
// follow this one).
//
// Events are sent as the log stores them, serialized: the streaming methods
// write their messages' bytes (an Event, or an EventBatch made of stored
// events) rather than parse and serialize every event again, which was most
// of a source's cost while a follower caught up. Hence a grpc::Service of
// its own, registering the three methods of events.proto by their names,
// rather than the generated EventStream::Service, whose methods take
// messages; clients use the generated stub as for any service.
//
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_
#define MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_

#include <array>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/service_type.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.pb.h"

namespace mileagebank::server {

class EventStreamService final : public grpc::Service {
 public:
  explicit EventStreamService(store::Store* store);

 private:
  using Writer = grpc::ServerWriter<grpc::ByteBuffer>;

  grpc::Status Subscribe(grpc::ServerContext* context,
                         const common::v1::SubscribeRequest* request,
                         Writer* writer);
  grpc::Status SubscribeBatched(grpc::ServerContext* context,
                                const common::v1::SubscribeRequest* request,
                                Writer* writer);
  grpc::Status GetHead(grpc::ServerContext* context,
                       const common::v1::GetHeadRequest* request,
                       common::v1::GetHeadResponse* response);

  // Hands the events after the request's cursor, as they become durable,
  // to `add` (false: the subscriber left), then calls `flush` once per read
  // of the log (false: the subscriber left), until the subscriber goes.
  grpc::Status Stream(grpc::ServerContext* context,
                      const common::v1::SubscribeRequest& request,
                      const store::Store::EventVisit& add,
                      const std::function<bool()>& flush);

  store::Store* store_;
  // "/mileagebank.common.v1.EventStream/<method>": gRPC keeps pointers.
  std::array<std::string, 3> paths_;
};

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_
