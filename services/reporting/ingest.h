// Ingest: folds the source services' event streams into the reporting
// store, each event exactly once, and hands out consistent readers of it.
//
// One reader thread per source subscribes to the source's EventStream after
// its stored cursor and puts the events in that source's bounded line. One
// applier thread loads the projections' resident tables, then takes the
// events of all the lines in the order they were recorded (each source's
// in its own order; across sources by recorded_at, then by source) and
// applies each to every projection through a BufferedViewState. It waits
// for a source whose line is empty while the source's log (its head, polled)
// holds more, up to `merge_wait`; so a rebuild applies the same events in the
// same order whatever the sources' speeds, and figures that depend on the
// order across sources (a member's miles by tier on a day) come out as
// they did while following. Every `commit_every_events` events or
// `commit_every` (whichever comes first; while catching up, every
// `catchup_commit_every_events`) it flushes the buffered changes and
// every source's cursor into ONE batch and puts it in the store's line; a
// committer thread waits for it to be durable and only then publishes the
// positions. A crash therefore loses derived changes and the cursors that
// cover them together, and a restart resumes right after what is durable.
//
// A projection error stops the applier at that event: everything applied
// since the last flush is dropped and applied again after a backoff (the
// projections are deterministic), so nothing is skipped or counted twice.
//
//   Ingest ingest(store.get(), projections, {.targets = {{"accrual", addr}}},
//                 &registry);
//   ingest.Start();
//   MB_RETURN_IF_ERROR(ingest.WaitFor(request.min_stream_positions(),
//   deadline)); std::unique_ptr<ViewReader> view = ingest.Reader();
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REPORTING_INGEST_H_
#define MILEAGEBANK_SERVICES_REPORTING_INGEST_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "grpcpp/grpcpp.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/reporting/store_view.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

struct IngestOptions {
  // Source name (kMembershipSource ...) -> its EventStream's "host:port".
  std::map<std::string, std::string> targets;
  // Commit after this many applied events...
  int commit_every_events = 20000;
  // ...or this long after the first uncommitted one, whichever comes first.
  absl::Duration commit_every = absl::Milliseconds(200);
  // While catching up (the line from the sources was at least half full
  // when the applier took it), commit after this many events instead, and
  // not by time: a hot row (a member's, a day's) is then rewritten once
  // per batch rather than once per 200 ms. It bounds the memory of what is
  // uncommitted (the events kept to apply again, the batch: ~1 KB each).
  int catchup_commit_every_events = 100000;
  // How long the applier waits for the next event of a source that is
  // behind its head before it goes on without it (a source unreachable
  // must not stop the others' figures); it waits again once that source
  // delivers.
  absl::Duration merge_wait = absl::Seconds(2);
};

class Ingest {
 public:
  // Everything outlives it; `store` was opened with Tables(projections).
  // `metrics` may be null (metrics are then kept privately).
  Ingest(store::Store* store, std::vector<Projection*> projections,
         IngestOptions options, prometheus::Registry* metrics);
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;
  ~Ingest();  // Stop()

  // Every projection's tables, for Store::Open.
  static std::vector<std::string> Tables(
      const std::vector<Projection*>& projections);
  // Those of them kept wholly in memory (Projection::ResidentTables).
  static std::vector<std::string> ResidentTables(
      const std::vector<Projection*>& projections);

  void Start();
  // Stops reading, commits what was applied and waits for it to be
  // durable; idempotent.
  void Stop();

  // What is committed (durable), per source; every configured source is
  // present.
  std::map<std::string, uint64_t> positions() const;

  // Waits until each given source is committed at least that far.
  // INVALID_ARGUMENT naming min_stream_positions for an unknown source;
  // DEADLINE_EXCEEDED at `deadline`.
  absl::Status WaitFor(const google::protobuf::Map<std::string, uint64_t>& min,
                       absl::Time deadline) const;

  // A consistent reader of what is committed.
  std::unique_ptr<ViewReader> Reader() const;

  // A reader at exactly `sequence` of `source`: the applier commits when
  // it has applied that source up to `sequence` (and not beyond), takes the
  // snapshot there, then goes on. INVALID_ARGUMENT naming source for an
  // unknown one; FAILED_PRECONDITION if the source is already applied past
  // `sequence`; DEADLINE_EXCEEDED at `deadline`; UNAVAILABLE once stopped.
  absl::StatusOr<std::unique_ptr<ViewReader>> ReaderAt(
      const std::string& source, uint64_t sequence, absl::Time deadline);

  // Test hook: stops as a crash would, dropping what was applied but not
  // yet put in the store's line (no final commit).
  void StopWithoutCommitForTest();

 private:
  struct Metrics;
  struct Source;
  // One event in line, with the index of its source.
  struct Item {
    size_t source;
    common::v1::Event event;
  };
  // A ReaderAt waiting for the applier.
  struct Hold {
    size_t source;
    uint64_t sequence;
    bool done = false;
    absl::StatusOr<std::unique_ptr<ViewReader>> result =
        absl::UnavailableError("ingest stopped");
  };
  // A batch in the store's line, published once durable.
  struct InFlight {
    uint64_t ticket;
    std::vector<uint64_t> positions;
    std::vector<uint64_t> events;  // Per source.
    size_t total_events;
    size_t writes;
    absl::Time enqueued;
  };

  void StopImpl(bool commit);
  absl::StatusOr<size_t> SourceIndex(absl::string_view name) const;

  // Reader thread of source `index`.
  void ReadLoop(size_t index);
  absl::Status FollowOnce(size_t index);
  // Puts a message's events (in log order, at least one) in line, waiting
  // for room; false when stopping.
  bool Push(size_t index, std::vector<common::v1::Event> events);
  // Whether the applier must wait for source `index`'s next event before
  // it takes any later one: its line is empty and its log holds more.
  bool Behind(size_t index) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_);
  // Moves the events that can be applied now into `work` in recorded
  // order; stops where a line empties whose source is behind.
  void TakeInOrder(std::vector<Item>& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mutex_);

  // Applier thread.
  void ApplyLoop();
  // Waits for events that can be applied (or a hold, or the time of a
  // commit) and moves them into `work` in recorded order; `catching_up`
  // when the lines were at least half full, `caught_up` when not and every
  // source has delivered up to its newest head polled. False when stopping.
  bool TakeWork(std::vector<Item>& work, bool* catching_up, bool* caught_up);
  // Projection::DeriveDeferred of every projection, after a commit made
  // durable, then a commit of what they wrote.
  void DeriveDeferred();
  // Whether `unflushed_` is due for a commit; `catching_up` as above.
  bool CommitDue(bool catching_up) const;
  absl::Status ApplyOne(const Item& item);
  // Flushes and puts a batch in line (when there is anything to write);
  // returns the ticket of the newest batch put in line.
  uint64_t Commit();
  // Resolves the holds that `next` (the next event, or null when idle)
  // makes ready.
  void ServeHolds(const Item* next);

  // Committer thread.
  void CommitLoop();
  // Head poller thread.
  void MonitorLoop();

  store::Store* const store_;
  const std::vector<Projection*> projections_;
  const IngestOptions options_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<prometheus::Registry> own_registry_;
  std::unique_ptr<Metrics> metrics_;

  // Applier-only state.
  BufferedViewState state_;
  std::vector<uint64_t> applied_;  // Per source, in the buffer.
  std::vector<uint64_t> flushed_;  // Per source, in the store's line.
  std::vector<uint64_t> events_since_flush_;
  std::vector<Item> unflushed_;  // Kept to apply again after an error.
  uint64_t last_ticket_ = 0;
  bool layout_written_ = false;
  // Projection::DeriveDeferred is due once caught up (after every start),
  // and not before this time (after a failure).
  bool derive_pending_ = true;
  absl::Time derive_not_before_ = absl::InfinitePast();
  // Buffered writes made outside any event's apply (DeferDerived,
  // DeriveDeferred), for Commit.
  bool unflushed_outside_events_ = false;
  absl::Time commit_due_ = absl::InfiniteFuture();
  uint64_t holds_seen_ = 0;  // holds_added_ when last seen.
  // Since when events in line wait for a source behind (see merge_wait).
  std::optional<absl::Time> held_back_since_;

  // The line between readers and applier, and the holds.
  mutable absl::Mutex queue_mutex_;
  // Per source: its line, the last sequence put in it, the newest head
  // polled (none before the first answer) and whether the applier has
  // stopped waiting for it (see merge_wait) until it delivers again.
  std::vector<std::deque<common::v1::Event>> lines_
      ABSL_GUARDED_BY(queue_mutex_);
  std::vector<uint64_t> lined_up_to_ ABSL_GUARDED_BY(queue_mutex_);
  std::vector<std::optional<uint64_t>> heads_ ABSL_GUARDED_BY(queue_mutex_);
  std::vector<bool> waived_ ABSL_GUARDED_BY(queue_mutex_);
  size_t queued_ ABSL_GUARDED_BY(queue_mutex_) = 0;  // In all lines.
  bool readers_stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  bool applier_stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  bool applier_gone_ ABSL_GUARDED_BY(queue_mutex_) = false;
  std::vector<std::shared_ptr<Hold>> holds_ ABSL_GUARDED_BY(queue_mutex_);
  uint64_t holds_added_ ABSL_GUARDED_BY(queue_mutex_) = 0;
  std::atomic<bool> holds_pending_{false};

  // Batches in the store's line, and what is durable.
  mutable absl::Mutex commit_mutex_;
  std::deque<InFlight> in_flight_ ABSL_GUARDED_BY(commit_mutex_);
  bool committer_stopping_ ABSL_GUARDED_BY(commit_mutex_) = false;
  std::vector<uint64_t> committed_ ABSL_GUARDED_BY(commit_mutex_);

  absl::Mutex lifecycle_mutex_;
  bool started_ ABSL_GUARDED_BY(lifecycle_mutex_) = false;
  bool stopped_ ABSL_GUARDED_BY(lifecycle_mutex_) = false;
  bool commit_on_stop_ = true;
  absl::Notification stop_monitor_;
  std::thread applier_;
  std::thread committer_;
  std::thread monitor_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_INGEST_H_
