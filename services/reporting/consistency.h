// ConsistencyChecker: CheckConsistency of reporting.proto, the proof that
// reporting's figures agree with themselves and with their sources.
//
// On one snapshot (after min_stream_positions):
// - "liability_total_vs_member_balances": the liability total against the
//   sum of reporting's per-member balances;
// - "tier_counts_vs_members:<TIER>": each tier's current member count
//   against a recount of reporting's member records.
// Against accrual:
// - "liability_total_vs_accrual": accrual's VerifyLedger total_balance
//   against the liability total of a snapshot with accrual applied exactly
//   up to VerifyLedger's as_of_sequence. When reporting has already moved
//   past that sequence, VerifyLedger is asked again (a few times); when no
//   attempt lines up, or accrual cannot answer, the check is listed as not
//   run: consistent, figures 0, and a detail starting "not run:". It then
//   neither fails the whole nor claims a comparison it did not make.
// With replay_sources, recounted from the sources' EventStreams replayed
// from the start up to the snapshot's positions:
// - "liability_total_vs_accrual_log": the sum of every CreditPosted and
//   DebitPosted against the liability total;
// - "tier_counts_vs_membership_log:<TIER>": members ACTIVE or SUSPENDED per
//   tier today (MembershipLogTiers) against the current counts.
// `expected` is the source-side figure (the recount), `actual` reporting's.
// Each run appends a ConsistencyChecked event (key "consistency").
//
// Thread-safe.
#ifndef MILEAGEBANK_SERVICES_REPORTING_CONSISTENCY_H_
#define MILEAGEBANK_SERVICES_REPORTING_CONSISTENCY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/client/client.h"
#include "libs/tiers/tiers.h"
#include "libs/store/store.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/common/v1/events.grpc.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/reporting/v1/reporting.pb.h"
#include "services/reporting/view_state.h"
#include "services/reporting/views.h"

namespace mileagebank::reporting {

using TierCounts = std::map<membership::v1::Tier, int64_t>;

// The report modules' figures the checks compare (module_queries.h binds
// them).
struct ConsistencyFigures {
  // The liability total: opening plus monthly movements, now.
  std::function<absl::StatusOr<int64_t>(const ViewReader&)> liability_total;
  // The sum of reporting's per-member balances.
  std::function<absl::StatusOr<int64_t>(const ViewReader&)>
      sum_of_member_balances;
  // Current members per tier as the members report counts them.
  std::function<absl::StatusOr<TierCounts>(const ViewReader&)>
      current_tier_counts;
  // The same recounted from reporting's member records.
  std::function<absl::StatusOr<TierCounts>(const ViewReader&)> recount_tiers;
};

// Accrual's VerifyLedger over every member.
class AccrualLedger {
 public:
  virtual ~AccrualLedger() = default;
  virtual absl::StatusOr<accrual::v1::VerifyLedgerResponse> VerifyLedger(
      absl::Time deadline) = 0;
  // A sharded accrual: its shard count, and one shard's VerifyLedger.
  virtual int shard_count() const { return 1; }
  virtual absl::StatusOr<accrual::v1::VerifyLedgerResponse> VerifyShard(
      int shard, absl::Time deadline) {
    (void)shard;
    return VerifyLedger(deadline);
  }
};

class GrpcAccrualLedger final : public AccrualLedger {
 public:
  explicit GrpcAccrualLedger(const std::string& target) : client_(target) {}
  absl::StatusOr<accrual::v1::VerifyLedgerResponse> VerifyLedger(
      absl::Time deadline) override;
  int shard_count() const override { return client_.shard_count(); }
  absl::StatusOr<accrual::v1::VerifyLedgerResponse> VerifyShard(
      int shard, absl::Time deadline) override;

 private:
  client::ServiceClient<accrual::v1::Accrual> client_;
};

// The sources' event logs, replayed.
class SourceLogs {
 public:
  virtual ~SourceLogs() = default;
  // Calls `visit` with each event of `source` with a sequence up to
  // `up_to`, in order, from the start. Fails when the log ends before
  // `up_to` or `deadline` passes.
  virtual absl::Status Replay(
      const std::string& source, uint64_t up_to,
      const std::function<void(const common::v1::Event&)>& visit,
      absl::Time deadline) = 0;
};

// Replays through the sources' EventStream Subscribe, without follow.
class GrpcSourceLogs final : public SourceLogs {
 public:
  // Source name -> "host:port".
  explicit GrpcSourceLogs(std::map<std::string, std::string> targets)
      : targets_(std::move(targets)) {}
  absl::Status Replay(const std::string& source, uint64_t up_to,
                      const std::function<void(const common::v1::Event&)>& visit,
                      absl::Time deadline) override;

 private:
  const std::map<std::string, std::string> targets_;
};

// "1,200".
std::string WithThousands(int64_t value);

// Current members (ACTIVE or SUSPENDED) per tier, folded from membership's
// events in order. The tier is the one membership decides by (libs/tiers
// TierOn over the QM and QS of `this_year` and the year before, from
// QualifyingActivityRecorded, merges moving the source's totals to the
// target), not TierChanged: a tier that lapses at a year end has its
// TierChanged only once membership's lapse run gets to it.
class MembershipLogTiers {
 public:
  MembershipLogTiers(tiers::TierThresholds thresholds, int64_t this_year)
      : thresholds_(thresholds), this_year_(this_year) {}
  void Apply(const common::v1::Event& event);
  TierCounts Counts() const;

 private:
  struct Member {
    membership::v1::MemberStatus status =
        membership::v1::MEMBER_STATUS_UNSPECIFIED;
    std::map<int64_t, tiers::QualifyingTotals> years;
  };
  const tiers::TierThresholds thresholds_;
  const int64_t this_year_;
  std::map<std::string, Member> members_;
};

// Net miles of accrual's events: every CreditPosted and DebitPosted.
absl::StatusOr<int64_t> LedgerMilesOf(const common::v1::Event& event);

struct ConsistencyParts {
  Views* views;
  // Reporting's own store, for the ConsistencyChecked event.
  store::Store* store;
  ConsistencyFigures figures;
  AccrualLedger* accrual;
  SourceLogs* logs;
  // Those membership decides tiers by, for the membership log recount.
  tiers::TierThresholds thresholds;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // How often VerifyLedger is asked when reporting is already past it.
  int accrual_attempts = 4;
};

class ConsistencyChecker {
 public:
  explicit ConsistencyChecker(ConsistencyParts parts)
      : parts_(std::move(parts)) {}

  absl::StatusOr<v1::CheckConsistencyResponse> Check(
      const v1::CheckConsistencyRequest& request, absl::Time deadline);

 private:
  absl::StatusOr<v1::ConsistencyCheck> CheckAgainstAccrual(
      absl::Time deadline);
  absl::StatusOr<v1::ConsistencyCheck> CheckAgainstShards(absl::Time deadline);

  const ConsistencyParts parts_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_CONSISTENCY_H_
