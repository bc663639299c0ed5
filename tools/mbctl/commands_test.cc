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

// The field at dotted `path` below `descriptor`, or nullptr.
const FieldDescriptor* FieldAt(const Descriptor* descriptor,
                               const std::string& path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (field != nullptr) {
      if (field->message_type() == nullptr || field->is_repeated()) {
        return nullptr;
      }
      descriptor = field->message_type();
    }
    field = descriptor->FindFieldByName(std::string(part));
    if (field == nullptr) return nullptr;
  }
  return field;
}

TEST(CommandsTest, ServicesNameTheirTargetVariable) {
  for (const Service& service : Services()) {
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
  const std::set<std::string> global_flags = {"target", "timeout", "json",
                                              "request", "help"};
  for (const Command& command : Commands()) {
    SCOPED_TRACE(command.group + " " + command.name);
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    for (const Positional& positional : command.positionals) {
      const FieldDescriptor* field = FieldAt(request, positional.field);
      ASSERT_NE(field, nullptr) << positional.field;
      EXPECT_NE(field->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE)
          << positional.field;
      if (positional.file) {
        EXPECT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_STRING);
      }
    }
    std::set<std::string> flags;
    for (const Alias& alias : command.aliases) {
      EXPECT_NE(FieldAt(request, alias.field), nullptr) << alias.field;
      EXPECT_EQ(global_flags.count(alias.flag), 0u) << alias.flag;
      EXPECT_TRUE(flags.insert(alias.flag).second) << alias.flag;
    }
  }
}

TEST(CommandsTest, RequestFieldsDoNotShadowGlobalFlags) {
  for (const Command& command : Commands()) {
    const Descriptor* request = FindMessageType(command.request_type);
    ASSERT_NE(request, nullptr);
    for (const char* global :
         {"target", "timeout", "json", "request", "help"}) {
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
  EXPECT_FALSE(IsGroup("frob"));
}

}  // namespace
}  // namespace mileagebank::mbctl
