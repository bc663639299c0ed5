#ifndef MILEAGEBANK_SERVICES_ACCRUAL_PACKED_LOTS_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_PACKED_LOTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/accrual/records.pb.h"

namespace mileagebank::accrual {

// An account's open lots in the stored record, as one byte string instead
// of a message per lot. An account is written whole on every credit and
// holds up to about a hundred lots; as messages they were most of the bytes
// the store writes (write-ahead log, memtables, flushes) and their size
// computation the costliest step of writing. Each lot is a few varints,
// most of them differences from a neighbouring field that are usually
// small: about 10 bytes where a message took about 23.

// An account record has two forms. Unpacked, `lots` holds the open lots as
// messages: what the account rules (account.h) work on. Packed, they are
// Account.packed_lots with `lots` empty: what the accounts table stores and
// the account cache holds, and what the usual credit (a new lot, nothing
// else changed) puts its lot in without unpacking the others.

// Packs `account`'s lots; an account packed already, or without lots, is
// left as it is.
void PackAccount(records::Account& account);
// Unpacks them. DataLossError, with `account` unchanged, when the packed lots
// are malformed or the record has both forms.
absl::Status UnpackAccount(records::Account& account);

// Where a lot expiring on a given day goes among an account's packed lots:
// after every lot expiring on or before that day.
struct PackedSlot {
  // Byte offset in packed_lots; its size when the lot goes last.
  size_t offset = 0;
  // The expiry day of the lot before it (0 for none).
  int32_t previous_expiry = 0;
  // The lot it goes before, which is packed again after it (a lot's expiry
  // is kept as a difference from the one before), and where that lot ends.
  std::optional<records::OpenLot> next;
  size_t next_end = 0;
  // Whether a lot there expires the same day.
  bool expiry_day_taken = false;
};
// The slot in `account`, packed or without lots. DataLossError when its
// packed lots are malformed.
absl::StatusOr<PackedSlot> FindPackedSlot(const records::Account& account,
                                          int32_t expiry_day);
// Puts `lot` in `slot`, found for its expiry day in `account` as it is.
void InsertPackedLot(records::Account& account, const PackedSlot& slot,
                     const records::OpenLot& lot);

// `account`, packed, as the accounts table stores it.
std::string StoredAccount(records::Account& account);
// Parses a stored account as stored: packed, or unpacked when it was written
// before lots were packed. DataLossError when the bytes are not an account
// or its packed lots are malformed.
absl::Status ParsePackedAccount(absl::string_view bytes,
                                records::Account* account);
// The same, unpacked.
absl::Status ParseStoredAccount(absl::string_view bytes,
                                records::Account* account);

// The codec itself, exposed for its tests.
std::string PackLots(
    const google::protobuf::RepeatedPtrField<records::OpenLot>& lots);
absl::Status UnpackLots(
    absl::string_view packed,
    google::protobuf::RepeatedPtrField<records::OpenLot>* lots);

}  // namespace mileagebank::accrual

#endif  // MILEAGEBANK_SERVICES_ACCRUAL_PACKED_LOTS_H_
