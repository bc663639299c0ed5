#include "services/accrual/partner_directory.h"

#include <atomic>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/testing/testing.h"

namespace mileagebank::accrual {
namespace {

namespace sv1 = settlement::v1;
using ::mileagebank::testing::NamesField;

// Settlement behind its interface, counting the questions it is asked.
class FakeSettlement : public SettlementLookup {
 public:
  void Put(const sv1::Partner& partner) {
    absl::MutexLock lock(&mutex_);
    partners_[partner.partner_code()] = partner;
  }
  absl::StatusOr<sv1::Partner> GetPartner(absl::string_view code) override {
    ++asked;
    if (down) {
      return absl::UnavailableError(
          "settlement service at 127.0.0.1:1: connection refused");
    }
    absl::MutexLock lock(&mutex_);
    auto it = partners_.find(std::string(code));
    if (it == partners_.end()) return absl::NotFoundError("no partner");
    return it->second;
  }
  std::atomic<bool> down{false};
  std::atomic<int> asked{0};

 private:
  absl::Mutex mutex_;
  std::map<std::string, sv1::Partner> partners_;
};

// An airline whose J earns `j_percent`.
sv1::Partner Airline(const std::string& code, int64_t version, int j_percent) {
  sv1::Partner partner;
  partner.set_partner_code(code);
  partner.set_type(sv1::AIRLINE);
  partner.set_status(sv1::ACTIVE);
  partner.set_version(version);
  sv1::ClassEarningRate* rate = partner.mutable_contract()->add_earning_table();
  rate->set_booking_class("J");
  rate->set_percent(j_percent);
  return partner;
}

template <typename Payload>
common::v1::Event EventOf(const Payload& payload) {
  common::v1::Event event;
  event.mutable_payload()->PackFrom(payload);
  return event;
}

class PartnerDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = mileagebank::testing::FreshTestDir();
    Open();
  }

  void Open() {
    directory_.reset();
    ledger_store_.reset();
    store_.reset();
    store_ = std::move(
        *store::Store::Open({.path = path_, .tables = AccrualTables()}));
    ledger_store_ = std::make_unique<LedgerStore>(store_.get());
    directory_ =
        std::make_unique<PartnerDirectory>(ledger_store_.get(), &settlement_);
  }

  void Apply(const common::v1::Event& event) {
    store::WriteBatch batch = store_->NewBatch();
    ASSERT_TRUE(directory_->Apply(event, batch).ok());
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  void Registered(const sv1::Partner& partner) {
    sv1::PartnerRegistered registered;
    *registered.mutable_partner() = partner;
    Apply(EventOf(registered));
  }
  void Updated(const sv1::Partner& partner) {
    sv1::PartnerUpdated updated;
    *updated.mutable_partner() = partner;
    Apply(EventOf(updated));
  }

  // The J rate of partner `code`, or -1 when it cannot be found.
  int JRate(const std::string& code) {
    absl::StatusOr<Partner> partner = directory_->Find("partner_code", code);
    if (!partner.ok()) return -1;
    return partner->earning.RatePercent('J').value_or(-1);
  }

  std::string path_;
  FakeSettlement settlement_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LedgerStore> ledger_store_;
  std::unique_ptr<PartnerDirectory> directory_;
};

TEST_F(PartnerDirectoryTest, ReplicaFollowsRegistrationsAndUpdates) {
  Registered(Airline("CA", 1, 125));
  EXPECT_EQ(JRate("CA"), 125);
  sv1::Partner changed = Airline("CA", 2, 150);
  changed.set_status(sv1::SUSPENDED);
  Updated(changed);
  absl::StatusOr<Partner> ca = directory_->Find("partner_code", "CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  EXPECT_EQ(ca->earning.RatePercent('J'), 150);
  EXPECT_EQ(ca->status, sv1::SUSPENDED);
  EXPECT_EQ(ca->version, 2);
  EXPECT_EQ(settlement_.asked, 0);
}

TEST_F(PartnerDirectoryTest, ReplicaSurvivesARestartWithoutSettlement) {
  Registered(Airline("CA", 1, 125));
  Open();
  settlement_.down = true;
  EXPECT_EQ(JRate("CA"), 125);
}

TEST_F(PartnerDirectoryTest, ContractTablesBecomeEarningTables) {
  sv1::Partner mu = Airline("MU", 1, 125);
  mu.mutable_contract()->set_minimum_miles(800);
  Registered(mu);
  absl::StatusOr<Partner> found = directory_->Find("partner_code", "MU");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->type, sv1::AIRLINE);
  EXPECT_EQ(found->earning.minimum_miles(), 800);
  EXPECT_FALSE(
      found->earning.RatePercent('Y').has_value());  // Not in MU's table.
  // No table: the product rules' table, and no minimum.
  sv1::Partner plain = Airline("SQ", 1, 0);
  plain.mutable_contract()->clear_earning_table();
  Registered(plain);
  found = directory_->Find("partner_code", "SQ");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->earning.RatePercent('W'), 110);
  EXPECT_EQ(found->earning.RatePercent('F'), 200);
  EXPECT_EQ(found->earning.minimum_miles(), 0);
}

TEST_F(PartnerDirectoryTest, AsksSettlementOnceAboutAPartnerTheReplicaLacks) {
  settlement_.Put(Airline("CA", 1, 125));
  EXPECT_EQ(JRate("CA"), 125);
  EXPECT_EQ(JRate("CA"), 125);
  EXPECT_EQ(settlement_.asked, 1);
  // The answer is used while settlement is down, until the replica has it.
  settlement_.down = true;
  EXPECT_EQ(JRate("CA"), 125);
  EXPECT_EQ(settlement_.asked, 1);
}

TEST_F(PartnerDirectoryTest, TheNewerOfReplicaAndAnswerStands) {
  settlement_.Put(Airline("CA", 2, 150));
  EXPECT_EQ(JRate("CA"), 150);
  // The registration arrives late: older than what settlement said.
  Registered(Airline("CA", 1, 125));
  EXPECT_EQ(JRate("CA"), 150);
  // The replica catches up and moves on; settlement is not asked again.
  Updated(Airline("CA", 2, 150));
  Updated(Airline("CA", 3, 175));
  EXPECT_EQ(JRate("CA"), 175);
  EXPECT_EQ(settlement_.asked, 1);
}

TEST_F(PartnerDirectoryTest, UnknownPartnersAreNotFound) {
  absl::Status status = directory_->Find("partner_code", "ZZ").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_TRUE(NamesField(status, "partner_code")) << status;
  EXPECT_EQ(settlement_.asked, 1);
  // Not even a partner code: settlement is not asked.
  for (const char* code : {"", "Z", "lower", "TOOLONGCODE", "C-A"}) {
    status = directory_->Find("activities[0].partner_code", code).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << code;
    EXPECT_TRUE(NamesField(status, "activities[0].partner_code")) << code;
  }
  EXPECT_EQ(settlement_.asked, 1);
}

TEST_F(PartnerDirectoryTest, UnknownPartnerWithSettlementDownIsUnavailable) {
  settlement_.Put(Airline("MU", 1, 125));
  settlement_.down = true;
  absl::Status status = directory_->Find("partner_code", "MU").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  for (const char* part :
       {"partner_code", "MU", "settlement service", "connection refused"}) {
    EXPECT_NE(status.message().find(part), absl::string_view::npos)
        << part << " in " << status;
  }
  // Nothing was remembered of the failure.
  settlement_.down = false;
  EXPECT_EQ(JRate("MU"), 125);
}

TEST_F(PartnerDirectoryTest, SettlementsOtherEventsLeaveTheReplicaAlone) {
  sv1::AccrualFileAccepted accepted;
  accepted.mutable_file()->set_partner_code("CA");
  store::WriteBatch batch = store_->NewBatch();
  ASSERT_TRUE(directory_->Apply(EventOf(accepted), batch).ok());
  EXPECT_TRUE(batch.empty());
  settlement_.down = true;
  EXPECT_EQ(directory_->Find("partner_code", "CA").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace mileagebank::accrual
