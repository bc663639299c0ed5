// API keys: the credentials of staff (sales offices, call centres, finance,
// administration) and partners, each key carrying its roles and the office
// or partner it acts for.
//
// A key reads "mbk_<key_id>_<secret>": key_id is 12 lower-case hex digits,
// public (it names the key in lists, audit records and logs); the secret is
// 32 random bytes in base64url. The gateway keeps only the SHA-256 of the
// whole string, so neither its store nor a backup lets anyone call as the
// key; the key itself is shown once, by Create. A plain hash is enough (no
// Argon2 as for passwords): 256 random bits cannot be guessed, and every
// request pays for the check.
//
// Keys come from two places: those made through Create (in the store), and
// those written in the configuration as a record and the hex SHA-256 (the
// first ADMIN key of a new installation). Configured keys are changed by
// changing the configuration, so Revoke refuses them.
//
// Authenticate is on every staff and partner request: all keys are held in
// memory (they are few), loaded at Open and kept in step by Create and
// Revoke, and the hashes compared in constant time.
//
//   auto keys = ApiKeys::Open(store, {config.api_keys().begin(), ...});
//   MB_ASSIGN_OR_RETURN(v1::CreateApiKeyResponse made, (*keys)->Create(key));
//   MB_ASSIGN_OR_RETURN(Principal who, (*keys)->Authenticate(presented));
//
// Tables (libs/store/keys.h encodings; Tables() lists them):
//   api_keys        String(key_id) -> mileagebank.gateway.v1.ApiKey
//   api_key_hashes  String(key_id) -> raw SHA-256 of the whole key (32 bytes)
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_GATEWAY_API_KEYS_H_
#define MILEAGEBANK_SERVICES_GATEWAY_API_KEYS_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/store/store.h"
#include "mileagebank/config/v1/gateway.pb.h"
#include "mileagebank/gateway/v1/gateway.pb.h"
#include "services/gateway/principal.h"
#include "services/gateway/state.h"

namespace mileagebank::gateway {

// OK when `key`'s roles, office and partner fit together (field names are
// prefixed with `field`, e.g. "key.roles"): at least one role, each known
// and given once; PARTNER alone and with partner_code; AGENT,
// OFFICE_SUPERVISOR and CALL_CENTRE with office_code; partner_code only
// with PARTNER. Otherwise INVALID_ARGUMENT naming each field at fault.
absl::Status ValidateApiKey(absl::string_view field, const v1::ApiKey& key);

// The key_id of a presented key of the right shape ("mbk_" + 12 hex digits
// + "_" + base64url secret), else UNAUTHENTICATED "API key is not valid".
absl::StatusOr<std::string> PresentedKeyId(absl::string_view presented);

// The caller `presented` stands for when it is the key of `record`, whose
// whole key string hashes (raw SHA-256) to `sha256`, and `record` is not
// revoked; else UNAUTHENTICATED "API key is not valid". In constant time.
absl::StatusOr<Principal> MatchApiKey(absl::string_view presented,
                                      const v1::ApiKey& record,
                                      absl::string_view sha256);

// The keys kept in this process's store (state.h).
class ApiKeys final : public ApiKeyRegistry {
 public:
  using Clock = std::function<absl::Time()>;

  // Loads the keys kept in `store` (opened with Tables(); it outlives the
  // ApiKeys) alongside `configured`. INVALID_ARGUMENT for a configured key
  // that is not valid (record, key_id, or sha256 not 64 hex digits), or
  // whose key_id is used twice: the gateway must not start half-configured.
  static absl::StatusOr<std::unique_ptr<ApiKeys>> Open(
      store::Store* store,
      const std::vector<config::v1::ConfiguredApiKey>& configured,
      Clock clock = absl::Now);

  ApiKeys(const ApiKeys&) = delete;
  ApiKeys& operator=(const ApiKeys&) = delete;

  static std::vector<std::string> Tables();

  // ApiKeyRegistry; Revoke takes effect at once.
  absl::StatusOr<v1::CreateApiKeyResponse> Create(
      const v1::ApiKey& key) override;
  absl::StatusOr<std::vector<v1::ApiKey>> List() override;
  absl::StatusOr<v1::ApiKey> Revoke(absl::string_view key_id) override;
  absl::StatusOr<Principal> Authenticate(absl::string_view presented) override;

  // Every key with its raw SHA-256, by key_id: what fronts cache
  // (GatewayState's ListApiKeyDigests).
  std::vector<std::pair<v1::ApiKey, std::string>> Digests() const;

 private:
  struct Entry {
    v1::ApiKey record;
    std::string sha256;  // Raw bytes.
    bool configured = false;
  };

  ApiKeys(store::Store* store, Clock clock)
      : store_(store), clock_(std::move(clock)) {}
  absl::Status Load();

  store::Store* const store_;
  const Clock clock_;

  // Serializes Create and Revoke, each a decision and a commit.
  absl::Mutex write_mutex_ ABSL_ACQUIRED_BEFORE(mutex_);
  // Guards the keys; held only for memory work.
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Entry> keys_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::gateway

#endif  // MILEAGEBANK_SERVICES_GATEWAY_API_KEYS_H_
