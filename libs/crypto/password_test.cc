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
