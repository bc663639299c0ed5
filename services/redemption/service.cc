#include "services/redemption/service.h"

#include "libs/server/respond.h"

namespace mileagebank::redemption {

// The metadata key the gateway sets to the member of an authenticated web
// session.
constexpr char kSessionMemberKey[] = "x-mb-session-member";

grpc::Status RedemptionService::CreateRedemption(
    grpc::ServerContext* context, const v1::CreateRedemptionRequest* request,
    v1::CreateRedemptionResponse* response) {
  std::string session_member;
  auto found = context->client_metadata().find(kSessionMemberKey);
  if (found != context->client_metadata().end()) {
    session_member.assign(found->second.data(), found->second.size());
  }
  return server::Respond(redemptions_->CreateRedemption(*request, session_member),
                         response);
}

#define MB_DEFINE_RPC(Method)                                                \
  grpc::Status RedemptionService::Method(grpc::ServerContext*,               \
                                         const v1::Method##Request* request, \
                                         v1::Method##Response* response) {   \
    return server::Respond(redemptions_->Method(*request), response);        \
  }
MB_REDEMPTION_RPCS(MB_DEFINE_RPC)
#undef MB_DEFINE_RPC

}  // namespace mileagebank::redemption
