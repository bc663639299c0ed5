#include "libs/crypto/password.h"

#include <sodium.h>

#include <cstdlib>
#include <vector>

namespace mileagebank::crypto {
namespace {

void EnsureSodium() {
  // sodium_init is idempotent and thread-safe; it fails only when the
  // system has no randomness source, which no service can run without.
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordCost& cost) {
  EnsureSodium();
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(encoded, password.data(), password.size(),
                            cost.operations, cost.memory_kib * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(
        "password hashing: not enough memory for the configured cost");
  }
  return std::string(encoded);
}

bool VerifyPassword(absl::string_view encoded_hash,
                    absl::string_view password) {
  EnsureSodium();
  std::string hash(encoded_hash);  // libsodium wants it NUL-terminated.
  return crypto_pwhash_str_verify(hash.c_str(), password.data(),
                                  password.size()) == 0;
}

namespace {

std::string Hex(const unsigned char* raw, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw, size);
  hex.pop_back();
  return hex;
}

}  // namespace

std::string Digest(absl::string_view data) {
  EnsureSodium();
  unsigned char digest[crypto_generichash_BYTES];
  crypto_generichash(digest, sizeof(digest),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return Hex(digest, sizeof(digest));
}

static_assert(sizeof(crypto_hash_sha256_state) <= 128,
              "Sha256::state_ holds libsodium's state");

Sha256::Sha256() {
  EnsureSodium();
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}

void Sha256::Update(absl::string_view data) {
  crypto_hash_sha256_update(
      reinterpret_cast<crypto_hash_sha256_state*>(state_),
      reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_),
                           digest);
  return Hex(digest, sizeof(digest));
}

std::string RandomHex(size_t bytes) {
  EnsureSodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  return Hex(raw.data(), raw.size());
}

}  // namespace mileagebank::crypto
