// The help texts of mbctl, generated from the command table and the request
// messages' descriptors, so that they never drift from what mbctl accepts.
//
// Thread-safe: the functions are pure.
#ifndef MILEAGEBANK_TOOLS_MBCTL_HELP_H_
#define MILEAGEBANK_TOOLS_MBCTL_HELP_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {

// `mbctl help`: every group and command with its one-line help, where calls
// go (the gateway, or a service directly), the global flags and the exit
// codes.
std::string GeneralUsage();

// `mbctl <group> --help`: the commands of `group`.
std::string GroupUsage(absl::string_view group);

// "member get", or "audit" for a group's nameless command: what follows
// "mbctl" to call it.
std::string CommandWords(const Command& command);

// "mbctl member get MEMBER_NUMBER": the command's synopsis.
std::string Synopsis(const Command& command);

// `mbctl <group> <command> --help`: the synopsis, positional arguments,
// every settable field path of the request (recursively through nested
// messages) with its type, and the aliases.
std::string CommandUsage(const Command& command);

// One "  --path=<type>" line per settable field below `descriptor`.
std::string DescribeRequestFields(
    const google::protobuf::Descriptor* descriptor);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_HELP_H_
