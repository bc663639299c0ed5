#include "services/reporting/store_view.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mileagebank::reporting {
namespace {

absl::Status NotCounterRow(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": unreadable counter row"));
}

// Table::unread_bytes: a size, then as many bytes.
void AppendSized(absl::string_view part, std::string& bytes) {
  const uint32_t size = static_cast<uint32_t>(part.size());
  bytes.append(reinterpret_cast<const char*>(&size), sizeof(size));
  bytes.append(part.data(), part.size());
}

absl::string_view SizedAt(const std::string& bytes, size_t offset) {
  uint32_t size;
  std::memcpy(&size, bytes.data() + offset, sizeof(size));
  return absl::string_view(bytes.data() + offset + sizeof(size), size);
}

}  // namespace

BufferedViewState::BufferedViewState(store::Store* store,
                                     BufferedViewStateOptions options)
    : store_(store), options_(std::move(options)) {}

absl::Status BufferedViewState::Load() {
  for (const std::string& name : options_.resident_tables) {
    Table& table = TableFor(name);
    absl::Status status = store_->Scan(
        name, store::ScanRange{},
        [&](absl::string_view key, absl::string_view value) {
          table.rows.try_emplace(key, Row{std::string(value), false, 0});
          return true;
        });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

BufferedViewState::Table& BufferedViewState::TableFor(absl::string_view name) {
  RecentTable& recent =
      recent_tables_[(reinterpret_cast<uintptr_t>(name.data()) >> 3) %
                     recent_tables_.size()];
  if (recent.table != nullptr && recent.name == name.data() &&
      recent.table->name == name) {
    return *recent.table;
  }
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    auto table = std::make_unique<Table>();
    table->name = std::string(name);
    table->resident =
        std::find(options_.resident_tables.begin(),
                  options_.resident_tables.end(),
                  name) != options_.resident_tables.end();
    if (!table->resident) {
      // Before this object's first write to the table: what is durable is
      // all there is. A failed read only costs the shortcut.
      bool stored = false;
      table->bounded =
          store_
              ->Scan(name, store::ScanRange{"", "", /*reverse=*/true},
                     [&](absl::string_view key, absl::string_view) {
                       table->greatest = std::string(key);
                       stored = true;
                       return false;
                     })
              .ok();
      table->fresh = table->bounded && !stored;
    }
    it = tables_.emplace(table->name, std::move(table)).first;
  }
  recent = RecentTable{name.data(), it->second.get()};
  return *recent.table;
}

// All of a key's bits are in one 64-bit word: one cache miss per key.
uint64_t KeyFilter::Mask(uint64_t hash) {
  uint64_t mask = 0;
  for (int i = 0; i < kProbes; ++i) {
    mask |= uint64_t{1} << ((hash >> (6 * i)) & 63);
  }
  return mask;
}

void KeyFilter::Add(const void* table, absl::string_view key) {
  if (bits_.empty()) bits_.resize(kWords);
  const uint64_t hash = Hash(table, key);
  bits_[(hash >> 32) % kWords] |= Mask(hash);
}

bool KeyFilter::MayContain(const void* table, absl::string_view key) const {
  if (bits_.empty()) return false;
  const uint64_t hash = Hash(table, key);
  const uint64_t mask = Mask(hash);
  return (bits_[(hash >> 32) % kWords] & mask) == mask;
}

void BufferedViewState::Drop(
    Table& table, absl::node_hash_map<std::string, Row>::iterator it) {
  if (table.fresh) dropped_.Add(&table, it->first);
  dropped_unread_ = std::max(dropped_unread_, it->second.written_unread);
  table.last = Entry{};
  table.rows.erase(it);
}

absl::StatusOr<BufferedViewState::Entry> BufferedViewState::Load(
    Table& table, absl::string_view key) {
  if (table.last.row != nullptr && *table.last.key == key) {
    table.last.row->touched = generation_;
    return table.last;
  }
  auto it = table.rows.find(key);
  if (it == table.rows.end()) {
    uint64_t number = 0;
    if (table.resident && table.numbered != nullptr &&
        table.numbered->number(key, &number)) {
      return absl::InternalError(absl::StrCat(
          "reporting ", table.name, ": a row kept by number read by key"));
    }
    Row row;
    if (!table.resident && !(table.bounded && key > table.greatest) &&
        !(table.fresh && !dropped_.MayContain(&table, key))) {
      ++store_reads_;
      AwaitDroppedWrites();
      absl::StatusOr<std::optional<std::string>> stored =
          store_->GetLatest(table.name, key);
      if (!stored.ok()) return stored.status();
      if (stored->has_value()) row.value = std::move(**stored);
    }
    // Absent keys are kept too: a member's first event reads nothing.
    it = table.rows.emplace(key, std::move(row)).first;
  }
  it->second.touched = generation_;
  table.last = Entry{&it->first, &it->second};
  return table.last;
}

void BufferedViewState::MarkDirty(Table& table, Entry entry) {
  if (entry.row->dirty) return;
  entry.row->dirty = true;
  table.dirty.emplace_back(entry.key, entry.row);
}

BufferedViewState::Row& BufferedViewState::Replace(Table& table,
                                                   absl::string_view key) {
  auto [it, added] = table.rows.try_emplace(key);
  if (added) it->second.blind = true;
  it->second.touched = generation_;
  MarkDirty(table, Entry{&it->first, &it->second});
  return it->second;
}

absl::StatusOr<std::vector<int64_t>*> BufferedViewState::AsCounters(
    Table& table, Row& row) {
  if (auto* counters = std::get_if<std::vector<int64_t>>(&row.value)) {
    return counters;
  }
  std::vector<int64_t> values;
  if (auto* bytes = std::get_if<std::string>(&row.value)) {
    if (!DecodeCounters(*bytes, &values)) return NotCounterRow(table.name);
  } else if (!std::holds_alternative<Absent>(row.value)) {
    return NotCounterRow(table.name);
  }
  return &row.value.emplace<std::vector<int64_t>>(std::move(values));
}

absl::StatusOr<std::optional<std::string>> BufferedViewState::Get(
    absl::string_view table_name, absl::string_view key) {
  absl::StatusOr<Entry> entry = Load(TableFor(table_name), key);
  if (!entry.ok()) return entry.status();
  const Value& value = entry->row->value;
  if (auto* bytes = std::get_if<std::string>(&value)) return *bytes;
  if (auto* counters = std::get_if<std::vector<int64_t>>(&value)) {
    return EncodeCounters(*counters);
  }
  if (auto* record = std::get_if<std::unique_ptr<Record>>(&value)) {
    return (*record)->Encode();
  }
  return std::nullopt;
}

void BufferedViewState::Put(absl::string_view table_name,
                            absl::string_view key, std::string value) {
  Replace(TableFor(table_name), key).value = std::move(value);
}

void BufferedViewState::PutUnread(absl::string_view table_name,
                                  absl::string_view key,
                                  absl::string_view value) {
  Table& table = TableFor(table_name);
  // A row in memory must stay true: it takes the value as a Put.
  if (table.resident || table.rows.contains(key)) {
    Put(table_name, key, std::string(value));
    return;
  }
  // Its rows are no longer all this object's own (the store must be read).
  table.fresh = false;
  table.unread_rows.push_back(table.unread_bytes.size());
  AppendSized(key, table.unread_bytes);
  AppendSized(value, table.unread_bytes);
}

void BufferedViewState::Delete(absl::string_view table_name,
                               absl::string_view key) {
  Replace(TableFor(table_name), key).value = Absent{};
}

absl::Status BufferedViewState::Add(absl::string_view table_name,
                                    absl::string_view key,
                                    absl::Span<const int64_t> deltas) {
  return AddAndGet(table_name, key, deltas, /*after=*/nullptr);
}

absl::Status BufferedViewState::AddAndGet(absl::string_view table_name,
                                          absl::string_view key,
                                          absl::Span<const int64_t> deltas,
                                          std::vector<int64_t>* after) {
  Table& table = TableFor(table_name);
  absl::StatusOr<Entry> entry = Load(table, key);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::vector<int64_t>*> values = AsCounters(table, *entry->row);
  if (!values.ok()) return values.status();
  AddCounters(deltas, *values);
  MarkDirty(table, *entry);
  if (after != nullptr) after->assign((*values)->begin(), (*values)->end());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> BufferedViewState::Counters(
    absl::string_view table_name, absl::string_view key) {
  Table& table = TableFor(table_name);
  absl::StatusOr<Entry> entry = Load(table, key);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::vector<int64_t>*> values = AsCounters(table, *entry->row);
  if (!values.ok()) return values.status();
  return **values;
}

absl::StatusOr<Record*> BufferedViewState::RecordAt(
    absl::string_view table_name, absl::string_view key, RecordMaker make,
    bool* found) {
  Table& table = TableFor(table_name);
  absl::StatusOr<Entry> entry = Load(table, key);
  if (!entry.ok()) return entry.status();
  Row& row = *entry->row;
  auto* decoded = std::get_if<std::unique_ptr<Record>>(&row.value);
  *found = decoded != nullptr;
  if (decoded == nullptr) {
    std::unique_ptr<Record> record = make();
    if (auto* bytes = std::get_if<std::string>(&row.value)) {
      if (!record->Decode(*bytes)) {
        return absl::DataLossError(
            absl::StrCat("reporting ", table.name, ": unreadable record"));
      }
      *found = true;
    } else if (!std::holds_alternative<Absent>(row.value)) {
      return absl::DataLossError(
          absl::StrCat("reporting ", table.name, ": not a record"));
    }
    decoded = &row.value.emplace<std::unique_ptr<Record>>(std::move(record));
  }
  MarkDirty(table, *entry);
  return decoded->get();
}

absl::StatusOr<Record*> BufferedViewState::NumberedRecordAt(
    absl::string_view table_name, const NumberedKeys& keys, uint64_t number,
    RecordMaker make, bool* found) {
  Table& table = TableFor(table_name);
  // Only a resident table knows that a number it does not hold is absent.
  if (!table.resident) {
    return RecordAt(table_name, keys.key(number), make, found);
  }
  if (table.numbered == nullptr) {
    absl::Status status = Number(table, keys, make);
    if (!status.ok()) return status;
  }
  NumberedRow& row = table.numbered_rows[number];
  *found = row.record != nullptr;
  if (row.record == nullptr) row.record = make();
  if (!row.dirty) {
    row.dirty = true;
    table.numbered_dirty.push_back(number);
  }
  return row.record.get();
}

void BufferedViewState::DeleteNumbered(absl::string_view table_name,
                                       const NumberedKeys& keys,
                                       uint64_t number) {
  Table& table = TableFor(table_name);
  if (!table.resident || table.numbered == nullptr) {
    Delete(table_name, keys.key(number));
    return;
  }
  auto it = table.numbered_rows.find(number);
  if (it == table.numbered_rows.end() || it->second.record == nullptr) return;
  it->second.record = nullptr;
  if (!it->second.dirty) {
    it->second.dirty = true;
    table.numbered_dirty.push_back(number);
  }
}

absl::Status BufferedViewState::Number(Table& table, const NumberedKeys& keys,
                                       RecordMaker make) {
  table.last = Entry{};
  table.numbered_rows.reserve(table.rows.size());
  for (auto it = table.rows.begin(); it != table.rows.end();) {
    uint64_t number = 0;
    if (!keys.number(it->first, &number)) {
      ++it;
      continue;
    }
    const Row& row = it->second;
    if (!row.dirty) {
      if (const auto* bytes = std::get_if<std::string>(&row.value)) {
        std::unique_ptr<Record> record = make();
        if (!record->Decode(*bytes)) {
          return absl::DataLossError(
              absl::StrCat("reporting ", table.name, ": unreadable record"));
        }
        table.numbered_rows.emplace(number,
                                    NumberedRow{std::move(record), false});
        table.rows.erase(it++);
        continue;
      }
      if (std::holds_alternative<Absent>(row.value)) {
        table.rows.erase(it++);
        continue;
      }
    }
    return absl::InternalError(absl::StrCat(
        "reporting ", table.name, ": rows used both by key and by number"));
  }
  table.numbered = &keys;
  table.make = make;
  return absl::OkStatus();
}

size_t BufferedViewState::FlushNumbered(Table& table,
                                        store::WriteBatch& batch) {
  if (table.numbered_dirty.empty()) return 0;
  // Keys mostly sort as their numbers do (see NumberedKeys): the memtable
  // then inserts a run.
  std::sort(table.numbered_dirty.begin(), table.numbered_dirty.end());
  for (uint64_t number : table.numbered_dirty) {
    auto it = table.numbered_rows.find(number);
    // Kept in memory, never read back while in line (as resident rows).
    if (it->second.record == nullptr) {
      batch.DeleteUnread(table.name, table.numbered->key(number));
      table.numbered_rows.erase(it);
      continue;
    }
    it->second.dirty = false;
    batch.PutUnread(table.name, table.numbered->key(number),
                    it->second.record->Encode());
  }
  const size_t writes = table.numbered_dirty.size();
  table.numbered_dirty.clear();
  table.numbered_written = generation_;
  return writes;
}

size_t BufferedViewState::FlushUnread(Table& table, store::WriteBatch& batch) {
  std::vector<size_t>& rows = table.unread_rows;
  if (rows.empty()) return 0;
  const std::string& bytes = table.unread_bytes;
  // In key order, as Flush's rows; stable, so a key's last value wins.
  std::stable_sort(rows.begin(), rows.end(), [&bytes](size_t a, size_t b) {
    return SizedAt(bytes, a) < SizedAt(bytes, b);
  });
  for (const size_t offset : rows) {
    const absl::string_view key = SizedAt(bytes, offset);
    batch.PutUnread(table.name, key,
                    SizedAt(bytes, offset + sizeof(uint32_t) + key.size()));
  }
  const absl::string_view greatest = SizedAt(bytes, rows.back());
  if (table.bounded && greatest > table.greatest) {
    table.greatest = std::string(greatest);
  }
  // Not in memory, and unseen by GetLatest while in line.
  dropped_unread_ = std::max(dropped_unread_, generation_);
  const size_t writes = rows.size();
  std::vector<size_t>().swap(rows);
  std::string().swap(table.unread_bytes);
  return writes;
}

void BufferedViewState::DiscardNumbered(Table& table) {
  // Read back below: the last write may be in line, unread.
  if (!table.numbered_dirty.empty()) {
    dropped_unread_ = std::max(dropped_unread_, table.numbered_written);
  }
  for (uint64_t number : table.numbered_dirty) {
    table.numbered_rows.erase(number);
    if (!table.resident) continue;
    AwaitDroppedWrites();
    absl::StatusOr<std::optional<std::string>> stored =
        store_->GetLatest(table.name, table.numbered->key(number));
    std::unique_ptr<Record> record;
    if (stored.ok() && stored->has_value()) {
      record = table.make();
      if (!record->Decode(**stored)) {
        stored = absl::DataLossError("unreadable record");
      }
    }
    if (!stored.ok()) {
      // As for a row kept by key: stop trusting memory for this table.
      table.resident = false;
      table.bounded = false;
      continue;
    }
    if (record != nullptr) {
      table.numbered_rows.emplace(number,
                                  NumberedRow{std::move(record), false});
    }
  }
  table.numbered_dirty.clear();
  if (!table.resident) {
    // Read from the store from now on: after their writes are durable.
    dropped_unread_ = std::max(dropped_unread_, table.numbered_written);
    table.numbered_rows.clear();
    table.numbered = nullptr;
  }
}

void BufferedViewState::AwaitDroppedWrites() {
  if (dropped_unread_ == 0) return;
  for (const auto& [generation, ticket] : enqueued_) {
    if (generation >= dropped_unread_) {
      store_->Wait(ticket);
      dropped_unread_ = 0;
      return;
    }
  }
  // Flushed but not enqueued (yet): nothing in line can hold it.
  store_->WaitForQueued();
  dropped_unread_ = 0;
}

size_t BufferedViewState::Flush(store::WriteBatch& batch) {
  size_t writes = 0;
  size_t dirty = 0;
  for (const auto& [name, table] : tables_) {
    dirty += table->dirty.size() + table->numbered_dirty.size();
  }
  batch.Reserve(dirty);
  batch.OnEnqueued([this, generation = generation_](uint64_t ticket) {
    enqueued_.emplace_back(generation, ticket);
    if (enqueued_.size() > 8) enqueued_.pop_front();
  });
  for (auto& [name, table] : tables_) {
    writes += FlushUnread(*table, batch);
    // In key order: RocksDB's memtable inserts a run of ascending keys much
    // faster than scattered ones (it reuses the previous insert's position),
    // which is most of a commit's cost with many member rows.
    std::sort(table->dirty.begin(), table->dirty.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [key, row] : table->dirty) {
      // A row that stays in memory is never read back from the store while
      // its write is in line (one that leaves memory later is waited for:
      // AwaitDroppedWrites), so its write skips the store's overlay.
      const bool kept = table->resident || !row->blind;
      std::optional<std::string> bytes;
      const Value& value = row->value;
      if (auto* stored = std::get_if<std::string>(&value)) {
        bytes = *stored;
      } else if (auto* counters = std::get_if<std::vector<int64_t>>(&value)) {
        bytes = EncodeCounters(*counters);
      } else if (auto* record = std::get_if<std::unique_ptr<Record>>(&value)) {
        bytes = (*record)->Encode();
      }
      if (!kept) {
        if (bytes.has_value()) {
          batch.Put(name, *key, *bytes);
        } else {
          batch.Delete(name, *key);
        }
      } else {
        row->written_unread = generation_;
        if (bytes.has_value()) {
          batch.PutUnread(name, *key, *std::move(bytes));
        } else {
          batch.DeleteUnread(name, *key);
        }
      }
      row->dirty = false;
      ++writes;
    }
    if (!table->dirty.empty() &&
        (!table->bounded || *table->dirty.back().first > table->greatest)) {
      table->greatest = *table->dirty.back().first;
      table->bounded = true;
    }
    for (const auto& [key, row] : table->dirty) {
      if (row->blind && !table->resident) {
        Drop(*table, table->rows.find(*key));
      }
    }
    table->dirty.clear();
    writes += FlushNumbered(*table, batch);
  }
  Evict();
  ++generation_;
  return writes;
}

void BufferedViewState::Evict() {
  // Everything is clean here (just flushed).
  auto evictable = [this] {
    size_t rows = 0;
    for (const auto& [name, table] : tables_) {
      if (!table->resident) rows += table->rows.size();
    }
    return rows;
  };
  const size_t limit = options_.max_cached_rows;
  if (evictable() <= limit) return;
  // Down to three quarters, so that eviction is not paid at every flush:
  // rows untouched for the longest go first.
  const size_t target = limit - limit / 4;
  for (uint64_t age = 64; age >= 1 && evictable() > target; age /= 2) {
    const uint64_t cutoff = generation_ > age ? generation_ - age : 0;
    for (auto& [name, table] : tables_) {
      if (table->resident) continue;
      for (auto it = table->rows.begin(); it != table->rows.end();) {
        auto next = std::next(it);
        if (it->second.touched <= cutoff) Drop(*table, it);
        it = next;
      }
    }
  }
  if (evictable() <= target) return;
  for (auto& [name, table] : tables_) {
    if (table->resident) continue;
    for (auto it = table->rows.begin(); it != table->rows.end();) {
      Drop(*table, it++);
    }
  }
}

void BufferedViewState::Discard() {
  for (auto& [name, table] : tables_) {
    if (!table->resident) continue;
    for (const auto& [key, row] : table->dirty) {
      // Read back below: its last write may be in line, unread.
      dropped_unread_ = std::max(dropped_unread_, row->written_unread);
    }
  }
  for (auto& [name, table] : tables_) {
    for (const auto& [key, row] : table->dirty) {
      const std::string stale = *key;
      if (!table->resident) {
        // It may be stored (changed since the last flush).
        Drop(*table, table->rows.find(stale));
        continue;
      }
      table->last = Entry{};
      table->rows.erase(table->rows.find(stale));
      // A resident table must hold every stored row: read it back.
      AwaitDroppedWrites();
      absl::StatusOr<std::optional<std::string>> stored =
          store_->GetLatest(name, stale);
      if (!stored.ok()) {
        // Without the row, "not in memory" would mean "absent": stop
        // trusting memory for this table.
        table->resident = false;
        table->bounded = false;
        continue;
      }
      if (stored->has_value()) {
        table->rows.try_emplace(stale, Row{std::move(**stored), false, 0});
      }
    }
    table->dirty.clear();
    DiscardNumbered(*table);
    std::vector<size_t>().swap(table->unread_rows);
    std::string().swap(table->unread_bytes);
  }
}

size_t BufferedViewState::cached_rows() const {
  size_t rows = 0;
  for (const auto& [name, table] : tables_) {
    rows += table->rows.size() + table->numbered_rows.size();
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
