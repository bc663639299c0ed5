#include "services/gateway/audit_log.h"

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/store/store.h"
#include "libs/testing/testing.h"

namespace mileagebank::gateway {
namespace {

using google::protobuf::util::TimeUtil;
using testing::NamesField;

constexpr char kAdjust[] = "/mileagebank.accrual.v1.Accrual/AdjustMiles";
constexpr char kEnrol[] = "/mileagebank.membership.v1.Membership/Enrol";

v1::AuditRecord Record(std::string key_id, std::string office,
                       std::string member, std::string operation) {
  v1::AuditRecord record;
  record.set_key_id(key_id);
  record.add_roles(v1::AGENT);
  record.set_office_code(office);
  record.set_member_number(member);
  record.set_operation(operation);
  record.set_peer("ipv4:10.0.0.1:5000");
  record.set_outcome("OK");
  return record;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    Reopen();
  }

  void Reopen() {
    audit_.reset();
    store_.reset();
    store_ = *store::Store::Open({.path = dir_, .tables = AuditLog::Tables()});
    audit_ = *AuditLog::Open(store_.get(), [this] { return now_; });
  }

  // Appends one record a second later than the previous.
  v1::AuditRecord Append(v1::AuditRecord record) {
    now_ += absl::Seconds(1);
    absl::StatusOr<v1::AuditRecord> kept = audit_->Append(std::move(record));
    EXPECT_TRUE(kept.ok()) << kept.status();
    return *kept;
  }

  std::vector<int64_t> Sequences(const v1::QueryAuditRequest& request,
                                 int64_t* next = nullptr) {
    absl::StatusOr<v1::QueryAuditResponse> response = audit_->Query(request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<int64_t> sequences;
    for (const v1::AuditRecord& record : response->records()) {
      sequences.push_back(record.sequence());
    }
    if (next != nullptr) *next = response->next_after_sequence();
    return sequences;
  }

  std::string dir_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> audit_;
};

TEST_F(AuditLogTest, AppendAssignsSequenceAndTime) {
  v1::AuditRecord record = Record("k1", "PEK01", "1000000018", kAdjust);
  record.set_sequence(77);
  v1::AuditRecord first = Append(record);
  EXPECT_EQ(first.sequence(), 1);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(first.time()), 1800000001);
  EXPECT_EQ(first.operation(), kAdjust);
  EXPECT_EQ(Append(record).sequence(), 2);
}

TEST_F(AuditLogTest, SequencesContinueAfterRestart) {
  Append(Record("k1", "PEK01", "", kEnrol));
  Append(Record("k1", "PEK01", "", kEnrol));
  Reopen();
  EXPECT_EQ(Append(Record("k1", "PEK01", "", kEnrol)).sequence(), 3);
  EXPECT_EQ(Sequences({}), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(AuditLogTest, QueryAppliesEveryFilter) {
  Append(Record("k1", "PEK01", "1000000018", kAdjust));  // 1
  Append(Record("k2", "PEK01", "1000000026", kAdjust));  // 2
  Append(Record("k1", "SHA01", "1000000018", kEnrol));   // 3
  Append(Record("k2", "SHA01", "", kEnrol));             // 4
  Append(Record("k1", "PEK01", "1000000018", kAdjust));  // 5

  v1::QueryAuditRequest by_key;
  by_key.set_key_id("k1");
  EXPECT_EQ(Sequences(by_key), (std::vector<int64_t>{1, 3, 5}));
  v1::QueryAuditRequest by_office;
  by_office.set_office_code("SHA01");
  EXPECT_EQ(Sequences(by_office), (std::vector<int64_t>{3, 4}));
  v1::QueryAuditRequest by_member;
  by_member.set_member_number("1000000018");
  EXPECT_EQ(Sequences(by_member), (std::vector<int64_t>{1, 3, 5}));
  v1::QueryAuditRequest by_operation;
  by_operation.set_operation(kEnrol);
  EXPECT_EQ(Sequences(by_operation), (std::vector<int64_t>{3, 4}));
  v1::QueryAuditRequest by_time;
  *by_time.mutable_from() = TimeUtil::SecondsToTimestamp(1800000002);
  *by_time.mutable_to() = TimeUtil::SecondsToTimestamp(1800000004);
  EXPECT_EQ(Sequences(by_time), (std::vector<int64_t>{2, 3}));
  v1::QueryAuditRequest combined;
  combined.set_member_number("1000000018");
  combined.set_operation(kAdjust);
  combined.set_office_code("PEK01");
  *combined.mutable_from() = TimeUtil::SecondsToTimestamp(1800000002);
  EXPECT_EQ(Sequences(combined), (std::vector<int64_t>{5}));
  v1::QueryAuditRequest nobody;
  nobody.set_member_number("1000000034");
  EXPECT_TRUE(Sequences(nobody).empty());
}

TEST_F(AuditLogTest, PagesByAfterSequence) {
  for (int i = 0; i < 7; ++i) {
    Append(Record(i % 2 == 0 ? "even" : "odd", "PEK01", "1000000018", kAdjust));
  }
  for (bool by_member : {false, true}) {
    v1::QueryAuditRequest request;
    request.set_key_id("even");  // Sequences 1, 3, 5, 7.
    if (by_member) request.set_member_number("1000000018");
    request.set_page_size(2);
    int64_t next = -1;
    EXPECT_EQ(Sequences(request, &next), (std::vector<int64_t>{1, 3}));
    EXPECT_EQ(next, 3);
    request.set_after_sequence(next);
    EXPECT_EQ(Sequences(request, &next), (std::vector<int64_t>{5, 7}));
    EXPECT_EQ(next, 0);  // Nothing more matches.
    request.set_after_sequence(7);
    EXPECT_TRUE(Sequences(request, &next).empty());
    EXPECT_EQ(next, 0);
  }
}

TEST_F(AuditLogTest, PageSizeDefaultsTo100) {
  for (int i = 0; i < 101; ++i) Append(Record("k", "PEK01", "", kEnrol));
  int64_t next = 0;
  EXPECT_EQ(Sequences({}, &next).size(), 100u);
  EXPECT_EQ(next, 100);
}

TEST_F(AuditLogTest, QueryRefusesBadPaging) {
  v1::QueryAuditRequest request;
  request.set_page_size(1001);
  EXPECT_TRUE(NamesField(audit_->Query(request).status(), "page_size"));
  request.set_page_size(-1);
  EXPECT_TRUE(NamesField(audit_->Query(request).status(), "page_size"));
  request.set_page_size(1000);
  EXPECT_TRUE(audit_->Query(request).ok());
  request.set_after_sequence(-1);
  EXPECT_TRUE(NamesField(audit_->Query(request).status(), "after_sequence"));
  v1::QueryAuditRequest backwards;
  *backwards.mutable_from() = TimeUtil::SecondsToTimestamp(1800000002);
  *backwards.mutable_to() = TimeUtil::SecondsToTimestamp(1800000001);
  EXPECT_EQ(audit_->Query(backwards).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mileagebank::gateway
