// Store: the one way services persist state, a thin wrapper over RocksDB.
//
// - Tables are RocksDB column families, named when the store is opened.
// - Every change is a WriteBatch applied atomically. Commit returns once the
//   batch is on disk (the write-ahead log fsynced), so an acknowledged write
//   survives kill -9.
// - Pipelined group commit: Enqueue puts a batch in line and returns at once;
//   one writer thread writes everything in line as one fsynced RocksDB
//   write, in line order; Wait blocks until a batch is durable. A service
//   decides under its own lock (reading with GetLatest, which sees batches
//   still in line), enqueues, releases the lock and only then waits: one busy
//   account is not held up by its own fsyncs, and a decision that depended
//   on an earlier one is never durable without it.
// - Transactional outbox: a batch may append events; Enqueue gives them
//   consecutive sequence numbers and writes them in the same atomic batch, so
//   no state change is ever without its event or the other way round.
//   Readers (EventStreamService) see events once they are durable.
// - Cursors: a consumer of another service's stream keeps its position in a
//   cursor written in the same batch as what it derived from the event.
// - A failed write to disk ends the process (after logging why): the state
//   decided on top of it can no longer be trusted, and a restart recovers
//   exactly what was acknowledged.
// - Damage is found at start: Open refuses a store whose files fail their
//   checksums (DATA_LOSS naming the file), rather than serve wrong balances.
// - Backups: Backup writes a consistent copy while writes go on; CheckCopy
//   checks one, RestoreCopy puts one in place for a service to open.
//
//   auto store = Store::Open({.path = dir, .tables = {"members", "index"}});
//   WriteBatch batch = (*store)->NewBatch();
//   batch.PutProto("members", key, member);
//   batch.AppendEvent(member_number, MemberEnrolled{...});
//   MB_RETURN_IF_ERROR((*store)->Commit(batch));
//
// Thread-safe. Read-modify-write sequences need a caller's lock (see
// KeyLocks in key_locks.h): the store orders writes, not decisions.
#ifndef MILEAGEBANK_LIBS_STORE_STORE_H_
#define MILEAGEBANK_LIBS_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <deque>
#include <thread>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "mileagebank/common/v1/events.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace mileagebank::store {

struct StoreOptions {
  // Folder of the database; created when missing.
  std::string path;
  // The service's tables. "events" and "cursors" are added by the store.
  std::vector<std::string> tables;
  // Bytes of RocksDB block cache shared by all tables.
  size_t block_cache_bytes = 64 << 20;
  // Tables looked up mostly for keys never written (an idempotency key's
  // first use): Bloom filters on their in-memory tables too, so that such a
  // lookup does not search them. Not on the others, where every write
  // would pay for a filter no read needs.
  std::vector<std::string> memtable_bloom_tables;
  // Tables of few rows each rewritten again and again (a member's totals
  // per year): their in-memory table is kept small, so that its skip list
  // stays short and in the processor's caches, and a flush of it writes
  // only each row's last version, which a small table still holds most of.
  std::vector<std::string> rewritten_tables;
  // Reads every table file through at open to check its checksums, so that
  // a damaged file stops the service at start rather than at the first read
  // of the damaged block (which may be weeks later). Costs a read of the
  // whole store per start.
  bool verify_at_open = true;
};

class Store;

// What a copy of a store (a backup) holds.
struct CopyInfo {
  // Its newest event: every change the service acknowledged up to this
  // event is in the copy, and nothing after it.
  uint64_t sequence = 0;
  int64_t size_bytes = 0;
};

// An atomic set of changes. Made by Store::NewBatch, applied by Commit.
// Thread-compatible.
class WriteBatch {
 public:
  WriteBatch(WriteBatch&&) = default;
  WriteBatch& operator=(WriteBatch&&) = default;

  void Put(absl::string_view table, absl::string_view key,
           absl::string_view value);
  void PutProto(absl::string_view table, absl::string_view key,
                const google::protobuf::Message& value);
  void Delete(absl::string_view table, absl::string_view key);
  // Put and Delete of a key whose writer keeps its newest value in memory
  // and never reads it back with GetLatest while the batch is in line (a
  // projection's rows): the write skips the in-line overlay GetLatest
  // reads, so until the batch is durable GetLatest returns the key's older
  // value. Such writes go straight into RocksDB's encoding (no copy of the
  // key and value kept per write, none made again by the store's writer),
  // which is most of the cost of writing a million rows. Durable and
  // atomic exactly as Put and Delete; applied before the batch's other
  // writes, so a key is written one way or the other in a batch, not both.
  void PutUnread(absl::string_view table, absl::string_view key,
                 absl::string_view value);
  void DeleteUnread(absl::string_view table, absl::string_view key);
  // Room for `writes` more writes, when the caller knows how many follow.
  void Reserve(size_t writes) { writes_.reserve(writes_.size() + writes); }
  // Appends `payload` to the event log, keyed by `key` (e.g. a member number).
  void AppendEvent(absl::string_view key,
                   const google::protobuf::Message& payload);
  // Appends an event recorded elsewhere, keeping its key, payload and
  // recorded_at (its sequence is still this log's next): for loading a
  // history written by another program, such as the reporting benchmark's
  // generated sources. Services record their own events with AppendEvent.
  void AppendRecordedEvent(common::v1::Event event);
  // Records that the consumer of `source` has applied everything up to
  // `sequence`.
  void SetCursor(absl::string_view source, uint64_t sequence);
  // Runs `hook` with the batch's ticket once Enqueue has put it in line
  // (GetLatest sees its writes), on the enqueuing thread, before Enqueue
  // returns; never for a batch that is not enqueued. For a service's
  // in-memory copies of what it writes: they change exactly when the store
  // does, under the caller's locks.
  void OnEnqueued(std::function<void(uint64_t ticket)> hook);
  bool empty() const {
    return writes_.empty() && events_.empty() && unread_.Count() == 0;
  }

 private:
  friend class Store;
  explicit WriteBatch(const Store* store) : store_(store) {}

  struct Write {
    rocksdb::ColumnFamilyHandle* table;
    std::string key;
    std::optional<std::string> value;  // nullopt deletes.
  };
  // Store::Table of `name`, remembering the last one: writes come in runs
  // of one table.
  rocksdb::ColumnFamilyHandle* TableOf(absl::string_view name);

  const Store* store_;
  std::string last_table_name_;
  rocksdb::ColumnFamilyHandle* last_table_ = nullptr;
  std::vector<Write> writes_;
  rocksdb::WriteBatch unread_;  // PutUnread and DeleteUnread.
  // An event in line: the encoding of its Event fields after recorded_at
  // (from recorded_at when `recorded`), to which the writer puts its
  // sequence and time in front. Encoded at once rather than kept as
  // messages (an Event with an Any) to be encoded once more.
  struct EncodedEvent {
    std::string fields;
    bool recorded = false;
  };
  std::vector<EncodedEvent> events_;
  std::vector<std::function<void(uint64_t)>> on_enqueued_;
};

// Bounds of a scan: keys in [start, end) (an empty end means no bound),
// ascending, or descending from just below `end` when `reverse` is set.
struct ScanRange {
  std::string start;
  std::string end;
  bool reverse = false;
};

// A range covering every key that starts with `prefix`.
ScanRange PrefixRange(absl::string_view prefix);

// A consistent, read-only view of what was durable when it was taken (a
// RocksDB snapshot): reads of several tables and cursors through it agree
// with one another whatever is committed meanwhile. Made by
// Store::NewSnapshot; released when destroyed, which must happen before the
// store is. Thread-safe.
class Snapshot {
 public:
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot();

  // As Store::Get, at the snapshot.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view table,
                                                 absl::string_view key) const;
  // As Store::Scan, at the snapshot.
  absl::Status Scan(
      absl::string_view table, const ScanRange& range,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const;
  // As Store::ReadCursor, at the snapshot.
  absl::StatusOr<uint64_t> ReadCursor(absl::string_view source) const;

 private:
  friend class Store;
  Snapshot(const Store* store, const rocksdb::Snapshot* snapshot)
      : store_(store), snapshot_(snapshot) {}

  const Store* const store_;
  const rocksdb::Snapshot* const snapshot_;
};

class Store {
 public:
  // Opens (creating when missing) the database at options.path. Fails with a
  // clear status on a missing table list or a locked folder, and with
  // DATA_LOSS on corruption, naming the damaged file and what to do: every
  // block of every table file is checksummed at open, and the write-ahead
  // log must read cleanly to its end (only a last record cut short by a
  // crash is dropped: it was never acknowledged).
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const StoreOptions& options);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Flushes and closes the database.
  ~Store();

  WriteBatch NewBatch() const { return WriteBatch(this); }

  // Puts `batch` in line and returns its ticket at once. Its events get
  // their sequence numbers here. The batch is emptied.
  uint64_t Enqueue(WriteBatch& batch);
  // Blocks until the batch of `ticket` (and every batch before it) is on
  // disk.
  void Wait(uint64_t ticket);
  // Waits until everything in line now is durable: for a decision that must
  // scan (scans see only what is durable).
  void WaitForQueued();
  // Enqueue, then Wait. The status is OK: a failed disk write ends the
  // process rather than return.
  absl::Status Commit(WriteBatch& batch);

  // The durable value at `key`, or nullopt when there is none: what queries
  // answer with, never a write still in line.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view table,
                                                 absl::string_view key) const;
  // The newest value at `key`, a write still in line included: what
  // decisions read under the caller's lock. `*ticket` (if given) is the
  // ticket of the write in line it came from, 0 when durable; a reply that
  // reveals the value waits for it.
  absl::StatusOr<std::optional<std::string>> GetLatest(
      absl::string_view table, absl::string_view key,
      uint64_t* ticket = nullptr) const;
  // GetLatest parsed into `value`; false when there is none.
  absl::StatusOr<bool> GetLatestProto(absl::string_view table,
                                      absl::string_view key,
                                      google::protobuf::Message* value,
                                      uint64_t* ticket = nullptr) const;
  // Parses the value at `key` into `value`; false when there is none.
  absl::StatusOr<bool> GetProto(absl::string_view table, absl::string_view key,
                                google::protobuf::Message* value) const;

  // Calls `visit` for each durable key in `range` in order until it returns
  // false.
  absl::Status Scan(
      absl::string_view table, const ScanRange& range,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const;
  // The same with a visitor that can find a row unreadable: the first error
  // it returns ends the scan and is the scan's.
  using CheckedVisit = std::function<absl::StatusOr<bool>(
      absl::string_view key, absl::string_view value)>;
  absl::Status ScanChecked(absl::string_view table, const ScanRange& range,
                           const CheckedVisit& visit) const;

  // Up to `max` committed events after `after_sequence`, in order.
  absl::StatusOr<std::vector<common::v1::Event>> ReadEvents(
      uint64_t after_sequence, size_t max) const;
  // The same events as stored (a serialized common::v1::Event each), for
  // serving them on without parsing them: `visit` is called for each in
  // order until it returns false.
  using EventVisit =
      std::function<bool(uint64_t sequence, absl::string_view event)>;
  absl::Status VisitEvents(uint64_t after_sequence, size_t max,
                           const EventVisit& visit) const;
  // The newest sequence whose event is durable.
  uint64_t LastSequence() const;
  // Waits until an event after `after_sequence` is committed, or `timeout`
  // passes, or the store is shutting down. True when there is one.
  bool WaitForEvents(uint64_t after_sequence, absl::Duration timeout) const;
  // Wakes every waiter; later waits return at once. Called on shutdown so
  // that streaming readers finish.
  void StopWaiters();
  bool stopping() const;

  // The cursor stored for `source` (0 when none).
  absl::StatusOr<uint64_t> ReadCursor(absl::string_view source) const;

  // A consistent view of what is durable now, for reads that must agree
  // with one another (a report and the cursors it reflects).
  std::unique_ptr<Snapshot> NewSnapshot() const;

  // Writes a consistent copy of the database into `dir` (which must not
  // exist), cheaply: files are hard-linked where possible.
  absl::Status Checkpoint(const std::string& dir);

  // An online backup: a consistent copy of everything durable at one moment,
  // written into `dir` (which must not exist) while writes go on. A
  // checkpoint whose files are then copied rather than hard-linked, so that
  // a damaged live file cannot damage the backup too; fsynced, and checked
  // as CheckCopy (below) checks it before it is reported.
  absl::StatusOr<CopyInfo> Backup(const std::string& dir);

  const std::string& path() const { return path_; }

 private:
  friend class WriteBatch;
  friend class Snapshot;
  Store() = default;
  // Get, Scan and ReadCursor at `snapshot` (nullptr: the newest durable).
  absl::StatusOr<std::optional<std::string>> GetAt(
      const rocksdb::Snapshot* snapshot, absl::string_view table,
      absl::string_view key) const;
  absl::Status ScanAt(
      const rocksdb::Snapshot* snapshot, absl::string_view table,
      const ScanRange& range,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const;
  absl::StatusOr<uint64_t> ReadCursorAt(const rocksdb::Snapshot* snapshot,
                                        absl::string_view source) const;
  rocksdb::ColumnFamilyHandle* Table(absl::string_view name) const;
  // Writes what is in line, group by group, until the store closes.
  void WriteLoop();
  static std::string PendingKey(const rocksdb::ColumnFamilyHandle* table,
                                absl::string_view key);

  // A batch in line.
  struct Queued {
    uint64_t ticket;
    std::vector<WriteBatch::Write> writes;
    rocksdb::WriteBatch unread;
    std::vector<WriteBatch::EncodedEvent> events;
    // The events' sequences follow on from the first's.
    uint64_t first_sequence = 0;
    // When put in line: the recorded_at of events without their own.
    google::protobuf::Timestamp queued_at;
  };
  // The newest write in line of one key: its value where the batch in line
  // holds it (a batch's writes stay put from Enqueue until the writer has
  // written them and removed their entries here).
  struct Pending {
    const std::optional<std::string>* value;
    uint64_t ticket;
  };

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> tables_;
  std::thread writer_;

  // Guards the line and what is durable. Waiters sleep on `durable_`,
  // signalled once per group written.
  mutable absl::Mutex mutex_;
  absl::CondVar queued_;
  mutable absl::CondVar durable_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mutex_);
  uint64_t last_ticket_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t durable_ticket_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t last_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t durable_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
  // The newest durable events, so that followers that keep up are served
  // from memory rather than by reading the log back.
  // Serialized, as in the log; sequences consecutive.
  std::deque<std::pair<uint64_t, std::string>> tail_ ABSL_GUARDED_BY(mutex_);
  bool closing_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  // Writes in line by key; its own lock, as decisions read it constantly.
  mutable absl::Mutex pending_mutex_;
  absl::flat_hash_map<std::string, Pending> pending_
      ABSL_GUARDED_BY(pending_mutex_);
};

// Checks a copy of a store made by Store::Backup without changing it: every
// block checksum of every file, and its event log. DATA_LOSS naming the
// damaged file.
absl::StatusOr<CopyInfo> CheckCopy(const std::string& dir);

// Puts the backup at `backup` into place as the store folder `path`, which
// must not exist or be empty (FAILED_PRECONDITION otherwise): checked as
// CheckCopy checks it, copied and fsynced under a temporary name, then
// renamed, so that `path` never holds half a store.
absl::StatusOr<CopyInfo> RestoreCopy(const std::string& backup,
                                     const std::string& path);

}  // namespace mileagebank::store

#endif  // MILEAGEBANK_LIBS_STORE_STORE_H_
