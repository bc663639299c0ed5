#include "services/reporting/store_view.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mileagebank::reporting {
namespace {

absl::Status NotCounterRow(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": unreadable counter row"));
}

}  // namespace

BufferedViewState::BufferedViewState(store::Store* store,
                                     BufferedViewStateOptions options)
    : store_(store), options_(options) {}

BufferedViewState::Table& BufferedViewState::TableFor(absl::string_view name) {
  if (last_table_ != nullptr && last_table_->name == name) return *last_table_;
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    auto table = std::make_unique<Table>();
    table->name = std::string(name);
    it = tables_.emplace(table->name, std::move(table)).first;
  }
  last_table_ = it->second.get();
  return *last_table_;
}

absl::StatusOr<std::optional<std::string>> BufferedViewState::Get(
    absl::string_view table_name, absl::string_view key) {
  Table& table = TableFor(table_name);
  if (auto row = table.rows.find(key); row != table.rows.end()) {
    row->second.touched = generation_;
    return row->second.value;
  }
  if (auto counters = table.counters.find(key);
      counters != table.counters.end()) {
    counters->second.touched = generation_;
    return EncodeCounters(counters->second.values);
  }
  absl::StatusOr<std::optional<std::string>> stored =
      store_->GetLatest(table_name, key);
  if (!stored.ok()) return stored;
  if (options_.max_cached_rows > 0) {
    // Absent keys are cached too: a member's first event reads nothing.
    table.rows.try_emplace(key, Row{*stored, /*dirty=*/false, generation_});
  }
  return stored;
}

void BufferedViewState::Put(absl::string_view table_name,
                            absl::string_view key, std::string value) {
  Table& table = TableFor(table_name);
  table.counters.erase(key);
  Row& row = table.rows[key];
  row.value = std::move(value);
  row.dirty = true;
  row.touched = generation_;
}

void BufferedViewState::Delete(absl::string_view table_name,
                               absl::string_view key) {
  Table& table = TableFor(table_name);
  table.counters.erase(key);
  Row& row = table.rows[key];
  row.value.reset();
  row.dirty = true;
  row.touched = generation_;
}

absl::StatusOr<BufferedViewState::CounterRow*> BufferedViewState::LoadCounters(
    Table& table, absl::string_view key) {
  if (auto found = table.counters.find(key); found != table.counters.end()) {
    found->second.touched = generation_;
    return &found->second;
  }
  CounterRow loaded;
  loaded.touched = generation_;
  if (auto row = table.rows.find(key); row != table.rows.end()) {
    // A row known as bytes becomes a counter row; it stays as dirty as it
    // was.
    if (row->second.value.has_value() &&
        !DecodeCounters(*row->second.value, &loaded.values)) {
      return NotCounterRow(table.name);
    }
    loaded.dirty = row->second.dirty;
    table.rows.erase(row);
  } else {
    absl::StatusOr<std::optional<std::string>> stored =
        store_->GetLatest(table.name, key);
    if (!stored.ok()) return stored.status();
    if (stored->has_value() && !DecodeCounters(**stored, &loaded.values)) {
      return NotCounterRow(table.name);
    }
  }
  return &table.counters.try_emplace(key, std::move(loaded)).first->second;
}

absl::Status BufferedViewState::Add(absl::string_view table_name,
                                    absl::string_view key,
                                    absl::Span<const int64_t> deltas) {
  absl::StatusOr<CounterRow*> row = LoadCounters(TableFor(table_name), key);
  if (!row.ok()) return row.status();
  AddCounters(deltas, &(*row)->values);
  (*row)->dirty = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> BufferedViewState::Counters(
    absl::string_view table_name, absl::string_view key) {
  absl::StatusOr<CounterRow*> row = LoadCounters(TableFor(table_name), key);
  if (!row.ok()) return row.status();
  return (*row)->values;
}

size_t BufferedViewState::Flush(store::WriteBatch& batch) {
  size_t writes = 0;
  // In key order: RocksDB's memtable inserts a run of ascending keys much
  // faster than scattered ones (it reuses the previous insert's position),
  // which is most of a commit's cost with many member rows.
  std::vector<std::pair<const std::string*, Row*>> rows;
  std::vector<std::pair<const std::string*, CounterRow*>> counters;
  auto by_key = [](const auto& a, const auto& b) { return *a.first < *b.first; };
  for (auto& [name, table] : tables_) {
    rows.clear();
    counters.clear();
    for (auto& [key, row] : table->rows) {
      if (row.dirty) rows.emplace_back(&key, &row);
    }
    for (auto& [key, row] : table->counters) {
      if (row.dirty) counters.emplace_back(&key, &row);
    }
    std::sort(rows.begin(), rows.end(), by_key);
    std::sort(counters.begin(), counters.end(), by_key);
    // A key is in one map only: merge the two runs.
    auto row = rows.begin();
    auto counter = counters.begin();
    while (row != rows.end() || counter != counters.end()) {
      if (counter == counters.end() ||
          (row != rows.end() && *row->first < *counter->first)) {
        if (row->second->value.has_value()) {
          batch.Put(name, *row->first, *row->second->value);
        } else {
          batch.Delete(name, *row->first);
        }
        row->second->dirty = false;
        ++row;
      } else {
        batch.Put(name, *counter->first,
                  EncodeCounters(counter->second->values));
        counter->second->dirty = false;
        ++counter;
      }
      ++writes;
    }
  }
  Evict();
  ++generation_;
  return writes;
}

void BufferedViewState::Evict() {
  // Everything is clean here (just flushed).
  const size_t limit = options_.max_cached_rows;
  if (cached_rows() <= limit) return;
  // Down to three quarters, so that eviction is not paid at every flush:
  // rows untouched for the longest go first.
  const size_t target = limit - limit / 4;
  for (uint64_t age = 64; age >= 1 && cached_rows() > target; age /= 2) {
    const uint64_t cutoff = generation_ > age ? generation_ - age : 0;
    for (auto& [name, table] : tables_) {
      absl::erase_if(table->rows, [&](const auto& entry) {
        return entry.second.touched <= cutoff;
      });
      absl::erase_if(table->counters, [&](const auto& entry) {
        return entry.second.touched <= cutoff;
      });
    }
  }
  if (cached_rows() <= target) return;
  for (auto& [name, table] : tables_) {
    table->rows.clear();
    table->counters.clear();
  }
}

void BufferedViewState::Discard() {
  for (auto& [name, table] : tables_) {
    absl::erase_if(table->rows,
                   [](const auto& entry) { return entry.second.dirty; });
    absl::erase_if(table->counters,
                   [](const auto& entry) { return entry.second.dirty; });
  }
}

size_t BufferedViewState::cached_rows() const {
  size_t rows = 0;
  for (const auto& [name, table] : tables_) {
    rows += table->rows.size() + table->counters.size();
  }
  return rows;
}

const std::vector<std::string>& SnapshotViewReader::AllSources() {
  static const auto* const kSources = new std::vector<std::string>{
      kMembershipSource, kAccrualSource, kRedemptionSource,
      kSettlementSource};
  return *kSources;
}

SnapshotViewReader::SnapshotViewReader(
    std::unique_ptr<store::Snapshot> snapshot,
    const std::vector<std::string>& sources)
    : snapshot_(std::move(snapshot)) {
  for (const std::string& source : sources) {
    absl::StatusOr<uint64_t> cursor = snapshot_->ReadCursor(source);
    if (!cursor.ok()) {
      broken_ = cursor.status();
      positions_[source] = 0;
      continue;
    }
    positions_[source] = *cursor;
  }
}

absl::StatusOr<std::optional<std::string>> SnapshotViewReader::Get(
    absl::string_view table, absl::string_view key) const {
  if (!broken_.ok()) return broken_;
  return snapshot_->Get(table, key);
}

absl::Status SnapshotViewReader::Scan(absl::string_view table,
                                      const store::ScanRange& range,
                                      const Visit& visit) const {
  if (!broken_.ok()) return broken_;
  return snapshot_->Scan(table, range, visit);
}

}  // namespace mileagebank::reporting
