#include "libs/client/event_reader.h"

#include <utility>

namespace mileagebank::client {

EventReader::EventReader(common::v1::EventStream::Stub* stub,
                         grpc::ClientContext* context,
                         const common::v1::SubscribeRequest& request)
    : reader_(stub->SubscribeBatched(context, request)) {}

bool EventReader::Next(common::v1::Event* event) {
  while (next_ >= batch_.events_size()) {
    batch_.Clear();
    next_ = 0;
    if (!reader_->Read(&batch_)) return false;
  }
  *event = std::move(*batch_.mutable_events(next_++));
  return true;
}

bool EventReader::NextMessage(std::vector<common::v1::Event>* events) {
  events->clear();
  while (next_ >= batch_.events_size()) {
    batch_.Clear();
    next_ = 0;
    if (!reader_->Read(&batch_)) return false;
  }
  events->reserve(batch_.events_size() - next_);
  while (next_ < batch_.events_size()) {
    events->push_back(std::move(*batch_.mutable_events(next_++)));
  }
  return true;
}

grpc::Status EventReader::Finish() { return reader_->Finish(); }

}  // namespace mileagebank::client
