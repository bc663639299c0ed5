#include "services/gateway/tokens.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/crypto/password.h"
#include "libs/fileio/fileio.h"
#include "libs/log/log.h"
#include "libs/status/status_macros.h"

namespace mileagebank::gateway {
namespace {

constexpr absl::string_view kPayloadVersion = "v1";

void EnsureSodium() {
  // Idempotent and thread-safe; fails only without a randomness source.
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

const unsigned char* Bytes(absl::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

absl::Status Malformed() {
  return absl::UnauthenticatedError("access token is malformed");
}

// Reads the whole key file; NOT_FOUND when it does not exist.
absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(path);
    return fileio::ErrnoError("open", path);
  }
  struct stat info;
  if (::fstat(fd, &info) == 0 && (info.st_mode & 077) != 0) {
    log::Warning("token_key_file_readable_by_others", {{"path", path}});
  }
  std::string key;
  char buffer[256];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status error = fileio::ErrnoError("read", path);
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    key.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (key.size() < kTokenKeyBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "token key file ", path, " holds ", key.size(),
        " bytes; at least ", kTokenKeyBytes,
        " are needed (remove it to have a new key made)"));
  }
  return key;
}

// Writes a new random key to `path`, which did not exist a moment ago.
absl::StatusOr<std::string> CreateKeyFile(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return absl::InternalError(absl::StrCat("create folder ", folder.string(),
                                            ": ", error.message()));
  }
  std::string key(kTokenKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());

  // Written whole under a temporary name, then linked into place: a crash
  // never leaves a short key behind, and link (unlike rename) refuses to
  // replace a key another process made meanwhile.
  const std::string temporary =
      absl::StrCat(path, ".", crypto::RandomHex(8), ".tmp");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0600);
  if (fd < 0) return fileio::ErrnoError("create", temporary);
  absl::Status written = fileio::WriteAll(fd, key, temporary);
  if (written.ok() && ::fsync(fd) != 0) {
    written = fileio::ErrnoError("fsync", temporary);
  }
  ::close(fd);
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return written;
  }
  const bool linked = ::link(temporary.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temporary.c_str());
  if (!linked) {
    if (link_errno == EEXIST) return ReadKeyFile(path);
    errno = link_errno;
    return fileio::ErrnoError("link", path);
  }
  MB_RETURN_IF_ERROR(fileio::SyncFolder(folder.string()));
  log::Info("token_key_created", {{"path", path}});
  return key;
}

}  // namespace

absl::StatusOr<TokenSigner> TokenSigner::Create(std::string key) {
  if (key.size() < kTokenKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token key: at least ", kTokenKeyBytes, " bytes, got ", key.size()));
  }
  EnsureSodium();
  return TokenSigner(std::move(key));
}

std::string TokenSigner::Mac(absl::string_view payload) const {
  // The init/update/final form takes keys of any length; the one-shot
  // crypto_auth_hmacsha256 insists on exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, Bytes(key_), key_.size());
  crypto_auth_hmacsha256_update(&state, Bytes(payload), payload.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state,
                               reinterpret_cast<unsigned char*>(mac.data()));
  sodium_memzero(&state, sizeof(state));
  return mac;
}

absl::StatusOr<std::string> TokenSigner::Sign(
    const AccessClaims& claims) const {
  for (const auto& [field, value] :
       {std::pair<absl::string_view, absl::string_view>{"member_number",
                                                        claims.member_number},
        {"session_id", claims.session_id}}) {
    if (value.empty() || value.find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("access token ", field, ": non-empty, without ':'"));
    }
  }
  const std::string payload = absl::StrCat(
      kPayloadVersion, ":", claims.member_number, ":", claims.session_id, ":",
      absl::ToUnixSeconds(claims.issued), ":",
      absl::ToUnixSeconds(claims.expires));
  return absl::StrCat(Base64UrlEncode(payload), ".",
                      Base64UrlEncode(Mac(payload)));
}

absl::StatusOr<AccessClaims> TokenSigner::Verify(absl::string_view token,
                                                 absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 2) return Malformed();
  std::optional<std::string> payload = Base64UrlDecode(parts[0]);
  std::optional<std::string> mac = Base64UrlDecode(parts[1]);
  if (!payload || !mac || mac->size() != crypto_auth_hmacsha256_BYTES) {
    return Malformed();
  }
  if (crypto_verify_32(Bytes(*mac), Bytes(Mac(*payload))) != 0) {
    return absl::UnauthenticatedError("access token is not valid");
  }
  // Signed by this key, so the payload is one Sign wrote; a payload that
  // does not parse means the key was shared with something else.
  std::vector<std::string> fields = absl::StrSplit(*payload, ':');
  int64_t issued = 0;
  int64_t expires = 0;
  if (fields.size() != 5 || fields[0] != kPayloadVersion ||
      !absl::SimpleAtoi(fields[3], &issued) ||
      !absl::SimpleAtoi(fields[4], &expires)) {
    return Malformed();
  }
  AccessClaims claims{std::move(fields[1]), std::move(fields[2]),
                      absl::FromUnixSeconds(issued),
                      absl::FromUnixSeconds(expires)};
  if (now >= claims.expires) {
    return absl::UnauthenticatedError("access token has expired");
  }
  return claims;
}

absl::StatusOr<std::string> LoadOrCreateTokenKey(const std::string& path) {
  EnsureSodium();
  absl::StatusOr<std::string> key = ReadKeyFile(path);
  if (absl::IsNotFound(key.status())) return CreateKeyFile(path);
  return key;
}

std::string Base64UrlEncode(absl::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(text.data(), text.size(), Bytes(bytes), bytes.size(),
                    kVariant);
  text.pop_back();  // The terminating NUL.
  return text;
}

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  EnsureSodium();
  std::string bytes(text.size() * 3 / 4 + 1, '\0');
  size_t size = 0;
  const char* end = nullptr;
  // libsodium refuses non-zero padding bits, so each byte string has exactly
  // one accepted text: a token cannot be altered into another that verifies.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()),
                        bytes.size(), text.data(), text.size(), nullptr, &size,
                        &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  bytes.resize(size);
  return bytes;
}

std::string RandomBase64Url(size_t bytes) {
  EnsureSodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

std::string Sha256Bytes(absl::string_view data) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     Bytes(data), data.size());
  return digest;
}

std::string GatewayStateSecret(absl::string_view token_key) {
  return absl::BytesToHexString(
      Sha256Bytes(absl::StrCat("mileagebank gateway state\n", token_key)));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mileagebank::gateway
