#include "services/settlement/ack_file.h"

#include <sstream>

#include "gtest/gtest.h"

namespace mileagebank::settlement {
namespace {

absl::Time Processed() {
  return absl::FromCivil(absl::CivilSecond(2026, 9, 1, 8, 30, 5),
                         absl::UTCTimeZone()) +
         absl::Milliseconds(999);
}

TEST(AckWriterTest, AcceptedFileBytes) {
  std::ostringstream out;
  AckWriter ack(&out, "CA", 42, Processed());
  ack.AddAccepted(1, 1250);
  ack.AddRejected(2, "INVALID_FIELD:class");
  ack.AddAccepted(3, 0);
  ack.AddRejected(4, "DUPLICATE_ACTIVITY");
  ASSERT_TRUE(ack.Finish().ok());
  EXPECT_EQ(out.str(),
            "H,CA,000042,2026-09-01T08:30:05Z,1\n"
            "R,1,ACCEPTED,,1250\n"
            "R,2,REJECTED,INVALID_FIELD:class,0\n"
            "R,3,ACCEPTED,,0\n"
            "R,4,REJECTED,DUPLICATE_ACTIVITY,0\n"
            "T,4,2,2,1250\n");
  EXPECT_EQ(ack.accepted(), 2);
  EXPECT_EQ(ack.rejected(), 2);
  EXPECT_EQ(ack.miles_credited(), 1250);
}

TEST(AckWriterTest, EmptyFileBytes) {
  std::ostringstream out;
  AckWriter ack(&out, "HILTON", 7, Processed());
  ASSERT_TRUE(ack.Finish().ok());
  EXPECT_EQ(out.str(), "H,HILTON,000007,2026-09-01T08:30:05Z,1\nT,0,0,0,0\n");
}

TEST(AckWriterTest, RefusedFileBytes) {
  EXPECT_EQ(RefusalAcknowledgement("CA", 0, Processed(), v1::BAD_HEADER,
                                   "the file is empty"),
            "H,CA,000000,2026-09-01T08:30:05Z,1\n"
            "E,BAD_HEADER,the file is empty\n"
            "T,0,0,0,0\n");
}

TEST(AckWriterTest, MessageIsQuotedWhenNeeded) {
  EXPECT_EQ(RefusalAcknowledgement("CA", 5, Processed(), v1::TOTALS_MISMATCH,
                                   "count 2, \"total\" 3"),
            "H,CA,000005,2026-09-01T08:30:05Z,1\n"
            "E,TOTALS_MISMATCH,\"count 2, \"\"total\"\" 3\"\n"
            "T,0,0,0,0\n");
}

TEST(AckWriterTest, FailedStreamIsAnError) {
  std::ostringstream out;
  AckWriter ack(&out, "CA", 1, Processed());
  out.setstate(std::ios::badbit);
  EXPECT_EQ(ack.Finish().code(), absl::StatusCode::kInternal);
}

TEST(AckFileNameTest, Names) {
  EXPECT_EQ(AckFileName("CA", 42, false, false), "CA_000042.ack.csv");
  EXPECT_EQ(AckFileName("CA", 42, true, false), "CA_000042.ack.csv");
  EXPECT_EQ(AckFileName("CA", 42, true, true), "CA_000042.dup.ack.csv");
  EXPECT_EQ(AckFileName("CA", 0, true, false), "CA_000000.ack.csv");
  EXPECT_EQ(FormatAckSeq(999999), "999999");
}

}  // namespace
}  // namespace mileagebank::settlement
