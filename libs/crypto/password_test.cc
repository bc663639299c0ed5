#include "libs/crypto/password.h"

#include "gtest/gtest.h"

namespace mileagebank::crypto {
namespace {

constexpr PasswordCost kCheap{.operations = 1, .memory_kib = 8};

TEST(PasswordTest, HashIsArgon2idAndVerifies) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse", kCheap);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsE"));
}

TEST(PasswordTest, SamePasswordHashesDifferently) {
  EXPECT_NE(*HashPassword("same-password", kCheap),
            *HashPassword("same-password", kCheap));
}

TEST(PasswordTest, MalformedHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("", ""));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
}

TEST(PasswordTest, RandomHexHasLengthAndVaries) {
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

TEST(DigestTest, StableAndSensitive) {
  EXPECT_EQ(Digest("abc"), Digest("abc"));
  EXPECT_NE(Digest("abc"), Digest("abd"));
  EXPECT_EQ(Digest("").size(), 64u);
}

}  // namespace
}  // namespace mileagebank::crypto

namespace mileagebank::crypto {
namespace {

TEST(Sha256Test, MatchesKnownDigestsWhateverTheChunking) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 chunked;
  chunked.Update("a");
  chunked.Update("bc");
  EXPECT_EQ(chunked.HexDigest(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace mileagebank::crypto
