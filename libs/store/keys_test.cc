#include "libs/store/keys.h"

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace mileagebank::store {
namespace {

TEST(KeysTest, PartsRoundTrip) {
  std::string key = KeyBuilder()
                        .String(std::string("a\0b", 3))
                        .Int64(-7)
                        .Uint64(42)
                        .Day(absl::CivilDay(2024, 2, 29))
                        .Build();
  KeyReader reader(key);
  std::string text;
  int64_t signed_value;
  uint64_t unsigned_value;
  absl::CivilDay day;
  ASSERT_TRUE(reader.String(&text));
  ASSERT_TRUE(reader.Int64(&signed_value));
  ASSERT_TRUE(reader.Uint64(&unsigned_value));
  ASSERT_TRUE(reader.Day(&day));
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(text, std::string("a\0b", 3));
  EXPECT_EQ(signed_value, -7);
  EXPECT_EQ(unsigned_value, 42u);
  EXPECT_EQ(day, absl::CivilDay(2024, 2, 29));
}

TEST(KeysTest, ReaderRefusesTruncatedParts) {
  KeyReader short_number("\x01\x02");
  uint64_t value;
  EXPECT_FALSE(short_number.Uint64(&value));
  KeyReader unterminated("abc");
  std::string text;
  EXPECT_FALSE(unterminated.String(&text));
}

TEST(KeysTest, ByteOrderEqualsNaturalOrderOfCompositeKeys) {
  std::mt19937_64 random(7);
  std::vector<std::tuple<std::string, int64_t>> values;
  const std::vector<std::string> strings = {"", "a", "ab", "abc", "b",
                                            std::string("a\0", 2), "\xff"};
  for (int i = 0; i < 500; ++i) {
    values.emplace_back(strings[random() % strings.size()],
                        static_cast<int64_t>(random()) >> (random() % 64));
  }
  values.emplace_back("a", INT64_MIN);
  values.emplace_back("a", INT64_MAX);
  auto encode = [](const std::tuple<std::string, int64_t>& v) {
    return KeyBuilder().String(std::get<0>(v)).Int64(std::get<1>(v)).Build();
  };
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); j += 7) {
      EXPECT_EQ(values[i] < values[j], encode(values[i]) < encode(values[j]))
          << i << " " << j;
    }
  }
}

TEST(KeysTest, StringPartIsACleanPrefix) {
  std::string member = KeyBuilder().String("12").Build();
  std::string longer = KeyBuilder().String("123").Int64(1).Build();
  EXPECT_NE(longer.compare(0, member.size(), member), 0);
}

TEST(KeysTest, PrefixEndIsTheNextPrefix) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), "");
}

}  // namespace
}  // namespace mileagebank::store
