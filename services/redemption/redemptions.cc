#include "services/redemption/redemptions.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "libs/crypto/password.h"
#include "libs/log/log.h"
#include "libs/status/errors.h"
#include "libs/status/status_macros.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"

namespace mileagebank::redemption {
namespace {

namespace mv1 = membership::v1;
using google::protobuf::util::TimeUtil;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1'000;
// The award ticket stock's lock key: taking numbers reads and advances its
// serial. Held through the step's durable write, as the redemption's lock
// is, so a shard's web issues take turns for one fsync each: far more than
// members issue.
constexpr absl::string_view kTicketStockLock = "ticket-stock";
// A stock's serials: the 10 digits after the 3-digit prefix.
constexpr int64_t kStockSerials = 10'000'000'000;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
}

absl::CivilDay Day(const common::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

bool AllOf(absl::string_view text, bool (*allowed)(char)) {
  return std::all_of(text.begin(), text.end(), allowed);
}

void CheckRequestId(FieldErrors& errors, absl::string_view request_id) {
  if (request_id.empty() || request_id.size() > 64 ||
      !AllOf(request_id, [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
               c == ':' || c == '/';
      })) {
    errors.Add("request_id", "must be 1-64 characters of A-Z a-z 0-9 and -_.:/");
  }
}

void CheckReason(FieldErrors& errors, absl::string_view reason) {
  if (reason.size() > 32 || !AllOf(reason, [](char c) {
        return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
      })) {
    errors.Add("reason", "at most 32 characters of A-Z, 0-9 and _");
  }
}

bool AllDigits(absl::string_view text) {
  return AllOf(text, [](char c) { return absl::ascii_isdigit(c); });
}

bool IsTicket(absl::string_view ticket) {
  return ticket.size() == 13 && AllDigits(ticket);
}

absl::Status CheckId(absl::string_view id) {
  if (id.empty() || id.size() > 64) {
    return InvalidField("redemption_id", "required, at most 64 characters");
  }
  return absl::OkStatus();
}

absl::Status WrongState(absl::string_view what, const v1::RedemptionRecord& r) {
  return FailedPreconditionField(
      "redemption_id", absl::StrCat("cannot ", what, " a redemption that is ",
                                    v1::RedemptionState_Name(r.state())));
}

}  // namespace

absl::StatusOr<RedemptionOptions> RedemptionOptions::FromConfig(
    const config::v1::RedemptionConfig& config) {
  RedemptionOptions options;
  if (!config.host_carrier().empty()) options.host_carrier = config.host_carrier();
  MB_ASSIGN_OR_RETURN(options.chart, AwardChart::FromConfig(config.bands()));
  const auto& seats = config.seat_defaults();
  for (auto [value, index, name] :
       {std::tuple{seats.economy(), 0, "seat_defaults.economy"},
        std::tuple{seats.business(), 1, "seat_defaults.business"},
        std::tuple{seats.first(), 2, "seat_defaults.first"}}) {
    if (value < 0 || value > 999) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must be 0-999"));
    }
    if (value > 0) options.seat_defaults[index] = value;
  }
  if (config.redeposit_fee_miles() < 0) {
    return absl::InvalidArgumentError("redeposit_fee_miles: must not be negative");
  }
  if (config.redeposit_fee_miles() > 0) {
    options.redeposit_fee_miles = config.redeposit_fee_miles();
  }
  if (config.partner_cache_seconds() < 0 ||
      config.partner_cache_seconds() > 3600) {
    return absl::InvalidArgumentError(
        "partner_cache_seconds: must be 1 to 3600");
  }
  if (config.partner_cache_seconds() > 0) {
    options.partner_ttl = absl::Seconds(config.partner_cache_seconds());
  }
  if (config.hold_ttl_minutes() < 0 || config.hold_ttl_minutes() > 30 * 24 * 60) {
    return absl::InvalidArgumentError("hold_ttl_minutes: must be 1 to 43200");
  }
  if (config.hold_ttl_minutes() > 0) {
    options.hold_ttl = absl::Minutes(config.hold_ttl_minutes());
  }
  if (config.recovery_grace_seconds() < 0) {
    return absl::InvalidArgumentError("recovery_grace_seconds: must not be negative");
  }
  if (config.recovery_grace_seconds() > 0) {
    options.recovery_grace = absl::Seconds(config.recovery_grace_seconds());
  }
  static const char* const kCrashPoints[] = {"", "after_intent", "after_hold",
                                              "after_capture", "after_release",
                                              "after_redeposit"};
  if (std::find(std::begin(kCrashPoints), std::end(kCrashPoints),
                config.crash_at()) == std::end(kCrashPoints)) {
    return absl::InvalidArgumentError("crash_at: not a known crash point");
  }
  options.crash_at = config.crash_at();
  if (!config.award_ticket_prefix().empty()) {
    if (config.award_ticket_prefix().size() != 3 ||
        !AllDigits(config.award_ticket_prefix())) {
      return absl::InvalidArgumentError(
          "award_ticket_prefix: must be exactly 3 digits (the airline "
          "accounting code that starts each award ticket number)");
    }
    options.award_ticket_prefix = config.award_ticket_prefix();
  }
  if (config.award_ticket_last_serial() != 0) {
    options.award_ticket_last_serial = config.award_ticket_last_serial();
  }
  options.award_ticket_first_serial = config.award_ticket_first_serial();
  if (options.award_ticket_first_serial < 0 ||
      options.award_ticket_last_serial >= kStockSerials ||
      options.award_ticket_first_serial > options.award_ticket_last_serial) {
    return absl::InvalidArgumentError(
        "award_ticket_first_serial, award_ticket_last_serial: must be a block "
        "of serials, 0 <= first <= last <= 9999999999");
  }
  return options;
}

Redemptions::Redemptions(store::Store* store,
                         const airports::AirportTable* airports,
                         MembershipGateway* membership, AccrualGateway* accrual,
                         SettlementGateway* settlement,
                         RedemptionOptions options,
                         prometheus::Registry& metrics, Clock clock)
    : store_(store),
      airports_(airports),
      membership_(membership),
      accrual_(accrual),
      options_(std::move(options)),
      clock_(std::move(clock)),
      partner_airlines_(settlement, options_.partner_ttl, clock_),
      transitions_(prometheus::BuildCounter()
                       .Name("mileagebank_redemption_transitions_total")
                       .Help("Redemptions reaching a state")
                       .Register(metrics)),
      recoveries_(prometheus::BuildCounter()
                      .Name("mileagebank_redemption_recovery_actions_total")
                      .Help("Redemptions settled by recovery after a step was "
                            "left unfinished")
                      .Register(metrics)
                      .Add({})) {}

absl::CivilDay Redemptions::Today() const { return validation::UtcDay(clock_()); }

void Redemptions::MaybeCrash(absl::string_view point) const {
  if (options_.crash_at == point) {
    log::Warning("crashing_for_test", {{"point", point}});
    std::_Exit(137);
  }
}

absl::Status Redemptions::CheckCarrier(absl::string_view carrier,
                                       absl::string_view field) {
  if (carrier == options_.host_carrier) return absl::OkStatus();
  return partner_airlines_.Check(carrier, field);
}

int32_t Redemptions::Capacity(const records::FlightSeats& seats,
                              v1::Cabin cabin) const {
  const int index = cabin - 1;
  return ShareOfCapacity(seats.capacity(index) >= 0 ? seats.capacity(index)
                                                    : options_.seat_defaults[index]);
}

int32_t Redemptions::ShareOfCapacity(int32_t capacity) const {
  const int32_t shards = options_.shard_count;
  return capacity / shards + (options_.shard_index < capacity % shards ? 1 : 0);
}

v1::AwardSeats Redemptions::SeatsView(int32_t flight_number, absl::CivilDay date,
                                      const records::FlightSeats& seats) const {
  v1::AwardSeats view;
  view.set_carrier(options_.host_carrier);
  view.set_flight_number(flight_number);
  *view.mutable_flight_date() = validation::ToProtoDate(date);
  for (v1::Cabin cabin : {v1::ECONOMY, v1::BUSINESS, v1::FIRST}) {
    v1::CabinSeats* cabin_seats = view.add_cabins();
    cabin_seats->set_cabin(cabin);
    cabin_seats->set_capacity(Capacity(seats, cabin));
    cabin_seats->set_taken(seats.taken(cabin - 1));
    cabin_seats->set_available(
        std::max(0, cabin_seats->capacity() - cabin_seats->taken()));
    cabin_seats->set_overridden(seats.capacity(cabin - 1) >= 0);
  }
  return view;
}

std::vector<Redemptions::SeatNeed> Redemptions::SeatNeeds(
    const v1::RedemptionRecord& redemption) const {
  std::vector<SeatNeed> needs;
  auto add = [&](const v1::Segment& segment, v1::Cabin cabin,
                 const std::string& field) {
    if (segment.carrier() != options_.host_carrier) return;  // Partner's seats.
    const absl::CivilDay date = Day(segment.flight_date());
    needs.push_back({segment.flight_number(), date, cabin,
                     redemption.passengers_size(), field,
                     absl::StrCat("seats:", segment.flight_number(), "/",
                                  validation::FormatDate(date))});
  };
  if (redemption.award_type() == v1::UPGRADE_AWARD) {
    add(redemption.upgrade().segment(), v1::BUSINESS, "upgrade.segment");
    return needs;
  }
  const auto& itinerary = redemption.itinerary();
  for (int i = 0; i < itinerary.outbound().segments_size(); ++i) {
    add(itinerary.outbound().segments(i), redemption.cabin(),
        absl::StrCat("standard.itinerary.outbound.segments[", i, "]"));
  }
  for (int i = 0; i < itinerary.inbound().segments_size(); ++i) {
    add(itinerary.inbound().segments(i), redemption.cabin(),
        absl::StrCat("standard.itinerary.inbound.segments[", i, "]"));
  }
  return needs;
}

absl::Status Redemptions::MoveSeats(store::WriteBatch& batch,
                                    const std::vector<SeatNeed>& needs,
                                    int sign) {
  // Needs on the same flight-date add up before the check.
  std::map<std::pair<int32_t, int32_t>, records::FlightSeats> touched;
  for (const SeatNeed& need : needs) {
    auto key = std::make_pair(need.flight_number,
                              static_cast<int32_t>(need.date - absl::CivilDay(1970, 1, 1)));
    auto it = touched.find(key);
    if (it == touched.end()) {
      MB_ASSIGN_OR_RETURN(records::FlightSeats seats,
                          store_.LatestSeats(need.flight_number, need.date));
      it = touched.emplace(key, std::move(seats)).first;
    }
    records::FlightSeats& seats = it->second;
    const int index = need.cabin - 1;
    const int32_t taken = seats.taken(index) + sign * need.count;
    if (sign > 0 && taken > Capacity(seats, need.cabin)) {
      return FailedPreconditionField(
          need.field,
          absl::StrCat("flight ", options_.host_carrier, need.flight_number, " on ",
                       validation::FormatDate(need.date), " has ",
                       std::max(0, Capacity(seats, need.cabin) - seats.taken(index)),
                       " award seats left in ", v1::Cabin_Name(need.cabin)));
    }
    seats.set_taken(index, std::max(0, taken));
  }
  for (const SeatNeed& need : needs) {
    auto key = std::make_pair(need.flight_number,
                              static_cast<int32_t>(need.date - absl::CivilDay(1970, 1, 1)));
    store_.PutSeats(batch, need.flight_number, need.date, touched[key]);
  }
  return absl::OkStatus();
}

absl::StatusOr<records::Stored> Redemptions::Load(absl::string_view redemption_id,
                                                  uint64_t* ticket) {
  MB_ASSIGN_OR_RETURN(std::optional<records::Stored> stored,
                      store_.LatestRedemption(redemption_id, ticket));
  // A redemption still being created does not exist yet for the outside.
  if (!stored || stored->step() == records::CREATING) {
    return absl::NotFoundError(
        absl::StrCat("redemption_id: no redemption ", redemption_id));
  }
  return *std::move(stored);
}

absl::StatusOr<v1::QuoteAwardResponse> Redemptions::QuoteAward(
    const v1::QuoteAwardRequest& request) {
  FieldErrors errors;
  absl::StatusOr<ItineraryCheck> check =
      CheckItinerary(request.itinerary(), "itinerary", *airports_, Today());
  if (!check.ok()) errors.Merge("", check.status());
  errors.Merge("", CheckCabin(request.cabin(), "cabin"));
  errors.Merge("", CheckPassengerCount(request.passengers(), "passengers"));
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_RETURN_IF_ERROR(CheckCarrier(check->carrier, "itinerary.outbound.segments[0].carrier"));
  Quote quote = PriceItinerary(*check, request.itinerary().journey_type(),
                               request.cabin(), options_.chart);
  v1::QuoteAwardResponse response;
  for (const v1::JourneyPrice& price : quote.prices) *response.add_prices() = price;
  response.set_miles_per_passenger(quote.miles_per_passenger);
  response.set_passengers(request.passengers());
  response.set_total_miles(quote.miles_per_passenger * request.passengers());
  if (check->carrier != options_.host_carrier) {
    response.set_partner_code(check->carrier);
  }
  bool available = true;
  for (const CheckedSegment& segment : check->segments) {
    if (segment.segment->carrier() != options_.host_carrier) continue;
    MB_ASSIGN_OR_RETURN(records::FlightSeats seats,
                        store_.Seats(segment.segment->flight_number(),
                                     segment.flight_date));
    v1::AwardSeats view =
        SeatsView(segment.segment->flight_number(), segment.flight_date, seats);
    available &= view.cabins(request.cabin() - 1).available() >= request.passengers();
    *response.add_seats() = std::move(view);
  }
  response.set_seats_available(available);
  return response;
}

absl::StatusOr<v1::QuoteUpgradeResponse> Redemptions::QuoteUpgrade(
    const v1::QuoteUpgradeRequest& request) {
  FieldErrors errors;
  errors.Merge("", CheckSegment(request.segment(), "segment", *airports_, Today()));
  if (request.segment().carrier() != options_.host_carrier) {
    errors.Add("segment.carrier", absl::StrCat("an upgrade is for an own flight: ",
                                               options_.host_carrier));
  }
  errors.Merge("", CheckPassengerCount(request.passengers(), "passengers"));
  MB_RETURN_IF_ERROR(errors.ToStatus());
  Quote quote = PriceUpgrade(SegmentMiles(request.segment(), *airports_),
                             options_.chart);
  v1::QuoteUpgradeResponse response;
  *response.mutable_business() = quote.prices[0];
  *response.mutable_economy() = quote.prices[1];
  response.set_miles_per_passenger(quote.miles_per_passenger);
  response.set_passengers(request.passengers());
  response.set_total_miles(quote.miles_per_passenger * request.passengers());
  const absl::CivilDay date = Day(request.segment().flight_date());
  MB_ASSIGN_OR_RETURN(records::FlightSeats seats,
                      store_.Seats(request.segment().flight_number(), date));
  *response.mutable_seats() =
      SeatsView(request.segment().flight_number(), date, seats);
  response.set_seats_available(response.seats().cabins(v1::BUSINESS - 1).available() >=
                               request.passengers());
  return response;
}

absl::StatusOr<v1::GetAwardSeatsResponse> Redemptions::GetAwardSeats(
    const v1::GetAwardSeatsRequest& request) {
  FieldErrors errors;
  if (request.flight_number() < 1 || request.flight_number() > 9999) {
    errors.Add("flight_number", "must be 1 to 9999");
  }
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay("flight_date", request.flight_date());
  if (!date.ok()) errors.Merge("", date.status());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  MB_ASSIGN_OR_RETURN(records::FlightSeats seats,
                      store_.Seats(request.flight_number(), *date));
  v1::GetAwardSeatsResponse response;
  *response.mutable_seats() = SeatsView(request.flight_number(), *date, seats);
  return response;
}

absl::StatusOr<v1::SetAwardSeatCapacityResponse> Redemptions::SetAwardSeatCapacity(
    const v1::SetAwardSeatCapacityRequest& request) {
  FieldErrors errors;
  if (request.flight_number() < 1 || request.flight_number() > 9999) {
    errors.Add("flight_number", "must be 1 to 9999");
  }
  absl::StatusOr<absl::CivilDay> date =
      validation::ToCivilDay("flight_date", request.flight_date());
  if (!date.ok()) {
    errors.Merge("", date.status());
  } else if (*date < Today()) {
    errors.Add("flight_date", "must be today or later");
  }
  errors.Merge("", CheckCabin(request.cabin(), "cabin"));
  switch (request.setting_case()) {
    case v1::SetAwardSeatCapacityRequest::kCapacity:
      if (request.capacity() < 0 || request.capacity() > 999) {
        errors.Add("capacity", "must be 0 to 999");
      }
      break;
    case v1::SetAwardSeatCapacityRequest::kResetToDefault:
      if (!request.reset_to_default()) {
        errors.Add("reset_to_default", "must be true when set");
      }
      break;
    case v1::SetAwardSeatCapacityRequest::SETTING_NOT_SET:
      errors.Add("setting", "give capacity or reset_to_default");
  }
  if (request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required: seats are set by staff");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());

  const std::string lock_key = absl::StrCat("seats:", request.flight_number(), "/",
                                            validation::FormatDate(*date));
  uint64_t ticket = 0;
  v1::SetAwardSeatCapacityResponse response;
  {
    store::KeyLocks::Guard guard = locks_.Lock(lock_key);
    MB_ASSIGN_OR_RETURN(records::FlightSeats seats,
                        store_.LatestSeats(request.flight_number(), *date));
    const int index = request.cabin() - 1;
    const int32_t before = Capacity(seats, request.cabin());
    const int32_t wanted = request.has_capacity() ? request.capacity() : -1;
    const int32_t effective =
        ShareOfCapacity(wanted >= 0 ? wanted : options_.seat_defaults[index]);
    if (effective < seats.taken(index)) {
      return FailedPreconditionField(
          request.has_capacity() ? "capacity" : "reset_to_default",
          absl::StrCat(seats.taken(index), " award seats are taken already"));
    }
    if (seats.capacity(index) != wanted) {
      seats.set_capacity(index, wanted);
      store::WriteBatch batch = store_.raw().NewBatch();
      store_.PutSeats(batch, request.flight_number(), *date, seats);
      v1::AwardSeatCapacityChanged event;
      *event.mutable_seats() = SeatsView(request.flight_number(), *date, seats);
      event.set_cabin(request.cabin());
      event.set_from_capacity(before);
      event.set_to_capacity(effective);
      *event.mutable_actor() = request.actor();
      batch.AppendEvent(absl::StrCat(options_.host_carrier, request.flight_number(),
                                     "/", validation::FormatDate(*date)),
                        event);
      ticket = store_.raw().Enqueue(batch);
    }
    *response.mutable_seats() = SeatsView(request.flight_number(), *date, seats);
  }
  store_.raw().Wait(ticket);
  return response;
}

absl::StatusOr<v1::CreateRedemptionResponse> Redemptions::CreateRedemption(
    const v1::CreateRedemptionRequest& request, absl::string_view session_member) {
  const absl::CivilDay today = Today();
  FieldErrors errors;
  errors.Merge("", validation::ValidateMemberNumber("member_number",
                                                   request.member_number()));
  v1::RedemptionRecord redemption;
  Quote quote;
  std::string carrier;
  switch (request.award_case()) {
    case v1::CreateRedemptionRequest::kStandard: {
      absl::StatusOr<ItineraryCheck> check = CheckItinerary(
          request.standard().itinerary(), "standard.itinerary", *airports_, today);
      errors.Merge("", CheckCabin(request.standard().cabin(), "standard.cabin"));
      if (!check.ok()) {
        errors.Merge("", check.status());
        break;
      }
      redemption.set_award_type(v1::STANDARD_AWARD);
      *redemption.mutable_itinerary() = request.standard().itinerary();
      redemption.set_cabin(request.standard().cabin());
      carrier = check->carrier;
      *redemption.mutable_first_flight_date() =
          validation::ToProtoDate(check->first_flight_date);
      if (request.standard().cabin() != v1::CABIN_UNSPECIFIED) {
        quote = PriceItinerary(*check, request.standard().itinerary().journey_type(),
                               request.standard().cabin(), options_.chart);
      }
      break;
    }
    case v1::CreateRedemptionRequest::kUpgrade: {
      const v1::Upgrade& upgrade = request.upgrade();
      errors.Merge("", CheckSegment(upgrade.segment(), "upgrade.segment",
                                    *airports_, today));
      if (upgrade.segment().carrier() != options_.host_carrier) {
        errors.Add("upgrade.segment.carrier",
                   absl::StrCat("an upgrade is for an own flight: ",
                                options_.host_carrier));
      }
      if (upgrade.tickets_size() != request.passengers_size()) {
        errors.Add("upgrade.tickets", "one ECONOMY ticket per passenger");
      }
      for (int i = 0; i < upgrade.tickets_size(); ++i) {
        if (!IsTicket(upgrade.tickets(i).ticket_number())) {
          errors.Add(absl::StrCat("upgrade.tickets[", i, "].ticket_number"),
                     "must be exactly 13 digits");
        }
        if (upgrade.tickets(i).coupon_number() < 1 ||
            upgrade.tickets(i).coupon_number() > 4) {
          errors.Add(absl::StrCat("upgrade.tickets[", i, "].coupon_number"),
                     "must be 1 to 4");
        }
      }
      redemption.set_award_type(v1::UPGRADE_AWARD);
      *redemption.mutable_upgrade() = upgrade;
      redemption.set_cabin(v1::BUSINESS);
      carrier = upgrade.segment().carrier();
      *redemption.mutable_first_flight_date() = upgrade.segment().flight_date();
      quote = PriceUpgrade(SegmentMiles(upgrade.segment(), *airports_), options_.chart);
      break;
    }
    case v1::CreateRedemptionRequest::AWARD_NOT_SET:
      errors.Add("award", "give standard or upgrade");
  }
  errors.Merge("", CheckPassengerCount(request.passengers_size(), "passengers"));
  std::set<std::string> seen;
  for (int i = 0; i < request.passengers_size(); ++i) {
    const v1::Passenger& passenger = request.passengers(i);
    const std::string field = absl::StrCat("passengers[", i, "]");
    std::string who;
    if (passenger.who_case() == v1::Passenger::kMember) {
      if (!passenger.member()) errors.Add(field + ".member", "must be true when set");
      who = "member";
    } else if (passenger.who_case() == v1::Passenger::kNomineeId &&
               !passenger.nominee_id().empty()) {
      who = "nominee:" + passenger.nominee_id();
    } else {
      errors.Add(field, "give member or nominee_id");
      continue;
    }
    if (!seen.insert(who).second) errors.Add(field, "travels only once");
  }
  const common::v1::Channel channel = request.actor().channel();
  if (channel != common::v1::WEB && channel != common::v1::CALL_CENTRE &&
      channel != common::v1::COUNTER && channel != common::v1::SALES_OFFICE) {
    errors.Add("actor.channel", "must be WEB, CALL_CENTRE, COUNTER or SALES_OFFICE");
  } else if (channel != common::v1::WEB && request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required for a staff channel");
  }
  const bool own_session =
      channel == common::v1::WEB && session_member == request.member_number();
  if (!own_session && request.member_password().empty()) {
    errors.Add("member_password",
               "required unless the member redeems in their own web session");
  }
  CheckRequestId(errors, request.request_id());
  MB_RETURN_IF_ERROR(errors.ToStatus());

  // The redemption's id follows from the member and request, so a repeat
  // finds it, and accrual's hold is keyed by it.
  const std::string id = absl::StrCat(
      "R", crypto::Digest(absl::StrCat(request.member_number(), "/",
                                       request.request_id()))
               .substr(0, 24));
  v1::CreateRedemptionRequest fingerprinted = request;
  fingerprinted.clear_member_password();
  fingerprinted.clear_actor();
  const std::string fingerprint = crypto::Digest(fingerprinted.SerializeAsString());
  {
    MB_ASSIGN_OR_RETURN(std::optional<records::Stored> earlier,
                        store_.LatestRedemption(id));
    if (earlier) {
      if (earlier->fingerprint() != fingerprint) {
        return AlreadyExistsError(
            absl::StrCat("request_id: already used for redemption ", id), id);
      }
      if (earlier->step() != records::CREATING) {
        store_.raw().WaitForQueued();
        v1::CreateRedemptionResponse response;
        *response.mutable_redemption() = earlier->redemption();
        return response;
      }
      // An earlier attempt stopped before its hold was confirmed: finish it.
      MB_ASSIGN_OR_RETURN(records::Stored finished, FinishCreate(id));
      v1::CreateRedemptionResponse response;
      *response.mutable_redemption() = finished.redemption();
      return response;
    }
  }

  // After the repeat above: a redemption already made is returned even
  // while settlement cannot be asked about its carrier.
  MB_RETURN_IF_ERROR(CheckCarrier(
      carrier, redemption.award_type() == v1::UPGRADE_AWARD
                   ? "upgrade.segment.carrier"
                   : "standard.itinerary.outbound.segments[0].carrier"));
  MB_ASSIGN_OR_RETURN(mv1::Member member, membership_->GetMember(request.member_number()));
  if (member.status() != mv1::ACTIVE) {
    return FailedPreconditionField(
        "member_number", absl::StrCat("member ", member.member_number(), " is ",
                                      mv1::MemberStatus_Name(member.status()),
                                      "; only ACTIVE members redeem"));
  }
  for (int i = 0; i < request.passengers_size(); ++i) {
    v1::Passenger passenger = request.passengers(i);
    if (passenger.who_case() == v1::Passenger::kMember) {
      passenger.set_family_name(member.profile().family_name());
      passenger.set_given_name(member.profile().given_name());
    } else {
      auto nominee = std::find_if(
          member.nominees().begin(), member.nominees().end(),
          [&](const mv1::Nominee& n) { return n.nominee_id() == passenger.nominee_id(); });
      if (nominee == member.nominees().end()) {
        return absl::NotFoundError(absl::StrCat(
            "passengers[", i, "].nominee_id: the member has no nominee ",
            passenger.nominee_id()));
      }
      passenger.set_family_name(nominee->family_name());
      passenger.set_given_name(nominee->given_name());
    }
    *redemption.add_passengers() = std::move(passenger);
  }
  if (!own_session) {
    MB_ASSIGN_OR_RETURN(mv1::VerifyPasswordResponse verified,
                        membership_->VerifyPassword(request.member_number(),
                                                    request.member_password()));
    if (verified.has_locked_until()) {
      return FailedPreconditionField(
          "member_password",
          absl::StrCat("verification is locked until ",
                       TimeUtil::ToString(verified.locked_until())));
    }
    if (!verified.verified()) {
      return absl::UnauthenticatedError("member_password: wrong password");
    }
  }

  redemption.set_redemption_id(id);
  redemption.set_member_number(request.member_number());
  redemption.set_state(v1::HELD);
  if (carrier != options_.host_carrier) redemption.set_partner_code(carrier);
  for (const v1::JourneyPrice& price : quote.prices) *redemption.add_prices() = price;
  redemption.set_miles_per_passenger(quote.miles_per_passenger);
  redemption.set_total_miles(quote.miles_per_passenger * request.passengers_size());
  redemption.set_request_id(request.request_id());
  *redemption.mutable_created_by() = request.actor();
  *redemption.mutable_created_at() = ToTimestamp(clock_());

  // First write: the intent, with the seats taken.
  std::vector<SeatNeed> needs = SeatNeeds(redemption);
  uint64_t ticket = 0;
  {
    std::vector<std::string> keys = {id};
    for (const SeatNeed& need : needs) keys.push_back(need.lock_key);
    store::KeyLocks::Guard guard = locks_.Lock(keys);
    MB_ASSIGN_OR_RETURN(std::optional<records::Stored> raced,
                        store_.LatestRedemption(id));
    if (raced) return absl::AbortedError("request_id: a concurrent request is "
                                         "creating this redemption; retry");
    store::WriteBatch batch = store_.raw().NewBatch();
    MB_RETURN_IF_ERROR(MoveSeats(batch, needs, +1));
    records::Stored stored;
    *stored.mutable_redemption() = redemption;
    stored.set_step(records::CREATING);
    *stored.mutable_step_since() = ToTimestamp(clock_());
    stored.set_fingerprint(fingerprint);
    store_.PutRedemption(batch, stored, nullptr);
    store_.PutRequest(batch, redemption.member_number(), request.request_id(), id);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  MaybeCrash("after_intent");
  MB_ASSIGN_OR_RETURN(records::Stored finished, FinishCreate(id));
  v1::CreateRedemptionResponse response;
  *response.mutable_redemption() = finished.redemption();
  return response;
}

absl::StatusOr<records::Stored> Redemptions::FinishCreate(const std::string& id) {
  MB_ASSIGN_OR_RETURN(std::optional<records::Stored> intent,
                      store_.LatestRedemption(id));
  if (!intent) return absl::NotFoundError(absl::StrCat("redemption_id: no redemption ", id));
  if (intent->step() != records::CREATING) return *intent;
  const v1::RedemptionRecord& pending = intent->redemption();
  absl::StatusOr<accrual::v1::Hold> hold =
      accrual_->CreateHold(pending.member_number(), pending.total_miles(), id,
                           options_.hold_ttl, id);
  if (!hold.ok() && hold.status().code() != absl::StatusCode::kFailedPrecondition &&
      hold.status().code() != absl::StatusCode::kNotFound) {
    // Accrual did not answer: the step stays open and recovery finishes it.
    return absl::UnavailableError(absl::StrCat(
        "accrual did not confirm the hold (", hold.status().message(),
        "); the redemption will be settled, ask again with the same request_id"));
  }
  MaybeCrash("after_hold");
  std::vector<SeatNeed> needs = SeatNeeds(pending);
  uint64_t ticket = 0;
  records::Stored outcome = *intent;
  {
    std::vector<std::string> keys = {id};
    for (const SeatNeed& need : needs) keys.push_back(need.lock_key);
    store::KeyLocks::Guard guard = locks_.Lock(keys);
    MB_ASSIGN_OR_RETURN(std::optional<records::Stored> current,
                        store_.LatestRedemption(id));
    if (!current || current->step() != records::CREATING) return *current;
    store::WriteBatch batch = store_.raw().NewBatch();
    if (!hold.ok()) {
      // Too few miles (or the member is gone): nothing is redeemed; the
      // seats go back and the request may be made again.
      MB_RETURN_IF_ERROR(MoveSeats(batch, needs, -1));
      store_.DeleteRedemption(batch, *current);
      store_.DeleteRequest(batch, pending.member_number(), pending.request_id());
      store_.raw().Wait(store_.raw().Enqueue(batch));
      return hold.status();
    }
    outcome = *current;
    v1::RedemptionRecord* redemption = outcome.mutable_redemption();
    redemption->set_hold_id(hold->hold_id());
    *redemption->mutable_hold_expires_at() = hold->expires_at();
    outcome.set_step(records::STEP_NONE);
    outcome.clear_step_since();
    store_.PutRedemption(batch, outcome, &*current);
    v1::RedemptionHeld event;
    *event.mutable_redemption() = *redemption;
    batch.AppendEvent(redemption->member_number(), event);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  transitions_.Add({{"state", "HELD"}}).Increment();
  log::Info("redemption_held", {{"redemption_id", id},
                                {"member_number", outcome.redemption().member_number()},
                                {"miles", outcome.redemption().total_miles()}});
  return outcome;
}

absl::StatusOr<v1::IssueRedemptionResponse> Redemptions::IssueRedemption(
    const v1::IssueRedemptionRequest& request) {
  MB_RETURN_IF_ERROR(CheckId(request.redemption_id()));
  // A member issuing on the web holds no ticket stock: the service's is
  // used, and a member never picks numbers (which could take staff's).
  const bool from_stock = request.actor().channel() == common::v1::WEB;
  FieldErrors errors;
  if (from_stock && request.award_ticket_numbers_size() > 0) {
    errors.Add("award_ticket_numbers",
               "must be empty when the WEB channel issues: its numbers come "
               "from the award ticket stock");
  }
  for (int i = 0; i < request.award_ticket_numbers_size(); ++i) {
    if (!IsTicket(request.award_ticket_numbers(i))) {
      errors.Add(absl::StrCat("award_ticket_numbers[", i, "]"),
                 "must be exactly 13 digits");
    }
  }
  if (!from_stock && request.actor().operator_id().empty()) {
    errors.Add("actor.operator_id", "required unless the WEB channel issues");
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const std::string& id = request.redemption_id();
  bool hold_ran_out = false;
  {
    // One call for both keys: they may share a stripe (key_locks.h).
    store::KeyLocks::Guard guard =
        from_stock ? locks_.Lock({absl::string_view(id), kTicketStockLock})
                   : locks_.Lock(id);
    MB_ASSIGN_OR_RETURN(records::Stored stored, Load(id));
    const v1::RedemptionRecord& redemption = stored.redemption();
    // The stock's numbers are whatever the first call took.
    const bool same_tickets =
        from_stock ||
        std::equal(redemption.award_ticket_numbers().begin(),
                   redemption.award_ticket_numbers().end(),
                   request.award_ticket_numbers().begin(),
                   request.award_ticket_numbers().end());
    if (redemption.state() == v1::ISSUED ||
        (stored.step() == records::ISSUING)) {
      if (!same_tickets) return WrongState("issue again with other tickets", redemption);
    } else if (redemption.state() != v1::HELD || stored.step() != records::STEP_NONE) {
      return WrongState("issue", redemption);
    } else {
      if (!from_stock &&
          request.award_ticket_numbers_size() != redemption.passengers_size()) {
        return InvalidField("award_ticket_numbers", "one ticket per passenger");
      }
      hold_ran_out = clock_() >= FromTimestamp(redemption.hold_expires_at());
    }
    if (!hold_ran_out && redemption.state() == v1::HELD &&
        stored.step() == records::STEP_NONE) {
      records::Stored next = stored;
      v1::RedemptionRecord* changed = next.mutable_redemption();
      store::WriteBatch batch = store_.raw().NewBatch();
      if (from_stock) {
        MB_ASSIGN_OR_RETURN(std::vector<std::string> taken,
                            TakeTickets(batch, redemption.passengers_size()));
        for (std::string& number : taken) {
          changed->add_award_ticket_numbers(std::move(number));
        }
      } else {
        for (const std::string& ticket_number : request.award_ticket_numbers()) {
          MB_ASSIGN_OR_RETURN(std::optional<std::string> used,
                              store_.LatestTicket(ticket_number));
          if (used && *used != id) {
            return AlreadyExistsError(
                absl::StrCat("award_ticket_numbers: ", ticket_number,
                             " is recorded on redemption ", *used),
                *used);
          }
        }
        *changed->mutable_award_ticket_numbers() = request.award_ticket_numbers();
      }
      next.set_step(records::ISSUING);
      *changed->mutable_issued_by() = request.actor();
      OpenStep(std::move(next), stored, &batch);
    }
  }
  if (hold_ran_out) {
    MB_RETURN_IF_ERROR(Expire(id).status());
    return FailedPreconditionField("redemption_id", "its hold has expired");
  }
  MB_ASSIGN_OR_RETURN(records::Stored issued, FinishIssue(id));
  if (issued.redemption().state() != v1::ISSUED) {
    return FailedPreconditionField(
        "redemption_id", absl::StrCat("its hold is gone; the redemption is ",
                                      v1::RedemptionState_Name(issued.redemption().state())));
  }
  v1::IssueRedemptionResponse response;
  *response.mutable_redemption() = issued.redemption();
  return response;
}

void Redemptions::OpenStep(records::Stored next, const records::Stored& before,
                           store::WriteBatch* batch) {
  *next.mutable_step_since() = ToTimestamp(clock_());
  store::WriteBatch own = store_.raw().NewBatch();
  if (batch == nullptr) batch = &own;
  store_.PutRedemption(*batch, next, &before);
  // Durable before accrual is called: recovery must find the step open.
  store_.raw().Wait(store_.raw().Enqueue(*batch));
}

absl::StatusOr<std::vector<std::string>> Redemptions::TakeTickets(
    store::WriteBatch& batch, int count) {
  const std::string& prefix = options_.award_ticket_prefix;
  MB_ASSIGN_OR_RETURN(std::optional<int64_t> next,
                      store_.LatestStockSerial(prefix));
  // Shard k takes the serials first + k, first + k + shards, ...: shards
  // never take the same number and need not ask each other. A serial kept
  // from before the block was moved is brought into it, on this shard's
  // line.
  const int64_t shards = options_.shard_count;
  const int64_t base = options_.award_ticket_first_serial + options_.shard_index;
  int64_t serial = std::max(next.value_or(base), base);
  serial += ((base - serial) % shards + shards) % shards;
  std::vector<std::string> numbers;
  while (static_cast<int>(numbers.size()) < count) {
    if (serial > options_.award_ticket_last_serial) {
      return FailedPreconditionField(
          "award_ticket_numbers",
          absl::StrCat("the award ticket stock ", prefix, " (serials ",
                       options_.award_ticket_first_serial, " to ",
                       options_.award_ticket_last_serial,
                       ") is used up; configure another block or prefix"));
    }
    std::string number =
        absl::StrCat(prefix, absl::Dec(serial, absl::kZeroPad10));
    serial += options_.shard_count;
    // Staff may have recorded a number of this stock by hand: skip it, so
    // that no number is ever recorded on two redemptions.
    MB_ASSIGN_OR_RETURN(std::optional<std::string> used,
                        store_.LatestTicket(number));
    if (!used) numbers.push_back(std::move(number));
  }
  store_.PutStockSerial(batch, prefix, serial);
  return numbers;
}

absl::StatusOr<records::Stored> Redemptions::FinishIssue(const std::string& id) {
  MB_ASSIGN_OR_RETURN(records::Stored intent, Load(id));
  if (intent.step() != records::ISSUING) return intent;
  absl::StatusOr<accrual::v1::Hold> hold =
      accrual_->CaptureHold(intent.redemption().hold_id());
  if (!hold.ok()) {
    if (hold.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Expire(id);  // The hold ran out or was released: nothing to issue.
    }
    return absl::UnavailableError(absl::StrCat(
        "accrual did not confirm the capture (", hold.status().message(),
        "); the redemption will be settled"));
  }
  MaybeCrash("after_capture");
  uint64_t ticket = 0;
  records::Stored outcome;
  {
    store::KeyLocks::Guard guard = locks_.Lock(id);
    MB_ASSIGN_OR_RETURN(records::Stored current, Load(id));
    if (current.step() != records::ISSUING) return current;
    outcome = current;
    v1::RedemptionRecord* redemption = outcome.mutable_redemption();
    redemption->set_state(v1::ISSUED);
    *redemption->mutable_issued_at() = ToTimestamp(clock_());
    outcome.set_step(records::STEP_NONE);
    outcome.clear_step_since();
    store::WriteBatch batch = store_.raw().NewBatch();
    store_.PutRedemption(batch, outcome, &current);
    v1::RedemptionIssued event;
    *event.mutable_redemption() = *redemption;
    batch.AppendEvent(redemption->member_number(), event);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  transitions_.Add({{"state", "ISSUED"}}).Increment();
  log::Info("redemption_issued", {{"redemption_id", id}});
  return outcome;
}

absl::StatusOr<v1::CancelRedemptionResponse> Redemptions::CancelRedemption(
    const v1::CancelRedemptionRequest& request) {
  MB_RETURN_IF_ERROR(CheckId(request.redemption_id()));
  FieldErrors errors;
  CheckReason(errors, request.reason());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const std::string& id = request.redemption_id();
  {
    store::KeyLocks::Guard guard = locks_.Lock(id);
    MB_ASSIGN_OR_RETURN(records::Stored stored, Load(id));
    const v1::RedemptionRecord& redemption = stored.redemption();
    if (redemption.state() == v1::CANCELLED ||
        (stored.step() == records::CANCELLING && stored.step_reason() != "EXPIRED")) {
      // Already cancelled, or being cancelled: finish below.
    } else if (redemption.state() != v1::HELD || stored.step() != records::STEP_NONE) {
      return WrongState("cancel", redemption);
    } else {
      records::Stored next = stored;
      next.set_step(records::CANCELLING);
      next.set_step_reason(request.reason());
      *next.mutable_redemption()->mutable_cancelled_by() = request.actor();
      OpenStep(std::move(next), stored);
    }
  }
  MB_ASSIGN_OR_RETURN(records::Stored cancelled, FinishRelease(id));
  v1::CancelRedemptionResponse response;
  *response.mutable_redemption() = cancelled.redemption();
  return response;
}

absl::StatusOr<records::Stored> Redemptions::Expire(const std::string& id) {
  {
    store::KeyLocks::Guard guard = locks_.Lock(id);
    MB_ASSIGN_OR_RETURN(records::Stored stored, Load(id));
    const bool open_hold = stored.redemption().state() == v1::HELD &&
                           (stored.step() == records::STEP_NONE ||
                            stored.step() == records::ISSUING);
    if (!open_hold) return stored;
    records::Stored next = stored;
    next.set_step(records::CANCELLING);
    next.set_step_reason("EXPIRED");
    OpenStep(std::move(next), stored);
  }
  return FinishRelease(id);
}

absl::StatusOr<records::Stored> Redemptions::FinishRelease(const std::string& id) {
  MB_ASSIGN_OR_RETURN(records::Stored intent, Load(id));
  if (intent.step() != records::CANCELLING) return intent;
  const bool expiring = intent.step_reason() == "EXPIRED";
  absl::StatusOr<accrual::v1::Hold> hold = accrual_->ReleaseHold(
      intent.redemption().hold_id(), expiring ? "EXPIRED" : intent.step_reason());
  if (!hold.ok() && hold.status().code() != absl::StatusCode::kNotFound) {
    return absl::UnavailableError(absl::StrCat(
        "accrual did not confirm the release (", hold.status().message(),
        "); the redemption will be settled"));
  }
  MaybeCrash("after_release");
  uint64_t ticket = 0;
  records::Stored outcome;
  {
    std::vector<SeatNeed> needs = SeatNeeds(intent.redemption());
    std::vector<std::string> keys = {id};
    for (const SeatNeed& need : needs) keys.push_back(need.lock_key);
    store::KeyLocks::Guard guard = locks_.Lock(keys);
    MB_ASSIGN_OR_RETURN(records::Stored current, Load(id));
    if (current.step() != records::CANCELLING) return current;
    outcome = current;
    v1::RedemptionRecord* redemption = outcome.mutable_redemption();
    store::WriteBatch batch = store_.raw().NewBatch();
    MB_RETURN_IF_ERROR(MoveSeats(batch, needs, -1));
    if (expiring) {
      redemption->set_state(v1::EXPIRED);
      *redemption->mutable_expired_at() = ToTimestamp(clock_());
      v1::RedemptionExpired event;
      *event.mutable_redemption() = *redemption;
      batch.AppendEvent(redemption->member_number(), event);
    } else {
      redemption->set_state(v1::CANCELLED);
      *redemption->mutable_cancelled_at() = ToTimestamp(clock_());
      redemption->set_cancel_reason(current.step_reason());
      v1::RedemptionCancelled event;
      *event.mutable_redemption() = *redemption;
      batch.AppendEvent(redemption->member_number(), event);
    }
    outcome.set_step(records::STEP_NONE);
    outcome.clear_step_since();
    outcome.clear_step_reason();
    store_.PutRedemption(batch, outcome, &current);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  const std::string state = v1::RedemptionState_Name(outcome.redemption().state());
  transitions_.Add({{"state", state}}).Increment();
  log::Info("redemption_released", {{"redemption_id", id}, {"state", state}});
  return outcome;
}

absl::StatusOr<v1::RefundRedemptionResponse> Redemptions::RefundRedemption(
    const v1::RefundRedemptionRequest& request) {
  MB_RETURN_IF_ERROR(CheckId(request.redemption_id()));
  FieldErrors errors;
  CheckReason(errors, request.reason());
  MB_RETURN_IF_ERROR(errors.ToStatus());
  const std::string& id = request.redemption_id();
  {
    store::KeyLocks::Guard guard = locks_.Lock(id);
    MB_ASSIGN_OR_RETURN(records::Stored stored, Load(id));
    const v1::RedemptionRecord& redemption = stored.redemption();
    if (redemption.state() == v1::REFUNDED || stored.step() == records::REFUNDING) {
      // Done, or being done: finish below.
    } else if (redemption.state() != v1::ISSUED || stored.step() != records::STEP_NONE) {
      return WrongState("refund", redemption);
    } else if (Day(redemption.first_flight_date()) <= Today()) {
      return FailedPreconditionField(
          "redemption_id", "an award is refunded only before its first flight date");
    } else {
      records::Stored next = stored;
      next.set_step(records::REFUNDING);
      next.set_step_reason(request.reason());
      *next.mutable_redemption()->mutable_refunded_by() = request.actor();
      OpenStep(std::move(next), stored);
    }
  }
  MB_ASSIGN_OR_RETURN(records::Stored refunded, FinishRefund(id));
  v1::RefundRedemptionResponse response;
  *response.mutable_redemption() = refunded.redemption();
  return response;
}

absl::StatusOr<records::Stored> Redemptions::FinishRefund(const std::string& id) {
  MB_ASSIGN_OR_RETURN(records::Stored intent, Load(id));
  if (intent.step() != records::REFUNDING) return intent;
  const int64_t fee =
      std::min(options_.redeposit_fee_miles, intent.redemption().total_miles());
  absl::StatusOr<accrual::v1::Hold> hold =
      accrual_->RedepositHold(intent.redemption().hold_id(), fee);
  if (!hold.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "accrual did not confirm the redeposit (", hold.status().message(),
        "); the redemption will be settled"));
  }
  MaybeCrash("after_redeposit");
  uint64_t ticket = 0;
  records::Stored outcome;
  {
    std::vector<SeatNeed> needs = SeatNeeds(intent.redemption());
    std::vector<std::string> keys = {id};
    for (const SeatNeed& need : needs) keys.push_back(need.lock_key);
    store::KeyLocks::Guard guard = locks_.Lock(keys);
    MB_ASSIGN_OR_RETURN(records::Stored current, Load(id));
    if (current.step() != records::REFUNDING) return current;
    outcome = current;
    v1::RedemptionRecord* redemption = outcome.mutable_redemption();
    redemption->set_state(v1::REFUNDED);
    *redemption->mutable_refunded_at() = ToTimestamp(clock_());
    redemption->set_refund_reason(current.step_reason());
    redemption->set_redeposit_fee_miles(fee);
    outcome.set_step(records::STEP_NONE);
    outcome.clear_step_since();
    outcome.clear_step_reason();
    store::WriteBatch batch = store_.raw().NewBatch();
    MB_RETURN_IF_ERROR(MoveSeats(batch, needs, -1));
    store_.PutRedemption(batch, outcome, &current);
    v1::RedemptionRefunded event;
    *event.mutable_redemption() = *redemption;
    batch.AppendEvent(redemption->member_number(), event);
    ticket = store_.raw().Enqueue(batch);
  }
  store_.raw().Wait(ticket);
  transitions_.Add({{"state", "REFUNDED"}}).Increment();
  log::Info("redemption_refunded", {{"redemption_id", id}, {"fee", fee}});
  return outcome;
}

absl::StatusOr<v1::GetRedemptionResponse> Redemptions::GetRedemption(
    const v1::GetRedemptionRequest& request) {
  MB_RETURN_IF_ERROR(CheckId(request.redemption_id()));
  uint64_t ticket = 0;
  MB_ASSIGN_OR_RETURN(records::Stored stored, Load(request.redemption_id(), &ticket));
  store_.raw().Wait(ticket);
  v1::GetRedemptionResponse response;
  *response.mutable_redemption() = stored.redemption();
  return response;
}

absl::StatusOr<v1::ListRedemptionsResponse> Redemptions::ListRedemptions(
    const v1::ListRedemptionsRequest& request) {
  FieldErrors errors;
  errors.Merge("", validation::ValidateMemberNumber("member_number",
                                                   request.member_number()));
  const int page_size =
      request.page().page_size() == 0 ? kDefaultPage : request.page().page_size();
  if (page_size < 0 || page_size > kMaxPage) {
    errors.Add("page.page_size", "must be 0 to 1,000");
  }
  int64_t before_micros = 0;
  std::string before_id;
  if (!request.page().page_token().empty()) {
    std::vector<std::string> parts =
        absl::StrSplit(request.page().page_token(), absl::MaxSplits(':', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &before_micros)) {
      errors.Add("page.page_token", "is not a token this service gave");
    } else {
      before_id = parts[1];
    }
  }
  MB_RETURN_IF_ERROR(errors.ToStatus());
  std::set<int> states(request.states().begin(), request.states().end());
  v1::ListRedemptionsResponse response;
  // Walks the member's index newest first, a page's worth at a time.
  while (response.redemptions_size() < page_size) {
    MB_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                        store_.MemberRedemptions(request.member_number(),
                                                 before_micros, before_id, 200));
    if (ids.empty()) break;
    for (const std::string& id : ids) {
      MB_ASSIGN_OR_RETURN(std::optional<records::Stored> stored,
                          store_.Redemption(id));
      if (!stored) continue;
      const v1::RedemptionRecord& redemption = stored->redemption();
      before_micros = TimeUtil::TimestampToMicroseconds(redemption.created_at());
      before_id = id;
      if (stored->step() == records::CREATING) continue;
      if (!states.empty() && states.count(redemption.state()) == 0) continue;
      *response.add_redemptions() = redemption;
      if (response.redemptions_size() == page_size) {
        response.mutable_page()->set_next_page_token(
            absl::StrCat(before_micros, ":", before_id));
        break;
      }
    }
  }
  return response;
}

absl::StatusOr<records::Stored> Redemptions::Settle(const records::Stored& stored) {
  const std::string& id = stored.redemption().redemption_id();
  switch (stored.step()) {
    case records::CREATING:
      return FinishCreate(id);
    case records::ISSUING:
      return FinishIssue(id);
    case records::CANCELLING:
      return FinishRelease(id);
    case records::REFUNDING:
      return FinishRefund(id);
    default:
      return stored;
  }
}

absl::StatusOr<int> Redemptions::Recover(bool everything) {
  const absl::Time now = clock_();
  int settled = 0;
  MB_ASSIGN_OR_RETURN(std::vector<std::string> open, store_.OpenSteps());
  for (const std::string& id : open) {
    MB_ASSIGN_OR_RETURN(std::optional<records::Stored> stored,
                        store_.LatestRedemption(id));
    if (!stored || stored->step() == records::STEP_NONE) continue;
    if (!everything && now - FromTimestamp(stored->step_since()) < options_.recovery_grace) {
      continue;  // A request may still be finishing it.
    }
    absl::StatusOr<records::Stored> outcome = Settle(*stored);
    if (outcome.ok() || outcome.status().code() != absl::StatusCode::kUnavailable) {
      ++settled;
      recoveries_.Increment();
      log::Warning("redemption_recovered",
                   {{"redemption_id", id},
                    {"step", records::Step_Name(stored->step())},
                    {"outcome", outcome.ok() ? v1::RedemptionState_Name(
                                                   outcome->redemption().state())
                                             : outcome.status().ToString()}});
    }
  }
  MB_ASSIGN_OR_RETURN(std::vector<std::string> expired, store_.HoldsExpiredBy(now));
  for (const std::string& id : expired) {
    absl::StatusOr<records::Stored> outcome = Expire(id);
    if (outcome.ok() && outcome->redemption().state() == v1::EXPIRED) ++settled;
  }
  return settled;
}

}  // namespace mileagebank::redemption
