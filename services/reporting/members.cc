#include "services/reporting/members.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/dates.h"

namespace mileagebank::reporting {
namespace {

using members_records::MemberRecord;
using members_records::YearTotals;
using Year = MemberRow::Year;
using membership::v1::MemberStatus;
using membership::v1::Tier;

// Counter row of the stock tables: members per status value, then current
// members per tier value.
constexpr int kStatusSlots = 5;
constexpr int kTierSlots = 5;
constexpr int kStockSlots = kStatusSlots + kTierSlots;
using StockRow = std::array<int64_t, kStockSlots>;

// The Day part of every time-bucketed key is an Int64: 8 bytes.
constexpr size_t kDayBytes = 8;

bool IsCurrent(MemberStatus status) {
  return status == membership::v1::ACTIVE ||
         status == membership::v1::SUSPENDED;
}

bool Counts(const MemberRow& record) {
  return record.enrolled && IsCurrent(record.status);
}

std::string DayKey(absl::CivilDay day) {
  return store::KeyBuilder().Day(day).Build();
}

absl::CivilDay MonthStart(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day));
}

// Adds `deltas` to the day's row and to its month's row.
absl::Status AddBucketed(ViewState& state, absl::string_view daily,
                         absl::string_view monthly, absl::CivilDay day,
                         absl::string_view suffix,
                         absl::Span<const int64_t> deltas) {
  // Reused: two keys per change, several changes per event.
  thread_local store::KeyBuilder key;
  MB_RETURN_IF_ERROR(
      state.Add(daily, key.Clear().Day(day).Raw(suffix).Build(), deltas));
  return state.Add(
      monthly, key.Clear().Day(MonthStart(day)).Raw(suffix).Build(), deltas);
}

// May find a row unreadable (DATA_LOSS), which ends the scan.
using SuffixVisit = std::function<absl::Status(
    absl::string_view suffix, const std::vector<int64_t>& values)>;

absl::Status ScanBucket(const ViewReader& view, absl::string_view table,
                        store::ScanRange range, const SuffixVisit& visit) {
  return view.ScanCounters(
      table, range,
      [&](absl::string_view key,
          const std::vector<int64_t>& values) -> absl::StatusOr<bool> {
        if (key.size() < kDayBytes) {
          return absl::DataLossError(
              absl::StrCat(table, ": key shorter than a day"));
        }
        MB_RETURN_IF_ERROR(visit(key.substr(kDayBytes), values));
        return true;
      });
}

// Every delta dated up to the end of `day`, by key suffix: whole months
// from the monthly table, the rest of `day`'s month from the daily one.
absl::Status SumUpTo(const ViewReader& view, absl::string_view daily,
                     absl::string_view monthly, absl::CivilDay day,
                     const SuffixVisit& visit) {
  const absl::CivilDay first = MonthStart(day);
  MB_RETURN_IF_ERROR(
      ScanBucket(view, monthly, store::ScanRange{"", DayKey(first)}, visit));
  return ScanBucket(view, daily,
                    store::ScanRange{DayKey(first), DayKey(day + 1)}, visit);
}

// Every delta dated within `month` clipped to `range`.
absl::Status SumMonthIn(const ViewReader& view, absl::string_view daily,
                        absl::string_view monthly, const ReportRange& range,
                        absl::CivilMonth month, const SuffixVisit& visit) {
  const absl::CivilDay first = range.FirstDayIn(month);
  const absl::CivilDay last = range.LastDayIn(month);
  if (first == absl::CivilDay(month) &&
      last == validation::LastDayOfMonth(month)) {
    return ScanBucket(view, monthly,
                      store::ScanRange{DayKey(first), DayKey(first + 1)},
                      visit);
  }
  return ScanBucket(view, daily,
                    store::ScanRange{DayKey(first), DayKey(last + 1)}, visit);
}

const Year* FindYear(const MemberRow& record, int64_t year) {
  for (const Year& totals : record.years) {
    if (totals.year == year) return &totals;
  }
  return nullptr;
}

Tier EarnedIn(const MemberRow& record, int64_t year) {
  const Year* totals = FindYear(record, year);
  return totals == nullptr ? membership::v1::BLUE : totals->earned_tier;
}

// Adds (`miles`, `segments`) to the record's `year`, keeping years sorted
// and dropping a year that comes back to nothing.
void AddToYear(MemberRow& record, int64_t year, int64_t miles,
               int64_t segments, const tiers::TierThresholds& thresholds) {
  auto& years = record.years;
  auto at = years.begin();
  while (at != years.end() && at->year < year) ++at;
  if (at == years.end() || at->year != year) {
    if (miles == 0 && segments == 0) return;
    Year added;
    added.year = static_cast<int32_t>(year);
    at = years.insert(at, added);
  }
  at->qualifying_miles += miles;
  at->qualifying_segments += segments;
  if (at->qualifying_miles == 0 && at->qualifying_segments == 0) {
    years.erase(at);
    return;
  }
  at->earned_tier = tiers::EarnedTier(
      {at->qualifying_miles, at->qualifying_segments}, thresholds);
}

// The record's contribution to the stock row on a day of `year`.
StockRow Contribution(const MemberRow& record, int64_t year) {
  StockRow row{};
  if (!record.enrolled) return row;
  const int status = record.status;
  if (status >= 0 && status < kStatusSlots) row[status] = 1;
  if (IsCurrent(record.status)) {
    row[kStatusSlots + TierInYear(record, year)] = 1;
  }
  return row;
}

int64_t LastActivityYear(const MemberRow& record, int64_t floor) {
  for (const Year& totals : record.years) {
    floor = std::max<int64_t>(floor, totals.year);
  }
  return floor;
}

// The stock deltas of replacing `before` by `after` on day `day`: the
// difference from `day` to the end of its year, then each 1 January's step
// while the difference still changes from year to year (two years after
// the last activity both records are BLUE and it stops changing).
absl::Status WriteStockChange(ViewState& state, const MemberRow& before,
                              const MemberRow& after, absl::CivilDay day) {
  const int64_t first_year = day.year();
  const int64_t last_year = std::max(LastActivityYear(before, first_year),
                                     LastActivityYear(after, first_year)) +
                            2;
  StockRow previous{};
  for (int64_t year = first_year; year <= last_year; ++year) {
    const StockRow old_row = Contribution(before, year);
    const StockRow new_row = Contribution(after, year);
    StockRow step{};
    bool any = false;
    for (int i = 0; i < kStockSlots; ++i) {
      const int64_t difference = new_row[i] - old_row[i];
      step[i] = difference - previous[i];
      previous[i] = difference;
      any = any || step[i] != 0;
    }
    if (!any) continue;
    const absl::CivilDay at =
        year == first_year ? day : absl::CivilDay(year, 1, 1);
    MB_RETURN_IF_ERROR(AddBucketed(state, kMembersStockDailyTable,
                                   kMembersStockMonthlyTable, at, "", step));
  }
  return absl::OkStatus();
}

std::string NationalitySuffix(absl::string_view nationality) {
  return store::KeyBuilder().String(nationality).Build();
}

absl::Status WriteNationalityChange(ViewState& state,
                                    const MemberRow& before,
                                    const MemberRow& after,
                                    absl::CivilDay day) {
  const bool was = Counts(before);
  const bool is = Counts(after);
  if (was && is && before.nationality == after.nationality) {
    return absl::OkStatus();
  }
  if (was) {
    MB_RETURN_IF_ERROR(AddBucketed(
        state, kMembersNationalityDailyTable, kMembersNationalityMonthlyTable,
        day, NationalitySuffix(before.nationality), {-1}));
  }
  if (is) {
    MB_RETURN_IF_ERROR(AddBucketed(
        state, kMembersNationalityDailyTable, kMembersNationalityMonthlyTable,
        day, NationalitySuffix(after.nationality), {1}));
  }
  return absl::OkStatus();
}

// One year's entry in both indexes: where it sorts and what it holds.
struct IndexEntry {
  int64_t year;
  int64_t miles;
  int64_t segments;
  int64_t active;
  int64_t previous_year_tier;
};

// The entries a record should have, by year (as its years are kept).
absl::InlinedVector<IndexEntry, 4> IndexEntries(const MemberRow& record) {
  absl::InlinedVector<IndexEntry, 4> entries;
  const bool active =
      record.enrolled && record.status == membership::v1::ACTIVE;
  for (const Year& totals : record.years) {
    entries.push_back({totals.year, totals.qualifying_miles,
                       totals.qualifying_segments, active ? 1 : 0,
                       EarnedIn(record, totals.year - 1)});
  }
  return entries;
}

std::string IndexValue(const IndexEntry& entry) {
  return EncodeCounters({entry.active, entry.previous_year_tier});
}

// The one row of kMembersTopIndexStateTable.
constexpr char kIndexDeferredKey[] = "deferred";

absl::StatusOr<bool> IndexDeferred(ViewState& state) {
  MB_ASSIGN_OR_RETURN(std::optional<std::string> row,
                      state.Get(kMembersTopIndexStateTable, kIndexDeferredKey));
  return row.has_value();
}

// Writes only the entries that differ: most events change one year's
// totals, so keys are built for that year alone.
absl::Status WriteIndexChange(ViewState& state, const MemberRow& before,
                              const MemberRow& after) {
  const std::string& member = after.member_number;
  auto remove = [&](const IndexEntry& entry) {
    for (const bool by_qs : {false, true}) {
      state.Delete(by_qs ? kMembersTopByQsTable : kMembersTopByQmTable,
                   QualifyingIndexKey(by_qs, entry.year, entry.miles,
                                      entry.segments, member));
    }
  };
  auto put = [&](const IndexEntry& entry) {
    const std::string value = IndexValue(entry);
    for (const bool by_qs : {false, true}) {
      state.Put(by_qs ? kMembersTopByQsTable : kMembersTopByQmTable,
                QualifyingIndexKey(by_qs, entry.year, entry.miles,
                                   entry.segments, member),
                value);
    }
  };
  const auto old_entries = IndexEntries(before);
  const auto new_entries = IndexEntries(after);
  if (old_entries.empty() && new_entries.empty()) return absl::OkStatus();
  MB_ASSIGN_OR_RETURN(const bool deferred, IndexDeferred(state));
  if (deferred) return absl::OkStatus();
  size_t i = 0, j = 0;
  while (i < old_entries.size() || j < new_entries.size()) {
    if (j == new_entries.size() ||
        (i < old_entries.size() && old_entries[i].year < new_entries[j].year)) {
      remove(old_entries[i++]);
      continue;
    }
    if (i == old_entries.size() || new_entries[j].year < old_entries[i].year) {
      put(new_entries[j++]);
      continue;
    }
    const IndexEntry& was = old_entries[i++];
    const IndexEntry& is = new_entries[j++];
    if (was.miles != is.miles || was.segments != is.segments) {
      remove(was);
      put(is);
    } else if (was.active != is.active ||
               was.previous_year_tier != is.previous_year_tier) {
      put(is);
    }
  }
  return absl::OkStatus();
}

std::string RecordKey(absl::string_view member_number) {
  return store::KeyBuilder().String(member_number).Build();
}

// A member's record, kept parsed in memory and changed in place, and a
// copy of what it was before this event changed it.
struct Change {
  MemberRow before;
  MemberRow* after;
};

std::string NumberedRecordKey(uint64_t number) {
  return RecordKey(MemberNumberDigits(number));
}

bool RecordKeyNumber(absl::string_view key, uint64_t* number) {
  store::KeyReader reader(key);
  std::string digits;
  if (!reader.String(&digits) || !reader.done()) return false;
  const std::optional<uint64_t> value = MemberNumberValue(digits);
  if (value.has_value()) *number = *value;
  return value.has_value();
}

// Records are kept by member number: one is changed per membership event.
const NumberedKeys kRecordKeys = {&NumberedRecordKey, &RecordKeyNumber};

absl::StatusOr<Change> LoadForChange(ViewState& state,
                                     absl::string_view member_number) {
  bool found = false;
  const std::optional<uint64_t> number = MemberNumberValue(member_number);
  MB_ASSIGN_OR_RETURN(
      MemberRow * record,
      number.has_value()
          ? state.MutableNumbered<MemberRow>(kMembersRecordsTable, kRecordKeys,
                                             *number, &found)
          : state.MutableRecord<MemberRow>(
                kMembersRecordsTable, RecordKey(member_number), &found));
  if (!found) record->member_number = std::string(member_number);
  return Change{*record, record};
}

// Writes the figures that follow from the change (the record itself is
// already changed in place).
absl::Status Save(ViewState& state, const Change& change, absl::CivilDay day) {
  MB_RETURN_IF_ERROR(
      WriteStockChange(state, change.before, *change.after, day));
  MB_RETURN_IF_ERROR(
      WriteNationalityChange(state, change.before, *change.after, day));
  return WriteIndexChange(state, change.before, *change.after);
}

void TakeProfile(const membership::v1::Profile& profile, MemberRow& record) {
  record.nationality = profile.nationality();
  record.family_name = profile.family_name();
  record.given_name = profile.given_name();
  record.marketing_consent = profile.marketing_consent();
}

// The UTC day of a timestamp; `fallback` when it is unset.
absl::CivilDay DayOf(const google::protobuf::Timestamp& timestamp,
                     absl::CivilDay fallback) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return fallback;
  return validation::UtcDay(validation::FromProtoTimestamp(timestamp));
}

std::map<Tier, int64_t> EmptyTierCounts() {
  return {{membership::v1::BLUE, 0},
          {membership::v1::SILVER, 0},
          {membership::v1::GOLD, 0},
          {membership::v1::PLATINUM, 0}};
}

absl::StatusOr<std::vector<int64_t>> StockAt(const ViewReader& view,
                                             absl::CivilDay day) {
  std::vector<int64_t> sums(kStockSlots, 0);
  MB_RETURN_IF_ERROR(
      SumUpTo(view, kMembersStockDailyTable, kMembersStockMonthlyTable, day,
              [&](absl::string_view, const std::vector<int64_t>& values) {
                AddCounters(values, &sums);
                return absl::OkStatus();
              }));
  sums.resize(std::max<size_t>(sums.size(), kStockSlots));
  return sums;
}

}  // namespace

std::string QualifyingIndexKey(bool by_qs, int64_t year, int64_t miles,
                               int64_t segments,
                               absl::string_view member_number) {
  store::KeyBuilder key;
  key.Int64(year);
  if (by_qs) {
    key.Int64(-segments).Int64(-miles);
  } else {
    key.Int64(-miles).Int64(-segments);
  }
  key.String(member_number);
  return key.Build();
}

absl::Status DecodeMemberRow(absl::string_view bytes, MemberRow& row) {
  if (row.Decode(bytes)) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(kMembersRecordsTable, ": unreadable record"));
}

std::vector<QualifyingIndexRow> QualifyingIndexRows(const MemberRow& record) {
  std::vector<QualifyingIndexRow> rows;
  for (const IndexEntry& entry : IndexEntries(record)) {
    const std::string value = IndexValue(entry);
    for (const bool by_qs : {false, true}) {
      rows.push_back({by_qs ? kMembersTopByQsTable : kMembersTopByQmTable,
                      QualifyingIndexKey(by_qs, entry.year, entry.miles,
                                         entry.segments, record.member_number),
                      value});
    }
  }
  return rows;
}

absl::StatusOr<bool> QualifyingIndexDeferred(const ViewReader& view) {
  MB_ASSIGN_OR_RETURN(std::optional<std::string> row,
                      view.Get(kMembersTopIndexStateTable, kIndexDeferredKey));
  return row.has_value();
}

std::string QualifyingIndexBound(bool by_qs, int64_t year, int64_t at_most) {
  (void)by_qs;  // Both layouts lead with the year, then the negated measure.
  return store::KeyBuilder().Int64(year).Int64(-at_most).Build();
}

bool DecodeQualifyingIndexEntry(bool by_qs, absl::string_view key,
                                absl::string_view value,
                                QualifyingIndexEntry* entry) {
  store::KeyReader reader(key);
  int64_t year, first, second;
  std::string member;
  if (!reader.Int64(&year) || !reader.Int64(&first) || !reader.Int64(&second) ||
      !reader.String(&member) || !reader.done()) {
    return false;
  }
  std::vector<int64_t> values;
  if (!DecodeCounters(value, &values) || values.size() != 2 ||
      !membership::v1::Tier_IsValid(static_cast<int>(values[1]))) {
    return false;
  }
  entry->year = year;
  entry->qualifying_miles = by_qs ? -second : -first;
  entry->qualifying_segments = by_qs ? -first : -second;
  entry->member_number = std::move(member);
  entry->active = values[0] != 0;
  entry->previous_year_tier = static_cast<Tier>(values[1]);
  return true;
}

Tier TierInYear(const MemberRow& record, int64_t year) {
  return std::max(EarnedIn(record, year), EarnedIn(record, year - 1));
}

tiers::QualifyingTotals TotalsInYear(const MemberRow& record, int64_t year) {
  const Year* totals = FindYear(record, year);
  if (totals == nullptr) return {};
  return {totals->qualifying_miles, totals->qualifying_segments};
}

std::string MemberRow::Encode() const {
  // MemberRecord's wire format, written directly (proto3: fields at zero
  // are left out; an int32 or enum is sign-extended); a test checks it
  // against the message's own serialisation. Sized first, then written
  // straight into the string, as ExpiringLotsRecord does.
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  auto string_size = [](const std::string& value) {
    return value.empty() ? 0 : 1 + WireFormatLite::StringSize(value);
  };
  auto year_size = [](const Year& totals) {
    size_t size = 0;
    if (totals.year != 0) size += 1 + WireFormatLite::Int32Size(totals.year);
    if (totals.qualifying_miles != 0) {
      size += 1 + WireFormatLite::Int64Size(totals.qualifying_miles);
    }
    if (totals.qualifying_segments != 0) {
      size += 1 + WireFormatLite::Int64Size(totals.qualifying_segments);
    }
    if (totals.earned_tier != 0) {
      size += 1 + WireFormatLite::EnumSize(totals.earned_tier);
    }
    return size;
  };
  size_t total = string_size(member_number) + (enrolled ? 2 : 0) +
                 (status != 0 ? 1 + WireFormatLite::EnumSize(status) : 0) +
                 string_size(nationality) + string_size(family_name) +
                 string_size(given_name) + (marketing_consent ? 2 : 0);
  for (const Year& totals : years) {
    const size_t size = year_size(totals);
    total += 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(size)) +
             size;
  }
  std::string bytes(total, '\0');
  auto* out = reinterpret_cast<uint8_t*>(&bytes[0]);
  auto write_string = [&out](int field, const std::string& value) {
    if (!value.empty()) {
      out = WireFormatLite::WriteStringToArray(field, value, out);
    }
  };
  write_string(1, member_number);
  if (enrolled) out = WireFormatLite::WriteBoolToArray(2, true, out);
  if (status != 0) out = WireFormatLite::WriteEnumToArray(3, status, out);
  write_string(4, nationality);
  write_string(5, family_name);
  write_string(6, given_name);
  if (marketing_consent) out = WireFormatLite::WriteBoolToArray(7, true, out);
  for (const Year& totals : years) {
    out = WireFormatLite::WriteTagToArray(
        8, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, out);
    out = CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(year_size(totals)), out);
    if (totals.year != 0) {
      out = WireFormatLite::WriteInt32ToArray(1, totals.year, out);
    }
    if (totals.qualifying_miles != 0) {
      out = WireFormatLite::WriteInt64ToArray(2, totals.qualifying_miles, out);
    }
    if (totals.qualifying_segments != 0) {
      out = WireFormatLite::WriteInt64ToArray(3, totals.qualifying_segments,
                                              out);
    }
    if (totals.earned_tier != 0) {
      out = WireFormatLite::WriteEnumToArray(4, totals.earned_tier, out);
    }
  }
  return bytes;
}

bool MemberRow::Decode(absl::string_view bytes) {
  MemberRecord message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return false;
  }
  member_number = message.member_number();
  enrolled = message.enrolled();
  status = message.status();
  nationality = message.nationality();
  family_name = message.family_name();
  given_name = message.given_name();
  marketing_consent = message.marketing_consent();
  years.clear();
  for (const YearTotals& totals : message.years()) {
    years.push_back(Year{totals.year(), totals.qualifying_miles(),
                         totals.qualifying_segments(), totals.earned_tier()});
  }
  return true;
}

MembersProjection::MembersProjection(const tiers::TierThresholds& thresholds)
    : thresholds_(thresholds) {}

absl::StatusOr<std::unique_ptr<MembersProjection>>
MembersProjection::FromConfig(const config::v1::TierConfig& config) {
  MB_ASSIGN_OR_RETURN(tiers::TierThresholds thresholds,
                      tiers::TierThresholds::FromConfig(config));
  return std::make_unique<MembersProjection>(thresholds);
}

std::vector<std::string> MembersProjection::Tables() const {
  return {kMembersRecordsTable,
          kMembersStockDailyTable,
          kMembersStockMonthlyTable,
          kMembersNationalityDailyTable,
          kMembersNationalityMonthlyTable,
          kMembersEnrolmentsDailyTable,
          kMembersEnrolmentsMonthlyTable,
          kMembersTopByQmTable,
          kMembersTopByQsTable,
          kMembersTopIndexStateTable};
}

std::vector<std::string> MembersProjection::ResidentTables() const {
  return {kMembersRecordsTable, kMembersTopIndexStateTable};
}

void MembersProjection::DeferDerived(ViewState& state) {
  state.Put(kMembersTopIndexStateTable, kIndexDeferredKey, "");
}

absl::Status MembersProjection::DeriveDeferred(const ViewReader& view,
                                               ViewState& state) {
  MB_ASSIGN_OR_RETURN(const bool deferred, IndexDeferred(state));
  if (!deferred) return absl::OkStatus();
  MB_RETURN_IF_ERROR(view.ScanChecked(
      kMembersRecordsTable, store::ScanRange{},
      [&](absl::string_view, absl::string_view value) -> absl::StatusOr<bool> {
        MemberRow record;
        MB_RETURN_IF_ERROR(DecodeMemberRow(value, record));
        for (QualifyingIndexRow& row : QualifyingIndexRows(record)) {
          state.PutUnread(row.table, row.key, row.value);
        }
        return true;
      }));
  state.Delete(kMembersTopIndexStateTable, kIndexDeferredKey);
  return absl::OkStatus();
}

absl::Status MembersProjection::Apply(const SourceEvent& event,
                                      ViewState& state) {
  namespace mv1 = membership::v1;
  if (event.source() != kMembershipSource) return absl::OkStatus();
  const absl::CivilDay day =
      DayOf(event.event().recorded_at(), absl::CivilDay(1970));

  MB_ASSIGN_OR_RETURN(const mv1::QualifyingActivityRecorded* recorded,
                      event.Payload<mv1::QualifyingActivityRecorded>());
  if (recorded != nullptr) {
    MB_ASSIGN_OR_RETURN(Change change,
                        LoadForChange(state, recorded->member_number()));
    const int64_t sign = recorded->reversal() ? -1 : 1;
    AddToYear(*change.after, recorded->activity_date().year(),
              sign * recorded->qualifying_miles(),
              sign * recorded->qualifying_segments(), thresholds_);
    return Save(state, change, day);
  }
  MB_ASSIGN_OR_RETURN(const mv1::MemberEnrolled* enrolled,
                      event.Payload<mv1::MemberEnrolled>());
  if (enrolled != nullptr) {
    const mv1::Member& member = enrolled->member();
    MB_ASSIGN_OR_RETURN(Change change,
                        LoadForChange(state, member.member_number()));
    // A second enrolment of one number cannot happen; counting it twice
    // would be worse than ignoring it.
    if (change.before.enrolled) return absl::OkStatus();
    change.after->enrolled = true;
    change.after->status = member.status() == mv1::MEMBER_STATUS_UNSPECIFIED
                               ? mv1::ACTIVE
                               : member.status();
    TakeProfile(member.profile(), *change.after);
    const std::string suffix = store::KeyBuilder()
                                   .Int64(member.enrolment().channel())
                                   .String(member.enrolment().office_code())
                                   .Build();
    MB_RETURN_IF_ERROR(AddBucketed(
        state, kMembersEnrolmentsDailyTable, kMembersEnrolmentsMonthlyTable,
        DayOf(member.enrolled_at(), day), suffix, {1}));
    return Save(state, change, day);
  }
  MB_ASSIGN_OR_RETURN(const mv1::StatusChanged* changed,
                      event.Payload<mv1::StatusChanged>());
  if (changed != nullptr) {
    MB_ASSIGN_OR_RETURN(Change change,
                        LoadForChange(state, changed->member_number()));
    change.after->status = changed->to_status();
    return Save(state, change, day);
  }
  MB_ASSIGN_OR_RETURN(const mv1::ProfileUpdated* updated,
                      event.Payload<mv1::ProfileUpdated>());
  if (updated != nullptr) {
    MB_ASSIGN_OR_RETURN(Change change,
                        LoadForChange(state, updated->member_number()));
    TakeProfile(updated->profile(), *change.after);
    return Save(state, change, day);
  }
  MB_ASSIGN_OR_RETURN(const mv1::MembersMerged* merged,
                      event.Payload<mv1::MembersMerged>());
  if (merged != nullptr) {
    if (merged->source_member_number() == merged->target_member_number()) {
      return absl::OkStatus();
    }
    MB_ASSIGN_OR_RETURN(Change source,
                        LoadForChange(state, merged->source_member_number()));
    MB_ASSIGN_OR_RETURN(Change target,
                        LoadForChange(state, merged->target_member_number()));
    for (const Year& totals : source.before.years) {
      AddToYear(*target.after, totals.year, totals.qualifying_miles,
                totals.qualifying_segments, thresholds_);
    }
    source.after->years.clear();
    MB_RETURN_IF_ERROR(Save(state, source, day));
    return Save(state, target, day);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetMembersReportResponse> MembersReport(
    const ViewReader& view, const v1::GetMembersReportRequest& request,
    const ReportContext& context) {
  MB_ASSIGN_OR_RETURN(ReportRange range, CheckRange(request.range()));
  const absl::CivilDay stock_day =
      std::min(range.to, validation::UtcDay(context.now));
  v1::GetMembersReportResponse response;

  MB_ASSIGN_OR_RETURN(std::vector<int64_t> stock, StockAt(view, stock_day));
  v1::MembersSummary* summary = response.mutable_summary();
  for (int status = 0; status < kStatusSlots; ++status) {
    summary->set_total_members(summary->total_members() + stock[status]);
  }
  summary->set_current_members(stock[membership::v1::ACTIVE] +
                               stock[membership::v1::SUSPENDED]);
  for (Tier tier : {membership::v1::BLUE, membership::v1::SILVER,
                    membership::v1::GOLD, membership::v1::PLATINUM}) {
    v1::TierCountRow* row = response.add_by_tier();
    row->set_tier(tier);
    row->set_members(stock[kStatusSlots + tier]);
  }
  for (MemberStatus status : {membership::v1::ACTIVE, membership::v1::SUSPENDED,
                              membership::v1::CLOSED, membership::v1::MERGED}) {
    v1::StatusCountRow* row = response.add_by_status();
    row->set_status(status);
    row->set_members(stock[status]);
  }

  std::map<std::string, int64_t> by_nationality;
  MB_RETURN_IF_ERROR(SumUpTo(
      view, kMembersNationalityDailyTable, kMembersNationalityMonthlyTable,
      stock_day,
      [&](absl::string_view suffix, const std::vector<int64_t>& values) {
        store::KeyReader reader(suffix);
        std::string nationality;
        if (!reader.String(&nationality) || values.empty()) {
          return absl::DataLossError(
              absl::StrCat(kMembersNationalityDailyTable, ": bad row"));
        }
        by_nationality[nationality] += values[0];
        return absl::OkStatus();
      }));
  std::vector<std::pair<std::string, int64_t>> nationalities;
  for (const auto& [code, members] : by_nationality) {
    if (members != 0) nationalities.emplace_back(code, members);
  }
  std::stable_sort(
      nationalities.begin(), nationalities.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [code, members] : nationalities) {
    v1::NationalityCountRow* row = response.add_by_nationality();
    row->set_nationality(code);
    row->set_members(members);
  }

  std::map<std::pair<int64_t, std::string>, int64_t> by_channel;
  for (const absl::CivilMonth month : range.Months()) {
    int64_t enrolments = 0;
    MB_RETURN_IF_ERROR(SumMonthIn(
        view, kMembersEnrolmentsDailyTable, kMembersEnrolmentsMonthlyTable,
        range, month,
        [&](absl::string_view suffix, const std::vector<int64_t>& values) {
          store::KeyReader reader(suffix);
          int64_t channel;
          std::string office;
          if (!reader.Int64(&channel) || !reader.String(&office) ||
              values.empty()) {
            return absl::DataLossError(
                absl::StrCat(kMembersEnrolmentsDailyTable, ": bad row"));
          }
          by_channel[{channel, office}] += values[0];
          enrolments += values[0];
          return absl::OkStatus();
        }));
    v1::EnrolmentMonthRow* row = response.add_enrolments_by_month();
    row->set_year(static_cast<int32_t>(month.year()));
    row->set_month(month.month());
    row->set_enrolments(enrolments);
    summary->set_enrolments(summary->enrolments() + enrolments);
  }
  for (const auto& [channel_office, enrolments] : by_channel) {
    if (enrolments == 0) continue;
    v1::EnrolmentChannelRow* row = response.add_enrolments_by_channel();
    row->set_channel(static_cast<common::v1::Channel>(channel_office.first));
    row->set_office_code(channel_office.second);
    row->set_enrolments(enrolments);
  }
  return response;
}

absl::StatusOr<std::map<Tier, int64_t>> CurrentTierCounts(
    const ViewReader& view, absl::Time now) {
  MB_ASSIGN_OR_RETURN(std::vector<int64_t> stock,
                      StockAt(view, validation::UtcDay(now)));
  std::map<Tier, int64_t> counts = EmptyTierCounts();
  for (auto& [tier, members] : counts) members = stock[kStatusSlots + tier];
  return counts;
}

absl::StatusOr<std::map<Tier, int64_t>> CurrentTierCounts(
    const ViewReader& view) {
  return CurrentTierCounts(view, absl::Now());
}

absl::StatusOr<std::map<Tier, int64_t>> RecountTiers(const ViewReader& view,
                                                     absl::Time now) {
  const int64_t year = validation::UtcDay(now).year();
  std::map<Tier, int64_t> counts = EmptyTierCounts();
  MB_RETURN_IF_ERROR(view.ScanChecked(
      kMembersRecordsTable, store::ScanRange{},
      [&](absl::string_view, absl::string_view value) -> absl::StatusOr<bool> {
        MemberRow record;
        MB_RETURN_IF_ERROR(DecodeMemberRow(value, record));
        if (Counts(record)) ++counts[TierInYear(record, year)];
        return true;
      }));
  return counts;
}

absl::StatusOr<std::map<Tier, int64_t>> RecountTiers(const ViewReader& view) {
  return RecountTiers(view, absl::Now());
}

}  // namespace mileagebank::reporting
