#include "tests/chaos/checks.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/client/client.h"
#include "libs/validation/dates.h"
#include "mileagebank/accrual/v1/accrual.grpc.pb.h"
#include "mileagebank/membership/v1/membership.grpc.pb.h"
#include "mileagebank/redemption/v1/redemption.grpc.pb.h"
#include "mileagebank/reporting/v1/reporting.grpc.pb.h"
#include "mileagebank/settlement/v1/settlement.grpc.pb.h"
#include "tests/support/e2e.h"

namespace mileagebank::chaos {
namespace {

namespace av1 = accrual::v1;
namespace mv1 = membership::v1;
namespace rv1 = redemption::v1;
namespace sv1 = settlement::v1;

// The checks read the services directly, where nothing is masked or rate
// limited; a read that still fails after these retries is a service that
// did not come back.
const client::CallPolicy kRead = {.deadline = absl::Seconds(10),
                                  .idempotent = true,
                                  .max_attempts = 6,
                                  .initial_backoff = absl::Milliseconds(300)};

constexpr int kPageSize = 1000;

// What one member's accounts show.
struct MemberState {
  av1::Balance balance;
  std::vector<av1::Transaction> transactions;
  std::vector<rv1::RedemptionRecord> redemptions;
  std::vector<av1::RetroClaim> claims;
};

bool Live(rv1::RedemptionState state) {
  return state == rv1::HELD || state == rv1::ISSUED;
}

// One pass of every check over what the system shows now.
class Round {
 public:
  Round(const Book& book, Workload& workload, const Targets& targets)
      : book_(book),
        workload_(workload),
        membership_(targets.membership),
        accrual_(targets.accrual),
        redemption_(targets.redemption),
        settlement_(sv1::Settlement::NewStub(client::ChannelFor(targets.settlement))),
        reporting_(reporting::v1::Reporting::NewStub(
            client::ChannelFor(targets.reporting))) {}

  std::vector<std::string> Run() {
    CheckEnrolments();
    for (const auto& [member, unused] : expected_members_) ReadMember(member);
    CheckLedgers();
    CheckCredits();
    CheckClaims();
    CheckRedemptions();
    CheckSeats();
    CheckFiles();
    CheckShards();
    CheckReports();
    return std::move(violations_);
  }

  // What the round looked at, so that a pass is seen not to be vacuous.
  std::string Looked() const {
    int64_t transactions = 0;
    std::map<std::string, int> redemptions;
    for (const auto& [member, state] : members_) {
      transactions += state.transactions.size();
      for (const rv1::RedemptionRecord& record : state.redemptions) {
        ++redemptions[rv1::RedemptionState_Name(record.state())];
      }
    }
    return absl::StrCat(members_.size(), " members, ", transactions,
                        " transactions, redemptions ",
                        absl::StrJoin(redemptions, " ", absl::PairFormatter("=")),
                        ", ", files_accepted_, " partner files");
  }

 private:
  void Violation(std::string text) { violations_.push_back(std::move(text)); }

  template <typename Stub, typename Request, typename Response>
  bool Read(absl::string_view what, Stub& stub,
            grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                         Response*),
            const Request& request, Response* response) {
    absl::Status status = client::Call(stub, method, request, response, kRead);
    if (!status.ok()) Violation(absl::StrCat("could not read ", what, ": ", status.ToString()));
    return status.ok();
  }

  // Each enrolment made one member at most, and an acknowledged one made
  // exactly the member it answered with. Collects the members to read.
  void CheckEnrolments() {
    for (const Book::Enrolment& enrolment : book_.enrolments) {
      mv1::FindMembersRequest request;
      *request.mutable_identity_document() =
          testing::SampleEnrolment(enrolment.sample).profile().identity_document();
      std::vector<std::string> found;
      for (int shard = 0; shard < membership_.shard_count(); ++shard) {
        mv1::FindMembersResponse response;
        if (!Read("members by document", membership_.Shard(shard),
                  &mv1::Membership::Stub::FindMembers, request, &response)) {
          return;
        }
        for (const mv1::Member& member : response.members()) {
          found.push_back(member.member_number());
        }
      }
      const std::string name = absl::StrCat("enrolment ", enrolment.request_id);
      if (found.size() > 1) {
        Violation(absl::StrCat(name, " applied twice: members ",
                               absl::StrJoin(found, ", ")));
      }
      switch (enrolment.outcome) {
        case Outcome::kAcknowledged:
          if (found.empty() || found.front() != enrolment.member) {
            Violation(absl::StrCat(name, " acknowledged as member ", enrolment.member,
                                   " is lost (found: ", absl::StrJoin(found, ", "),
                                   ")"));
          }
          break;
        case Outcome::kRefused:
          if (!found.empty()) Violation(absl::StrCat(name, " refused but applied"));
          break;
        case Outcome::kUnknown:
          break;
      }
      for (const std::string& member : found) expected_members_[member] = true;
    }
  }

  void ReadMember(const std::string& member) {
    MemberState state;
    std::string token;
    do {
      av1::GetStatementRequest request;
      request.set_member_number(member);
      request.mutable_page()->set_page_size(kPageSize);
      request.mutable_page()->set_page_token(token);
      av1::GetStatementResponse response;
      if (!Read("statement of " + member, accrual_.ForMember(member),
                &av1::Accrual::Stub::GetStatement, request, &response)) {
        return;
      }
      if (token.empty()) state.balance = response.balance();
      for (const av1::Transaction& transaction : response.transactions()) {
        state.transactions.push_back(transaction);
      }
      token = response.page().next_page_token();
    } while (!token.empty());
    do {
      rv1::ListRedemptionsRequest request;
      request.set_member_number(member);
      request.mutable_page()->set_page_size(kPageSize);
      request.mutable_page()->set_page_token(token);
      rv1::ListRedemptionsResponse response;
      if (!Read("redemptions of " + member, redemption_.ForMember(member),
                &rv1::Redemption::Stub::ListRedemptions, request, &response)) {
        return;
      }
      for (const rv1::RedemptionRecord& record : response.redemptions()) {
        state.redemptions.push_back(record);
      }
      token = response.page().next_page_token();
    } while (!token.empty());
    do {
      av1::ListRetroClaimsRequest request;
      request.set_member_number(member);
      request.mutable_page()->set_page_size(kPageSize);
      request.mutable_page()->set_page_token(token);
      av1::ListRetroClaimsResponse response;
      if (!Read("claims of " + member, accrual_.ForMember(member),
                &av1::Accrual::Stub::ListRetroClaims, request, &response)) {
        return;
      }
      for (const av1::RetroClaim& claim : response.claims()) {
        state.claims.push_back(claim);
      }
      token = response.page().next_page_token();
    } while (!token.empty());
    members_[member] = std::move(state);
  }

  // The transactions of `member` of `type` whose `key` is `value`.
  template <typename Key>
  std::vector<const av1::Transaction*> Find(const std::string& member,
                                            av1::TransactionType type, Key key,
                                            const std::string& value) const {
    std::vector<const av1::Transaction*> found;
    auto state = members_.find(member);
    if (state == members_.end()) return found;
    for (const av1::Transaction& transaction : state->second.transactions) {
      if (transaction.type() == type && key(transaction) == value) {
        found.push_back(&transaction);
      }
    }
    return found;
  }

  // A credit that must be there once (acknowledged), at most once
  // (unknown) or not at all (refused).
  void ExpectOnce(const std::string& name, Outcome outcome,
                  const std::vector<const av1::Transaction*>& found,
                  int64_t acknowledged_miles) {
    if (found.size() > 1) {
      Violation(absl::StrCat(name, " applied ", found.size(), " times"));
    }
    if (outcome == Outcome::kAcknowledged) {
      if (found.empty()) {
        Violation(absl::StrCat(name, " acknowledged but lost"));
      } else if (found.front()->miles() != acknowledged_miles) {
        Violation(absl::StrCat(name, " acknowledged with ", acknowledged_miles,
                               " miles, the ledger has ", found.front()->miles()));
      }
    }
    if (outcome == Outcome::kRefused && !found.empty()) {
      Violation(absl::StrCat(name, " refused but applied"));
    }
  }

  // Per member: the balance is its statement's sum, no key was applied
  // twice, every line comes from a request, held miles are the HELD
  // redemptions', and available is not negative.
  void CheckLedgers() {
    std::set<std::string> tickets, approved_claims, references, holds;
    for (const Book::Credit& credit : book_.credits) tickets.insert(credit.ticket);
    for (const Book::Claim& claim : book_.claims) {
      if (claim.approved && *claim.approved != Outcome::kRefused) {
        approved_claims.insert(claim.claim_id);
      }
    }
    for (const Book::PartnerFile& file : book_.files) {
      for (const Book::FileRecord& record : file.records) {
        references.insert(record.reference);
      }
    }
    for (const auto& [member, state] : members_) {
      for (const rv1::RedemptionRecord& record : state.redemptions) {
        holds.insert(record.hold_id());
      }
    }
    for (const auto& [member, state] : members_) {
      int64_t sum = 0;
      std::map<std::pair<int, std::string>, int> keys;
      for (const av1::Transaction& transaction : state.transactions) {
        sum += transaction.miles();
        if (++keys[{transaction.type(), transaction.idempotency_key()}] == 2) {
          Violation(absl::StrCat("member ", member, ": ",
                                 av1::TransactionType_Name(transaction.type()),
                                 " key ", transaction.idempotency_key(),
                                 " applied twice"));
        }
        bool requested = false;
        switch (transaction.type()) {
          case av1::OWN_FLIGHT:
            requested = tickets.count(transaction.flight_identity().ticket_number());
            break;
          case av1::RETRO_CLAIM:
            requested = approved_claims.count(transaction.claim_id());
            break;
          case av1::PARTNER_ACTIVITY:
            requested = references.count(transaction.partner_reference());
            break;
          case av1::REDEMPTION:
          case av1::REDEPOSIT:
          case av1::REDEPOSIT_FEE:
            requested = holds.count(transaction.hold_id());
            break;
          default:
            break;
        }
        if (!requested) {
          Violation(absl::StrCat("member ", member, ": transaction ",
                                 transaction.transaction_id(), " (",
                                 av1::TransactionType_Name(transaction.type()),
                                 ") comes from no request"));
        }
      }
      if (sum != state.balance.balance()) {
        Violation(absl::StrCat("member ", member, ": balance ", state.balance.balance(),
                               " but the statement sums to ", sum));
      }
      if (state.balance.available() < 0) {
        Violation(absl::StrCat("member ", member, ": available balance ",
                               state.balance.available(), " is negative"));
      }
      int64_t held = 0;
      for (const rv1::RedemptionRecord& record : state.redemptions) {
        if (record.state() == rv1::HELD) held += record.total_miles();
      }
      if (held != state.balance.held()) {
        Violation(absl::StrCat("member ", member, ": ", state.balance.held(),
                               " miles held but HELD redemptions hold ", held));
      }
    }
  }

  void CheckCredits() {
    for (const Book::Credit& credit : book_.credits) {
      ExpectOnce(absl::StrCat("credit of ticket ", credit.ticket, " to ", credit.member),
                 credit.outcome,
                 Find(credit.member, av1::OWN_FLIGHT,
                      [](const av1::Transaction& t) {
                        return t.flight_identity().ticket_number();
                      },
                      credit.ticket),
                 credit.miles);
    }
  }

  void CheckClaims() {
    for (const Book::Claim& claim : book_.claims) {
      const std::string name =
          absl::StrCat("claim ", claim.request_id, " of ", claim.member);
      auto state = members_.find(claim.member);
      if (state == members_.end()) continue;
      std::vector<const av1::RetroClaim*> filed;
      for (const av1::RetroClaim& found : state->second.claims) {
        if (found.flight_identity().ticket_number() == claim.ticket) {
          filed.push_back(&found);
        }
      }
      if (filed.size() > 1) {
        Violation(absl::StrCat(name, " filed ", filed.size(), " times"));
      }
      if (claim.submitted == Outcome::kAcknowledged &&
          (filed.empty() || filed.front()->claim_id() != claim.claim_id)) {
        Violation(absl::StrCat(name, " acknowledged as ", claim.claim_id,
                               " but lost"));
      }
      if (claim.submitted == Outcome::kRefused && !filed.empty()) {
        Violation(absl::StrCat(name, " refused but filed"));
      }
      const bool approval_asked = claim.approved && *claim.approved != Outcome::kRefused;
      if (!filed.empty() && filed.front()->state() == av1::CLAIM_APPROVED &&
          !approval_asked) {
        Violation(absl::StrCat(name, " approved without an approval"));
      }
      if (claim.approved) {
        ExpectOnce(absl::StrCat("approval of ", name), *claim.approved,
                   Find(claim.member, av1::RETRO_CLAIM,
                        [](const av1::Transaction& t) { return t.claim_id(); },
                        claim.claim_id),
                   claim.miles);
      }
    }
  }

  // Whether a redemption may be in `state` given what its client did.
  static bool MayBeIn(const Book::Redemption& asked, rv1::RedemptionState state) {
    switch (state) {
      case rv1::HELD:
      case rv1::EXPIRED:
        return asked.acknowledged == rv1::HELD ||
               asked.acknowledged == rv1::REDEMPTION_STATE_UNSPECIFIED;
      case rv1::ISSUED:
        return asked.may_issue && asked.acknowledged != rv1::CANCELLED &&
               asked.acknowledged != rv1::REFUNDED;
      case rv1::CANCELLED:
        return asked.may_cancel;
      case rv1::REFUNDED:
        return asked.may_refund;
      default:
        return false;
    }
  }

  // One redemption against its hold and its ledger lines.
  void CheckAgainstHold(const rv1::RedemptionRecord& record) {
    const std::string name = absl::StrCat("redemption ", record.redemption_id(), " (",
                                          rv1::RedemptionState_Name(record.state()), ")");
    if (record.hold_id().empty()) {
      Violation(name + " has no hold");
      return;
    }
    av1::GetHoldRequest request;
    request.set_hold_id(record.hold_id());
    av1::GetHoldResponse response;
    if (!Read("hold " + record.hold_id(), accrual_.ForMember(record.member_number()),
              &av1::Accrual::Stub::GetHold, request, &response)) {
      return;
    }
    const av1::Hold& hold = response.hold();
    const bool released =
        hold.state() == av1::HOLD_RELEASED || hold.state() == av1::HOLD_EXPIRED;
    const bool captured = hold.state() == av1::HOLD_CAPTURED;
    const bool redeposited = !hold.redeposit_transaction_id().empty();
    bool agrees = false;
    switch (record.state()) {
      case rv1::HELD:
        // Past its time the hold may be expired a moment before the
        // redemption is.
        agrees = hold.state() == av1::HOLD_ACTIVE ||
                 (released && validation::FromProtoTimestamp(hold.expires_at()) <=
                                  absl::Now());
        break;
      case rv1::ISSUED: agrees = captured && !redeposited; break;
      case rv1::CANCELLED:
      case rv1::EXPIRED: agrees = released; break;
      case rv1::REFUNDED: agrees = captured && redeposited; break;
      default: break;
    }
    if (!agrees) {
      Violation(absl::StrCat(name, " disagrees with its hold ", hold.hold_id(), " (",
                             av1::HoldState_Name(hold.state()),
                             redeposited ? ", redeposited" : "", ")"));
    }
    auto lines = [&](av1::TransactionType type) {
      return Find(record.member_number(), type,
                  [](const av1::Transaction& t) { return t.hold_id(); },
                  record.hold_id());
    };
    const bool debited = record.state() == rv1::ISSUED || record.state() == rv1::REFUNDED;
    const auto captures = lines(av1::REDEMPTION);
    const auto redeposits = lines(av1::REDEPOSIT);
    if (captures.size() != (debited ? 1u : 0u) ||
        (debited && captures.front()->miles() != -record.total_miles())) {
      Violation(absl::StrCat(name, ": ", captures.size(),
                             " REDEMPTION debits of its hold in the ledger"));
    }
    if (redeposits.size() != (record.state() == rv1::REFUNDED ? 1u : 0u) ||
        (!redeposits.empty() && redeposits.front()->miles() != record.total_miles())) {
      Violation(absl::StrCat(name, ": ", redeposits.size(),
                             " REDEPOSIT credits of its hold in the ledger"));
    }
  }

  void CheckRedemptions() {
    std::map<std::pair<std::string, std::string>, const Book::Redemption*> asked;
    for (const Book::Redemption& redemption : book_.redemptions) {
      asked[{redemption.member, redemption.request_id}] = &redemption;
    }
    std::map<std::pair<std::string, std::string>, std::vector<const rv1::RedemptionRecord*>>
        made;
    for (const auto& [member, state] : members_) {
      for (const rv1::RedemptionRecord& record : state.redemptions) {
        made[{member, record.request_id()}].push_back(&record);
        if (!asked.count({member, record.request_id()})) {
          Violation(absl::StrCat("redemption ", record.redemption_id(),
                                 " comes from no request"));
        }
        CheckAgainstHold(record);
      }
    }
    for (const Book::Redemption& redemption : book_.redemptions) {
      if (!members_.count(redemption.member)) continue;
      const std::string name = absl::StrCat("redemption request ", redemption.request_id,
                                            " of ", redemption.member);
      const auto& records = made[{redemption.member, redemption.request_id}];
      if (records.size() > 1) {
        Violation(absl::StrCat(name, " created ", records.size(), " redemptions"));
      }
      if (redemption.created == Outcome::kRefused && !records.empty()) {
        Violation(name + " refused but created");
      }
      if (records.empty()) {
        if (redemption.created == Outcome::kAcknowledged) {
          Violation(absl::StrCat(name, " acknowledged as ", redemption.redemption_id,
                                 " but lost"));
        }
        continue;
      }
      const rv1::RedemptionRecord& record = *records.front();
      if (!MayBeIn(redemption, record.state())) {
        Violation(absl::StrCat(name, " is ", rv1::RedemptionState_Name(record.state()),
                               " after its client was told ",
                               rv1::RedemptionState_Name(redemption.acknowledged)));
      }
    }
  }

  void CheckSeats() {
    auto redemption = rv1::Redemption::NewStub(workload_.gateway);
    for (const AwardFlight& flight : workload_.flights) {
      int live = 0;
      for (const auto& [member, state] : members_) {
        for (const rv1::RedemptionRecord& record : state.redemptions) {
          if (record.itinerary().outbound().segments().empty()) continue;
          const rv1::Segment& segment = record.itinerary().outbound().segments(0);
          if (Live(record.state()) && segment.flight_number() == flight.flight_number &&
              validation::ToProtoDate(flight.date).SerializeAsString() ==
                  segment.flight_date().SerializeAsString()) {
            live += record.passengers_size();
          }
        }
      }
      // As every client sees them: through the gateway.
      rv1::GetAwardSeatsRequest request;
      request.set_flight_number(flight.flight_number);
      *request.mutable_flight_date() = validation::ToProtoDate(flight.date);
      rv1::GetAwardSeatsResponse response;
      grpc::ClientContext context;
      context.AddMetadata("x-api-key", workload_.api_key);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      grpc::Status status = redemption->GetAwardSeats(&context, request, &response);
      const std::string name = absl::StrCat("flight FM", flight.flight_number, " ",
                                            validation::FormatDate(flight.date));
      if (!status.ok()) {
        Violation(absl::StrCat("could not read the seats of ", name, ": ",
                               status.error_message()));
        continue;
      }
      for (const rv1::CabinSeats& cabin : response.seats().cabins()) {
        if (cabin.cabin() != rv1::ECONOMY) continue;
        if (cabin.capacity() != flight.capacity) {
          Violation(absl::StrCat(name, ": capacity ", cabin.capacity(), ", set to ",
                                 flight.capacity));
        }
        if (cabin.taken() > cabin.capacity() || live > flight.capacity) {
          Violation(absl::StrCat(name, " oversold: ", cabin.taken(), " seats taken, ",
                                 live, " live redemptions, capacity ",
                                 flight.capacity));
        }
        if (cabin.taken() != live) {
          Violation(absl::StrCat(name, ": ", cabin.taken(), " seats taken but ", live,
                                 " live redemptions"));
        }
      }
    }
  }

  // Every seq sent is accepted once (or never received), with every record
  // accepted and credited once.
  void CheckFiles() {
    std::vector<sv1::AccrualFile> files;
    std::string token;
    do {
      sv1::ListAccrualFilesRequest request;
      request.set_partner_code(workload_.partner_code);
      request.mutable_page()->set_page_size(kPageSize);
      request.mutable_page()->set_page_token(token);
      sv1::ListAccrualFilesResponse response;
      if (!Read("the partner's files", *settlement_,
                &sv1::Settlement::Stub::ListAccrualFiles, request, &response)) {
        return;
      }
      files.insert(files.end(), response.files().begin(), response.files().end());
      token = response.page().next_page_token();
    } while (!token.empty());
    // The last file the partner made under each seq (a refused one is made
    // again under the same seq; the refusal is reported below).
    std::map<int, const Book::PartnerFile*> sent;
    for (const Book::PartnerFile& file : book_.files) sent[file.seq] = &file;
    for (const sv1::AccrualFile& file : files) {
      if (file.status() == sv1::REFUSED) {
        Violation(absl::StrCat("partner file ", file.file_id(), " (seq ",
                               file.header_seq(), ") refused: ",
                               sv1::FileRefusalCode_Name(file.refusal_code()), " ",
                               file.refusal_message()));
      } else if (file.status() != sv1::ACCEPTED) {
        Violation(absl::StrCat("partner file ", file.file_id(), " (seq ",
                               file.header_seq(), ") still ",
                               sv1::FileStatus_Name(file.status())));
      }
    }
    for (const auto& [seq, book_file] : sent) {
      std::vector<const sv1::AccrualFile*> originals;
      for (const sv1::AccrualFile& file : files) {
        if (file.header_seq() == seq && file.status() == sv1::ACCEPTED &&
            file.identical_to_file_id().empty()) {
          originals.push_back(&file);
        }
      }
      const std::string name = absl::StrCat("partner file seq ", seq);
      if (originals.size() > 1) Violation(name + " accepted twice");
      if (originals.empty()) {
        if (book_file->uploaded == Outcome::kAcknowledged) {
          Violation(name + " acknowledged but lost");
        }
        continue;
      }
      ++files_accepted_;
      std::vector<sv1::AcknowledgedRecord> records;
      do {
        sv1::GetAcknowledgementRequest request;
        request.set_file_id(originals.front()->file_id());
        request.mutable_page()->set_page_size(kPageSize);
        request.mutable_page()->set_page_token(token);
        sv1::GetAcknowledgementResponse response;
        if (!Read("acknowledgement of " + name, *settlement_,
                  &sv1::Settlement::Stub::GetAcknowledgement, request, &response)) {
          return;
        }
        records.insert(records.end(), response.records().begin(),
                       response.records().end());
        token = response.page().next_page_token();
      } while (!token.empty());
      if (records.size() != book_file->records.size()) {
        Violation(absl::StrCat(name, ": ", records.size(), " records acknowledged of ",
                               book_file->records.size()));
        continue;
      }
      for (size_t i = 0; i < records.size(); ++i) {
        const Book::FileRecord& sent_record = book_file->records[i];
        const std::string record_name =
            absl::StrCat(name, " record ", i + 1, " (", sent_record.reference, ")");
        const bool accepted = records[i].status() == sv1::RECORD_ACCEPTED;
        if (!accepted) {
          Violation(absl::StrCat(record_name, " rejected: ", records[i].reason()));
        }
        ExpectOnce(record_name,
                   accepted ? Outcome::kAcknowledged : Outcome::kRefused,
                   Find(sent_record.member, av1::PARTNER_ACTIVITY,
                        [](const av1::Transaction& t) { return t.partner_reference(); },
                        sent_record.reference),
                   sent_record.miles);
      }
    }
  }

  void CheckShards() {
    int64_t total = 0;
    for (int shard = 0; shard < accrual_.shard_count(); ++shard) {
      av1::VerifyLedgerResponse response;
      if (!Read(absl::StrCat("accrual shard ", shard, "'s ledger"), accrual_.Shard(shard),
                &av1::Accrual::Stub::VerifyLedger, av1::VerifyLedgerRequest(),
                &response)) {
        return;
      }
      for (const av1::LedgerDifference& difference : response.differences()) {
        Violation(absl::StrCat("accrual shard ", shard, ": ledger of ",
                               difference.member_number(), " broken: ",
                               difference.description()));
      }
      total += response.total_balance();
    }
    int64_t balances = 0;
    for (const auto& [member, state] : members_) balances += state.balance.balance();
    if (total != balances) {
      Violation(absl::StrCat("accrual holds ", total,
                             " miles in all, the clients' members ", balances));
    }
  }

  void CheckReports() {
    reporting::v1::CheckConsistencyResponse response;
    if (!Read("reporting's consistency", *reporting_,
              &reporting::v1::Reporting::Stub::CheckConsistency,
              reporting::v1::CheckConsistencyRequest(), &response)) {
      return;
    }
    for (const reporting::v1::ConsistencyCheck& check : response.checks()) {
      if (!check.consistent()) {
        Violation(absl::StrCat("report check ", check.name(), ": expected ",
                               check.expected(), ", reporting has ", check.actual(),
                               " (", check.detail(), ")"));
      }
    }
    if (!response.consistent() && response.checks().empty()) {
      Violation("reporting is not consistent");
    }
  }

  const Book& book_;
  Workload& workload_;
  client::ServiceClient<mv1::Membership> membership_;
  client::ServiceClient<av1::Accrual> accrual_;
  client::ServiceClient<rv1::Redemption> redemption_;
  std::unique_ptr<sv1::Settlement::Stub> settlement_;
  std::unique_ptr<reporting::v1::Reporting::Stub> reporting_;
  // Every member an enrolment made (ordered, for a stable report).
  std::map<std::string, bool> expected_members_;
  std::map<std::string, MemberState> members_;
  std::vector<std::string> violations_;
  int files_accepted_ = 0;
};

}  // namespace

std::vector<std::string> CheckEverything(const Book& book, Workload& workload,
                                         const Targets& targets,
                                         absl::Duration patience,
                                         std::string* looked) {
  const absl::Time deadline = absl::Now() + patience;
  for (int round = 1;; ++round) {
    Round checks(book, workload, targets);
    std::vector<std::string> violations = checks.Run();
    *looked = checks.Looked();
    workload.journal->Note("main", "CHECKED", absl::StrCat("round ", round),
                           absl::StrCat(*looked, ": ", violations.size(), " violations"));
    if (violations.empty() || absl::Now() >= deadline) return violations;
    absl::SleepFor(absl::Seconds(3));
  }
}

}  // namespace mileagebank::chaos
