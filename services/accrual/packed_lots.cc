#include "services/accrual/packed_lots.h"

#include <algorithm>
#include <cstdint>

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

}  // namespace

std::string PackLots(
    const google::protobuf::RepeatedPtrField<records::OpenLot>& lots) {
  size_t room = 1;
  for (const records::OpenLot& lot : lots) {
    room += 8 * kMaxVarint + lot.origin().size();
  }
  std::string packed(room, '\0');
  char* out = packed.data();
  *out++ = kLayout;
  int64_t previous_expiry = 0;
  for (const records::OpenLot& lot : lots) {
    // A lot's number follows its transaction's; lots are in expiry order;
    // a lot expires about three years after its activity; most lots are
    // untouched (remaining equals original).
    out = PutVarint(out, lot.number());
    out = PutSigned(out, Minus(static_cast<int64_t>(lot.number()),
                               static_cast<int64_t>(lot.transaction())));
    // The source type with two flags in its low bits: expired, and an
    // origin follows (most lots have none).
    out = PutSigned(out, int64_t{lot.source_type()} * 4 +
                             (lot.expired() ? 2 : 0) +
                             (lot.origin().empty() ? 0 : 1));
    if (!lot.origin().empty()) {
      out = PutVarint(out, lot.origin().size());
      out = std::copy(lot.origin().begin(), lot.origin().end(), out);
    }
    out = PutSigned(out, Minus(lot.expiry_day(), previous_expiry));
    out = PutSigned(out, Minus(lot.expiry_day(), lot.activity_day()));
    out = PutSigned(out, lot.original_miles());
    out = PutSigned(out, Minus(lot.original_miles(), lot.remaining_miles()));
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

std::string StoredAccount(records::Account& account) {
  google::protobuf::RepeatedPtrField<records::OpenLot> lots;
  lots.Swap(account.mutable_lots());
  if (!lots.empty()) account.set_packed_lots(PackLots(lots));
  std::string bytes = account.SerializeAsString();
  account.clear_packed_lots();
  account.mutable_lots()->Swap(&lots);
  return bytes;
}

absl::Status ParseStoredAccount(absl::string_view bytes,
                                records::Account* account) {
  if (!account->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("accrual account: malformed");
  }
  if (account->packed_lots().empty()) return absl::OkStatus();
  if (!account->lots().empty()) {
    return absl::DataLossError("accrual account: lots both packed and not");
  }
  std::string packed = std::move(*account->mutable_packed_lots());
  account->clear_packed_lots();
  return UnpackLots(packed, account->mutable_lots());
}

}  // namespace mileagebank::accrual
