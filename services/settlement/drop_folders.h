// The partners' drop folders (partner-files.md section 5):
//   <root>/<PARTNER>/inbox/      files the partner puts for us
//   <root>/<PARTNER>/processed/  those files once acknowledged
//   <root>/<PARTNER>/outbox/     what we write for the partner
//                                (acknowledgements, statements, outbound files)
//
// A file appears in an outbox whole or not at all: it is written under a
// hidden temporary name, fsynced and renamed in. Every outbox file is also
// described in the store (table kOutboxTable), in the caller's batch, so that
// listing and downloading never read a half-written file and the SHA-256 is
// known without reading the file again.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_SETTLEMENT_DROP_FOLDERS_H_
#define MILEAGEBANK_SERVICES_SETTLEMENT_DROP_FOLDERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "libs/store/store.h"
#include "mileagebank/common/v1/common.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"

namespace mileagebank::settlement {

// Table: String(partner) String(file_name) -> v1.OutboxFile.
inline constexpr char kOutboxTable[] = "outbox";

// A file in an inbox that has stopped changing and may be picked up.
struct InboxFile {
  std::string partner_code;
  std::string file_name;
  std::string path;
  uint64_t size_bytes = 0;
};

// The kind of an outbox file by its name's ending; UNSPECIFIED for others.
v1::OutboxFileKind OutboxKindOf(absl::string_view file_name);

class DropFolders {
 public:
  using Clock = std::function<absl::Time()>;

  // `store` outlives the folders and was opened with kOutboxTable.
  DropFolders(store::Store* store, std::string root, Clock clock = absl::Now);

  const std::string& root() const { return root_; }
  std::string InboxPath(absl::string_view partner) const;
  std::string ProcessedPath(absl::string_view partner) const;
  std::string OutboxPath(absl::string_view partner) const;

  // Creates the partner's three folders when missing.
  absl::Status Ensure(absl::string_view partner) const;

  // Writes `bytes` into the partner's outbox as `file_name`, durably (file
  // and folder fsynced), replacing a file of that name, and describes it in
  // `batch`; the caller commits the batch with the change the file belongs
  // to. A crash before that commit leaves a file the caller writes again.
  absl::StatusOr<v1::OutboxFile> WriteOutboxFile(absl::string_view partner,
                                                 absl::string_view file_name,
                                                 absl::string_view bytes,
                                                 store::WriteBatch& batch);
  // As WriteOutboxFile for a file already complete at `path` (on any file
  // system), which is moved (or copied) in; it is read once for its
  // SHA-256.
  absl::StatusOr<v1::OutboxFile> PublishOutboxFile(absl::string_view partner,
                                                   absl::string_view file_name,
                                                   const std::string& path,
                                                   store::WriteBatch& batch);

  // The outbox file as described in the store (durable writes only);
  // NOT_FOUND naming file_name otherwise.
  absl::StatusOr<v1::OutboxFile> FindOutboxFile(absl::string_view partner,
                                                absl::string_view file_name) const;
  // The partner's outbox files, oldest first (then by name); `kind`
  // UNSPECIFIED means all. Pages as common.v1.PageRequest says.
  absl::Status ListOutbox(absl::string_view partner, v1::OutboxFileKind kind,
                          const common::v1::PageRequest& page,
                          std::vector<v1::OutboxFile>* files,
                          std::string* next_page_token) const;
  // The full path of an outbox file.
  std::string OutboxFilePath(absl::string_view partner,
                             absl::string_view file_name) const;

  // Files in the inboxes of the given partners that have kept the same size
  // and modification time since the previous call (so a file still being
  // written is not taken), in name order per partner. Hidden files (".x")
  // and names ending ".tmp" or ".part" are left alone.
  std::vector<InboxFile> ReadyInboxFiles(const std::vector<std::string>& partners);

  // Moves an inbox file into processed/ (a file of the same name there is
  // kept: the newcomer gets a ".<n>" suffix before ".csv"), durably.
  absl::Status MoveToProcessed(absl::string_view partner,
                               absl::string_view file_name) const;

 private:
  store::Store* store_;
  const std::string root_;
  const Clock clock_;
  absl::Mutex mutex_;
  // Size and modification time seen at the previous look, by path.
  std::map<std::string, std::pair<uint64_t, int64_t>> seen_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace mileagebank::settlement

#endif  // MILEAGEBANK_SERVICES_SETTLEMENT_DROP_FOLDERS_H_
