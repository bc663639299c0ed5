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
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_
#define MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_

#include <functional>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::server {

class EventStreamService final : public common::v1::EventStream::Service {
 public:
  explicit EventStreamService(store::Store* store) : store_(store) {}

  grpc::Status Subscribe(
      grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
      grpc::ServerWriter<common::v1::Event>* writer) override;
  grpc::Status SubscribeBatched(
      grpc::ServerContext* context, const common::v1::SubscribeRequest* request,
      grpc::ServerWriter<common::v1::EventBatch>* writer) override;
  grpc::Status GetHead(grpc::ServerContext* context,
                       const common::v1::GetHeadRequest* request,
                       common::v1::GetHeadResponse* response) override;

 private:
  // Hands the events after the request's cursor, as they become durable,
  // to `send` (false: the subscriber left) until the subscriber goes.
  grpc::Status Stream(
      grpc::ServerContext* context, const common::v1::SubscribeRequest& request,
      const std::function<bool(std::vector<common::v1::Event>&)>& send);

  store::Store* store_;
};

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_EVENT_STREAM_SERVICE_H_
