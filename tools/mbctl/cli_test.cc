// mbctl's runs that need no service: help, usage errors and an unreachable
// service. The end-to-end test (mbctl_e2e_test.sh) covers real calls.
#include "tools/mbctl/cli.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/mbctl/commands.h"

namespace mileagebank::mbctl {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunMbctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = Run(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(RunTest, HelpListsEveryCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{}, {"help"}, {"--help"}}) {
    Result result = RunMbctl(args);
    EXPECT_EQ(result.code, kExitOk);
    EXPECT_EQ(result.err, "");
    EXPECT_THAT(result.out, StartsWith("mbctl: "));
    for (const Command& command : Commands()) {
      EXPECT_THAT(result.out, HasSubstr(command.help));
    }
    EXPECT_THAT(result.out, HasSubstr("MBCTL_MEMBERSHIP_TARGET"));
    EXPECT_THAT(result.out,
                HasSubstr("\naccrual: the accrual service, through the "
                          "gateway (or directly: --target, "
                          "$MBCTL_ACCRUAL_TARGET, e.g. 127.0.0.1:7102):\n"));
    EXPECT_THAT(result.out,
                HasSubstr("\nkey: the gateway itself (--gateway, else "
                          "$MBCTL_GATEWAY, else 127.0.0.1:7100):\n"));
    EXPECT_THAT(result.out, HasSubstr("\n  audit  The audit trail"));
    EXPECT_THAT(result.out, HasSubstr("--api-key=KEY"));
    EXPECT_THAT(result.out, HasSubstr("$MBCTL_API_KEY_FILE"));
    EXPECT_THAT(result.out, HasSubstr("Login, Refresh, Logout"));
    EXPECT_THAT(result.out, HasSubstr("  verify [MEMBER_NUMBER]  "));
    EXPECT_THAT(result.out, HasSubstr("  transfer FROM TO MILES  "));
  }
}

TEST(RunTest, OptionalArgumentsAndDurationsInCommandHelp) {
  Result verify = RunMbctl({"accrual", "verify", "--help"});
  EXPECT_EQ(verify.code, kExitOk);
  EXPECT_THAT(verify.out,
              StartsWith("usage: mbctl accrual verify [MEMBER_NUMBER] "));
  EXPECT_THAT(verify.out,
              HasSubstr("[MEMBER_NUMBER]  optional: sets member_number"));

  Result hold = RunMbctl({"help", "accrual", "hold"});
  EXPECT_EQ(hold.code, kExitOk);
  EXPECT_THAT(hold.out, HasSubstr("--ttl=<duration, e.g. 15m>\n"));
}

TEST(RunTest, CommandHelpListsFieldsAndAliases) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"member", "enrol", "--help"},
                                             {"help", "member", "enrol"}}) {
    Result result = RunMbctl(args);
    EXPECT_EQ(result.code, kExitOk);
    EXPECT_THAT(result.out, StartsWith("usage: mbctl member enrol "));
    EXPECT_THAT(result.out,
                HasSubstr("--profile.date_of_birth=<YYYY-MM-DD>\n"));
    EXPECT_THAT(result.out, HasSubstr("--profile.address.lines=<string> "
                                      "(repeatable)\n"));
    EXPECT_THAT(result.out, HasSubstr("--actor.channel=<CHANNEL_UNSPECIFIED|"));
    EXPECT_THAT(result.out, HasSubstr("--family"));
  }
  Result get = RunMbctl({"member", "get", "-h"});
  EXPECT_THAT(get.out, StartsWith("usage: mbctl member get MEMBER_NUMBER "));
  EXPECT_THAT(get.out, HasSubstr("MEMBER_NUMBER  sets member_number"));
}

TEST(RunTest, AwardHelpShowsFlightsAndLists) {
  Result group = RunMbctl({"award", "--help"});
  EXPECT_EQ(group.code, kExitOk);
  EXPECT_THAT(group.out,
              HasSubstr("award: the redemption service, through the gateway "
                        "(or directly: --target, $MBCTL_REDEMPTION_TARGET, "
                        "e.g. 127.0.0.1:7103):\n"));
  EXPECT_THAT(group.out, HasSubstr("  set-seats FLIGHT_NUMBER DATE CABIN  "));
  EXPECT_THAT(group.out, HasSubstr("  redeem MEMBER_NUMBER  "));

  Result quote = RunMbctl({"help", "award", "quote"});
  EXPECT_EQ(quote.code, kExitOk);
  EXPECT_THAT(quote.out, HasSubstr("--out=FLIGHT"));
  EXPECT_THAT(quote.out,
              HasSubstr("adds the segment FLIGHT to "
                        "itinerary.outbound.segments (repeatable, in order)"));
  EXPECT_THAT(quote.out,
              HasSubstr("FLIGHT is CARRIER+NUMBER/YYYY-MM-DD/FROM-TO, e.g. "
                        "FM1501/2026-12-01/PEK-PVG.\n"));
  EXPECT_THAT(quote.out,
              HasSubstr("--itinerary.outbound.segments.<carrier|"
                        "flight_number|flight_date|origin|destination>=...  (a "
                        "list of mileagebank.redemption.v1.Segment: each flag "
                        "adds one"));

  Result upgrade = RunMbctl({"award", "quote-upgrade", "-h"});
  EXPECT_THAT(upgrade.out, HasSubstr("sets segment to the segment FLIGHT"));

  Result redeem = RunMbctl({"award", "redeem", "--help"});
  EXPECT_THAT(redeem.out,
              HasSubstr("= --passengers.nominee_id, adding one to passengers"));
}

TEST(RunTest, SettlementHelpShowsPartsAndOptions) {
  Result group = RunMbctl({"partner", "--help"});
  EXPECT_EQ(group.code, kExitOk);
  EXPECT_THAT(group.out,
              HasSubstr("partner: the settlement service, through the "
                        "gateway (or directly: --target, "
                        "$MBCTL_SETTLEMENT_TARGET, e.g. 127.0.0.1:7104):\n"));
  EXPECT_THAT(group.out, HasSubstr("  suspend PARTNER REASON  "));

  Result add = RunMbctl({"help", "partner", "add"});
  EXPECT_EQ(add.code, kExitOk);
  EXPECT_THAT(add.out,
              ContainsRegex("--sale-price=CURRENCY_CODE:MINOR_UNITS +sets "
                            "currency_code and minor_units of "
                            "partner.contract.mile_sale_price\n"));
  EXPECT_THAT(add.out, ContainsRegex("--class=BOOKING_CLASS:PERCENT\\[,...] +"
                                     "adds to partner.contract.earning_table "
                                     "one element per group"));

  Result suspend = RunMbctl({"partner", "suspend", "-h"});
  EXPECT_THAT(suspend.out, HasSubstr("Sets status to SUSPENDED."));

  Result upload = RunMbctl({"file", "upload", "--help"});
  EXPECT_THAT(upload.out, StartsWith("usage: mbctl file upload PARTNER FILE "));
  EXPECT_THAT(upload.out, HasSubstr("--wait  then call `mbctl file show` until "
                                    "file.status is ACCEPTED or REFUSED"));
  EXPECT_THAT(upload.out, HasSubstr("FILE     the local file sent after the "
                                    "request, 1 MiB per chunk message"));

  Result download = RunMbctl({"file", "download", "--help"});
  EXPECT_THAT(download.out, HasSubstr("--out=PATH  where to write the file"));

  Result ack = RunMbctl({"file", "ack", "--help"});
  EXPECT_THAT(ack.out, HasSubstr("Reads every page"));

  Result statement = RunMbctl({"statement", "show", "--help"});
  EXPECT_THAT(statement.out,
              HasSubstr("PERIOD   YEAR-MONTH: sets year and month\n"));
}

TEST(RunTest, GatewayCommandsHelp) {
  Result keys = RunMbctl({"key", "--help"});
  EXPECT_EQ(keys.code, kExitOk);
  EXPECT_THAT(keys.out, HasSubstr("  revoke KEY_ID  "));
  Result create = RunMbctl({"help", "key", "create"});
  EXPECT_EQ(create.code, kExitOk);
  EXPECT_THAT(create.out, HasSubstr("Calls /mileagebank.gateway.v1.Gateway/"
                                    "CreateApiKey on the gateway itself"));
  EXPECT_THAT(create.out, HasSubstr("--key.roles=<ROLE_UNSPECIFIED|AGENT|"));
  // `mbctl audit` is a command by itself: its help, not a group's.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"audit", "--help"},
                                             {"help", "audit"}}) {
    Result audit = RunMbctl(args);
    EXPECT_EQ(audit.code, kExitOk) << args[0];
    EXPECT_THAT(audit.out, StartsWith("usage: mbctl audit [--field=value"));
    EXPECT_THAT(audit.out, HasSubstr("--after_sequence=<int64>"));
    EXPECT_THAT(audit.out, HasSubstr("Reads every page (after_sequence)"));
  }
}

TEST(RunTest, UnreadableKeyFileIsAUsageError) {
  setenv("MBCTL_API_KEY_FILE", "/nonexistent/admin.key", 1);
  Result result = RunMbctl({"key", "list"});
  unsetenv("MBCTL_API_KEY_FILE");
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err,
              HasSubstr("error: $MBCTL_API_KEY_FILE: cannot read "
                        "/nonexistent/admin.key"));
}

TEST(RunTest, GroupHelpListsItsCommands) {
  Result result = RunMbctl({"member", "--help"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, HasSubstr("nominee-remove MEMBER_NUMBER NOMINEE_ID"));
}

TEST(RunTest, UsageErrorsExitTwoWithAHint) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
    std::string hint;
  };
  for (const Case& c : std::vector<Case>{
           {{"frob"}, "unknown command \"frob\"", "mbctl help"},
           {{"member", "frob"},
            "unknown command \"member frob\"",
            "mbctl help"},
           {{"member"}, "needs a command", "mbctl help member"},
           {{"help", "member", "frob"}, "unknown command", "mbctl help"},
           {{"member", "get"},
            "missing argument MEMBER_NUMBER",
            "mbctl member get --help"},
           {{"member", "get", "1000000008", "--frob=1"},
            "unknown flag --frob",
            "mbctl member get --help"},
           {{"member", "enrol", "--birth=1985-02-30"},
            "--birth=1985-02-30",
            "mbctl member enrol --help"},
           {{"member", "get", "1", "--timeout=never"},
            "--timeout=never",
            "mbctl help"},
           {{"accrual", "hold", "1000000008", "100", "--ttl=soon"},
            "--ttl=soon: must be a duration",
            "mbctl accrual hold --help"},
           {{"accrual", "transfer", "1000000008", "1000000016"},
            "missing argument MILES",
            "mbctl accrual transfer --help"},
           {{"accrual", "verify", "1000000008", "1000000016"},
            "unexpected argument \"1000000016\"",
            "mbctl accrual verify --help"},
           {{"award", "quote", "--out=FM1501/2026-12-01"},
            "--out=FM1501/2026-12-01: must be a flight",
            "mbctl award quote --help"},
           {{"award", "seats", "1501"},
            "missing argument DATE",
            "mbctl award seats --help"},
           {{"partner", "add", "CA", "--sale-price=CNY:12.50"},
            "--sale-price=CNY:12.50: must be CURRENCY_CODE:MINOR_UNITS; "
            "MINOR_UNITS must be an integer",
            "mbctl partner add --help"},
           {{"statement", "show", "CA", "2026"},
            "PERIOD \"2026\": must be YEAR-MONTH",
            "mbctl statement show --help"},
           {{"file", "upload", "CA"},
            "missing argument FILE",
            "mbctl file upload --help"},
           {{"file", "upload", "CA", "/nonexistent/CA_000042.acc.csv"},
            "cannot read /nonexistent/CA_000042.acc.csv",
            "mbctl file upload --help"},
           {{"file", "upload", "CA", "x.csv", "--wait=maybe"},
            "--wait=maybe: must be true or false",
            "mbctl file upload --help"},
           {{"file", "download", "CA", "CA_000042.ack.csv", "--out"},
            "--out needs a value",
            "mbctl file download --help"},
           {{"file", "show", "F1", "--wait"},
            "unknown flag --wait",
            "mbctl file show --help"},
           {{"audit", "everything"},
            "unexpected argument \"everything\"",
            "mbctl audit --help"},
           {{"key", "revoke"},
            "missing argument KEY_ID",
            "mbctl key revoke --help"},
           {{"key", "list", "--api-key"},
            "--api-key needs a value",
            "mbctl help"},
       }) {
    Result result = RunMbctl(c.args);
    EXPECT_EQ(result.code, kExitUsage) << c.args[0];
    EXPECT_EQ(result.out, "");
    EXPECT_THAT(result.err, StartsWith("error: "));
    EXPECT_THAT(result.err, HasSubstr(c.error));
    EXPECT_THAT(result.err,
                HasSubstr(absl::StrCat("hint: see '", c.hint, "'")));
  }
}

// "127.0.0.1:PORT" of a bound socket that does not listen: connecting to it
// is refused, and no one else can take the port meanwhile. Closed by the
// caller.
std::string RefusingTarget(int* socket_fd_out) {
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(socket_fd, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(
      bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(
      getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length),
      0);
  *socket_fd_out = socket_fd;
  return absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
}

TEST(RunTest, UnreachableServiceExitsThreeForFileTransfers) {
  const std::string file =
      std::string(std::getenv("TEST_TMPDIR")) + "/CA_000042.acc.csv";
  std::ofstream(file) << "H,CA,000042,2026-08-31T10:00:00Z,1\nT,0,0\n";
  int socket_fd = -1;
  const std::string target = RefusingTarget(&socket_fd);
  Result upload = RunMbctl({"file", "upload", "CA", file, "--wait",
                            "--target=" + target, "--timeout=5"});
  Result download =
      RunMbctl({"file", "download", "CA", "CA_000042.ack.csv",
                "--out=" + file + ".ack", "--target=" + target, "--timeout=5"});
  close(socket_fd);
  EXPECT_EQ(upload.code, kExitUnreachable);
  EXPECT_THAT(upload.err, StartsWith("error: UNAVAILABLE: "));
  EXPECT_THAT(upload.err,
              HasSubstr("is the settlement service running at " + target));
  EXPECT_EQ(download.code, kExitUnreachable);
  EXPECT_THAT(download.err, StartsWith("error: UNAVAILABLE: "));
  EXPECT_FALSE(std::ifstream(file + ".ack").good())
      << "a failed download leaves no file";
}

TEST(RunTest, UnreachableServiceExitsThree) {
  // A bound socket that does not listen: connecting to it is refused, and no
  // one else can take the port meanwhile.
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(socket_fd, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(
      getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length),
      0);
  const std::string target =
      absl::StrCat("127.0.0.1:", ntohs(address.sin_port));

  Result result = RunMbctl(
      {"member", "get", "1000000008", "--target=" + target, "--timeout=5"});
  close(socket_fd);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err, StartsWith("error: UNAVAILABLE: "));
  EXPECT_THAT(result.err, HasSubstr(target));
}

TEST(RunTest, UnreachableGatewayExitsThree) {
  int socket_fd = -1;
  const std::string gateway = RefusingTarget(&socket_fd);
  Result result = RunMbctl(
      {"member", "get", "1000000008", "--gateway=" + gateway, "--timeout=5"});
  close(socket_fd);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err, StartsWith("error: UNAVAILABLE: "));
  EXPECT_THAT(result.err,
              HasSubstr("hint: is the gateway running at " + gateway +
                        "? (set --gateway or $MBCTL_GATEWAY; --target or "
                        "$MBCTL_MEMBERSHIP_TARGET calls the membership "
                        "service directly)"));
}

}  // namespace
}  // namespace mileagebank::mbctl
