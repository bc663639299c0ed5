#include "tools/mbctl/generic_call.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "libs/client/client.h"
#include "libs/status/grpc_status.h"

namespace mileagebank::mbctl {

absl::Status CallUnary(const Route& route, const std::string& method,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* response,
                       absl::Duration timeout) {
  std::string serialized;
  if (!request.SerializeToString(&serialized)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request cannot be serialized: ",
                     request.InitializationErrorString()));
  }
  grpc::Slice slice(serialized);
  grpc::ByteBuffer request_buffer(&slice, 1);

  grpc::GenericStub stub(client::ChannelFor(route.target));
  grpc::ClientContext context;
  PrepareContext(route, timeout, &context);
  grpc::CompletionQueue queue;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, request_buffer, &queue);
  if (call == nullptr) {
    return absl::InternalError(absl::StrCat("cannot start a call to ", method));
  }
  call->StartCall();
  grpc::ByteBuffer response_buffer;
  grpc::Status status;
  int tag = 0;
  call->Finish(&response_buffer, &status, &tag);
  void* got_tag = nullptr;
  bool ok = false;
  const bool completed = queue.Next(&got_tag, &ok) && got_tag == &tag && ok;
  queue.Shutdown();
  while (queue.Next(&got_tag, &ok)) {
  }
  if (!completed) return absl::InternalError("the call did not complete");
  if (!status.ok()) return FromGrpcStatus(status);

  std::vector<grpc::Slice> slices;
  if (!response_buffer.Dump(&slices).ok()) {
    return absl::InternalError("the reply cannot be read");
  }
  std::string bytes;
  for (const grpc::Slice& part : slices) {
    bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
  }
  if (!response->ParseFromString(bytes)) {
    return absl::InternalError(
        absl::StrCat("the reply is not a ", response->GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::mbctl
