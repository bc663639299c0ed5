#include "services/settlement/drop_folders.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/password.h"
#include "libs/fileio/fileio.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"

namespace mileagebank::settlement {
namespace {

namespace fs = std::filesystem;
using fileio::ErrnoError;
using fileio::SyncFolder;
using fileio::WriteAll;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1000;
constexpr size_t kCopyChunk = size_t{1} << 20;

// Copies `from` into `to` (created or truncated) and fsyncs it, hashing the
// bytes on the way.
absl::Status CopyAndHash(const std::string& from, const std::string& to,
                         crypto::Sha256* sha, uint64_t* size) {
  int in = ::open(from.c_str(), O_RDONLY);
  if (in < 0) return ErrnoError("open", from);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    ::close(in);
    return ErrnoError("create", to);
  }
  std::string buffer(kCopyChunk, '\0');
  absl::Status status;
  *size = 0;
  while (status.ok()) {
    ssize_t got = ::read(in, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      status = ErrnoError("read", from);
      break;
    }
    if (got == 0) break;
    absl::string_view chunk(buffer.data(), static_cast<size_t>(got));
    sha->Update(chunk);
    *size += chunk.size();
    status = WriteAll(out, chunk, to);
  }
  if (status.ok() && ::fsync(out) != 0) status = ErrnoError("fsync", to);
  ::close(in);
  ::close(out);
  return status;
}

absl::StatusOr<uint64_t> HashFile(const std::string& path, crypto::Sha256* sha) {
  int in = ::open(path.c_str(), O_RDONLY);
  if (in < 0) return ErrnoError("open", path);
  std::string buffer(kCopyChunk, '\0');
  uint64_t size = 0;
  while (true) {
    ssize_t got = ::read(in, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      ::close(in);
      return ErrnoError("read", path);
    }
    if (got == 0) break;
    sha->Update(absl::string_view(buffer.data(), static_cast<size_t>(got)));
    size += static_cast<uint64_t>(got);
  }
  ::close(in);
  return size;
}

std::string OutboxKey(absl::string_view partner, absl::string_view name) {
  return store::KeyBuilder().String(partner).String(name).Build();
}

bool Hidden(absl::string_view name) {
  return absl::StartsWith(name, ".") || absl::EndsWith(name, ".tmp") ||
         absl::EndsWith(name, ".part");
}

}  // namespace

v1::OutboxFileKind OutboxKindOf(absl::string_view file_name) {
  if (absl::EndsWith(file_name, ".ack.csv")) return v1::ACKNOWLEDGEMENT_FILE;
  if (absl::EndsWith(file_name, ".stmt.csv")) return v1::STATEMENT_FILE;
  if (absl::EndsWith(file_name, ".out.csv")) return v1::OUTBOUND_FILE;
  return v1::OUTBOX_FILE_KIND_UNSPECIFIED;
}

DropFolders::DropFolders(store::Store* store, std::string root, Clock clock)
    : store_(store), root_(std::move(root)), clock_(std::move(clock)) {}

std::string DropFolders::InboxPath(absl::string_view partner) const {
  return absl::StrCat(root_, "/", partner, "/inbox");
}
std::string DropFolders::ProcessedPath(absl::string_view partner) const {
  return absl::StrCat(root_, "/", partner, "/processed");
}
std::string DropFolders::OutboxPath(absl::string_view partner) const {
  return absl::StrCat(root_, "/", partner, "/outbox");
}
std::string DropFolders::OutboxFilePath(absl::string_view partner,
                                        absl::string_view file_name) const {
  return absl::StrCat(OutboxPath(partner), "/", file_name);
}

absl::Status DropFolders::Ensure(absl::string_view partner) const {
  std::error_code error;
  for (const std::string& folder :
       {InboxPath(partner), ProcessedPath(partner), OutboxPath(partner)}) {
    fs::create_directories(folder, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("create ", folder, ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::OutboxFile> DropFolders::WriteOutboxFile(
    absl::string_view partner, absl::string_view file_name,
    absl::string_view bytes, store::WriteBatch& batch) {
  MB_RETURN_IF_ERROR(Ensure(partner));
  const std::string temporary =
      absl::StrCat(OutboxPath(partner), "/.", file_name, ".tmp");
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return ErrnoError("create", temporary);
  absl::Status written = WriteAll(fd, bytes, temporary);
  if (written.ok() && ::fsync(fd) != 0) written = ErrnoError("fsync", temporary);
  ::close(fd);
  MB_RETURN_IF_ERROR(written);
  const std::string path = OutboxFilePath(partner, file_name);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return ErrnoError("rename to", path);
  }
  MB_RETURN_IF_ERROR(SyncFolder(OutboxPath(partner)));
  crypto::Sha256 sha;
  sha.Update(bytes);
  v1::OutboxFile file;
  file.set_file_name(std::string(file_name));
  file.set_kind(OutboxKindOf(file_name));
  file.set_size_bytes(static_cast<int64_t>(bytes.size()));
  file.set_sha256(sha.HexDigest());
  *file.mutable_created_at() = validation::ToProtoTimestamp(clock_());
  batch.PutProto(kOutboxTable, OutboxKey(partner, file_name), file);
  return file;
}

absl::StatusOr<v1::OutboxFile> DropFolders::PublishOutboxFile(
    absl::string_view partner, absl::string_view file_name,
    const std::string& path, store::WriteBatch& batch) {
  MB_RETURN_IF_ERROR(Ensure(partner));
  const std::string destination = OutboxFilePath(partner, file_name);
  crypto::Sha256 sha;
  uint64_t size = 0;
  if (::rename(path.c_str(), destination.c_str()) == 0) {
    MB_ASSIGN_OR_RETURN(size, HashFile(destination, &sha));
  } else if (errno == EXDEV) {
    const std::string temporary =
        absl::StrCat(OutboxPath(partner), "/.", file_name, ".tmp");
    MB_RETURN_IF_ERROR(CopyAndHash(path, temporary, &sha, &size));
    if (::rename(temporary.c_str(), destination.c_str()) != 0) {
      return ErrnoError("rename to", destination);
    }
    ::unlink(path.c_str());
  } else {
    return ErrnoError("rename to", destination);
  }
  MB_RETURN_IF_ERROR(SyncFolder(OutboxPath(partner)));
  v1::OutboxFile file;
  file.set_file_name(std::string(file_name));
  file.set_kind(OutboxKindOf(file_name));
  file.set_size_bytes(static_cast<int64_t>(size));
  file.set_sha256(sha.HexDigest());
  *file.mutable_created_at() = validation::ToProtoTimestamp(clock_());
  batch.PutProto(kOutboxTable, OutboxKey(partner, file_name), file);
  return file;
}

absl::StatusOr<v1::OutboxFile> DropFolders::FindOutboxFile(
    absl::string_view partner, absl::string_view file_name) const {
  v1::OutboxFile file;
  MB_ASSIGN_OR_RETURN(bool found, store_->GetProto(kOutboxTable,
                                                   OutboxKey(partner, file_name),
                                                   &file));
  if (!found) {
    return NotFoundField("file_name", absl::StrCat("no file ", file_name,
                                                   " in the outbox of ", partner));
  }
  return file;
}

absl::Status DropFolders::ListOutbox(absl::string_view partner,
                                     v1::OutboxFileKind kind,
                                     const common::v1::PageRequest& page,
                                     std::vector<v1::OutboxFile>* files,
                                     std::string* next_page_token) const {
  const int page_size = page.page_size() == 0 ? kDefaultPage : page.page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    return InvalidField("page.page_size", "must be 0 to 1,000");
  }
  // An outbox holds days of acknowledgements and months of statements:
  // small enough to sort in memory for the documented order.
  std::vector<v1::OutboxFile> all;
  absl::Status scanned = store_->Scan(
      kOutboxTable, store::PrefixRange(store::KeyBuilder().String(partner).Build()),
      [&](absl::string_view, absl::string_view value) {
        v1::OutboxFile file;
        if (file.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
            (kind == v1::OUTBOX_FILE_KIND_UNSPECIFIED || file.kind() == kind)) {
          all.push_back(std::move(file));
        }
        return true;
      });
  MB_RETURN_IF_ERROR(scanned);
  auto order = [](const v1::OutboxFile& a, const v1::OutboxFile& b) {
    const auto at = validation::FromProtoTimestamp(a.created_at());
    const auto bt = validation::FromProtoTimestamp(b.created_at());
    return at != bt ? at < bt : a.file_name() < b.file_name();
  };
  std::sort(all.begin(), all.end(), order);
  size_t start = 0;
  if (!page.page_token().empty()) {
    start = all.size();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].file_name() == page.page_token()) {
        start = i + 1;
        break;
      }
    }
  }
  files->clear();
  next_page_token->clear();
  for (size_t i = start; i < all.size(); ++i) {
    if (files->size() == static_cast<size_t>(page_size)) {
      *next_page_token = files->back().file_name();
      break;
    }
    files->push_back(all[i]);
  }
  return absl::OkStatus();
}

std::vector<InboxFile> DropFolders::ReadyInboxFiles(
    const std::vector<std::string>& partners) {
  std::vector<InboxFile> ready;
  std::map<std::string, std::pair<uint64_t, int64_t>> now_seen;
  for (const std::string& partner : partners) {
    std::error_code error;
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(InboxPath(partner), error)) {
      if (!entry.is_regular_file(error)) continue;
      std::string name = entry.path().filename().string();
      if (!Hidden(name)) names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = absl::StrCat(InboxPath(partner), "/", name);
      struct stat info;
      if (::stat(path.c_str(), &info) != 0) continue;
      std::pair<uint64_t, int64_t> look{
          static_cast<uint64_t>(info.st_size),
          int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec};
      now_seen[path] = look;
      absl::MutexLock lock(&mutex_);
      auto before = seen_.find(path);
      if (before != seen_.end() && before->second == look) {
        ready.push_back({partner, name, path, look.first});
      }
    }
  }
  absl::MutexLock lock(&mutex_);
  seen_ = std::move(now_seen);
  return ready;
}

absl::Status DropFolders::MoveToProcessed(absl::string_view partner,
                                          absl::string_view file_name) const {
  MB_RETURN_IF_ERROR(Ensure(partner));
  const std::string from = absl::StrCat(InboxPath(partner), "/", file_name);
  std::string to = absl::StrCat(ProcessedPath(partner), "/", file_name);
  std::string stem(file_name);
  std::string extension;
  if (absl::EndsWith(stem, ".csv")) {
    stem.resize(stem.size() - 4);
    extension = ".csv";
  }
  for (int n = 1; ::access(to.c_str(), F_OK) == 0; ++n) {
    to = absl::StrCat(ProcessedPath(partner), "/", stem, ".", n, extension);
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();  // Moved before a crash.
    return ErrnoError("rename to", to);
  }
  MB_RETURN_IF_ERROR(SyncFolder(ProcessedPath(partner)));
  return SyncFolder(InboxPath(partner));
}

}  // namespace mileagebank::settlement
