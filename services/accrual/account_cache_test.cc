#include "services/accrual/account_cache.h"

#include "gtest/gtest.h"

namespace mileagebank::accrual {
namespace {

records::Account Account(const std::string& member, int64_t balance) {
  records::Account account;
  account.set_member_number(member);
  account.set_balance(balance);
  return account;
}

TEST(AccountCacheTest, TakeGivesTheLatestPutOnceWithItsTicket) {
  AccountCache cache(10);
  cache.Put(Account("A", 1), 3);
  cache.Put(Account("A", 2), 5);
  records::Account taken;
  uint64_t ticket = 0;
  ASSERT_TRUE(cache.Take("A", &taken, &ticket));
  EXPECT_EQ(taken.balance(), 2);
  EXPECT_EQ(ticket, 5u);
  // Until it is written again, it is read from the store.
  EXPECT_FALSE(cache.Take("A", &taken, &ticket));
  EXPECT_FALSE(cache.Take("B", &taken, &ticket));
}

TEST(AccountCacheTest, StaysWithinItsCapacity) {
  AccountCache cache(3);
  for (int i = 0; i < 10; ++i) cache.Put(Account(std::to_string(i), i), i);
  EXPECT_EQ(cache.size(), 3u);
  // The newest is always kept.
  records::Account taken;
  uint64_t ticket = 0;
  EXPECT_TRUE(cache.Take("9", &taken, &ticket));
  AccountCache none(0);
  none.Put(Account("A", 1), 1);
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace mileagebank::accrual
