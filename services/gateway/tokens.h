// Access tokens: the short-lived credential of a member's web session.
//
// A token is base64url(payload) "." base64url(HMAC-SHA-256(key, payload)),
// with the payload "v1:<member_number>:<session_id>:<issued>:<expires>"
// (Unix seconds). Signed rather than stored, so that checking one on every
// request needs no lookup: the gateway only remembers the sessions that were
// ended early (sessions.h). The key never leaves the gateway's data folder;
// whoever holds it can mint tokens for any member, hence the 0600 file.
//
//   MB_ASSIGN_OR_RETURN(std::string key, LoadOrCreateTokenKey(path));
//   MB_ASSIGN_OR_RETURN(TokenSigner signer, TokenSigner::Create(key));
//   std::string token = signer.Sign({number, session_id, now, now + 15min});
//   absl::StatusOr<AccessClaims> claims = signer.Verify(token, absl::Now());
//
// Also the small encodings the gateway's other credentials share (refresh
// tokens and API keys are random bytes in base64url, stored as SHA-256).
//
// Thread-safe: a TokenSigner is immutable once made.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_TOKENS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_TOKENS_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mileagebank::gateway {

// Smallest signing key accepted: HMAC-SHA-256's own key size.
inline constexpr size_t kTokenKeyBytes = 32;

// What an access token vouches for.
struct AccessClaims {
  std::string member_number;
  std::string session_id;
  absl::Time issued;
  absl::Time expires;
};

class TokenSigner {
 public:
  // A signer with `key` (at least kTokenKeyBytes, else INVALID_ARGUMENT).
  static absl::StatusOr<TokenSigner> Create(std::string key);

  // The signed token of `claims`; times are kept to the second (expires
  // rounded down, so a token never lives longer than asked).
  // INVALID_ARGUMENT when the member number or session id is empty or holds
  // a ':' (the payload's separator).
  absl::StatusOr<std::string> Sign(const AccessClaims& claims) const;

  // The claims of `token` if it was signed with this key and has not expired
  // at `now`; otherwise UNAUTHENTICATED ("access token is malformed",
  // "... is not valid", "... has expired"). The signature is compared in
  // constant time and checked before the payload is read.
  absl::StatusOr<AccessClaims> Verify(absl::string_view token,
                                      absl::Time now) const;

 private:
  explicit TokenSigner(std::string key) : key_(std::move(key)) {}
  std::string Mac(absl::string_view payload) const;

  std::string key_;
};

// The token signing key at `path`: read when the file exists (refused as
// FAILED_PRECONDITION when shorter than kTokenKeyBytes, rather than padded:
// a truncated key is a damaged installation); otherwise kTokenKeyBytes
// random bytes written there durably (mode 0600, fsynced, the folder too)
// and returned. Two processes creating it at once agree on one key.
absl::StatusOr<std::string> LoadOrCreateTokenKey(const std::string& path);

// base64url without padding (RFC 4648 section 5), as used in every gateway
// credential.
std::string Base64UrlEncode(absl::string_view bytes);
// nullopt unless `text` is canonical unpadded base64url.
std::optional<std::string> Base64UrlDecode(absl::string_view text);
// `bytes` random bytes, base64url: refresh tokens and API key secrets.
std::string RandomBase64Url(size_t bytes);
// The raw 32-byte SHA-256 of `data`: what is stored of a refresh token.
std::string Sha256Bytes(absl::string_view data);
// Compares two strings in time that depends only on their lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// The metadata a gateway front sends on every GatewayState call, and its
// value: the hex SHA-256 of a fixed label and the token signing key, so
// that only a process holding the key may call the state owner
// (gateway_state.proto).
inline constexpr char kGatewayStateMetadata[] = "x-mb-gateway-state";
std::string GatewayStateSecret(absl::string_view token_key);

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_TOKENS_H_
