#include "services/reporting/expiring_miles.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "services/reporting/liability_records.pb.h"
#include "services/reporting/memory_view.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = accrual::v1;

absl::CivilDay D(int year, int month, int day) {
  return absl::CivilDay(year, month, day);
}

struct Move {
  std::string lot_id;
  int64_t miles;
  absl::CivilDay expiry;
};

const std::string kAnna = "1000000001";
const std::string kBo = "1000000002";
const std::string kCai = "1000000003";

// Expiry dates as accrual makes them: month ends.
const absl::CivilDay kMar = D(2029, 3, 31);
const absl::CivilDay kApr = D(2029, 4, 30);
const absl::CivilDay kMay = D(2029, 5, 31);
const absl::CivilDay kJun = D(2029, 6, 30);

class ExpiringMilesTest : public ::testing::Test {
 protected:
  void Post(const std::string& member, av1::TransactionType type,
            const std::vector<Move>& moves,
            absl::string_view source = kAccrualSource) {
    av1::Transaction transaction;
    transaction.set_member_number(member);
    transaction.set_type(type);
    int64_t miles = 0;
    for (const Move& move : moves) {
      av1::LotMovement* movement = transaction.add_lot_movements();
      movement->set_lot_id(move.lot_id);
      movement->set_miles(move.miles);
      *movement->mutable_expiry_date() = validation::ToProtoDate(move.expiry);
      miles += move.miles;
    }
    transaction.set_miles(miles);
    common::v1::Event event;
    event.set_sequence(++sequence_);
    *event.mutable_recorded_at() = validation::ToProtoTimestamp(absl::FromCivil(
        absl::CivilSecond(2026, 5, 1, 12, 0, 0), absl::UTCTimeZone()));
    if (miles >= 0) {
      av1::CreditPosted credit;
      *credit.mutable_transaction() = transaction;
      event.mutable_payload()->PackFrom(credit);
    } else {
      av1::DebitPosted debit;
      *debit.mutable_transaction() = transaction;
      event.mutable_payload()->PackFrom(debit);
    }
    ASSERT_TRUE(projection_.Apply(SourceEvent(source, event), view_).ok());
  }

  absl::StatusOr<v1::GetExpiringMilesReportResponse> Report(absl::CivilDay from,
                                                            absl::CivilDay to) {
    v1::GetExpiringMilesReportRequest request;
    *request.mutable_range()->mutable_from_date() =
        validation::ToProtoDate(from);
    *request.mutable_range()->mutable_to_date() = validation::ToProtoDate(to);
    ReportContext context{
        absl::FromCivil(absl::CivilSecond(2026, 6, 1, 0, 0, 0),
                        absl::UTCTimeZone()),
        nullptr};
    return ExpiringMilesReport(view_, request, context);
  }

  // {miles, lots, members} of each row.
  static std::vector<std::vector<int64_t>> Rows(
      const v1::GetExpiringMilesReportResponse& response) {
    std::vector<std::vector<int64_t>> rows;
    for (const auto& row : response.monthly()) {
      rows.push_back({row.miles(), row.lots(), row.members()});
    }
    return rows;
  }

  MemoryView view_;
  ExpiringMilesProjection projection_;
  uint64_t sequence_ = 0;
};

using Table = std::vector<std::vector<int64_t>>;

TEST_F(ExpiringMilesTest, DebitsConsumeLotsAsTheirMovementsSay) {
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L1", 1000, kMar}});
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L2", 500, kApr}});
  Post(kAnna, av1::REDEMPTION, {{"A-L1", -1000, kMar}, {"A-L2", -200, kApr}});
  Post(kBo, av1::PARTNER_ACTIVITY, {{"B-L1", 400, kApr}});
  Post(kBo, av1::PURCHASE, {{"B-L2", 100, kApr}});

  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 3, 1), D(2029, 5, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{0, 0, 0}, {800, 3, 2}, {0, 0, 0}}));
  EXPECT_EQ(report->monthly(1).year(), 2029);
  EXPECT_EQ(report->monthly(1).month(), 4);
  EXPECT_EQ(report->total_miles(), 800);
}

TEST_F(ExpiringMilesTest, DeficitLotsAreLeftOutUntilFilled) {
  Post(kCai, av1::OWN_FLIGHT, {{"C-L1", 100, kMay}});
  Post(kCai, av1::OWN_FLIGHT, {{"C-L2", 300, kMay}});
  Post(kCai, av1::REDEMPTION, {{"C-L1", -100, kMay}, {"C-L2", -250, kMay}});
  // Reversing C-L2's 300: its 50 left, then a deficit of 250 on it.
  Post(kCai, av1::REVERSAL, {{"C-L2", -50, kMay}, {"C-L2", -250, kMay}});
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 5, 1), D(2029, 6, 30));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{0, 0, 0}, {0, 0, 0}}));

  // A credit of 400 fills the deficit first; 150 make a new lot.
  Post(kCai, av1::OWN_FLIGHT, {{"C-L2", 250, kMay}, {"C-L3", 150, kJun}});
  report = Report(D(2029, 5, 1), D(2029, 6, 30));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{0, 0, 0}, {150, 1, 1}}));
  EXPECT_EQ(report->total_miles(), 150);
}

TEST_F(ExpiringMilesTest, MergedLotsKeepTheirIdsAndCountOnceForTheTarget) {
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L1", 300, kApr}});
  Post(kBo, av1::OWN_FLIGHT, {{"B-L1", 400, kApr}});
  Post(kBo, av1::OWN_FLIGHT, {{"B-L2", 100, kMay}});
  Post(kBo, av1::MERGE_OUT, {{"B-L1", -400, kApr}, {"B-L2", -100, kMay}});
  Post(kAnna, av1::MERGE_IN, {{"B-L1", 400, kApr}, {"B-L2", 100, kMay}});
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 4, 1), D(2029, 5, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{700, 2, 1}, {100, 1, 1}}));

  // An expiry run takes the April lots; May's stays.
  Post(kAnna, av1::EXPIRE, {{"A-L1", -300, kApr}, {"B-L1", -400, kApr}});
  report = Report(D(2029, 4, 1), D(2029, 5, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{0, 0, 0}, {100, 1, 1}}));
}

TEST_F(ExpiringMilesTest, TransferredMilesKeepTheirExpiry) {
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L1", 1000, kMar}});
  Post(kAnna, av1::TRANSFER_OUT, {{"A-L1", -600, kMar}});
  Post(kBo, av1::TRANSFER_IN, {{"B-L7", 600, kMar}});
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 3, 1), D(2029, 3, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{1000, 2, 2}}));
}

TEST_F(ExpiringMilesTest, ClippedMonthsHoldOnlyTheDaysInTheRange) {
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L1", 300, kApr}});
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L2", 200, kApr}});
  Post(kBo, av1::OWN_FLIGHT, {{"B-L1", 50, kJun}});
  // April's last day is in; June's is not.
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 4, 30), D(2029, 6, 29));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{500, 2, 1}, {0, 0, 0}, {0, 0, 0}}));
  EXPECT_EQ(report->total_miles(), 500);

  report = Report(D(2029, 4, 1), D(2029, 4, 29));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{0, 0, 0}}));
}

TEST_F(ExpiringMilesTest, MidMonthExpiriesAreSummedByDay) {
  // Not something accrual makes, but the days still add up exactly.
  Post(kAnna, av1::ADJUSTMENT, {{"A-L1", 10, D(2029, 4, 10)}});
  Post(kAnna, av1::ADJUSTMENT, {{"A-L2", 20, D(2029, 4, 20)}});
  Post(kBo, av1::ADJUSTMENT, {{"B-L1", 40, D(2029, 4, 20)}});
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 4, 15), D(2029, 4, 30));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{60, 2, 2}}));
  report = Report(D(2029, 4, 1), D(2029, 4, 30));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{70, 3, 2}}));
  report = Report(D(2029, 4, 5), D(2029, 4, 30));  // All of April's lots.
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Rows(*report), (Table{{70, 3, 2}}));
}

TEST_F(ExpiringMilesTest, OtherSourcesAndEmptyMovementsChangeNothing) {
  Post(kAnna, av1::OWN_FLIGHT, {{"A-L1", 300, kApr}}, kRedemptionSource);
  Post(kAnna, av1::OWN_FLIGHT, {});  // A flight that earned 0.
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2029, 1, 1), D(2029, 12, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->monthly_size(), 12);
  for (const auto& row : report->monthly()) EXPECT_EQ(row.miles(), 0);
  EXPECT_EQ(report->total_miles(), 0);
}

TEST(ExpiringLotsRecordTest, EncodesAsTheStoredMessageDoesAndDecodesBack) {
  ExpiringLotsRecord record;
  record.lots = {{"1000000001-L1", 21640, 500},
                 {"1000000001-L2", -3, -70},  // Negatives: 10-byte varints.
                 {"", 0, 0},                  // Zeros are left out.
                 {std::string("a\0b", 3), 1, int64_t{1} << 40}};
  records::ExpiringLots message;
  for (const ExpiringLotsRecord::Lot& lot : record.lots) {
    records::ExpiringLots::Lot* added = message.add_lots();
    added->set_lot_id(lot.lot_id);
    added->set_expiry_day(lot.expiry_day);
    added->set_remaining_miles(lot.remaining_miles);
  }
  EXPECT_EQ(record.Encode(), message.SerializeAsString());
  EXPECT_EQ(ExpiringLotsRecord().Encode(), "");

  ExpiringLotsRecord decoded;
  decoded.lots = {{"stale", 1, 1}};
  ASSERT_TRUE(decoded.Decode(message.SerializeAsString()));
  EXPECT_EQ(decoded.Encode(), record.Encode());
  EXPECT_FALSE(decoded.Decode("\xff"));
}

TEST_F(ExpiringMilesTest, RangeOfMoreThanSixtyMonthsIsRefused) {
  absl::StatusOr<v1::GetExpiringMilesReportResponse> report =
      Report(D(2026, 6, 1), D(2031, 5, 31));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->monthly_size(), 60);

  report = Report(D(2026, 6, 1), D(2031, 6, 1));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  auto details = GetErrorDetails(report.status());
  ASSERT_TRUE(details.has_value());
  EXPECT_EQ(details->field_violations(0).field(), "range.to_date");

  report = Report(D(2026, 6, 2), D(2026, 6, 1));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mileagebank::reporting
