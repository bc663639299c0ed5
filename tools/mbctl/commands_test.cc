// Checks the command table against the generated descriptors, so that a bad
// row fails here rather than in an operator's hands.
#include "tools/mbctl/commands.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace mileagebank::mbctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The messages that request_builder sets from one word.
const std::set<std::string> kValueMessages = {
    "mileagebank.common.v1.Date", "google.protobuf.Duration",
    "google.protobuf.FieldMask", "google.protobuf.Timestamp"};

// The field at dotted `path` below `descriptor`, or nullptr. Like the request
// builder, a path may step into a list of messages (each flag adds one).
const FieldDescriptor* FieldAt(const Descriptor* descriptor,
                               const std::string& path) {
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

// "/pkg.Service/Method" is pkg.Service.Method in the pool.
const google::protobuf::MethodDescriptor* MethodOf(const Command& command) {
  std::vector<std::string> parts = absl::StrSplit(command.method, '/');
  if (parts.size() != 3) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat(parts[1], ".", parts[2]));
}

// Each part names a singular field of `message` that one word sets.
void ExpectPartsAreFieldsOf(const Parts& parts, const Descriptor* message) {
  ASSERT_NE(message, nullptr);
  EXPECT_GE(parts.fields.size(), 2u);
  for (const std::string& name : parts.fields) {
    const FieldDescriptor* field = message->FindFieldByName(name);
    ASSERT_NE(field, nullptr) << message->full_name() << "." << name;
    EXPECT_FALSE(field->is_repeated()) << name;
    EXPECT_TRUE(field->message_type() == nullptr ||
                kValueMessages.count(field->message_type()->full_name()) == 1)
        << name;
  }
}

TEST(CommandsTest, ServicesNameTheirTargetVariable) {
  EXPECT_EQ(GatewayService().target_env, "MBCTL_GATEWAY");
  EXPECT_EQ(GatewayService().default_target, "127.0.0.1:7100");
  for (const Service& service : Services()) {
    if (&service == &GatewayService()) continue;
    EXPECT_EQ(
        service.target_env,
        absl::StrCat("MBCTL_", absl::AsciiStrToUpper(service.name), "_TARGET"));
    EXPECT_FALSE(service.default_target.empty());
    EXPECT_NE(service.linked_descriptor(), nullptr);
  }
}

TEST(CommandsTest, EveryCommandMatchesItsMethod) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const Command& command : Commands()) {
    SCOPED_TRACE(command.group + " " + command.name);
    EXPECT_TRUE(seen.insert({command.group, command.name}).second)
        << "listed twice";
    EXPECT_FALSE(command.help.empty());
    bool known_service = false;
    for (const Service& service : Services()) {
      known_service |= service.name == command.service;
    }
    EXPECT_TRUE(known_service) << command.service;

    // "/pkg.Service/Method" is pkg.Service.Method in the pool.
    std::vector<std::string> parts = absl::StrSplit(command.method, '/');
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_TRUE(parts[0].empty());
    const google::protobuf::MethodDescriptor* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            absl::StrCat(parts[1], ".", parts[2]));
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->input_type(), FindMessageType(command.request_type));
    EXPECT_EQ(method->output_type(), FindMessageType(command.response_type));
  }
}

TEST(CommandsTest, PositionalsAndAliasesNameRequestFields) {
  const std::set<std::string> global_flags = {
      "target", "gateway", "api-key", "timeout", "json", "request", "help"};
  for (const Command& command : Commands()) {
    SCOPED_TRACE(command.group + " " + command.name);
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    for (const Positional& positional : command.positionals) {
      if (positional.parts.has_value()) {
        const Descriptor* holder = request;
        if (!positional.field.empty()) {
          const FieldDescriptor* field = FieldAt(request, positional.field);
          ASSERT_NE(field, nullptr) << positional.field;
          holder = field->message_type();
        }
        ExpectPartsAreFieldsOf(*positional.parts, holder);
        continue;
      }
      const FieldDescriptor* field = FieldAt(request, positional.field);
      ASSERT_NE(field, nullptr) << positional.field;
      if (positional.stream) {
        EXPECT_EQ(command.call, CallKind::kUpload);
        EXPECT_EQ(field->type(), FieldDescriptor::TYPE_BYTES);
        EXPECT_NE(field->real_containing_oneof(), nullptr)
            << "the request must carry either the chunk or the rest";
        continue;
      }
      EXPECT_FALSE(field->is_repeated()) << positional.field;
      // A message only if one word sets it, as a date does.
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        EXPECT_EQ(kValueMessages.count(field->message_type()->full_name()), 1u)
            << positional.field;
      }
      if (positional.file) {
        EXPECT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_STRING);
      }
    }
    std::set<std::string> flags;
    for (const Alias& alias : command.aliases) {
      const FieldDescriptor* field = FieldAt(request, alias.field);
      ASSERT_NE(field, nullptr) << alias.field;
      EXPECT_EQ(global_flags.count(alias.flag), 0u) << alias.flag;
      EXPECT_TRUE(flags.insert(alias.flag).second) << alias.flag;
      if (alias.kind == AliasKind::kParts) {
        ASSERT_NE(field->message_type(), nullptr) << alias.field;
        ExpectPartsAreFieldsOf(alias.parts, field->message_type());
      }
      // A plain alias sets one value: a scalar, or a message one word sets.
      if (alias.kind == AliasKind::kField &&
          field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        EXPECT_EQ(kValueMessages.count(field->message_type()->full_name()), 1u)
            << alias.field;
      }
    }
  }
}

// A segment alias names a message with the fields a flight sets, of the
// types the request builder gives them.
TEST(CommandsTest, SegmentAliasesNameSegments) {
  int segment_aliases = 0;
  for (const Command& command : Commands()) {
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    for (const Alias& alias : command.aliases) {
      if (alias.kind != AliasKind::kSegment) continue;
      SCOPED_TRACE(
          absl::StrCat(command.group, " ", command.name, " --", alias.flag));
      ++segment_aliases;
      const FieldDescriptor* field = FieldAt(request, alias.field);
      ASSERT_NE(field, nullptr);
      ASSERT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE);
      const Descriptor* segment = field->message_type();
      for (const char* name : {"carrier", "origin", "destination"}) {
        const FieldDescriptor* part = segment->FindFieldByName(name);
        ASSERT_NE(part, nullptr) << name;
        EXPECT_EQ(part->cpp_type(), FieldDescriptor::CPPTYPE_STRING) << name;
        EXPECT_FALSE(part->is_repeated()) << name;
      }
      const FieldDescriptor* number = segment->FindFieldByName("flight_number");
      ASSERT_NE(number, nullptr);
      EXPECT_EQ(number->cpp_type(), FieldDescriptor::CPPTYPE_INT32);
      const FieldDescriptor* date = segment->FindFieldByName("flight_date");
      ASSERT_NE(date, nullptr);
      ASSERT_NE(date->message_type(), nullptr);
      EXPECT_EQ(date->message_type()->full_name(),
                "mileagebank.common.v1.Date");
    }
  }
  EXPECT_GT(segment_aliases, 0);
}

// The shapes that CallKind and Wait rely on, as commands.h describes them.
TEST(CommandsTest, CallKindsFindTheFieldsTheyUse) {
  int uploads = 0, downloads = 0, all_pages = 0, csv_exports = 0;
  for (const Command& command : Commands()) {
    SCOPED_TRACE(command.group + " " + command.name);
    const Descriptor* request = FindMessageType(command.request_type);
    const Descriptor* response = FindMessageType(command.response_type);
    ASSERT_NE(request, nullptr);
    ASSERT_NE(response, nullptr);
    int streamed = 0;
    for (const Positional& positional : command.positionals) {
      streamed += positional.stream;
    }
    EXPECT_EQ(streamed, command.call == CallKind::kUpload ? 1 : 0);
    EXPECT_TRUE(!command.wait.has_value() || command.call == CallKind::kUpload);
    switch (command.call) {
      case CallKind::kUnary:
        break;
      case CallKind::kAllPages: {
        ++all_pages;
        const FieldDescriptor* token =
            FieldAt(request, command.paging.request_field);
        ASSERT_NE(token, nullptr);
        const FieldDescriptor* next =
            FieldAt(response, command.paging.reply_field);
        ASSERT_NE(next, nullptr);
        EXPECT_EQ(token->cpp_type(), next->cpp_type());
        EXPECT_TRUE(token->cpp_type() == FieldDescriptor::CPPTYPE_STRING ||
                    token->cpp_type() == FieldDescriptor::CPPTYPE_INT64);
        EXPECT_FALSE(next->is_repeated());
        break;
      }
      case CallKind::kUpload: {
        ++uploads;
        const FieldDescriptor* name = FieldAt(request, "metadata.file_name");
        ASSERT_NE(name, nullptr);
        EXPECT_EQ(name->cpp_type(), FieldDescriptor::CPPTYPE_STRING);
        break;
      }
      case CallKind::kDownload: {
        ++downloads;
        const FieldDescriptor* chunk = response->FindFieldByName("chunk");
        ASSERT_NE(chunk, nullptr);
        EXPECT_EQ(chunk->type(), FieldDescriptor::TYPE_BYTES);
        EXPECT_EQ(FieldAt(response, "file.file_name")->cpp_type(),
                  FieldDescriptor::CPPTYPE_STRING);
        EXPECT_EQ(FieldAt(response, "file.sha256")->cpp_type(),
                  FieldDescriptor::CPPTYPE_STRING);
        EXPECT_EQ(FieldAt(response, "file.size_bytes")->cpp_type(),
                  FieldDescriptor::CPPTYPE_INT64);
        break;
      }
      case CallKind::kCsvExport: {
        ++csv_exports;
        const FieldDescriptor* chunk = response->FindFieldByName("chunk");
        ASSERT_NE(chunk, nullptr);
        EXPECT_EQ(chunk->type(), FieldDescriptor::TYPE_BYTES);
        const FieldDescriptor* header = response->FindFieldByName("header");
        ASSERT_NE(header, nullptr);
        EXPECT_NE(header->message_type(), nullptr);
        break;
      }
    }
    // The method streams the way the command calls it.
    const google::protobuf::MethodDescriptor* method = MethodOf(command);
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->client_streaming(), command.call == CallKind::kUpload);
    EXPECT_EQ(method->server_streaming(),
              command.call == CallKind::kDownload ||
                  command.call == CallKind::kCsvExport);
  }
  EXPECT_GT(csv_exports, 0);
  EXPECT_GT(uploads, 0);
  EXPECT_GT(downloads, 0);
  EXPECT_GT(all_pages, 0);
}

TEST(CommandsTest, WaitPollsACommandWithTheUploadedId) {
  for (const Command& command : Commands()) {
    if (!command.wait.has_value()) continue;
    SCOPED_TRACE(command.group + " " + command.name);
    const Wait& wait = *command.wait;
    const Command* poll = FindCommand(wait.group, wait.name);
    ASSERT_NE(poll, nullptr);
    ASSERT_FALSE(poll->positionals.empty());
    EXPECT_EQ(poll->call, CallKind::kUnary);
    const FieldDescriptor* id =
        FieldAt(FindMessageType(command.response_type), wait.id_field);
    ASSERT_NE(id, nullptr);
    EXPECT_EQ(id->cpp_type(), FieldDescriptor::CPPTYPE_STRING);
    const FieldDescriptor* state =
        FieldAt(FindMessageType(poll->response_type), wait.state_field);
    ASSERT_NE(state, nullptr);
    ASSERT_EQ(state->cpp_type(), FieldDescriptor::CPPTYPE_ENUM);
    ASSERT_FALSE(wait.final_states.empty());
    for (const std::string& final_state : wait.final_states) {
      EXPECT_NE(state->enum_type()->FindValueByName(final_state), nullptr)
          << final_state;
    }
  }
}

// --wait and --out are options, so no flag of those commands may mean a
// request field of that name.
TEST(CommandsTest, OptionsDoNotShadowFields) {
  for (const Command& command : Commands()) {
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    std::vector<std::string> options;
    if (command.wait.has_value()) options.push_back("wait");
    if (command.call == CallKind::kDownload ||
        command.call == CallKind::kCsvExport || command.csv.has_value()) {
      options.push_back("out");
    }
    if (command.csv.has_value()) options.push_back("csv");
    for (const std::string& option : options) {
      EXPECT_EQ(request->FindFieldByName(option), nullptr)
          << command.group << " " << command.name << " " << option;
      for (const Alias& alias : command.aliases) {
        EXPECT_NE(alias.flag, option)
            << command.group << " " << command.name << " " << option;
      }
    }
  }
}

// --csv=TABLE puts the command's request into a field of an export
// command's request that has exactly that type.
TEST(CommandsTest, CsvExportsHoldTheReportRequest) {
  int reports = 0;
  for (const Command& command : Commands()) {
    if (!command.csv.has_value()) continue;
    SCOPED_TRACE(command.group + " " + command.name);
    ++reports;
    const Command* exporter =
        FindCommand(command.csv->group, command.csv->name);
    ASSERT_NE(exporter, nullptr);
    EXPECT_EQ(exporter->call, CallKind::kCsvExport);
    EXPECT_EQ(exporter->service, command.service);
    const Descriptor* request = FindMessageType(exporter->request_type);
    ASSERT_NE(request, nullptr);
    const FieldDescriptor* report =
        request->FindFieldByName(command.csv->report_field);
    ASSERT_NE(report, nullptr);
    ASSERT_NE(report->message_type(), nullptr);
    EXPECT_EQ(report->message_type()->full_name(), command.request_type);
    const FieldDescriptor* table = request->FindFieldByName("table");
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->cpp_type(), FieldDescriptor::CPPTYPE_STRING);
  }
  EXPECT_EQ(reports, 8);
}

TEST(CommandsTest, PartsSyntaxNamesTheFields) {
  EXPECT_EQ(PartsSyntax(
                {.separator = ':', .fields = {"currency_code", "minor_units"}}),
            "CURRENCY_CODE:MINOR_UNITS");
  EXPECT_EQ(PartsSyntax({.separator = '-', .fields = {"year", "month"}}),
            "YEAR-MONTH");
}

TEST(CommandsTest, OptionalPositionalsComeLast) {
  for (const Command& command : Commands()) {
    SCOPED_TRACE(command.group + " " + command.name);
    bool optional_seen = false;
    for (const Positional& positional : command.positionals) {
      EXPECT_FALSE(optional_seen && !positional.optional)
          << positional.name << " is required after an optional argument";
      optional_seen |= positional.optional;
    }
  }
}

// Every RPC of the services in a Service row's .proto has a command calling
// it on that service, but the member sessions the portal calls.
TEST(CommandsTest, EveryRpcHasACommand) {
  const std::set<std::string> member_sessions(
      std::begin(kMemberSessionMethods), std::end(kMemberSessionMethods));
  for (const Service& service : Services()) {
    const google::protobuf::FileDescriptor* file =
        service.linked_descriptor()->file();
    ASSERT_GT(file->service_count(), 0) << service.name;
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* rpc_service = file->service(s);
      for (int m = 0; m < rpc_service->method_count(); ++m) {
        const std::string method = absl::StrCat(
            "/", rpc_service->full_name(), "/", rpc_service->method(m)->name());
        if (member_sessions.count(method) == 1) continue;
        int calls = 0;
        for (const Command& command : Commands()) {
          if (command.method == method) {
            ++calls;
            EXPECT_EQ(command.service, service.name) << method;
          }
        }
        EXPECT_GE(calls, 1) << method << " has no command";
      }
    }
  }
}

TEST(CommandsTest, RequestFieldsDoNotShadowGlobalFlags) {
  for (const Command& command : Commands()) {
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    for (const char* global : {"target", "gateway", "api-key", "timeout",
                               "json", "request", "help"}) {
      EXPECT_EQ(request->FindFieldByName(global), nullptr)
          << command.group << " " << command.name << " has a field " << global
          << " that only --request can set";
    }
  }
}

TEST(CommandsTest, FindsCommandsAndGroups) {
  ASSERT_NE(FindCommand("member", "get"), nullptr);
  EXPECT_EQ(FindCommand("member", "get")->positionals.size(), 1u);
  EXPECT_EQ(FindCommand("member", "frob"), nullptr);
  EXPECT_TRUE(IsGroup("member"));
  EXPECT_TRUE(IsGroup("accrual"));
  EXPECT_FALSE(IsGroup("frob"));
  ASSERT_NE(FindCommand("accrual", "verify"), nullptr);
  EXPECT_EQ(ServiceOf(*FindCommand("accrual", "verify")).target_env,
            "MBCTL_ACCRUAL_TARGET");
  EXPECT_TRUE(FindCommand("accrual", "verify")->positionals[0].optional);
  EXPECT_TRUE(IsGroup("award"));
  ASSERT_NE(FindCommand("award", "set-seats"), nullptr);
  EXPECT_EQ(ServiceOf(*FindCommand("award", "set-seats")).target_env,
            "MBCTL_REDEMPTION_TARGET");
  EXPECT_EQ(ServiceOf(*FindCommand("award", "set-seats")).default_target,
            "127.0.0.1:7103");
  for (const char* group :
       {"partner", "file", "outbox", "outbound", "statement"}) {
    EXPECT_TRUE(IsGroup(group)) << group;
  }
  ASSERT_NE(FindCommand("partner", "list"), nullptr);
  EXPECT_EQ(ServiceOf(*FindCommand("partner", "list")).target_env,
            "MBCTL_SETTLEMENT_TARGET");
  EXPECT_EQ(ServiceOf(*FindCommand("partner", "list")).default_target,
            "127.0.0.1:7104");
  ASSERT_NE(FindCommand("key", "create"), nullptr);
  EXPECT_EQ(&ServiceOf(*FindCommand("key", "create")), &GatewayService());
  // `mbctl audit` is its group's nameless command.
  ASSERT_NE(FindCommand("audit", ""), nullptr);
  EXPECT_EQ(FindCommand("audit", "")->call, CallKind::kAllPages);
  EXPECT_EQ(FindCommand("member", ""), nullptr);
}

// A nameless command is called by its group's word alone, so it must be the
// group's only command.
TEST(CommandsTest, NamelessCommandsAreAloneInTheirGroup) {
  for (const Command& command : Commands()) {
    if (!command.name.empty()) continue;
    for (const Command& other : Commands()) {
      EXPECT_TRUE(&other == &command || other.group != command.group)
          << command.group << " " << other.name;
    }
  }
}

}  // namespace
}  // namespace mileagebank::mbctl
