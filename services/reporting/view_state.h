// The reporting store as the report modules see it.
//
// Reporting derives everything from the other services' event streams
// (product rules section 7). Each report module is a Projection (it folds
// events into its own tables) and a query (it answers from those tables).
//
// - ViewState: what a projection reads and changes while the ingest applies
//   one event. Changes are buffered in memory and written by the ingest,
//   together with every stream's cursor, in one atomic batch: a crash loses
//   buffered changes and the cursors that cover them together, so after a
//   restart each event is applied exactly once.
// - ViewReader: one consistent snapshot of the store for a query, with the
//   stream positions it reflects.
//
// Counter rows: many tables hold, per key, a short row of int64 sums (daily
// buckets: "day D, tier GOLD: +members, +miles"). Add() adds to them without
// the projection reading them first, so the ingest can keep them in memory.
// Keys are built with libs/store/keys.h so that they sort as the fields do.
#ifndef MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_
#define MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/events.pb.h"

namespace mileagebank::reporting {

// The sources, by the names used for cursors and stream_positions.
inline constexpr char kMembershipSource[] = "membership";
inline constexpr char kAccrualSource[] = "accrual";
inline constexpr char kRedemptionSource[] = "redemption";
inline constexpr char kSettlementSource[] = "settlement";

// A counter row as stored: each value as a zigzag varint.
std::string EncodeCounters(absl::Span<const int64_t> values);
// False when `bytes` is not a counter row.
bool DecodeCounters(absl::string_view bytes, std::vector<int64_t>* values);
// `into` += `deltas`, element-wise, growing `into` as needed.
void AddCounters(absl::Span<const int64_t> deltas, std::vector<int64_t>* into);
// Column `index` of a counter row; 0 past its end (rows grow only as far
// as their last non-zero column was ever added).
inline int64_t CounterAt(const std::vector<int64_t>& values, size_t index) {
  return index < values.size() ? values[index] : 0;
}

class ViewState {
 public:
  virtual ~ViewState() = default;

  // The newest value: a buffered change, else the store's.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) = 0;
  virtual void Put(absl::string_view table, absl::string_view key,
                   std::string value) = 0;
  virtual void Delete(absl::string_view table, absl::string_view key) = 0;
  // Adds `deltas` element-wise to the counter row at `key` (a missing row
  // is all zeros; a shorter one grows). A row that comes back to all zeros
  // is kept (it is cheap and scans stay simple).
  virtual absl::Status Add(absl::string_view table, absl::string_view key,
                           absl::Span<const int64_t> deltas) = 0;
  // The counter row at `key`, buffered deltas included; empty when none.
  virtual absl::StatusOr<std::vector<int64_t>> Counters(
      absl::string_view table, absl::string_view key) = 0;

  // Get parsed into `value`; false when there is none.
  absl::StatusOr<bool> GetProto(absl::string_view table, absl::string_view key,
                                google::protobuf::Message* value);
  void PutProto(absl::string_view table, absl::string_view key,
                const google::protobuf::Message& value);
};

class ViewReader {
 public:
  using Visit =
      std::function<bool(absl::string_view key, absl::string_view value)>;
  virtual ~ViewReader() = default;

  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) const = 0;
  // Keys of `range` in order (or reverse) until `visit` returns false.
  virtual absl::Status Scan(absl::string_view table,
                            const store::ScanRange& range,
                            const Visit& visit) const = 0;
  // The sequence of the last event applied from each source.
  virtual const std::map<std::string, uint64_t>& positions() const = 0;

  absl::StatusOr<bool> GetProto(absl::string_view table, absl::string_view key,
                                google::protobuf::Message* value) const;
  // The counter row at `key`; empty when none.
  absl::StatusOr<std::vector<int64_t>> Counters(absl::string_view table,
                                                absl::string_view key) const;
  // Scan of counter rows; DATA_LOSS for a value that is not one.
  absl::Status ScanCounters(
      absl::string_view table, const store::ScanRange& range,
      const std::function<bool(absl::string_view key,
                               const std::vector<int64_t>& values)>& visit)
      const;
};

// One report module's event folding.
class Projection {
 public:
  virtual ~Projection() = default;
  // The store tables it keeps (names unique across modules: prefix them
  // with the module's name).
  virtual std::vector<std::string> Tables() const = 0;
  // Folds one event of `source` (kMembershipSource ...) into its tables.
  // Events it has no use for are ignored (OK). Deterministic: the same
  // events in the same order give the same tables. An error stops the
  // ingest at this event (it is retried); it must be a fault of this
  // process (DATA_LOSS of its own records), never of the event's content,
  // which was valid when its service wrote it.
  virtual absl::Status Apply(absl::string_view source,
                             const common::v1::Event& event,
                             ViewState& state) = 0;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_
