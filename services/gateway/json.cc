#include "services/gateway/json.h"

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace mileagebank::gateway {
namespace {

constexpr char kUrlPrefix[] = "type.googleapis.com";

class CachingTypeResolver : public google::protobuf::util::TypeResolver {
 public:
  CachingTypeResolver()
      : resolver_(google::protobuf::util::NewTypeResolverForDescriptorPool(
            kUrlPrefix, google::protobuf::DescriptorPool::generated_pool())) {}

  google::protobuf::util::Status ResolveMessageType(
      const std::string& type_url, google::protobuf::Type* type) override {
    return Resolve(type_url, type, types_,
                   [&](google::protobuf::Type* fresh) {
                     return resolver_->ResolveMessageType(type_url, fresh);
                   });
  }
  google::protobuf::util::Status ResolveEnumType(
      const std::string& type_url, google::protobuf::Enum* type) override {
    return Resolve(type_url, type, enums_, [&](google::protobuf::Enum* fresh) {
      return resolver_->ResolveEnumType(type_url, fresh);
    });
  }

 private:
  template <typename T, typename Build>
  google::protobuf::util::Status Resolve(
      const std::string& type_url, T* out,
      absl::flat_hash_map<std::string, std::unique_ptr<T>>& cache,
      Build build) {
    {
      absl::MutexLock lock(&mutex_);
      auto found = cache.find(type_url);
      if (found != cache.end()) {
        out->CopyFrom(*found->second);
        return google::protobuf::util::Status();
      }
    }
    auto fresh = std::make_unique<T>();
    google::protobuf::util::Status status = build(fresh.get());
    if (!status.ok()) return status;
    out->CopyFrom(*fresh);
    absl::MutexLock lock(&mutex_);
    cache.emplace(type_url, std::move(fresh));
    return status;
  }

  std::unique_ptr<google::protobuf::util::TypeResolver> resolver_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<google::protobuf::Type>>
      types_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, std::unique_ptr<google::protobuf::Enum>>
      enums_ ABSL_GUARDED_BY(mutex_);
};

CachingTypeResolver& Resolver() {
  static auto* resolver = new CachingTypeResolver();
  return *resolver;
}

std::string TypeUrl(const google::protobuf::Message& message) {
  return std::string(kUrlPrefix) + "/" + message.GetDescriptor()->full_name();
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::BinaryToJsonString(
      &Resolver(), TypeUrl(message), message.SerializeAsString(), &json,
      options);
  return json;
}

absl::Status FromJson(absl::string_view json,
                      google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  google::protobuf::util::Status status =
      google::protobuf::util::JsonToBinaryString(
          &Resolver(), TypeUrl(*message), std::string(json), &binary, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(status.message().as_string());
  }
  if (!message->ParseFromString(binary)) {
    return absl::InvalidArgumentError("not a valid message");
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::gateway
