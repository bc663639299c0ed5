#include "services/redemption/store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"

namespace mileagebank::redemption {
namespace {

namespace v1 = redemption::v1;
using google::protobuf::util::TimeUtil;
using store::KeyBuilder;
using store::KeyReader;

constexpr absl::string_view kRedemptions = "redemptions";
constexpr absl::string_view kByMember = "by_member";
constexpr absl::string_view kRequests = "requests";
constexpr absl::string_view kSeats = "seats";
constexpr absl::string_view kTickets = "tickets";
constexpr absl::string_view kOpenSteps = "open_steps";
constexpr absl::string_view kHoldExpiry = "hold_expiry";
constexpr absl::string_view kTicketStock = "ticket_stock";

std::string One(absl::string_view part) { return KeyBuilder().String(part).Build(); }

std::string SeatsKey(int32_t flight_number, absl::CivilDay date) {
  return KeyBuilder().Int64(flight_number).Day(date).Build();
}

std::string MemberKey(const v1::RedemptionRecord& redemption) {
  return KeyBuilder()
      .String(redemption.member_number())
      .Int64(TimeUtil::TimestampToMicroseconds(redemption.created_at()))
      .String(redemption.redemption_id())
      .Build();
}

std::string HoldExpiryKey(const v1::RedemptionRecord& redemption) {
  return KeyBuilder()
      .Int64(TimeUtil::TimestampToMicroseconds(redemption.hold_expires_at()))
      .String(redemption.redemption_id())
      .Build();
}

bool IsIndexedHeld(const records::Stored& stored) {
  return stored.redemption().state() == v1::HELD && stored.step() == records::STEP_NONE;
}

// The seats a fresh record has: all cabins at their default, none taken.
records::FlightSeats FreshSeats() {
  records::FlightSeats seats;
  for (int i = 0; i < 3; ++i) {
    seats.add_taken(0);
    seats.add_capacity(-1);
  }
  return seats;
}

absl::StatusOr<records::FlightSeats> ParseSeats(
    absl::StatusOr<std::optional<std::string>> raw) {
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return FreshSeats();
  records::FlightSeats seats;
  if (!seats.ParseFromString(**raw) || seats.taken_size() != 3 ||
      seats.capacity_size() != 3) {
    return absl::DataLossError("redemption seats: unreadable record");
  }
  return seats;
}

template <typename Message>
absl::StatusOr<std::optional<Message>> Parsed(absl::StatusOr<bool> found,
                                              Message message) {
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return message;
}

}  // namespace

std::vector<std::string> RedemptionTables() {
  return {std::string(kRedemptions), std::string(kByMember),
          std::string(kRequests),    std::string(kSeats),
          std::string(kTickets),     std::string(kOpenSteps),
          std::string(kHoldExpiry),  std::string(kTicketStock)};
}

absl::StatusOr<std::optional<records::Stored>> RedemptionStore::LatestRedemption(
    absl::string_view redemption_id, uint64_t* ticket) {
  records::Stored stored;
  uint64_t value_ticket = 0;
  absl::StatusOr<bool> found = store_->GetLatestProto(
      kRedemptions, One(redemption_id), &stored, &value_ticket);
  if (ticket != nullptr) *ticket = std::max(*ticket, value_ticket);
  return Parsed(found, std::move(stored));
}

absl::StatusOr<std::optional<std::string>> RedemptionStore::LatestRequest(
    absl::string_view member, absl::string_view request_id) {
  return store_->GetLatest(kRequests,
                           KeyBuilder().String(member).String(request_id).Build());
}

absl::StatusOr<records::FlightSeats> RedemptionStore::LatestSeats(
    int32_t flight_number, absl::CivilDay date) {
  return ParseSeats(store_->GetLatest(kSeats, SeatsKey(flight_number, date)));
}

absl::StatusOr<std::optional<std::string>> RedemptionStore::LatestTicket(
    absl::string_view ticket_number) {
  return store_->GetLatest(kTickets, One(ticket_number));
}

absl::StatusOr<std::optional<int64_t>> RedemptionStore::LatestStockSerial(
    absl::string_view prefix) {
  MB_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                      store_->GetLatest(kTicketStock, One(prefix)));
  if (!raw) return std::nullopt;
  int64_t serial;
  if (!absl::SimpleAtoi(*raw, &serial)) {
    return absl::DataLossError("redemption ticket stock: unreadable serial");
  }
  return serial;
}

absl::StatusOr<std::optional<records::Stored>> RedemptionStore::Redemption(
    absl::string_view redemption_id) {
  records::Stored stored;
  absl::StatusOr<bool> found =
      store_->GetProto(kRedemptions, One(redemption_id), &stored);
  return Parsed(found, std::move(stored));
}

absl::StatusOr<records::FlightSeats> RedemptionStore::Seats(
    int32_t flight_number, absl::CivilDay date) {
  return ParseSeats(store_->Get(kSeats, SeatsKey(flight_number, date)));
}

absl::StatusOr<std::vector<std::string>> RedemptionStore::MemberRedemptions(
    absl::string_view member, int64_t before_micros, absl::string_view before_id,
    size_t max) {
  const std::string prefix = One(member);
  store::ScanRange range = store::PrefixRange(prefix);
  range.reverse = true;
  if (!before_id.empty()) {
    range.end = KeyBuilder(prefix).Int64(before_micros).String(before_id).Build();
  }
  std::vector<std::string> ids;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kByMember, range,
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        int64_t micros;
        std::string id;
        if (!reader.Int64(&micros) || !reader.String(&id)) {
          return absl::DataLossError("redemption index: malformed key");
        }
        ids.push_back(std::move(id));
        return ids.size() < max;
      }));
  return ids;
}

absl::StatusOr<std::vector<std::string>> RedemptionStore::OpenSteps() {
  std::vector<std::string> ids;
  absl::Status scanned = store_->Scan(
      kOpenSteps, store::ScanRange{}, [&](absl::string_view key, absl::string_view) {
        KeyReader reader(key);
        std::string id;
        if (reader.String(&id)) ids.push_back(std::move(id));
        return true;
      });
  if (!scanned.ok()) return scanned;
  return ids;
}

absl::StatusOr<std::vector<std::string>> RedemptionStore::HoldsExpiredBy(
    absl::Time now) {
  std::vector<std::string> ids;
  store::ScanRange range{"", KeyBuilder().Int64(absl::ToUnixMicros(now) + 1).Build()};
  absl::Status scanned =
      store_->Scan(kHoldExpiry, range, [&](absl::string_view key, absl::string_view) {
        KeyReader reader(key);
        int64_t micros;
        std::string id;
        if (reader.Int64(&micros) && reader.String(&id)) ids.push_back(std::move(id));
        return ids.size() < 10'000;
      });
  if (!scanned.ok()) return scanned;
  return ids;
}

void RedemptionStore::PutRedemption(store::WriteBatch& batch,
                                    const records::Stored& stored,
                                    const records::Stored* before) {
  const v1::RedemptionRecord& redemption = stored.redemption();
  const std::string& id = redemption.redemption_id();
  batch.PutProto(kRedemptions, One(id), stored);
  batch.Put(kByMember, MemberKey(redemption), "");
  if (stored.step() != records::STEP_NONE) {
    batch.Put(kOpenSteps, One(id), "");
  } else {
    batch.Delete(kOpenSteps, One(id));
  }
  if (before != nullptr && IsIndexedHeld(*before)) {
    batch.Delete(kHoldExpiry, HoldExpiryKey(before->redemption()));
  }
  if (IsIndexedHeld(stored)) batch.Put(kHoldExpiry, HoldExpiryKey(redemption), "");
  for (const std::string& ticket : redemption.award_ticket_numbers()) {
    batch.Put(kTickets, One(ticket), id);
  }
}

void RedemptionStore::DeleteRedemption(store::WriteBatch& batch,
                                       const records::Stored& stored) {
  const v1::RedemptionRecord& redemption = stored.redemption();
  batch.Delete(kRedemptions, One(redemption.redemption_id()));
  batch.Delete(kByMember, MemberKey(redemption));
  batch.Delete(kOpenSteps, One(redemption.redemption_id()));
  if (IsIndexedHeld(stored)) batch.Delete(kHoldExpiry, HoldExpiryKey(redemption));
}

void RedemptionStore::PutRequest(store::WriteBatch& batch,
                                 absl::string_view member,
                                 absl::string_view request_id,
                                 absl::string_view redemption_id) {
  batch.Put(kRequests, KeyBuilder().String(member).String(request_id).Build(),
            redemption_id);
}

void RedemptionStore::DeleteRequest(store::WriteBatch& batch,
                                    absl::string_view member,
                                    absl::string_view request_id) {
  batch.Delete(kRequests, KeyBuilder().String(member).String(request_id).Build());
}

void RedemptionStore::PutSeats(store::WriteBatch& batch, int32_t flight_number,
                               absl::CivilDay date,
                               const records::FlightSeats& seats) {
  batch.PutProto(kSeats, SeatsKey(flight_number, date), seats);
}

void RedemptionStore::PutStockSerial(store::WriteBatch& batch,
                                     absl::string_view prefix,
                                     int64_t next_serial) {
  batch.Put(kTicketStock, One(prefix), absl::StrCat(next_serial));
}

}  // namespace mileagebank::redemption
