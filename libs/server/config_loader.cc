#include "libs/server/config_loader.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace mileagebank::server {
namespace {

using google::protobuf::FieldDescriptor;

// Collects textproto parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    absl::StrAppend(&errors_, errors_.empty() ? "" : "; ", "line ", line + 1,
                    " column ", column + 1, ": ", message);
  }
  const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

absl::Status BadValue(absl::string_view path, absl::string_view value,
                      absl::string_view expected) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--", path, "=", value, ": ", expected));
}

absl::Status SetScalar(google::protobuf::Message* message,
                       const FieldDescriptor* field, absl::string_view path,
                       absl::string_view value) {
  const google::protobuf::Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string text(value);
      repeated ? reflection->AddString(message, field, text)
               : reflection->SetString(message, field, text);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(path, value, "must be a 32-bit integer");
      }
      repeated ? reflection->AddInt32(message, field, number)
               : reflection->SetInt32(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(path, value, "must be an integer");
      }
      repeated ? reflection->AddInt64(message, field, number)
               : reflection->SetInt64(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(path, value, "must be an unsigned 32-bit integer");
      }
      repeated ? reflection->AddUInt32(message, field, number)
               : reflection->SetUInt32(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(path, value, "must be an unsigned integer");
      }
      repeated ? reflection->AddUInt64(message, field, number)
               : reflection->SetUInt64(message, field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double number;
      if (!absl::SimpleAtod(value, &number)) {
        return BadValue(path, value, "must be a number");
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        repeated ? reflection->AddFloat(message, field, number)
                 : reflection->SetFloat(message, field, number);
      } else {
        repeated ? reflection->AddDouble(message, field, number)
                 : reflection->SetDouble(message, field, number);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool flag;
      if (value == "true" || value.empty()) {
        flag = true;
      } else if (value == "false") {
        flag = false;
      } else {
        return BadValue(path, value, "must be true or false");
      }
      repeated ? reflection->AddBool(message, field, flag)
               : reflection->SetBool(message, field, flag);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const google::protobuf::EnumValueDescriptor* enum_value =
          field->enum_type()->FindValueByName(std::string(value));
      if (enum_value == nullptr) {
        std::string names;
        for (int i = 0; i < field->enum_type()->value_count(); ++i) {
          absl::StrAppend(&names, i == 0 ? "" : ", ",
                          field->enum_type()->value(i)->name());
        }
        return BadValue(path, value, absl::StrCat("must be one of ", names));
      }
      repeated ? reflection->AddEnum(message, field, enum_value)
               : reflection->SetEnum(message, field, enum_value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return BadValue(path, value,
                  "names a group of settings; give one of its fields");
}

void Describe(const google::protobuf::Descriptor* descriptor,
              const std::string& prefix, std::string* out) {
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    std::string path = prefix + field->name();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !field->is_repeated()) {
      Describe(field->message_type(), path + ".", out);
      continue;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) continue;
    absl::StrAppend(out, "  --", path, "=<", field->type_name(), ">",
                    field->is_repeated() ? " (repeatable)" : "", "\n");
  }
}

}  // namespace

absl::Status SetField(google::protobuf::Message* message,
                      absl::string_view path, absl::string_view value) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  google::protobuf::Message* target = message;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field =
        target->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", path, ": unknown setting (", target->GetDescriptor()->full_name(),
          " has no field \"", parts[i], "\"; see --help)"));
    }
    if (i + 1 == parts.size()) return SetScalar(target, field, path, value);
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", path, ": \"", parts[i], "\" is not a group of settings"));
    }
    target = target->GetReflection()->MutableMessage(target, field);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", path, ": empty name"));
}

std::string DescribeFlags(const google::protobuf::Descriptor* descriptor) {
  std::string out = "  --config=<path of a textproto file>\n";
  Describe(descriptor, "", &out);
  return out;
}

absl::Status LoadConfig(int argc, const char* const* argv,
                        google::protobuf::Message* config) {
  std::vector<std::pair<std::string, std::string>> settings;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument \"", arg, "\": settings are --name=value"));
    }
    arg.remove_prefix(2);
    size_t equals = arg.find('=');
    std::string name(arg.substr(0, equals));
    std::string value(equals == absl::string_view::npos
                          ? ""
                          : arg.substr(equals + 1));
    if (name == "config") {
      config_path = value;
    } else {
      settings.emplace_back(name, value);
    }
  }
  if (!config_path.empty()) {
    std::ifstream file(config_path);
    if (!file) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config=", config_path, ": cannot be read"));
    }
    std::stringstream text;
    text << file.rdbuf();
    google::protobuf::TextFormat::Parser parser;
    ErrorCollector errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(text.str(), config)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config=", config_path, ": ", errors.errors()));
    }
  }
  for (const auto& [name, value] : settings) {
    absl::Status set = SetField(config, name, value);
    if (!set.ok()) return set;
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::server
