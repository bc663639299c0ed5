// The reporting view over the real store: what the ingest writes through and
// what queries read.
//
// - BufferedViewState: the ViewState the ingest hands to projections. Every
//   change stays in memory until Flush moves it into a WriteBatch, which the
//   ingest commits together with the streams' cursors (see view_state.h):
//   exactly once across crashes. Reads see buffered changes first, then the
//   store (GetLatest: a flushed batch may still be in the store's line).
//   Counter rows are kept whole (stored value + deltas); rows stay cached
//   after a flush (bounded), so hot daily buckets and members are read from
//   the store once, absent keys included:
//
//     BufferedViewState state(store);
//     projection.Apply(source, event, state);  // many times
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

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/store/store.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

struct BufferedViewStateOptions {
  // Rows (plain and counter rows alike) kept in memory after a flush, as
  // clean copies of what is stored, so that hot daily buckets and members
  // seen recently are not read from the store again. Beyond it, rows not
  // touched lately are dropped at the next flush. 0 keeps none. About 100
  // bytes a row.
  size_t max_cached_rows = 1 << 20;
};

class BufferedViewState final : public ViewState {
 public:
  explicit BufferedViewState(store::Store* store,
                             BufferedViewStateOptions options = {});
  BufferedViewState(const BufferedViewState&) = delete;
  BufferedViewState& operator=(const BufferedViewState&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) override;
  void Put(absl::string_view table, absl::string_view key,
           std::string value) override;
  void Delete(absl::string_view table, absl::string_view key) override;
  absl::Status Add(absl::string_view table, absl::string_view key,
                   absl::Span<const int64_t> deltas) override;
  absl::StatusOr<std::vector<int64_t>> Counters(
      absl::string_view table, absl::string_view key) override;

  // Writes every buffered change into `batch` and empties the buffer
  // (cached counter rows stay, now clean). Returns the writes added.
  size_t Flush(store::WriteBatch& batch);
  // Forgets every change since the last Flush (the ingest replays the
  // events instead). Clean cached rows stay: they match the store.
  void Discard();

  // Rows in memory, changed or clean; for tests and tuning.
  size_t cached_rows() const;

 private:
  // A key's row as the buffer knows it; a key is in `rows` or in
  // `counters`, never both.
  struct Row {
    std::optional<std::string> value;  // nullopt: none (deleted or absent).
    bool dirty = false;                // Changed since the last flush.
    uint64_t touched = 0;              // The flush generation last using it.
  };
  struct CounterRow {
    std::vector<int64_t> values;
    bool dirty = false;
    uint64_t touched = 0;
  };
  struct Table {
    std::string name;
    absl::flat_hash_map<std::string, Row> rows;
    absl::flat_hash_map<std::string, CounterRow> counters;
  };

  Table& TableFor(absl::string_view name);
  // The counter row at `key`, loaded from the buffer or the store.
  absl::StatusOr<CounterRow*> LoadCounters(Table& table,
                                           absl::string_view key);
  void Evict();

  store::Store* const store_;
  const BufferedViewStateOptions options_;
  absl::flat_hash_map<std::string, std::unique_ptr<Table>> tables_;
  // Projections touch one table several times in a row.
  Table* last_table_ = nullptr;
  uint64_t generation_ = 1;
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
