// All RocksDB access of the membership service.
//
// Tables and keys (libs/store/keys.h encodings):
//   members   String(member_number)                     -> records.MemberRecord
//   index     String("doc") String(type) String(country) String(number)
//                                                       -> member_number
//             String("person") String(folded family) String(folded given)
//               Day(birth) String(phone)                -> member_number
//             String("email") String(lower-case email)  -> member_number
//             String("phone") String(phone) String(member_number)      -> ""
//             String("name") String(folded family) String(folded given)
//               Day(birth) String(member_number)                       -> ""
//   activity  String(member_number) String(activity_id) ->
//   records.ActivityRecord years     String(member_number) Int64(year) ->
//   records.YearRecord requests  String(request_id)                        ->
//   records.RequestRecord lapses    Int64(year) -> records.LapseRecord
// "doc", "person" and "email" are the duplicate rules: one member each.
//
// Point reads see writes still in the store's line (decisions are made on
// top of them); scans see what is durable, so a decision that scans first
// calls WaitForQueued. Writes are added to a caller's WriteBatch so that one
// request commits as one atomic batch. Thread-safe.
//
// Year totals are read for every qualifying activity (the tier before and
// after it), so the totals last written are kept in memory: an entry is set
// only when the batch writing it is put in line (WriteBatch::OnEnqueued),
// and every write of a member's years is made under that member's lock, so
// an entry is always what GetLatest would read. Never filled from reads (a
// read without the lock could put back an older value); bounded, past
// kCachedYears an arbitrary entry is forgotten and read from the store.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_STORE_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/store/store.h"
#include "libs/tiers/tiers.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "services/membership/records.pb.h"

namespace mileagebank::membership {

// The tables the service opens its store with.
std::vector<std::string> MembershipTables();
// Of those, the tables StoreOptions::rewritten_tables names: a member's
// year is rewritten by every qualifying activity.
std::vector<std::string> MembershipRewrittenTables();
// Of those, the tables StoreOptions::memtable_bloom_tables names: every
// qualifying activity first looks up its id, which is new; enrolment looks
// up a new member's e-mail, person and document; requests their id.
std::vector<std::string> MembershipBloomTables();

// The unique keys of a profile under the duplicate rules.
struct UniqueKeys {
  std::string document;  // Empty when the profile has no document.
  std::string person;
  std::string email;     // Empty when the profile has no e-mail.
};
UniqueKeys UniqueKeysOf(const v1::Profile& profile);

std::string DocumentKey(const v1::IdentityDocument& document);
std::string EmailKey(absl::string_view email);
std::string PhonePrefix(absl::string_view phone);
std::string NamePrefix(absl::string_view family, absl::string_view given,
                       absl::CivilDay birth);

class MemberStore {
 public:
  explicit MemberStore(store::Store* store) : store_(store) {}
  MemberStore(const MemberStore&) = delete;
  MemberStore& operator=(const MemberStore&) = delete;

  store::WriteBatch NewBatch() const { return store_->NewBatch(); }
  absl::Status Commit(store::WriteBatch& batch) { return store_->Commit(batch); }
  uint64_t Enqueue(store::WriteBatch& batch) { return store_->Enqueue(batch); }
  void WaitForQueued() { store_->WaitForQueued(); }

  absl::StatusOr<std::optional<records::MemberRecord>> LoadMember(
      absl::string_view member_number) const;
  // The member a member was merged into, "" when it was not, nullopt when
  // there is no such member. Remembered once read: members are never
  // deleted, merges are final, and every change of a member goes through
  // PutMember, which updates what is remembered once its batch is in line.
  absl::StatusOr<std::optional<std::string>> MergedInto(
      absl::string_view member_number) const;
  // The member holding a unique index key, if any.
  absl::StatusOr<std::optional<std::string>> FindUnique(
      absl::string_view key) const;
  // Members under a multi-valued index prefix (PhonePrefix, NamePrefix).
  absl::StatusOr<std::vector<std::string>> FindAll(absl::string_view prefix,
                                                   size_t max) const;
  // The highest member number ever handed out, or "" for none.
  absl::StatusOr<std::string> LastMemberNumber() const;

  absl::StatusOr<tiers::QualifyingTotals> LoadYear(absl::string_view member_number,
                                            int64_t year) const;
  // The same, remembering a year read from the store (a year without
  // totals too, which most members' last year is). Only with the member's
  // lock held, so that no write of the year comes between the read and
  // remembering it.
  absl::StatusOr<tiers::QualifyingTotals> LoadYearLocked(
      absl::string_view member_number, int64_t year) const;
  absl::StatusOr<std::optional<records::ActivityRecord>> LoadActivity(
      absl::string_view member_number, absl::string_view activity_id) const;
  // Every activity of a member, by id.
  absl::StatusOr<std::vector<std::pair<std::string, records::ActivityRecord>>>
  LoadActivities(absl::string_view member_number) const;
  absl::StatusOr<std::optional<records::RequestRecord>> LoadRequest(
      absl::string_view request_id) const;

  void PutMember(store::WriteBatch& batch, const records::MemberRecord& record);
  // Adds or removes every index entry of `profile` for `member_number`.
  void PutIndexes(store::WriteBatch& batch, absl::string_view member_number,
                  const v1::Profile& profile);
  void DeleteIndexes(store::WriteBatch& batch, absl::string_view member_number,
                     const v1::Profile& profile);
  void PutYear(store::WriteBatch& batch, absl::string_view member_number,
               int64_t year, const tiers::QualifyingTotals& totals);
  void PutActivity(store::WriteBatch& batch, absl::string_view member_number,
                   absl::string_view activity_id,
                   const records::ActivityRecord& record);
  void DeleteActivity(store::WriteBatch& batch, absl::string_view member_number,
                      absl::string_view activity_id);
  void DeleteYear(store::WriteBatch& batch, absl::string_view member_number,
                  int64_t year);
  // Every year with totals for a member.
  absl::StatusOr<std::vector<std::pair<int64_t, tiers::QualifyingTotals>>> LoadYears(
      absl::string_view member_number) const;
  void PutRequest(store::WriteBatch& batch, absl::string_view request_id,
                  const records::RequestRecord& record);

  // One step of a walk over the members with year totals, in member order:
  // from the first member after `after` ("" for the first of all), at most
  // `max_members` members passed, those with totals in `year` listed with
  // them. Sees what is durable (WaitForQueued first for the latest).
  struct YearWalk {
    std::vector<std::pair<std::string, tiers::QualifyingTotals>> members;
    // The last member passed; "" when none was.
    std::string last_member;
    // No member comes after last_member.
    bool end = false;
  };
  absl::StatusOr<YearWalk> WalkYear(int64_t year, absl::string_view after,
                                    size_t max_members) const;
  // The earliest year anyone has totals in, nullopt when nobody has any.
  absl::StatusOr<std::optional<int64_t>> EarliestYear() const;
  // Every year's lapse record, by year.
  absl::StatusOr<std::map<int64_t, records::LapseRecord>> LoadLapses() const;
  void PutLapse(store::WriteBatch& batch, int64_t year,
                const records::LapseRecord& record);

 private:
  // Sets the cached totals of a year key once `batch` is in line.
  void CacheYearWhenEnqueued(store::WriteBatch& batch, std::string key,
                             const tiers::QualifyingTotals& totals);

  // Sets what MergedInto remembers of a member once `batch` is in line.
  void CacheMemberWhenEnqueued(store::WriteBatch& batch,
                               const records::MemberRecord& record);
  // LoadYear of a YearKey.
  absl::StatusOr<tiers::QualifyingTotals> LoadYearByKey(
      const std::string& key) const;

  store::Store* store_;
  mutable absl::Mutex merged_mutex_;
  // Never evicted (an entry read before a merge and put back after it
  // would undo the merge's): reads stop adding once it is full.
  mutable absl::flat_hash_map<std::string, std::string> merged_into_
      ABSL_GUARDED_BY(merged_mutex_);
  mutable absl::Mutex years_mutex_;
  mutable absl::flat_hash_map<std::string, tiers::QualifyingTotals> years_
      ABSL_GUARDED_BY(years_mutex_);
};

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_STORE_H_
