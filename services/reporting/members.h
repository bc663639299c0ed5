// Report 1, Members (reporting.proto GetMembersReport), and the projection
// that also feeds report 5 (top_members.h): one MembersProjection folds the
// membership stream into every table both reports read, because both need
// the same per-member record and reading it once per event is what keeps
// the ingest fast.
//
// What is derived from which event (membership stream only; the other
// sources are ignored):
// - MemberEnrolled: the member, its status, profile fields and enrolment
//   (channel, office, enrolled_at).
// - StatusChanged, ProfileUpdated: status; nationality, names, consent.
// - QualifyingActivityRecorded: QM and QS per calendar year of the activity
//   date (reversals subtract). Membership's tier on a day is a function of
//   these (libs/tiers TierOn: the higher of what this year and last year
//   earn), so reporting recomputes it instead of following TierChanged:
//   a lapse at a year end comes as a TierChanged only when membership's
//   lapse run gets to it, and the tier at the end of a past to_date needs
//   the totals anyway.
// - MembersMerged: the source's yearly totals move to the target, as
//   membership moves them (no QualifyingActivityRecorded is emitted for it).
//
// Tables (keys built with libs/store/keys.h; "Day" is the 8-byte day part):
//   members_records            String(member)  -> MemberRecord proto
//       (MemberRow in memory)
//   members_stock_{daily,monthly}
//       Day -> [members per MemberStatus value (5), current members per Tier
//       value (5)]: deltas; the stock at the end of day D is the sum of the
//       rows up to D. A change recorded on day R changes the stock from R
//       on; because the tier on a day depends on that day's year, a change
//       to the yearly totals also writes the steps it causes at later
//       1 January days (the year the tier lapses to BLUE included). Monthly
//       rows (keyed by the month's first day) hold the same deltas summed,
//       so that a stock is ~120 monthly rows plus <= 31 daily ones.
//   members_nationality_{daily,monthly}
//       Day String(nationality) -> [current members]: deltas, as above.
//   members_enrolments_{daily,monthly}
//       Day(enrolled_at) Int64(channel) String(office) -> [enrolments].
//   members_top_by_qm   Int64(year) Int64(-QM) Int64(-QS) String(member)
//   members_top_by_qs   Int64(year) Int64(-QS) Int64(-QM) String(member)
//       -> counters [ACTIVE ? 1 : 0, tier earned the year before]: one entry
//       per member and year with activity, sorted by the ranking, so top
//       and near-tier lists read a prefix or a band, never every member.
//
// Stocks "at the end of to_date" reflect the events recorded up to then
// (Event.recorded_at), or the state today when to_date is today or later.
//
// Thread-compatible: the ingest applies events from one thread; the query
// functions only read.
#ifndef MILEAGEBANK_SERVICES_REPORTING_MEMBERS_H_
#define MILEAGEBANK_SERVICES_REPORTING_MEMBERS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/tiers/tiers.h"
#include "mileagebank/config/v1/tiers.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "services/reporting/members_records.pb.h"
#include "services/reporting/report_range.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

inline constexpr char kMembersRecordsTable[] = "members_records";
inline constexpr char kMembersStockDailyTable[] = "members_stock_daily";
inline constexpr char kMembersStockMonthlyTable[] = "members_stock_monthly";
inline constexpr char kMembersNationalityDailyTable[] =
    "members_nationality_daily";
inline constexpr char kMembersNationalityMonthlyTable[] =
    "members_nationality_monthly";
inline constexpr char kMembersEnrolmentsDailyTable[] =
    "members_enrolments_daily";
inline constexpr char kMembersEnrolmentsMonthlyTable[] =
    "members_enrolments_monthly";
inline constexpr char kMembersTopByQmTable[] = "members_top_by_qm";
inline constexpr char kMembersTopByQsTable[] = "members_top_by_qs";
// Whether the two indexes above are deferred (Projection::DeferDerived):
// one row while they are.
inline constexpr char kMembersTopIndexStateTable[] = "members_top_index";

// One entry of members_top_by_qm / members_top_by_qs.
struct QualifyingIndexEntry {
  int64_t year = 0;
  int64_t qualifying_miles = 0;
  int64_t qualifying_segments = 0;
  std::string member_number;
  bool active = false;
  membership::v1::Tier previous_year_tier = membership::v1::BLUE;
};

// Keys of the two indexes. `by_qs` selects members_top_by_qs's layout.
std::string QualifyingIndexKey(bool by_qs, int64_t year, int64_t miles,
                               int64_t segments,
                               absl::string_view member_number);
// The first key of `year` whose leading measure (QM, or QS when `by_qs`)
// is at most `at_most`; so [Bound(y, hi), Bound(y, lo - 1)) holds the
// measures lo..hi, highest first.
std::string QualifyingIndexBound(bool by_qs, int64_t year, int64_t at_most);
// False when the row is not one of the index's.
bool DecodeQualifyingIndexEntry(bool by_qs, absl::string_view key,
                                absl::string_view value,
                                QualifyingIndexEntry* entry);

// A member's record as members_records stores it (MemberRecord), held as
// plain values: the projection copies it per event to compare before and
// after, and a parsed message's strings and years are separate heap
// objects (several allocations per copy).
struct MemberRow final : Record {
  struct Year {
    int32_t year = 0;
    int64_t qualifying_miles = 0;
    int64_t qualifying_segments = 0;
    membership::v1::Tier earned_tier = membership::v1::TIER_UNSPECIFIED;
  };
  // The bytes members_records::MemberRecord serialises the same fields to.
  std::string Encode() const override;
  bool Decode(absl::string_view bytes) override;

  std::string member_number;
  bool enrolled = false;
  membership::v1::MemberStatus status =
      membership::v1::MEMBER_STATUS_UNSPECIFIED;
  std::string nationality;
  std::string family_name;
  std::string given_name;
  bool marketing_consent = false;
  // By year, ascending, as MemberRecord.years.
  absl::InlinedVector<Year, 4> years;
};

// Decodes a members_records row into `row`; DATA_LOSS when it does not
// decode.
absl::Status DecodeMemberRow(absl::string_view bytes, MemberRow& row);

// The rows `record` gives the two indexes.
struct QualifyingIndexRow {
  const char* table;  // kMembersTopByQmTable or kMembersTopByQsTable.
  std::string key;
  std::string value;
};
std::vector<QualifyingIndexRow> QualifyingIndexRows(const MemberRow& record);
// Whether the indexes are deferred in `view`: then they must be derived
// from the member records to be read.
absl::StatusOr<bool> QualifyingIndexDeferred(const ViewReader& view);

// A member's tier on a day of `year` as membership decides it (the higher
// of the tiers earned in `year` and the year before), from the record's
// yearly totals. BLUE without activity.
membership::v1::Tier TierInYear(const MemberRow& record, int64_t year);
// The record's totals for `year`; zeros when it has none.
tiers::QualifyingTotals TotalsInYear(const MemberRow& record, int64_t year);

class MembersProjection final : public Projection {
 public:
  // `thresholds` must be those membership decides tiers by (the service's
  // config.tiers()): the tier counts are only as right as they are.
  explicit MembersProjection(const tiers::TierThresholds& thresholds);
  // INVALID_ARGUMENT for thresholds that libs/tiers rejects.
  static absl::StatusOr<std::unique_ptr<MembersProjection>> FromConfig(
      const config::v1::TierConfig& config);

  std::vector<std::string> Tables() const override;
  std::vector<std::string> ResidentTables() const override;
  absl::Status Apply(const SourceEvent& event, ViewState& state) override;
  // The two qualifying indexes (a delete and a put in each for most
  // membership events: a third of a rebuild's writes) are deferred.
  void DeferDerived(ViewState& state) override;
  absl::Status DeriveDeferred(const ViewReader& view,
                              ViewState& state) override;

 private:
  const tiers::TierThresholds thresholds_;
};

absl::StatusOr<v1::GetMembersReportResponse> MembersReport(
    const ViewReader& view, const v1::GetMembersReportRequest& request,
    const ReportContext& context);

// For the consistency check: current members (ACTIVE or SUSPENDED) per tier
// (BLUE to PLATINUM, zeros included) on the UTC day of `now`, from the
// aggregates the members report reads.
absl::StatusOr<std::map<membership::v1::Tier, int64_t>> CurrentTierCounts(
    const ViewReader& view, absl::Time now);
absl::StatusOr<std::map<membership::v1::Tier, int64_t>> CurrentTierCounts(
    const ViewReader& view);
// The same figure recounted from every member record: a full scan, for the
// consistency check only.
absl::StatusOr<std::map<membership::v1::Tier, int64_t>> RecountTiers(
    const ViewReader& view, absl::Time now);
absl::StatusOr<std::map<membership::v1::Tier, int64_t>> RecountTiers(
    const ViewReader& view);

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_MEMBERS_H_
