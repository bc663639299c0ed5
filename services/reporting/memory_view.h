// MemoryView: a ViewState and ViewReader over a map in memory, for the
// report modules' unit tests (events in, report out, no store).
#ifndef MILEAGEBANK_SERVICES_REPORTING_MEMORY_VIEW_H_
#define MILEAGEBANK_SERVICES_REPORTING_MEMORY_VIEW_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

class MemoryView final : public ViewState, public ViewReader {
 public:
  MemoryView() = default;
  // Copies what is stored (records in hand are serialised first).
  MemoryView(const MemoryView& other);
  MemoryView& operator=(const MemoryView& other);

  using ViewReader::GetProto;
  using ViewState::GetProto;
  using ViewReader::Counters;

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) override;
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) const override;
  void Put(absl::string_view table, absl::string_view key,
           std::string value) override;
  void Delete(absl::string_view table, absl::string_view key) override;
  absl::Status Add(absl::string_view table, absl::string_view key,
                   absl::Span<const int64_t> deltas) override;
  absl::StatusOr<std::vector<int64_t>> Counters(
      absl::string_view table, absl::string_view key) override;
  absl::StatusOr<Record*> RecordAt(absl::string_view table,
                                   absl::string_view key, RecordMaker make,
                                   bool* found) override;
  absl::Status Scan(absl::string_view table, const store::ScanRange& range,
                    const Visit& visit) const override;
  // Every row of `table`, in key order: for comparing two states.
  std::vector<std::pair<std::string, std::string>> Rows(
      absl::string_view table) const;
  const std::map<std::string, uint64_t>& positions() const override {
    return positions_;
  }
  std::map<std::string, uint64_t>& mutable_positions() { return positions_; }

 private:
  using Key = std::pair<std::string, std::string>;
  // Serialises the records in hand into `rows_`, so that reads see them.
  void Settle() const;

  mutable std::map<Key, std::string> rows_;
  // Records handed out by RecordAt; they stay in hand (and are encoded at
  // each read) until the key is Put or Deleted.
  std::map<Key, std::unique_ptr<Record>> parsed_;
  std::map<std::string, uint64_t> positions_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_MEMORY_VIEW_H_
