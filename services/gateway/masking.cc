#include "services/gateway/masking.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Keeps the last `shown` characters (fewer for short values, so that a
// short value is never shown whole).
std::string KeepTail(absl::string_view value, size_t shown) {
  shown = std::min(shown, value.size() / 2);
  return std::string(value.size() - shown, '*') +
         std::string(value.substr(value.size() - shown));
}

enum class Kind { kNone, kEmail, kPhone, kDocumentNumber };

Kind PersonalKind(const FieldDescriptor& field) {
  if (field.type() != FieldDescriptor::TYPE_STRING) return Kind::kNone;
  if (field.name() == "email") return Kind::kEmail;
  if (field.name() == "mobile_phone") return Kind::kPhone;
  if (field.name() == "number" &&
      field.containing_type()->name() == "IdentityDocument") {
    return Kind::kDocumentNumber;
  }
  return Kind::kNone;
}

std::string Masked(Kind kind, const std::string& value) {
  switch (kind) {
    case Kind::kEmail: return MaskEmail(value);
    case Kind::kPhone: return MaskPhone(value);
    case Kind::kDocumentNumber: return MaskDocumentNumber(value);
    case Kind::kNone: break;
  }
  return value;
}

}  // namespace

std::string MaskEmail(absl::string_view email) {
  size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0) return KeepTail(email, 0);
  return absl::StrCat(email.substr(0, 1), "***", email.substr(at));
}

std::string MaskPhone(absl::string_view phone) {
  // "+86" and the last four: the country and what a person recognises.
  size_t country = phone.size() > 8 && phone[0] == '+' ? 3 : 0;
  return absl::StrCat(phone.substr(0, country),
                      KeepTail(phone.substr(country), 4));
}

std::string MaskDocumentNumber(absl::string_view number) {
  return KeepTail(number, 4);
}

bool MaskPersonalData(Message* message) {
  const Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  bool masked = false;
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_map()) continue;  // no personal data is keyed by map
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          masked |= MaskPersonalData(
              reflection->MutableRepeatedMessage(message, field, i));
        }
      } else {
        masked |= MaskPersonalData(reflection->MutableMessage(message, field));
      }
      continue;
    }
    Kind kind = PersonalKind(*field);
    if (kind == Kind::kNone) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        reflection->SetRepeatedString(
            message, field, i,
            Masked(kind, reflection->GetRepeatedString(*message, field, i)));
      }
    } else {
      reflection->SetString(message, field,
                            Masked(kind, reflection->GetString(*message, field)));
    }
    masked = true;
  }
  return masked;
}

}  // namespace mileagebank::gateway
