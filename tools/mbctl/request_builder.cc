#include "tools/mbctl/request_builder.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/server/config_loader.h"
#include "libs/status/status_macros.h"

namespace mileagebank::mbctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr absl::string_view kDateType = "mileagebank.common.v1.Date";
constexpr absl::string_view kDurationType = "google.protobuf.Duration";
constexpr absl::string_view kFieldMaskType = "google.protobuf.FieldMask";
constexpr absl::string_view kTimestampType = "google.protobuf.Timestamp";

// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of a
// google.protobuf.Timestamp.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
// The range of a google.protobuf.Duration: about 10,000 years either way.
constexpr int64_t kMaxDurationSeconds = 315576000000;

// "--birth=1985-13-01: must be ..." for a flag, "STATUS \"X\": must be ..."
// for a positional argument.
absl::Status BadValue(absl::string_view given_as, absl::string_view value,
                      absl::string_view problem) {
  if (absl::StartsWith(given_as, "--")) {
    return absl::InvalidArgumentError(
        absl::StrCat(given_as, "=", value, ": ", problem));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(given_as, " \"", value, "\": ", problem));
}

absl::StatusOr<std::string> ReadFile(absl::string_view path,
                                     absl::string_view given_as) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(given_as, ": \"@\" must be followed by a file name"));
  }
  const std::string name(path);
  std::FILE* file = std::fopen(name.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        given_as, ": cannot read ", name, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  size_t read;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    content.append(buffer, read);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::InvalidArgumentError(absl::StrCat(
        given_as, ": cannot read ", name, ": ", std::strerror(error)));
  }
  return content;
}

// The field at dotted `path` below `descriptor`; every step but the last must
// be a singular message field.
absl::StatusOr<const FieldDescriptor*> FindFieldByPath(
    const Descriptor* descriptor, absl::string_view path,
    absl::string_view given_as) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  const FieldDescriptor* field = nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (field != nullptr) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", given_as, ": \"", field->name(),
                         "\" is a ", field->type_name(), ", not a message"));
      }
      if (field->is_repeated()) {
        return absl::InvalidArgumentError(
            absl::StrCat(given_as, ": \"", field->name(),
                         "\" is a list of messages; set it with --request"));
      }
      descriptor = field->message_type();
    }
    field = descriptor->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", given_as, ": ", descriptor->full_name(),
                       " has no field \"", parts[i], "\""));
    }
  }
  return field;
}

// The message holding the field at `path` (valid, see FindFieldByPath),
// creating the messages on the way.
Message* MutableParent(Message* message, absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  parts.pop_back();
  for (absl::string_view part : parts) {
    const FieldDescriptor* field =
        message->GetDescriptor()->FindFieldByName(std::string(part));
    message = message->GetReflection()->MutableMessage(message, field);
  }
  return message;
}

// Whether the field at `path` holds a value (a non-default one, for fields
// without presence).
bool IsSet(const Message& message, absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  const Message* current = &message;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field =
        current->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) return false;
    const Reflection* reflection = current->GetReflection();
    if (field->is_repeated()) return reflection->FieldSize(*current, field) > 0;
    if (!reflection->HasField(*current, field)) return false;
    if (i + 1 < parts.size())
      current = &reflection->GetMessage(*current, field);
  }
  return true;
}

bool ParseDate(absl::string_view text, int* year, int* month, int* day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  if (!absl::SimpleAtoi(text.substr(0, 4), year) ||
      !absl::SimpleAtoi(text.substr(5, 2), month) ||
      !absl::SimpleAtoi(text.substr(8, 2), day)) {
    return false;
  }
  if (*year < 1 || *month < 1 || *month > 12 || *day < 1) return false;
  const absl::CivilDay civil(*year, *month, *day);  // Normalizes 02-30.
  return civil.month() == *month && civil.day() == *day;
}

void SetInt(Message* message, absl::string_view name, int64_t value) {
  const FieldDescriptor* field =
      message->GetDescriptor()->FindFieldByName(std::string(name));
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
    message->GetReflection()->SetInt64(message, field, value);
  } else {
    message->GetReflection()->SetInt32(message, field,
                                       static_cast<int32_t>(value));
  }
}

// Whether `text` is a plain number, e.g. "90", "-5" or "1.5": a number of
// seconds when it is a duration.
bool IsPlainNumber(absl::string_view text) {
  if (absl::StartsWith(text, "-") || absl::StartsWith(text, "+")) {
    text.remove_prefix(1);
  }
  bool digits = false, point = false;
  for (char c : text) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digits;
}

// "90s", "15m", "72h", "1h30m", "250ms" (absl::ParseDuration's units ns, us,
// ms, s, m, h), or a plain number of seconds.
bool ParseDurationText(absl::string_view text, absl::Duration* duration) {
  const std::string spelled =
      IsPlainNumber(text) ? absl::StrCat(text, "s") : std::string(text);
  return absl::ParseDuration(spelled, duration) &&
         *duration != absl::InfiniteDuration() &&
         *duration != -absl::InfiniteDuration();
}

// Fills `value` (an empty Date, Duration, FieldMask or Timestamp) from
// `text`. False for other message types.
absl::StatusOr<bool> ParseSpecialMessage(absl::string_view text,
                                         absl::string_view given_as,
                                         Message* value) {
  const std::string& type = value->GetDescriptor()->full_name();
  if (type == kDateType) {
    int year, month, day;
    if (!ParseDate(text, &year, &month, &day)) {
      return BadValue(given_as, text, "must be a calendar date YYYY-MM-DD");
    }
    SetInt(value, "year", year);
    SetInt(value, "month", month);
    SetInt(value, "day", day);
    return true;
  }
  if (type == kDurationType) {
    absl::Duration duration;
    if (!ParseDurationText(text, &duration)) {
      return BadValue(given_as, text,
                      "must be a duration, e.g. 90s, 15m, 72h or 1h30m, or a "
                      "number of seconds");
    }
    // Truncates toward zero: seconds and nanos get the same sign, as a
    // Duration requires.
    absl::Duration nanos;
    const int64_t seconds =
        absl::IDivDuration(duration, absl::Seconds(1), &nanos);
    if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds) {
      return BadValue(given_as, text, "must be at most 10,000 years");
    }
    SetInt(value, "seconds", seconds);
    SetInt(value, "nanos", nanos / absl::Nanoseconds(1));
    return true;
  }
  if (type == kFieldMaskType) {
    const FieldDescriptor* paths =
        value->GetDescriptor()->FindFieldByName("paths");
    for (absl::string_view path : absl::StrSplit(text, ',')) {
      path = absl::StripAsciiWhitespace(path);
      if (path.empty()) continue;
      for (absl::string_view part : absl::StrSplit(path, '.')) {
        if (part.empty()) {
          return BadValue(given_as, text,
                          absl::StrCat("\"", path, "\" is not a field path"));
        }
      }
      value->GetReflection()->AddString(value, paths, std::string(path));
    }
    if (value->GetReflection()->FieldSize(*value, paths) == 0) {
      return BadValue(given_as, text,
                      "must list field paths separated by commas, e.g. "
                      "mobile_phone,email");
    }
    return true;
  }
  if (type == kTimestampType) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &time,
                         &error)) {
      return BadValue(given_as, text,
                      "must be an RFC 3339 time, e.g. 2024-05-01T08:00:00Z");
    }
    const int64_t seconds = absl::ToUnixSeconds(time);
    if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
      return BadValue(given_as, text, "must be in the years 1 to 9999");
    }
    SetInt(value, "seconds", seconds);
    SetInt(value, "nanos",
           (time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1));
    return true;
  }
  return false;
}

std::string FieldNames(const Descriptor* descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    names.push_back(descriptor->field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

absl::Status SetMessageField(Message* parent, const FieldDescriptor* field,
                             absl::string_view path, absl::string_view text,
                             absl::string_view given_as) {
  const Reflection* reflection = parent->GetReflection();
  std::unique_ptr<Message> value(reflection->GetMessageFactory()
                                     ->GetPrototype(field->message_type())
                                     ->New());
  MB_ASSIGN_OR_RETURN(bool special,
                      ParseSpecialMessage(text, given_as, value.get()));
  if (!special) {
    return absl::InvalidArgumentError(absl::StrCat(
        given_as, " names a message (", field->message_type()->full_name(),
        "): set its fields, --", path, ".<field>, one of ",
        FieldNames(field->message_type())));
  }
  if (field->is_repeated()) {
    reflection->AddMessage(parent, field)->CopyFrom(*value);
  } else if (field->message_type()->full_name() == kFieldMaskType) {
    // Several --update_mask flags add up, like a repeated field.
    reflection->MutableMessage(parent, field)->MergeFrom(*value);
  } else {
    reflection->MutableMessage(parent, field)->CopyFrom(*value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SetRequestField(google::protobuf::Message* message,
                             absl::string_view path, absl::string_view value,
                             absl::string_view given_as) {
  MB_ASSIGN_OR_RETURN(
      const FieldDescriptor* field,
      FindFieldByPath(message->GetDescriptor(), path, given_as));
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return SetMessageField(MutableParent(message, path), field, path, value,
                           given_as);
  }
  std::string text(value);
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    if (absl::StartsWith(text, "@@")) {
      text.erase(0, 1);
    } else if (absl::StartsWith(text, "@")) {
      MB_ASSIGN_OR_RETURN(text, ReadFile(value.substr(1), given_as));
    }
  } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
             field->enum_type()->FindValueByName(text) == nullptr) {
    // Accept "sales_office" and "sales-office" for SALES_OFFICE.
    std::string upper = absl::AsciiStrToUpper(text);
    std::replace(upper.begin(), upper.end(), '-', '_');
    if (field->enum_type()->FindValueByName(upper) != nullptr) text = upper;
  }
  absl::Status set = server::SetField(message, path, text);
  if (!set.ok() && given_as != absl::StrCat("--", path)) {
    return absl::Status(
        set.code(), absl::StrCat(set.message(), " (given as ", given_as, ")"));
  }
  return set;
}

absl::Status BuildRequest(const Command& command,
                          const std::optional<std::string>& request_json,
                          const std::vector<std::string>& positionals,
                          const std::vector<FieldFlag>& flags,
                          google::protobuf::Message* request) {
  if (request_json.has_value()) {
    std::string json = *request_json;
    if (absl::StartsWith(json, "@")) {
      MB_ASSIGN_OR_RETURN(json, ReadFile(json.substr(1), "--request"));
    }
    google::protobuf::util::JsonParseOptions options;
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(json, request, options);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--request: not a ", request->GetDescriptor()->full_name(),
          " in protobuf JSON: ",
          absl::string_view(parsed.message().data(), parsed.message().size())));
    }
  }

  if (positionals.size() > command.positionals.size()) {
    const std::string& extra = positionals[command.positionals.size()];
    if (command.positionals.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument \"", extra, "\": ", command.group, " ",
          command.name, " takes no arguments; set fields with --field=value"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", extra, "\""));
  }
  for (size_t i = 0; i < positionals.size(); ++i) {
    const Positional& positional = command.positionals[i];
    std::string value = positionals[i];
    if (positional.file && !absl::StartsWith(value, "@")) {
      value.insert(0, "@");
    }
    MB_RETURN_IF_ERROR(
        SetRequestField(request, positional.field, value, positional.name));
  }

  for (const FieldFlag& flag : flags) {
    std::string path = flag.name;
    for (const Alias& alias : command.aliases) {
      if (alias.flag == flag.name) path = alias.field;
    }
    const std::string given_as = absl::StrCat("--", flag.name);
    MB_ASSIGN_OR_RETURN(
        const FieldDescriptor* field,
        FindFieldByPath(request->GetDescriptor(), path, given_as));
    if (!flag.value.has_value() &&
        field->cpp_type() != FieldDescriptor::CPPTYPE_BOOL) {
      return absl::InvalidArgumentError(
          absl::StrCat(given_as, " needs a value: ", given_as, "=<",
                       field->type_name(), ">"));
    }
    MB_RETURN_IF_ERROR(
        SetRequestField(request, path, flag.value.value_or(""), given_as));
  }

  for (size_t i = positionals.size(); i < command.positionals.size(); ++i) {
    const Positional& positional = command.positionals[i];
    if (!positional.optional && !IsSet(*request, positional.field)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing argument ", positional.name, " (", positional.field, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::mbctl
