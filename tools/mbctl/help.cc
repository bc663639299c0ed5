#include "tools/mbctl/help.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/mbctl/backup.h"
#include "tools/mbctl/route.h"

namespace mileagebank::mbctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Nested messages deeper than this are not listed (they are still settable).
constexpr int kMaxDepth = 8;

constexpr absl::string_view kExitCodes =
    "Exit status: 0 done, 1 refused (by the service, or by the gateway: no "
    "key, or the key's roles do not allow it), 2 usage error, 3 service or "
    "gateway unreachable.\n";

// Where calls go, and what the gateway leaves out.
std::string Routes() {
  std::vector<std::string> sessions;
  for (absl::string_view method : kMemberSessionMethods) {
    sessions.push_back(std::string(method.substr(method.rfind('/') + 1)));
  }
  return absl::StrCat(
      "Every command goes through the gateway with an API key (--api-key);\n"
      "--target sends it to its service directly, with no key. The gateway\n"
      "refuses what the key's roles do not allow (docs/api.md) and the\n"
      "operations between services (holds, qualifying activity, password\n"
      "checks, batch posting): call those with --target. No command logs\n"
      "members in: the gateway's ",
      absl::StrJoin(sessions, ", "), " are the member portal's.\n");
}

std::string GlobalFlags() {
  const Service& gateway = GatewayService();
  return absl::StrCat(
      "Global flags, accepted anywhere on the line:\n"
      "  --gateway=HOST:PORT  where every command goes (default: $",
      gateway.target_env, ", else ", gateway.default_target,
      ")\n"
      "  --api-key=KEY        the API key sent to the gateway as x-api-key "
      "(default: $",
      kApiKeyEnv, ", else the first line of the file named by $",
      kApiKeyFileEnv,
      ")\n"
      "  --target=HOST:PORT   call the command's service directly instead, "
      "with no key (also: the group's $MBCTL_<SERVICE>_TARGET)\n"
      "  --timeout=SECONDS    deadline of the call (default 10; 3600 for a "
      "file upload or download)\n"
      "  --json               print the response as protobuf JSON\n"
      "  --request=JSON       the whole request as protobuf JSON (or @FILE); "
      "the other flags apply after it\n"
      "  --help, -h           this text; after a command, its arguments and "
      "fields\n");
}

// "  left   right" lines with the right column aligned.
std::string Columns(
    const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [left, right] : rows) {
    absl::StrAppend(&out, "  ", left, std::string(width - left.size() + 2, ' '),
                    right, "\n");
  }
  return out;
}

std::string ValuePlaceholder(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(field->enum_type()->value(i)->name());
      }
      return absl::StrCat("<", absl::StrJoin(names, "|"), ">");
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return "<true|false>";
    case FieldDescriptor::CPPTYPE_STRING:
      return field->type() == FieldDescriptor::TYPE_BYTES ? "<bytes>"
                                                          : "<string>";
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const std::string& type = field->message_type()->full_name();
      if (type == "mileagebank.common.v1.Date") return "<YYYY-MM-DD>";
      if (type == "google.protobuf.Timestamp") return "<RFC 3339 time>";
      if (type == "google.protobuf.Duration") return "<duration, e.g. 15m>";
      if (type == "google.protobuf.FieldMask") return "<path,path,...>";
      return "";
    }
    default:
      return absl::StrCat("<", field->type_name(), ">");
  }
}

void Describe(const Descriptor* descriptor, const std::string& prefix,
              const std::string& note, std::vector<const Descriptor*>* path,
              std::string* out) {
  path->push_back(descriptor);
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string name = prefix + field->name();
    std::string field_note = note;
    if (const google::protobuf::OneofDescriptor* oneof =
            field->real_containing_oneof()) {
      field_note = absl::StrCat("(one of ", oneof->name(), ")");
    }
    const std::string placeholder = ValuePlaceholder(field);
    if (placeholder.empty()) {  // A message shown field by field.
      const Descriptor* nested = field->message_type();
      if (field->is_repeated()) {
        std::vector<std::string> fields;
        for (int j = 0; j < nested->field_count(); ++j) {
          fields.push_back(nested->field(j)->name());
        }
        absl::StrAppend(out, "  --", name, ".<", absl::StrJoin(fields, "|"),
                        ">=...  (a list of ", nested->full_name(),
                        ": each flag adds one with that field; more fields "
                        "with --request)\n");
      } else if (path->size() >= kMaxDepth ||
                 std::find(path->begin(), path->end(), nested) != path->end()) {
        absl::StrAppend(out, "  --", name, ".*  (", nested->full_name(), ")\n");
      } else {
        Describe(nested, name + ".", field_note, path, out);
      }
      continue;
    }
    absl::StrAppend(out, "  --", name, "=", placeholder,
                    field->is_repeated() ? " (repeatable)" : "",
                    field_note.empty() ? "" : "  ", field_note, "\n");
  }
  path->pop_back();
}

// The field at dotted `path` below `descriptor` (stepping into lists of
// messages too), or nullptr.
const FieldDescriptor* FieldAt(const Descriptor* descriptor,
                               absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (field != nullptr) {
      if (field->message_type() == nullptr) return nullptr;
      descriptor = field->message_type();
    }
    field = descriptor->FindFieldByName(std::string(part));
    if (field == nullptr) return nullptr;
  }
  return field;
}

// The first list of messages that `path` steps into ("passengers" of
// "passengers.nominee_id"), or "".
std::string ListOnTheWay(const Descriptor* descriptor, absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    absl::StrAppend(&prefix, i == 0 ? "" : ".", parts[i]);
    const FieldDescriptor* field = FieldAt(descriptor, prefix);
    if (field == nullptr) return "";
    if (field->is_repeated()) return prefix;
  }
  return "";
}

// The left column of an alias in a command's help.
std::string AliasFlag(const Descriptor* request, const Alias& alias) {
  if (alias.kind == AliasKind::kSegment) {
    return absl::StrCat("--", alias.flag, "=FLIGHT");
  }
  if (alias.kind == AliasKind::kParts) {
    const FieldDescriptor* field =
        request == nullptr ? nullptr : FieldAt(request, alias.field);
    return absl::StrCat(
        "--", alias.flag, "=", PartsSyntax(alias.parts),
        field != nullptr && field->is_repeated() ? "[,...]" : "");
  }
  return absl::StrCat("--", alias.flag);
}

// The right column of an alias in a command's help.
std::string AliasText(const Descriptor* request, const Alias& alias) {
  if (alias.kind == AliasKind::kParts) {
    const std::string fields = absl::StrJoin(alias.parts.fields, " and ");
    const FieldDescriptor* field =
        request == nullptr ? nullptr : FieldAt(request, alias.field);
    if (field != nullptr && field->is_repeated()) {
      return absl::StrCat("adds to ", alias.field, " one element per group, ",
                          "setting its ", fields, " (repeatable)");
    }
    return absl::StrCat("sets ", fields, " of ", alias.field);
  }
  if (alias.kind == AliasKind::kSegment) {
    const FieldDescriptor* field =
        request == nullptr ? nullptr : FieldAt(request, alias.field);
    if (field != nullptr && field->is_repeated()) {
      return absl::StrCat("adds the segment FLIGHT to ", alias.field,
                          " (repeatable, in order)");
    }
    return absl::StrCat("sets ", alias.field, " to the segment FLIGHT");
  }
  std::string text = absl::StrCat("= --", alias.field);
  const std::string list =
      request == nullptr ? "" : ListOnTheWay(request, alias.field);
  if (!list.empty()) absl::StrAppend(&text, ", adding one to ", list);
  return text;
}

// "NAME", or "[NAME]" when it may be left out.
std::string ArgumentText(const Positional& positional) {
  return positional.optional ? absl::StrCat("[", positional.name, "]")
                             : positional.name;
}

// The groups in the order of their first command.
std::vector<std::string> Groups() {
  std::vector<std::string> groups;
  for (const Command& command : Commands()) {
    if (std::find(groups.begin(), groups.end(), command.group) ==
        groups.end()) {
      groups.push_back(command.group);
    }
  }
  return groups;
}

std::string WhereServed(const Service& service) {
  const Service& gateway = GatewayService();
  if (&service == &gateway) {
    return absl::StrCat("the gateway itself (--gateway, else $",
                        gateway.target_env, ", else ", gateway.default_target,
                        ")");
  }
  return absl::StrCat("the ", service.name,
                      " service, through the gateway (or directly: --target, "
                      "$",
                      service.target_env, ", e.g. ", service.default_target,
                      ")");
}

std::string GroupSection(absl::string_view group) {
  std::set<std::string> services;
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Command& command : Commands()) {
    if (command.group != group) continue;
    services.insert(command.service);
    std::string left = command.name.empty() ? command.group : command.name;
    for (const Positional& positional : command.positionals) {
      absl::StrAppend(&left, " ", ArgumentText(positional));
    }
    rows.emplace_back(left, command.help);
  }
  for (auto& row : BackupExtraHelp(group)) rows.push_back(std::move(row));
  std::string heading(group);
  if (services.size() == 1) {
    for (const Service& service : Services()) {
      if (service.name == *services.begin()) {
        absl::StrAppend(&heading, ": ", WhereServed(service));
      }
    }
  }
  return absl::StrCat(heading, ":\n", Columns(rows));
}

}  // namespace

std::string GeneralUsage() {
  std::string out =
      "mbctl: the mileage bank's command-line client.\n"
      "\n"
      "usage: mbctl <group> <command> [ARGUMENTS] [--field=value ...] "
      "[global flags]\n"
      "       mbctl help [<group> [<command>]]\n";
  for (const std::string& group : Groups()) {
    absl::StrAppend(&out, "\n", GroupSection(group));
  }
  absl::StrAppend(&out, "\n", Routes(), "\n", GlobalFlags(), "\n",
                  "Run 'mbctl <group> <command> --help' for a command's "
                  "arguments and fields.\n",
                  kExitCodes);
  return out;
}

std::string GroupUsage(absl::string_view group) {
  return absl::StrCat("usage: mbctl ", group,
                      " <command> [ARGUMENTS] [--field=value ...]\n\n",
                      GroupSection(group), "\n", "Run 'mbctl ", group,
                      " <command> --help' for a command's arguments and "
                      "fields.\n");
}

std::string CommandWords(const Command& command) {
  return command.name.empty() ? command.group
                              : absl::StrCat(command.group, " ", command.name);
}

std::string Synopsis(const Command& command) {
  std::string out = absl::StrCat("mbctl ", CommandWords(command));
  for (const Positional& positional : command.positionals) {
    absl::StrAppend(&out, " ", ArgumentText(positional));
  }
  return out;
}

std::string DescribeRequestFields(const Descriptor* descriptor) {
  std::string out;
  std::vector<const Descriptor*> path;
  Describe(descriptor, "", "", &path, &out);
  return out;
}

std::string CommandUsage(const Command& command) {
  std::string out =
      absl::StrCat("usage: ", Synopsis(command), " [--field=value ...]\n\n",
                   command.help, "\n", "Calls ", command.method, " on ",
                   WhereServed(ServiceOf(command)), ".\n");
  if (!command.positionals.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Positional& positional : command.positionals) {
      std::string text;
      if (positional.stream) {
        text = absl::StrCat("the local file sent after the request, 1 MiB per ",
                            positional.field, " message");
      } else if (positional.parts.has_value()) {
        text = absl::StrCat(PartsSyntax(*positional.parts), ": sets ",
                            absl::StrJoin(positional.parts->fields, " and "),
                            positional.field.empty()
                                ? ""
                                : absl::StrCat(" of ", positional.field));
      } else if (positional.file) {
        text = absl::StrCat("the file whose content sets ", positional.field,
                            " (or give --", positional.field, "=@FILE)");
      } else {
        text = absl::StrCat("sets ", positional.field, " (or give --",
                            positional.field, "=...)");
      }
      rows.emplace_back(
          ArgumentText(positional),
          absl::StrCat(positional.optional ? "optional: " : "", text));
    }
    absl::StrAppend(&out, "\nArguments:\n", Columns(rows));
  }
  std::vector<std::pair<std::string, std::string>> options;
  if (command.wait.has_value()) {
    options.emplace_back(
        "--wait",
        absl::StrCat("then call `mbctl ", command.wait->group, " ",
                     command.wait->name, "` until ", command.wait->state_field,
                     " is ", absl::StrJoin(command.wait->final_states, " or "),
                     ", and print that"));
  }
  if (command.call == CallKind::kDownload) {
    options.emplace_back("--out=PATH",
                         "where to write the file (default: its name, in the "
                         "current folder); kept only if its size and SHA-256 "
                         "are as announced");
  }
  if (command.csv.has_value()) {
    const Command* exporter =
        FindCommand(command.csv->group, command.csv->name);
    const Descriptor* response = FindMessageType(command.response_type);
    std::vector<std::string> tables;
    if (response != nullptr) {
      for (int i = 0; i < response->field_count(); ++i) {
        const auto* field = response->field(i);
        if (field->message_type() != nullptr && !field->is_map() &&
            (field->is_repeated() || field->name() == "summary")) {
          tables.push_back(field->name());
        }
      }
    }
    options.emplace_back(
        "--csv=TABLE",
        absl::StrCat("export one table as CSV instead (",
                     absl::StrJoin(tables, ", "), ") through `mbctl ",
                     exporter == nullptr ? "" : exporter->group, " ",
                     exporter == nullptr ? "" : exporter->name, "`"));
  }
  if (command.call == CallKind::kCsvExport || command.csv.has_value()) {
    options.emplace_back("--out=PATH",
                         "where to write the CSV (default: standard output); "
                         "kept only if the whole export arrived");
  }
  if (!options.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", Columns(options));
  }
  if (command.call == CallKind::kAllPages) {
    absl::StrAppend(&out, "\nReads every page (",
                    command.paging.request_field,
                    ") and prints them as one.\n");
  }
  for (const auto& [path, value] : command.presets) {
    absl::StrAppend(&out, "\nSets ", path, " to ", value, ".\n");
  }
  const Descriptor* request = FindMessageType(command.request_type);
  if (request != nullptr) {
    absl::StrAppend(&out, "\nFields of ", request->full_name(), ":\n",
                    DescribeRequestFields(request));
  }
  if (!command.aliases.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    bool segments = false;
    for (const Alias& alias : command.aliases) {
      segments |= alias.kind == AliasKind::kSegment;
      rows.emplace_back(AliasFlag(request, alias), AliasText(request, alias));
    }
    absl::StrAppend(&out, "\nAliases:\n", Columns(rows));
    if (segments) {
      absl::StrAppend(&out,
                      "FLIGHT is CARRIER+NUMBER/YYYY-MM-DD/FROM-TO, e.g. "
                      "FM1501/2026-12-01/PEK-PVG.\n");
    }
  }
  absl::StrAppend(
      &out,
      "\nValues: a string or bytes value \"@FILE\" is the content of FILE "
      "(\"@@\" for a literal \"@\");\n"
      "enum values by name; repeatable fields take the flag once per value;\n"
      "a flag into a list of messages (--list.field=...) adds one element;\n"
      "a bare --flag sets a bool field to true; a duration is 90s, 15m, 72h "
      "or a\n"
      "number of seconds.\n\n",
      GlobalFlags());
  return out;
}

}  // namespace mileagebank::mbctl
