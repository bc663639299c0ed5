// Ledger: two-phase holds. A hold reserves miles (available = balance -
// active holds), then is captured (debited), released, or released by
// itself when its time-to-live passes; each resolves exactly once.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "services/accrual/account.h"
#include "services/accrual/ledger.h"
#include "services/accrual/request_checks.h"

namespace mileagebank::accrual {

using google::protobuf::util::TimeUtil;

namespace {

constexpr int64_t kMaxHoldMiles = 10'000'000;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
}

// Takes the hold out of the account's active holds.
void RemoveActive(records::Account& account, const v1::Hold& hold) {
  auto* holds = account.mutable_holds();
  for (int i = 0; i < holds->size(); ++i) {
    if (holds->Get(i).hold_id() == hold.hold_id()) {
      holds->DeleteSubrange(i, 1);
      account.set_held(account.held() - hold.miles());
      return;
    }
  }
}

absl::Status CheckHoldId(absl::string_view hold_id) {
  if (hold_id.empty() || hold_id.size() > 64) {
    return InvalidField("hold_id", "required, at most 64 characters");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::CreateHoldResponse> Ledger::CreateHold(
    const v1::CreateHoldRequest& request) {
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  if (request.miles() < 1 || request.miles() > kMaxHoldMiles) {
    errors.Add("miles", "must be 1 to 10,000,000");
  }
  CheckRequestId(errors, "request_id", request.request_id());
  absl::Duration ttl = options_.hold_ttl;
  if (request.has_ttl()) {
    ttl = absl::Seconds(request.ttl().seconds()) +
          absl::Nanoseconds(request.ttl().nanos());
    if (ttl < absl::Minutes(1) || ttl > absl::Hours(24 * 30)) {
      errors.Add("ttl", "must be 1 minute to 30 days (unset: 72 hours)");
    }
  }
  if (request.reference().size() > 64) {
    errors.Add("reference", "at most 64 characters");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::string member,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  const std::string key = RequestKey("hold", member, request.request_id());
  const std::string fingerprint = RequestFingerprint(request);

  v1::CreateHoldResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({member, key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        CheckKey(key, fingerprint, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold,
                          store_.LatestHold(earlier->hold_id(), &ticket));
      if (!hold) return absl::DataLossError("accrual: a keyed hold is missing");
      *response.mutable_hold() = *std::move(hold);
      response.set_replayed(true);
    } else {
      MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
      if (request.miles() > Available(account)) {
        return FailedPreconditionField(
            "miles", absl::StrCat("the member has ", Available(account),
                                  " available miles"));
      }
      const absl::Time now = clock_();
      v1::Hold hold;
      hold.set_hold_id(NextId(account, 'H'));
      hold.set_member_number(member);
      hold.set_miles(request.miles());
      hold.set_state(v1::HOLD_ACTIVE);
      hold.set_request_id(request.request_id());
      hold.set_reference(request.reference());
      *hold.mutable_created_at() = ToTimestamp(now);
      *hold.mutable_expires_at() = ToTimestamp(now + ttl);
      *hold.mutable_actor() = request.actor();
      records::ActiveHold* active = account.add_holds();
      active->set_hold_id(hold.hold_id());
      active->set_miles(hold.miles());
      *active->mutable_expires_at() = hold.expires_at();
      account.set_held(account.held() + hold.miles());

      store::WriteBatch batch = store_.raw().NewBatch();
      store_.PutAccount(batch, account);
      store_.PutHold(batch, hold);
      store_.IndexHoldExpiry(batch, hold);
      records::KeyRecord record;
      record.set_fingerprint(fingerprint);
      record.set_hold_id(hold.hold_id());
      store_.PutKey(batch, key, record);
      v1::HoldCreated event;
      *event.mutable_hold() = hold;
      batch.AppendEvent(member, event);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_hold() = std::move(hold);
    }
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::CaptureHoldResponse> Ledger::CaptureHold(
    const v1::CaptureHoldRequest& request) {
  MB_RETURN_IF_ERROR(CheckHoldId(request.hold_id()));
  v1::CaptureHoldResponse response;
  uint64_t ticket = 0;
  // The hold says whose it is (a merge may have moved it), so it is read
  // once to find the member, and again under the member's lock.
  MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> found,
                      store_.LatestHold(request.hold_id()));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("hold_id: no hold ", request.hold_id()));
  }
  {
    store::KeyLocks::Guard guard = locks_.Lock(found->member_number());
    MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold,
                        store_.LatestHold(request.hold_id(), &ticket));
    if (hold->member_number() != found->member_number()) {
      return absl::AbortedError("hold_id: the hold moved; try again");
    }
    switch (hold->state()) {
      case v1::HOLD_CAPTURED: {
        MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                            MustTransaction("hold_id",
                                            hold->capture_transaction_id(),
                                            &ticket));
        *response.mutable_hold() = *hold;
        break;
      }
      case v1::HOLD_RELEASED:
      case v1::HOLD_EXPIRED:
        return FailedPreconditionField(
            "hold_id", absl::StrCat("the hold is ", v1::HoldState_Name(hold->state())));
      default: {
        const absl::Time now = clock_();
        if (now >= FromTimestamp(hold->expires_at())) {
          return FailedPreconditionField(
              "hold_id", "the hold's time-to-live has passed");
        }
        const std::string& member = hold->member_number();
        MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
        if (account.balance() < hold->miles()) {
          return FailedPreconditionField(
              "hold_id",
              absl::StrCat("the account no longer has the held miles (balance ",
                           account.balance(), "): a reversal took them"));
        }
        RemoveActive(account, *hold);
        v1::Transaction transaction =
            NewTransaction(account, v1::REDEMPTION, request.actor());
        transaction.set_miles(-hold->miles());
        transaction.set_hold_id(hold->hold_id());
        transaction.set_idempotency_key(absl::StrCat("capture:", hold->hold_id()));
        *transaction.mutable_activity_date() = transaction.posting_date();
        LotChange change = Debit(account, hold->miles());
        store::WriteBatch batch = store_.raw().NewBatch();
        RecordLots(batch, account, change, transaction);
        hold->set_state(v1::HOLD_CAPTURED);
        *hold->mutable_resolved_at() = ToTimestamp(now);
        hold->set_capture_transaction_id(transaction.transaction_id());
        store_.PutAccount(batch, account);
        store_.PutTransaction(batch, transaction);
        store_.PutHold(batch, *hold);
        store_.UnindexHoldExpiry(batch, *hold);
        AppendPosted(batch, transaction);
        v1::HoldCaptured event;
        *event.mutable_hold() = *hold;
        event.set_transaction_id(transaction.transaction_id());
        batch.AppendEvent(member, event);
        ticket = store_.raw().Enqueue(batch);
        *response.mutable_hold() = *hold;
        *response.mutable_transaction() = std::move(transaction);
      }
    }
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::ReleaseHoldResponse> Ledger::ReleaseHold(
    const v1::ReleaseHoldRequest& request) {
  MB_RETURN_IF_ERROR(CheckHoldId(request.hold_id()));
  FieldErrors errors;
  CheckReasonCode(errors, "reason", request.reason(), /*required=*/false);
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> found,
                      store_.LatestHold(request.hold_id()));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("hold_id: no hold ", request.hold_id()));
  }
  v1::ReleaseHoldResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock(found->member_number());
    MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold,
                        store_.LatestHold(request.hold_id(), &ticket));
    if (hold->member_number() != found->member_number()) {
      return absl::AbortedError("hold_id: the hold moved; try again");
    }
    if (hold->state() == v1::HOLD_CAPTURED) {
      return FailedPreconditionField("hold_id", "the hold was captured");
    }
    if (hold->state() == v1::HOLD_ACTIVE) {
      const std::string& member = hold->member_number();
      MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
      RemoveActive(account, *hold);
      hold->set_state(v1::HOLD_RELEASED);
      *hold->mutable_resolved_at() = ToTimestamp(clock_());
      store::WriteBatch batch = store_.raw().NewBatch();
      store_.PutAccount(batch, account);
      store_.PutHold(batch, *hold);
      store_.UnindexHoldExpiry(batch, *hold);
      v1::HoldReleased event;
      *event.mutable_hold() = *hold;
      event.set_reason(request.reason());
      batch.AppendEvent(member, event);
      ticket = store_.raw().Enqueue(batch);
    }
    *response.mutable_hold() = *std::move(hold);
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::GetHoldResponse> Ledger::GetHold(
    const v1::GetHoldRequest& request) {
  MB_RETURN_IF_ERROR(CheckHoldId(request.hold_id()));
  MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_.Hold(request.hold_id()));
  if (!hold) {
    return absl::NotFoundError(absl::StrCat("hold_id: no hold ", request.hold_id()));
  }
  v1::GetHoldResponse response;
  *response.mutable_hold() = *std::move(hold);
  return response;
}

absl::StatusOr<v1::RedepositHoldResponse> Ledger::RedepositHold(
    const v1::RedepositHoldRequest& request) {
  MB_RETURN_IF_ERROR(CheckHoldId(request.hold_id()));
  MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> found,
                      store_.LatestHold(request.hold_id()));
  if (!found) {
    return absl::NotFoundError(absl::StrCat("hold_id: no hold ", request.hold_id()));
  }
  if (request.fee_miles() < 0 || request.fee_miles() > found->miles()) {
    return InvalidField("fee_miles", "must be 0 to the hold's miles");
  }
  v1::RedepositHoldResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock(found->member_number());
    MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold,
                        store_.LatestHold(request.hold_id(), &ticket));
    if (hold->state() != v1::HOLD_CAPTURED) {
      return FailedPreconditionField(
          "hold_id", absl::StrCat("only a captured hold can be redeposited; it is ",
                                  v1::HoldState_Name(hold->state())));
    }
    if (!hold->redeposit_transaction_id().empty()) {
      MB_ASSIGN_OR_RETURN(*response.mutable_redeposit(),
                          MustTransaction("hold_id",
                                          hold->redeposit_transaction_id(), &ticket));
      if (!hold->redeposit_fee_transaction_id().empty()) {
        MB_ASSIGN_OR_RETURN(*response.mutable_fee(),
                            MustTransaction("hold_id",
                                            hold->redeposit_fee_transaction_id(),
                                            &ticket));
      }
      *response.mutable_hold() = *hold;
    } else {
      const std::string& member = hold->member_number();
      MB_ASSIGN_OR_RETURN(v1::Transaction capture,
                          MustTransaction("hold_id", hold->capture_transaction_id(),
                                          &ticket));
      MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
      store::WriteBatch batch = store_.raw().NewBatch();
      v1::Transaction redeposit =
          NewTransaction(account, v1::REDEPOSIT, request.actor());
      redeposit.set_miles(hold->miles());
      redeposit.set_hold_id(hold->hold_id());
      redeposit.set_idempotency_key(absl::StrCat("redeposit:", hold->hold_id()));
      *redeposit.mutable_activity_date() = redeposit.posting_date();
      std::vector<v1::LotMovement> sources(capture.lot_movements().begin(),
                                           capture.lot_movements().end());
      LotChange credited = CreditKeepingExpiry(
          account, sources, hold->miles(), redeposit.transaction_id(),
          v1::REDEPOSIT, Today());
      RecordLots(batch, account, credited, redeposit);
      store_.PutTransaction(batch, redeposit);
      AppendPosted(batch, redeposit);
      hold->set_redeposit_transaction_id(redeposit.transaction_id());
      if (request.fee_miles() > 0) {
        v1::Transaction fee =
            NewTransaction(account, v1::REDEPOSIT_FEE, request.actor());
        fee.set_miles(-request.fee_miles());
        fee.set_hold_id(hold->hold_id());
        fee.set_idempotency_key(absl::StrCat("redeposit:", hold->hold_id()));
        *fee.mutable_activity_date() = fee.posting_date();
        LotChange debited = Debit(account, request.fee_miles());
        RecordLots(batch, account, debited, fee);
        store_.PutTransaction(batch, fee);
        AppendPosted(batch, fee);
        hold->set_redeposit_fee_transaction_id(fee.transaction_id());
        *response.mutable_fee() = std::move(fee);
      }
      store_.PutAccount(batch, account);
      store_.PutHold(batch, *hold);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_redeposit() = std::move(redeposit);
      *response.mutable_hold() = *hold;
    }
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<int> Ledger::SweepExpiredHolds() {
  const absl::Time now = clock_();
  MB_ASSIGN_OR_RETURN(auto due, store_.HoldsExpiredBy(now));
  int expired = 0;
  uint64_t last_ticket = 0;
  for (const auto& [hold_id, member] : due) {
    store::KeyLocks::Guard guard = locks_.Lock(member);
    MB_ASSIGN_OR_RETURN(std::optional<v1::Hold> hold, store_.LatestHold(hold_id));
    if (!hold || hold->state() != v1::HOLD_ACTIVE ||
        hold->member_number() != member ||
        FromTimestamp(hold->expires_at()) > now) {
      continue;  // Resolved or moved meanwhile.
    }
    MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
    RemoveActive(account, *hold);
    hold->set_state(v1::HOLD_EXPIRED);
    *hold->mutable_resolved_at() = ToTimestamp(now);
    store::WriteBatch batch = store_.raw().NewBatch();
    store_.PutAccount(batch, account);
    store_.PutHold(batch, *hold);
    store_.UnindexHoldExpiry(batch, *hold);
    v1::HoldExpired event;
    *event.mutable_hold() = *hold;
    batch.AppendEvent(member, event);
    last_ticket = store_.raw().Enqueue(batch);
    ++expired;
  }
  store_.raw().Wait(last_ticket);
  if (expired > 0) {
    holds_expired_.Increment(expired);
    log::Info("holds_expired", {{"count", expired}});
  }
  return expired;
}

}  // namespace mileagebank::accrual
