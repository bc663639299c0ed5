// Members: the membership service's operations, one per RPC, over its store.
//
// Each operation validates its whole request (INVALID_ARGUMENT naming every
// field at fault), takes the locks of what it reads and changes, decides, and
// commits all its changes with their events as one fsynced batch, so a
// request is applied whole or not at all. No gRPC here: service.cc maps
// these results onto the wire.
//
// Locks: member records are locked through `member_locks_`, duplicate-rule
// index keys through `index_locks_`, always in that order, so operations
// cannot deadlock.
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_MEMBERSHIP_MEMBERS_H_
#define MILEAGEBANK_SERVICES_MEMBERSHIP_MEMBERS_H_

#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "libs/crypto/password.h"
#include "libs/store/key_locks.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/config/v1/membership.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/membership/lockout.h"
#include "services/membership/store.h"
#include "libs/tiers/tiers.h"

namespace mileagebank::membership {

struct MembershipOptions {
  tiers::TierThresholds thresholds;
  LockoutPolicy lockout;
  crypto::PasswordCost password_cost;
  int max_nominees = 5;
  int64_t first_member_serial = 100'000'000;
  // This process's shard (server.shard_index/shard_count): it gives out
  // only member numbers that libs/client/shards.h places on it.
  int shard_index = 0;
  int shard_count = 1;

  // From configuration, with the product rules' defaults for unset values.
  static absl::StatusOr<MembershipOptions> FromConfig(
      const config::v1::MembershipConfig& config);
};

class Members {
 public:
  using Clock = std::function<absl::Time()>;

  // `store` and `metrics` outlive the Members.
  static absl::StatusOr<std::unique_ptr<Members>> Create(
      store::Store* store, MembershipOptions options,
      prometheus::Registry& metrics, Clock clock = absl::Now);

  absl::StatusOr<v1::EnrolResponse> Enrol(const v1::EnrolRequest& request);
  absl::StatusOr<v1::GetMemberResponse> GetMember(
      const v1::GetMemberRequest& request);
  absl::StatusOr<v1::LookupMembersResponse> LookupMembers(
      const v1::LookupMembersRequest& request);
  absl::StatusOr<v1::UpdateProfileResponse> UpdateProfile(
      const v1::UpdateProfileRequest& request);
  absl::StatusOr<v1::FindMembersResponse> FindMembers(
      const v1::FindMembersRequest& request);
  absl::StatusOr<v1::ChangeStatusResponse> ChangeStatus(
      const v1::ChangeStatusRequest& request);
  absl::StatusOr<v1::MergeMembersResponse> MergeMembers(
      const v1::MergeMembersRequest& request);
  absl::StatusOr<v1::SetPasswordResponse> SetPassword(
      const v1::SetPasswordRequest& request);
  absl::StatusOr<v1::VerifyPasswordResponse> VerifyPassword(
      const v1::VerifyPasswordRequest& request);
  absl::StatusOr<v1::AddNomineeResponse> AddNominee(
      const v1::AddNomineeRequest& request);
  absl::StatusOr<v1::RemoveNomineeResponse> RemoveNominee(
      const v1::RemoveNomineeRequest& request);
  absl::StatusOr<v1::ListNomineesResponse> ListNominees(
      const v1::ListNomineesRequest& request);
  // With `ticket`, the change is put in line and its ticket returned
  // without waiting for it to be durable (for callers that order their own
  // writes after it); without, it is durable on return.
  absl::StatusOr<v1::RecordQualifyingActivityResponse> RecordQualifyingActivity(
      const v1::RecordQualifyingActivityRequest& request,
      uint64_t* ticket = nullptr);
  absl::StatusOr<v1::ReverseQualifyingActivityResponse>
  ReverseQualifyingActivity(const v1::ReverseQualifyingActivityRequest& request,
                            uint64_t* ticket = nullptr);
  absl::StatusOr<v1::GetTierResponse> GetTier(const v1::GetTierRequest& request);
  // The accrual payload types ApplyAccrualEvent(s) record (the rest of
  // accrual's stream is left unsent).
  static std::vector<std::string> AccrualEventTypes();
  // The qualifying activity of several accrual events (a stream message),
  // recorded or reversed in order into `batch`, as ApplyAccrualEvent does
  // one at a time. The members concerned stay locked until `batch` is put
  // in line (or dropped), so that nothing decides on their totals meanwhile.
  absl::Status ApplyAccrualEvents(absl::Span<const common::v1::Event> events,
                                  store::WriteBatch& batch);
  absl::StatusOr<v1::ImportMembersResponse> ImportMembers(
      const v1::ImportMembersRequest& request);
  // The year-end lapse (product rules section 2: a tier earned in year Y
  // holds to the end of Y+1): for each member whose tier on 31 December was
  // higher than on the 1 January after it, a TierChanged effective that
  // 1 January, for every year up to today's not done yet. A store that has
  // done none starts from its earliest totals, so that a tier that lapsed
  // before this ran still gets its event. Made `members_per_batch` members
  // at a time, each part's events committed with the progress, so that a
  // crash repeats nothing. Returns how many tiers fell.
  absl::StatusOr<int64_t> LapseTiers(size_t members_per_batch = 1'000);

 private:
  Members(store::Store* store, MembershipOptions options,
          prometheus::Registry& metrics, Clock clock);

  absl::CivilDay Today() const;
  // The member, or NOT_FOUND naming `field`.
  absl::StatusOr<records::MemberRecord> Load(absl::string_view field,
                                             absl::string_view member_number);
  // As Load, but FAILED_PRECONDITION for a MERGED member, which no longer
  // changes.
  absl::StatusOr<records::MemberRecord> LoadUnmerged(
      absl::string_view field, absl::string_view member_number);
  // The member a chain of merges ends in; `*found` (if given) says whether
  // it exists.
  absl::StatusOr<std::string> FollowMerges(std::string member_number,
                                           bool* found = nullptr);
  // The member as clients see it, with today's tier.
  absl::StatusOr<v1::Member> View(const records::MemberRecord& record);
  absl::StatusOr<v1::Tier> TierToday(absl::string_view member_number);
  // Bumps the version and the update time.
  void Touch(records::MemberRecord& record);
  absl::StatusOr<std::string> NextMemberNumber();
  // ALREADY_EXISTS when `key` belongs to a member other than `self`.
  absl::Status CheckUnique(absl::string_view key, absl::string_view self,
                           absl::string_view what);
  // What activities recorded together into one batch not yet in line wrote
  // (by the store's keys): what the later of them read of the earlier.
  struct Unqueued {
    absl::flat_hash_map<std::string, tiers::QualifyingTotals> years;
    absl::flat_hash_map<std::string, records::ActivityRecord> activities;
  };
  // The store's reads and writes of years and activities, through
  // `unqueued` when given; with the member locked (years read are
  // remembered: MemberStore::LoadYearLocked).
  absl::StatusOr<tiers::QualifyingTotals> LoadYear(absl::string_view member_number,
                                                   int64_t year,
                                                   const Unqueued* unqueued);
  void PutYear(store::WriteBatch& batch, absl::string_view member_number,
               int64_t year, const tiers::QualifyingTotals& totals,
               Unqueued* unqueued);
  absl::StatusOr<std::optional<records::ActivityRecord>> LoadActivity(
      absl::string_view member_number, absl::string_view activity_id,
      const Unqueued* unqueued);
  void PutActivity(store::WriteBatch& batch, absl::string_view member_number,
                   absl::string_view activity_id,
                   const records::ActivityRecord& activity, Unqueued* unqueued);
  // Adds (or, for a reversal, takes away) qualifying activity to the year's
  // totals in `batch`, with its event and the tier change it causes; returns
  // the tier after.
  absl::StatusOr<v1::Tier> ApplyActivity(store::WriteBatch& batch,
                                         absl::string_view member_number,
                                         absl::string_view activity_id,
                                         const records::ActivityRecord& activity,
                                         bool reversal, Unqueued* unqueued);
  // RecordQualifyingActivity's checks; the member it goes to (merges
  // followed).
  absl::StatusOr<std::string> CheckActivity(
      const v1::RecordQualifyingActivityRequest& request);
  absl::StatusOr<std::string> CheckReversal(
      const v1::ReverseQualifyingActivityRequest& request);
  // Under `number`'s lock, after the checks: the activity recorded (or
  // reversed) in `batch`, and the tier after; nullopt when it already was
  // (nothing written).
  absl::StatusOr<std::optional<v1::Tier>> RecordActivity(
      store::WriteBatch& batch, absl::string_view number,
      const v1::RecordQualifyingActivityRequest& request, Unqueued* unqueued);
  absl::StatusOr<std::optional<v1::Tier>> ReverseActivity(
      store::WriteBatch& batch, absl::string_view number,
      absl::string_view activity_id, Unqueued* unqueued);
  // LapseTiers for one year, from where it stopped.
  absl::StatusOr<int64_t> LapseYear(int64_t year, records::LapseRecord progress,
                                    size_t members_per_batch);
  // Saves a member whose nominees changed, with the event.
  absl::Status SaveNominees(records::MemberRecord& record,
                            const common::v1::Actor& actor);

  // The outcome of checking a password under the lockout rule.
  struct PasswordCheck {
    bool verified = false;
    // The record's lockout state changed and must be saved.
    bool state_changed = false;
    // This attempt locked verification.
    bool newly_locked = false;
    // Set while verification is locked.
    absl::Time locked_until = absl::InfinitePast();
    int attempts_remaining = 0;
  };
  // Checks `password` now, updating `record`'s lockout state. The caller
  // holds the member's lock.
  PasswordCheck CheckPassword(records::MemberRecord& record,
                              absl::string_view password);
  // Commits a check's change of lockout state, with its event.
  absl::Status SavePasswordCheck(const records::MemberRecord& record,
                                 const PasswordCheck& check);

  MemberStore store_;
  const MembershipOptions options_;
  const Clock clock_;
  store::KeyLocks member_locks_;
  store::KeyLocks index_locks_;
  absl::Mutex serial_mutex_;
  int64_t last_serial_ ABSL_GUARDED_BY(serial_mutex_) = 0;
  prometheus::Family<prometheus::Counter>& enrolments_;
  prometheus::Counter& lockouts_;
  prometheus::Counter& tier_lapses_;
};

// Applies one event of accrual's stream: QualifyingActivityPosted records (or
// reverses) qualifying activity; other events are not membership's concern.
// A request the event cannot make valid is logged and skipped, so that one
// bad event never stops the stream; a failure that may pass (the store) is
// returned, to be retried.
absl::Status ApplyAccrualEvent(Members& members, const common::v1::Event& event);

}  // namespace mileagebank::membership

#endif  // MILEAGEBANK_SERVICES_MEMBERSHIP_MEMBERS_H_
