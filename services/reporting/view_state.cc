#include "services/reporting/view_state.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace mileagebank::reporting {
namespace {

uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^
         static_cast<uint64_t>(value >> 63);
}

int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

}  // namespace

std::string EncodeCounters(absl::Span<const int64_t> values) {
  std::string bytes;
  bytes.reserve(values.size() * 2);
  for (int64_t value : values) {
    uint64_t rest = ZigZag(value);
    while (rest >= 0x80) {
      bytes.push_back(static_cast<char>((rest & 0x7f) | 0x80));
      rest >>= 7;
    }
    bytes.push_back(static_cast<char>(rest));
  }
  return bytes;
}

bool DecodeCounters(absl::string_view bytes, std::vector<int64_t>* values) {
  values->clear();
  uint64_t current = 0;
  int shift = 0;
  for (char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    if (shift > 63) return false;
    current |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte & 0x80) {
      shift += 7;
      continue;
    }
    values->push_back(UnZigZag(current));
    current = 0;
    shift = 0;
  }
  return shift == 0;
}

void AddCounters(absl::Span<const int64_t> deltas, std::vector<int64_t>* into) {
  if (into->size() < deltas.size()) into->resize(deltas.size(), 0);
  for (size_t i = 0; i < deltas.size(); ++i) (*into)[i] += deltas[i];
}

std::optional<uint64_t> MemberNumberValue(absl::string_view digits) {
  if (digits.size() != 10 || digits[0] < '1' || digits[0] > '9') {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

std::string MemberNumberDigits(uint64_t value) {
  std::string digits(10, '0');
  for (int i = 9; i >= 0; --i, value /= 10) {
    digits[i] = static_cast<char>('0' + value % 10);
  }
  return digits;
}

namespace {

bool MemberNumberKey(absl::string_view key, uint64_t* number) {
  const std::optional<uint64_t> value = MemberNumberValue(key);
  if (value.has_value()) *number = *value;
  return value.has_value();
}

}  // namespace

const NumberedKeys kMemberNumberKeys = {&MemberNumberDigits, &MemberNumberKey};

std::optional<absl::CivilDay> ExactDay(const common::v1::Date& date) {
  const int year = date.year(), month = date.month(), day = date.day();
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return std::nullopt;
  }
  // A day past the month's end (30 February) normalises into the next.
  const absl::CivilDay civil(year, month, day);
  if (civil.day() != day) return std::nullopt;
  return civil;
}

const google::protobuf::Descriptor* SourceEvent::PayloadType() const {
  if (!type_known_) {
    // As Any::Is: the type URL's last segment is the full name.
    absl::string_view url = event_.payload().type_url();
    // A handful of types arrive millions of times: asking the pool (a lock
    // and a string built per event) showed in profiles.
    thread_local absl::flat_hash_map<std::string,
                                     const google::protobuf::Descriptor*>
        known;
    auto it = known.find(url);
    if (it == known.end()) {
      const google::protobuf::Descriptor* type = nullptr;
      const size_t slash = url.rfind('/');
      if (slash != absl::string_view::npos) {
        type = google::protobuf::DescriptorPool::generated_pool()
                   ->FindMessageTypeByName(std::string(url.substr(slash + 1)));
      }
      it = known.emplace(std::string(url), type).first;
    }
    type_ = it->second;
    type_known_ = true;
  }
  return type_;
}

absl::StatusOr<bool> ViewState::GetProto(absl::string_view table,
                                         absl::string_view key,
                                         google::protobuf::Message* value) {
  absl::StatusOr<std::optional<std::string>> raw = Get(table, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return false;
  if (!value->ParseFromString(**raw)) {
    return absl::DataLossError(
        absl::StrCat("reporting ", table, ": unreadable record"));
  }
  return true;
}

absl::Status ViewState::AddAndGet(absl::string_view table,
                                  absl::string_view key,
                                  absl::Span<const int64_t> deltas,
                                  std::vector<int64_t>* after) {
  absl::Status added = Add(table, key, deltas);
  if (!added.ok()) return added;
  absl::StatusOr<std::vector<int64_t>> row = Counters(table, key);
  if (!row.ok()) return row.status();
  *after = *std::move(row);
  return absl::OkStatus();
}

void ViewState::PutProto(absl::string_view table, absl::string_view key,
                         const google::protobuf::Message& value) {
  Put(table, key, value.SerializeAsString());
}

absl::StatusOr<bool> ViewReader::GetProto(
    absl::string_view table, absl::string_view key,
    google::protobuf::Message* value) const {
  absl::StatusOr<std::optional<std::string>> raw = Get(table, key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return false;
  if (!value->ParseFromString(**raw)) {
    return absl::DataLossError(
        absl::StrCat("reporting ", table, ": unreadable record"));
  }
  return true;
}

absl::StatusOr<std::vector<int64_t>> ViewReader::Counters(
    absl::string_view table, absl::string_view key) const {
  absl::StatusOr<std::optional<std::string>> raw = Get(table, key);
  if (!raw.ok()) return raw.status();
  std::vector<int64_t> values;
  if (raw->has_value() && !DecodeCounters(**raw, &values)) {
    return absl::DataLossError(
        absl::StrCat("reporting ", table, ": unreadable counter row"));
  }
  return values;
}

absl::Status ViewReader::ScanChecked(absl::string_view table,
                                     const store::ScanRange& range,
                                     const CheckedVisit& visit) const {
  // Scan's visit cannot return an error: the first one is kept here.
  absl::Status failed;
  absl::Status scanned =
      Scan(table, range, [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<bool> more = visit(key, value);
        if (!more.ok()) {
          failed = more.status();
          return false;
        }
        return *more;
      });
  if (!scanned.ok()) return scanned;
  return failed;
}

absl::Status ViewReader::ScanCounters(
    absl::string_view table, const store::ScanRange& range,
    const std::function<absl::StatusOr<bool>(
        absl::string_view, const std::vector<int64_t>&)>& visit) const {
  std::vector<int64_t> values;
  return ScanChecked(table, range,
                     [&](absl::string_view key,
                         absl::string_view value) -> absl::StatusOr<bool> {
                       if (!DecodeCounters(value, &values)) {
                         return absl::DataLossError(absl::StrCat(
                             "reporting ", table, ": unreadable counter row"));
                       }
                       return visit(key, values);
                     });
}

}  // namespace mileagebank::reporting
