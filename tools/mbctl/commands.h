// The table of mbctl's commands: what each one calls and how its arguments
// map onto the request message.
//
// mbctl is generic over protobuf reflection: a command is data, not code.
// To expose another RPC, add one Command row to commands.cc; to expose
// another service, add one Service row as well (and its proto library to
// tools/mbctl/BUILD). For example
//
//   {.group = "member", .name = "get", .service = "membership",
//    .method = "/mileagebank.membership.v1.Membership/GetMember",
//    .request_type = "mileagebank.membership.v1.GetMemberRequest",
//    .response_type = "mileagebank.membership.v1.GetMemberResponse",
//    .help = "Shows a member.",
//    .positionals = {{.name = "MEMBER_NUMBER", .field = "member_number"}}}
//
// makes `mbctl member get 1000000016 --resolve_merges` send a
// GetMemberRequest with member_number and resolve_merges set. A positional
// marked .optional = true may be left out: `mbctl accrual verify` checks
// every member, `mbctl accrual verify 1000000016` one. An alias of kind
// AliasKind::kSegment reads a whole flight from one word:
//
//   {.flag = "out", .field = "itinerary.outbound.segments",
//    .kind = AliasKind::kSegment}
//
// makes `--out=FM1501/2026-12-01/PEK-PVG` add that segment.
//
// Thread-safe: the tables are built once and never change.
#ifndef MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_
#define MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace mileagebank::mbctl {

// A service that commands call.
struct Service {
  // Short name used in messages, e.g. "membership".
  std::string name;
  // The environment variable holding the service's address when --target is
  // not given, e.g. "MBCTL_MEMBERSHIP_TARGET".
  std::string target_env;
  // The address used when neither --target nor the variable is set.
  std::string default_target;
  // Any generated message of the service's .proto. Taking its address makes
  // the linker keep the generated code, whose static initializer registers
  // the file's descriptors in the generated pool that mbctl looks them up in.
  const google::protobuf::Descriptor* (*linked_descriptor)();
};

// A positional argument: the n-th word after the command sets `field`.
struct Positional {
  // Shown in usage, e.g. "MEMBER_NUMBER".
  std::string name;
  // Dotted path of the request field it sets.
  std::string field;
  // The argument names a file whose content is the value (as a flag value
  // "@FILE" would).
  bool file = false;
  // The argument may be left out, and the field then stays unset (shown as
  // "[NAME]" in usage). Optional positionals follow the required ones
  // (tested).
  bool optional = false;
};

// How an alias's value is read.
enum class AliasKind {
  // As the field's own flag would be (see request_builder.h).
  kField,
  // A flight CARRIER+NUMBER/YYYY-MM-DD/FROM-TO, e.g. FM1501/2026-12-01/PEK-PVG,
  // setting carrier, flight_number, flight_date, origin and destination of a
  // message with those fields (tested). A repeated field gets one element
  // per flag, in order (--out=... --out=... for a connection); a singular
  // one is replaced.
  kSegment,
};

// A short flag for a long field path: --family for --profile.family_name.
struct Alias {
  // Without the dashes, e.g. "family".
  std::string flag;
  // Dotted path of the request field, e.g. "profile.family_name".
  std::string field;
  AliasKind kind = AliasKind::kField;
};

struct Command {
  // The two words naming the command: `mbctl <group> <name>`.
  std::string group;
  std::string name;
  // Service::name of the service called.
  std::string service;
  // The full gRPC method, "/<package>.<Service>/<Method>".
  std::string method;
  // Full names of the request and response messages.
  std::string request_type;
  std::string response_type;
  // One line for `mbctl help`.
  std::string help;
  std::vector<Positional> positionals;
  std::vector<Alias> aliases;
};

// Every service, and every command in the order `mbctl help` lists them.
const std::vector<Service>& Services();
const std::vector<Command>& Commands();

// The command `<group> <name>`, or nullptr.
const Command* FindCommand(absl::string_view group, absl::string_view name);
// Whether any command belongs to `group`.
bool IsGroup(absl::string_view group);
// The service `command` calls; every command's service exists (tested).
const Service& ServiceOf(const Command& command);

// The message type `full_name` (a request_type or response_type) from the
// generated pool, or nullptr.
const google::protobuf::Descriptor* FindMessageType(
    absl::string_view full_name);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_
