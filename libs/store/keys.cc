#include "libs/store/keys.h"

#include <algorithm>
#include <cstring>

namespace mileagebank::store {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
const absl::CivilDay kEpochDay(1970, 1, 1);

// One swap and one append: keys are built per event by the reporting
// ingest, where a push_back per byte, then a loop of shifts the compiler
// did not merge (~80 instructions a part), showed in profiles.
void AppendBigEndian(uint64_t value, std::string* out) {
  char bytes[8];
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t big = __builtin_bswap64(value);
  std::memcpy(bytes, &big, sizeof(bytes));
#else
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>((value >> (56 - 8 * i)) & 0xFF);
  }
#endif
  out->append(bytes, sizeof(bytes));
}

}  // namespace

KeyBuilder& KeyBuilder::Uint64(uint64_t value) {
  AppendBigEndian(value, &key_);
  return *this;
}

KeyBuilder& KeyBuilder::Int64(int64_t value) {
  AppendBigEndian(static_cast<uint64_t>(value) ^ kSignBit, &key_);
  return *this;
}

KeyBuilder& KeyBuilder::String(absl::string_view value) {
  // Runs between NULs are appended whole; each NUL is escaped.
  while (true) {
    const size_t zero = value.find('\0');
    key_.append(value.data(), std::min(zero, value.size()));
    if (zero == absl::string_view::npos) break;
    key_.append("\0\xFF", 2);
    value.remove_prefix(zero + 1);
  }
  key_.append("\0\x01", 2);
  return *this;
}

KeyBuilder& KeyBuilder::Day(absl::CivilDay day) {
  return Int64(static_cast<int64_t>(day - kEpochDay));
}

bool KeyReader::Uint64(uint64_t* value) {
  if (rest_.size() < 8) return false;
  uint64_t result = 0;
  for (int i = 0; i < 8; ++i) {
    result = (result << 8) | static_cast<unsigned char>(rest_[i]);
  }
  rest_.remove_prefix(8);
  *value = result;
  return true;
}

bool KeyReader::Int64(int64_t* value) {
  uint64_t raw;
  if (!Uint64(&raw)) return false;
  *value = static_cast<int64_t>(raw ^ kSignBit);
  return true;
}

bool KeyReader::String(std::string* value) {
  std::string result;
  for (size_t i = 0; i + 1 < rest_.size(); ++i) {
    if (rest_[i] != '\0') {
      result.push_back(rest_[i]);
      continue;
    }
    if (rest_[i + 1] == '\x01') {
      rest_.remove_prefix(i + 2);
      *value = std::move(result);
      return true;
    }
    if (rest_[i + 1] != '\xFF') return false;
    result.push_back('\0');
    ++i;
  }
  return false;
}

bool KeyReader::Day(absl::CivilDay* day) {
  int64_t days;
  if (!Int64(&days)) return false;
  *day = kEpochDay + days;
  return true;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace mileagebank::store
