// LoadConfig: a service's settings from a textproto file and flags.
//
// Every service describes its settings as one protobuf message (see
// protos/mileagebank/config/v1). The command line is
//
//   membership --config=membership.textproto --server.listen_address=0.0.0.0:7101
//
// --config names a textproto file read first; every other --path=value sets
// the field at that dotted path (repeated fields: once per flag, appended),
// overriding the file. Values are parsed by the field's type (enum values by
// name, bools as true/false). An unknown flag, a bad value or a file that does
// not parse is an error naming it: a service refuses to start rather than
// run with a setting it did not understand.
#ifndef MILEAGEBANK_LIBS_SERVER_CONFIG_LOADER_H_
#define MILEAGEBANK_LIBS_SERVER_CONFIG_LOADER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace mileagebank::server {

absl::Status LoadConfig(int argc, const char* const* argv,
                        google::protobuf::Message* config);

// Sets the field at `path` in `message` from `value` (as a flag would).
absl::Status SetField(google::protobuf::Message* message,
                      absl::string_view path, absl::string_view value);

// One line per settable field with its type, for --help.
std::string DescribeFlags(const google::protobuf::Descriptor* descriptor);

}  // namespace mileagebank::server

#endif  // MILEAGEBANK_LIBS_SERVER_CONFIG_LOADER_H_
