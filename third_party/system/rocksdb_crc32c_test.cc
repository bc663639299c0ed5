#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"

// The replacement (rocksdb_crc32c.cc) and RocksDB's own function, as the
// linker's --wrap names them.
extern "C" uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc,
                                                           const char* data,
                                                           size_t size);
extern "C" uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc,
                                                           const char* data,
                                                           size_t size);

namespace {

uint32_t Ours(uint32_t crc, const std::string& data) {
  return __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data.data(), data.size());
}

uint32_t Theirs(uint32_t crc, const std::string& data) {
  return __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data.data(), data.size());
}

TEST(RocksdbCrc32cTest, GivesTheStandardCheckValues) {
  EXPECT_EQ(Ours(0, ""), 0u);
  // RFC 3720, B.4, and the usual check string.
  EXPECT_EQ(Ours(0, std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Ours(0, std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(Ours(0, "123456789"), 0xe3069283u);
}

TEST(RocksdbCrc32cTest, AgreesWithRocksdbOnAnyBytesLengthAndStart) {
  std::mt19937_64 random(20261204);
  for (int round = 0; round < 5000; ++round) {
    std::string data(random() % 300, '\0');
    for (char& c : data) c = static_cast<char>(random());
    const uint32_t start = round % 2 == 0 ? 0 : static_cast<uint32_t>(random());
    ASSERT_EQ(Ours(start, data), Theirs(start, data))
        << "length " << data.size() << ", start " << start;
  }
}

TEST(RocksdbCrc32cTest, ExtendingInPiecesEqualsOneGo) {
  const std::string data = "the mileage bank's write-ahead log, in pieces";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    EXPECT_EQ(Ours(Ours(0, data.substr(0, cut)), data.substr(cut)),
              Ours(0, data));
  }
}

}  // namespace
