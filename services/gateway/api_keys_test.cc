#include "services/gateway/api_keys.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"
#include "services/gateway/tokens.h"

namespace mileagebank::gateway {
namespace {

using testing::NamesField;

v1::ApiKey Key(std::vector<v1::Role> roles, std::string office = "",
               std::string partner = "") {
  v1::ApiKey key;
  key.set_label("test");
  for (v1::Role role : roles) key.add_roles(role);
  key.set_office_code(office);
  key.set_partner_code(partner);
  return key;
}

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    // A configured ADMIN key, as an operator would write it.
    configured_key_ = "mbk_0123456789ab_" + RandomBase64Url(32);
    config::v1::ConfiguredApiKey entry;
    *entry.mutable_key() = Key({v1::ADMIN});
    entry.mutable_key()->set_key_id("0123456789ab");
    entry.set_sha256(absl::BytesToHexString(Sha256Bytes(configured_key_)));
    configured_.push_back(entry);
    ASSERT_TRUE(Reopen().ok());
  }

  absl::Status Reopen() {
    keys_.reset();
    store_.reset();
    auto store = store::Store::Open({.path = dir_, .tables = ApiKeys::Tables()});
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    auto keys = ApiKeys::Open(store_.get(), configured_, [this] { return now_; });
    if (!keys.ok()) return keys.status();
    keys_ = std::move(*keys);
    return absl::OkStatus();
  }

  void ExpectNotValid(const std::string& presented) {
    absl::Status status = keys_->Authenticate(presented).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << presented;
    EXPECT_EQ(status.message(), "API key is not valid") << presented;
  }

  std::string dir_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::string configured_key_;
  std::vector<config::v1::ConfiguredApiKey> configured_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApiKeys> keys_;
};

TEST_F(ApiKeysTest, CreatedKeyAuthenticatesWithItsRolesAndOffice) {
  absl::StatusOr<v1::CreateApiKeyResponse> made =
      keys_->Create(Key({v1::AGENT, v1::OFFICE_SUPERVISOR}, "PEK01"));
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string& key_id = made->key().key_id();
  EXPECT_EQ(key_id.size(), 12u);
  EXPECT_EQ(key_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(made->secret().substr(0, 17), "mbk_" + key_id + "_");
  EXPECT_EQ(Base64UrlDecode(made->secret().substr(17))->size(), 32u);
  EXPECT_EQ(made->key().created().seconds(), 1800000000);
  EXPECT_FALSE(made->key().has_revoked());

  absl::StatusOr<Principal> who = keys_->Authenticate(made->secret());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->kind, Principal::Kind::kApiKey);
  EXPECT_EQ(who->key_id, key_id);
  EXPECT_TRUE(who->HasRole(v1::AGENT));
  EXPECT_TRUE(who->HasRole(v1::OFFICE_SUPERVISOR));
  EXPECT_FALSE(who->HasRole(v1::ADMIN));
  EXPECT_EQ(who->office_code, "PEK01");
}

TEST_F(ApiKeysTest, SecretIsNotStored) {
  v1::CreateApiKeyResponse made = *keys_->Create(Key({v1::FINANCE}));
  const std::string secret = made.secret().substr(17);
  for (const std::string& table : ApiKeys::Tables()) {
    ASSERT_TRUE(store_
                    ->Scan(table, store::ScanRange(),
                           [&](absl::string_view, absl::string_view value) {
                             EXPECT_EQ(value.find(secret),
                                       absl::string_view::npos);
                             return true;
                           })
                    .ok());
  }
}

TEST_F(ApiKeysTest, PartnerKeyCarriesPartner) {
  v1::CreateApiKeyResponse made =
      *keys_->Create(Key({v1::PARTNER}, "", "CA"));
  absl::StatusOr<Principal> who = keys_->Authenticate(made.secret());
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->partner_code, "CA");
  EXPECT_TRUE(who->office_code.empty());
}

TEST_F(ApiKeysTest, WrongUnknownMalformedAndRevokedKeysAllSayTheSame) {
  v1::CreateApiKeyResponse made = *keys_->Create(Key({v1::FINANCE}));
  std::string wrong_secret = made.secret();
  wrong_secret.back() = wrong_secret.back() == 'A' ? 'B' : 'A';
  ExpectNotValid(wrong_secret);
  std::string unknown_id = made.secret();
  unknown_id[4] = unknown_id[4] == 'a' ? 'b' : 'a';
  ExpectNotValid(unknown_id);
  ExpectNotValid("");
  ExpectNotValid("mbk_");
  ExpectNotValid(made.secret().substr(0, 40));
  ExpectNotValid("xbk" + made.secret().substr(3));
  ExpectNotValid(made.secret() + "!");
  std::string upper = made.secret();
  for (size_t i = 4; i < 16; ++i) upper[i] = absl::ascii_toupper(upper[i]);
  if (upper != made.secret()) ExpectNotValid(upper);

  ASSERT_TRUE(keys_->Revoke(made.key().key_id()).ok());
  ExpectNotValid(made.secret());
}

TEST_F(ApiKeysTest, RevokeRecordsTimeAndIsIdempotent) {
  v1::CreateApiKeyResponse made = *keys_->Create(Key({v1::FINANCE}));
  now_ += absl::Hours(1);
  absl::StatusOr<v1::ApiKey> revoked = keys_->Revoke(made.key().key_id());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revoked().seconds(), 1800003600);
  now_ += absl::Hours(1);
  EXPECT_EQ(keys_->Revoke(made.key().key_id())->revoked().seconds(),
            1800003600);
}

TEST_F(ApiKeysTest, RevokeUnknownIsNotFoundAndConfiguredIsRefused) {
  EXPECT_EQ(keys_->Revoke("ffffffffffff").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(keys_->Revoke("0123456789ab").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(keys_->Authenticate(configured_key_).ok());
}

TEST_F(ApiKeysTest, ConfiguredKeyAuthenticates) {
  absl::StatusOr<Principal> who = keys_->Authenticate(configured_key_);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->key_id, "0123456789ab");
  EXPECT_TRUE(who->HasRole(v1::ADMIN));
}

TEST_F(ApiKeysTest, KeysAndRevocationsSurviveRestart) {
  v1::CreateApiKeyResponse kept = *keys_->Create(Key({v1::FINANCE}));
  v1::CreateApiKeyResponse revoked = *keys_->Create(Key({v1::ADMIN}));
  ASSERT_TRUE(keys_->Revoke(revoked.key().key_id()).ok());
  ASSERT_TRUE(Reopen().ok());
  EXPECT_TRUE(keys_->Authenticate(kept.secret()).ok());
  ExpectNotValid(revoked.secret());
  EXPECT_TRUE(keys_->Authenticate(configured_key_).ok());
  std::vector<v1::ApiKey> list = *keys_->List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end(),
                             [](const v1::ApiKey& a, const v1::ApiKey& b) {
                               return a.key_id() < b.key_id();
                             }));
  int revoked_count = 0;
  for (const v1::ApiKey& key : list) revoked_count += key.has_revoked();
  EXPECT_EQ(revoked_count, 1);
}

TEST_F(ApiKeysTest, CreateValidatesRolesOfficeAndPartner) {
  auto fails_on = [&](const v1::ApiKey& key, const std::string& field) {
    absl::Status status = keys_->Create(key).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(NamesField(status, field)) << status;
  };
  fails_on(Key({}), "key.roles");
  fails_on(Key({v1::ROLE_UNSPECIFIED}), "key.roles");
  fails_on(Key({v1::FINANCE, v1::FINANCE}), "key.roles");
  fails_on(Key({v1::PARTNER}), "key.partner_code");
  fails_on(Key({v1::PARTNER, v1::FINANCE}, "", "CA"), "key.roles");
  fails_on(Key({v1::PARTNER}, "PEK01", "CA"), "key.office_code");
  fails_on(Key({v1::AGENT}), "key.office_code");
  fails_on(Key({v1::OFFICE_SUPERVISOR}), "key.office_code");
  fails_on(Key({v1::CALL_CENTRE}), "key.office_code");
  fails_on(Key({v1::FINANCE}, "", "CA"), "key.partner_code");
  v1::ApiKey unknown = Key({v1::ADMIN});
  unknown.add_roles(static_cast<v1::Role>(99));
  fails_on(unknown, "key.roles");
  EXPECT_TRUE(keys_->List()->size() == 1);  // Only the configured key.
  EXPECT_TRUE(keys_->Create(Key({v1::CALL_CENTRE}, "CC1")).ok());
  EXPECT_TRUE(keys_->Create(Key({v1::FINANCE, v1::ADMIN})).ok());
}

TEST_F(ApiKeysTest, CreateIgnoresAssignedFields) {
  v1::ApiKey key = Key({v1::FINANCE});
  key.set_key_id("0123456789ab");
  key.mutable_revoked()->set_seconds(1);
  v1::CreateApiKeyResponse made = *keys_->Create(key);
  EXPECT_NE(made.key().key_id(), "0123456789ab");
  EXPECT_FALSE(made.key().has_revoked());
  EXPECT_TRUE(keys_->Authenticate(made.secret()).ok());
  EXPECT_TRUE(keys_->Authenticate(configured_key_).ok());
}

TEST_F(ApiKeysTest, BadConfigurationIsRefusedAtOpen) {
  config::v1::ConfiguredApiKey good = configured_[0];
  configured_.push_back(good);  // Same key_id twice.
  EXPECT_EQ(Reopen().code(), absl::StatusCode::kInvalidArgument);
  configured_ = {good};
  configured_[0].set_sha256("abc");
  EXPECT_EQ(Reopen().code(), absl::StatusCode::kInvalidArgument);
  configured_ = {good};
  configured_[0].mutable_key()->set_key_id("NOT-HEX");
  EXPECT_EQ(Reopen().code(), absl::StatusCode::kInvalidArgument);
  configured_ = {good};
  configured_[0].mutable_key()->add_roles(v1::PARTNER);
  EXPECT_EQ(Reopen().code(), absl::StatusCode::kInvalidArgument);
  configured_ = {good};
  EXPECT_TRUE(Reopen().ok());
}

TEST(ValidateApiKeyTest, PrefixesFieldNames) {
  v1::ApiKey key;
  EXPECT_TRUE(NamesField(ValidateApiKey("api_keys[2].key", key),
                         "api_keys[2].key.roles"));
}

}  // namespace
}  // namespace mileagebank::gateway
