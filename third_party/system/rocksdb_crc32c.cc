// RocksDB's CRC-32C, on the processor's crc32 instruction.
//
// Debian builds RocksDB portable, without SSE 4.2, so every record of the
// write-ahead log is checksummed by a table-driven loop: about 3 % of all the
// CPU a large partner file costs (docs/performance.md). An optimised build,
// which links RocksDB statically, replaces RocksDB's function with this one
// (--wrap in this package's BUILD): the same checksum, in hardware where the
// processor has it (RocksDB's own where it has not).

#include <nmmintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

// RocksDB's own, as the linker's --wrap names it: for a processor without
// the instruction.
extern "C" uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc,
                                                           const char* data,
                                                           size_t size);

namespace {

__attribute__((target("sse4.2"))) uint32_t HardwareExtend(uint32_t crc,
                                                          const char* data,
                                                          size_t size) {
  uint64_t c = ~crc;
  for (; size >= 8; size -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, sizeof(word));
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; size > 0; --size, ++data) {
    c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*data));
  }
  return ~c32;
}

}  // namespace

// rocksdb::crc32c::Extend(uint32_t, const char*, size_t), as the linker's
// --wrap names its replacement.
extern "C" uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc,
                                                           const char* data,
                                                           size_t size) {
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  return hardware ? HardwareExtend(crc, data, size)
                  : __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data, size);
}
