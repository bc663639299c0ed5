// mbctl's command line, split into its parts.
//
//   mbctl member get 1000000016 --json --target=10.0.0.5:7101
//
// gives words {"member", "get", "1000000016"}, json and target. The global
// flags --target, --gateway, --api-key, --timeout, --json, --request and
// --help (or -h) may appear
// anywhere; every other --name[=value] is a request flag, kept in order for
// the request builder. A negative number ("-500") is a word, so that
// `mbctl accrual adjust 1000000016 -500` debits. After "--" every argument
// is a word, even one starting with "-".
//
// Thread-safe: the function is pure.
#ifndef MILEAGEBANK_TOOLS_MBCTL_ARGUMENTS_H_
#define MILEAGEBANK_TOOLS_MBCTL_ARGUMENTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/mbctl/commands.h"
#include "tools/mbctl/request_builder.h"

namespace mileagebank::mbctl {

struct Invocation {
  // The arguments that are not flags: group, command, positional arguments.
  std::vector<std::string> words;
  // The request flags, in the order given.
  std::vector<FieldFlag> field_flags;
  // --target=HOST:PORT: the service itself, not the gateway (route.h).
  std::optional<std::string> target;
  // --gateway=HOST:PORT.
  std::optional<std::string> gateway;
  // --api-key=KEY, sent to the gateway.
  std::optional<std::string> api_key;
  // --timeout=SECONDS: the call's deadline. Unset: kDefaultTimeout, or
  // kDefaultTransferTimeout for a file transfer and for --wait.
  std::optional<absl::Duration> timeout;
  // --json: print the response as protobuf JSON.
  bool json = false;
  // --help or -h.
  bool help = false;
  // --request=JSON (or @FILE).
  std::optional<std::string> request_json;
  // Options of some commands, not request fields (TakeCommandOptions):
  // --wait of a command with Command::wait, --out=PATH of a download or a
  // CSV export, --csv=TABLE of a command with Command::csv.
  bool wait = false;
  std::optional<std::string> out;
  std::optional<std::string> csv;
};

inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);
// A gigabyte over a slow line, or a long file's processing.
inline constexpr absl::Duration kDefaultTransferTimeout = absl::Hours(1);

// Splits `args` (the command line without the program name). A global flag
// with a bad value is INVALID_ARGUMENT naming it.
absl::StatusOr<Invocation> ParseArguments(const std::vector<std::string>& args);

// Moves the options `command` has beyond its request fields out of
// invocation->field_flags: --wait (true/false, bare means true) when the
// command has a Command::wait, --out=PATH for a CallKind::kDownload or
// kCsvExport or a command with Command::csv, --csv=TABLE for the latter. A
// bad value is INVALID_ARGUMENT naming the flag.
absl::Status TakeCommandOptions(const Command& command, Invocation* invocation);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_ARGUMENTS_H_
