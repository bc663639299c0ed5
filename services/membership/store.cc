#include "services/membership/store.h"

#include "absl/strings/ascii.h"
#include "libs/status/status_macros.h"
#include "libs/store/keys.h"
#include "libs/validation/contact.h"
#include "libs/validation/dates.h"

namespace mileagebank::membership {
namespace {

using store::KeyBuilder;
using store::KeyReader;

constexpr absl::string_view kMembers = "members";
constexpr absl::string_view kIndex = "index";
constexpr absl::string_view kActivity = "activity";
constexpr absl::string_view kYears = "years";
constexpr absl::string_view kRequests = "requests";
constexpr absl::string_view kLapses = "lapses";
// Year totals kept in memory (two years of 100,000 members).
constexpr size_t kCachedYears = 200'000;
// Members whose merges are remembered (about 80 bytes each).
constexpr size_t kCachedMembers = 1'000'000;

std::string MemberKey(absl::string_view member_number) {
  return KeyBuilder().String(member_number).Build();
}

std::string YearKey(absl::string_view member_number, int64_t year) {
  return KeyBuilder().String(member_number).Int64(year).Build();
}

// The member and year of a years key; DATA_LOSS when it is not one.
absl::Status ReadYearKey(absl::string_view key, std::string* member,
                         int64_t* year) {
  KeyReader reader(key);
  if (!reader.String(member) || !reader.Int64(year)) {
    return absl::DataLossError("membership years: malformed key");
  }
  return absl::OkStatus();
}

absl::CivilDay BirthDay(const v1::Profile& profile) {
  const common::v1::Date& date = profile.date_of_birth();
  return absl::CivilDay(date.year(), date.month(), date.day());
}

std::string PersonKey(const v1::Profile& profile) {
  return KeyBuilder()
      .String("person")
      .String(validation::FoldName(profile.family_name()))
      .String(validation::FoldName(profile.given_name()))
      .Day(BirthDay(profile))
      .String(profile.mobile_phone())
      .Build();
}

// Index entries of a profile: (key, value) pairs.
std::vector<std::pair<std::string, std::string>> IndexEntries(
    absl::string_view member_number, const v1::Profile& profile) {
  std::vector<std::pair<std::string, std::string>> entries;
  UniqueKeys unique = UniqueKeysOf(profile);
  for (const std::string& key : {unique.document, unique.person, unique.email}) {
    if (!key.empty()) entries.emplace_back(key, std::string(member_number));
  }
  entries.emplace_back(KeyBuilder(PhonePrefix(profile.mobile_phone()))
                           .String(member_number)
                           .Build(),
                       "");
  entries.emplace_back(KeyBuilder(NamePrefix(profile.family_name(),
                                             profile.given_name(),
                                             BirthDay(profile)))
                           .String(member_number)
                           .Build(),
                       "");
  return entries;
}

}  // namespace

std::vector<std::string> MembershipTables() {
  return {std::string(kMembers), std::string(kIndex),    std::string(kActivity),
          std::string(kYears),   std::string(kRequests), std::string(kLapses)};
}

std::vector<std::string> MembershipRewrittenTables() {
  return {std::string(kYears)};
}

std::vector<std::string> MembershipBloomTables() {
  return {std::string(kActivity), std::string(kIndex), std::string(kRequests)};
}

std::string DocumentKey(const v1::IdentityDocument& document) {
  return KeyBuilder()
      .String("doc")
      .String(v1::DocumentType_Name(document.type()))
      .String(document.issuing_country())
      .String(absl::AsciiStrToUpper(document.number()))
      .Build();
}

std::string EmailKey(absl::string_view email) {
  return KeyBuilder().String("email").String(absl::AsciiStrToLower(email)).Build();
}

std::string PhonePrefix(absl::string_view phone) {
  return KeyBuilder().String("phone").String(phone).Build();
}

std::string NamePrefix(absl::string_view family, absl::string_view given,
                       absl::CivilDay birth) {
  return KeyBuilder()
      .String("name")
      .String(validation::FoldName(family))
      .String(validation::FoldName(given))
      .Day(birth)
      .Build();
}

UniqueKeys UniqueKeysOf(const v1::Profile& profile) {
  UniqueKeys keys;
  if (profile.has_identity_document()) {
    keys.document = DocumentKey(profile.identity_document());
  }
  keys.person = PersonKey(profile);
  if (!profile.email().empty()) keys.email = EmailKey(profile.email());
  return keys;
}

absl::StatusOr<std::optional<records::MemberRecord>> MemberStore::LoadMember(
    absl::string_view member_number) const {
  records::MemberRecord record;
  absl::StatusOr<bool> found =
      store_->GetLatestProto(kMembers, MemberKey(member_number), &record);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return record;
}

absl::StatusOr<std::optional<std::string>> MemberStore::MergedInto(
    absl::string_view member_number) const {
  {
    absl::MutexLock lock(&merged_mutex_);
    auto it = merged_into_.find(member_number);
    if (it != merged_into_.end()) return it->second;
  }
  MB_ASSIGN_OR_RETURN(std::optional<records::MemberRecord> record,
                      LoadMember(member_number));
  // An unknown member may yet enrol: not remembered.
  if (!record) return std::nullopt;
  std::string merged_into = record->member().status() == v1::MERGED
                                ? record->member().merged_into()
                                : "";
  absl::MutexLock lock(&merged_mutex_);
  // A write put in line since the read has set the entry already, and wins.
  if (merged_into_.size() < kCachedMembers) {
    merged_into_.try_emplace(member_number, merged_into);
  }
  return merged_into;
}

absl::StatusOr<std::optional<std::string>> MemberStore::FindUnique(
    absl::string_view key) const {
  return store_->GetLatest(kIndex, key);
}

absl::StatusOr<std::vector<std::string>> MemberStore::FindAll(
    absl::string_view prefix, size_t max) const {
  std::vector<std::string> members;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kIndex, store::PrefixRange(prefix),
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        std::string member;
        if (!reader.String(&member)) {
          return absl::DataLossError("membership index: malformed key");
        }
        members.push_back(std::move(member));
        return members.size() < max;
      }));
  return members;
}

absl::StatusOr<std::string> MemberStore::LastMemberNumber() const {
  std::string last;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kMembers, store::ScanRange{.reverse = true},
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        KeyReader reader(key);
        if (!reader.String(&last)) {
          return absl::DataLossError("membership members: malformed key");
        }
        return false;
      }));
  return last;
}

absl::StatusOr<tiers::QualifyingTotals> MemberStore::LoadYear(
    absl::string_view member_number, int64_t year) const {
  return LoadYearByKey(YearKey(member_number, year));
}

absl::StatusOr<tiers::QualifyingTotals> MemberStore::LoadYearByKey(
    const std::string& key) const {
  {
    absl::MutexLock lock(&years_mutex_);
    auto it = years_.find(key);
    if (it != years_.end()) return it->second;
  }
  records::YearRecord record;
  absl::StatusOr<bool> found = store_->GetLatestProto(kYears, key, &record);
  if (!found.ok()) return found.status();
  return tiers::QualifyingTotals{record.qualifying_miles(),
                          record.qualifying_segments()};
}

absl::StatusOr<tiers::QualifyingTotals> MemberStore::LoadYearLocked(
    absl::string_view member_number, int64_t year) const {
  // Built once: this runs several times for every qualifying activity.
  std::string key = YearKey(member_number, year);
  {
    absl::MutexLock lock(&years_mutex_);
    auto it = years_.find(key);
    if (it != years_.end()) return it->second;
  }
  MB_ASSIGN_OR_RETURN(tiers::QualifyingTotals totals, LoadYearByKey(key));
  absl::MutexLock lock(&years_mutex_);
  auto [it, inserted] = years_.try_emplace(std::move(key), totals);
  if (inserted && years_.size() > kCachedYears) {
    auto victim = years_.begin();
    if (victim == it) ++victim;
    years_.erase(victim);
  }
  return totals;
}

absl::StatusOr<std::vector<std::pair<int64_t, tiers::QualifyingTotals>>>
MemberStore::LoadYears(absl::string_view member_number) const {
  std::vector<std::pair<int64_t, tiers::QualifyingTotals>> years;
  std::string prefix = MemberKey(member_number);
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kYears, store::PrefixRange(prefix),
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        int64_t year;
        records::YearRecord record;
        if (!reader.Int64(&year) ||
            !record.ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError("membership years: malformed record");
        }
        years.emplace_back(year, tiers::QualifyingTotals{record.qualifying_miles(),
                                                  record.qualifying_segments()});
        return true;
      }));
  return years;
}

absl::StatusOr<std::optional<records::ActivityRecord>>
MemberStore::LoadActivity(absl::string_view member_number,
                          absl::string_view activity_id) const {
  records::ActivityRecord record;
  absl::StatusOr<bool> found = store_->GetLatestProto(
      kActivity, KeyBuilder().String(member_number).String(activity_id).Build(),
      &record);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return record;
}

absl::StatusOr<std::vector<std::pair<std::string, records::ActivityRecord>>>
MemberStore::LoadActivities(absl::string_view member_number) const {
  std::vector<std::pair<std::string, records::ActivityRecord>> activities;
  std::string prefix = MemberKey(member_number);
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kActivity, store::PrefixRange(prefix),
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        KeyReader reader(key.substr(prefix.size()));
        std::string id;
        records::ActivityRecord record;
        if (!reader.String(&id) ||
            !record.ParseFromArray(value.data(), value.size())) {
          return absl::DataLossError("membership activity: malformed record");
        }
        activities.emplace_back(std::move(id), std::move(record));
        return true;
      }));
  return activities;
}

absl::StatusOr<std::optional<records::RequestRecord>> MemberStore::LoadRequest(
    absl::string_view request_id) const {
  records::RequestRecord record;
  absl::StatusOr<bool> found = store_->GetLatestProto(
      kRequests, KeyBuilder().String(request_id).Build(), &record);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return record;
}

void MemberStore::PutMember(store::WriteBatch& batch,
                            const records::MemberRecord& record) {
  batch.PutProto(kMembers, MemberKey(record.member().member_number()), record);
  CacheMemberWhenEnqueued(batch, record);
}

void MemberStore::CacheMemberWhenEnqueued(store::WriteBatch& batch,
                                          const records::MemberRecord& record) {
  std::string merged_into = record.member().status() == v1::MERGED
                                ? record.member().merged_into()
                                : "";
  batch.OnEnqueued([this, number = record.member().member_number(),
                    merged_into = std::move(merged_into)](uint64_t) {
    absl::MutexLock lock(&merged_mutex_);
    auto it = merged_into_.find(number);
    if (it != merged_into_.end()) {
      it->second = merged_into;
    } else if (merged_into_.size() < kCachedMembers) {
      merged_into_.emplace(number, merged_into);
    }
  });
}

void MemberStore::PutIndexes(store::WriteBatch& batch,
                             absl::string_view member_number,
                             const v1::Profile& profile) {
  for (const auto& [key, value] : IndexEntries(member_number, profile)) {
    batch.Put(kIndex, key, value);
  }
}

void MemberStore::DeleteIndexes(store::WriteBatch& batch,
                                absl::string_view member_number,
                                const v1::Profile& profile) {
  for (const auto& [key, value] : IndexEntries(member_number, profile)) {
    batch.Delete(kIndex, key);
  }
}

void MemberStore::PutYear(store::WriteBatch& batch,
                          absl::string_view member_number, int64_t year,
                          const tiers::QualifyingTotals& totals) {
  records::YearRecord record;
  record.set_qualifying_miles(totals.miles);
  record.set_qualifying_segments(totals.segments);
  std::string key = YearKey(member_number, year);
  batch.PutProto(kYears, key, record);
  CacheYearWhenEnqueued(batch, std::move(key), totals);
}

void MemberStore::DeleteYear(store::WriteBatch& batch,
                             absl::string_view member_number, int64_t year) {
  std::string key = YearKey(member_number, year);
  batch.Delete(kYears, key);
  // A year without a record reads as zeros.
  CacheYearWhenEnqueued(batch, std::move(key), tiers::QualifyingTotals{});
}

void MemberStore::CacheYearWhenEnqueued(store::WriteBatch& batch,
                                        std::string key,
                                        const tiers::QualifyingTotals& totals) {
  batch.OnEnqueued([this, key = std::move(key), totals](uint64_t) {
    absl::MutexLock lock(&years_mutex_);
    auto [it, inserted] = years_.insert_or_assign(key, totals);
    if (inserted && years_.size() > kCachedYears) {
      auto victim = years_.begin();
      if (victim == it) ++victim;
      years_.erase(victim);
    }
  });
}

void MemberStore::PutActivity(store::WriteBatch& batch,
                              absl::string_view member_number,
                              absl::string_view activity_id,
                              const records::ActivityRecord& record) {
  batch.PutProto(kActivity,
                 KeyBuilder().String(member_number).String(activity_id).Build(),
                 record);
}

void MemberStore::DeleteActivity(store::WriteBatch& batch,
                                 absl::string_view member_number,
                                 absl::string_view activity_id) {
  batch.Delete(kActivity,
               KeyBuilder().String(member_number).String(activity_id).Build());
}

void MemberStore::PutRequest(store::WriteBatch& batch,
                             absl::string_view request_id,
                             const records::RequestRecord& record) {
  batch.PutProto(kRequests, KeyBuilder().String(request_id).Build(), record);
}

absl::StatusOr<MemberStore::YearWalk> MemberStore::WalkYear(
    int64_t year, absl::string_view after, size_t max_members) const {
  YearWalk walk;
  store::ScanRange range;
  if (!after.empty()) range.start = store::PrefixRange(MemberKey(after)).end;
  size_t passed = 0;
  bool stopped = false;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kYears, range,
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        std::string member;
        int64_t key_year = 0;
        MB_RETURN_IF_ERROR(ReadYearKey(key, &member, &key_year));
        if (member != walk.last_member) {
          if (passed == max_members) {
            stopped = true;
            return false;
          }
          ++passed;
          walk.last_member = member;
        }
        if (key_year != year) return true;
        records::YearRecord record;
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          return absl::DataLossError("membership years: malformed record");
        }
        walk.members.emplace_back(
            std::move(member),
            tiers::QualifyingTotals{record.qualifying_miles(),
                                    record.qualifying_segments()});
        return true;
      }));
  walk.end = !stopped;
  return walk;
}

absl::StatusOr<std::optional<int64_t>> MemberStore::EarliestYear() const {
  std::optional<int64_t> earliest;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kYears, store::ScanRange{},
      [&](absl::string_view key, absl::string_view) -> absl::StatusOr<bool> {
        std::string member;
        int64_t year = 0;
        MB_RETURN_IF_ERROR(ReadYearKey(key, &member, &year));
        if (!earliest || year < *earliest) earliest = year;
        return true;
      }));
  return earliest;
}

absl::StatusOr<std::map<int64_t, records::LapseRecord>>
MemberStore::LoadLapses() const {
  std::map<int64_t, records::LapseRecord> lapses;
  MB_RETURN_IF_ERROR(store_->ScanChecked(
      kLapses, store::ScanRange{},
      [&](absl::string_view key,
          absl::string_view value) -> absl::StatusOr<bool> {
        KeyReader reader(key);
        int64_t year = 0;
        records::LapseRecord record;
        if (!reader.Int64(&year) ||
            !record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          return absl::DataLossError("membership lapses: malformed record");
        }
        lapses.emplace(year, std::move(record));
        return true;
      }));
  return lapses;
}

void MemberStore::PutLapse(store::WriteBatch& batch, int64_t year,
                           const records::LapseRecord& record) {
  batch.PutProto(kLapses, KeyBuilder().Int64(year).Build(), record);
}

}  // namespace mileagebank::membership
