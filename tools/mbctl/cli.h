// mbctl's whole run: arguments in, exit code out.
//
//   return Run({"member", "get", "1000000016"}, std::cout, std::cerr);
//
// Looks the command up in the table (commands.h), builds its request
// (request_builder.h), calls the service (generic_call.h, or file_transfer.h
// to stream a file) and prints the response or the error (printer.h). Help and
// usage texts come from help.h.
//
// Thread-compatible.
#ifndef MILEAGEBANK_TOOLS_MBCTL_CLI_H_
#define MILEAGEBANK_TOOLS_MBCTL_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace mileagebank::mbctl {

// The exit codes of mbctl.
enum ExitCode : int {
  kExitOk = 0,
  // The service refused the request (any gRPC error but the ones below).
  kExitRefused = 1,
  // Detected before calling: unknown command or flag, bad value, missing
  // argument.
  kExitUsage = 2,
  // The service could not be reached in time (UNAVAILABLE,
  // DEADLINE_EXCEEDED).
  kExitUnreachable = 3,
};

// Runs mbctl with `args` (the command line without the program name): the
// response goes to `out`, errors and hints to `err`. The service address
// comes from --target, else the environment variable named in the table,
// else the table's default.
int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_CLI_H_
