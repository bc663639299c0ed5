// The reporting view over the real store: what the ingest writes through and
// what queries read.
//
// - BufferedViewState: the ViewState the ingest hands to projections. Every
//   change stays in memory until Flush moves it into a WriteBatch, which the
//   ingest commits together with the streams' cursors (see view_state.h):
//   exactly once across crashes. Reads see buffered changes first, then the
//   store (GetLatest: a flushed batch may still be in the store's line).
//   Counter rows are kept whole (stored value + deltas) and records decoded
//   (RecordAt), encoded once per flush. Rows stay in memory after a
//   flush: those of the resident tables (a row per member) all of them,
//   loaded at start; the others up to a bound, so hot daily buckets are
//   read from the store once, absent keys included. A table that was empty
//   in the store when first used (a catch-up from scratch) is never read
//   but for rows that left memory (see `dropped_`). A row that stays in
//   memory after the flush is written with WriteBatch::PutUnread (not seen
//   by GetLatest while in line: it is never read back then); reading one
//   back after it left memory first waits for its batch to be durable.
//   Rows of a resident table used by number (NumberedRecordAt: a row per
//   member) are kept decoded in a flat hash map by number. Use:
//
//     BufferedViewState state(store, {.resident_tables = ...});
//     MB_RETURN_IF_ERROR(state.Load());
//     projection.Apply(SourceEvent(source, event), state);  // many times
//     store::WriteBatch batch = store->NewBatch();
//     state.Flush(batch);
//     batch.SetCursor(source, event.sequence());
//     store->Enqueue(batch);
//
//   Only this object may write the tables it buffers, or its cache would go
//   stale. Thread-compatible: one thread (the ingest's applier) uses it.
//
// - SnapshotViewReader: a ViewReader over one store snapshot, with the
//   sources' cursors read from that same snapshot as its positions.
//   Thread-safe (it only reads).
#ifndef MILEAGEBANK_SERVICES_REPORTING_STORE_VIEW_H_
#define MILEAGEBANK_SERVICES_REPORTING_STORE_VIEW_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/store/store.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

struct BufferedViewStateOptions {
  // Rows of the other tables (plain and counter rows alike) kept in memory
  // after a flush, as clean copies of what is stored, so that hot daily
  // buckets seen recently are not read from the store again. Beyond it,
  // rows not touched lately are dropped at the next flush. 0 keeps none.
  // About 100 bytes a row.
  size_t max_cached_rows = 1 << 20;
  // Tables kept wholly in memory (Projection::ResidentTables): Load() reads
  // them, their rows are never dropped, and a key not in memory is absent
  // without asking the store.
  std::vector<std::string> resident_tables;
};

// A Bloom filter of (table, key) pairs: "maybe added" or "never added".
class KeyFilter {
 public:
  void Add(const void* table, absl::string_view key);
  bool MayContain(const void* table, absl::string_view key) const;

 private:
  static constexpr size_t kWords = size_t{1} << 22;  // 32 MiB.
  static constexpr int kProbes = 4;
  static uint64_t Hash(const void* table, absl::string_view key) {
    return absl::Hash<std::pair<const void*, absl::string_view>>()(
        {table, key});
  }
  static uint64_t Mask(uint64_t hash);
  std::vector<uint64_t> bits_;  // Allocated by the first Add.
};

class BufferedViewState final : public ViewState {
 public:
  explicit BufferedViewState(store::Store* store,
                             BufferedViewStateOptions options = {});
  BufferedViewState(const BufferedViewState&) = delete;
  BufferedViewState& operator=(const BufferedViewState&) = delete;

  // Reads the resident tables into memory; before the first change.
  absl::Status Load();

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) override;
  void Put(absl::string_view table, absl::string_view key,
           std::string value) override;
  void Delete(absl::string_view table, absl::string_view key) override;
  // Kept as bytes until the flush, then written in key order with
  // WriteBatch::PutUnread; the table is read from the store from then on
  // (it is no longer fresh), once the batch is durable.
  void PutUnread(absl::string_view table, absl::string_view key,
                 absl::string_view value) override;
  absl::Status Add(absl::string_view table, absl::string_view key,
                   absl::Span<const int64_t> deltas) override;
  absl::StatusOr<std::vector<int64_t>> Counters(
      absl::string_view table, absl::string_view key) override;
  absl::Status AddAndGet(absl::string_view table, absl::string_view key,
                         absl::Span<const int64_t> deltas,
                         std::vector<int64_t>* after) override;
  absl::StatusOr<Record*> RecordAt(absl::string_view table,
                                   absl::string_view key, RecordMaker make,
                                   bool* found) override;
  // Rows of a resident table kept by number in a flat hash map (those
  // loaded under a number's key move there at the table's first such
  // call); RecordAt's otherwise.
  absl::StatusOr<Record*> NumberedRecordAt(absl::string_view table,
                                           const NumberedKeys& keys,
                                           uint64_t number, RecordMaker make,
                                           bool* found) override;
  void DeleteNumbered(absl::string_view table, const NumberedKeys& keys,
                      uint64_t number) override;

  // Writes every buffered change into `batch`, one write per changed key,
  // and empties the buffer (rows stay in memory, now clean). Returns the
  // writes added.
  size_t Flush(store::WriteBatch& batch);
  // Forgets every change since the last Flush (the ingest replays the
  // events instead). Clean rows stay: they match the store.
  void Discard();

  // Rows in memory, changed or clean; for tests and tuning.
  size_t cached_rows() const;
  // Rows read from the store since construction (Load excluded); for
  // tuning.
  uint64_t store_reads() const { return store_reads_; }

 private:
  struct Absent {};
  // A row as the buffer knows it: absent (deleted, or not in the store),
  // bytes, a counter row decoded, or a record decoded (RecordAt). A
  // row is converted to what it is used as, and encoded at the flush.
  using Value = std::variant<Absent, std::string, std::vector<int64_t>,
                             std::unique_ptr<Record>>;
  struct Row {
    Value value;
    bool dirty = false;     // Changed since the last flush.
    // Put or Deleted without being read: most such rows are written once
    // (an index entry) and are not kept after the flush, so that they do
    // not push rows that are read again out of memory.
    bool blind = false;
    uint64_t touched = 0;   // The flush generation last using it.
    // The flush generation that last wrote it with WriteBatch::PutUnread
    // (GetLatest does not see that write while it is in line); 0 when none.
    uint64_t written_unread = 0;
  };
  // A row in memory and its key (both at stable addresses).
  struct Entry {
    const std::string* key = nullptr;
    Row* row = nullptr;
  };
  // A row of a table kept by number (NumberedRecordAt). A row not in the
  // map is absent; one deleted since the last flush has no record.
  struct NumberedRow {
    std::unique_ptr<Record> record;  // Its own allocation: a stable address.
    bool dirty = false;
  };
  struct Table {
    std::string name;
    bool resident = false;
    // Empty in the store when first used: every stored row is then one
    // this object wrote, so a key neither in memory nor in `dropped_` is
    // absent without a read (catch-up from an empty store reads nothing).
    bool fresh = false;
    // When `bounded`, no key above `greatest` is in the store (durable or
    // in line), so reading one is skipped: most keys lead with a day and
    // arrive in day order.
    bool bounded = false;
    std::string greatest;
    // Node-based: dirty rows are listed by address.
    absl::node_hash_map<std::string, Row> rows;
    std::vector<std::pair<const std::string*, Row*>> dirty;
    // The row used last: projections often read a row, then change it.
    // Cleared whenever a row of the table leaves memory.
    Entry last;
    // Set by the first NumberedRecordAt: its rows by number, outside `rows`.
    const NumberedKeys* numbered = nullptr;
    RecordMaker make = nullptr;
    absl::flat_hash_map<uint64_t, NumberedRow> numbered_rows;
    std::vector<uint64_t> numbered_dirty;
    // The flush generation that last wrote numbered rows (unread).
    uint64_t numbered_written = 0;
    // PutUnread rows since the last flush, one allocation for them all:
    // each is its key's and value's sizes (uint32) then their bytes,
    // starting at an offset listed in `unread_rows`.
    std::string unread_bytes;
    std::vector<size_t> unread_rows;
  };

  Table& TableFor(absl::string_view name);
  // Forgets a clean row of a non-resident table (its value is stored).
  void Drop(Table& table, absl::node_hash_map<std::string, Row>::iterator it);
  // The row at `key`, read from the store (GetLatest) when not in memory.
  absl::StatusOr<Entry> Load(Table& table, absl::string_view key);
  void MarkDirty(Table& table, Entry entry);
  // The row at `key` whatever it holds, without reading the store: for a
  // change that replaces it.
  Row& Replace(Table& table, absl::string_view key);
  // The row as a counter row; DATA_LOSS when it is something else.
  absl::StatusOr<std::vector<int64_t>*> AsCounters(Table& table, Row& row);
  void Evict();
  // Moves the rows of `table` stored under a number's key into
  // `numbered_rows`, decoded.
  absl::Status Number(Table& table, const NumberedKeys& keys,
                      RecordMaker make);
  size_t FlushNumbered(Table& table, store::WriteBatch& batch);
  size_t FlushUnread(Table& table, store::WriteBatch& batch);
  void DiscardNumbered(Table& table);
  // Before reading the store: waits until the writes of the rows that left
  // memory are durable if any was written unread (GetLatest would not see
  // it while in line).
  void AwaitDroppedWrites();

  store::Store* const store_;
  const BufferedViewStateOptions options_;
  absl::flat_hash_map<std::string, std::unique_ptr<Table>> tables_;
  // The tables used lately, by the address of the name the caller passed
  // (projections pass their constants): most lookups of a table are then a
  // pointer and a name compared, not a hash of the name. Direct-mapped.
  struct RecentTable {
    const char* name = nullptr;
    Table* table = nullptr;
  };
  std::array<RecentTable, 32> recent_tables_;
  uint64_t generation_ = 1;
  uint64_t store_reads_ = 0;
  // The keys of fresh tables' rows that left memory: a Bloom filter (a
  // false "maybe" costs a read), 32 MiB once the first row leaves, whatever
  // the number of rows, and a few % false positives at 20 million keys.
  KeyFilter dropped_;
  // The newest flush generation of an unread write of a row that left
  // memory, 0 when AwaitDroppedWrites has nothing to wait for.
  uint64_t dropped_unread_ = 0;
  // (flush generation, ticket) of the last batches flushed and enqueued,
  // oldest first; a few suffice: waiting for a later ticket is also safe.
  std::deque<std::pair<uint64_t, uint64_t>> enqueued_;
};

class SnapshotViewReader final : public ViewReader {
 public:
  // The sources whose cursors are the positions by default.
  static const std::vector<std::string>& AllSources();

  // Reads `sources`' cursors from `snapshot`. A cursor that cannot be read
  // makes every read of this reader fail with that error.
  explicit SnapshotViewReader(
      std::unique_ptr<store::Snapshot> snapshot,
      const std::vector<std::string>& sources = AllSources());

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) const override;
  absl::Status Scan(absl::string_view table, const store::ScanRange& range,
                    const Visit& visit) const override;
  const std::map<std::string, uint64_t>& positions() const override {
    return positions_;
  }

 private:
  std::unique_ptr<store::Snapshot> snapshot_;
  std::map<std::string, uint64_t> positions_;
  absl::Status broken_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_STORE_VIEW_H_
