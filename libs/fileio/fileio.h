// Durable file writing: what a service needs so that a file it reports as
// written survives a crash (the bytes fsynced, and the folder that names
// them).
#ifndef MILEAGEBANK_LIBS_FILEIO_FILEIO_H_
#define MILEAGEBANK_LIBS_FILEIO_FILEIO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mileagebank::fileio {

// INTERNAL "<what> <path>: <strerror(errno)>".
absl::Status ErrnoError(absl::string_view what, const std::string& path);

// Fsyncs a folder, so that names created, renamed or removed in it last.
absl::Status SyncFolder(const std::string& folder);

// Writes all of `bytes` to `fd`, retrying short and interrupted writes.
absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path);

}  // namespace mileagebank::fileio

#endif  // MILEAGEBANK_LIBS_FILEIO_FILEIO_H_
