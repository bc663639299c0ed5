#include "services/reporting/liability.h"

#include <array>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "libs/money/per_thousand.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;

// Columns of a liability_days row.
enum Column : int {
  kIssued = 0,
  kReversed,
  kRedeemed,
  kExpired,
  kAdjusted,
  kFees,
  kMoved,
  kColumns
};

// What a day's row changes the liability by.
int64_t NetChange(const std::vector<int64_t>& row) {
  std::array<int64_t, kColumns> values{};
  for (size_t i = 0; i < row.size() && i < values.size(); ++i) {
    values[i] = row[i];
  }
  return values[kIssued] - values[kReversed] - values[kRedeemed] -
         values[kExpired] + values[kAdjusted] - values[kFees] + values[kMoved];
}

constexpr mv1::Tier kTiers[] = {mv1::BLUE, mv1::SILVER, mv1::GOLD,
                                mv1::PLATINUM};

// The bucket a member's miles are in: a member no membership event has
// placed yet is BLUE, where every enrolment starts; a value this build does
// not know stays as it is (it is then in no report row, but in the total).
int64_t Bucket(int64_t tier) {
  return tier == mv1::TIER_UNSPECIFIED ? int64_t{mv1::BLUE} : tier;
}

std::string DayKey(absl::CivilDay day) {
  return store::KeyBuilder().Day(day).Build();
}

std::string TierKey(int64_t tier) {
  return store::KeyBuilder().Int64(tier).Build();
}

absl::CivilDay RecordedDay(const common::v1::Event& event) {
  return validation::UtcDay(
      validation::FromProtoTimestamp(event.recorded_at()));
}

// A member's [balance, tier] as liability_members holds it, to change in
// place (kept by member number: read and changed per ledger event).
using MemberRow = CountersRecord<2>;

absl::StatusOr<MemberRow*> LoadMember(ViewState& state,
                                      absl::string_view member_number) {
  bool found = false;
  const std::optional<uint64_t> number = MemberNumberValue(member_number);
  if (number.has_value()) {
    return state.MutableNumbered<MemberRow>(kLiabilityMembersTable,
                                            kMemberNumberKeys, *number,
                                            &found);
  }
  return state.MutableRecord<MemberRow>(kLiabilityMembersTable, member_number,
                                        &found);
}

int64_t NonZero(int64_t balance) { return balance != 0 ? 1 : 0; }

// Adds `miles` and a change of members with a non-zero balance to `tier`'s
// bucket, on `day` and in the running totals.
absl::Status AddToTier(ViewState& state, absl::CivilDay day, int64_t tier,
                       int64_t miles, int64_t members) {
  if (miles == 0 && members == 0) return absl::OkStatus();
  const int64_t deltas[] = {miles, members};
  // Reused: the tier-day key is built for most ledger events.
  thread_local store::KeyBuilder key;
  absl::Status status = state.Add(kLiabilityTierDaysTable,
                                  key.Clear().Day(day).Int64(tier).Build(),
                                  deltas);
  if (!status.ok()) return status;
  return state.Add(kLiabilityTiersTable, TierKey(tier), deltas);
}

// The column a transaction's miles go to, and whether it is dated by the
// write (both legs of a transfer or merge on one day).
std::pair<Column, bool> Classify(av1::TransactionType type) {
  switch (type) {
    case av1::OWN_FLIGHT:
    case av1::PARTNER_FLIGHT:
    case av1::PARTNER_ACTIVITY:
    case av1::RETRO_CLAIM:
    case av1::PURCHASE:
      return {kIssued, false};
    case av1::REVERSAL:
      return {kReversed, false};
    case av1::REDEMPTION:
    case av1::REDEPOSIT:
      return {kRedeemed, false};
    case av1::EXPIRE:
      return {kExpired, false};
    case av1::ADJUSTMENT:
      return {kAdjusted, false};
    case av1::TRANSFER_FEE:
    case av1::REDEPOSIT_FEE:
      return {kFees, false};
    case av1::TRANSFER_OUT:
    case av1::TRANSFER_IN:
    case av1::MERGE_OUT:
    case av1::MERGE_IN:
      return {kMoved, true};
    default:
      return {kMoved, false};
  }
}

absl::Status ApplyTransaction(const common::v1::Event& event,
                              const av1::Transaction& transaction,
                              ViewState& state) {
  const int64_t miles = transaction.miles();
  if (miles == 0) return absl::OkStatus();
  auto [column, by_write] = Classify(transaction.type());
  absl::CivilDay day = RecordedDay(event);
  if (!by_write && transaction.has_posting_date()) {
    std::optional<absl::CivilDay> posted =
        ExactDay(transaction.posting_date());
    if (posted.has_value()) day = *posted;
  }
  std::array<int64_t, kColumns> deltas{};
  // Every column enters the net change with the sign that makes its
  // contribution equal to `miles`.
  const bool subtracted = column == kReversed || column == kRedeemed ||
                          column == kExpired || column == kFees;
  deltas[column] = subtracted ? -miles : miles;
  absl::Status status = state.Add(kLiabilityDaysTable, DayKey(day), deltas);
  if (!status.ok()) return status;

  absl::StatusOr<MemberRow*> member =
      LoadMember(state, transaction.member_number());
  if (!member.ok()) return member.status();
  (*member)->Add({miles});
  const int64_t balance = (*member)->At(0);
  return AddToTier(state, day, Bucket((*member)->At(1)), miles,
                   NonZero(balance) - NonZero(balance - miles));
}

absl::Status SetTier(const common::v1::Event& event,
                     const std::string& member_number, mv1::Tier tier,
                     ViewState& state) {
  absl::StatusOr<MemberRow*> member = LoadMember(state, member_number);
  if (!member.ok()) return member.status();
  const int64_t balance = (*member)->At(0), was = (*member)->At(1);
  if (was == tier) return absl::OkStatus();
  (*member)->Add({0, int64_t{tier} - was});
  const int64_t from = Bucket(was), to = Bucket(tier);
  if (from == to || balance == 0) return absl::OkStatus();
  const absl::CivilDay day = RecordedDay(event);
  absl::Status status = AddToTier(state, day, from, -balance, -1);
  if (!status.ok()) return status;
  return AddToTier(state, day, to, balance, 1);
}

common::v1::Money MakeMoney(const std::string& currency, int64_t minor) {
  common::v1::Money money;
  money.set_currency_code(currency);
  money.set_minor_units(minor);
  return money;
}

absl::StatusOr<common::v1::Money> Value(int64_t miles,
                                        const common::v1::Money& cost) {
  absl::optional<int64_t> minor =
      money::TryRoundHalfEvenPerThousand(miles, cost.minor_units());
  if (!minor.has_value()) {
    return absl::OutOfRangeError(absl::StrCat(
        "the value of ", miles, " miles does not fit in int64 minor units"));
  }
  return MakeMoney(cost.currency_code(), *minor);
}

absl::Status CorruptKey(absl::string_view table) {
  return absl::DataLossError(
      absl::StrCat("reporting ", table, ": unreadable key"));
}

}  // namespace

std::vector<std::string> LiabilityProjection::Tables() const {
  return {kLiabilityMembersTable, kLiabilityDaysTable, kLiabilityTierDaysTable,
          kLiabilityTiersTable};
}

std::vector<std::string> LiabilityProjection::ResidentTables() const {
  return {kLiabilityMembersTable};
}

absl::Status LiabilityProjection::Apply(const SourceEvent& event,
                                        ViewState& state) {
  if (event.source() == kAccrualSource) {
    MB_ASSIGN_OR_RETURN(const av1::CreditPosted* credit,
                        event.Payload<av1::CreditPosted>());
    if (credit != nullptr) {
      return ApplyTransaction(event.event(), credit->transaction(), state);
    }
    MB_ASSIGN_OR_RETURN(const av1::DebitPosted* debit,
                        event.Payload<av1::DebitPosted>());
    if (debit != nullptr) {
      return ApplyTransaction(event.event(), debit->transaction(), state);
    }
    return absl::OkStatus();
  }
  if (event.source() == kMembershipSource) {
    MB_ASSIGN_OR_RETURN(const mv1::MemberEnrolled* enrolled,
                        event.Payload<mv1::MemberEnrolled>());
    if (enrolled != nullptr) {
      if (enrolled->member().tier() == mv1::TIER_UNSPECIFIED) {
        return absl::OkStatus();
      }
      return SetTier(event.event(), enrolled->member().member_number(),
                     enrolled->member().tier(), state);
    }
    MB_ASSIGN_OR_RETURN(const mv1::TierChanged* changed,
                        event.Payload<mv1::TierChanged>());
    if (changed != nullptr) {
      return SetTier(event.event(), changed->member_number(),
                     changed->to_tier(), state);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetLiabilityReportResponse> LiabilityReport(
    const ViewReader& view, const v1::GetLiabilityReportRequest& request,
    const ReportContext& context) {
  absl::StatusOr<ReportRange> range = CheckRange(request.range());
  if (!range.ok()) return range.status();

  common::v1::Money cost = MakeMoney("CNY", 6000);
  if (context.config != nullptr &&
      context.config->has_cost_per_thousand_miles()) {
    cost = context.config->cost_per_thousand_miles();
  }

  // Per tier at the end of to_date: the running totals less what came
  // after it (nothing to take off when to_date is today or later). Their
  // sum before that is the current total, tiers unknown to this build
  // included.
  std::map<int64_t, std::array<int64_t, 2>> tiers;
  int64_t current_total = 0;
  bool corrupt = false;
  absl::Status status = view.ScanCounters(
      kLiabilityTiersTable, {},
      [&](absl::string_view key, const std::vector<int64_t>& row) {
        store::KeyReader reader(key);
        int64_t tier = 0;
        if (!reader.Int64(&tier)) {
          corrupt = true;
          return false;
        }
        auto& totals = tiers[tier];
        for (size_t i = 0; i < row.size() && i < 2; ++i) totals[i] += row[i];
        if (!row.empty()) current_total += row[0];
        return true;
      });
  if (!status.ok()) return status;
  if (corrupt) return CorruptKey(kLiabilityTiersTable);
  if (range->to < validation::UtcDay(context.now)) {
    status = view.ScanCounters(
        kLiabilityTierDaysTable, {DayKey(range->to + 1), ""},
        [&](absl::string_view key, const std::vector<int64_t>& row) {
          store::KeyReader reader(key);
          absl::CivilDay day;
          int64_t tier = 0;
          if (!reader.Day(&day) || !reader.Int64(&tier)) {
            corrupt = true;
            return false;
          }
          auto& totals = tiers[tier];
          for (size_t i = 0; i < row.size() && i < 2; ++i) totals[i] -= row[i];
          return true;
        });
    if (!status.ok()) return status;
    if (corrupt) return CorruptKey(kLiabilityTierDaysTable);
  }

  v1::GetLiabilityReportResponse response;
  int64_t outstanding = 0;
  for (const auto& [tier, totals] : tiers) outstanding += totals[0];
  for (mv1::Tier tier : kTiers) {
    auto found = tiers.find(tier);
    const std::array<int64_t, 2> totals =
        found == tiers.end() ? std::array<int64_t, 2>{} : found->second;
    v1::TierLiabilityRow* row = response.add_by_tier();
    row->set_tier(tier);
    row->set_members(totals[1]);
    row->set_outstanding_miles(totals[0]);
    absl::StatusOr<common::v1::Money> value = Value(totals[0], cost);
    if (!value.ok()) return value.status();
    *row->mutable_outstanding_value() = *std::move(value);
  }
  v1::LiabilitySummary* summary = response.mutable_summary();
  summary->set_outstanding_miles(outstanding);
  *summary->mutable_cost_per_thousand_miles() = cost;
  absl::StatusOr<common::v1::Money> value = Value(outstanding, cost);
  if (!value.ok()) return value.status();
  *summary->mutable_outstanding_value() = *std::move(value);

  // Monthly movements: one scan of the days from from_date on, which also
  // gives the opening as the current total less everything since.
  const std::vector<absl::CivilMonth> months = range->Months();
  std::vector<std::array<int64_t, kColumns>> movements(months.size());
  int64_t since_from = 0;
  status = view.ScanCounters(
      kLiabilityDaysTable, {DayKey(range->from), ""},
      [&](absl::string_view key, const std::vector<int64_t>& row) {
        store::KeyReader reader(key);
        absl::CivilDay day;
        if (!reader.Day(&day)) {
          corrupt = true;
          return false;
        }
        since_from += NetChange(row);
        if (day <= range->to) {
          const size_t index = absl::CivilMonth(day) - months.front();
          for (size_t i = 0; i < row.size() && i < kColumns; ++i) {
            movements[index][i] += row[i];
          }
        }
        return true;
      });
  if (!status.ok()) return status;
  if (corrupt) return CorruptKey(kLiabilityDaysTable);
  int64_t opening = current_total - since_from;
  for (size_t m = 0; m < months.size(); ++m) {
    const std::array<int64_t, kColumns>& moved = movements[m];
    v1::LiabilityMonthRow* row = response.add_monthly();
    row->set_year(static_cast<int32_t>(months[m].year()));
    row->set_month(months[m].month());
    row->set_opening_miles(opening);
    row->set_issued_miles(moved[kIssued]);
    row->set_reversed_miles(moved[kReversed]);
    row->set_redeemed_miles(moved[kRedeemed]);
    row->set_expired_miles(moved[kExpired]);
    row->set_adjusted_miles(moved[kAdjusted]);
    row->set_fee_miles(moved[kFees]);
    opening += NetChange(std::vector<int64_t>(moved.begin(), moved.end()));
    row->set_closing_miles(opening);
  }
  return response;
}

absl::StatusOr<int64_t> LiabilityTotal(const ViewReader& view) {
  int64_t total = 0;
  absl::Status status = view.ScanCounters(
      kLiabilityDaysTable, {},
      [&](absl::string_view, const std::vector<int64_t>& row) {
        total += NetChange(row);
        return true;
      });
  if (!status.ok()) return status;
  return total;
}

absl::StatusOr<int64_t> SumOfMemberBalances(const ViewReader& view) {
  int64_t total = 0;
  absl::Status status = view.ScanCounters(
      kLiabilityMembersTable, {},
      [&](absl::string_view, const std::vector<int64_t>& row) {
        if (!row.empty()) total += row[0];
        return true;
      });
  if (!status.ok()) return status;
  return total;
}

}  // namespace mileagebank::reporting
