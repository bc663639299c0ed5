#include "services/redemption/partner_airlines.h"

#include <atomic>
#include <map>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/testing/testing.h"

namespace mileagebank::redemption {
namespace {

namespace sv1 = settlement::v1;
using ::mileagebank::testing::NamesField;

constexpr char kField[] = "upgrade.segment.carrier";

// Settlement behind its interface, counting the questions it is asked.
class FakeSettlement : public SettlementGateway {
 public:
  void Put(const std::string& code, sv1::PartnerType type,
           sv1::PartnerStatus status = sv1::ACTIVE) {
    sv1::Partner partner;
    partner.set_partner_code(code);
    partner.set_type(type);
    partner.set_status(status);
    absl::MutexLock lock(&mutex_);
    partners_[code] = partner;
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

class PartnerAirlinesTest : public ::testing::Test {
 protected:
  absl::Time Now() {
    absl::MutexLock lock(&clock_mutex_);
    return now_;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&clock_mutex_);
    now_ += by;
  }

  FakeSettlement settlement_;
  absl::Mutex clock_mutex_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  PartnerAirlines partners_{&settlement_, absl::Seconds(30),
                            [this] { return Now(); }};
};

TEST_F(PartnerAirlinesTest, ActiveAirlinesPassOthersAreRefusedNamingTheField) {
  settlement_.Put("CA", sv1::AIRLINE);
  settlement_.Put("MU", sv1::AIRLINE, sv1::SUSPENDED);
  settlement_.Put("H1", sv1::HOTEL);
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
  absl::Status suspended = partners_.Check("MU", kField);
  EXPECT_EQ(suspended.code(), absl::StatusCode::kFailedPrecondition)
      << suspended;
  EXPECT_TRUE(NamesField(suspended, kField)) << suspended;
  for (const char* carrier : {"H1", "ZZ"}) {
    absl::Status status = partners_.Check(carrier, kField);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << carrier;
    EXPECT_TRUE(NamesField(status, kField)) << carrier;
  }
}

TEST_F(PartnerAirlinesTest, AnAnswerIsUsedForTheTtlThenAskedAgain) {
  settlement_.Put("CA", sv1::AIRLINE);
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
  settlement_.Put("CA", sv1::AIRLINE, sv1::SUSPENDED);
  Advance(absl::Seconds(29));
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
  EXPECT_EQ(settlement_.asked, 1);
  Advance(absl::Seconds(1));
  EXPECT_EQ(partners_.Check("CA", kField).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(settlement_.asked, 2);
}

TEST_F(PartnerAirlinesTest, UnknownCarriersAreAskedAboutEachTime) {
  EXPECT_EQ(partners_.Check("SQ", kField).code(), absl::StatusCode::kNotFound);
  settlement_.Put("SQ", sv1::AIRLINE);  // Registered a moment later.
  EXPECT_TRUE(partners_.Check("SQ", kField).ok());
  EXPECT_EQ(settlement_.asked, 2);
}

TEST_F(PartnerAirlinesTest, SettlementDownIsUnavailableOnceTheAnswerIsStale) {
  settlement_.Put("CA", sv1::AIRLINE);
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
  settlement_.down = true;
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
  Advance(absl::Seconds(31));
  absl::Status status = partners_.Check("CA", kField);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  for (const char* part :
       {kField, "CA", "settlement service", "connection refused"}) {
    EXPECT_NE(status.message().find(part), absl::string_view::npos)
        << part << " in " << status;
  }
  absl::Status unknown = partners_.Check("MU", kField);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnavailable) << unknown;
  settlement_.down = false;
  EXPECT_TRUE(partners_.Check("CA", kField).ok());
}

}  // namespace
}  // namespace mileagebank::redemption
