#include "services/gateway/shard_fanout.h"

#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/common/v1/admin.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::Message;

template <typename T>
const T* As(const Message& message) {
  return message.GetDescriptor() == T::descriptor()
             ? static_cast<const T*>(&message)
             : nullptr;
}

template <typename T>
T* As(Message* message) {
  return message->GetDescriptor() == T::descriptor() ? static_cast<T*>(message)
                                                     : nullptr;
}

void AddSeats(const redemption::v1::AwardSeats& part,
              redemption::v1::AwardSeats* total) {
  if (total->cabins().empty()) {
    *total = part;
    return;
  }
  for (int i = 0; i < total->cabins_size() && i < part.cabins_size(); ++i) {
    redemption::v1::CabinSeats* cabin = total->mutable_cabins(i);
    cabin->set_capacity(cabin->capacity() + part.cabins(i).capacity());
    cabin->set_taken(cabin->taken() + part.cabins(i).taken());
    cabin->set_available(cabin->available() + part.cabins(i).available());
  }
}

}  // namespace

Fanout FanoutOf(const Message& request) {
  const google::protobuf::FieldDescriptor* id =
      request.GetDescriptor()->FindFieldByName("redemption_id");
  if (id != nullptr && !id->is_repeated()) return Fanout::kFirstFound;
  if (As<membership::v1::FindMembersRequest>(request) ||
      As<redemption::v1::GetAwardSeatsRequest>(request) ||
      As<redemption::v1::SetAwardSeatCapacityRequest>(request) ||
      As<accrual::v1::RunExpiryRequest>(request) ||
      As<accrual::v1::VerifyLedgerRequest>(request) ||
      As<common::v1::BackupRequest>(request)) {
    return Fanout::kEveryShard;
  }
  return Fanout::kFirstShard;
}

void MergeShardAnswer(const Message& part, Message* total) {
  if (auto* seats = As<redemption::v1::GetAwardSeatsResponse>(total)) {
    AddSeats(static_cast<const redemption::v1::GetAwardSeatsResponse&>(part).seats(),
             seats->mutable_seats());
  } else if (auto* set = As<redemption::v1::SetAwardSeatCapacityResponse>(total)) {
    AddSeats(
        static_cast<const redemption::v1::SetAwardSeatCapacityResponse&>(part).seats(),
        set->mutable_seats());
  } else if (auto* expiry = As<accrual::v1::RunExpiryResponse>(total)) {
    const auto& run = static_cast<const accrual::v1::RunExpiryResponse&>(part);
    *expiry->mutable_run_date() = run.run_date();
    expiry->set_members_affected(expiry->members_affected() + run.members_affected());
    expiry->set_lots_expired(expiry->lots_expired() + run.lots_expired());
    expiry->set_miles_expired(expiry->miles_expired() + run.miles_expired());
    expiry->set_miles_kept_for_holds(expiry->miles_kept_for_holds() +
                                     run.miles_kept_for_holds());
  } else if (auto* ledger = As<accrual::v1::VerifyLedgerResponse>(total)) {
    const auto& verified = static_cast<const accrual::v1::VerifyLedgerResponse&>(part);
    ledger->set_members_checked(ledger->members_checked() +
                                verified.members_checked());
    ledger->mutable_differences()->MergeFrom(verified.differences());
    ledger->set_total_balance(ledger->total_balance() + verified.total_balance());
    // Each shard's sequence is its own: no one number stands for all.
    ledger->set_as_of_sequence(0);
  } else {
    total->MergeFrom(part);  // Lists (found members, backups) are joined.
  }
}

}  // namespace mileagebank::gateway
