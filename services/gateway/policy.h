// Who may call which operation: the one table both faces of the gateway
// check, denied by default (an operation not in the table, such as the
// services' internal RPCs and event streams, is refused to everyone).
//
// Operations are full gRPC method names; a REST route is one of them with
// another spelling (routes.h), so a role has the same rights on both faces.
// docs/api.md prints this table and policy_test walks it.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_POLICY_H_
#define MILEAGEBANK_SERVICES_GATEWAY_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/gateway/principal.h"

namespace mileagebank::gateway {

// How a member's own session may reach an operation.
enum class MemberAccess {
  kNone,
  // Public: no credentials needed (join, log in).
  kAnyone,
  // The request's `member_number` must be the session's member.
  kOwnMember,
  // The request names a redemption or retro claim by id; the gateway looks
  // it up and lets the call through only when it is the session's member's.
  kOwnRedemption,
  kOwnClaim,
  // Needs a session but names no member (award quotes, logout).
  kAnySession,
};

struct Operation {
  // "/mileagebank.accrual.v1.Accrual/AdjustMiles".
  std::string method;
  // API key roles allowed; a key with any of them may call.
  std::vector<v1::Role> roles;
  MemberAccess member = MemberAccess::kNone;
  // Changes something: staff and partner calls are written to the audit
  // trail.
  bool write = false;
};

// Every operation the gateway serves, in contract order.
const std::vector<Operation>& Operations();

// The backup of the gateway's own store (admin.proto's GatewayAdmin),
// which the gateway process serves itself beside the operations it relays
// (admin_guard.h): ADMIN only, audited. Not among Operations(), whose
// services the gRPC face relays to the services.
const Operation& GatewayBackupOperation();

// The operation named `method`, or nullptr when the gateway does not serve
// it.
const Operation* FindOperation(absl::string_view method);

// OK when `principal` may call `operation` at all; the member-specific
// checks (kOwnMember and the lookups) are the dispatcher's, as they need the
// request. UNAUTHENTICATED for an anonymous caller of a non-public
// operation, PERMISSION_DENIED otherwise.
absl::Status Authorize(const Principal& principal, const Operation& operation);

// Whether `principal` sees identity document numbers, phone numbers and
// e-mail addresses unmasked: the member (their own data; anonymous callers
// reach only their own enrolment and session) and the staff who serve
// members face to face or on the phone.
bool SeesPersonalData(const Principal& principal);

// "AGENT" for Role AGENT.
std::string RoleName(v1::Role role);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_POLICY_H_
