#include "services/reporting/consistency.h"

#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "grpcpp/grpcpp.h"
#include "libs/client/event_reader.h"
#include "libs/client/shard_streams.h"
#include "libs/status/grpc_status.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.pb.h"

namespace mileagebank::reporting {
namespace {

namespace mv1 = membership::v1;

constexpr char kMemberBalancesCheck[] = "liability_total_vs_member_balances";
constexpr char kTierCountsCheck[] = "tier_counts_vs_members:";
constexpr char kAccrualCheck[] = "liability_total_vs_accrual";
constexpr char kAccrualLogCheck[] = "liability_total_vs_accrual_log";
constexpr char kMembershipLogCheck[] = "tier_counts_vs_membership_log:";

// The tiers a member can hold, lowest first.
std::vector<mv1::Tier> Tiers() {
  std::vector<mv1::Tier> tiers;
  const auto* type = mv1::Tier_descriptor();
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != mv1::TIER_UNSPECIFIED) {
      tiers.push_back(static_cast<mv1::Tier>(type->value(i)->number()));
    }
  }
  return tiers;
}

int64_t CountOf(const TierCounts& counts, mv1::Tier tier) {
  auto found = counts.find(tier);
  return found == counts.end() ? 0 : found->second;
}

v1::ConsistencyCheck Compare(std::string name, int64_t expected,
                             int64_t actual, absl::string_view unit,
                             absl::string_view where) {
  v1::ConsistencyCheck check;
  check.set_name(std::move(name));
  check.set_expected(expected);
  check.set_actual(actual);
  check.set_consistent(expected == actual);
  const int64_t off = actual - expected;
  check.set_detail(
      off == 0
          ? absl::StrCat("both ", WithThousands(actual), " ", unit, where)
          : absl::StrCat("off by ", WithThousands(std::llabs(off)), " ", unit,
                         " (reporting ", off > 0 ? "over" : "under", ": ",
                         WithThousands(actual), " against ",
                         WithThousands(expected), ")", where));
  return check;
}

v1::ConsistencyCheck NotRun(std::string name, absl::string_view why) {
  v1::ConsistencyCheck check;
  check.set_name(std::move(name));
  check.set_consistent(true);
  check.set_detail(absl::StrCat("not run: ", why));
  return check;
}

void AddTierChecks(absl::string_view prefix, const TierCounts& expected,
                   const TierCounts& actual,
                   v1::CheckConsistencyResponse* response) {
  for (mv1::Tier tier : Tiers()) {
    *response->add_checks() =
        Compare(absl::StrCat(prefix, mv1::Tier_Name(tier)),
                CountOf(expected, tier), CountOf(actual, tier), "members", "");
  }
}

}  // namespace

std::string WithThousands(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -(value + 1) + uint64_t{1}
                                              : static_cast<uint64_t>(value));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return value < 0 ? "-" + out : out;
}

absl::StatusOr<accrual::v1::VerifyLedgerResponse>
GrpcAccrualLedger::VerifyLedger(absl::Time deadline) {
  return VerifyShard(0, deadline);
}

absl::StatusOr<accrual::v1::VerifyLedgerResponse>
GrpcAccrualLedger::VerifyShard(int shard, absl::Time deadline) {
  accrual::v1::VerifyLedgerResponse response;
  MB_RETURN_IF_ERROR(client::Call(
      client_.Shard(shard), &accrual::v1::Accrual::Stub::VerifyLedger,
      accrual::v1::VerifyLedgerRequest(), &response,
      client::CallPolicy{.deadline = std::max(deadline - absl::Now(),
                                              absl::Milliseconds(1)),
                         .idempotent = true,
                         .max_attempts = 1}));
  return response;
}

absl::Status GrpcSourceLogs::Replay(
    const std::string& source, uint64_t up_to,
    const std::function<void(const common::v1::Event&)>& visit,
    absl::Time deadline) {
  if (up_to == 0) return absl::OkStatus();
  auto target = targets_.find(source);
  if (target == targets_.end()) {
    return absl::InternalError(absl::StrCat("no address for ", source));
  }
  auto stub = common::v1::EventStream::NewStub(
      client::ChannelFor(target->second));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  common::v1::SubscribeRequest request;
  request.set_after_sequence(0);
  request.set_follow(false);
  client::EventReader reader(stub.get(), &context, request);
  common::v1::Event event;
  uint64_t last = 0;
  // Sequences may skip numbers: the first one past `up_to` also ends it.
  bool reached = false;
  while (reader.Next(&event)) {
    if (event.sequence() > up_to) {
      reached = true;
      break;
    }
    last = event.sequence();
    visit(event);
    if (last == up_to) {
      reached = true;
      break;
    }
  }
  if (reached) context.TryCancel();
  grpc::Status status = reader.Finish();
  if (reached) return absl::OkStatus();
  if (!status.ok()) return FromGrpcStatus(status);
  return absl::UnavailableError(absl::StrCat(
      source, "'s event log ended at ", last, " before ", up_to));
}

void MembershipLogTiers::Apply(const common::v1::Event& event) {
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<mv1::MemberEnrolled>()) {
    mv1::MemberEnrolled enrolled;
    if (payload.UnpackTo(&enrolled)) {
      members_[enrolled.member().member_number()].status =
          enrolled.member().status();
    }
  } else if (payload.Is<mv1::StatusChanged>()) {
    mv1::StatusChanged changed;
    if (payload.UnpackTo(&changed)) {
      members_[changed.member_number()].status = changed.to_status();
    }
  } else if (payload.Is<mv1::QualifyingActivityRecorded>()) {
    mv1::QualifyingActivityRecorded recorded;
    if (payload.UnpackTo(&recorded)) {
      const int sign = recorded.reversal() ? -1 : 1;
      tiers::QualifyingTotals& year =
          members_[recorded.member_number()]
              .years[recorded.activity_date().year()];
      year.miles += sign * recorded.qualifying_miles();
      year.segments += sign * recorded.qualifying_segments();
    }
  } else if (payload.Is<mv1::MembersMerged>()) {
    mv1::MembersMerged merged;
    if (payload.UnpackTo(&merged)) {
      Member& source = members_[merged.source_member_number()];
      Member& target = members_[merged.target_member_number()];
      for (const auto& [year, totals] : source.years) {
        target.years[year].miles += totals.miles;
        target.years[year].segments += totals.segments;
      }
      source.years.clear();
    }
  }
}

TierCounts MembershipLogTiers::Counts() const {
  TierCounts counts;
  for (mv1::Tier tier : Tiers()) counts[tier] = 0;
  const auto totals = [](const Member& member, int64_t year) {
    auto found = member.years.find(year);
    return found == member.years.end() ? tiers::QualifyingTotals()
                                       : found->second;
  };
  for (const auto& [number, member] : members_) {
    if (member.status == mv1::ACTIVE || member.status == mv1::SUSPENDED) {
      ++counts[tiers::TierOn(totals(member, this_year_),
                             totals(member, this_year_ - 1), thresholds_)];
    }
  }
  return counts;
}

absl::StatusOr<int64_t> LedgerMilesOf(const common::v1::Event& event) {
  const google::protobuf::Any& payload = event.payload();
  if (payload.Is<accrual::v1::CreditPosted>()) {
    accrual::v1::CreditPosted credit;
    if (!payload.UnpackTo(&credit)) {
      return absl::DataLossError(absl::StrCat(
          "accrual event ", event.sequence(), " is no CreditPosted"));
    }
    return credit.transaction().miles();
  }
  if (payload.Is<accrual::v1::DebitPosted>()) {
    accrual::v1::DebitPosted debit;
    if (!payload.UnpackTo(&debit)) {
      return absl::DataLossError(absl::StrCat(
          "accrual event ", event.sequence(), " is no DebitPosted"));
    }
    return debit.transaction().miles();
  }
  return 0;
}

absl::StatusOr<v1::ConsistencyCheck> ConsistencyChecker::CheckAgainstAccrual(
    absl::Time deadline) {
  if (parts_.accrual->shard_count() > 1) return CheckAgainstShards(deadline);
  std::string why;
  for (int attempt = 1; attempt <= parts_.accrual_attempts; ++attempt) {
    absl::StatusOr<accrual::v1::VerifyLedgerResponse> ledger =
        parts_.accrual->VerifyLedger(deadline);
    if (!ledger.ok()) {
      return NotRun(kAccrualCheck,
                    absl::StrCat("accrual's VerifyLedger failed: ",
                                 ledger.status().ToString()));
    }
    absl::StatusOr<std::unique_ptr<ViewReader>> at = parts_.views->ReaderAt(
        kAccrualSource, ledger->as_of_sequence(), deadline);
    if (absl::IsFailedPrecondition(at.status())) {
      why = absl::StrCat(
          "reporting had moved past accrual's snapshot at sequence ",
          ledger->as_of_sequence(), " each of ", attempt,
          " times it was asked (accrual is busy); try again when it is "
          "quieter");
      continue;
    }
    if (!at.ok()) {
      return NotRun(kAccrualCheck,
                    absl::StrCat("reporting could not reach accrual sequence ",
                                 ledger->as_of_sequence(), ": ",
                                 at.status().ToString()));
    }
    MB_ASSIGN_OR_RETURN(int64_t total, parts_.figures.liability_total(**at));
    std::string where =
        absl::StrCat(" at accrual sequence ", ledger->as_of_sequence());
    if (!ledger->differences().empty()) {
      absl::StrAppend(&where, "; accrual's own ledger has ",
                      ledger->differences_size(),
                      " inconsistent accounts");
    }
    return Compare(kAccrualCheck, ledger->total_balance(), total, "miles",
                   where);
  }
  return NotRun(kAccrualCheck, why);
}

// Each shard's VerifyLedger is at its own sequence, and a reader can be
// held at one source's sequence only: the shards are compared when reporting
// has applied each exactly up to the sequence its VerifyLedger saw, which a
// quiet system gives at once and a busy one may never.
absl::StatusOr<v1::ConsistencyCheck> ConsistencyChecker::CheckAgainstShards(
    absl::Time deadline) {
  const int shards = parts_.accrual->shard_count();
  for (int attempt = 1; attempt <= parts_.accrual_attempts; ++attempt) {
    int64_t accrual_total = 0;
    int64_t differences = 0;
    google::protobuf::Map<std::string, uint64_t> positions;
    for (int shard = 0; shard < shards; ++shard) {
      absl::StatusOr<accrual::v1::VerifyLedgerResponse> ledger =
          parts_.accrual->VerifyShard(shard, deadline);
      if (!ledger.ok()) {
        return NotRun(kAccrualCheck,
                      absl::StrCat("accrual shard ", shard, "'s VerifyLedger failed: ",
                                   ledger.status().ToString()));
      }
      accrual_total += ledger->total_balance();
      differences += ledger->differences_size();
      positions[absl::StrCat(kAccrualSource, "-", shard)] = ledger->as_of_sequence();
    }
    absl::Status caught_up = parts_.views->WaitFor(positions, deadline);
    if (!caught_up.ok()) {
      return NotRun(kAccrualCheck, absl::StrCat("reporting could not reach accrual's "
                                                "shards' sequences: ",
                                                caught_up.ToString()));
    }
    std::unique_ptr<ViewReader> reader = parts_.views->Reader();
    bool exact = true;
    std::string where = " at accrual sequences";
    for (const auto& [stream, sequence] : positions) {
      auto found = reader->positions().find(stream);
      if (found == reader->positions().end() || found->second != sequence) {
        exact = false;
      }
      absl::StrAppend(&where, " ", stream, "=", sequence);
    }
    if (!exact) continue;  // A shard moved on meanwhile: ask again.
    MB_ASSIGN_OR_RETURN(int64_t total, parts_.figures.liability_total(*reader));
    if (differences > 0) {
      absl::StrAppend(&where, "; accrual's own ledgers have ", differences,
                      " inconsistent accounts");
    }
    return Compare(kAccrualCheck, accrual_total, total, "miles", where);
  }
  return NotRun(kAccrualCheck,
                absl::StrCat("accrual's shards kept moving in each of ",
                             parts_.accrual_attempts,
                             " attempts; try again when it is quieter"));
}

absl::StatusOr<v1::CheckConsistencyResponse> ConsistencyChecker::Check(
    const v1::CheckConsistencyRequest& request, absl::Time deadline) {
  MB_RETURN_IF_ERROR(
      parts_.views->WaitFor(request.min_stream_positions(), deadline));
  std::unique_ptr<ViewReader> reader = parts_.views->Reader();
  v1::CheckConsistencyResponse response;
  for (const auto& [source, sequence] : reader->positions()) {
    (*response.mutable_stream_positions())[source] = sequence;
  }

  MB_ASSIGN_OR_RETURN(const int64_t liability,
                      parts_.figures.liability_total(*reader));
  MB_ASSIGN_OR_RETURN(const int64_t balances,
                      parts_.figures.sum_of_member_balances(*reader));
  response.set_liability_total(liability);
  response.set_sum_of_balances(balances);
  *response.add_checks() =
      Compare(kMemberBalancesCheck, balances, liability, "miles", "");

  MB_ASSIGN_OR_RETURN(const TierCounts current,
                      parts_.figures.current_tier_counts(*reader));
  MB_ASSIGN_OR_RETURN(const TierCounts recounted,
                      parts_.figures.recount_tiers(*reader));
  for (mv1::Tier tier : Tiers()) {
    v1::TierCountRow* row = response.add_tier_counts();
    row->set_tier(tier);
    row->set_members(CountOf(current, tier));
  }
  AddTierChecks(kTierCountsCheck, recounted, current, &response);

  MB_ASSIGN_OR_RETURN(*response.add_checks(), CheckAgainstAccrual(deadline));

  if (request.replay_sources()) {
    // Every stream of the source: one, or one per shard.
    const auto replay = [&](absl::string_view source, std::string* where,
                            const std::function<void(const common::v1::Event&)>&
                                apply) -> absl::Status {
      for (const auto& [stream, sequence] : reader->positions()) {
        if (client::ServiceOfStream(stream) != source) continue;
        absl::StrAppend(where, where->empty() ? "" : ",", " ", stream, " ", sequence);
        MB_RETURN_IF_ERROR(parts_.logs->Replay(stream, sequence, apply, deadline));
      }
      return absl::OkStatus();
    };
    int64_t logged = 0;
    absl::Status bad_event;
    std::string accrual_positions;
    MB_RETURN_IF_ERROR(replay(kAccrualSource, &accrual_positions,
                              [&](const common::v1::Event& event) {
                                absl::StatusOr<int64_t> miles = LedgerMilesOf(event);
                                if (miles.ok()) {
                                  logged += *miles;
                                } else if (bad_event.ok()) {
                                  bad_event = miles.status();
                                }
                              }));
    MB_RETURN_IF_ERROR(bad_event);
    *response.add_checks() =
        Compare(kAccrualLogCheck, logged, liability, "miles",
                absl::StrCat(" up to sequence", accrual_positions));

    MembershipLogTiers tiers(parts_.thresholds,
                             absl::ToCivilYear(parts_.clock(),
                                               absl::UTCTimeZone())
                                 .year());
    std::string membership_positions;
    MB_RETURN_IF_ERROR(replay(kMembershipSource, &membership_positions,
                              [&](const common::v1::Event& event) {
                                tiers.Apply(event);
                              }));
    AddTierChecks(kMembershipLogCheck, tiers.Counts(), current, &response);
  }

  bool consistent = true;
  v1::ConsistencyChecked event;
  for (const v1::ConsistencyCheck& check : response.checks()) {
    if (check.consistent()) continue;
    consistent = false;
    *event.add_failed_checks() = check;
  }
  response.set_consistent(consistent);
  *response.mutable_checked_at() = validation::ToProtoTimestamp(parts_.clock());
  event.set_consistent(consistent);
  *event.mutable_stream_positions() = response.stream_positions();
  store::WriteBatch batch = parts_.store->NewBatch();
  batch.AppendEvent("consistency", event);
  MB_RETURN_IF_ERROR(parts_.store->Commit(batch));
  return response;
}

}  // namespace mileagebank::reporting
