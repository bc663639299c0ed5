// Who is calling the gateway, once their credentials have been checked.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_PRINCIPAL_H_
#define MILEAGEBANK_SERVICES_GATEWAY_PRINCIPAL_H_

#include <algorithm>
#include <string>
#include <vector>

#include "mileagebank/gateway/v1/gateway.pb.h"

namespace mileagebank::gateway {

struct Principal {
  enum class Kind {
    // No credentials: only the public operations (join, log in).
    kAnonymous,
    // A member's web session (access token).
    kMember,
    // An API key: staff of an office, finance, administration, or a partner.
    kApiKey,
  };
  Kind kind = Kind::kAnonymous;

  // kMember: the member and the session the access token belongs to.
  std::string member_number;
  std::string session_id;

  // kApiKey.
  std::string key_id;
  std::vector<v1::Role> roles;
  std::string office_code;
  std::string partner_code;

  // The client's address as the gateway saw it ("ipv4:1.2.3.4:5678").
  std::string peer;

  bool HasRole(v1::Role role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_PRINCIPAL_H_
