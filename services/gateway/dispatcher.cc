#include "services/gateway/dispatcher.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/dynamic_message.h"
#include "libs/client/shards.h"
#include "libs/log/log.h"
#include "libs/server/service_host.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "mileagebank/common/v1/common.pb.h"
#include "services/gateway/masking.h"
#include "services/gateway/shard_fanout.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor* StringField(const Message& message,
                                   absl::string_view name) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return nullptr;
  }
  return field;
}

std::string GetString(const Message& message, absl::string_view name) {
  const FieldDescriptor* field = StringField(message, name);
  return field == nullptr ? ""
                          : message.GetReflection()->GetString(message, field);
}

// The member a request is about, for the audit trail; for an enrolment,
// the member it made.
std::string TargetMember(const Message& request, const Message* response) {
  for (const char* name :
       {"member_number", "from_member_number", "source_member_number"}) {
    std::string member = GetString(request, name);
    if (!member.empty()) return member;
  }
  if (response == nullptr) return "";
  const FieldDescriptor* member =
      response->GetDescriptor()->FindFieldByName("member");
  if (member == nullptr ||
      member->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      member->is_repeated()) {
    return "";
  }
  return GetString(response->GetReflection()->GetMessage(*response, member),
                   "member_number");
}

common::v1::Channel ChannelOf(const Principal& principal) {
  if (principal.kind != Principal::Kind::kApiKey) return common::v1::WEB;
  if (principal.HasRole(v1::CALL_CENTRE)) return common::v1::CALL_CENTRE;
  if (principal.HasRole(v1::AGENT) || principal.HasRole(v1::OFFICE_SUPERVISOR)) {
    return common::v1::SALES_OFFICE;
  }
  if (principal.HasRole(v1::PARTNER)) return common::v1::PARTNER;
  return common::v1::SYSTEM;
}

// The actor is who the credentials say, whatever the request claims.
void SetActor(const Principal& principal, Message* request) {
  const FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName("actor");
  if (field == nullptr ||
      field->message_type() != common::v1::Actor::descriptor()) {
    return;
  }
  common::v1::Actor actor;
  actor.set_channel(ChannelOf(principal));
  if (principal.kind == Principal::Kind::kApiKey) {
    actor.set_office_code(principal.office_code);
    actor.set_operator_id(principal.key_id);
  }
  request->GetReflection()->MutableMessage(request, field)->CopyFrom(actor);
}

Principal WithoutSession(Principal principal) {
  principal.kind = Principal::Kind::kAnonymous;
  return principal;
}

std::string RateKey(const Principal& principal) {
  switch (principal.kind) {
    case Principal::Kind::kMember: return "member:" + principal.member_number;
    case Principal::Kind::kApiKey: return "key:" + principal.key_id;
    case Principal::Kind::kAnonymous: break;
  }
  // "ipv4:1.2.3.4:5678": the address without the port.
  absl::string_view peer = principal.peer;
  size_t port = peer.rfind(':');
  return absl::StrCat("peer:", peer.substr(0, port));
}

}  // namespace

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
}

Dispatcher::Dispatcher(Parts parts, prometheus::Registry& metrics)
    : parts_(std::move(parts)),
      denied_(prometheus::BuildCounter()
                  .Name("mileagebank_gateway_denied_total")
                  .Help("Calls refused before reaching a service, by reason")
                  .Register(metrics)) {}

absl::StatusOr<Principal> Dispatcher::Authenticate(
    const Credentials& credentials) const {
  absl::StatusOr<Principal> principal = Principal();
  if (!credentials.api_key.empty() && !credentials.authorization.empty()) {
    principal = absl::UnauthenticatedError(
        "send either an API key or an access token, not both");
  } else if (!credentials.api_key.empty()) {
    principal = parts_.api_keys->Authenticate(credentials.api_key);
  } else if (!credentials.authorization.empty()) {
    absl::string_view token = credentials.authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ")) {
      principal = absl::UnauthenticatedError(
          "authorization: must be \"Bearer <access token>\"");
    } else {
      principal = parts_.sessions->Authenticate(std::string(token));
    }
  }
  if (!principal.ok()) {
    denied_.Add({{"reason", "unauthenticated"}}).Increment();
    return principal.status();
  }
  principal->peer = credentials.peer;
  return principal;
}

absl::Status Dispatcher::Admit(const Principal& principal,
                               const Operation& operation, Message* request,
                               absl::Time deadline,
                               absl::string_view record_of) {
  if (!parts_.limiter->Allow(RateKey(principal))) {
    denied_.Add({{"reason", "rate_limit"}}).Increment();
    return absl::ResourceExhaustedError(
        "rate limit: too many requests; slow down and try again");
  }
  absl::Status allowed = Authorize(principal, operation);
  if (allowed.ok() && !record_of.empty()) {
    allowed = CheckRecordOf(principal, operation, *request, record_of, deadline);
  }
  if (allowed.ok() && principal.kind == Principal::Kind::kMember) {
    allowed = CheckOwnership(principal, operation, request, deadline);
  }
  if (!allowed.ok()) {
    denied_.Add({{"reason", allowed.code() == absl::StatusCode::kUnauthenticated
                                ? "unauthenticated"
                                : "permission"}})
        .Increment();
    return allowed;
  }
  if (principal.kind == Principal::Kind::kApiKey && operation.write) {
    // Audit's trail at another process (a gateway front's) may be down.
    absl::Status recordable = parts_.audit->Writable();
    if (!recordable.ok()) {
      denied_.Add({{"reason", "audit_unavailable"}}).Increment();
      return recordable;
    }
  }
  SetActor(principal, request);
  return absl::OkStatus();
}

absl::Status Dispatcher::CheckOwnership(const Principal& principal,
                                        const Operation& operation,
                                        Message* request, absl::Time deadline) {
  const absl::Status not_yours = absl::PermissionDeniedError(
      "member_number: a member may reach only their own data");
  switch (operation.member) {
    case MemberAccess::kOwnMember: {
      const FieldDescriptor* field = StringField(*request, "member_number");
      if (field == nullptr) return not_yours;
      std::string asked = request->GetReflection()->GetString(*request, field);
      if (asked.empty()) {
        request->GetReflection()->SetString(request, field,
                                            principal.member_number);
      } else if (asked != principal.member_number) {
        return not_yours;
      }
      return absl::OkStatus();
    }
    case MemberAccess::kOwnRedemption:
    case MemberAccess::kOwnClaim: {
      MB_ASSIGN_OR_RETURN(std::optional<std::string> owner,
                          RecordOwner(principal, operation, *request, deadline));
      return owner == principal.member_number ? absl::OkStatus() : not_yours;
    }
    case MemberAccess::kAnyone:
    case MemberAccess::kAnySession:
      return absl::OkStatus();
    case MemberAccess::kNone:
      break;
  }
  return absl::PermissionDeniedError(
      absl::StrCat("not allowed to call ", operation.method));
}

absl::Status Dispatcher::CheckRecordOf(const Principal& principal,
                                       const Operation& operation,
                                       const Message& request,
                                       absl::string_view member_number,
                                       absl::Time deadline) {
  // A member's own records are checked against the session anyway
  // (CheckOwnership): the path need only name the member.
  if (principal.kind == Principal::Kind::kMember) {
    return member_number == principal.member_number
               ? absl::OkStatus()
               : absl::PermissionDeniedError(
                     "member_number: a member may reach only their own data");
  }
  MB_ASSIGN_OR_RETURN(std::optional<std::string> owner,
                      RecordOwner(principal, operation, request, deadline));
  if (!owner || *owner == member_number) return absl::OkStatus();
  const bool claim = operation.member == MemberAccess::kOwnClaim;
  return absl::NotFoundError(absl::StrCat(
      claim ? "claim_id" : "redemption_id", ": member ", member_number,
      " has no ", claim ? "claim " : "redemption ",
      GetString(request, claim ? "claim_id" : "redemption_id")));
}

absl::StatusOr<std::optional<std::string>> Dispatcher::RecordOwner(
    const Principal& principal, const Operation& operation,
    const Message& request, absl::Time deadline) {
  // How each kind of record is read: its service's Get method, the id
  // naming it (the same field in the operation's request and the Get's),
  // and the answer's field holding it.
  struct Lookup {
    const char* method;
    const char* id_field;
    const char* record_field;
  };
  Lookup lookup;
  if (operation.member == MemberAccess::kOwnRedemption) {
    lookup = {"/mileagebank.redemption.v1.Redemption/GetRedemption",
              "redemption_id", "redemption"};
  } else if (operation.member == MemberAccess::kOwnClaim) {
    lookup = {"/mileagebank.accrual.v1.Accrual/GetRetroClaim", "claim_id",
              "claim"};
  } else {
    return std::nullopt;
  }
  const google::protobuf::MethodDescriptor* method =
      server::ContractMethod(lookup.method);
  std::unique_ptr<Message> get = NewMessage(method->input_type());
  std::unique_ptr<Message> found = NewMessage(method->output_type());
  get->GetReflection()->SetString(
      get.get(), get->GetDescriptor()->FindFieldByName(lookup.id_field),
      GetString(request, lookup.id_field));
  MB_RETURN_IF_ERROR(Forward(principal, *FindOperation(lookup.method), *get,
                             found.get(), deadline));
  const Message& record = found->GetReflection()->GetMessage(
      *found, found->GetDescriptor()->FindFieldByName(lookup.record_field));
  return GetString(record, "member_number");
}

absl::Status Dispatcher::Unary(const Principal& principal,
                               const Operation& operation, Message* request,
                               Message* response, absl::Time deadline,
                               absl::string_view record_of) {
  absl::Status outcome =
      Admit(principal, operation, request, deadline, record_of);
  if (outcome.ok()) {
    outcome = Forward(principal, operation, *request, response, deadline);
  }
  if (outcome.ok() && !SeesPersonalData(principal)) {
    MaskPersonalData(response);
  }
  Audit(principal, operation, request, outcome, response);
  return outcome;
}

void Dispatcher::PrepareBackendContext(const Principal& principal,
                                       absl::Time deadline,
                                       grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(
      std::min(deadline, absl::Now() + parts_.backend_deadline)));
  if (principal.kind == Principal::Kind::kMember) {
    context->AddMetadata(kSessionMemberMetadata, principal.member_number);
  }
  if (principal.kind == Principal::Kind::kApiKey &&
      principal.HasRole(v1::PARTNER)) {
    context->AddMetadata(kPartnerMetadata, principal.partner_code);
  }
}

absl::Status Dispatcher::Forward(const Principal& principal,
                                 const Operation& operation,
                                 const Message& request, Message* response,
                                 absl::Time deadline) {
  if (ServiceOf(operation.method) == "mileagebank.gateway.v1.Gateway") {
    return parts_.local->Call(principal, operation.method, request, response);
  }
  const int shards = parts_.backends->ShardCount(operation.method);
  const client::Route route = client::RouteOf(request, shards);
  if (route.kind == client::Route::Kind::kShard) {
    return ForwardToShard(route.shard, principal, operation, request, response,
                          deadline);
  }
  switch (FanoutOf(request)) {
    case Fanout::kFirstShard:
      break;
    case Fanout::kFirstFound: {
      absl::Status status;
      for (int shard = 0; shard < shards; ++shard) {
        status = ForwardToShard(shard, principal, operation, request, response,
                                deadline);
        if (!absl::IsNotFound(status)) break;
      }
      return status;
    }
    case Fanout::kEveryShard: {
      std::unique_ptr<Message> part(response->New());
      for (int shard = 0; shard < shards; ++shard) {
        part->Clear();
        MB_RETURN_IF_ERROR(ForwardToShard(shard, principal, operation, request,
                                          part.get(), deadline));
        MergeShardAnswer(*part, response);
      }
      return absl::OkStatus();
    }
  }
  return ForwardToShard(0, principal, operation, request, response, deadline);
}

absl::Status Dispatcher::ForwardToShard(int shard, const Principal& principal,
                                        const Operation& operation,
                                        const Message& request,
                                        Message* response, absl::Time deadline) {
  grpc::ClientContext context;
  // A request carrying the member's password is to be checked by the
  // service (an award confirmed with the password), not vouched for by the
  // session.
  PrepareBackendContext(GetString(request, "member_password").empty()
                            ? principal
                            : WithoutSession(principal),
                        deadline, &context);
  grpc::ByteBuffer answer;
  grpc::Status status = parts_.backends->Unary(
      operation.method, shard, &context, ToByteBuffer(request.SerializeAsString()),
      &answer);
  if (!status.ok()) return FromBackend(operation, status);
  if (!response->ParseFromString(FromByteBuffer(answer))) {
    log::Error("backend answer unreadable", {{"method", operation.method}});
    return absl::InternalError("internal error");
  }
  return absl::OkStatus();
}

absl::Status Dispatcher::FromBackend(const Operation& operation,
                                     const grpc::Status& status) const {
  std::string service(ServiceOf(operation.method));
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      log::Warning("backend unavailable", {{"service", service},
                                           {"detail", status.error_message()}});
      return absl::UnavailableError(
          absl::StrCat(service, " is unavailable; try again shortly"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat(service, " did not answer in time"));
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNIMPLEMENTED:
      log::Error("backend failed", {{"method", operation.method},
                                    {"code", static_cast<int>(status.error_code())},
                                    {"detail", status.error_message()}});
      return absl::InternalError("internal error");
    default:
      return FromGrpcStatus(status);
  }
}

void Dispatcher::Audit(const Principal& principal, const Operation& operation,
                       const Message* request, const absl::Status& outcome,
                       const Message* response) {
  if (principal.kind != Principal::Kind::kApiKey || !operation.write) return;
  v1::AuditRecord record;
  record.set_key_id(principal.key_id);
  for (v1::Role role : principal.roles) record.add_roles(role);
  record.set_office_code(principal.office_code);
  record.set_partner_code(principal.partner_code);
  record.set_operation(operation.method);
  if (request != nullptr) {
    record.set_member_number(
        TargetMember(*request, outcome.ok() ? response : nullptr));
  }
  record.set_peer(principal.peer);
  record.set_outcome(absl::StatusCodeToString(outcome.code()));
  if (!outcome.ok()) record.set_message(std::string(outcome.message()));
  absl::Status recorded = parts_.audit->Append(record).status();
  if (!recorded.ok()) {
    log::Error("audit record not written",
               {{"operation", operation.method},
                {"error", std::string(recorded.message())}});
  }
}

}  // namespace mileagebank::gateway
