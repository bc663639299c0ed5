// EventReader: one subscription to a service's event log, read one event at
// a time, though the events come several to a message (SubscribeBatched).
//
//   grpc::ClientContext context;
//   EventReader reader(stub.get(), &context, request);
//   common::v1::Event event;
//   while (reader.Next(&event)) Apply(event);
//   grpc::Status ended = reader.Finish();
//
// or a message's worth at a time (NextMessage), for a consumer that applies
// them together.
//
// Cancel the subscription with context.TryCancel(). Thread-compatible.
#ifndef MILEAGEBANK_LIBS_CLIENT_EVENT_READER_H_
#define MILEAGEBANK_LIBS_CLIENT_EVENT_READER_H_

#include <memory>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::client {

class EventReader {
 public:
  // `stub` and `context` must outlive the reader.
  EventReader(common::v1::EventStream::Stub* stub, grpc::ClientContext* context,
              const common::v1::SubscribeRequest& request);

  // The next event, in log order; false once the stream has ended.
  bool Next(common::v1::Event* event);
  // The events of the current message not yet returned by Next, or else all
  // of the next message's, in log order; false once the stream has ended.
  // None only when the request named payload_types and the message holds
  // only how far the log was read. Mixes freely with Next.
  bool NextMessage(std::vector<common::v1::Event>* events);
  // How far the log was read for the message NextMessage returned last:
  // its last event's sequence, or beyond it when the events after that
  // were not of the types asked for (0 before the first message).
  uint64_t read_to() const { return read_to_; }
  // How the stream ended; once Next has returned false.
  grpc::Status Finish();

 private:
  std::unique_ptr<grpc::ClientReader<common::v1::EventBatch>> reader_;
  common::v1::EventBatch batch_;
  int next_ = 0;
  uint64_t read_to_ = 0;
};

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_EVENT_READER_H_
