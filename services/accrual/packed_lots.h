#ifndef MILEAGEBANK_SERVICES_ACCRUAL_PACKED_LOTS_H_
#define MILEAGEBANK_SERVICES_ACCRUAL_PACKED_LOTS_H_

#include <string>

#include "absl/status/status.h"
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

// `account` serialized with its lots packed (Account.packed_lots), as the
// accounts table stores it. `account` is unchanged when this returns.
std::string StoredAccount(records::Account& account);

// Parses a stored account: the packed lots, or those of a record written
// before they were packed (Account.lots), become `account->lots`.
// DataLossError when the bytes are not an account.
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
