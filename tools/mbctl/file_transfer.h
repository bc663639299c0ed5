// Files streamed to and from a service by method name, for messages known
// only by reflection: the streaming counterparts of generic_call.h.
//
//   std::ifstream file("CA_000042.acc.csv", std::ios::binary);
//   absl::Status sent = UploadFile(
//       {.target = "127.0.0.1:7104"},
//       "/mileagebank.settlement.v1.Settlement/UploadAccrualFile",
//       request_with_metadata, "chunk", file, response.get(),
//       absl::Hours(1));
//
//   absl::StatusOr<std::string> written = DownloadFile(
//       {.target = "127.0.0.1:7104"},
//       "/mileagebank.settlement.v1.Settlement/DownloadFile", request, "",
//       first_reply.get(), absl::Hours(1));
//
// Both go through a grpc::GenericStub on the shared channel of libs/client
// along the route (route.h: its address and API key), once, never retried. The wire shapes are those of the settlement contract
// (commands.h, CallKind::kUpload and kDownload): an upload is the request,
// then messages of the same type holding only a bytes field; a download's
// first reply has a `file` describing it (file_name, size_bytes, sha256)
// and the replies after it the bytes in `chunk`.
//
// Thread-safe.
#ifndef MILEAGEBANK_TOOLS_MBCTL_FILE_TRANSFER_H_
#define MILEAGEBANK_TOOLS_MBCTL_FILE_TRANSFER_H_

#include <istream>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "tools/mbctl/route.h"

namespace mileagebank::mbctl {

// The most bytes one upload message carries.
inline constexpr size_t kChunkBytes = size_t{1} << 20;

// Client streaming: sends `request`, then the bytes of `content` (read to
// its end) in messages of the request's type with only `chunk_field` set, at
// most kChunkBytes each; then reads the one reply into `response`. The
// status is the service's; INVALID_ARGUMENT when `content` cannot be read
// (the stream is then cancelled, so the service stores nothing).
absl::Status UploadFile(const Route& route, const std::string& method,
                        const google::protobuf::Message& request,
                        absl::string_view chunk_field, std::istream& content,
                        google::protobuf::Message* response,
                        absl::Duration timeout);

// Server streaming: sends `request`, reads the first reply into `first` and
// writes the bytes of the replies after it to a new file at `out_path`, or,
// when it is empty, at the base name of the first reply's file.file_name in
// the current folder. The bytes go to a temporary file beside it that is
// renamed only when their size and SHA-256 are the ones the first reply
// announced (DATA_LOSS otherwise, and nothing is left behind). Returns the
// path written.
absl::StatusOr<std::string> DownloadFile(
    const Route& route, const std::string& method,
    const google::protobuf::Message& request, const std::string& out_path,
    google::protobuf::Message* first, absl::Duration timeout);

// Server streaming of a CSV export (reporting's ExportReportCsv): sends
// `request`, reads the first reply, which must have a `header`, into
// `first`, and writes the `chunk` bytes of the replies after it to `sink`
// in order. The status is the service's; INTERNAL when a reply is not of
// `first`'s type or the first has no header.
absl::Status ExportCsv(const Route& route, const std::string& method,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* first, std::ostream& sink,
                       absl::Duration timeout);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_FILE_TRANSFER_H_
