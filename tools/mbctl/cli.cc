#include "tools/mbctl/cli.h"

#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "tools/mbctl/arguments.h"
#include "tools/mbctl/commands.h"
#include "tools/mbctl/generic_call.h"
#include "tools/mbctl/help.h"
#include "tools/mbctl/printer.h"
#include "tools/mbctl/request_builder.h"

namespace mileagebank::mbctl {
namespace {

int UsageError(std::ostream& err, absl::string_view message,
               absl::string_view hint) {
  err << "error: " << message << "\n"
      << "hint: see '" << hint << "'\n";
  return kExitUsage;
}

std::string CommandHelpHint(const Command& command) {
  return absl::StrCat("mbctl ", command.group, " ", command.name, " --help");
}

std::string TargetOf(const Service& service, const Invocation& invocation) {
  if (invocation.target.has_value()) return *invocation.target;
  const char* from_env = std::getenv(service.target_env.c_str());
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return service.default_target;
}

// `mbctl help [group [command]]`.
int Help(const std::vector<std::string>& words, std::ostream& out,
         std::ostream& err) {
  if (words.size() == 1) {
    out << GeneralUsage();
    return kExitOk;
  }
  if (!IsGroup(words[1])) {
    return UsageError(err, absl::StrCat("unknown group \"", words[1], "\""),
                      "mbctl help");
  }
  if (words.size() == 2) {
    out << GroupUsage(words[1]);
    return kExitOk;
  }
  const Command* command = FindCommand(words[1], words[2]);
  if (command == nullptr) {
    return UsageError(
        err, absl::StrCat("unknown command \"", words[1], " ", words[2], "\""),
        "mbctl help");
  }
  out << CommandUsage(*command);
  return kExitOk;
}

int Call(const Command& command, const Invocation& invocation,
         std::ostream& out, std::ostream& err) {
  const google::protobuf::Descriptor* request_type =
      FindMessageType(command.request_type);
  const google::protobuf::Descriptor* response_type =
      FindMessageType(command.response_type);
  if (request_type == nullptr || response_type == nullptr) {
    err << "error: mbctl does not know the messages of " << command.method
        << " (" << command.request_type << ", " << command.response_type
        << ")\n";
    return kExitRefused;
  }
  google::protobuf::MessageFactory* factory =
      google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<google::protobuf::Message> request(
      factory->GetPrototype(request_type)->New());
  std::unique_ptr<google::protobuf::Message> response(
      factory->GetPrototype(response_type)->New());

  const std::vector<std::string> positionals(invocation.words.begin() + 2,
                                             invocation.words.end());
  absl::Status built =
      BuildRequest(command, invocation.request_json, positionals,
                   invocation.field_flags, request.get());
  if (!built.ok()) {
    return UsageError(err, built.message(), CommandHelpHint(command));
  }

  const Service& service = ServiceOf(command);
  const std::string target = TargetOf(service, invocation);
  absl::Status called = CallUnary(target, command.method, *request,
                                  response.get(), invocation.timeout);
  if (!called.ok()) {
    err << FormatError(called);
    if (absl::IsUnavailable(called) || absl::IsDeadlineExceeded(called)) {
      err << "hint: is the " << service.name << " service running at " << target
          << "? (set --target or $" << service.target_env << ")\n";
      return kExitUnreachable;
    }
    return kExitRefused;
  }

  if (invocation.json) {
    absl::StatusOr<std::string> json = FormatJson(*response);
    if (!json.ok()) {
      err << "error: " << json.status().message() << "\n";
      return kExitRefused;
    }
    out << *json;
  } else {
    out << FormatHuman(*response);
  }
  return kExitOk;
}

}  // namespace

int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err) {
  absl::StatusOr<Invocation> invocation = ParseArguments(args);
  if (!invocation.ok()) {
    return UsageError(err, invocation.status().message(), "mbctl help");
  }
  const std::vector<std::string>& words = invocation->words;
  if (words.empty()) {
    out << GeneralUsage();
    return kExitOk;
  }
  if (words[0] == "help") return Help(words, out, err);
  if (!IsGroup(words[0])) {
    return UsageError(err, absl::StrCat("unknown command \"", words[0], "\""),
                      "mbctl help");
  }
  if (words.size() == 1) {
    if (invocation->help) {
      out << GroupUsage(words[0]);
      return kExitOk;
    }
    return UsageError(err, absl::StrCat("\"", words[0], "\" needs a command"),
                      absl::StrCat("mbctl help ", words[0]));
  }
  const Command* command = FindCommand(words[0], words[1]);
  if (command == nullptr) {
    return UsageError(
        err, absl::StrCat("unknown command \"", words[0], " ", words[1], "\""),
        "mbctl help");
  }
  if (invocation->help) {
    out << CommandUsage(*command);
    return kExitOk;
  }
  return Call(*command, *invocation, out, err);
}

}  // namespace mileagebank::mbctl
