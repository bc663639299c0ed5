#include "libs/client/shards.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mileagebank::client {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// FNV-1a: simple, stable across compilers and releases, and spreads
// sequential member numbers evenly.
class Fnv1a {
 public:
  void Add(absl::string_view text) {
    for (char c : text) {
      hash_ = (hash_ ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
    }
  }
  int Shard(int shard_count) const {
    return shard_count <= 1 ? 0 : static_cast<int>(hash_ % shard_count);
  }

 private:
  uint64_t hash_ = 14695981039346656037ULL;
};

std::string Folded(absl::string_view text) {
  std::string folded;
  for (char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      folded.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    }
  }
  return folded;
}

std::string StringField(const Message& message, const char* name) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  return message.GetReflection()->GetString(message, field);
}

const Message* MessageField(const Message& message, const char* name) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
      !message.GetReflection()->HasField(message, field)) {
    return nullptr;
  }
  return &message.GetReflection()->GetMessage(message, field);
}

}  // namespace

int ShardOfMember(absl::string_view member_number, int shard_count) {
  Fnv1a hash;
  hash.Add(member_number);
  return hash.Shard(shard_count);
}

int ShardOfDocument(absl::string_view document_type,
                    absl::string_view issuing_country,
                    absl::string_view number, int shard_count) {
  Fnv1a hash;
  hash.Add(Folded(document_type));
  hash.Add("/");
  hash.Add(Folded(issuing_country));
  hash.Add("/");
  hash.Add(Folded(number));
  return hash.Shard(shard_count);
}

std::vector<std::string> SplitTargets(absl::string_view targets) {
  std::vector<std::string> split;
  for (absl::string_view target : absl::StrSplit(targets, ',')) {
    target = absl::StripAsciiWhitespace(target);
    if (!target.empty()) split.emplace_back(target);
  }
  return split;
}

Route RouteOf(const Message& request, int shard_count) {
  if (shard_count <= 1) return Route{};
  // The member whose shard decides: for a transfer the sender's (the
  // receiver must be on the same shard), for a merge the source's.
  for (const char* name : {"member_number", "from_member_number",
                           "source_member_number"}) {
    std::string member = StringField(request, name);
    if (!member.empty()) return {Route::Kind::kShard, ShardOfMember(member, shard_count)};
  }
  for (const char* name : {"transaction_id", "hold_id", "claim_id", "lot_id"}) {
    std::string id = StringField(request, name);
    size_t dash = id.find('-');
    if (dash != std::string::npos && dash > 0) {
      return {Route::Kind::kShard,
              ShardOfMember(absl::string_view(id).substr(0, dash), shard_count)};
    }
  }
  if (const Message* profile = MessageField(request, "profile")) {
    if (const Message* document = MessageField(*profile, "identity_document")) {
      const FieldDescriptor* type =
          document->GetDescriptor()->FindFieldByName("type");
      std::string type_name;
      if (type != nullptr && type->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        type_name = document->GetReflection()->GetEnum(*document, type)->name();
      }
      return {Route::Kind::kShard,
              ShardOfDocument(type_name, StringField(*document, "issuing_country"),
                              StringField(*document, "number"), shard_count)};
    }
  }
  return {Route::Kind::kUnkeyed, 0};
}

}  // namespace mileagebank::client
