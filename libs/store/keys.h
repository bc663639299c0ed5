// Order-preserving key encodings for RocksDB.
//
// Keys are built from typed parts whose byte order equals their natural
// order, so that a range scan walks records in a meaningful order (a member's
// transactions by time, a log by sequence) and a key prefix selects a group.
//
//   std::string key = KeyBuilder().String(member_number).Int64(posted_micros).Build();
//   KeyReader reader(key);
//   std::string member; int64_t micros;
//   if (!reader.String(&member) || !reader.Int64(&micros)) { /* corrupt */ }
//
// Encodings:
//   Uint64: 8 bytes big-endian.
//   Int64:  8 bytes big-endian with the sign bit flipped (negatives first).
//   String: bytes with 0x00 escaped as 0x00 0xFF, then the terminator
//           0x00 0x01, so "ab" < "abc" and a string part is a clean prefix.
//   Day:    absl::CivilDay as the Int64 of days since 1970-01-01.
//
// Thread-compatible value types.
#ifndef MILEAGEBANK_LIBS_STORE_KEYS_H_
#define MILEAGEBANK_LIBS_STORE_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace mileagebank::store {

class KeyBuilder {
 public:
  KeyBuilder() = default;
  // Continues a key that already holds some parts.
  explicit KeyBuilder(std::string prefix) : key_(std::move(prefix)) {}
  KeyBuilder& Uint64(uint64_t value);
  KeyBuilder& Int64(int64_t value);
  KeyBuilder& String(absl::string_view value);
  KeyBuilder& Day(absl::CivilDay day);
  const std::string& Build() const { return key_; }
  // Empties the key but keeps its memory: a builder reused per event
  // allocates nothing once warm.
  KeyBuilder& Clear() {
    key_.clear();
    return *this;
  }
  // Appends bytes that are already encoded parts (a stored key's tail).
  KeyBuilder& Raw(absl::string_view parts) {
    key_.append(parts.data(), parts.size());
    return *this;
  }

 private:
  std::string key_;
};

// Reads the parts of a key in the order they were built. Each method returns
// false (and leaves the output alone) when the bytes do not hold that part.
class KeyReader {
 public:
  explicit KeyReader(absl::string_view key) : rest_(key) {}
  bool Uint64(uint64_t* value);
  bool Int64(int64_t* value);
  bool String(std::string* value);
  bool Day(absl::CivilDay* day);
  bool done() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
};

// The smallest key greater than every key that starts with `prefix`, as the
// exclusive end of a prefix scan. Empty when there is none (all 0xFF).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace mileagebank::store

#endif  // MILEAGEBANK_LIBS_STORE_KEYS_H_
