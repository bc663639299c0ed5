#include "tests/chaos/workload.h"

#include <algorithm>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
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

// Attempts per operation: the first and three retries with the same key.
constexpr int kAttempts = 4;

// Codes that do not say whether the call took effect.
bool Uncertain(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

std::string CodeName(const grpc::Status& status) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
}

std::string Shortened(std::string text) {
  if (text.size() > 400) text = text.substr(0, 400) + "...";
  return text;
}

// Calls through the gateway for one thread, journalling each attempt and
// counting each operation's outcome in its book.
class Caller {
 public:
  Caller(Workload& workload, std::string thread, Book& book, uint32_t seed)
      : workload_(workload), thread_(std::move(thread)), book_(book), random_(seed) {}

  template <typename Stub, typename Request, typename Response>
  Outcome Unary(absl::string_view kind, absl::string_view key,
                absl::string_view member, Stub& stub,
                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                             Response*),
                const Request& request, Response* response,
                grpc::Status* last = nullptr) {
    Journal& journal = *workload_.journal;
    const int64_t operation = journal.NextOperation();
    for (int attempt = 1;; ++attempt) {
      journal.Request(thread_, operation, kind, key, member, attempt,
                      attempt == 1 ? request.ShortDebugString() : "(the same)");
      grpc::ClientContext context;
      Prepare(context);
      grpc::Status status = (stub.*method)(&context, request, response);
      journal.Answer(thread_, operation, attempt, CodeName(status),
                     status.ok() ? Shortened(response->ShortDebugString())
                                 : status.error_message());
      if (last != nullptr) *last = status;
      if (Uncertain(status.error_code()) && attempt < kAttempts) {
        Backoff(attempt);
        continue;
      }
      return Finish(operation, status.ok()                            ? Outcome::kAcknowledged
                               : Uncertain(status.error_code()) ? Outcome::kUnknown
                                                                : Outcome::kRefused);
    }
  }

  // Uploads `file` as the partner (one operation with its retries).
  Outcome Upload(const Book::PartnerFile& file, sv1::AccrualFile* received,
                 grpc::Status* last) {
    Journal& journal = *workload_.journal;
    const int64_t operation = journal.NextOperation();
    const std::string name =
        absl::StrFormat("%s_%06d.acc.csv", workload_.partner_code, file.seq);
    auto stub = sv1::Settlement::NewStub(workload_.gateway);
    for (int attempt = 1;; ++attempt) {
      journal.Request(thread_, operation, "UploadAccrualFile", name, "", attempt,
                      absl::StrCat(file.records.size(), " records, ",
                                   file.bytes.size(), " bytes"));
      grpc::ClientContext context;
      Prepare(context);
      sv1::UploadAccrualFileResponse response;
      auto writer = stub->UploadAccrualFile(&context, &response);
      sv1::UploadAccrualFileRequest metadata;
      metadata.mutable_metadata()->set_partner_code(workload_.partner_code);
      metadata.mutable_metadata()->set_file_name(name);
      sv1::UploadAccrualFileRequest chunk;
      chunk.set_chunk(file.bytes);
      if (writer->Write(metadata)) writer->Write(chunk);
      writer->WritesDone();
      grpc::Status status = writer->Finish();
      journal.Answer(thread_, operation, attempt, CodeName(status),
                     status.ok() ? response.file().ShortDebugString()
                                 : status.error_message());
      *last = status;
      if (status.ok()) *received = response.file();
      if (Uncertain(status.error_code()) && attempt < kAttempts) {
        Backoff(attempt);
        continue;
      }
      return Finish(operation, status.ok()                            ? Outcome::kAcknowledged
                               : Uncertain(status.error_code()) ? Outcome::kUnknown
                                                                : Outcome::kRefused);
    }
  }

  const std::string& thread() const { return thread_; }

 private:
  void Prepare(grpc::ClientContext& context) {
    // Some callers are in a hurry: their call times out while the system
    // carries it out, and the retry must find it done rather than do it
    // again. This, more than the kills, is what exercises idempotency.
    const int hurry_ms = std::uniform_int_distribution<int>(-100, 300)(random_);
    context.set_deadline(std::chrono::system_clock::now() +
                         (hurry_ms > 0 ? std::chrono::milliseconds(8000)
                                       : std::chrono::milliseconds(hurry_ms + 110)));
    context.AddMetadata("x-api-key", workload_.api_key);
  }

  // A restarted process takes a second or two to serve again.
  static void Backoff(int attempt) {
    absl::SleepFor(absl::Milliseconds(250) * (1 << (attempt - 1)));
  }

  Outcome Finish(int64_t operation, Outcome outcome) {
    workload_.journal->Finish(thread_, operation, outcome);
    book_.Count(outcome);
    return outcome;
  }

  Workload& workload_;
  const std::string thread_;
  Book& book_;
  std::mt19937 random_;
};

struct Route {
  const char* origin;
  const char* destination;
};
constexpr Route kRoutes[] = {
    {"PEK", "JFK"}, {"PEK", "LHR"}, {"PVG", "FRA"}, {"PEK", "SYD"}, {"CAN", "CTU"}};
constexpr const char* kClasses[] = {"F", "J", "C", "Y"};

std::string Password(int sample) { return absl::StrCat("chaos-pw-", sample); }

class Client {
 public:
  Client(Workload& workload, int index, uint32_t seed)
      : workload_(workload),
        caller_(workload, absl::StrCat("client-", index), book_, seed + 1),
        random_(seed),
        membership_(mv1::Membership::NewStub(workload.gateway)),
        accrual_(av1::Accrual::NewStub(workload.gateway)),
        redemption_(rv1::Redemption::NewStub(workload.gateway)),
        reporting_(reporting::v1::Reporting::NewStub(workload.gateway)) {}

  Book Run() {
    while (!workload_.stop) {
      if (members_.size() < 2 || Chance(0.06)) {
        Enrol();
        continue;
      }
      const int pick = Uniform(0, 99);
      if (pick < 33) {
        Credit();
      } else if (pick < 43) {
        Claim();
      } else if (pick < 60) {
        Redeem();
      } else if (pick < 85) {
        Advance();
      } else if (pick < 92) {
        Report();
      } else {
        ReadBalance();
      }
    }
    return std::move(book_);
  }

 private:
  struct Member {
    std::string number;
    int sample;
  };

  bool Chance(double p) { return std::bernoulli_distribution(p)(random_); }
  int Uniform(int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random_);
  }
  const Member& AnyMember() { return members_[Uniform(0, members_.size() - 1)]; }
  std::string NextTicket() {
    return absl::StrCat(7820000000000 + workload_.next_ticket++);
  }
  std::string NextRequestId(absl::string_view kind) {
    return absl::StrCat("chaos-", kind, "-", workload_.next_request++);
  }

  void Enrol() {
    const int sample = workload_.next_sample++;
    mv1::EnrolRequest request = testing::SampleEnrolment(sample);
    request.clear_actor();  // The gateway says who enrols.
    request.set_password(Password(sample));
    request.set_request_id(absl::StrCat("chaos-enrol-", sample));
    mv1::EnrolResponse response;
    const Outcome outcome =
        caller_.Unary("Enrol", request.request_id(), "", *membership_,
                      &mv1::Membership::Stub::Enrol, request, &response);
    book_.enrolments.push_back(
        {sample, request.request_id(), outcome,
         outcome == Outcome::kAcknowledged ? response.member().member_number() : ""});
    if (outcome == Outcome::kAcknowledged) {
      members_.push_back({response.member().member_number(), sample});
      workload_.AddMember(response.member().member_number());
    }
  }

  av1::Flight SomeFlight(int max_days_ago) {
    const Route& route = kRoutes[Uniform(0, std::size(kRoutes) - 1)];
    av1::Flight flight;
    flight.set_flight_number(Uniform(100, 999));
    *flight.mutable_flight_date() =
        validation::ToProtoDate(workload_.today - Uniform(1, max_days_ago));
    flight.set_origin(route.origin);
    flight.set_destination(route.destination);
    flight.set_booking_class(kClasses[Uniform(0, std::size(kClasses) - 1)]);
    return flight;
  }

  void Credit() {
    const Member& member = AnyMember();
    av1::PostOwnFlightRequest request;
    request.set_member_number(member.number);
    request.mutable_flight_identity()->set_ticket_number(NextTicket());
    request.mutable_flight_identity()->set_coupon_number(1);
    *request.mutable_flight() = SomeFlight(20);
    av1::PostOwnFlightResponse response;
    const Outcome outcome = caller_.Unary(
        "PostOwnFlight", request.flight_identity().ticket_number(), member.number,
        *accrual_, &av1::Accrual::Stub::PostOwnFlight, request, &response);
    book_.credits.push_back({member.number, request.flight_identity().ticket_number(),
                             outcome, response.transaction().miles()});
  }

  void Claim() {
    const Member& member = AnyMember();
    av1::SubmitRetroClaimRequest submit;
    submit.set_member_number(member.number);
    submit.mutable_flight_identity()->set_ticket_number(NextTicket());
    submit.mutable_flight_identity()->set_coupon_number(1);
    *submit.mutable_flight() = SomeFlight(60);
    submit.set_request_id(NextRequestId("claim"));
    av1::SubmitRetroClaimResponse submitted;
    Book::Claim claim;
    claim.member = member.number;
    claim.ticket = submit.flight_identity().ticket_number();
    claim.request_id = submit.request_id();
    claim.submitted =
        caller_.Unary("SubmitRetroClaim", submit.request_id(), member.number,
                      *accrual_, &av1::Accrual::Stub::SubmitRetroClaim, submit,
                      &submitted);
    if (claim.submitted == Outcome::kAcknowledged) {
      claim.claim_id = submitted.claim().claim_id();
      av1::ApproveRetroClaimRequest approve;
      approve.set_claim_id(claim.claim_id);
      av1::ApproveRetroClaimResponse approved;
      claim.approved =
          caller_.Unary("ApproveRetroClaim", claim.claim_id, member.number,
                        *accrual_, &av1::Accrual::Stub::ApproveRetroClaim,
                        approve, &approved);
      claim.miles = approved.transaction().miles();
    }
    book_.claims.push_back(std::move(claim));
  }

  void Redeem() {
    const Member& member = AnyMember();
    const int flight = Uniform(0, workload_.flights.size() - 1);
    rv1::CreateRedemptionRequest request;
    request.set_member_number(member.number);
    rv1::Itinerary* itinerary = request.mutable_standard()->mutable_itinerary();
    itinerary->set_journey_type(rv1::ONE_WAY);
    rv1::Segment* segment = itinerary->mutable_outbound()->add_segments();
    segment->set_carrier("FM");
    segment->set_flight_number(workload_.flights[flight].flight_number);
    *segment->mutable_flight_date() =
        validation::ToProtoDate(workload_.flights[flight].date);
    segment->set_origin("PEK");
    segment->set_destination("PVG");
    request.mutable_standard()->set_cabin(rv1::ECONOMY);
    request.add_passengers()->set_member(true);
    request.set_member_password(Password(member.sample));
    request.set_request_id(NextRequestId("redeem"));
    rv1::CreateRedemptionResponse response;
    Book::Redemption redemption;
    redemption.member = member.number;
    redemption.request_id = request.request_id();
    redemption.flight = flight;
    redemption.created =
        caller_.Unary("CreateRedemption", request.request_id(), member.number,
                      *redemption_, &rv1::Redemption::Stub::CreateRedemption,
                      request, &response);
    if (redemption.created == Outcome::kAcknowledged) {
      redemption.redemption_id = response.redemption().redemption_id();
      redemption.acknowledged = rv1::HELD;
    }
    redemption.uncertain = redemption.created != Outcome::kAcknowledged;
    book_.redemptions.push_back(std::move(redemption));
  }

  // Issues or cancels a HELD redemption of this client's, or refunds an
  // ISSUED one.
  void Advance() {
    std::vector<Book::Redemption*> open;
    for (Book::Redemption& redemption : book_.redemptions) {
      if (!redemption.uncertain &&
          (redemption.acknowledged == rv1::HELD ||
           redemption.acknowledged == rv1::ISSUED)) {
        open.push_back(&redemption);
      }
    }
    if (open.empty()) return;
    Book::Redemption& redemption = *open[Uniform(0, open.size() - 1)];
    const std::string& id = redemption.redemption_id;
    Outcome outcome;
    rv1::RedemptionState next;
    if (redemption.acknowledged == rv1::HELD && Chance(0.75)) {
      rv1::IssueRedemptionRequest request;
      request.set_redemption_id(id);
      request.add_award_ticket_numbers(
          absl::StrCat(7840000000000 + workload_.next_ticket++));
      rv1::IssueRedemptionResponse response;
      outcome = caller_.Unary("IssueRedemption", id, redemption.member, *redemption_,
                              &rv1::Redemption::Stub::IssueRedemption, request,
                              &response);
      next = rv1::ISSUED;
      redemption.may_issue |= outcome != Outcome::kRefused;
    } else if (redemption.acknowledged == rv1::HELD) {
      rv1::CancelRedemptionRequest request;
      request.set_redemption_id(id);
      request.set_reason("CHAOS");
      rv1::CancelRedemptionResponse response;
      outcome = caller_.Unary("CancelRedemption", id, redemption.member,
                              *redemption_, &rv1::Redemption::Stub::CancelRedemption,
                              request, &response);
      next = rv1::CANCELLED;
      redemption.may_cancel |= outcome != Outcome::kRefused;
    } else {
      // Some awards are flown: their seats stay taken.
      if (Chance(0.5)) return;
      rv1::RefundRedemptionRequest request;
      request.set_redemption_id(id);
      request.set_reason("CHAOS");
      rv1::RefundRedemptionResponse response;
      outcome = caller_.Unary("RefundRedemption", id, redemption.member,
                              *redemption_, &rv1::Redemption::Stub::RefundRedemption,
                              request, &response);
      next = rv1::REFUNDED;
      redemption.may_refund |= outcome != Outcome::kRefused;
    }
    if (outcome == Outcome::kAcknowledged) {
      redemption.acknowledged = next;
    } else {
      // Unknown, or refused (its hold may have run out): left alone.
      redemption.uncertain = true;
    }
  }

  void Report() {
    reporting::v1::DateRange range;
    *range.mutable_from_date() = validation::ToProtoDate(
        absl::CivilDay(workload_.today.year(), 1, 1));
    *range.mutable_to_date() = validation::ToProtoDate(workload_.today);
    if (Chance(0.5)) {
      reporting::v1::GetLiabilityReportRequest request;
      *request.mutable_range() = range;
      reporting::v1::GetLiabilityReportResponse response;
      caller_.Unary("GetLiabilityReport", "", "", *reporting_,
                    &reporting::v1::Reporting::Stub::GetLiabilityReport, request,
                    &response);
    } else {
      reporting::v1::GetMembersReportRequest request;
      *request.mutable_range() = range;
      reporting::v1::GetMembersReportResponse response;
      caller_.Unary("GetMembersReport", "", "", *reporting_,
                    &reporting::v1::Reporting::Stub::GetMembersReport, request,
                    &response);
    }
  }

  void ReadBalance() {
    const Member& member = AnyMember();
    av1::GetBalanceRequest request;
    request.set_member_number(member.number);
    av1::GetBalanceResponse response;
    caller_.Unary("GetBalance", "", member.number, *accrual_,
                  &av1::Accrual::Stub::GetBalance, request, &response);
  }

  Workload& workload_;
  Book book_;
  Caller caller_;
  std::mt19937 random_;
  std::vector<Member> members_;
  std::unique_ptr<mv1::Membership::Stub> membership_;
  std::unique_ptr<av1::Accrual::Stub> accrual_;
  std::unique_ptr<rv1::Redemption::Stub> redemption_;
  std::unique_ptr<reporting::v1::Reporting::Stub> reporting_;
};

// Sleeps up to `duration`, less when the run ends.
void Pause(const Workload& workload, absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!workload.stop && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace

void Workload::AddMember(const std::string& member) {
  absl::MutexLock lock(&mutex_);
  members_.push_back(member);
}

std::vector<std::string> Workload::Members(int count, uint32_t seed) {
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> chosen;
  if (members_.empty()) return chosen;
  std::mt19937 random(seed);
  for (int i = 0; i < count; ++i) {
    chosen.push_back(members_[random() % members_.size()]);
  }
  return chosen;
}

absl::Status PrepareWorkload(Workload& workload, Book& book) {
  Caller caller(workload, "main", book, 1);
  auto settlement = sv1::Settlement::NewStub(workload.gateway);
  sv1::RegisterPartnerRequest partner;
  partner.mutable_partner()->set_partner_code(workload.partner_code);
  partner.mutable_partner()->set_name("Chaos Hotels");
  partner.mutable_partner()->set_type(sv1::HOTEL);
  partner.mutable_partner()->set_currency_code("CNY");
  auto* price = partner.mutable_partner()->mutable_contract()->mutable_mile_sale_price();
  price->set_currency_code("CNY");
  price->set_minor_units(1250);
  sv1::RegisterPartnerResponse registered;
  grpc::Status status;
  if (caller.Unary("RegisterPartner", workload.partner_code, "", *settlement,
                   &sv1::Settlement::Stub::RegisterPartner, partner, &registered,
                   &status) != Outcome::kAcknowledged) {
    return absl::InternalError("RegisterPartner: " + status.error_message());
  }
  auto redemption = rv1::Redemption::NewStub(workload.gateway);
  for (const AwardFlight& flight : workload.flights) {
    rv1::SetAwardSeatCapacityRequest request;
    request.set_flight_number(flight.flight_number);
    *request.mutable_flight_date() = validation::ToProtoDate(flight.date);
    request.set_cabin(rv1::ECONOMY);
    request.set_capacity(flight.capacity);
    rv1::SetAwardSeatCapacityResponse response;
    if (caller.Unary("SetAwardSeatCapacity", absl::StrCat("FM", flight.flight_number),
                     "", *redemption, &rv1::Redemption::Stub::SetAwardSeatCapacity,
                     request, &response, &status) != Outcome::kAcknowledged) {
      return absl::InternalError("SetAwardSeatCapacity: " + status.error_message());
    }
  }
  return absl::OkStatus();
}

Book RunClient(Workload& workload, int index, uint32_t seed) {
  return Client(workload, index, seed).Run();
}

Book RunPartner(Workload& workload, uint32_t seed) {
  Book book;
  Caller caller(workload, "partner", book, seed + 1);
  std::mt19937 random(seed);
  auto settlement = sv1::Settlement::NewStub(workload.gateway);
  int seq = 1;
  int64_t next_reference = 1;
  while (!workload.stop) {
    Pause(workload, absl::Seconds(3));
    std::vector<std::string> members = workload.Members(5 + random() % 25, random());
    if (members.size() < 3 || workload.stop) continue;
    Book::PartnerFile file;
    file.seq = seq;
    const std::string yesterday = validation::FormatDate(workload.today - 1);
    file.bytes = absl::StrCat(
        "H,", workload.partner_code, ",", seq, ",",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()),
        ",1\n");
    int64_t total = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      Book::FileRecord record{members[i], absl::StrCat("R", seq, "-", next_reference++),
                              100 + static_cast<int64_t>(random() % 2900)};
      total += record.miles;
      absl::StrAppend(&file.bytes, "D,", i + 1, ",", record.member, ",Chen,Flyer,",
                      yesterday, ",HOTEL,", record.reference, ",,,,,,", record.miles,
                      "\n");
      file.records.push_back(std::move(record));
    }
    absl::StrAppend(&file.bytes, "T,", members.size(), ",", total, "\n");

    // The same bytes until an upload is acknowledged and processed: a
    // second copy of a received file is answered with the first's
    // acknowledgement, never credited again.
    bool accepted = false;
    while (!workload.stop && !accepted) {
      sv1::AccrualFile received;
      grpc::Status status;
      const Outcome outcome = caller.Upload(file, &received, &status);
      if (outcome == Outcome::kRefused) break;
      if (outcome == Outcome::kUnknown) continue;
      file.uploaded = Outcome::kAcknowledged;
      sv1::GetAccrualFileRequest request;
      request.set_file_id(received.file_id());
      while (!workload.stop) {
        Pause(workload, absl::Milliseconds(500));
        sv1::GetAccrualFileResponse response;
        if (caller.Unary("GetAccrualFile", received.file_id(), "", *settlement,
                         &sv1::Settlement::Stub::GetAccrualFile, request,
                         &response) != Outcome::kAcknowledged) {
          continue;
        }
        if (response.file().status() == sv1::ACCEPTED) accepted = true;
        if (response.file().status() == sv1::ACCEPTED ||
            response.file().status() == sv1::REFUSED) {
          break;
        }
      }
      // Refused (the checks report it): made again under the same seq.
      break;
    }
    book.files.push_back(std::move(file));
    if (accepted) ++seq;
  }
  return book;
}

}  // namespace mileagebank::chaos
