#include "services/gateway/json.h"

#include <charconv>
#include <cmath>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
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

using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

// The proto3 JSON mapping, written straight from reflection: protobuf's own
// printer converts through google.protobuf.Type descriptions and an object
// tree, which cost more than the rest of a dashboard together. Well-known
// types other than Timestamp go to protobuf's printer.
class JsonWriter {
 public:
  void Message(const google::protobuf::Message& message, std::string* out) {
    const google::protobuf::Descriptor* type = message.GetDescriptor();
    if (type->file()->name().rfind("google/protobuf/", 0) == 0) {
      WellKnown(message, out);
      return;
    }
    const Reflection* reflection = message.GetReflection();
    out->push_back('{');
    bool first = true;
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      const bool present = field->is_repeated() ||
                           reflection->HasField(message, field);
      // Every field is printed, zeros included, except an unset message or
      // a field with presence (oneof members, optional) that is not set.
      if (!present && (field->has_presence() ||
                       field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)) {
        continue;
      }
      if (!first) out->push_back(',');
      first = false;
      String(field->json_name(), out);
      out->push_back(':');
      if (field->is_map()) {
        Map(message, field, out);
      } else if (field->is_repeated()) {
        out->push_back('[');
        for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
          if (j > 0) out->push_back(',');
          Value(message, field, j, out);
        }
        out->push_back(']');
      } else {
        Value(message, field, -1, out);
      }
    }
    out->push_back('}');
  }

 private:
  // One value of `field`; `index` -1 for a singular field.
  void Value(const google::protobuf::Message& message,
             const FieldDescriptor* field, int index, std::string* out) {
    const Reflection* r = message.GetReflection();
    const bool one = index < 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(out, one ? r->GetInt32(message, field)
                                 : r->GetRepeatedInt32(message, field, index));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(out, one ? r->GetUInt32(message, field)
                                 : r->GetRepeatedUInt32(message, field, index));
        break;
      // 64-bit integers are strings in the JSON mapping.
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(out, "\"",
                        one ? r->GetInt64(message, field)
                            : r->GetRepeatedInt64(message, field, index),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(out, "\"",
                        one ? r->GetUInt64(message, field)
                            : r->GetRepeatedUInt64(message, field, index),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Double(one ? r->GetDouble(message, field)
                   : r->GetRepeatedDouble(message, field, index),
               out);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Double(one ? r->GetFloat(message, field)
                   : r->GetRepeatedFloat(message, field, index),
               out);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out->append((one ? r->GetBool(message, field)
                         : r->GetRepeatedBool(message, field, index))
                        ? "true"
                        : "false");
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number = one ? r->GetEnumValue(message, field)
                               : r->GetRepeatedEnumValue(message, field, index);
        const auto* value = field->enum_type()->FindValueByNumber(number);
        if (value == nullptr) {
          absl::StrAppend(out, number);
        } else {
          String(value->name(), out);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& text =
            one ? r->GetStringReference(message, field, &scratch)
                : r->GetRepeatedStringReference(message, field, index, &scratch);
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          std::string encoded;
          absl::Base64Escape(text, &encoded);
          String(encoded, out);
        } else {
          String(text, out);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Message(one ? r->GetMessage(message, field)
                    : r->GetRepeatedMessage(message, field, index),
                out);
        break;
    }
  }

  void Map(const google::protobuf::Message& message,
           const FieldDescriptor* field, std::string* out) {
    const Reflection* r = message.GetReflection();
    const FieldDescriptor* key = field->message_type()->map_key();
    const FieldDescriptor* value = field->message_type()->map_value();
    out->push_back('{');
    for (int j = 0; j < r->FieldSize(message, field); ++j) {
      if (j > 0) out->push_back(',');
      const google::protobuf::Message& entry =
          r->GetRepeatedMessage(message, field, j);
      // Keys are strings in JSON whatever their type.
      std::string key_text;
      Value(entry, key, -1, &key_text);
      if (key_text.front() != '"') key_text = absl::StrCat("\"", key_text, "\"");
      out->append(key_text);
      out->push_back(':');
      Value(entry, value, -1, out);
    }
    out->push_back('}');
  }

  static void Double(double value, std::string* out) {
    if (std::isnan(value)) {
      out->append("\"NaN\"");
    } else if (std::isinf(value)) {
      out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
      char buffer[32];
      auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
      out->append(buffer, end);
    }
  }

  static void String(absl::string_view text, std::string* out) {
    out->push_back('"');
    for (unsigned char c : text) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20) {
            absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
    }
    out->push_back('"');
  }

  static void WellKnown(const google::protobuf::Message& message,
                        std::string* out) {
    if (message.GetDescriptor()->full_name() == "google.protobuf.Timestamp") {
      String(google::protobuf::util::TimeUtil::ToString(
                 static_cast<const google::protobuf::Timestamp&>(message)),
             out);
      return;
    }
    std::string json;
    (void)google::protobuf::util::BinaryToJsonString(
        &Resolver(), TypeUrl(message), message.SerializeAsString(), &json);
    out->append(json);
  }
};

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  JsonWriter().Message(message, &json);
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
