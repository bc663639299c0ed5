// All RocksDB access of the redemption service.
//
// Tables and keys (libs/store/keys.h encodings):
//   redemptions  String(redemption_id)                  -> records.Stored
//   by_member    String(member) Int64(created µs) String(redemption_id) -> ""
//   requests     String(member) String(request_id)     -> redemption_id
//   seats        Int64(flight_number) Day(flight_date) -> records.FlightSeats
//   tickets      String(award ticket number)           -> redemption_id
//   open_steps   String(redemption_id)                 -> "" (step not done)
//   hold_expiry  Int64(hold expires µs) String(redemption_id) -> "" (HELD)
//   ticket_stock String(award ticket prefix)       -> the stock's next serial
//                                                     (this shard's), decimal
//
// Decisions read with the *Latest methods (they see writes still in line);
// queries read what is durable. Writes go into a caller's WriteBatch.
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REDEMPTION_STORE_H_
#define MILEAGEBANK_SERVICES_REDEMPTION_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/store/store.h"
#include "services/redemption/records.pb.h"

namespace mileagebank::redemption {

std::vector<std::string> RedemptionTables();

class RedemptionStore {
 public:
  explicit RedemptionStore(store::Store* store) : store_(store) {}
  store::Store& raw() { return *store_; }

  absl::StatusOr<std::optional<records::Stored>> LatestRedemption(
      absl::string_view redemption_id, uint64_t* ticket = nullptr);
  absl::StatusOr<std::optional<std::string>> LatestRequest(
      absl::string_view member, absl::string_view request_id);
  absl::StatusOr<records::FlightSeats> LatestSeats(int32_t flight_number,
                                                   absl::CivilDay date);
  absl::StatusOr<std::optional<std::string>> LatestTicket(
      absl::string_view ticket_number);
  // Empty before the stock's first number is taken.
  absl::StatusOr<std::optional<int64_t>> LatestStockSerial(
      absl::string_view prefix);

  absl::StatusOr<std::optional<records::Stored>> Redemption(
      absl::string_view redemption_id);
  absl::StatusOr<records::FlightSeats> Seats(int32_t flight_number,
                                             absl::CivilDay date);
  // A member's redemptions, newest first, starting after the one created at
  // `before_micros` with `before_id` (empty: from the newest).
  absl::StatusOr<std::vector<std::string>> MemberRedemptions(
      absl::string_view member, int64_t before_micros,
      absl::string_view before_id, size_t max);
  absl::StatusOr<std::vector<std::string>> OpenSteps();
  // HELD redemptions whose hold's time ran out by `now`.
  absl::StatusOr<std::vector<std::string>> HoldsExpiredBy(absl::Time now);

  // Puts the redemption and keeps every index in step with it. `before` is
  // its previous version, if any.
  void PutRedemption(store::WriteBatch& batch, const records::Stored& stored,
                     const records::Stored* before);
  void DeleteRedemption(store::WriteBatch& batch, const records::Stored& stored);
  void PutRequest(store::WriteBatch& batch, absl::string_view member,
                  absl::string_view request_id, absl::string_view redemption_id);
  void DeleteRequest(store::WriteBatch& batch, absl::string_view member,
                     absl::string_view request_id);
  void PutSeats(store::WriteBatch& batch, int32_t flight_number,
                absl::CivilDay date, const records::FlightSeats& seats);
  void PutStockSerial(store::WriteBatch& batch, absl::string_view prefix,
                      int64_t next_serial);

 private:
  store::Store* store_;
};

}  // namespace mileagebank::redemption

#endif  // MILEAGEBANK_SERVICES_REDEMPTION_STORE_H_
