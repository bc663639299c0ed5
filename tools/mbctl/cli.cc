#include "tools/mbctl/cli.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "tools/mbctl/arguments.h"
#include "tools/mbctl/backup.h"
#include "tools/mbctl/commands.h"
#include "tools/mbctl/file_transfer.h"
#include "tools/mbctl/generic_call.h"
#include "tools/mbctl/help.h"
#include "tools/mbctl/printer.h"
#include "tools/mbctl/request_builder.h"
#include "tools/mbctl/route.h"

namespace mileagebank::mbctl {
namespace {

int UsageError(std::ostream& err, absl::string_view message,
               absl::string_view hint) {
  err << "error: " << message << "\n"
      << "hint: see '" << hint << "'\n";
  return kExitUsage;
}

std::string CommandHelpHint(const Command& command) {
  return absl::StrCat("mbctl ", CommandWords(command), " --help");
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
    const Command* nameless = FindCommand(words[1], "");
    out << (nameless != nullptr ? CommandUsage(*nameless)
                                : GroupUsage(words[1]));
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

// Prints a failed call's error with a hint at what to change; the exit code
// says whether the service refused or could not be reached.
int CallFailed(const absl::Status& status, const Command& command,
               const Route& route, std::ostream& err) {
  err << FormatError(status);
  const Service& service = ServiceOf(command);
  const Service& gateway = GatewayService();
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    if (!route.gateway) {
      err << "hint: is the " << service.name << " service running at "
          << route.target << "? (set --target or $" << service.target_env
          << ")\n";
    } else {
      err << "hint: is the gateway running at " << route.target
          << "? (set --gateway or $" << gateway.target_env;
      if (&service != &gateway) {
        err << "; --target or $" << service.target_env << " calls the "
            << service.name << " service directly";
      }
      err << ")\n";
    }
    return kExitUnreachable;
  }
  if (route.gateway && absl::IsUnauthenticated(status)) {
    err << "hint: "
        << (route.api_key.empty() ? "the gateway needs an API key"
                                  : "the gateway refused the API key")
        << ": set --api-key=KEY or $" << kApiKeyEnv << " (or $"
        << kApiKeyFileEnv << " to a file holding it)\n";
  } else if (route.gateway && absl::IsPermissionDenied(status) &&
             absl::StrContains(status.message(),
                               "not offered through the gateway")) {
    err << "hint: only the " << service.name
        << " service itself answers it: --target or $" << service.target_env
        << " calls it directly\n";
  } else if (route.gateway && absl::IsPermissionDenied(status)) {
    err << "hint: the API key's roles do not allow " << command.method
        << " (docs/api.md lists who may call what)\n";
  }
  return kExitRefused;
}

int Print(const google::protobuf::Message& response,
          const Invocation& invocation, std::ostream& out, std::ostream& err) {
  if (invocation.json) {
    absl::StatusOr<std::string> json = FormatJson(response);
    if (!json.ok()) {
      err << "error: " << json.status().message() << "\n";
      return kExitRefused;
    }
    out << *json;
  } else {
    out << FormatHuman(response);
  }
  return kExitOk;
}

std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor* type) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(type)
          ->New());
}

// The value at dotted `path` of `message` as text: a string as is, an enum
// by its value's name, an int64 in decimal; "" when a message on the way is
// unset.
std::string TextAt(const google::protobuf::Message& message,
                   absl::string_view path) {
  const google::protobuf::Message* current = &message;
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const google::protobuf::FieldDescriptor* field =
        current->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr || field->is_repeated()) return "";
    const google::protobuf::Reflection* reflection = current->GetReflection();
    if (i + 1 < parts.size()) {
      if (field->message_type() == nullptr ||
          !reflection->HasField(*current, field)) {
        return "";
      }
      current = &reflection->GetMessage(*current, field);
    } else if (field->cpp_type() ==
               google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      return reflection->GetEnum(*current, field)->name();
    } else if (field->cpp_type() ==
               google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      return reflection->GetString(*current, field);
    } else if (field->cpp_type() ==
               google::protobuf::FieldDescriptor::CPPTYPE_INT64) {
      return absl::StrCat(reflection->GetInt64(*current, field));
    }
  }
  return "";
}

// Whether a flag of the command line (or --request) sets `path`.
bool GivenByFlag(const Command& command, const Invocation& invocation,
                 absl::string_view path) {
  if (invocation.request_json.has_value()) return true;
  for (const FieldFlag& flag : invocation.field_flags) {
    if (flag.name == path) return true;
    for (const Alias& alias : command.aliases) {
      if (alias.flag == flag.name && alias.field == path) return true;
    }
  }
  return false;
}

// The upload's reply, followed by `wait` until its file reaches a final
// state (Command::wait): that last reply goes to `*final`.
absl::Status WaitUntilFinal(const Wait& wait,
                            const google::protobuf::Message& uploaded,
                            const Route& route, absl::Time deadline,
                            std::unique_ptr<google::protobuf::Message>* final) {
  const Command* poll = FindCommand(wait.group, wait.name);
  const std::string id = TextAt(uploaded, wait.id_field);
  if (poll == nullptr || id.empty()) {
    return absl::InternalError(
        absl::StrCat("the reply has no ", wait.id_field, " to wait for"));
  }
  auto request = NewMessage(FindMessageType(poll->request_type));
  absl::Status built =
      BuildRequest(*poll, std::nullopt, {id}, {}, request.get());
  if (!built.ok()) return built;
  absl::Duration pause = absl::Milliseconds(100);
  while (true) {
    auto reply = NewMessage(FindMessageType(poll->response_type));
    absl::Status called =
        CallUnary(route, poll->method, *request, reply.get(),
                  std::min(kDefaultTimeout, deadline - absl::Now()));
    if (!called.ok()) return called;
    const std::string state = TextAt(*reply, wait.state_field);
    if (std::find(wait.final_states.begin(), wait.final_states.end(), state) !=
        wait.final_states.end()) {
      *final = std::move(reply);
      return absl::OkStatus();
    }
    if (absl::Now() + pause >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(id, " is still ", state, " (--timeout)"));
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Seconds(2));
  }
}

// A CSV export's bytes to --out (through a temporary file beside it,
// renamed once the whole export arrived) or to `out`; the header goes to
// `err` as a note when the CSV takes `out`.
int StreamCsv(const Command& command, const google::protobuf::Message& request,
              const Route& route, const Invocation& invocation,
              std::ostream& out, std::ostream& err) {
  const absl::Duration timeout =
      invocation.timeout.value_or(kDefaultTransferTimeout);
  auto first = NewMessage(FindMessageType(command.response_type));
  if (!invocation.out.has_value()) {
    absl::Status sent =
        ExportCsv(route, command.method, request, first.get(), out, timeout);
    if (!sent.ok()) return CallFailed(sent, command, route, err);
    return kExitOk;
  }
  const std::string path = *invocation.out;
  const std::string temporary = absl::StrCat(path, ".mbctl-partial");
  std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
  if (!file) {
    return UsageError(
        err, absl::StrCat("cannot write ", path, ": ", std::strerror(errno)),
        CommandHelpHint(command));
  }
  absl::Status sent =
      ExportCsv(route, command.method, request, first.get(), file, timeout);
  file.close();
  if (sent.ok() && !file) {
    sent = absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  if (sent.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    sent = absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  if (!sent.ok()) {
    std::remove(temporary.c_str());
    return CallFailed(sent, command, route, err);
  }
  const int printed = Print(*first, invocation, out, err);
  if (printed == kExitOk && !invocation.json) out << "written: " << path << "\n";
  return printed;
}

// `--csv=TABLE` of a report command: the same request, exported through
// the command's Command::csv.
int ExportAsCsv(const Command& command,
                const google::protobuf::Message& report_request,
                const Route& route, const Invocation& invocation,
                std::ostream& out, std::ostream& err) {
  const Command* exporter = FindCommand(command.csv->group, command.csv->name);
  const google::protobuf::Descriptor* type =
      exporter == nullptr ? nullptr : FindMessageType(exporter->request_type);
  const google::protobuf::FieldDescriptor* report =
      type == nullptr ? nullptr
                      : type->FindFieldByName(command.csv->report_field);
  if (report == nullptr || report->message_type() != report_request.GetDescriptor()) {
    err << "error: mbctl cannot export " << command.group << " "
        << command.name << " as CSV\n";
    return kExitRefused;
  }
  auto request = NewMessage(type);
  request->GetReflection()
      ->MutableMessage(request.get(), report)
      ->CopyFrom(report_request);
  absl::Status table =
      SetRequestField(request.get(), "table", *invocation.csv, "--csv");
  if (!table.ok()) {
    return UsageError(err, table.message(), CommandHelpHint(command));
  }
  return StreamCsv(*exporter, *request, route, invocation, out, err);
}

int Call(const Command& command, Invocation invocation, std::ostream& out,
         std::ostream& err) {
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
  absl::Status options = TakeCommandOptions(command, &invocation);
  if (!options.ok()) {
    return UsageError(err, options.message(), CommandHelpHint(command));
  }
  std::unique_ptr<google::protobuf::Message> request = NewMessage(request_type);
  std::unique_ptr<google::protobuf::Message> response =
      NewMessage(response_type);

  // After the group and the command's name, if it has one.
  const std::vector<std::string> positionals(
      invocation.words.begin() + (command.name.empty() ? 1 : 2),
      invocation.words.end());
  absl::Status built =
      BuildRequest(command, invocation.request_json, positionals,
                   invocation.field_flags, request.get());
  if (!built.ok()) {
    return UsageError(err, built.message(), CommandHelpHint(command));
  }

  absl::StatusOr<Route> chosen =
      ChooseRoute(ServiceOf(command), invocation.target, invocation.gateway,
                  invocation.api_key);
  if (!chosen.ok()) {
    return UsageError(err, chosen.status().message(), "mbctl help");
  }
  const Route& route = *chosen;
  if (invocation.csv.has_value()) {
    return ExportAsCsv(command, *request, route, invocation, out, err);
  }

  const bool transfer = command.call == CallKind::kUpload ||
                        command.call == CallKind::kDownload ||
                        command.call == CallKind::kCsvExport;
  const absl::Duration timeout = invocation.timeout.value_or(
      transfer ? kDefaultTransferTimeout : kDefaultTimeout);

  switch (command.call) {
    case CallKind::kUnary: {
      absl::Status called =
          CallUnary(route, command.method, *request, response.get(), timeout);
      if (!called.ok()) return CallFailed(called, command, route, err);
      return Print(*response, invocation, out, err);
    }

    case CallKind::kAllPages: {
      std::set<std::string> tokens;
      while (true) {
        auto page = NewMessage(response_type);
        absl::Status called =
            CallUnary(route, command.method, *request, page.get(), timeout);
        if (!called.ok()) return CallFailed(called, command, route, err);
        response->MergeFrom(*page);
        const std::string token = TextAt(*page, command.paging.reply_field);
        if (token.empty() || token == "0") break;
        if (!tokens.insert(token).second) {
          err << "error: the service gave the page token " << token
              << " twice\n";
          return kExitRefused;
        }
        absl::Status next = SetRequestField(
            request.get(), command.paging.request_field, token, "page");
        if (!next.ok()) return CallFailed(next, command, route, err);
      }
      // Merging kept the first page's token; the whole list has none.
      const std::vector<std::string> token_path =
          absl::StrSplit(command.paging.reply_field, '.');
      response->GetReflection()->ClearField(
          response.get(), response_type->FindFieldByName(token_path[0]));
      return Print(*response, invocation, out, err);
    }

    case CallKind::kUpload: {
      std::string path;
      std::string chunk_field;
      for (size_t i = 0; i < command.positionals.size(); ++i) {
        if (command.positionals[i].stream && i < positionals.size()) {
          path = positionals[i];
          chunk_field = command.positionals[i].field;
        }
      }
      std::ifstream file(path, std::ios::binary);
      if (!file) {
        return UsageError(
            err, absl::StrCat("cannot read ", path, ": ", std::strerror(errno)),
            CommandHelpHint(command));
      }
      const std::string name_path = "metadata.file_name";
      if (!GivenByFlag(command, invocation, name_path)) {
        const size_t slash = path.find_last_of('/');
        const std::string base =
            slash == std::string::npos ? path : path.substr(slash + 1);
        absl::Status named =
            SetRequestField(request.get(), name_path, base, "FILE");
        if (!named.ok()) {
          return UsageError(err, named.message(), CommandHelpHint(command));
        }
      }
      const absl::Time deadline = absl::Now() + timeout;
      absl::Status sent =
          UploadFile(route, command.method, *request, chunk_field, file,
                     response.get(), timeout);
      if (file.bad()) {
        return UsageError(err, sent.message(), CommandHelpHint(command));
      }
      if (!sent.ok()) return CallFailed(sent, command, route, err);
      if (!invocation.wait) return Print(*response, invocation, out, err);
      std::unique_ptr<google::protobuf::Message> final;
      absl::Status waited =
          WaitUntilFinal(*command.wait, *response, route, deadline, &final);
      if (!waited.ok()) return CallFailed(waited, command, route, err);
      return Print(*final, invocation, out, err);
    }

    case CallKind::kCsvExport:
      return StreamCsv(command, *request, route, invocation, out, err);

    case CallKind::kDownload: {
      absl::StatusOr<std::string> written =
          DownloadFile(route, command.method, *request,
                       invocation.out.value_or(""), response.get(), timeout);
      if (!written.ok()) {
        return CallFailed(written.status(), command, route, err);
      }
      const int printed = Print(*response, invocation, out, err);
      if (printed == kExitOk && !invocation.json) {
        out << "written: " << *written << "\n";
      }
      return printed;
    }
  }
  return kExitRefused;
}

// `mbctl backup create` (backup.h): `backup <service>` for each service, or
// --service's, all into one set.
int CreateBackups(Invocation invocation, std::ostream& out, std::ostream& err) {
  const std::string hint = absl::StrCat("mbctl help ", kBackupGroup);
  if (invocation.words.size() > 2) {
    return UsageError(err, "backup create takes no arguments", hint);
  }
  std::optional<std::string> service;
  bool destination = false;
  for (auto flag = invocation.field_flags.begin();
       flag != invocation.field_flags.end();) {
    if (flag->name == "service") {
      service = flag->value.value_or("");
      flag = invocation.field_flags.erase(flag);
      continue;
    }
    destination |= flag->name == "destination";
    ++flag;
  }
  if (invocation.target.has_value() && !service.has_value()) {
    return UsageError(
        err, "--target is one service's address: name it with --service",
        hint);
  }
  if (!destination) {
    invocation.field_flags.push_back(
        {"destination",
         absl::StrCat("backups/", absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(),
                                                   absl::UTCTimeZone()))});
  }
  int worst = kExitOk;
  bool any = false;
  for (const Command& command : Commands()) {
    if (command.group != kBackupGroup ||
        (service.has_value() && command.name != *service)) {
      continue;
    }
    any = true;
    Invocation one = invocation;
    one.words = {command.group, command.name};
    worst = std::max(worst, Call(command, std::move(one), out, err));
  }
  if (!any) {
    return UsageError(
        err, absl::StrCat("--service=", service.value_or(""),
                          ": no such service (membership, accrual, redemption, "
                          "settlement, reporting, gateway)"),
        hint);
  }
  return worst;
}

// `mbctl backup restore` (backup.h).
int RestoreBackupsCommand(const Invocation& invocation, std::ostream& out,
                          std::ostream& err) {
  const std::string hint = absl::StrCat("mbctl help ", kBackupGroup);
  if (invocation.words.size() > 2) {
    return UsageError(err, "backup restore takes no arguments", hint);
  }
  absl::StatusOr<std::vector<std::string>> restored =
      RestoreBackups(invocation.field_flags);
  if (absl::IsInvalidArgument(restored.status())) {
    return UsageError(err, restored.status().message(), hint);
  }
  if (!restored.ok()) {
    err << FormatError(restored.status());
    return kExitRefused;
  }
  for (const std::string& line : *restored) out << line << "\n";
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
  // A nameless command is its group's only one: the words after the group
  // are its arguments.
  const Command* command = FindCommand(words[0], "");
  if (command == nullptr && words.size() == 1) {
    if (invocation->help) {
      out << GroupUsage(words[0]);
      return kExitOk;
    }
    return UsageError(err, absl::StrCat("\"", words[0], "\" needs a command"),
                      absl::StrCat("mbctl help ", words[0]));
  }
  if (command == nullptr && words[0] == kBackupGroup &&
      (words[1] == "create" || words[1] == "restore")) {
    if (invocation->help) {
      out << GroupUsage(words[0]);
      return kExitOk;
    }
    return words[1] == "create"
               ? CreateBackups(*std::move(invocation), out, err)
               : RestoreBackupsCommand(*invocation, out, err);
  }
  if (command == nullptr) command = FindCommand(words[0], words[1]);
  if (command == nullptr) {
    return UsageError(
        err, absl::StrCat("unknown command \"", words[0], " ", words[1], "\""),
        "mbctl help");
  }
  if (invocation->help) {
    out << CommandUsage(*command);
    return kExitOk;
  }
  return Call(*command, std::move(*invocation), out, err);
}

}  // namespace mileagebank::mbctl
