#include "tools/mbctl/printer.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "libs/status/errors.h"

namespace mileagebank::mbctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Indent(int width) { return std::string(width, ' '); }

int64_t IntField(const Message& message, absl::string_view name) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr) return 0;
  const Reflection* reflection = message.GetReflection();
  return field->cpp_type() == FieldDescriptor::CPPTYPE_INT64
             ? reflection->GetInt64(message, field)
             : reflection->GetInt32(message, field);
}

absl::Time TimeOf(const Message& message) {
  return absl::FromUnixSeconds(IntField(message, "seconds")) +
         absl::Nanoseconds(IntField(message, "nanos"));
}

// The one-line text of a message shown as a value (a date, an instant, a
// mask), or nullopt for a message shown field by field.
std::optional<std::string> ValueText(const Message& message) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "mileagebank.common.v1.Date") {
    return absl::StrFormat("%04d-%02d-%02d", IntField(message, "year"),
                           IntField(message, "month"),
                           IntField(message, "day"));
  }
  if (type == "google.protobuf.Timestamp") {
    return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", TimeOf(message),
                            absl::UTCTimeZone());
  }
  if (type == "google.protobuf.Duration") {
    return absl::FormatDuration(TimeOf(message) - absl::UnixEpoch());
  }
  if (type == "google.protobuf.FieldMask") {
    const FieldDescriptor* paths =
        message.GetDescriptor()->FindFieldByName("paths");
    std::vector<std::string> parts;
    for (int i = 0; i < message.GetReflection()->FieldSize(message, paths);
         ++i) {
      parts.push_back(
          message.GetReflection()->GetRepeatedString(message, paths, i));
    }
    return absl::StrJoin(parts, ",");
  }
  return std::nullopt;
}

// A string as is, unless it is empty or holds characters that would break
// the layout: then quoted and escaped (UTF-8 kept).
std::string StringText(absl::string_view text) {
  bool plain = !text.empty() && text.front() != ' ' && text.back() != ' ' &&
               text.front() != '"';
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) plain = false;
  }
  if (plain) return std::string(text);
  return absl::StrCat("\"", absl::Utf8SafeCEscape(text), "\"");
}

// The text of a scalar field's value; `index` is -1 for a singular field.
std::string ScalarText(const Message& message, const FieldDescriptor* field,
                       int index) {
  const Reflection* r = message.GetReflection();
  const bool one = index < 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(one ? r->GetInt32(message, field)
                              : r->GetRepeatedInt32(message, field, index));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(one ? r->GetInt64(message, field)
                              : r->GetRepeatedInt64(message, field, index));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(one ? r->GetUInt32(message, field)
                              : r->GetRepeatedUInt32(message, field, index));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(one ? r->GetUInt64(message, field)
                              : r->GetRepeatedUInt64(message, field, index));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(one ? r->GetDouble(message, field)
                              : r->GetRepeatedDouble(message, field, index));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(one ? r->GetFloat(message, field)
                              : r->GetRepeatedFloat(message, field, index));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (one ? r->GetBool(message, field)
                  : r->GetRepeatedBool(message, field, index))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = one ? r->GetEnumValue(message, field)
                             : r->GetRepeatedEnumValue(message, field, index);
      const google::protobuf::EnumValueDescriptor* value =
          field->enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string text =
          one ? r->GetString(message, field)
              : r->GetRepeatedString(message, field, index);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        return absl::StrCat("\"", absl::CEscape(text), "\"");
      }
      return StringText(text);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

void AppendFields(const Message& message, int indent, bool top_level,
                  std::string* out);

// The lines of one element of a repeated message field: "- " then its
// fields, aligned under the first.
void AppendListMessage(const Message& element, int indent, std::string* out) {
  if (std::optional<std::string> value = ValueText(element)) {
    absl::StrAppend(out, Indent(indent), "- ", *value, "\n");
    return;
  }
  std::string body;
  AppendFields(element, indent + 2, /*top_level=*/false, &body);
  if (body.empty()) {
    absl::StrAppend(out, Indent(indent), "- {}\n");
    return;
  }
  body.replace(0, indent + 2, Indent(indent) + "- ");
  absl::StrAppend(out, body);
}

void AppendField(const Message& message, const FieldDescriptor* field,
                 int indent, bool top_level, std::string* out) {
  const Reflection* reflection = message.GetReflection();
  const std::string& name = field->name();
  const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (field->is_repeated()) {
    const int size = reflection->FieldSize(message, field);
    if (size == 0) return;
    absl::StrAppend(out, Indent(indent), name, ":\n");
    for (int i = 0; i < size; ++i) {
      if (is_message) {
        AppendListMessage(reflection->GetRepeatedMessage(message, field, i),
                          indent + 2, out);
      } else {
        absl::StrAppend(out, Indent(indent + 2), "- ",
                        ScalarText(message, field, i), "\n");
      }
    }
    return;
  }
  if (is_message) {
    if (!reflection->HasField(message, field)) return;
    const Message& value = reflection->GetMessage(message, field);
    if (std::optional<std::string> text = ValueText(value)) {
      absl::StrAppend(out, Indent(indent), name, ": ", *text, "\n");
      return;
    }
    std::string body;
    AppendFields(value, indent + 2, /*top_level=*/false, &body);
    if (!body.empty()) absl::StrAppend(out, Indent(indent), name, ":\n", body);
    return;
  }
  bool shown = reflection->HasField(message, field);
  if (!shown && top_level && !field->has_presence() &&
      field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    shown = true;  // "verified: false" is an answer, not noise.
  }
  if (shown) {
    absl::StrAppend(out, Indent(indent), name, ": ",
                    ScalarText(message, field, -1), "\n");
  }
}

void AppendFields(const Message& message, int indent, bool top_level,
                  std::string* out) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    AppendField(message, descriptor->field(i), indent, top_level, out);
  }
}

}  // namespace

std::string FormatHuman(const google::protobuf::Message& message) {
  std::string out;
  AppendFields(message, 0, /*top_level=*/true, &out);
  return out;
}

absl::StatusOr<std::string> FormatJson(
    const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = false;
  std::string out;
  const auto printed =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat(
        "the response cannot be printed as JSON: ",
        absl::string_view(printed.message().data(), printed.message().size())));
  }
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

std::string FormatError(const absl::Status& status) {
  std::string out =
      absl::StrCat("error: ", absl::StatusCodeToString(status.code()), ": ",
                   status.message(), "\n");
  std::optional<common::v1::ErrorDetails> details = GetErrorDetails(status);
  if (!details) return out;
  for (const common::v1::FieldViolation& violation :
       details->field_violations()) {
    absl::StrAppend(&out, "  ", violation.field(), ": ",
                    violation.description(), "\n");
  }
  if (!details->existing_id().empty()) {
    absl::StrAppend(&out, "  existing_id: ", details->existing_id(), "\n");
  }
  return out;
}

}  // namespace mileagebank::mbctl
