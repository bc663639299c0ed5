// Password hashing with Argon2id (libsodium's crypto_pwhash_str).
//
// Only the encoded hash is ever stored; it carries its own salt and cost, so
// hashes made under an older cost still verify after the cost is raised.
//
// Thread-safe.
#ifndef MILEAGEBANK_LIBS_CRYPTO_PASSWORD_H_
#define MILEAGEBANK_LIBS_CRYPTO_PASSWORD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mileagebank::crypto {

struct PasswordCost {
  // Passes over memory (libsodium's opslimit); at least 1.
  uint64_t operations = 2;
  // Memory in KiB (libsodium's memlimit / 1024); at least 8.
  uint64_t memory_kib = 64 * 1024;
};

// The Argon2id hash of `password` in libsodium's encoded form ("$argon2id$...").
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordCost& cost);

// Whether `password` matches `encoded_hash`. False for a malformed hash.
bool VerifyPassword(absl::string_view encoded_hash, absl::string_view password);

// A keyed-free BLAKE2b-256 digest of `data`, hex-encoded: a fingerprint of a
// request for idempotency checks that never stores what it fingerprints.
std::string Digest(absl::string_view data);

// SHA-256 of a stream of bytes, lower-case hex: files are fingerprinted as
// they are written or read, never held whole.
//   Sha256 sha;
//   sha.Update(chunk); ...
//   std::string hex = sha.HexDigest();
class Sha256 {
 public:
  Sha256();
  void Update(absl::string_view data);
  // Ends the digest; call once.
  std::string HexDigest();

 private:
  alignas(64) unsigned char state_[128];
};

// A random token of `bytes` bytes, hex-encoded (for keys and ids).
std::string RandomHex(size_t bytes);

}  // namespace mileagebank::crypto

#endif  // MILEAGEBANK_LIBS_CRYPTO_PASSWORD_H_
