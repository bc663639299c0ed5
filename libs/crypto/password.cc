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

std::string RandomHex(size_t bytes) {
  EnsureSodium();
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

}  // namespace mileagebank::crypto
