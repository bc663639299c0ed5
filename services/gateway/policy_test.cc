#include "services/gateway/policy.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "services/gateway/masking.h"

namespace mileagebank::gateway {
namespace {

Principal Key(std::vector<v1::Role> roles) {
  Principal principal;
  principal.kind = Principal::Kind::kApiKey;
  principal.key_id = "0123456789ab";
  principal.roles = std::move(roles);
  return principal;
}

Principal Member() {
  Principal principal;
  principal.kind = Principal::Kind::kMember;
  principal.member_number = "1000000018";
  return principal;
}

const Operation& Op(absl::string_view method) {
  const Operation* operation = FindOperation(method);
  EXPECT_NE(operation, nullptr) << method;
  return *operation;
}

TEST(PolicyTest, AnonymousCallersReachOnlyThePublicOperations) {
  Principal anonymous;
  EXPECT_TRUE(Authorize(anonymous, Op("/mileagebank.gateway.v1.Gateway/Login")).ok());
  EXPECT_TRUE(
      Authorize(anonymous, Op("/mileagebank.membership.v1.Membership/Enrol")).ok());
  EXPECT_EQ(Authorize(anonymous, Op("/mileagebank.accrual.v1.Accrual/GetBalance"))
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(PolicyTest, AnAgentCannotAdjustMilesButASupervisorCan) {
  const Operation& adjust = Op("/mileagebank.accrual.v1.Accrual/AdjustMiles");
  EXPECT_EQ(Authorize(Key({v1::AGENT}), adjust).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorize(Key({v1::OFFICE_SUPERVISOR}), adjust).ok());
  EXPECT_EQ(Authorize(Member(), adjust).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(PolicyTest, AMemberIssuesOnlyTheirOwnRedemptionAndAgentsAnyone) {
  const Operation& issue = Op("/mileagebank.redemption.v1.Redemption/IssueRedemption");
  // The dispatcher looks the redemption up and lets the member's session
  // through only for their own (gateway_e2e_test walks it end to end).
  EXPECT_EQ(issue.member, MemberAccess::kOwnRedemption);
  EXPECT_TRUE(Authorize(Member(), issue).ok());
  EXPECT_TRUE(Authorize(Key({v1::AGENT}), issue).ok());
  EXPECT_TRUE(Authorize(Key({v1::OFFICE_SUPERVISOR}), issue).ok());
  EXPECT_EQ(Authorize(Key({v1::CALL_CENTRE}), issue).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(Principal(), issue).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(issue.write);
}

TEST(PolicyTest, FinanceReadsReportsAndSettlesStatementsOnly) {
  Principal finance = Key({v1::FINANCE});
  EXPECT_TRUE(Authorize(finance, Op("/mileagebank.settlement.v1.Settlement/SettleStatement")).ok());
  EXPECT_TRUE(Authorize(finance, Op("/mileagebank.reporting.v1.Reporting/GetLiabilityReport")).ok());
  EXPECT_FALSE(Authorize(finance, Op("/mileagebank.membership.v1.Membership/GetMember")).ok());
  EXPECT_FALSE(SeesPersonalData(finance));
}

TEST(PolicyTest, APartnerReachesOnlyFilesAndStatements) {
  Principal partner = Key({v1::PARTNER});
  EXPECT_TRUE(Authorize(partner, Op("/mileagebank.settlement.v1.Settlement/UploadAccrualFile")).ok());
  EXPECT_FALSE(Authorize(partner, Op("/mileagebank.settlement.v1.Settlement/SettleStatement")).ok());
  EXPECT_FALSE(Authorize(partner, Op("/mileagebank.accrual.v1.Accrual/GetBalance")).ok());
}

TEST(PolicyTest, InternalOperationsAreServedToNoOne) {
  EXPECT_EQ(FindOperation("/mileagebank.accrual.v1.Accrual/CreateHold"), nullptr);
  EXPECT_EQ(FindOperation("/mileagebank.membership.v1.Membership/VerifyPassword"),
            nullptr);
  EXPECT_EQ(FindOperation("/mileagebank.common.v1.EventStream/Subscribe"), nullptr);
}

TEST(PolicyTest, OnlyAnAdminBacksUpAStore) {
  std::vector<const Operation*> backups = {&GatewayBackupOperation()};
  for (const char* service : {"Membership", "Accrual", "Redemption",
                              "Settlement", "Reporting"}) {
    backups.push_back(&Op(absl::StrCat("/mileagebank.common.v1.", service,
                                       "Admin/Backup")));
  }
  for (const Operation* backup : backups) {
    EXPECT_TRUE(Authorize(Key({v1::ADMIN}), *backup).ok()) << backup->method;
    EXPECT_EQ(Authorize(Key({v1::FINANCE, v1::OFFICE_SUPERVISOR}), *backup)
                  .code(),
              absl::StatusCode::kPermissionDenied)
        << backup->method;
    EXPECT_FALSE(Authorize(Member(), *backup).ok()) << backup->method;
    EXPECT_TRUE(backup->write) << backup->method;
  }
  // The gateway serves its own backup itself: it is not relayed.
  EXPECT_EQ(FindOperation(GatewayBackupOperation().method), nullptr);
}

TEST(PolicyTest, EveryWriteOfStaffIsAudited) {
  EXPECT_TRUE(Op("/mileagebank.accrual.v1.Accrual/AdjustMiles").write);
  EXPECT_FALSE(Op("/mileagebank.accrual.v1.Accrual/GetBalance").write);
}

// One row of docs/api.md's table of roles against operations.
std::string Row(const Operation& operation) {
  static const char* kMember[] = {"", "anyone", "own", "own redemption",
                                  "own claim", "session"};
  std::vector<std::string> cells = {
      absl::StrCat("`", operation.method.substr(1), "`"),
      kMember[static_cast<int>(operation.member)]};
  for (v1::Role role : {v1::AGENT, v1::OFFICE_SUPERVISOR, v1::CALL_CENTRE,
                        v1::PARTNER, v1::FINANCE, v1::ADMIN}) {
    bool allowed = std::find(operation.roles.begin(), operation.roles.end(),
                             role) != operation.roles.end();
    cells.push_back(allowed ? "yes" : "");
  }
  cells.push_back(operation.write ? "yes" : "");
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |");
}

TEST(PolicyTest, TheTableInTheDocsIsThePolicy) {
  std::ifstream file("docs/api.md");
  ASSERT_TRUE(file) << "docs/api.md";
  std::set<std::string> documented;
  for (std::string line; std::getline(file, line);) {
    if (absl::StartsWith(line, "| `mileagebank.")) documented.insert(line);
  }
  std::set<std::string> expected;
  std::string table;
  for (const Operation& operation : Operations()) {
    expected.insert(Row(operation));
    absl::StrAppend(&table, Row(operation), "\n");
  }
  EXPECT_EQ(documented, expected) << "docs/api.md should list:\n" << table;
}

TEST(MaskingTest, LeavesEnoughToRecognise) {
  EXPECT_EQ(MaskEmail("jane.doe@example.com"), "j***@example.com");
  EXPECT_EQ(MaskPhone("+8613812345678"), "+86*******5678");
  EXPECT_EQ(MaskDocumentNumber("E12345678"), "*****5678");
  // Short values are never shown whole.
  EXPECT_EQ(MaskDocumentNumber("AB12"), "**12");
}

}  // namespace
}  // namespace mileagebank::gateway
