// Ledger: retro-claims (补登). A member or staff claims an own flight's
// missing miles within the window; it waits as PENDING until staff approve
// it (credited as an own flight then) or reject it with a reason.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "services/accrual/ledger.h"
#include "services/accrual/request_checks.h"

namespace mileagebank::accrual {

using google::protobuf::util::TimeUtil;

namespace {

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;

absl::Status CheckClaimId(absl::string_view claim_id) {
  if (claim_id.empty() || claim_id.size() > 64) {
    return InvalidField("claim_id", "required, at most 64 characters");
  }
  return absl::OkStatus();
}

absl::Status NoClaim(absl::string_view claim_id) {
  return absl::NotFoundError(absl::StrCat("claim_id: no claim ", claim_id));
}

}  // namespace

absl::StatusOr<v1::SubmitRetroClaimResponse> Ledger::SubmitRetroClaim(
    const v1::SubmitRetroClaimRequest& given) {
  v1::SubmitRetroClaimRequest request = given;
  if (request.flight().carrier().empty()) {
    request.mutable_flight()->set_carrier(options_.host_carrier);
  }
  const absl::CivilDay today = Today();
  FieldErrors errors;
  CheckMemberNumber(errors, "member_number", request.member_number());
  CheckFlightIdentity(errors, "flight_identity", request.flight_identity());
  CheckFlight(errors, "flight", request.flight(), *airports_, today);
  if (request.flight().carrier() != options_.host_carrier) {
    errors.Add("flight.carrier",
               absl::StrCat("a retro-claim is for an own flight: must be ",
                            options_.host_carrier));
  }
  CheckRequestId(errors, "request_id", request.request_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const absl::CivilDay flown = absl::CivilDay(request.flight().flight_date().year(),
                                              request.flight().flight_date().month(),
                                              request.flight().flight_date().day());
  const absl::CivilDay window_start =
      RetroClaimWindowStart(today, options_.claim_months);
  if (flown < window_start) {
    return FailedPreconditionField(
        "flight.flight_date",
        absl::StrCat("a claim must be made within ", options_.claim_months,
                     " months of the flight (flights from ",
                     validation::FormatDate(window_start), ")"));
  }
  MB_ASSIGN_OR_RETURN(std::string member,
                      ResolveMember("member_number", request.member_number(),
                                    /*require_active=*/true));
  const std::string key = RequestKey("claim", member, request.request_id());
  const std::string flight_key = FlightKey(request.flight_identity());
  const std::string fingerprint = RequestFingerprint(request);

  v1::SubmitRetroClaimResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock({member, key, flight_key});
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> earlier,
                        CheckKey(key, fingerprint, &ticket));
    if (earlier) {
      MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim,
                          store_.LatestClaim(earlier->claim_id(), &ticket));
      if (!claim) return absl::DataLossError("accrual: a keyed claim is missing");
      *response.mutable_claim() = *std::move(claim);
    } else {
      MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> credited,
                          store_.LatestKey(flight_key));
      if (credited && !credited->transaction_ids().empty()) {
        return AlreadyExistsError(
            absl::StrCat("flight_identity: already credited by transaction ",
                         credited->transaction_ids(0)),
            credited->transaction_ids(0));
      }
      MB_ASSIGN_OR_RETURN(std::optional<std::string> pending,
                          store_.LatestPendingClaimFor(request.flight_identity()));
      if (pending) {
        return AlreadyExistsError(
            absl::StrCat("flight_identity: claim ", *pending,
                         " for this flight is already pending"),
            *pending);
      }
      MB_ASSIGN_OR_RETURN(records::Account account, store_.LatestAccount(member));
      v1::RetroClaim claim;
      claim.set_claim_id(NextId(account, 'C'));
      claim.set_member_number(member);
      claim.set_state(v1::CLAIM_PENDING);
      *claim.mutable_flight_identity() = request.flight_identity();
      *claim.mutable_flight() = request.flight();
      *claim.mutable_submitted_at() =
          TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
      *claim.mutable_submitted_by() = request.actor();
      store::WriteBatch batch = store_.raw().NewBatch();
      store_.PutAccount(batch, account);
      store_.PutClaim(batch, claim, nullptr);
      records::KeyRecord record;
      record.set_fingerprint(fingerprint);
      record.set_claim_id(claim.claim_id());
      store_.PutKey(batch, key, record);
      v1::RetroClaimSubmitted event;
      *event.mutable_claim() = claim;
      batch.AppendEvent(member, event);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_claim() = std::move(claim);
    }
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::GetRetroClaimResponse> Ledger::GetRetroClaim(
    const v1::GetRetroClaimRequest& request) {
  MB_RETURN_IF_ERROR(CheckClaimId(request.claim_id()));
  MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim,
                      store_.Claim(request.claim_id()));
  if (!claim) return NoClaim(request.claim_id());
  v1::GetRetroClaimResponse response;
  *response.mutable_claim() = *std::move(claim);
  return response;
}

absl::StatusOr<v1::ListRetroClaimsResponse> Ledger::ListRetroClaims(
    const v1::ListRetroClaimsRequest& request) {
  FieldErrors errors;
  if (!request.member_number().empty()) {
    CheckMemberNumber(errors, "member_number", request.member_number());
  }
  const int page_size = request.page().page_size() == 0
                            ? kDefaultPage
                            : request.page().page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    errors.Add("page.page_size", "must be 0 to 1,000");
  }
  // The page token is "<submitted µs>:<claim id>" of the last claim shown.
  int64_t after_micros = 0;
  std::string after_id;
  if (!request.page().page_token().empty()) {
    std::vector<std::string> parts =
        absl::StrSplit(request.page().page_token(), absl::MaxSplits(':', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_micros)) {
      errors.Add("page.page_token", "is not a token this service gave");
    } else {
      after_id = parts[1];
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  std::vector<v1::RetroClaimState> states;
  for (int state : request.states()) {
    states.push_back(static_cast<v1::RetroClaimState>(state));
  }
  auto wanted = [&](const v1::RetroClaim& claim) {
    return states.empty() ||
           std::find(states.begin(), states.end(), claim.state()) != states.end();
  };
  v1::ListRetroClaimsResponse response;
  // One index walk: by member when given, else by state (a single state
  // keeps the work queue cheap), else across every state.
  std::vector<std::vector<std::string>> sources;
  if (!request.member_number().empty()) {
    MB_ASSIGN_OR_RETURN(auto ids, store_.ClaimsByMember(request.member_number(),
                                                        after_micros, after_id,
                                                        100'000));
    sources.push_back(std::move(ids));
  } else {
    std::vector<v1::RetroClaimState> walk = states;
    if (walk.empty()) walk = {v1::CLAIM_PENDING, v1::CLAIM_APPROVED, v1::CLAIM_REJECTED};
    for (v1::RetroClaimState state : walk) {
      MB_ASSIGN_OR_RETURN(auto ids, store_.ClaimsByState(state, after_micros,
                                                         after_id, page_size + 1));
      sources.push_back(std::move(ids));
    }
  }
  std::vector<v1::RetroClaim> claims;
  for (const auto& ids : sources) {
    for (const std::string& id : ids) {
      MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim, store_.Claim(id));
      if (claim && wanted(*claim)) claims.push_back(*std::move(claim));
    }
  }
  std::stable_sort(claims.begin(), claims.end(),
                   [](const v1::RetroClaim& a, const v1::RetroClaim& b) {
                     return std::make_pair(TimeUtil::TimestampToMicroseconds(
                                               a.submitted_at()),
                                           a.claim_id()) <
                            std::make_pair(TimeUtil::TimestampToMicroseconds(
                                               b.submitted_at()),
                                           b.claim_id());
                   });
  for (size_t i = 0; i < claims.size() && i < static_cast<size_t>(page_size); ++i) {
    *response.add_claims() = claims[i];
  }
  if (claims.size() > static_cast<size_t>(page_size)) {
    const v1::RetroClaim& last = response.claims(response.claims_size() - 1);
    response.mutable_page()->set_next_page_token(absl::StrCat(
        TimeUtil::TimestampToMicroseconds(last.submitted_at()), ":",
        last.claim_id()));
  }
  return response;
}

absl::StatusOr<v1::ApproveRetroClaimResponse> Ledger::ApproveRetroClaim(
    const v1::ApproveRetroClaimRequest& request) {
  MB_RETURN_IF_ERROR(CheckClaimId(request.claim_id()));
  FieldErrors errors;
  CheckStaff(errors, request.actor());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> found,
                      store_.LatestClaim(request.claim_id()));
  if (!found) return NoClaim(request.claim_id());
  const std::string flight_key = FlightKey(found->flight_identity());

  v1::ApproveRetroClaimResponse response;
  uint64_t ticket = 0;
  if (found->state() == v1::CLAIM_REJECTED) {
    return FailedPreconditionField("claim_id", "the claim was rejected");
  }
  if (found->state() == v1::CLAIM_PENDING) {
    // Credited through the own-flight path under the flight's identity key,
    // so a flight is never credited twice whichever way it came.
    v1::PostOwnFlightRequest credit;
    credit.set_member_number(found->member_number());
    *credit.mutable_flight_identity() = found->flight_identity();
    *credit.mutable_flight() = found->flight();
    *credit.mutable_actor() = request.actor();
    MB_ASSIGN_OR_RETURN(CreditInput input, OwnFlightInput(credit, v1::RETRO_CLAIM));
    // The window was checked at submission and is not checked again.
    input.transaction.set_claim_id(found->claim_id());
    MB_ASSIGN_OR_RETURN(std::optional<records::KeyRecord> credited,
                        store_.LatestKey(flight_key));
    if (credited) {
      MB_ASSIGN_OR_RETURN(v1::Transaction by,
                          MustTransaction("claim_id", credited->transaction_ids(0),
                                          &ticket));
      if (by.claim_id() != found->claim_id()) {
        return AlreadyExistsError(
            absl::StrCat("claim_id: the flight was credited meanwhile by ",
                         by.transaction_id(), "; reject the claim"),
            by.transaction_id());
      }
    }
    // A concurrent approval of this same claim makes this a replay.
    MB_ASSIGN_OR_RETURN(Posted posted,
                        DecideOneCredit(std::move(input), &ticket));
    store::KeyLocks::Guard guard = locks_.Lock(found->member_number());
    MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim,
                        store_.LatestClaim(request.claim_id(), &ticket));
    v1::RetroClaim approved = *claim;
    approved.set_state(v1::CLAIM_APPROVED);
    approved.set_transaction_id(posted.transaction.transaction_id());
    *approved.mutable_decided_at() =
        TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
    *approved.mutable_decided_by() = request.actor();
    store::WriteBatch batch = store_.raw().NewBatch();
    store_.PutClaim(batch, approved, &*claim);
    v1::RetroClaimApproved event;
    *event.mutable_claim() = approved;
    batch.AppendEvent(approved.member_number(), event);
    ticket = store_.raw().Enqueue(batch);
    *response.mutable_claim() = std::move(approved);
    *response.mutable_transaction() = std::move(posted.transaction);
    log::Info("claim_approved", {{"claim_id", request.claim_id()},
                                 {"operator", request.actor().operator_id()}});
  } else {
    *response.mutable_claim() = *found;
    MB_ASSIGN_OR_RETURN(*response.mutable_transaction(),
                        MustTransaction("claim_id", found->transaction_id(), &ticket));
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::RejectRetroClaimResponse> Ledger::RejectRetroClaim(
    const v1::RejectRetroClaimRequest& request) {
  MB_RETURN_IF_ERROR(CheckClaimId(request.claim_id()));
  FieldErrors errors;
  CheckReasonCode(errors, "reason", request.reason());
  if (request.note().size() > 500) errors.Add("note", "at most 500 characters");
  CheckStaff(errors, request.actor());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> found,
                      store_.LatestClaim(request.claim_id()));
  if (!found) return NoClaim(request.claim_id());

  v1::RejectRetroClaimResponse response;
  uint64_t ticket = 0;
  {
    store::KeyLocks::Guard guard = locks_.Lock(found->member_number());
    MB_ASSIGN_OR_RETURN(std::optional<v1::RetroClaim> claim,
                        store_.LatestClaim(request.claim_id(), &ticket));
    if (claim->state() == v1::CLAIM_APPROVED) {
      return FailedPreconditionField("claim_id", "the claim was approved");
    }
    if (claim->state() == v1::CLAIM_REJECTED) {
      if (claim->rejection_reason() != request.reason()) {
        return FailedPreconditionField(
            "reason", absl::StrCat("the claim was rejected already, for ",
                                   claim->rejection_reason()));
      }
      *response.mutable_claim() = *claim;
    } else {
      v1::RetroClaim rejected = *claim;
      rejected.set_state(v1::CLAIM_REJECTED);
      rejected.set_rejection_reason(request.reason());
      rejected.set_rejection_note(request.note());
      *rejected.mutable_decided_at() =
          TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
      *rejected.mutable_decided_by() = request.actor();
      store::WriteBatch batch = store_.raw().NewBatch();
      store_.PutClaim(batch, rejected, &*claim);
      v1::RetroClaimRejected event;
      *event.mutable_claim() = rejected;
      batch.AppendEvent(rejected.member_number(), event);
      ticket = store_.raw().Enqueue(batch);
      *response.mutable_claim() = std::move(rejected);
      log::Info("claim_rejected", {{"claim_id", request.claim_id()},
                                   {"reason", request.reason()}});
    }
  }
  store_.raw().Wait(ticket);
  return response;
}

}  // namespace mileagebank::accrual
