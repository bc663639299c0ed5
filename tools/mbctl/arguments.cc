#include "tools/mbctl/arguments.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mileagebank::mbctl {
namespace {

absl::StatusOr<bool> ParseSwitch(absl::string_view name,
                                 const std::optional<std::string>& value) {
  if (!value.has_value() || *value == "true") return true;
  if (*value == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, "=", *value, ": must be true or false"));
}

absl::StatusOr<std::string> RequireValue(
    absl::string_view name, absl::string_view placeholder,
    const std::optional<std::string>& value) {
  if (!value.has_value() || value->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " needs a value: --", name, "=", placeholder));
  }
  return *value;
}

// "-500", "-1.5": a negative number, an argument rather than a flag.
bool IsNegativeNumber(absl::string_view arg) {
  return arg.size() > 1 && arg[0] == '-' &&
         absl::ascii_isdigit(static_cast<unsigned char>(arg[1]));
}

}  // namespace

absl::StatusOr<Invocation> ParseArguments(
    const std::vector<std::string>& args) {
  Invocation invocation;
  bool only_words = false;
  for (const std::string& arg : args) {
    if (only_words || arg == "-" || !absl::StartsWith(arg, "-") ||
        IsNegativeNumber(arg)) {
      invocation.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_words = true;
      continue;
    }
    if (arg == "-h") {
      invocation.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag ", arg, ": flags are written --name=value"));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals - 2);
    std::optional<std::string> value;
    if (equals != std::string::npos) value = arg.substr(equals + 1);
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", arg, "\": a flag needs a name"));
    }

    if (name == "help") {
      absl::StatusOr<bool> help = ParseSwitch(name, value);
      if (!help.ok()) return help.status();
      invocation.help = *help;
    } else if (name == "json") {
      absl::StatusOr<bool> json = ParseSwitch(name, value);
      if (!json.ok()) return json.status();
      invocation.json = *json;
    } else if (name == "target" || name == "gateway" || name == "api-key") {
      absl::StatusOr<std::string> text =
          RequireValue(name, name == "api-key" ? "KEY" : "HOST:PORT", value);
      if (!text.ok()) return text.status();
      if (name == "target") {
        invocation.target = *text;
      } else if (name == "gateway") {
        invocation.gateway = *text;
      } else {
        invocation.api_key = *text;
      }
    } else if (name == "request") {
      absl::StatusOr<std::string> json =
          RequireValue(name, "JSON or --request=@FILE", value);
      if (!json.ok()) return json.status();
      invocation.request_json = *json;
    } else if (name == "timeout") {
      absl::StatusOr<std::string> text = RequireValue(name, "SECONDS", value);
      if (!text.ok()) return text.status();
      double seconds;
      if (!absl::SimpleAtod(*text, &seconds) || !std::isfinite(seconds) ||
          seconds <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--timeout=", *text, ": must be a number of seconds above 0"));
      }
      invocation.timeout = absl::Seconds(seconds);
    } else {
      invocation.field_flags.push_back({name, value});
    }
  }
  return invocation;
}

absl::Status TakeCommandOptions(const Command& command,
                                Invocation* invocation) {
  std::vector<FieldFlag> request_flags;
  for (FieldFlag& flag : invocation->field_flags) {
    if (flag.name == "wait" && command.wait.has_value()) {
      absl::StatusOr<bool> wait = ParseSwitch(flag.name, flag.value);
      if (!wait.ok()) return wait.status();
      invocation->wait = *wait;
    } else if (flag.name == "csv" && command.csv.has_value()) {
      absl::StatusOr<std::string> table =
          RequireValue(flag.name, "TABLE", flag.value);
      if (!table.ok()) return table.status();
      invocation->csv = *table;
    } else if (flag.name == "out" && (command.call == CallKind::kDownload ||
                                      command.call == CallKind::kCsvExport ||
                                      command.csv.has_value())) {
      absl::StatusOr<std::string> out =
          RequireValue(flag.name, "PATH", flag.value);
      if (!out.ok()) return out.status();
      invocation->out = *out;
    } else {
      request_flags.push_back(std::move(flag));
    }
  }
  invocation->field_flags = std::move(request_flags);
  return absl::OkStatus();
}

}  // namespace mileagebank::mbctl
