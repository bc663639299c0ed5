// EventFollower: applies another service's event stream to this service's
// store, exactly once.
//
// For each event it calls `apply` with a fresh WriteBatch, adds the cursor
// (source name -> the event's sequence) to that same batch and puts it in
// the store's line, so what was derived and how far the stream was read can
// never disagree: after a crash of either side it resumes right after the
// last applied event. Writes `apply` makes on its own must be in the
// store's line before it returns (Commit or Enqueue), so that they are
// ordered before the cursor, and what it reads of its own derived state it
// reads with GetLatest: the previous event's writes may still be in line. A
// failed `apply` stops progress at that event and is retried after a backoff
// (it must be deterministic and leave the batch unused on error).
//
// A consumer that can apply several events together passes an ApplyMany
// instead: it gets every new event of one stream message (up to 512) and
// one batch for all of them, to which the follower adds one cursor (the
// last event's) and which it puts in line once. It is all or nothing: on
// error the batch is left unused and the whole message is retried. What it
// reads of its own derived state must count the events before it in the
// same call, whose writes are only in the batch.
//
//   EventFollower follower("accrual", accrual_address, store,
//       [&](const common::v1::Event& event, store::WriteBatch& batch) {
//         return Derive(event, batch);
//       }, &host->metrics());
//   follower.Start();
//   ...
//   follower.Stop();
//
// With a metrics registry it reports how far it has read and how far the
// source's log reaches, both labelled with the source, so that a consumer
// falling behind shows as their difference:
//   mileagebank_follower_stream_position{source}  last applied sequence
//   mileagebank_follower_stream_head{source}      newest sequence of the
//                                                 source (polled every 5 s)
// (the names mirror reporting's mileagebank_reporting_stream_position/head).
//
// Thread-safe; `apply` runs on the follower's own thread, one event (or one
// message) at a time.
#ifndef MILEAGEBANK_LIBS_CLIENT_EVENT_FOLLOWER_H_
#define MILEAGEBANK_LIBS_CLIENT_EVENT_FOLLOWER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/types/span.h"
#include "grpcpp/grpcpp.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.pb.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace mileagebank::client {

class EventFollower {
 public:
  using Apply = std::function<absl::Status(const common::v1::Event& event,
                                           store::WriteBatch& batch)>;
  // `events`: one or more, consecutive, in log order.
  using ApplyMany =
      std::function<absl::Status(absl::Span<const common::v1::Event> events,
                                 store::WriteBatch& batch)>;

  // `source`: the name under which the cursor is stored (e.g. "accrual");
  // `target`: the source service's address; `metrics`: where to report
  // progress (null: not reported), outliving the follower.
  EventFollower(std::string source, std::string target, store::Store* store,
                Apply apply, prometheus::Registry* metrics = nullptr);
  EventFollower(std::string source, std::string target, store::Store* store,
                ApplyMany apply, prometheus::Registry* metrics = nullptr);
  EventFollower(const EventFollower&) = delete;
  EventFollower& operator=(const EventFollower&) = delete;
  ~EventFollower();

  // Asks the source for the events of these payload types only (full
  // names; SubscribeRequest.payload_types), for a follower whose `apply`
  // ignores the rest of a busy stream; the cursor still moves past them.
  // Before Start.
  void OnlyPayloadTypes(std::vector<std::string> types) {
    payload_types_ = std::move(types);
  }

  void Start();
  // Stops after the event being applied, if any; idempotent.
  void Stop();
  // The sequence of the last applied event.
  uint64_t position() const { return position_.load(); }

 private:
  EventFollower(std::string source, std::string target, store::Store* store,
                Apply apply, ApplyMany apply_many,
                prometheus::Registry* metrics);
  void Run();
  // Reads one subscription until it ends; returns why.
  absl::Status FollowOnce();
  // Applies `events` (all new; perhaps none) with their cursor, in one
  // batch or one each; the cursor ends at `read_to` when that is further.
  absl::Status ApplyMessage(absl::Span<const common::v1::Event> events,
                            uint64_t read_to);
  void SetPosition(uint64_t sequence);
  // Polls the source's head until Stop, for the head gauge.
  void WatchHead();

  const std::string source_;
  const std::string target_;
  store::Store* const store_;
  // Exactly one of the two is set.
  const Apply apply_;
  const ApplyMany apply_many_;
  std::vector<std::string> payload_types_;
  // Both null without a registry.
  prometheus::Gauge* const position_gauge_;
  prometheus::Gauge* const head_gauge_;
  std::atomic<uint64_t> position_{0};
  std::atomic<bool> stopping_{false};
  absl::Notification stop_watching_;
  absl::Mutex mutex_;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mutex_) = nullptr;
  std::thread thread_;
  std::thread head_watcher_;
};

}  // namespace mileagebank::client

#endif  // MILEAGEBANK_LIBS_CLIENT_EVENT_FOLLOWER_H_
