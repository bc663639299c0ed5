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
// GetMemberRequest with member_number and resolve_merges set. A command
// named "" is its group's only one, called by the group's word alone
// (`mbctl audit --member=1000000016`). A positional marked .optional = true
// may be left out: `mbctl accrual verify` checks every member,
// `mbctl accrual verify 1000000016` one. An alias of kind
// AliasKind::kSegment reads a whole flight from one word:
//
//   {.flag = "out", .field = "itinerary.outbound.segments",
//    .kind = AliasKind::kSegment}
//
// makes `--out=FM1501/2026-12-01/PEK-PVG` add that segment. A value in parts
// (Parts) sets several fields from one word:
//
//   {.flag = "sale-price", .field = "partner.contract.mile_sale_price",
//    .kind = AliasKind::kParts,
//    .parts = {.separator = ':', .fields = {"currency_code", "minor_units"}}}
//
// makes `--sale-price=CNY:1250` set a Money of 12.50 yuan. Most commands make
// one unary call; CallKind names the others (all pages of a list, a file
// streamed up or down, a CSV export). A report command with Command::csv
// exports one table as CSV when given --csv=TABLE:
//
//   mbctl report liability --from=2026-01-01 --to=2026-12-31 --csv=monthly
//       --out=liability.csv
//
// Thread-safe: the tables are built once and never change.
#ifndef MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_
#define MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace mileagebank::mbctl {

// A service that commands call. Every command goes through the gateway
// unless pointed at its service (route.h); the gateway is a Service too, for
// its own operations.
struct Service {
  // Short name used in messages, e.g. "membership".
  std::string name;
  // The environment variable holding the service's address, which sends the
  // service's commands there directly, e.g. "MBCTL_MEMBERSHIP_TARGET". For
  // the gateway, "MBCTL_GATEWAY": where every command goes by default.
  std::string target_env;
  // The service's own address, for help texts; the gateway's is where
  // commands go when neither --gateway nor $MBCTL_GATEWAY is set.
  std::string default_target;
  // Any generated message of the service's .proto. Taking its address makes
  // the linker keep the generated code, whose static initializer registers
  // the file's descriptors in the generated pool that mbctl looks them up in.
  const google::protobuf::Descriptor* (*linked_descriptor)();
};

// A value written in parts, each setting one field of a message: with
// separator ':' and fields {"currency_code", "minor_units"}, "CNY:1250" sets
// both. Every part is read as its field's own flag would be
// (request_builder.h).
struct Parts {
  char separator = ':';
  std::vector<std::string> fields;
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
  // Set: the argument is written in these parts, setting those fields of
  // the message at `field` ("" for the request itself): PERIOD "2026-09"
  // sets year and month.
  std::optional<Parts> parts;
  // CallKind::kUpload only: the argument names a local file whose bytes
  // follow the request, 1 MiB per message, each message holding nothing but
  // `field` (a bytes field). The request itself does not hold them.
  bool stream = false;
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
  // A value in Alias::parts, e.g. CNY:1250, setting those fields of the
  // message at `field`. A list of messages gets one element per group, the
  // groups separated by commas (--class=F:150,J:125) or given as flags
  // (--class=F:150 --class=J:125); a singular message is replaced.
  kParts,
};

// A short flag for a long field path: --family for --profile.family_name.
struct Alias {
  // Without the dashes, e.g. "family".
  std::string flag;
  // Dotted path of the request field, e.g. "profile.family_name".
  std::string field;
  AliasKind kind = AliasKind::kField;
  // kParts: how the value is split.
  Parts parts;
};

// How a command calls its method.
enum class CallKind {
  // One request, one response.
  kUnary,
  // A list read to its end: the request again with Command::paging's
  // request field (page.page_token) set to the reply's (page.next_page_token)
  // until that is empty or 0, the replies merged (lists appended) into one,
  // printed with the reply field's top-level field (page) cleared.
  kAllPages,
  // Client streaming: the request, then the bytes of the Positional::stream
  // file in messages of the same type. When the request has an unset
  // metadata.file_name, it gets the local file's base name.
  kUpload,
  // Server streaming: the first reply describes the file (its `file` field
  // holding file_name, size_bytes and sha256, as
  // mileagebank.settlement.v1.OutboxFile does), the replies after it hold
  // the bytes in `chunk`. They are written to --out (default: the file's
  // name in the current folder), and kept only when their size and SHA-256
  // are the ones the first reply announced.
  kDownload,
  // Server streaming of a CSV: the first reply's `header` describes it
  // (file_name, columns, rows), the replies after it hold its bytes in
  // `chunk`. They go to --out=PATH (kept only when the stream ends well),
  // or to standard output.
  kCsvExport,
};

// How `--csv=TABLE` turns a command into a CSV export: the kCsvExport
// command `group name` is called instead, its request holding this
// command's request at `report_field` and TABLE in `table`.
struct CsvExport {
  std::string group;
  std::string name;
  std::string report_field;
};

// How `--wait` follows an upload to its end: the command `group name` is
// called with the upload reply's `id_field` as its first argument until its
// reply's `state_field` (an enum) holds one of `final_states`. That reply is
// then printed instead of the upload's.
struct Wait {
  std::string group;
  std::string name;
  std::string id_field;
  std::string state_field;
  std::vector<std::string> final_states;
};

// The fields a CallKind::kAllPages command pages by: dotted paths of a
// string or int64 field in the request and in the reply.
struct Paging {
  std::string request_field = "page.page_token";
  std::string reply_field = "page.next_page_token";
};

struct Command {
  // The two words naming the command: `mbctl <group> <name>`; name "" for
  // a group's only command, `mbctl <group>`.
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
  // Fields set before the arguments and flags, as (path, value): `partner
  // suspend` is ChangePartnerStatus with status SUSPENDED.
  std::vector<std::pair<std::string, std::string>> presets;
  CallKind call = CallKind::kUnary;
  // kUpload: what --wait does; unset, the command has no --wait.
  std::optional<Wait> wait;
  // Set: the command takes --csv=TABLE (and --out=PATH).
  std::optional<CsvExport> csv;
  // kAllPages: how the pages follow one another.
  Paging paging;
};

// The gateway's operations for member sessions (log in, refresh, log out):
// the member portal's, so no command calls them.
inline constexpr absl::string_view kMemberSessionMethods[] = {
    "/mileagebank.gateway.v1.Gateway/Login",
    "/mileagebank.gateway.v1.Gateway/Refresh",
    "/mileagebank.gateway.v1.Gateway/Logout",
};

// Every service, and every command in the order `mbctl help` lists them.
const std::vector<Service>& Services();
const std::vector<Command>& Commands();

// How a value in `parts` is written, e.g. "CURRENCY_CODE:MINOR_UNITS" or
// "YEAR-MONTH": the field names in upper case between separators.
std::string PartsSyntax(const Parts& parts);

// The command `<group> <name>` (name "" for a group's nameless command), or
// nullptr.
const Command* FindCommand(absl::string_view group, absl::string_view name);
// Whether any command belongs to `group`.
bool IsGroup(absl::string_view group);
// The service `command` calls; every command's service exists (tested).
const Service& ServiceOf(const Command& command);
// The gateway's row of Services().
const Service& GatewayService();

// The message type `full_name` (a request_type or response_type) from the
// generated pool, or nullptr.
const google::protobuf::Descriptor* FindMessageType(
    absl::string_view full_name);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_COMMANDS_H_
