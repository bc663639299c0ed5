#include "libs/client/event_reader.h"

#include <algorithm>
#include <utility>

namespace mileagebank::client {

EventReader::EventReader(common::v1::EventStream::Stub* stub,
                         grpc::ClientContext* context,
                         const common::v1::SubscribeRequest& request)
    : reader_(stub->SubscribeBatched(context, request)) {}

bool EventReader::Next(common::v1::Event* event) {
  // Messages without events (only read_to) are passed over.
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
  if (next_ >= batch_.events_size()) {
    batch_.Clear();
    next_ = 0;
    do {
      if (!reader_->Read(&batch_)) return false;
    } while (batch_.events_size() == 0 && batch_.read_to() == 0);
  }
  events->reserve(batch_.events_size() - next_);
  while (next_ < batch_.events_size()) {
    events->push_back(std::move(*batch_.mutable_events(next_++)));
  }
  read_to_ = std::max(batch_.read_to(),
                      events->empty() ? 0 : events->back().sequence());
  return true;
}

grpc::Status EventReader::Finish() { return reader_->Finish(); }

}  // namespace mileagebank::client
