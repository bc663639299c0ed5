#include "services/accrual/account.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/accrual/packed_lots.h"

namespace mileagebank::accrual {
namespace {

class AccountTest : public ::testing::Test {
 protected:
  void SetUp() override { account_.set_member_number("1000000008"); }

  LotChange CreditOn(int64_t miles, absl::CivilDay expiry) {
    return Credit(account_, miles,
                  NewLot{"1000000008-T" + std::to_string(++credits_), v1::OWN_FLIGHT,
                         absl::CivilDay(2026, 1, 1), expiry});
  }

  void ExpectInvariant() { EXPECT_EQ(account_.balance(), LotSum(account_)); }

  records::Account account_;
  int credits_ = 0;
};

TEST_F(AccountTest, DebitsConsumeOldestExpiryFirst) {
  CreditOn(100, absl::CivilDay(2029, 6, 30));
  CreditOn(200, absl::CivilDay(2029, 3, 31));
  CreditOn(300, absl::CivilDay(2029, 9, 30));
  // The lot expiring in March sits first whatever the order of credit.
  EXPECT_EQ(account_.lots(0).remaining_miles(), 200);
  LotChange change = Debit(account_, 250);
  ASSERT_EQ(change.movements.size(), 2u);
  EXPECT_EQ(change.movements[0].miles(), -200);
  EXPECT_EQ(change.movements[0].expiry_date().month(), 3);
  EXPECT_EQ(change.movements[1].miles(), -50);
  EXPECT_EQ(change.emptied.size(), 1u);  // The March lot is used up.
  EXPECT_EQ(account_.balance(), 350);
  ExpectInvariant();
}

TEST_F(AccountTest, ReversalBeyondBalanceLeavesADeficitThatCreditsFillFirst) {
  CreditOn(500, absl::CivilDay(2029, 3, 31));
  const v1::Lot credit_lot = ToLot(account_, account_.lots(0));
  Debit(account_, 400);
  LotChange reversed = Reverse(account_, credit_lot, 500);
  EXPECT_EQ(account_.balance(), -400);
  ExpectInvariant();
  ASSERT_EQ(account_.lots_size(), 1);
  EXPECT_EQ(account_.lots(0).remaining_miles(), -400);
  EXPECT_EQ(reversed.movements.back().miles(), -400);

  LotChange filled = CreditOn(1000, absl::CivilDay(2029, 12, 31));
  EXPECT_EQ(filled.movements[0].miles(), 400);  // Deficit first.
  EXPECT_EQ(filled.movements[1].miles(), 600);
  EXPECT_EQ(account_.balance(), 600);
  ExpectInvariant();
}

TEST_F(AccountTest, ReversalTakesItsOwnLotFirst) {
  CreditOn(100, absl::CivilDay(2028, 1, 31));
  CreditOn(300, absl::CivilDay(2029, 3, 31));
  const v1::Lot second = ToLot(account_, account_.lots(1));
  LotChange change = Reverse(account_, second, 300);
  ASSERT_EQ(change.movements.size(), 1u);
  EXPECT_EQ(change.movements[0].lot_id(), second.lot_id());
  EXPECT_EQ(account_.balance(), 100);
  ExpectInvariant();
}

TEST_F(AccountTest, ExpiryTakesLotsBeforeTheRunDateButNeverWhatHoldsNeed) {
  CreditOn(1000, absl::CivilDay(2029, 3, 31));
  CreditOn(500, absl::CivilDay(2029, 4, 30));
  // Usable all of its last day.
  EXPECT_EQ(Expire(account_, absl::CivilDay(2029, 3, 31)).expired, 0);
  account_.set_held(800);
  ExpiryChange change = Expire(account_, absl::CivilDay(2029, 4, 1));
  // Expiring all 1000 would leave 500 < 800 held: only 700 go.
  EXPECT_EQ(change.expired, 700);
  EXPECT_EQ(change.kept_for_holds, 300);
  EXPECT_EQ(account_.balance(), 800);
  ExpectInvariant();
  account_.set_held(0);
  ExpiryChange later = Expire(account_, absl::CivilDay(2029, 4, 1));
  EXPECT_EQ(later.expired, 300);
  EXPECT_EQ(account_.balance(), 500);
}

TEST_F(AccountTest, DeficitsNeverExpire) {
  CreditOn(100, absl::CivilDay(2026, 1, 31));
  const v1::Lot lot = ToLot(account_, account_.lots(0));
  Reverse(account_, lot, 300);
  ExpiryChange change = Expire(account_, absl::CivilDay(2030, 1, 1));
  EXPECT_EQ(change.expired, 0);
  EXPECT_EQ(account_.balance(), -200);
}

TEST_F(AccountTest, KeepingExpiryMakesOneLotPerSource) {
  CreditOn(100, absl::CivilDay(2028, 1, 31));
  CreditOn(300, absl::CivilDay(2029, 3, 31));
  LotChange out = Debit(account_, 250);
  records::Account receiver;
  receiver.set_member_number("1000000016");
  LotChange in = CreditKeepingExpiry(receiver, out.movements, 250, "1000000016-T1",
                                     v1::TRANSFER_IN, absl::CivilDay(2026, 5, 1));
  ASSERT_EQ(receiver.lots_size(), 2);
  EXPECT_EQ(receiver.lots(0).remaining_miles(), 100);
  EXPECT_EQ(FromDayNumber(receiver.lots(0).expiry_day()).year(), 2028);
  EXPECT_EQ(receiver.lots(1).remaining_miles(), 150);
  EXPECT_EQ(receiver.balance(), 250);
  EXPECT_EQ(in.movements.size(), 2u);
}

TEST_F(AccountTest, ZeroCreditIsRecordedAsAnEmptyLot) {
  LotChange change = CreditOn(0, absl::CivilDay(2029, 3, 31));
  EXPECT_EQ(account_.lots_size(), 0);
  ASSERT_EQ(change.emptied.size(), 1u);
  EXPECT_EQ(change.emptied[0].transaction_id(), "1000000008-T1");
}

TEST_F(AccountTest, IdsCountUpPerAccount) {
  EXPECT_EQ(NextId(account_, 'T'), "1000000008-T1");
  EXPECT_EQ(NextId(account_, 'H'), "1000000008-H2");
}

// The packed account takes every credit it can packed, the other one every
// credit through Credit; debits and reversals (which leave deficits) go
// through the rules for both. They must agree on everything, always.
TEST(CreditPackedTest, AgreesWithCreditWheneverItApplies) {
  std::mt19937 random(20261204);
  records::Account general;
  general.set_member_number("1000000008");
  records::Account packed = general;
  int credited_packed = 0;
  for (int step = 0; step < 3000; ++step) {
    const int kind = std::uniform_int_distribution<int>(0, 9)(random);
    if (kind < 7) {
      const int64_t miles = std::uniform_int_distribution<int>(0, 900)(random);
      // A few months' month ends, in any order, as a partner file's are.
      const absl::CivilDay expiry =
          absl::CivilDay(
              2029,
              1 + step / 300 + std::uniform_int_distribution<int>(0, 4)(random),
              1) -
          1;
      const NewLot lot{absl::StrCat("1000000008-T", step + 1),
                       v1::PARTNER_ACTIVITY, absl::CivilDay(2026, 1, 1),
                       expiry};
      const bool taken_before =
          std::any_of(general.lots().begin(), general.lots().end(),
                      [&](const records::OpenLot& open) {
                        return open.expiry_day() == DayNumber(expiry);
                      });
      const LotChange change = Credit(general, miles, lot);
      if (CreditsPacked(packed, miles)) {
        ++credited_packed;
        absl::StatusOr<PackedSlot> slot =
            FindPackedSlot(packed, DayNumber(expiry));
        ASSERT_TRUE(slot.ok()) << slot.status();
        const v1::LotMovement movement =
            CreditPacked(packed, miles, lot, *slot);
        ASSERT_EQ(change.movements.size(), 1u) << step;
        EXPECT_EQ(movement.SerializeAsString(),
                  change.movements[0].SerializeAsString())
            << step;
        EXPECT_TRUE(change.emptied.empty()) << step;
        EXPECT_EQ(slot->expiry_day_taken, taken_before) << step;
      } else {
        ASSERT_TRUE(UnpackAccount(packed).ok());
        Credit(packed, miles, lot);
        PackAccount(packed);
      }
    } else {
      ASSERT_TRUE(UnpackAccount(packed).ok());
      if (kind == 9 && general.lots_size() > 0) {
        const int pick = std::uniform_int_distribution<int>(
            0, general.lots_size() - 1)(random);
        const v1::Lot credit_lot = ToLot(general, general.lots(pick));
        const int64_t miles = general.lots(pick).original_miles() + 300;
        Reverse(general, credit_lot, miles);
        Reverse(packed, credit_lot, miles);
      } else {
        const int64_t miles =
            std::uniform_int_distribution<int>(0, 2000)(random);
        Debit(general, miles);
        Debit(packed, miles);
      }
      PackAccount(packed);
    }
    records::Account unpacked = packed;
    ASSERT_TRUE(UnpackAccount(unpacked).ok());
    ASSERT_EQ(unpacked.SerializeAsString(), general.SerializeAsString())
        << "step " << step;
  }
  // Most credits, and not all: deficits are filled by the rules.
  EXPECT_GT(credited_packed, 1000);
  EXPECT_LT(credited_packed, 2100);
}

}  // namespace
}  // namespace mileagebank::accrual
