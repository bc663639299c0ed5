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
//
// Records kept decoded: a projection that changes one record per event (a
// member's) asks for it with MutableRecord (a plain C++ value) or
// MutableProto (a protobuf message) and changes it in place; the
// BufferedViewState keeps it decoded and encodes it once per flush, not
// once per event.
#ifndef MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_
#define MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/common.pb.h"
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

// A row a projection keeps decoded in memory and changes in place
// (ViewState::MutableRecord); encoded to its stored bytes at the flush.
class Record {
 public:
  virtual ~Record() = default;
  virtual std::string Encode() const = 0;
  // Replaces this value by the one `bytes` hold; false when they hold none.
  virtual bool Decode(absl::string_view bytes) = 0;
};

// A counter row of at most N columns as a Record: for a row read and added
// to per event, kept in place instead of in a std::vector of its own.
// Encodes as EncodeCounters of its `size` columns, so it stores the same
// bytes as Add / AddAndGet.
template <size_t N>
struct CountersRecord final : Record {
  std::string Encode() const override {
    return EncodeCounters(absl::MakeConstSpan(values.data(), size));
  }
  bool Decode(absl::string_view bytes) override {
    std::vector<int64_t> decoded;
    if (!DecodeCounters(bytes, &decoded) || decoded.size() > N) return false;
    values = {};
    std::copy(decoded.begin(), decoded.end(), values.begin());
    size = decoded.size();
    return true;
  }
  // As AddCounters (the row grows to the deltas' length); false, and
  // nothing added, when they are longer than N.
  bool Add(absl::Span<const int64_t> deltas) {
    if (deltas.size() > N) return false;
    for (size_t i = 0; i < deltas.size(); ++i) values[i] += deltas[i];
    size = std::max(size, deltas.size());
    return true;
  }
  int64_t At(size_t index) const { return index < size ? values[index] : 0; }

  std::array<int64_t, N> values{};
  size_t size = 0;  // Columns stored.
};

// How the keys of a table with a row per member map to numbers, both ways
// (ViewState::NumberedRecordAt): such rows can then be kept by number,
// not by key bytes. Pure functions; keys best sort as their numbers do
// (rows are written in number order). A constant: states keep its address.
struct NumberedKeys {
  // The stored key of `number`.
  std::string (*key)(uint64_t number);
  // False when `key` is no number's key.
  bool (*number)(absl::string_view key, uint64_t* number);
};

// A member number (10 digits, the first 1-9) as a number, and back; nullopt
// when `digits` is not one.
std::optional<uint64_t> MemberNumberValue(absl::string_view digits);
std::string MemberNumberDigits(uint64_t value);
// The keys of a table keyed by the member number's digits alone.
extern const NumberedKeys kMemberNumberKeys;

// A protobuf message as a Record (ViewState::MutableProto).
template <typename M>
struct MessageRecord final : Record {
  std::string Encode() const override { return message.SerializeAsString(); }
  bool Decode(absl::string_view bytes) override {
    return message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }
  M message;
};

class ViewState {
 public:
  virtual ~ViewState() = default;

  // The newest value: a buffered change, else the store's.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) = 0;
  virtual void Put(absl::string_view table, absl::string_view key,
                   std::string value) = 0;
  virtual void Delete(absl::string_view table, absl::string_view key) = 0;
  // Put of a row written once, in bulk, that nothing reads back through
  // this state before the next commit (Projection::DeriveDeferred's index
  // rows): a state may keep it as bytes only, in no structure made for
  // reading, which is most of the cost of writing millions of rows.
  virtual void PutUnread(absl::string_view table, absl::string_view key,
                         absl::string_view value) {
    Put(table, key, std::string(value));
  }
  // Adds `deltas` element-wise to the counter row at `key` (a missing row
  // is all zeros; a shorter one grows). A row that comes back to all zeros
  // is kept (it is cheap and scans stay simple).
  virtual absl::Status Add(absl::string_view table, absl::string_view key,
                           absl::Span<const int64_t> deltas) = 0;
  // The counter row at `key`, buffered deltas included; empty when none.
  virtual absl::StatusOr<std::vector<int64_t>> Counters(
      absl::string_view table, absl::string_view key) = 0;
  // Add, then the row as it is after it into `*after` (its memory reused):
  // for a projection that needs the row's old value too (after - deltas),
  // one lookup instead of Counters then Add.
  virtual absl::Status AddAndGet(absl::string_view table,
                                 absl::string_view key,
                                 absl::Span<const int64_t> deltas,
                                 std::vector<int64_t>* after);

  // The record at `key` decoded, to read and change in place: the change
  // is kept without a Put (Delete drops the record). An absent record
  // comes back as `make` makes it (empty) with `*found` false; it is stored
  // as left unless deleted. The pointer stays valid until the key is Put
  // or Deleted or the state flushed or discarded. One record type per
  // table. Use MutableRecord or MutableProto.
  using RecordMaker = std::unique_ptr<Record> (*)();
  virtual absl::StatusOr<Record*> RecordAt(absl::string_view table,
                                           absl::string_view key,
                                           RecordMaker make, bool* found) = 0;

  // RecordAt(table, keys.key(number), ...) for a table whose rows are one
  // per member: a state may keep them by number (BufferedViewState does
  // for resident tables: no key built, hashed or compared per event). Such
  // a table's rows must be used only through this call and DeleteNumbered
  // (its rows under keys that are no number's key excepted).
  virtual absl::StatusOr<Record*> NumberedRecordAt(absl::string_view table,
                                                   const NumberedKeys& keys,
                                                   uint64_t number,
                                                   RecordMaker make,
                                                   bool* found) {
    return RecordAt(table, keys.key(number), make, found);
  }
  // Delete of a row used through NumberedRecordAt.
  virtual void DeleteNumbered(absl::string_view table,
                              const NumberedKeys& keys, uint64_t number) {
    Delete(table, keys.key(number));
  }

  // Get parsed into `value`; false when there is none.
  absl::StatusOr<bool> GetProto(absl::string_view table, absl::string_view key,
                                google::protobuf::Message* value);
  void PutProto(absl::string_view table, absl::string_view key,
                const google::protobuf::Message& value);
  // RecordAt typed: `R` derives from Record.
  template <typename R>
  absl::StatusOr<R*> MutableRecord(absl::string_view table,
                                   absl::string_view key, bool* found) {
    return As<R>(table, RecordAt(table, key, &Make<R>, found));
  }
  // NumberedRecordAt typed.
  template <typename R>
  absl::StatusOr<R*> MutableNumbered(absl::string_view table,
                                     const NumberedKeys& keys,
                                     uint64_t number, bool* found) {
    return As<R>(table,
                 NumberedRecordAt(table, keys, number, &Make<R>, found));
  }
  // RecordAt of a protobuf message.
  template <typename M>
  absl::StatusOr<M*> MutableProto(absl::string_view table,
                                  absl::string_view key, bool* found) {
    absl::StatusOr<MessageRecord<M>*> record =
        MutableRecord<MessageRecord<M>>(table, key, found);
    if (!record.ok()) return record.status();
    return &(*record)->message;
  }

 private:
  template <typename R>
  static std::unique_ptr<Record> Make() {
    return std::unique_ptr<Record>(new R());
  }
  template <typename R>
  static absl::StatusOr<R*> As(absl::string_view table,
                               absl::StatusOr<Record*> record) {
    if (!record.ok()) return record.status();
    if (typeid(**record) != typeid(R)) {
      return absl::InternalError(
          absl::StrCat("reporting ", table, ": one record type per table"));
    }
    return static_cast<R*>(*record);
  }
};

class ViewReader {
 public:
  using Visit =
      std::function<bool(absl::string_view key, absl::string_view value)>;
  // A visit that can find a row unreadable.
  using CheckedVisit = std::function<absl::StatusOr<bool>(
      absl::string_view key, absl::string_view value)>;
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
  // Scan with a visit that can fail: the first error it returns ends the
  // scan and is returned.
  absl::Status ScanChecked(absl::string_view table,
                           const store::ScanRange& range,
                           const CheckedVisit& visit) const;
  // Scan of counter rows, as ScanChecked; DATA_LOSS for a value that is not
  // one.
  absl::Status ScanCounters(
      absl::string_view table, const store::ScanRange& range,
      const std::function<absl::StatusOr<bool>(
          absl::string_view key, const std::vector<int64_t>& values)>& visit)
      const;
};

// The day `date` names, or nullopt when it names none (a day that
// validation::ToCivilDay rejects): for dates read per event, without
// building a rule's message for each.
std::optional<absl::CivilDay> ExactDay(const common::v1::Date& date);

// One event of a source as the projections see it. The payload is
// unpacked on the first request and shared by every projection the event
// is applied to: parsing it again per projection was a large share of the
// ingest's cost. Thread-compatible.
//
//   MB_ASSIGN_OR_RETURN(const CreditPosted* credit,
//                       event.Payload<CreditPosted>());
//   if (credit != nullptr) ...
class SourceEvent {
 public:
  SourceEvent(absl::string_view source, const common::v1::Event& event)
      : source_(source), event_(event) {}
  SourceEvent(const SourceEvent&) = delete;
  SourceEvent& operator=(const SourceEvent&) = delete;

  absl::string_view source() const { return source_; }
  const common::v1::Event& event() const { return event_; }

  // The payload when it is an `M`, else null; DATA_LOSS when it is one but
  // does not parse (the source wrote it valid, so the fault is ours).
  template <typename M>
  absl::StatusOr<const M*> Payload() const {
    // The payload's type is resolved once per event and compared by
    // address: every projection asks for several types per event.
    static const google::protobuf::Descriptor* const kType = M::descriptor();
    if (PayloadType() != kType) return nullptr;
    if (unpacked_ != nullptr) return static_cast<const M*>(unpacked_.get());
    auto message = std::make_unique<M>();
    if (!event_.payload().UnpackTo(message.get())) {
      return absl::DataLossError(absl::StrCat(
          source_, " event ", event_.sequence(), ": unreadable ",
          M::descriptor()->name()));
    }
    unpacked_ = std::move(message);
    return static_cast<const M*>(unpacked_.get());
  }

 private:
  // The payload's message type among those linked in; null when unknown.
  const google::protobuf::Descriptor* PayloadType() const;

  const absl::string_view source_;
  const common::v1::Event& event_;
  mutable bool type_known_ = false;
  mutable const google::protobuf::Descriptor* type_ = nullptr;
  mutable std::unique_ptr<google::protobuf::Message> unpacked_;
};

// One report module's event folding.
class Projection {
 public:
  virtual ~Projection() = default;
  // The store tables it keeps (names unique across modules: prefix them
  // with the module's name).
  virtual std::vector<std::string> Tables() const = 0;
  // Those of Tables() it reads a row of for most events (one per member):
  // the ingest keeps them wholly in memory, loaded at start, so that such
  // a read never goes to the store (the store stays the truth; memory is
  // about 100-1,000 bytes a row).
  virtual std::vector<std::string> ResidentTables() const { return {}; }
  // Folds one event (of event.source(): kMembershipSource ...) into its
  // tables. Events it has no use for are ignored (OK). Deterministic: the
  // same events in the same order give the same tables. An error stops the
  // ingest at this event (it is retried); it must be a fault of this
  // process (DATA_LOSS of its own records), never of the event's content,
  // which was valid when its service wrote it.
  virtual absl::Status Apply(const SourceEvent& event, ViewState& state) = 0;

  // Rebuilding from an empty store, a projection may leave out rows it can
  // derive from its other rows (an index) and derive them once at the end:
  // far fewer writes than keeping them current at every event. The ingest
  // calls DeferDerived before the first event of an empty store, and
  // DeriveDeferred once it has caught up with every source (and after each
  // start, as a rebuild may have been stopped midway), right after a commit
  // made durable: `view` is the store as that commit left it, which is
  // everything applied. The writes of both go in the next commit; derived
  // rows best with ViewState::PutUnread. The
  // projection keeps whether its rows are deferred in its own tables, and
  // its queries answer while they are (from the rows they derive from).
  virtual void DeferDerived(ViewState& state) {}
  virtual absl::Status DeriveDeferred(const ViewReader& view,
                                      ViewState& state) {
    return absl::OkStatus();
  }
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_VIEW_STATE_H_
