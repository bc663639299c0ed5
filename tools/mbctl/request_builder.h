// Builds a command's request message from the command line, by reflection.
//
//   mbctl member enrol --family=Wang --birth=1985-04-12 --channel=SALES_OFFICE
//
// fills EnrolRequest.profile.family_name, .profile.date_of_birth and
// .actor.channel. In order:
//   1. --request=JSON (or --request=@FILE) sets the whole request from
//      protobuf JSON;
//   2. the command's presets set their fields (Command::presets);
//   3. positional arguments set their fields (Command::positionals); one
//      with Positional::parts sets several ("2026-09": year and month), and
//      a Positional::stream file is left to the caller;
//   4. every --path=value flag sets the field at that dotted path, an alias
//      (Command::aliases) standing for its path. Values are parsed by the
//      field's type as libs/server's SetField does (enum values by name, also
//      in lower case; bools true/false, a bare --flag meaning true); repeated
//      fields take the flag several times. On top of that:
//      - a string or bytes value "@FILE" is the content of FILE ("@@..." is
//        a literal "@...");
//      - a mileagebank.common.v1.Date is YYYY-MM-DD;
//      - a google.protobuf.Duration is a number with a unit, e.g. 90s, 15m,
//        72h or 1h30m (units ns, us, ms, s, m, h), or a plain number of
//        seconds, e.g. 3600 or 1.5;
//      - a google.protobuf.FieldMask is a comma-separated list of paths;
//      - a google.protobuf.Timestamp is RFC 3339, e.g. 2024-05-01T08:00:00Z;
//      - a path through a list of messages adds one element per flag, the
//        rest of the path set in it: --passengers.nominee_id=N3 appends a
//        Passenger with nominee_id N3, --passengers.member a second one
//        with member true (an element with several fields needs
//        --request);
//      - an alias of kind AliasKind::kSegment takes a whole flight,
//        CARRIER+NUMBER/YYYY-MM-DD/FROM-TO, e.g. --out=FM1501/2026-12-01/
//        PEK-PVG: a 2-character carrier and 1 to 4 digits, the date, two
//        3-letter airports (carrier and airports taken in upper case). It
//        sets carrier, flight_number, flight_date, origin and destination
//        of a new element (a list, one per flag, in order) or of the field;
//      - an alias of kind AliasKind::kParts takes its Parts, e.g.
//        --sale-price=CNY:1250 (currency_code and minor_units of a Money),
//        setting a new message at its field, or adding one to a list per
//        comma-separated group (--class=F:150,J:125).
// A positional argument may be left out when a flag or --request sets its
// field, and an optional one (Positional::optional) always.
//
// Every error is INVALID_ARGUMENT naming the flag or argument and what is
// wrong with it: a usage error, detected before anything is sent.
//
// Thread-compatible: the functions only touch the message they are given.
#ifndef MILEAGEBANK_TOOLS_MBCTL_REQUEST_BUILDER_H_
#define MILEAGEBANK_TOOLS_MBCTL_REQUEST_BUILDER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {

// A request flag as given: --name=value, or --name alone (no value).
struct FieldFlag {
  std::string name;
  std::optional<std::string> value;
};

// Fills `request` (an empty message of `command.request_type`) as described
// above. `request_json` is the --request value, if given.
absl::Status BuildRequest(const Command& command,
                          const std::optional<std::string>& request_json,
                          const std::vector<std::string>& positionals,
                          const std::vector<FieldFlag>& flags,
                          google::protobuf::Message* request);

// Sets the field at dotted `path` of `message` from `value`, with the
// conversions above. `given_as` names the argument in errors ("--birth").
absl::Status SetRequestField(google::protobuf::Message* message,
                             absl::string_view path, absl::string_view value,
                             absl::string_view given_as);

}  // namespace mileagebank::mbctl

#endif  // MILEAGEBANK_TOOLS_MBCTL_REQUEST_BUILDER_H_
