#include "services/gateway/grpc_face.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/support/sync_stream.h"
#include "libs/server/service_host.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::gateway {
namespace {

using grpc::ByteBuffer;
using grpc::internal::RpcMethod;

absl::Time DeadlineOf(const grpc::ServerContext& context) {
  auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

std::string Metadata(const grpc::ServerContext& context,
                     const std::string& key) {
  auto found = context.client_metadata().find(key);
  if (found == context.client_metadata().end()) return "";
  return std::string(found->second.data(), found->second.size());
}

}  // namespace

Credentials CredentialsOf(const grpc::ServerContext& context) {
  return Credentials{
      .authorization = Metadata(context, kAuthorizationHeader),
      .api_key = Metadata(context, kApiKeyHeader),
      .peer = context.peer(),
  };
}

grpc::Status AnswerUnservedMethod(const std::string& method) {
  if (server::ContractMethod(method) != nullptr) {
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat(method,
                     ": not offered through the gateway to any caller (the "
                     "services' own; docs/api.md, \"Who may call what\")"));
  }
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat(method, ": no such operation"));
}

class GrpcFace::ProxyService : public grpc::Service {
 public:
  ProxyService(Dispatcher* dispatcher, int64_t max_upload_bytes,
               const std::vector<const Operation*>& operations)
      : dispatcher_(dispatcher), max_upload_bytes_(max_upload_bytes) {
    for (const Operation* operation : operations) {
      const google::protobuf::MethodDescriptor* method =
          server::ContractMethod(operation->method);
      if (method->client_streaming()) {
        AddMethod(new grpc::internal::RpcServiceMethod(
            operation->method.c_str(), RpcMethod::CLIENT_STREAMING,
            new grpc::internal::ClientStreamingHandler<ProxyService, ByteBuffer,
                                                       ByteBuffer>(
                [operation](ProxyService* self, grpc::ServerContext* context,
                            grpc::ServerReader<ByteBuffer>* reader,
                            ByteBuffer* response) {
                  return self->Upload(*operation, context, reader, response);
                },
                this)));
      } else if (method->server_streaming()) {
        AddMethod(new grpc::internal::RpcServiceMethod(
            operation->method.c_str(), RpcMethod::SERVER_STREAMING,
            new grpc::internal::ServerStreamingHandler<ProxyService, ByteBuffer,
                                                       ByteBuffer>(
                [operation](ProxyService* self, grpc::ServerContext* context,
                            const ByteBuffer* request,
                            grpc::ServerWriter<ByteBuffer>* writer) {
                  return self->Download(*operation, context, *request, writer);
                },
                this)));
      } else {
        AddMethod(new grpc::internal::RpcServiceMethod(
            operation->method.c_str(), RpcMethod::NORMAL_RPC,
            new grpc::internal::RpcMethodHandler<ProxyService, ByteBuffer,
                                                 ByteBuffer>(
                [operation](ProxyService* self, grpc::ServerContext* context,
                            const ByteBuffer* request, ByteBuffer* response) {
                  return self->Unary(*operation, context, *request, response);
                },
                this)));
      }
    }
  }

 private:
  // The principal and the parsed request, or why the call is refused.
  absl::Status Begin(const Operation& operation,
                     const grpc::ServerContext& context,
                     const ByteBuffer* request_bytes, Principal* principal,
                     std::unique_ptr<google::protobuf::Message>* request) {
    absl::StatusOr<Principal> caller =
        dispatcher_->Authenticate(CredentialsOf(context));
    if (!caller.ok()) return caller.status();
    *principal = *std::move(caller);
    const google::protobuf::MethodDescriptor* method =
        server::ContractMethod(operation.method);
    *request = NewMessage(method->input_type());
    if (request_bytes != nullptr &&
        !(*request)->ParseFromString(FromByteBuffer(*request_bytes))) {
      return absl::InvalidArgumentError(
          absl::StrCat("request: not a valid ",
                       method->input_type()->full_name()));
    }
    return absl::OkStatus();
  }

  grpc::Status Unary(const Operation& operation, grpc::ServerContext* context,
                     const ByteBuffer& request_bytes, ByteBuffer* response) {
    Principal principal;
    std::unique_ptr<google::protobuf::Message> request;
    absl::Status status =
        Begin(operation, *context, &request_bytes, &principal, &request);
    if (!status.ok()) return ToGrpcStatus(status);
    std::unique_ptr<google::protobuf::Message> answer =
        NewMessage(server::ContractMethod(operation.method)->output_type());
    status = dispatcher_->Unary(principal, operation, request.get(),
                                answer.get(), DeadlineOf(*context));
    if (!status.ok()) return ToGrpcStatus(status);
    *response = ToByteBuffer(answer->SerializeAsString());
    return grpc::Status::OK;
  }

  grpc::Status Upload(const Operation& operation, grpc::ServerContext* context,
                      grpc::ServerReader<ByteBuffer>* reader,
                      ByteBuffer* response) {
    Principal principal;
    std::unique_ptr<google::protobuf::Message> request;
    absl::Status status =
        Begin(operation, *context, nullptr, &principal, &request);
    if (status.ok()) {
      status = dispatcher_->Admit(principal, operation, request.get(),
                                  DeadlineOf(*context));
    }
    if (status.ok()) status = RelayUpload(operation, principal, *context,
                                          reader, response);
    dispatcher_->Audit(principal, operation, nullptr, status);
    return ToGrpcStatus(status);
  }

  absl::Status RelayUpload(const Operation& operation,
                           const Principal& principal,
                           const grpc::ServerContext& context,
                           grpc::ServerReader<ByteBuffer>* reader,
                           ByteBuffer* response) {
    grpc::ClientContext backend_context;
    // An upload may take as long as its caller allows, not a unary call's
    // deadline.
    dispatcher_->PrepareBackendContext(principal, absl::InfiniteFuture(),
                                       &backend_context);
    backend_context.set_deadline(context.deadline());
    std::unique_ptr<grpc::ClientWriter<ByteBuffer>> writer(
        grpc::internal::ClientWriterFactory<ByteBuffer>::Create(
            dispatcher_->backends().ChannelFor(operation.method).get(),
            RpcMethod(operation.method.c_str(), RpcMethod::CLIENT_STREAMING),
            &backend_context, response));
    int64_t total = 0;
    ByteBuffer chunk;
    while (reader->Read(&chunk)) {
      total += chunk.Length();
      if (total > max_upload_bytes_) {
        backend_context.TryCancel();
        writer->Finish();
        return absl::ResourceExhaustedError(absl::StrCat(
            "upload: larger than the limit of ", max_upload_bytes_, " bytes"));
      }
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    grpc::Status finished = writer->Finish();
    return finished.ok() ? absl::OkStatus()
                         : dispatcher_->FromBackend(operation, finished);
  }

  grpc::Status Download(const Operation& operation,
                        grpc::ServerContext* context,
                        const ByteBuffer& request_bytes,
                        grpc::ServerWriter<ByteBuffer>* writer) {
    Principal principal;
    std::unique_ptr<google::protobuf::Message> request;
    absl::Status status =
        Begin(operation, *context, &request_bytes, &principal, &request);
    if (status.ok()) {
      status = dispatcher_->Admit(principal, operation, request.get(),
                                  DeadlineOf(*context));
    }
    if (!status.ok()) return ToGrpcStatus(status);
    grpc::ClientContext backend_context;
    dispatcher_->PrepareBackendContext(principal, absl::InfiniteFuture(),
                                       &backend_context);
    backend_context.set_deadline(context->deadline());
    std::unique_ptr<grpc::ClientReader<ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<ByteBuffer>::Create(
            dispatcher_->backends().ChannelFor(operation.method).get(),
            RpcMethod(operation.method.c_str(), RpcMethod::SERVER_STREAMING),
            &backend_context, ToByteBuffer(request->SerializeAsString())));
    ByteBuffer chunk;
    while (reader->Read(&chunk)) {
      if (!writer->Write(chunk)) {
        backend_context.TryCancel();
        break;
      }
    }
    grpc::Status finished = reader->Finish();
    return finished.ok()
               ? grpc::Status::OK
               : ToGrpcStatus(dispatcher_->FromBackend(operation, finished));
  }

  Dispatcher* dispatcher_;
  int64_t max_upload_bytes_;
};

GrpcFace::GrpcFace(Dispatcher* dispatcher, int64_t max_upload_bytes) {
  std::map<std::string, std::vector<const Operation*>> by_service;
  for (const Operation& operation : Operations()) {
    by_service[std::string(ServiceOf(operation.method))].push_back(&operation);
  }
  for (const auto& [service, operations] : by_service) {
    services_.push_back(std::make_unique<ProxyService>(
        dispatcher, max_upload_bytes, operations));
  }
}

GrpcFace::~GrpcFace() = default;

std::vector<grpc::Service*> GrpcFace::services() const {
  std::vector<grpc::Service*> services;
  for (const auto& service : services_) services.push_back(service.get());
  return services;
}

}  // namespace mileagebank::gateway
