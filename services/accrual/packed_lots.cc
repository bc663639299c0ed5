#include "services/accrual/packed_lots.h"

#include <algorithm>
#include <cstdint>

#include "libs/status/status_macros.h"

namespace mileagebank::accrual {
namespace {

// The first byte of the packed lots: the layout below. A later layout
// takes another number and this one stays readable.
constexpr char kLayout = 1;

// Differences are taken and added back modulo 2^64, so that any two int64
// values give back exactly what was packed; zigzag keeps a small negative
// difference small.
uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ (value < 0 ? ~uint64_t{0} : 0);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>((value >> 1) ^ (~(value & 1) + 1));
}
int64_t Minus(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t Plus(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}

// Writes at `out`, which has room (kMaxVarint bytes), and returns the end.
constexpr size_t kMaxVarint = 10;
char* PutVarint(char* out, uint64_t value) {
  while (value >= 0x80) {
    *out++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<char>(value);
  return out;
}
char* PutSigned(char* out, int64_t value) {
  return PutVarint(out, ZigZag(value));
}

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool done() const { return bytes_.empty(); }
  size_t left() const { return bytes_.size(); }
  bool Varint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64 && !bytes_.empty(); shift += 7) {
      const uint8_t byte = static_cast<uint8_t>(bytes_.front());
      bytes_.remove_prefix(1);
      *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Signed(int64_t* value) {
    uint64_t raw;
    if (!Varint(&raw)) return false;
    *value = UnZigZag(raw);
    return true;
  }
  bool Bytes(size_t size, std::string* value) {
    if (size > bytes_.size()) return false;
    value->assign(bytes_.data(), size);
    bytes_.remove_prefix(size);
    return true;
  }

 private:
  absl::string_view bytes_;
};

bool ReadLot(Reader& in, int64_t& previous_expiry, records::OpenLot& lot) {
  uint64_t number;
  int64_t transaction_gap, flagged_type, expiry_step, activity_gap, original,
      used;
  if (!in.Varint(&number) || !in.Signed(&transaction_gap) ||
      !in.Signed(&flagged_type)) {
    return false;
  }
  const int64_t flags = flagged_type & 3;
  const int64_t source_type = (flagged_type - flags) / 4;
  const bool expired = (flags & 2) != 0;
  if ((flags & 1) != 0) {
    uint64_t origin_size;
    if (!in.Varint(&origin_size) || origin_size == 0 ||
        !in.Bytes(origin_size, lot.mutable_origin())) {
      return false;
    }
  }
  if (!in.Signed(&expiry_step) || !in.Signed(&activity_gap) ||
      !in.Signed(&original) || !in.Signed(&used)) {
    return false;
  }
  const int64_t expiry = Plus(previous_expiry, expiry_step);
  const int64_t activity = Minus(expiry, activity_gap);
  if (source_type != static_cast<int32_t>(source_type) ||
      expiry != static_cast<int32_t>(expiry) ||
      activity != static_cast<int32_t>(activity)) {
    return false;
  }
  previous_expiry = expiry;
  lot.set_number(number);
  lot.set_transaction(static_cast<uint64_t>(
      Minus(static_cast<int64_t>(number), transaction_gap)));
  lot.set_source_type(static_cast<int32_t>(source_type));
  lot.set_expiry_day(static_cast<int32_t>(expiry));
  lot.set_activity_day(static_cast<int32_t>(activity));
  lot.set_original_miles(original);
  lot.set_remaining_miles(Minus(original, used));
  lot.set_expired(expired);
  return true;
}

size_t RoomFor(const records::OpenLot& lot) {
  return 8 * kMaxVarint + lot.origin().size();
}

char* PutLot(char* out, int64_t previous_expiry, const records::OpenLot& lot) {
  // A lot's number follows its transaction's; lots are in expiry order;
  // a lot expires about three years after its activity; most lots are
  // untouched (remaining equals original).
  out = PutVarint(out, lot.number());
  out = PutSigned(out, Minus(static_cast<int64_t>(lot.number()),
                             static_cast<int64_t>(lot.transaction())));
  // The source type with two flags in its low bits: expired, and an
  // origin follows (most lots have none).
  out =
      PutSigned(out, int64_t{lot.source_type()} * 4 + (lot.expired() ? 2 : 0) +
                         (lot.origin().empty() ? 0 : 1));
  if (!lot.origin().empty()) {
    out = PutVarint(out, lot.origin().size());
    out = std::copy(lot.origin().begin(), lot.origin().end(), out);
  }
  out = PutSigned(out, Minus(lot.expiry_day(), previous_expiry));
  out = PutSigned(out, Minus(lot.expiry_day(), lot.activity_day()));
  out = PutSigned(out, lot.original_miles());
  return PutSigned(out, Minus(lot.original_miles(), lot.remaining_miles()));
}

absl::Status ParseRecord(absl::string_view bytes, records::Account* account) {
  if (!account->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("accrual account: malformed");
  }
  if (!account->packed_lots().empty() && !account->lots().empty()) {
    return absl::DataLossError("accrual account: lots both packed and not");
  }
  // Whatever a record says of these (a build that kept them stored, or
  // one that knew nothing of them and kept them unchanged beside lots it
  // changed) is not trusted.
  account->clear_last_lot_expiry_day();
  account->clear_every_lot_holds_miles();
  return absl::OkStatus();
}

}  // namespace

std::string PackLots(
    const google::protobuf::RepeatedPtrField<records::OpenLot>& lots) {
  size_t room = 1;
  for (const records::OpenLot& lot : lots) room += RoomFor(lot);
  std::string packed(room, '\0');
  char* out = packed.data();
  *out++ = kLayout;
  int64_t previous_expiry = 0;
  for (const records::OpenLot& lot : lots) {
    out = PutLot(out, previous_expiry, lot);
    previous_expiry = lot.expiry_day();
  }
  packed.resize(out - packed.data());
  return packed;
}

absl::Status UnpackLots(
    absl::string_view packed,
    google::protobuf::RepeatedPtrField<records::OpenLot>* lots) {
  if (packed.empty() || packed.front() != kLayout) {
    return absl::DataLossError(
        "accrual account: packed lots of unknown layout");
  }
  Reader in(packed.substr(1));
  int64_t previous_expiry = 0;
  while (!in.done()) {
    if (!ReadLot(in, previous_expiry, *lots->Add())) {
      return absl::DataLossError("accrual account: packed lots malformed");
    }
  }
  return absl::OkStatus();
}

void PackAccount(records::Account& account) {
  if (account.lots().empty()) {
    if (account.packed_lots().empty()) {
      account.clear_last_lot_expiry_day();
      account.clear_every_lot_holds_miles();
    }
    return;
  }
  account.set_packed_lots(PackLots(account.lots()));
  account.set_last_lot_expiry_day(account.lots().rbegin()->expiry_day());
  account.set_every_lot_holds_miles(std::all_of(
      account.lots().begin(), account.lots().end(),
      [](const records::OpenLot& lot) { return lot.remaining_miles() > 0; }));
  account.clear_lots();
}

absl::Status UnpackAccount(records::Account& account) {
  if (account.packed_lots().empty()) {
    account.clear_last_lot_expiry_day();
    account.clear_every_lot_holds_miles();
    return absl::OkStatus();
  }
  if (!account.lots().empty()) {
    return absl::DataLossError("accrual account: lots both packed and not");
  }
  google::protobuf::RepeatedPtrField<records::OpenLot> lots;
  MB_RETURN_IF_ERROR(UnpackLots(account.packed_lots(), &lots));
  account.mutable_lots()->Swap(&lots);
  account.clear_packed_lots();
  account.clear_last_lot_expiry_day();
  account.clear_every_lot_holds_miles();
  return absl::OkStatus();
}

absl::StatusOr<PackedSlot> FindPackedSlot(const records::Account& account,
                                          int32_t expiry_day) {
  const std::string& packed = account.packed_lots();
  PackedSlot slot;
  if (packed.empty()) {
    slot.offset = 0;
    return slot;
  }
  // Most credits are of the latest month or a recent one: at the end, or
  // not far before it.
  if (expiry_day >= account.last_lot_expiry_day() &&
      account.every_lot_holds_miles()) {
    slot.offset = packed.size();
    slot.previous_expiry = account.last_lot_expiry_day();
    slot.expiry_day_taken = expiry_day == account.last_lot_expiry_day();
    return slot;
  }
  if (packed.front() != kLayout) {
    return absl::DataLossError(
        "accrual account: packed lots of unknown layout");
  }
  Reader in(absl::string_view(packed).substr(1));
  int64_t previous_expiry = 0;
  records::OpenLot lot;
  while (!in.done()) {
    const size_t offset = packed.size() - in.left();
    const int64_t before = previous_expiry;
    lot.Clear();
    if (!ReadLot(in, previous_expiry, lot)) {
      return absl::DataLossError("accrual account: packed lots malformed");
    }
    if (lot.expiry_day() > expiry_day) {
      slot.offset = offset;
      slot.previous_expiry = static_cast<int32_t>(before);
      slot.next_end = packed.size() - in.left();
      slot.next = std::move(lot);
      return slot;
    }
    if (lot.expiry_day() == expiry_day) slot.expiry_day_taken = true;
  }
  slot.offset = packed.size();
  slot.previous_expiry = static_cast<int32_t>(previous_expiry);
  return slot;
}

void InsertPackedLot(records::Account& account, const PackedSlot& slot,
                     const records::OpenLot& lot) {
  std::string& packed = *account.mutable_packed_lots();
  if (packed.empty()) {
    packed.push_back(kLayout);
    account.set_every_lot_holds_miles(true);
  }
  const size_t offset = std::max<size_t>(slot.offset, 1);
  std::string middle(RoomFor(lot) + (slot.next ? RoomFor(*slot.next) : 0),
                     '\0');
  char* out = PutLot(middle.data(), slot.previous_expiry, lot);
  if (slot.next) out = PutLot(out, lot.expiry_day(), *slot.next);
  middle.resize(out - middle.data());
  packed.replace(offset, slot.next ? slot.next_end - offset : 0, middle);
  if (!slot.next) account.set_last_lot_expiry_day(lot.expiry_day());
  if (lot.remaining_miles() <= 0) account.set_every_lot_holds_miles(false);
}

std::string StoredAccount(records::Account& account) {
  const int32_t last_lot_expiry_day = account.last_lot_expiry_day();
  const bool every_lot_holds_miles = account.every_lot_holds_miles();
  account.clear_last_lot_expiry_day();
  account.clear_every_lot_holds_miles();
  std::string bytes = account.SerializeAsString();
  account.set_last_lot_expiry_day(last_lot_expiry_day);
  account.set_every_lot_holds_miles(every_lot_holds_miles);
  return bytes;
}

absl::Status ParsePackedAccount(absl::string_view bytes,
                                records::Account* account) {
  MB_RETURN_IF_ERROR(ParseRecord(bytes, account));
  const std::string& packed = account->packed_lots();
  if (packed.empty()) return absl::OkStatus();
  if (packed.front() != kLayout) {
    return absl::DataLossError(
        "accrual account: packed lots of unknown layout");
  }
  Reader in(absl::string_view(packed).substr(1));
  int64_t last_expiry = 0;
  bool every_lot_holds_miles = true;
  records::OpenLot lot;
  while (!in.done()) {
    lot.Clear();
    if (!ReadLot(in, last_expiry, lot)) {
      return absl::DataLossError("accrual account: packed lots malformed");
    }
    if (lot.remaining_miles() <= 0) every_lot_holds_miles = false;
  }
  account->set_last_lot_expiry_day(static_cast<int32_t>(last_expiry));
  account->set_every_lot_holds_miles(every_lot_holds_miles);
  return absl::OkStatus();
}

absl::Status ParseStoredAccount(absl::string_view bytes,
                                records::Account* account) {
  MB_RETURN_IF_ERROR(ParseRecord(bytes, account));
  return UnpackAccount(*account);
}

}  // namespace mileagebank::accrual
