#include "services/reporting/top_members.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/tiers/tiers.h"
#include "libs/validation/dates.h"
#include "services/reporting/members.h"

namespace mileagebank::reporting {
namespace {

using membership::v1::Tier;

constexpr int kDefaultTopN = 100;
constexpr int kMaxTopN = 1000;
constexpr int kDefaultNearTierPercent = 10;
constexpr int kMaxNearTierPercent = 50;
constexpr int kDefaultNearTierLimit = 1000;
constexpr int kMaxNearTierLimit = 10000;

struct Ranked {
  std::string member_number;
  int64_t miles = 0;
  int64_t segments = 0;
};

bool RanksBefore(const Ranked& a, const Ranked& b) {
  if (a.miles != b.miles) return a.miles > b.miles;
  if (a.segments != b.segments) return a.segments > b.segments;
  return a.member_number < b.member_number;
}

absl::StatusOr<MemberRow> LoadRecord(const ViewReader& view,
                                     absl::string_view member_number) {
  MB_ASSIGN_OR_RETURN(
      std::optional<std::string> bytes,
      view.Get(kMembersRecordsTable,
               store::KeyBuilder().String(member_number).Build()));
  if (!bytes.has_value()) {
    return absl::DataLossError(absl::StrCat(kMembersTopByQmTable, ": member ",
                                            member_number, " has no record"));
  }
  MemberRow record;
  MB_RETURN_IF_ERROR(DecodeMemberRow(*bytes, record));
  return record;
}

// The two indexes derived in memory from every member record of `base`,
// for the time they are deferred (a rebuild under way): a full scan per
// report, slower than reading them but the same answer. Everything else is
// read from `base`.
class DerivedIndexView final : public ViewReader {
 public:
  explicit DerivedIndexView(const ViewReader& base) : base_(base) {}

  absl::Status Derive() {
    return base_.ScanChecked(
        kMembersRecordsTable, store::ScanRange{},
        [&](absl::string_view,
            absl::string_view value) -> absl::StatusOr<bool> {
          MemberRow record;
          MB_RETURN_IF_ERROR(DecodeMemberRow(value, record));
          for (QualifyingIndexRow& row : QualifyingIndexRows(record)) {
            indexes_[row.table].emplace(std::move(row.key),
                                        std::move(row.value));
          }
          return true;
        });
  }

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) const override {
    const Index* index = IndexOf(table);
    if (index == nullptr) return base_.Get(table, key);
    auto it = index->find(std::string(key));
    if (it == index->end()) return std::nullopt;
    return it->second;
  }

  absl::Status Scan(absl::string_view table, const store::ScanRange& range,
                    const Visit& visit) const override {
    const Index* index = IndexOf(table);
    if (index == nullptr) return base_.Scan(table, range, visit);
    auto first = index->lower_bound(range.start);
    auto end = range.end.empty() ? index->end() : index->lower_bound(range.end);
    if (range.reverse) {
      for (auto it = end; it != first;) {
        --it;
        if (!visit(it->first, it->second)) break;
      }
      return absl::OkStatus();
    }
    for (auto it = first; it != end; ++it) {
      if (!visit(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

  const std::map<std::string, uint64_t>& positions() const override {
    return base_.positions();
  }

 private:
  using Index = std::map<std::string, std::string>;

  const Index* IndexOf(absl::string_view table) const {
    if (table != kMembersTopByQmTable && table != kMembersTopByQsTable) {
      return nullptr;
    }
    auto it = indexes_.find(std::string(table));
    return it == indexes_.end() ? &empty_ : &it->second;
  }

  const ViewReader& base_;
  std::map<std::string, Index> indexes_;
  const Index empty_;
};

// Reads one year's QM index best-first, a batch at a time.
class YearCursor {
 public:
  explicit YearCursor(int64_t year)
      : next_(store::KeyBuilder().Int64(year).Build()),
        end_(store::PrefixEnd(next_)) {}

  // Up to `max` more entries, best first; done() once the year has no more.
  absl::StatusOr<std::vector<QualifyingIndexEntry>> Next(const ViewReader& view,
                                                         size_t max) {
    std::vector<QualifyingIndexEntry> entries;
    if (done_) return entries;
    std::string last_key;
    bool corrupt = false;
    MB_RETURN_IF_ERROR(
        view.Scan(kMembersTopByQmTable, store::ScanRange{next_, end_},
                  [&](absl::string_view key, absl::string_view value) {
                    QualifyingIndexEntry entry;
                    if (!DecodeQualifyingIndexEntry(/*by_qs=*/false, key, value,
                                                    &entry)) {
                      corrupt = true;
                      return false;
                    }
                    entries.push_back(std::move(entry));
                    last_key = std::string(key);
                    return entries.size() < max;
                  }));
    if (corrupt) {
      return absl::DataLossError(
          absl::StrCat(kMembersTopByQmTable, ": unreadable entry"));
    }
    if (entries.size() < max) {
      done_ = true;
    } else {
      // The smallest key after the last one read.
      next_ = last_key + std::string(1, '\0');
    }
    if (!entries.empty()) {
      frontier_miles_ = entries.back().qualifying_miles;
      frontier_segments_ = entries.back().qualifying_segments;
    }
    return entries;
  }

  bool done() const { return done_; }
  // At least what any entry not yet read holds.
  int64_t frontier_miles() const { return done_ ? 0 : frontier_miles_; }
  int64_t frontier_segments() const { return done_ ? 0 : frontier_segments_; }

 private:
  std::string next_;
  const std::string end_;
  bool done_ = false;
  int64_t frontier_miles_ = 0;
  int64_t frontier_segments_ = 0;
};

// One year: the index order is the ranking; skip members not ACTIVE.
absl::StatusOr<std::vector<Ranked>> TopOfYear(const ViewReader& view,
                                              int64_t year, size_t top_n) {
  std::vector<Ranked> top;
  YearCursor cursor(year);
  while (top.size() < top_n && !cursor.done()) {
    MB_ASSIGN_OR_RETURN(std::vector<QualifyingIndexEntry> entries,
                        cursor.Next(view, top_n));
    for (QualifyingIndexEntry& entry : entries) {
      if (!entry.active) continue;
      top.push_back({std::move(entry.member_number), entry.qualifying_miles,
                     entry.qualifying_segments});
      if (top.size() == top_n) break;
    }
  }
  return top;
}

// Several years: the threshold algorithm over the years' indexes, each
// member met totalled over all the years from its record.
absl::StatusOr<std::vector<Ranked>> TopOfYears(const ViewReader& view,
                                               int64_t first_year,
                                               int64_t last_year,
                                               size_t top_n) {
  std::vector<YearCursor> cursors;
  for (int64_t year = first_year; year <= last_year; ++year) {
    cursors.emplace_back(year);
  }
  const size_t batch = std::max<size_t>(top_n, 100);
  std::set<std::string> seen;
  std::vector<Ranked> candidates;
  while (true) {
    for (YearCursor& cursor : cursors) {
      if (cursor.done()) continue;
      MB_ASSIGN_OR_RETURN(std::vector<QualifyingIndexEntry> entries,
                          cursor.Next(view, batch));
      for (const QualifyingIndexEntry& entry : entries) {
        if (!seen.insert(entry.member_number).second) continue;
        MB_ASSIGN_OR_RETURN(MemberRow record,
                            LoadRecord(view, entry.member_number));
        if (!record.enrolled || record.status != membership::v1::ACTIVE) {
          continue;
        }
        Ranked ranked{entry.member_number, 0, 0};
        for (int64_t year = first_year; year <= last_year; ++year) {
          const tiers::QualifyingTotals totals = TotalsInYear(record, year);
          ranked.miles += totals.miles;
          ranked.segments += totals.segments;
        }
        candidates.push_back(std::move(ranked));
      }
    }
    std::sort(candidates.begin(), candidates.end(), RanksBefore);
    if (candidates.size() > top_n) candidates.resize(top_n);
    bool all_done = true;
    int64_t bound_miles = 0;
    int64_t bound_segments = 0;
    for (const YearCursor& cursor : cursors) {
      all_done = all_done && cursor.done();
      bound_miles += cursor.frontier_miles();
      bound_segments += cursor.frontier_segments();
    }
    if (all_done) break;
    // A member not met yet has at most the bound; with ties it might still
    // rank before the N-th by member_number, so only a strictly better
    // N-th ends the search.
    if (candidates.size() == top_n) {
      const Ranked& last = candidates.back();
      if (last.miles > bound_miles ||
          (last.miles == bound_miles && last.segments > bound_segments)) {
        break;
      }
    }
  }
  return candidates;
}

// remaining / threshold, compared exactly.
struct Fraction {
  int64_t remaining;
  int64_t threshold;
};

bool Less(const Fraction& a, const Fraction& b) {
  return static_cast<__int128>(a.remaining) * b.threshold <
         static_cast<__int128>(b.remaining) * a.threshold;
}

struct NearCandidate {
  QualifyingIndexEntry entry;
  Tier tier;
  Tier next_tier;
  Fraction closeness;
};

// The first value at least `percent` % below `threshold` that counts as
// near: ceil(threshold x (100 - percent) / 100).
int64_t NearFrom(int64_t threshold, int percent) {
  const __int128 scaled = static_cast<__int128>(threshold) * (100 - percent);
  return static_cast<int64_t>((scaled + 99) / 100);
}

absl::StatusOr<std::vector<NearCandidate>> NearTierCandidates(
    const ViewReader& view, int64_t year, int percent,
    const tiers::TierThresholds& thresholds) {
  std::map<std::string, NearCandidate> found;
  for (const Tier target : {membership::v1::SILVER, membership::v1::GOLD,
                            membership::v1::PLATINUM}) {
    const tiers::Threshold& threshold = thresholds.For(target);
    for (const bool by_qs : {false, true}) {
      const int64_t needed = by_qs ? threshold.segments : threshold.miles;
      const int64_t from = NearFrom(needed, percent);
      if (from > needed - 1) continue;
      bool corrupt = false;
      MB_RETURN_IF_ERROR(view.Scan(
          by_qs ? kMembersTopByQsTable : kMembersTopByQmTable,
          store::ScanRange{QualifyingIndexBound(by_qs, year, needed - 1),
                           QualifyingIndexBound(by_qs, year, from - 1)},
          [&](absl::string_view key, absl::string_view value) {
            QualifyingIndexEntry entry;
            if (!DecodeQualifyingIndexEntry(by_qs, key, value, &entry)) {
              corrupt = true;
              return false;
            }
            if (!entry.active || found.count(entry.member_number) > 0) {
              return true;
            }
            const Tier tier = std::max(
                tiers::EarnedTier(
                    {entry.qualifying_miles, entry.qualifying_segments},
                    thresholds),
                entry.previous_year_tier);
            if (tier == membership::v1::PLATINUM || tier + 1 != target) {
              return true;
            }
            const Fraction by_miles{threshold.miles - entry.qualifying_miles,
                                    threshold.miles};
            const Fraction by_segments{
                threshold.segments - entry.qualifying_segments,
                threshold.segments};
            NearCandidate candidate{
                entry, tier, target,
                Less(by_segments, by_miles) ? by_segments : by_miles};
            found.emplace(entry.member_number, std::move(candidate));
            return true;
          }));
      if (corrupt) {
        return absl::DataLossError("members_top_by_*: unreadable entry");
      }
    }
  }
  std::vector<NearCandidate> candidates;
  candidates.reserve(found.size());
  for (auto& [number, candidate] : found) {
    candidates.push_back(std::move(candidate));
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const NearCandidate& a, const NearCandidate& b) {
                     return Less(a.closeness, b.closeness);
                   });
  return candidates;
}

// A count that is 0 for its default, else `low` to `high`.
absl::optional<int> Bounded(FieldErrors& errors, absl::string_view field,
                            int value, int fallback, int high,
                            absl::string_view rule) {
  if (value == 0) return fallback;
  if (value < 1 || value > high) {
    errors.Add(field, rule);
    return absl::nullopt;
  }
  return value;
}

}  // namespace

absl::StatusOr<v1::GetTopMembersReportResponse> TopMembersReport(
    const ViewReader& view, const v1::GetTopMembersReportRequest& request,
    const ReportContext& context) {
  MB_ASSIGN_OR_RETURN(ReportRange range, CheckRange(request.range()));
  FieldErrors errors;
  const absl::optional<int> top_n =
      Bounded(errors, "top_n", request.top_n(), kDefaultTopN, kMaxTopN,
              "must be 1 to 1,000 (0 means 100)");
  const absl::optional<int> percent =
      Bounded(errors, "near_tier_percent", request.near_tier_percent(),
              kDefaultNearTierPercent, kMaxNearTierPercent,
              "must be 1 to 50 (0 means 10)");
  const absl::optional<int> limit =
      Bounded(errors, "near_tier_limit", request.near_tier_limit(),
              kDefaultNearTierLimit, kMaxNearTierLimit,
              "must be 1 to 10,000 (0 means 1,000)");
  MB_RETURN_IF_ERROR(errors.ToStatus());

  tiers::TierThresholds thresholds;
  if (context.config != nullptr) {
    absl::StatusOr<tiers::TierThresholds> configured =
        tiers::TierThresholds::FromConfig(context.config->tiers());
    if (!configured.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("tiers configuration: ", configured.status().message()));
    }
    thresholds = *configured;
  }
  const absl::CivilDay stock_day =
      std::min(range.to, validation::UtcDay(context.now));
  MB_ASSIGN_OR_RETURN(const bool deferred, QualifyingIndexDeferred(view));
  std::optional<DerivedIndexView> derived;
  if (deferred) {
    MB_RETURN_IF_ERROR(derived.emplace(view).Derive());
  }
  const ViewReader& indexed = deferred ? *derived : view;

  v1::GetTopMembersReportResponse response;
  std::vector<Ranked> top;
  if (range.from.year() == range.to.year()) {
    MB_ASSIGN_OR_RETURN(top, TopOfYear(indexed, range.from.year(), *top_n));
  } else {
    MB_ASSIGN_OR_RETURN(
        top, TopOfYears(indexed, range.from.year(), range.to.year(), *top_n));
  }
  int32_t rank = 0;
  for (const Ranked& ranked : top) {
    MB_ASSIGN_OR_RETURN(MemberRow record,
                        LoadRecord(view, ranked.member_number));
    v1::TopMemberRow* row = response.add_top_members();
    row->set_rank(++rank);
    row->set_member_number(ranked.member_number);
    row->set_family_name(record.family_name);
    row->set_given_name(record.given_name);
    row->set_tier(TierInYear(record, stock_day.year()));
    row->set_qualifying_miles(ranked.miles);
    row->set_qualifying_segments(ranked.segments);
    row->set_marketing_consent(record.marketing_consent);
  }

  MB_ASSIGN_OR_RETURN(
      std::vector<NearCandidate> near,
      NearTierCandidates(indexed, range.to.year(), *percent, thresholds));
  if (near.size() > static_cast<size_t>(*limit)) near.resize(*limit);
  for (const NearCandidate& candidate : near) {
    const QualifyingIndexEntry& entry = candidate.entry;
    MB_ASSIGN_OR_RETURN(MemberRow record,
                        LoadRecord(view, entry.member_number));
    const tiers::Threshold& needed = thresholds.For(candidate.next_tier);
    v1::NearTierMemberRow* row = response.add_near_tier_members();
    row->set_member_number(entry.member_number);
    row->set_family_name(record.family_name);
    row->set_given_name(record.given_name);
    row->set_tier(candidate.tier);
    row->set_next_tier(candidate.next_tier);
    row->set_qualifying_miles(entry.qualifying_miles);
    row->set_qualifying_segments(entry.qualifying_segments);
    row->set_miles_to_next_tier(
        std::max<int64_t>(0, needed.miles - entry.qualifying_miles));
    row->set_segments_to_next_tier(
        std::max<int64_t>(0, needed.segments - entry.qualifying_segments));
    row->set_marketing_consent(record.marketing_consent);
  }
  return response;
}

}  // namespace mileagebank::reporting
