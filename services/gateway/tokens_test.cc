#include "services/gateway/tokens.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"

namespace mileagebank::gateway {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

TokenSigner MakeSigner(char fill = 'k') {
  return *TokenSigner::Create(std::string(kTokenKeyBytes, fill));
}

AccessClaims Claims() {
  return {"1000000018", "s1", kNow, kNow + absl::Minutes(15)};
}

TEST(TokenSignerTest, VerifiesWhatItSigned) {
  TokenSigner signer = MakeSigner();
  std::string token = *signer.Sign(Claims());
  absl::StatusOr<AccessClaims> claims = signer.Verify(token, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->member_number, "1000000018");
  EXPECT_EQ(claims->session_id, "s1");
  EXPECT_EQ(claims->issued, kNow);
  EXPECT_EQ(claims->expires, kNow + absl::Minutes(15));
}

TEST(TokenSignerTest, RejectsExpiredTokenFromTheSecondItExpires) {
  TokenSigner signer = MakeSigner();
  std::string token = *signer.Sign(Claims());
  EXPECT_TRUE(signer.Verify(token, kNow + absl::Minutes(15) - absl::Seconds(1))
                  .ok());
  absl::Status status =
      signer.Verify(token, kNow + absl::Minutes(15)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "access token has expired");
}

TEST(TokenSignerTest, RejectsTokenOfAnotherKey) {
  std::string token = *MakeSigner('a').Sign(Claims());
  absl::Status status = MakeSigner('b').Verify(token, kNow).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "access token is not valid");
}

TEST(TokenSignerTest, RejectsEveryAlteredCharacter) {
  TokenSigner signer = MakeSigner();
  const std::string token = *signer.Sign(Claims());
  for (size_t i = 0; i < token.size(); ++i) {
    std::string altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    absl::Status status = signer.Verify(altered, kNow).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << i;
    // Never says where the token went wrong.
    EXPECT_EQ(status.message().find(std::to_string(i)), std::string::npos);
  }
}

TEST(TokenSignerTest, RejectsAPayloadSwappedUnderAnotherSignature) {
  TokenSigner signer = MakeSigner();
  std::string mine = *signer.Sign(Claims());
  AccessClaims other = Claims();
  other.member_number = "1000000026";
  std::string theirs = *signer.Sign(other);
  std::string forged =
      theirs.substr(0, theirs.find('.')) + mine.substr(mine.find('.'));
  EXPECT_EQ(signer.Verify(forged, kNow).status().message(),
            "access token is not valid");
}

TEST(TokenSignerTest, RejectsMalformedTokens) {
  TokenSigner signer = MakeSigner();
  std::string token = *signer.Sign(Claims());
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string("abc"),
        token + ".x", token.substr(0, token.find('.')),
        token.substr(0, token.size() - 1), std::string("a!b.cd"),
        token + "="}) {
    absl::Status status = signer.Verify(bad, kNow).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(status.message(), "access token is malformed") << bad;
  }
}

TEST(TokenSignerTest, SignRefusesFieldsThePayloadCannotCarry) {
  TokenSigner signer = MakeSigner();
  EXPECT_FALSE(signer.Sign({"1:2", "s", kNow, kNow}).ok());
  EXPECT_FALSE(signer.Sign({"", "s", kNow, kNow}).ok());
  EXPECT_FALSE(signer.Sign({"1000000018", "", kNow, kNow}).ok());
}

TEST(TokenSignerTest, RefusesShortKey) {
  EXPECT_EQ(TokenSigner::Create(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(TokenSigner::Create(std::string(64, 'k')).ok());
}

TEST(TokenKeyTest, CreatesKeyFileWithMode0600AndReadsItBack) {
  std::string dir = testing::FreshTestDir();
  std::string path = dir + "/gateway/token.key";
  absl::StatusOr<std::string> key = LoadOrCreateTokenKey(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), kTokenKeyBytes);
  struct stat info;
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(static_cast<size_t>(info.st_size), kTokenKeyBytes);
  EXPECT_EQ(*LoadOrCreateTokenKey(path), *key);
  // No temporary file left beside it.
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir + "/gateway")) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(TokenKeyTest, EachNewKeyIsRandom) {
  std::string dir = testing::FreshTestDir();
  EXPECT_NE(*LoadOrCreateTokenKey(dir + "/a.key"),
            *LoadOrCreateTokenKey(dir + "/b.key"));
}

TEST(TokenKeyTest, RefusesShortKeyFile) {
  std::string dir = testing::FreshTestDir();
  std::filesystem::create_directories(dir);
  std::string path = dir + "/token.key";
  std::ofstream(path) << std::string(31, 'x');
  absl::Status status = LoadOrCreateTokenKey(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("31 bytes"), std::string::npos);
}

TEST(TokenKeyTest, ReadsLongerExistingKey) {
  std::string dir = testing::FreshTestDir();
  std::filesystem::create_directories(dir);
  std::string path = dir + "/token.key";
  std::ofstream(path) << std::string(48, 'x');
  EXPECT_EQ(*LoadOrCreateTokenKey(path), std::string(48, 'x'));
}

TEST(Base64UrlTest, RoundTripsEveryLength) {
  for (size_t size = 0; size < 40; ++size) {
    std::string bytes;
    for (size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>(i * 37));
    std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(text), bytes);
  }
}

TEST(Base64UrlTest, RefusesNonCanonicalText) {
  EXPECT_EQ(Base64UrlDecode("AA"), std::string(1, '\0'));
  EXPECT_FALSE(Base64UrlDecode("AB").has_value());  // Padding bits set.
  EXPECT_FALSE(Base64UrlDecode("AA==").has_value());
  EXPECT_FALSE(Base64UrlDecode("A+").has_value());
  EXPECT_FALSE(Base64UrlDecode("A").has_value());
}

TEST(CredentialHelpersTest, RandomAndHashAndCompare) {
  std::string a = RandomBase64Url(32);
  EXPECT_EQ(Base64UrlDecode(a)->size(), 32u);
  EXPECT_NE(a, RandomBase64Url(32));
  EXPECT_EQ(Sha256Bytes("abc").size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(Sha256Bytes("abc")[0]), 0xba);
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace mileagebank::gateway
