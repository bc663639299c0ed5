#include "services/accrual/packed_lots.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace mileagebank::accrual {
namespace {

records::OpenLot Lot(uint64_t number, uint64_t transaction, int32_t activity,
                     int32_t expiry, int64_t original, int64_t remaining) {
  records::OpenLot lot;
  lot.set_number(number);
  lot.set_transaction(transaction);
  lot.set_source_type(3);
  lot.set_activity_day(activity);
  lot.set_expiry_day(expiry);
  lot.set_original_miles(original);
  lot.set_remaining_miles(remaining);
  return lot;
}

// An account as a long partner file leaves it: a hundred untouched lots.
records::Account BusyAccount() {
  records::Account account;
  account.set_member_number("1000000008");
  account.set_balance(250000);
  account.set_last_sequence(200);
  for (int i = 0; i < 100; ++i) {
    const int32_t activity = 20400 + i * 3;
    *account.add_lots() = Lot(2 * i + 2, 2 * i + 1, activity, activity + 1110,
                              2500 + i, 2500 + i);
  }
  records::YearFigures* year = account.add_years();
  year->set_year(2026);
  year->set_qualifying_miles(90000);
  return account;
}

std::string Bytes(const records::Account& account) {
  return account.SerializeAsString();
}

TEST(PackedLotsTest, EveryFieldComesBackExactlyWhateverItsValue) {
  google::protobuf::RepeatedPtrField<records::OpenLot> lots;
  constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
  constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
  constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();
  *lots.Add() = Lot(5, 4, 20000, 21100, 1000, 1000);
  // A deficit left by a reversal: nothing original, miles below zero.
  *lots.Add() = Lot(9, 7, 20010, 21100, 0, -300);
  // Extremes, and an expiry before the previous lot's.
  *lots.Add() = Lot(std::numeric_limits<uint64_t>::max(), 0, kMax32, kMin32,
                    kMin64, kMax64);
  *lots.Add() = Lot(0, std::numeric_limits<uint64_t>::max(), kMin32, kMax32,
                    kMax64, kMin64);
  // Moved here by a merge, part used, expired.
  records::OpenLot merged = Lot(12, 11, 19000, 20100, 700, 20);
  merged.set_origin("1000000016");
  merged.set_expired(true);
  merged.set_source_type(-1);
  *lots.Add() = merged;

  google::protobuf::RepeatedPtrField<records::OpenLot> back;
  ASSERT_TRUE(UnpackLots(PackLots(lots), &back).ok());
  ASSERT_EQ(back.size(), lots.size());
  for (int i = 0; i < lots.size(); ++i) {
    EXPECT_EQ(back[i].SerializeAsString(), lots[i].SerializeAsString())
        << "lot " << i << ": " << back[i].ShortDebugString() << " vs "
        << lots[i].ShortDebugString();
  }
}

TEST(PackedLotsTest, APackedAccountReadsBackAsTheAccountInUnderHalfTheBytes) {
  const records::Account account = BusyAccount();
  records::Account packed = account;
  PackAccount(packed);
  EXPECT_EQ(packed.lots_size(), 0);
  EXPECT_FALSE(packed.packed_lots().empty());
  EXPECT_EQ(packed.last_lot_expiry_day(), account.lots(99).expiry_day());
  EXPECT_TRUE(packed.every_lot_holds_miles());
  const std::string before = Bytes(packed);
  const std::string stored = StoredAccount(packed);
  EXPECT_EQ(Bytes(packed), before) << "StoredAccount changed its argument";
  EXPECT_LT(stored.size(), Bytes(account).size() / 2);
  records::Account raw;
  ASSERT_TRUE(raw.ParseFromString(stored));
  EXPECT_EQ(raw.last_lot_expiry_day(), 0) << "kept in memory only";

  records::Account read;
  ASSERT_TRUE(ParseStoredAccount(stored, &read).ok());
  EXPECT_EQ(Bytes(read), Bytes(account));
  records::Account as_stored;
  ASSERT_TRUE(ParsePackedAccount(stored, &as_stored).ok());
  EXPECT_EQ(Bytes(as_stored), Bytes(packed));
  ASSERT_TRUE(UnpackAccount(as_stored).ok());
  EXPECT_EQ(Bytes(as_stored), Bytes(account));
}

TEST(PackedLotsTest, WhatARecordSaysOfItsLotsIsWorkedOutAgain) {
  // As a build that knew nothing of the two fields would leave a record
  // after giving one of its lots a deficit.
  records::Account account = BusyAccount();
  PackAccount(account);
  ASSERT_TRUE(account.every_lot_holds_miles());
  ASSERT_TRUE(UnpackAccount(account).ok());
  account.mutable_lots(7)->set_remaining_miles(-40);
  account.set_packed_lots(PackLots(account.lots()));
  account.clear_lots();
  account.set_every_lot_holds_miles(true);
  account.set_last_lot_expiry_day(1);

  records::Account read;
  ASSERT_TRUE(ParsePackedAccount(Bytes(account), &read).ok());
  EXPECT_FALSE(read.every_lot_holds_miles());
  EXPECT_EQ(read.last_lot_expiry_day(), BusyAccount().lots(99).expiry_day());
}

TEST(PackedLotsTest, AnAccountWithoutLotsIsStoredAsBefore) {
  records::Account account;
  account.set_member_number("1000000008");
  account.set_balance(0);
  const std::string before = Bytes(account);
  PackAccount(account);
  EXPECT_EQ(Bytes(account), before);
}

TEST(PackedLotsTest, LotsInsertedInAnyOrderArePackedAsIfPackedTogether) {
  records::Account whole = BusyAccount();
  records::Account inserted;
  inserted.set_member_number(whole.member_number());
  std::vector<int> order(whole.lots_size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(20261204));
  for (int i : order) {
    const records::OpenLot& lot = whole.lots(i);
    absl::StatusOr<PackedSlot> slot =
        FindPackedSlot(inserted, lot.expiry_day());
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_FALSE(slot->expiry_day_taken);
    InsertPackedLot(inserted, *slot, lot);
  }
  inserted.set_balance(whole.balance());
  inserted.set_last_sequence(whole.last_sequence());
  *inserted.mutable_years() = whole.years();
  PackAccount(whole);
  EXPECT_EQ(Bytes(inserted), Bytes(whole));

  // A second lot of a day goes after the first; one that holds no miles is
  // remembered as such.
  absl::StatusOr<PackedSlot> slot =
      FindPackedSlot(inserted, whole.last_lot_expiry_day());
  ASSERT_TRUE(slot.ok());
  EXPECT_TRUE(slot->expiry_day_taken);
  EXPECT_FALSE(slot->next.has_value());
  InsertPackedLot(inserted, *slot,
                  Lot(300, 299, 20800, whole.last_lot_expiry_day(), 0, 0));
  EXPECT_FALSE(inserted.every_lot_holds_miles());
  ASSERT_TRUE(UnpackAccount(inserted).ok());
  ASSERT_EQ(inserted.lots_size(), 101);
  EXPECT_EQ(inserted.lots(100).number(), 300u);
  EXPECT_EQ(inserted.last_lot_expiry_day(), 0);
}

TEST(PackedLotsTest, ASlotInMalformedLotsIsDataLoss) {
  records::Account account = BusyAccount();
  PackAccount(account);
  account.set_every_lot_holds_miles(false);
  account.mutable_packed_lots()->resize(account.packed_lots().size() - 3);
  EXPECT_EQ(FindPackedSlot(account, std::numeric_limits<int32_t>::max())
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(PackedLotsTest, AnAccountWithADeficitSaysNotEveryLotHoldsMiles) {
  records::Account account = BusyAccount();
  account.mutable_lots(3)->set_remaining_miles(-20);
  PackAccount(account);
  EXPECT_FALSE(account.every_lot_holds_miles());
}

TEST(PackedLotsTest, RecordsStoredBeforeLotsWerePackedStillRead) {
  const records::Account account = BusyAccount();
  records::Account read;
  ASSERT_TRUE(ParseStoredAccount(Bytes(account), &read).ok());
  EXPECT_EQ(Bytes(read), Bytes(account));
}

TEST(PackedLotsTest, DamagedRecordsAreDataLossNotGuesses) {
  records::Account account = BusyAccount();
  const std::string packed = PackLots(account.lots());
  google::protobuf::RepeatedPtrField<records::OpenLot> lots;
  auto unpack = [&](const std::string& bytes) {
    lots.Clear();
    return UnpackLots(bytes, &lots).code();
  };
  EXPECT_EQ(unpack(packed.substr(0, packed.size() - 1)),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(unpack(""), absl::StatusCode::kDataLoss);
  EXPECT_EQ(unpack(std::string(1, '\x02') + packed.substr(1)),
            absl::StatusCode::kDataLoss);
  // A lot that says an origin follows, and none does.
  records::OpenLot lot = account.lots(0);
  lot.set_origin("1000000016");
  google::protobuf::RepeatedPtrField<records::OpenLot> one;
  *one.Add() = lot;
  const std::string with_origin = PackLots(one);
  const size_t origin_at = with_origin.find("1000000016");
  ASSERT_NE(origin_at, std::string::npos);
  EXPECT_EQ(unpack(with_origin.substr(0, origin_at - 1)),
            absl::StatusCode::kDataLoss);
  std::string empty_origin = with_origin;
  empty_origin.replace(origin_at - 1, 11, std::string(1, '\0'));
  EXPECT_EQ(unpack(empty_origin), absl::StatusCode::kDataLoss);
  // A varint that never ends.
  EXPECT_EQ(unpack(std::string(1, '\x01') + std::string(12, '\xff')),
            absl::StatusCode::kDataLoss);

  records::Account read;
  EXPECT_EQ(ParseStoredAccount("\xff\xff\xff", &read).code(),
            absl::StatusCode::kDataLoss);
  records::Account both = BusyAccount();
  both.set_packed_lots(packed);
  read.Clear();
  EXPECT_EQ(ParseStoredAccount(Bytes(both), &read).code(),
            absl::StatusCode::kDataLoss);

  // A failed unpack leaves the account as it was.
  records::Account damaged = BusyAccount();
  PackAccount(damaged);
  damaged.mutable_packed_lots()->pop_back();
  const std::string before = Bytes(damaged);
  EXPECT_EQ(UnpackAccount(damaged).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Bytes(damaged), before);
  EXPECT_EQ(ParsePackedAccount(StoredAccount(damaged), &read).code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace mileagebank::accrual
