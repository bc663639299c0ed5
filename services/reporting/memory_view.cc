#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {

void MemoryView::Settle() const {
  for (const auto& [key, record] : parsed_) rows_[key] = record->Encode();
}

MemoryView::MemoryView(const MemoryView& other) { *this = other; }

MemoryView& MemoryView::operator=(const MemoryView& other) {
  other.Settle();
  rows_ = other.rows_;
  parsed_.clear();
  positions_ = other.positions_;
  return *this;
}

absl::StatusOr<std::optional<std::string>> MemoryView::Get(
    absl::string_view table, absl::string_view key) const {
  Settle();
  auto found = rows_.find({std::string(table), std::string(key)});
  if (found == rows_.end()) return std::nullopt;
  return found->second;
}

absl::StatusOr<std::optional<std::string>> MemoryView::Get(
    absl::string_view table, absl::string_view key) {
  return static_cast<const MemoryView*>(this)->Get(table, key);
}

void MemoryView::Put(absl::string_view table, absl::string_view key,
                     std::string value) {
  parsed_.erase({std::string(table), std::string(key)});
  rows_[{std::string(table), std::string(key)}] = std::move(value);
}

void MemoryView::Delete(absl::string_view table, absl::string_view key) {
  parsed_.erase({std::string(table), std::string(key)});
  rows_.erase({std::string(table), std::string(key)});
}

absl::Status MemoryView::Add(absl::string_view table, absl::string_view key,
                             absl::Span<const int64_t> deltas) {
  Settle();
  std::string& row = rows_[{std::string(table), std::string(key)}];
  std::vector<int64_t> values;
  if (!DecodeCounters(row, &values)) {
    return absl::DataLossError("memory view: not a counter row");
  }
  AddCounters(deltas, &values);
  row = EncodeCounters(values);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> MemoryView::Counters(
    absl::string_view table, absl::string_view key) {
  return ViewReader::Counters(table, key);
}

absl::StatusOr<Record*> MemoryView::RecordAt(absl::string_view table,
                                             absl::string_view key,
                                             RecordMaker make, bool* found) {
  Key at{std::string(table), std::string(key)};
  auto& record = parsed_[at];
  *found = record != nullptr || rows_.count(at) > 0;
  if (record == nullptr) {
    record = make();
    auto row = rows_.find(at);
    if (row != rows_.end() && !record->Decode(row->second)) {
      parsed_.erase(at);
      return absl::DataLossError("memory view: unreadable record");
    }
  }
  return record.get();
}

std::vector<std::pair<std::string, std::string>> MemoryView::Rows(
    absl::string_view table) const {
  Settle();
  std::vector<std::pair<std::string, std::string>> rows;
  const std::string name(table);
  for (auto it = rows_.lower_bound({name, ""});
       it != rows_.end() && it->first.first == name; ++it) {
    rows.emplace_back(it->first.second, it->second);
  }
  return rows;
}

absl::Status MemoryView::Scan(absl::string_view table,
                              const store::ScanRange& range,
                              const Visit& visit) const {
  Settle();
  const std::string name(table);
  auto in_range = [&](const std::string& key) {
    return key >= range.start && (range.end.empty() || key < range.end);
  };
  std::vector<std::pair<const std::string*, const std::string*>> rows;
  for (auto it = rows_.lower_bound({name, range.start});
       it != rows_.end() && it->first.first == name; ++it) {
    if (!in_range(it->first.second)) break;
    rows.emplace_back(&it->first.second, &it->second);
  }
  if (range.reverse) {
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if (!visit(*it->first, *it->second)) break;
    }
  } else {
    for (const auto& [key, value] : rows) {
      if (!visit(*key, *value)) break;
    }
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::reporting
