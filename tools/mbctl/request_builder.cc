#include "tools/mbctl/request_builder.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <utility>

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
// be a message field (singular, or a list of messages: see SetAt).
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

// Sets something at the field `field` of `parent`, the message holding it.
using FieldSetter =
    std::function<absl::Status(Message* parent, const FieldDescriptor* field)>;

// Calls `set` on the last field of `parts` (a path valid below `message`, see
// FindFieldByPath), creating the singular messages on the way. A list of
// messages on the way gets one new element per call, the rest of the path
// set in it: --passengers.nominee_id=N adds a passenger. The element is
// added only when `set` succeeds.
absl::Status SetAt(Message* message, const std::vector<std::string>& parts,
                   size_t from, const FieldSetter& set) {
  for (size_t i = from; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* step =
        message->GetDescriptor()->FindFieldByName(parts[i]);
    const Reflection* reflection = message->GetReflection();
    if (step->is_repeated()) {
      std::unique_ptr<Message> element(reflection->GetMessageFactory()
                                           ->GetPrototype(step->message_type())
                                           ->New());
      MB_RETURN_IF_ERROR(SetAt(element.get(), parts, i + 1, set));
      reflection->AddMessage(message, step)->CopyFrom(*element);
      return absl::OkStatus();
    }
    message = reflection->MutableMessage(message, step);
  }
  return set(message, message->GetDescriptor()->FindFieldByName(parts.back()));
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

// Sets `field` of `parent`, the last field of the flag's `path`, from
// `value`.
absl::Status SetLeaf(Message* parent, const FieldDescriptor* field,
                     absl::string_view path, absl::string_view value,
                     absl::string_view given_as) {
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return SetMessageField(parent, field, path, value, given_as);
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
  absl::Status set = server::SetField(parent, field->name(), text);
  if (set.ok()) return set;
  // SetField names the field it was given ("--nominee_id=x: ..."); name the
  // flag's whole path instead.
  std::string error(set.message());
  const std::string short_name = absl::StrCat("--", field->name(), "=");
  if (absl::StartsWith(error, short_name)) {
    error.replace(0, short_name.size(), absl::StrCat("--", path, "="));
  }
  if (given_as != absl::StrCat("--", path)) {
    absl::StrAppend(&error, " (given as ", given_as, ")");
  }
  return absl::Status(set.code(), error);
}

constexpr absl::string_view kSegmentSyntax =
    "CARRIER+NUMBER/YYYY-MM-DD/FROM-TO, e.g. FM1501/2026-12-01/PEK-PVG";

bool AllOf(absl::string_view text, bool (*is)(unsigned char)) {
  for (char c : text) {
    if (!is(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The field values of a segment written "FM1501/2026-12-01/PEK-PVG": a
// 2-character carrier and 1 to 4 digits, a date, two 3-letter airports.
// Carrier and airports are taken in upper case.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseSegment(
    absl::string_view text, absl::string_view given_as) {
  const auto bad = [&](absl::string_view part, absl::string_view problem) {
    return BadValue(given_as, text,
                    absl::StrCat("\"", part, "\" is not ", problem,
                                 "; a flight is ", kSegmentSyntax));
  };
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 3) {
    return BadValue(given_as, text,
                    absl::StrCat("must be a flight ", kSegmentSyntax));
  }
  const absl::string_view flight = parts[0], date = parts[1], route = parts[2];
  if (flight.size() < 3 || flight.size() > 6 ||
      !AllOf(flight.substr(0, 2), absl::ascii_isalnum) ||
      !AllOf(flight.substr(2), absl::ascii_isdigit)) {
    return bad(flight,
               "a carrier and flight number (2 letters or digits, then 1 to "
               "4 digits)");
  }
  int year, month, day;
  if (!ParseDate(date, &year, &month, &day)) {
    return bad(date, "a calendar date YYYY-MM-DD");
  }
  if (route.size() != 7 || route[3] != '-' ||
      !AllOf(route.substr(0, 3), absl::ascii_isalpha) ||
      !AllOf(route.substr(4), absl::ascii_isalpha)) {
    return bad(route, "FROM-TO (two 3-letter airport codes)");
  }
  return std::vector<std::pair<std::string, std::string>>{
      {"carrier", absl::AsciiStrToUpper(flight.substr(0, 2))},
      {"flight_number", std::string(flight.substr(2))},
      {"flight_date", std::string(date)},
      {"origin", absl::AsciiStrToUpper(route.substr(0, 3))},
      {"destination", absl::AsciiStrToUpper(route.substr(4))}};
}

// Adds (a list) or sets (a singular field) the segment `text` at the field of
// `alias`, an AliasKind::kSegment.
absl::Status SetSegment(Message* request, const Alias& alias,
                        absl::string_view text, absl::string_view given_as) {
  MB_ASSIGN_OR_RETURN(
      const FieldDescriptor* field,
      FindFieldByPath(request->GetDescriptor(), alias.field, given_as));
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::InternalError(absl::StrCat(
        given_as, ": mbctl's table is wrong: ", alias.field,
        " is not a message with carrier, flight_number, flight_date, origin "
        "and destination"));
  }
  MB_ASSIGN_OR_RETURN(const auto values, ParseSegment(text, given_as));
  std::unique_ptr<Message> segment(request->GetReflection()
                                       ->GetMessageFactory()
                                       ->GetPrototype(field->message_type())
                                       ->New());
  for (const auto& [name, value] : values) {
    MB_RETURN_IF_ERROR(SetRequestField(segment.get(), name, value, given_as));
  }
  const std::vector<std::string> parts = absl::StrSplit(alias.field, '.');
  return SetAt(
      request, parts, 0, [&](Message* parent, const FieldDescriptor* target) {
        const Reflection* reflection = parent->GetReflection();
        if (target->is_repeated()) {
          reflection->AddMessage(parent, target)->CopyFrom(*segment);
        } else {
          reflection->MutableMessage(parent, target)->CopyFrom(*segment);
        }
        return absl::OkStatus();
      });
}

// Sets the fields of `parts` in `message` from `text`, e.g. "CNY:1250".
absl::Status SetPartsIn(Message* message, const Parts& parts,
                        absl::string_view text, absl::string_view given_as) {
  const std::vector<absl::string_view> values =
      absl::StrSplit(text, parts.separator);
  const auto malformed = [&] {
    return BadValue(given_as, text,
                    absl::StrCat("must be ", PartsSyntax(parts)));
  };
  if (values.size() != parts.fields.size()) return malformed();
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) return malformed();
    const std::string field_flag = absl::StrCat("--", parts.fields[i]);
    absl::Status set =
        SetRequestField(message, parts.fields[i], values[i], field_flag);
    if (!set.ok()) {
      // "--minor_units=12.50: must be an integer" speaks of a flag the user
      // did not write: keep only what is wrong.
      std::string problem(set.message());
      const std::string prefix = absl::StrCat(field_flag, "=", values[i], ": ");
      if (absl::StartsWith(problem, prefix)) problem.erase(0, prefix.size());
      return BadValue(
          given_as, text,
          absl::StrCat("must be ", PartsSyntax(parts), "; ",
                       absl::AsciiStrToUpper(parts.fields[i]), " ", problem));
    }
  }
  return absl::OkStatus();
}

// Sets `parts` from `text` in the message at `path` ("": `request` itself),
// adding one element per comma-separated group to a list.
absl::Status SetParts(Message* request, absl::string_view path,
                      const Parts& parts, absl::string_view text,
                      absl::string_view given_as) {
  if (path.empty()) return SetPartsIn(request, parts, text, given_as);
  MB_ASSIGN_OR_RETURN(
      const FieldDescriptor* field,
      FindFieldByPath(request->GetDescriptor(), path, given_as));
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return absl::InternalError(absl::StrCat(
        given_as, ": mbctl's table is wrong: ", path, " is not a message"));
  }
  std::vector<absl::string_view> groups = {text};
  if (field->is_repeated()) groups = absl::StrSplit(text, ',');
  const std::vector<std::string> steps = absl::StrSplit(path, '.');
  for (absl::string_view group : groups) {
    std::unique_ptr<Message> value(request->GetReflection()
                                       ->GetMessageFactory()
                                       ->GetPrototype(field->message_type())
                                       ->New());
    MB_RETURN_IF_ERROR(SetPartsIn(value.get(), parts, group, given_as));
    MB_RETURN_IF_ERROR(SetAt(
        request, steps, 0, [&](Message* parent, const FieldDescriptor* target) {
          const Reflection* reflection = parent->GetReflection();
          if (target->is_repeated()) {
            reflection->AddMessage(parent, target)->CopyFrom(*value);
          } else {
            reflection->MutableMessage(parent, target)->CopyFrom(*value);
          }
          return absl::OkStatus();
        }));
  }
  return absl::OkStatus();
}

// The field whose presence shows that `positional` was given another way
// (by --request or a flag).
std::string PresencePath(const Positional& positional) {
  if (!positional.parts.has_value() || positional.parts->fields.empty()) {
    return positional.field;
  }
  if (positional.field.empty()) return positional.parts->fields[0];
  return absl::StrCat(positional.field, ".", positional.parts->fields[0]);
}

}  // namespace

absl::Status SetRequestField(google::protobuf::Message* message,
                             absl::string_view path, absl::string_view value,
                             absl::string_view given_as) {
  MB_RETURN_IF_ERROR(
      FindFieldByPath(message->GetDescriptor(), path, given_as).status());
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  return SetAt(message, parts, 0,
               [&](Message* parent, const FieldDescriptor* field) {
                 return SetLeaf(parent, field, path, value, given_as);
               });
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

  for (const auto& [path, value] : command.presets) {
    MB_RETURN_IF_ERROR(SetRequestField(
        request, path, value,
        absl::StrCat("mbctl ", command.group, " ", command.name)));
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
    // Streamed after the request by the caller (CallKind::kUpload).
    if (positional.stream) continue;
    std::string value = positionals[i];
    if (positional.parts.has_value()) {
      MB_RETURN_IF_ERROR(SetParts(request, positional.field, *positional.parts,
                                  value, positional.name));
      continue;
    }
    if (positional.file && !absl::StartsWith(value, "@")) {
      value.insert(0, "@");
    }
    MB_RETURN_IF_ERROR(
        SetRequestField(request, positional.field, value, positional.name));
  }

  for (const FieldFlag& flag : flags) {
    std::string path = flag.name;
    const Alias* alias_used = nullptr;
    for (const Alias& alias : command.aliases) {
      if (alias.flag == flag.name) {
        path = alias.field;
        alias_used = &alias;
      }
    }
    const std::string given_as = absl::StrCat("--", flag.name);
    if (alias_used != nullptr && alias_used->kind == AliasKind::kSegment) {
      if (!flag.value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            given_as, " needs a value: ", given_as, "=", kSegmentSyntax));
      }
      MB_RETURN_IF_ERROR(
          SetSegment(request, *alias_used, *flag.value, given_as));
      continue;
    }
    if (alias_used != nullptr && alias_used->kind == AliasKind::kParts) {
      if (!flag.value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(given_as, " needs a value: ", given_as, "=",
                         PartsSyntax(alias_used->parts)));
      }
      MB_RETURN_IF_ERROR(SetParts(request, alias_used->field, alias_used->parts,
                                  *flag.value, given_as));
      continue;
    }
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
    if (!positional.optional &&
        (positional.stream || !IsSet(*request, PresencePath(positional)))) {
      std::string what = positional.field;
      if (positional.stream) what = "the file to send";
      if (positional.parts.has_value()) what = PartsSyntax(*positional.parts);
      return absl::InvalidArgumentError(
          absl::StrCat("missing argument ", positional.name, " (", what, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace mileagebank::mbctl
