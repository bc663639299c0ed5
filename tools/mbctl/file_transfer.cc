#include "tools/mbctl/file_transfer.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "libs/client/client.h"
#include "libs/crypto/password.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::mbctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// One streaming call over grpc::GenericStub, whatever its kind (on the wire
// a client- or server-streaming call is a bidirectional one that sends or
// receives a single message). One operation is in flight at a time, so each
// waits for its own completion.
class GenericStream {
 public:
  GenericStream(const Route& route, const std::string& method,
                absl::Duration timeout)
      : stub_(client::ChannelFor(route.target)) {
    PrepareContext(route, timeout, &context_);
    call_ = stub_.PrepareCall(&context_, method, &queue_);
    if (call_ != nullptr) {
      call_->StartCall(this);
      open_ = Await();
    }
  }

  GenericStream(const GenericStream&) = delete;
  GenericStream& operator=(const GenericStream&) = delete;

  ~GenericStream() {
    if (call_ != nullptr && !finished_) {
      // Abandoned midway (an unreadable file, a bad reply): the service
      // must see a stream cut short, not a complete one.
      context_.TryCancel();
      Finish().IgnoreError();
    }
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  // False when the stream is broken; Finish() then tells why.
  bool Write(const Message& message) {
    std::string bytes;
    if (!open_ || !message.SerializeToString(&bytes)) return false;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call_->Write(buffer, this);
    return open_ = Await();
  }

  bool WritesDone() {
    if (!open_) return false;
    call_->WritesDone(this);
    return open_ = Await();
  }

  // The next reply; false at the end of the stream, or when it is broken or
  // the reply does not parse as `message`'s type (`*malformed` set).
  bool Read(Message* message, bool* malformed) {
    *malformed = false;
    if (call_ == nullptr) return false;
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, this);
    if (!Await()) return false;
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (buffer.Dump(&slices).ok()) {
      for (const grpc::Slice& part : slices) {
        bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
      }
      if (message->ParseFromString(bytes)) return true;
    }
    *malformed = true;
    return false;
  }

  // The call's status, with the service's error details. Call once.
  absl::Status Finish() {
    finished_ = true;
    if (call_ == nullptr) {
      return absl::InternalError("cannot start the call");
    }
    grpc::Status status;
    call_->Finish(&status, this);
    if (!Await()) return absl::InternalError("the call did not complete");
    return FromGrpcStatus(status);
  }

 private:
  bool Await() {
    void* tag = nullptr;
    bool ok = false;
    return queue_.Next(&tag, &ok) && ok;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool open_ = false;
  bool finished_ = false;
};

// The status of a stream that broke or ended early: the service's error, or
// INTERNAL when it claims success anyway.
absl::Status Broken(GenericStream& stream, absl::string_view what) {
  absl::Status status = stream.Finish();
  if (!status.ok()) return status;
  return absl::InternalError(what);
}

const FieldDescriptor* FieldNamed(const Message& message,
                                  absl::string_view name) {
  return message.GetDescriptor()->FindFieldByName(std::string(name));
}

// The last part of `path` after its last slash.
std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Folder(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::Status UploadFile(const Route& route, const std::string& method,
                        const google::protobuf::Message& request,
                        absl::string_view chunk_field, std::istream& content,
                        google::protobuf::Message* response,
                        absl::Duration timeout) {
  const FieldDescriptor* chunk_descriptor = FieldNamed(request, chunk_field);
  if (chunk_descriptor == nullptr ||
      chunk_descriptor->type() != FieldDescriptor::TYPE_BYTES) {
    return absl::InternalError(absl::StrCat(
        request.GetTypeName(), " has no bytes field ", chunk_field));
  }
  GenericStream stream(route, method, timeout);
  if (!stream.Write(request)) {
    return Broken(stream, "the service took no request");
  }
  std::unique_ptr<Message> chunk(request.New());
  std::string buffer(kChunkBytes, '\0');
  while (content) {
    content.read(&buffer[0], static_cast<std::streamsize>(buffer.size()));
    const size_t got = static_cast<size_t>(content.gcount());
    if (content.bad()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the file cannot be read: ", std::strerror(errno)));
    }
    if (got == 0) break;
    chunk->GetReflection()->SetString(chunk.get(), chunk_descriptor,
                                      buffer.substr(0, got));
    // A service that refuses midway (a file too large) ends the stream.
    if (!stream.Write(*chunk)) return Broken(stream, "the upload broke off");
  }
  if (!stream.WritesDone()) return Broken(stream, "the upload broke off");
  bool malformed = false;
  if (!stream.Read(response, &malformed)) {
    absl::Status status = stream.Finish();
    if (!status.ok()) return status;
    return absl::InternalError(
        malformed ? absl::StrCat("the reply is not a ", response->GetTypeName())
                  : "the service sent no reply");
  }
  return stream.Finish();
}

absl::StatusOr<std::string> DownloadFile(
    const Route& route, const std::string& method,
    const google::protobuf::Message& request, const std::string& out_path,
    google::protobuf::Message* first, absl::Duration timeout) {
  const FieldDescriptor* file_field = FieldNamed(*first, "file");
  const FieldDescriptor* chunk_field = FieldNamed(*first, "chunk");
  if (file_field == nullptr || file_field->message_type() == nullptr ||
      chunk_field == nullptr ||
      chunk_field->type() != FieldDescriptor::TYPE_BYTES) {
    return absl::InternalError(absl::StrCat(
        first->GetTypeName(), " is not a file download (file, then chunk)"));
  }
  GenericStream stream(route, method, timeout);
  if (!stream.Write(request) || !stream.WritesDone()) {
    return Broken(stream, "the service took no request");
  }
  bool malformed = false;
  if (!stream.Read(first, &malformed) ||
      !first->GetReflection()->HasField(*first, file_field)) {
    absl::Status status = stream.Finish();
    if (!status.ok()) return status;
    return absl::InternalError("the first reply does not describe the file");
  }
  const Message& file = first->GetReflection()->GetMessage(*first, file_field);
  const auto text = [&](const char* name) {
    const FieldDescriptor* field = FieldNamed(file, name);
    return field == nullptr ? std::string()
                            : file.GetReflection()->GetString(file, field);
  };
  const FieldDescriptor* size_field = FieldNamed(file, "size_bytes");
  const int64_t announced_size =
      size_field == nullptr ? -1
                            : file.GetReflection()->GetInt64(file, size_field);
  const std::string announced_sha256 = text("sha256");

  // The service's name is only a suggestion: it never picks the folder.
  std::string path = out_path;
  if (path.empty()) {
    path = BaseName(text("file_name"));
    if (path.empty() || path == "." || path == "..") {
      return absl::InternalError(absl::StrCat("the service named the file \"",
                                              text("file_name"),
                                              "\"; give --out=PATH"));
    }
  }
  std::string temporary =
      absl::StrCat(Folder(path), "/.", BaseName(path), ".mbctl-XXXXXX");
  const int descriptor = mkstemp(&temporary[0]);
  if (descriptor < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot write in ", Folder(path), ": ", std::strerror(errno)));
  }
  close(descriptor);
  // mkstemp makes it private; the file kept is made as any other would be.
  const mode_t mask = umask(0);
  umask(mask);
  chmod(temporary.c_str(), 0666 & ~mask);
  const auto fail = [&](absl::Status status) {
    std::remove(temporary.c_str());
    return status;
  };

  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  crypto::Sha256 sha256;
  int64_t size = 0;
  std::unique_ptr<Message> reply(first->New());
  while (stream.Read(reply.get(), &malformed)) {
    const std::string& chunk = reply->GetReflection()->GetStringReference(
        *reply, chunk_field, nullptr);
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    sha256.Update(chunk);
    size += static_cast<int64_t>(chunk.size());
  }
  absl::Status status = stream.Finish();
  if (malformed && status.ok()) {
    status = absl::InternalError(
        absl::StrCat("a reply is not a ", first->GetTypeName()));
  }
  if (!status.ok()) return fail(status);
  out.close();
  if (!out) {
    return fail(absl::InternalError(
        absl::StrCat("cannot write ", temporary, ": ", std::strerror(errno))));
  }
  const std::string received_sha256 = sha256.HexDigest();
  if (size != announced_size || received_sha256 != announced_sha256) {
    return fail(absl::DataLossError(absl::StrCat(
        "received ", size, " bytes with SHA-256 ", received_sha256,
        "; the service announced ", announced_size, " bytes with SHA-256 ",
        announced_sha256, ". Nothing was written.")));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return fail(absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno))));
  }
  return path;
}

absl::Status ExportCsv(const Route& route, const std::string& method,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* first, std::ostream& sink,
                       absl::Duration timeout) {
  const FieldDescriptor* header_field = FieldNamed(*first, "header");
  const FieldDescriptor* chunk_field = FieldNamed(*first, "chunk");
  if (header_field == nullptr || header_field->message_type() == nullptr ||
      chunk_field == nullptr ||
      chunk_field->type() != FieldDescriptor::TYPE_BYTES) {
    return absl::InternalError(absl::StrCat(
        first->GetTypeName(), " is not a CSV export (header, then chunk)"));
  }
  GenericStream stream(route, method, timeout);
  if (!stream.Write(request) || !stream.WritesDone()) {
    return Broken(stream, "the service took no request");
  }
  bool malformed = false;
  if (!stream.Read(first, &malformed) ||
      !first->GetReflection()->HasField(*first, header_field)) {
    absl::Status status = stream.Finish();
    if (!status.ok()) return status;
    return absl::InternalError("the first reply does not describe the CSV");
  }
  std::unique_ptr<Message> reply(first->New());
  while (stream.Read(reply.get(), &malformed)) {
    const std::string& chunk = reply->GetReflection()->GetStringReference(
        *reply, chunk_field, nullptr);
    sink.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  }
  absl::Status status = stream.Finish();
  if (malformed && status.ok()) {
    status = absl::InternalError(
        absl::StrCat("a reply is not a ", first->GetTypeName()));
  }
  return status;
}

}  // namespace mileagebank::mbctl
