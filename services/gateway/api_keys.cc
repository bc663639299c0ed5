#include "services/gateway/api_keys.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/crypto/password.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kKeysTable[] = "api_keys";
constexpr char kHashesTable[] = "api_key_hashes";

constexpr absl::string_view kPrefix = "mbk_";
constexpr size_t kKeyIdLength = 12;
constexpr size_t kSecretBytes = 32;
// A configured key's secret is chosen by whoever configured it: any
// base64url text this long holds at least as many bits as a made one.
constexpr size_t kMinSecretLength = 43;
constexpr size_t kMaxSecretLength = 128;
constexpr size_t kMaxCodeLength = 32;
constexpr size_t kMaxLabelLength = 200;

absl::Status NotValid() {
  return absl::UnauthenticatedError("API key is not valid");
}

bool IsKeyId(absl::string_view text) {
  return text.size() == kKeyIdLength &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

bool IsBase64Url(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '-' || c == '_';
  });
}

bool IsCode(absl::string_view code) {
  return !code.empty() && code.size() <= kMaxCodeLength &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_isgraph(c);
         });
}

bool IsStaffRole(v1::Role role) {
  return role == v1::AGENT || role == v1::OFFICE_SUPERVISOR ||
         role == v1::CALL_CENTRE;
}

std::string KeyIdKey(absl::string_view key_id) {
  return store::KeyBuilder().String(key_id).Build();
}

}  // namespace

absl::Status ValidateApiKey(absl::string_view field, const v1::ApiKey& key) {
  const std::string roles_field = absl::StrCat(field, ".roles");
  const std::string office_field = absl::StrCat(field, ".office_code");
  const std::string partner_field = absl::StrCat(field, ".partner_code");
  FieldErrors errors;
  if (key.label().size() > kMaxLabelLength) {
    errors.Add(absl::StrCat(field, ".label"),
               absl::StrCat("at most ", kMaxLabelLength, " characters"));
  }
  if (key.roles().empty()) errors.Add(roles_field, "at least one role");
  absl::flat_hash_set<int> seen;
  bool staff = false;
  bool partner = false;
  for (int role : key.roles()) {
    if (role == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(role)) {
      errors.Add(roles_field, absl::StrCat("unknown role ", role));
    } else if (!seen.insert(role).second) {
      errors.Add(roles_field, absl::StrCat(v1::Role_Name(role),
                                           " given more than once"));
    }
    staff |= IsStaffRole(static_cast<v1::Role>(role));
    partner |= role == v1::PARTNER;
  }
  if (partner) {
    if (key.roles_size() > 1) {
      errors.Add(roles_field, "PARTNER goes with no other role");
    }
    if (!IsCode(key.partner_code())) {
      errors.Add(partner_field, "required with role PARTNER (1-32 characters)");
    }
    if (!key.office_code().empty()) {
      errors.Add(office_field, "not with role PARTNER");
    }
  } else if (!key.partner_code().empty()) {
    errors.Add(partner_field, "only with role PARTNER");
  }
  if (staff && !IsCode(key.office_code())) {
    errors.Add(office_field,
               "required with roles AGENT, OFFICE_SUPERVISOR and CALL_CENTRE "
               "(1-32 characters)");
  } else if (!key.office_code().empty() && !IsCode(key.office_code())) {
    errors.Add(office_field, "1-32 characters, no spaces");
  }
  return errors.ToStatus();
}

std::vector<std::string> ApiKeys::Tables() { return {kKeysTable, kHashesTable}; }

absl::StatusOr<std::unique_ptr<ApiKeys>> ApiKeys::Open(
    store::Store* store,
    const std::vector<config::v1::ConfiguredApiKey>& configured,
    Clock clock) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(store, std::move(clock)));
  MB_RETURN_IF_ERROR(keys->Load());
  absl::MutexLock lock(&keys->mutex_);
  for (size_t i = 0; i < configured.size(); ++i) {
    const config::v1::ConfiguredApiKey& entry = configured[i];
    const std::string field = absl::StrCat("api_keys[", i, "]");
    const std::string& key_id = entry.key().key_id();
    MB_RETURN_IF_ERROR(ValidateApiKey(absl::StrCat(field, ".key"), entry.key()));
    if (!IsKeyId(key_id)) {
      return InvalidField(absl::StrCat(field, ".key.key_id"),
                          "12 lower-case hex digits");
    }
    const std::string& hex = entry.sha256();
    if (hex.size() != 64 ||
        !std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
      return InvalidField(absl::StrCat(field, ".sha256"), "64 hex digits");
    }
    if (keys->keys_.contains(key_id)) {
      return InvalidField(absl::StrCat(field, ".key.key_id"),
                          "used by another key");
    }
    keys->keys_[key_id] =
        Entry{entry.key(), absl::HexStringToBytes(hex), /*configured=*/true};
  }
  return keys;
}

absl::Status ApiKeys::Load() {
  absl::flat_hash_map<std::string, std::string> hashes;
  absl::Status corrupt;
  MB_RETURN_IF_ERROR(store_->Scan(
      kHashesTable, store::ScanRange(),
      [&](absl::string_view key, absl::string_view value) {
        std::string key_id;
        if (!store::KeyReader(key).String(&key_id) ||
            value.size() != kSecretBytes) {
          corrupt = absl::DataLossError("gateway store: corrupt API key hash");
          return false;
        }
        hashes[key_id] = std::string(value);
        return true;
      }));
  MB_RETURN_IF_ERROR(corrupt);
  absl::MutexLock lock(&mutex_);
  MB_RETURN_IF_ERROR(store_->Scan(
      kKeysTable, store::ScanRange(),
      [&](absl::string_view, absl::string_view value) {
        Entry entry;
        if (!entry.record.ParseFromArray(value.data(), value.size()) ||
            !hashes.contains(entry.record.key_id())) {
          corrupt = absl::DataLossError("gateway store: corrupt API key");
          return false;
        }
        entry.sha256 = hashes[entry.record.key_id()];
        keys_[entry.record.key_id()] = std::move(entry);
        return true;
      }));
  return corrupt;
}

absl::StatusOr<v1::CreateApiKeyResponse> ApiKeys::Create(
    const v1::ApiKey& key) {
  MB_RETURN_IF_ERROR(ValidateApiKey("key", key));
  absl::MutexLock write_lock(&write_mutex_);
  v1::CreateApiKeyResponse response;
  v1::ApiKey& record = *response.mutable_key();
  record = key;
  record.clear_revoked();
  *record.mutable_created() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
  {
    absl::ReaderMutexLock lock(&mutex_);
    // 48 random bits: a clash is rare, but would hand out someone's id.
    do {
      record.set_key_id(crypto::RandomHex(kKeyIdLength / 2));
    } while (keys_.contains(record.key_id()));
  }
  std::string whole = absl::StrCat(kPrefix, record.key_id(), "_",
                                   RandomBase64Url(kSecretBytes));
  Entry entry{record, Sha256Bytes(whole), /*configured=*/false};

  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kKeysTable, KeyIdKey(record.key_id()), record);
  batch.Put(kHashesTable, KeyIdKey(record.key_id()), entry.sha256);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  {
    absl::MutexLock lock(&mutex_);
    keys_[record.key_id()] = std::move(entry);
  }
  std::string roles;
  for (int role : record.roles()) {
    absl::StrAppend(&roles, roles.empty() ? "" : ",", v1::Role_Name(role));
  }
  log::Info("api_key_created", {{"key_id", record.key_id()},
                                {"roles", roles},
                                {"office_code", record.office_code()},
                                {"partner_code", record.partner_code()}});
  response.set_secret(std::move(whole));
  return response;
}

absl::StatusOr<std::vector<v1::ApiKey>> ApiKeys::List() {
  std::vector<v1::ApiKey> list;
  for (auto& [record, sha256] : Digests()) list.push_back(std::move(record));
  return list;
}

std::vector<std::pair<v1::ApiKey, std::string>> ApiKeys::Digests() const {
  std::vector<std::pair<v1::ApiKey, std::string>> list;
  {
    absl::ReaderMutexLock lock(&mutex_);
    list.reserve(keys_.size());
    for (const auto& [key_id, entry] : keys_) {
      list.emplace_back(entry.record, entry.sha256);
    }
  }
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return a.first.key_id() < b.first.key_id();
  });
  return list;
}

absl::StatusOr<v1::ApiKey> ApiKeys::Revoke(absl::string_view key_id) {
  absl::MutexLock write_lock(&write_mutex_);
  v1::ApiKey record;
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto it = keys_.find(key_id);
    if (it == keys_.end()) return NotFoundField("key_id", "no such API key");
    if (it->second.configured) {
      return FailedPreconditionField(
          "key_id",
          "a key from the configuration; remove it there to revoke it");
    }
    record = it->second.record;
  }
  if (record.has_revoked()) return record;
  *record.mutable_revoked() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_()));
  store::WriteBatch batch = store_->NewBatch();
  batch.PutProto(kKeysTable, KeyIdKey(key_id), record);
  MB_RETURN_IF_ERROR(store_->Commit(batch));
  {
    absl::MutexLock lock(&mutex_);
    keys_[key_id].record = record;
  }
  log::Info("api_key_revoked", {{"key_id", key_id}});
  return record;
}

absl::StatusOr<std::string> PresentedKeyId(absl::string_view presented) {
  // mbk_ + key_id + _ + secret; the secret's alphabet has '_' too, so the
  // parts are found by position.
  const size_t secret_at = kPrefix.size() + kKeyIdLength + 1;
  if (presented.size() < secret_at + kMinSecretLength ||
      presented.size() > secret_at + kMaxSecretLength ||
      !absl::StartsWith(presented, kPrefix) ||
      presented[secret_at - 1] != '_' ||
      !IsBase64Url(presented.substr(secret_at))) {
    return NotValid();
  }
  const absl::string_view key_id =
      presented.substr(kPrefix.size(), kKeyIdLength);
  if (!IsKeyId(key_id)) return NotValid();
  return std::string(key_id);
}

absl::StatusOr<Principal> MatchApiKey(absl::string_view presented,
                                      const v1::ApiKey& record,
                                      absl::string_view sha256) {
  if (!ConstantTimeEquals(Sha256Bytes(presented), sha256) ||
      record.has_revoked()) {
    return NotValid();
  }
  Principal principal;
  principal.kind = Principal::Kind::kApiKey;
  principal.key_id = record.key_id();
  for (int role : record.roles()) {
    principal.roles.push_back(static_cast<v1::Role>(role));
  }
  principal.office_code = record.office_code();
  principal.partner_code = record.partner_code();
  return principal;
}

absl::StatusOr<Principal> ApiKeys::Authenticate(absl::string_view presented) {
  MB_ASSIGN_OR_RETURN(std::string key_id, PresentedKeyId(presented));
  absl::ReaderMutexLock lock(&mutex_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return NotValid();
  return MatchApiKey(presented, it->second.record, it->second.sha256);
}

}  // namespace mileagebank::gateway
