#include "libs/client/event_follower.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"
#include "libs/client/client.h"
#include "libs/client/event_reader.h"
#include "libs/log/log.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "mileagebank/common/v1/events.grpc.pb.h"

namespace mileagebank::client {
namespace {

constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr absl::Duration kHeadPoll = absl::Seconds(5);
constexpr absl::Duration kHeadDeadline = absl::Seconds(2);

prometheus::Gauge* SourceGauge(prometheus::Registry* metrics,
                               const std::string& name, const std::string& help,
                               const std::string& source) {
  if (metrics == nullptr) return nullptr;
  // The registry merges families of the same name, so every follower of a
  // process shares one family, a series per source.
  return &prometheus::BuildGauge().Name(name).Help(help).Register(*metrics).Add(
      {{"source", source}});
}

}  // namespace

EventFollower::EventFollower(std::string source, std::string target,
                             store::Store* store, Apply apply,
                             prometheus::Registry* metrics)
    : EventFollower(std::move(source), std::move(target), store,
                    std::move(apply), nullptr, metrics) {}

EventFollower::EventFollower(std::string source, std::string target,
                             store::Store* store, ApplyMany apply,
                             prometheus::Registry* metrics)
    : EventFollower(std::move(source), std::move(target), store, nullptr,
                    std::move(apply), metrics) {}

EventFollower::EventFollower(std::string source, std::string target,
                             store::Store* store, Apply apply,
                             ApplyMany apply_many,
                             prometheus::Registry* metrics)
    : source_(std::move(source)),
      target_(std::move(target)),
      store_(store),
      apply_(std::move(apply)),
      apply_many_(std::move(apply_many)),
      position_gauge_(SourceGauge(
          metrics, "mileagebank_follower_stream_position",
          "Sequence of the last event applied from the source's stream, by "
          "source",
          source_)),
      head_gauge_(SourceGauge(
          metrics, "mileagebank_follower_stream_head",
          "Newest sequence of the source's event log (polled), by source",
          source_)) {}

EventFollower::~EventFollower() { Stop(); }

void EventFollower::Start() {
  thread_ = std::thread([this] { Run(); });
  if (head_gauge_ != nullptr) {
    head_watcher_ = std::thread([this] { WatchHead(); });
  }
}

void EventFollower::Stop() {
  stopping_ = true;
  if (!stop_watching_.HasBeenNotified()) stop_watching_.Notify();
  {
    absl::MutexLock lock(&mutex_);
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
  if (head_watcher_.joinable()) head_watcher_.join();
}

void EventFollower::SetPosition(uint64_t sequence) {
  position_ = sequence;
  if (position_gauge_ != nullptr) {
    position_gauge_->Set(static_cast<double>(sequence));
  }
}

void EventFollower::WatchHead() {
  auto stub = common::v1::EventStream::NewStub(ChannelFor(target_));
  do {
    common::v1::GetHeadResponse head;
    // One attempt: the next poll is the retry, and the reader logs the
    // source's trouble.
    if (Call(*stub, &common::v1::EventStream::Stub::GetHead,
             common::v1::GetHeadRequest(), &head,
             CallPolicy{.deadline = kHeadDeadline, .max_attempts = 1})
            .ok()) {
      head_gauge_->Set(static_cast<double>(head.last_sequence()));
    }
  } while (!stop_watching_.WaitForNotificationWithTimeout(kHeadPoll));
}

void EventFollower::Run() {
  absl::Duration backoff = kMinBackoff;
  while (!stopping_) {
    const uint64_t before = position_;
    absl::Status ended = FollowOnce();
    if (stopping_) break;
    if (position_ > before) backoff = kMinBackoff;
    log::Warning("event_stream_interrupted",
                 {{"source", source_},
                  {"position", static_cast<uint64_t>(position_)},
                  {"reason", ended.ToString()}});
    absl::Time wake = absl::Now() + backoff;
    while (!stopping_ && absl::Now() < wake) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

absl::Status EventFollower::FollowOnce() {
  absl::StatusOr<uint64_t> cursor = store_->ReadCursor(source_);
  if (!cursor.ok()) return cursor.status();
  SetPosition(*cursor);

  auto stub = common::v1::EventStream::NewStub(ChannelFor(target_));
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return absl::CancelledError("stopping");
    active_ = &context;
  }
  common::v1::SubscribeRequest request;
  request.set_after_sequence(*cursor);
  request.set_follow(true);
  for (const std::string& type : payload_types_)
    request.add_payload_types(type);
  EventReader reader(stub.get(), &context, request);
  std::vector<common::v1::Event> events;
  absl::Status result = absl::OkStatus();
  while (reader.NextMessage(&events)) {
    const auto fresh = std::find_if(
        events.begin(), events.end(),
        [&](const common::v1::Event& e) { return e.sequence() > position_; });
    if (fresh == events.end() && reader.read_to() <= position_) {
      continue;  // Already applied.
    }
    result = ApplyMessage(
        absl::MakeConstSpan(events.data() + (fresh - events.begin()),
                            events.end() - fresh),
        reader.read_to());
    if (!result.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status finished = reader.Finish();
  {
    absl::MutexLock lock(&mutex_);
    active_ = nullptr;
  }
  if (!result.ok()) return result;
  return finished.ok() ? absl::UnavailableError("stream ended")
                       : FromGrpcStatus(finished);
}

absl::Status EventFollower::ApplyMessage(
    absl::Span<const common::v1::Event> events, uint64_t read_to) {
  const uint64_t through =
      std::max(read_to, events.empty() ? 0 : events.back().sequence());
  // Put in line, not waited for: the store writes in order, so the cursor
  // is never durable before what was derived from the events, and a crash
  // loses both or neither. Following many events then costs few fsyncs.
  if (apply_many_) {
    store::WriteBatch batch = store_->NewBatch();
    if (!events.empty()) MB_RETURN_IF_ERROR(apply_many_(events, batch));
    batch.SetCursor(source_, through);
    store_->Enqueue(batch);
    SetPosition(through);
    return absl::OkStatus();
  }
  for (const common::v1::Event& event : events) {
    store::WriteBatch batch = store_->NewBatch();
    MB_RETURN_IF_ERROR(apply_(event, batch));
    batch.SetCursor(source_, event.sequence());
    store_->Enqueue(batch);
    SetPosition(event.sequence());
  }
  if (through > position_) {
    // Past events of other types, not sent.
    store::WriteBatch batch = store_->NewBatch();
    batch.SetCursor(source_, through);
    store_->Enqueue(batch);
    SetPosition(through);
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::client
