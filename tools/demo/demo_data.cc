#include "tools/demo/demo_data.h"

#include <algorithm>
#include <iterator>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/validation/dates.h"

namespace mileagebank::demo {
namespace {

struct Name {
  const char* latin;
  const char* chinese;
};

constexpr Name kFamilyNames[] = {
    {"Wang", "王"}, {"Li", "李"},   {"Zhang", "张"}, {"Liu", "刘"},
    {"Chen", "陈"}, {"Yang", "杨"}, {"Huang", "黄"}, {"Zhao", "赵"},
    {"Wu", "吴"},   {"Zhou", "周"}, {"Xu", "徐"},    {"Sun", "孙"},
    {"Ma", "马"},
};
constexpr Name kGivenNames[] = {
    {"Fang", "芳"},      {"Wei", "伟"},        {"Na", "娜"},
    {"Min", "敏"},       {"Jing", "静"},       {"Lei", "磊"},
    {"Qiang", "强"},     {"Yan", "艳"},        {"Jie", "杰"},
    {"Tao", "涛"},       {"Xin", "欣"},        {"Hui", "慧"},
    {"Jun", "军"},       {"Ling", "玲"},       {"Hao", "浩"},
    {"Yun", "云"},       {"Xiaoming", "小明"}, {"Jianguo", "建国"},
    {"Meiling", "美玲"},
};

struct Route {
  const char* from;
  const char* to;
};

// Routes of a Chinese carrier; the first ones domestic, flown most.
constexpr Route kRoutes[] = {
    {"PEK", "SHA"}, {"PEK", "PVG"}, {"PEK", "CAN"}, {"PEK", "SZX"},
    {"PEK", "CTU"}, {"PVG", "CAN"}, {"SHA", "SZX"}, {"CAN", "CTU"},
    {"PEK", "XIY"}, {"PVG", "KMG"}, {"CTU", "HGH"}, {"PEK", "HGH"},
    {"PVG", "NRT"}, {"PEK", "ICN"}, {"CAN", "SIN"}, {"PVG", "HKG"},
    {"PEK", "LHR"}, {"PVG", "LAX"}, {"PEK", "JFK"}, {"CAN", "SYD"},
};
constexpr int kDomesticRoutes = 12;

// Booking classes of the default table that earn, economy most often.
constexpr const char* kClasses[] = {"Y", "Y", "Y", "B", "B", "M", "M",
                                    "H", "K", "L", "Q", "W", "J", "C"};

// Ticket numbers: 13 digits, each member's own range.
constexpr int64_t kFlightTickets = 7810000000000;
constexpr int64_t kClaimTickets = 7820000000000;
constexpr int64_t kAwardTickets = 7848880000000;
constexpr int kTicketsPerMember = 100;

template <typename T, size_t N>
const T& Pick(const T (&items)[N], std::mt19937_64& rng, size_t limit = N) {
  return items[std::uniform_int_distribution<size_t>(
      0, std::min(limit, N) - 1)(rng)];
}

accrual::v1::PostOwnFlightRequest OwnFlight(absl::string_view member_number,
                                            int64_t ticket, Route route,
                                            const char* booking_class,
                                            int flight_number,
                                            absl::CivilDay date) {
  accrual::v1::PostOwnFlightRequest request;
  request.set_member_number(std::string(member_number));
  request.mutable_flight_identity()->set_ticket_number(absl::StrCat(ticket));
  request.mutable_flight_identity()->set_coupon_number(1);
  accrual::v1::Flight& flight = *request.mutable_flight();
  flight.set_carrier("FM");
  flight.set_flight_number(flight_number);
  *flight.mutable_flight_date() = validation::ToProtoDate(date);
  flight.set_origin(route.from);
  flight.set_destination(route.to);
  flight.set_booking_class(booking_class);
  return request;
}

std::mt19937_64 RngFor(int index, uint64_t seed) {
  std::seed_seq sequence{static_cast<uint64_t>(index), seed};
  return std::mt19937_64(sequence);
}

}  // namespace

std::vector<gateway::v1::ApiKey> DemoKeys(int counters,
                                          absl::string_view partner) {
  std::vector<gateway::v1::ApiKey> keys;
  for (const Office& office : kOffices) {
    gateway::v1::ApiKey supervisor;
    supervisor.set_label(absl::StrCat(office.city, " office supervisor"));
    supervisor.add_roles(gateway::v1::OFFICE_SUPERVISOR);
    supervisor.set_office_code(office.code);
    keys.push_back(supervisor);
    for (int counter = 1; counter <= counters; ++counter) {
      gateway::v1::ApiKey agent;
      agent.set_label(absl::StrCat(office.city, " counter ", counter));
      agent.add_roles(gateway::v1::AGENT);
      agent.set_office_code(office.code);
      keys.push_back(agent);
    }
  }
  gateway::v1::ApiKey finance;
  finance.set_label("Head office finance");
  finance.add_roles(gateway::v1::FINANCE);
  keys.push_back(finance);
  gateway::v1::ApiKey partner_key;
  partner_key.set_label(absl::StrCat(partner, " partner files"));
  partner_key.add_roles(gateway::v1::PARTNER);
  partner_key.set_partner_code(std::string(partner));
  keys.push_back(partner_key);
  return keys;
}

membership::v1::EnrolRequest DemoEnrolment(int index,
                                           absl::string_view password) {
  const Name& family = kFamilyNames[index % std::size(kFamilyNames)];
  const Name& given =
      kGivenNames[(index / std::size(kFamilyNames)) % std::size(kGivenNames)];
  membership::v1::EnrolRequest request;
  request.set_request_id(absl::StrCat("demo-m", index));
  request.set_password(std::string(password));
  membership::v1::Profile& profile = *request.mutable_profile();
  profile.set_family_name(family.latin);
  profile.set_given_name(given.latin);
  profile.set_chinese_name(absl::StrCat(family.chinese, given.chinese));
  profile.set_gender(index % 2 == 0 ? membership::v1::FEMALE
                                    : membership::v1::MALE);
  // Born between 1950 and 2004.
  *profile.mutable_date_of_birth() =
      validation::ToProtoDate(absl::CivilDay(1950, 1, 1) +
                              (static_cast<int64_t>(index) * 7919) % 20000);
  profile.set_nationality("CN");
  membership::v1::IdentityDocument& document =
      *profile.mutable_identity_document();
  document.set_type(membership::v1::PASSPORT);
  document.set_number(absl::StrFormat("G1%07d", index));
  document.set_issuing_country("CN");
  profile.set_mobile_phone(absl::StrFormat("+86137%08d", index));
  if (!password.empty()) {
    profile.set_email(absl::StrCat(absl::AsciiStrToLower(given.latin), ".",
                                   absl::AsciiStrToLower(family.latin), index,
                                   "@example.com"));
  }
  profile.set_preferred_language(index % 3 == 0 ? "en" : "zh-CN");
  return request;
}

std::vector<accrual::v1::PostOwnFlightRequest> DemoFlights(
    absl::string_view member_number, int index, int password_members,
    absl::CivilDay today, uint64_t seed) {
  std::mt19937_64 rng = RngFor(index, seed);
  const int64_t first_ticket =
      kFlightTickets + static_cast<int64_t>(index) * kTicketsPerMember;
  std::vector<accrual::v1::PostOwnFlightRequest> flights;
  auto add = [&](Route route, const char* booking_class, absl::CivilDay date) {
    flights.push_back(OwnFlight(
        member_number, first_ticket + static_cast<int64_t>(flights.size()),
        route, booking_class, std::uniform_int_distribution<int>(101, 999)(rng),
        date));
  };
  // Qualifying flights count in their calendar year: this year's.
  const absl::CivilDay new_year(today.year(), 1, 1);
  auto recent = [&](int n) { return std::max(today - 7 * (n + 1), new_year); };
  if (index == 0) {
    for (int n = 0; n < 4; ++n) {
      add(n % 2 == 0 ? Route{"PEK", "JFK"} : Route{"JFK", "PEK"}, "F",
          recent(n));
    }
  } else if (index == 1) {
    for (int n = 0; n < 4; ++n) {
      add(n % 2 == 0 ? Route{"PEK", "LHR"} : Route{"LHR", "PEK"}, "J",
          recent(n));
    }
  } else if (index < password_members) {
    add(Route{"PVG", "LAX"}, "F", recent(index % 8));
  }
  const int count = std::uniform_int_distribution<int>(0, 6)(rng);
  for (int n = 0; n < count; ++n) {
    Route route = std::uniform_int_distribution<int>(0, 9)(rng) < 8
                      ? Pick(kRoutes, rng, kDomesticRoutes)
                      : Pick(kRoutes, rng);
    if (std::uniform_int_distribution<int>(0, 1)(rng) == 1) {
      std::swap(route.from, route.to);
    }
    add(route, Pick(kClasses, rng),
        today - std::uniform_int_distribution<int>(1, 365)(rng));
  }
  return flights;
}

bool HasRetroClaim(int index) { return index % 25 == 3; }

ClaimOutcome RetroClaimOutcome(int index) {
  switch ((index / 25) % 3) {
    case 0:
      return ClaimOutcome::kApproved;
    case 1:
      return ClaimOutcome::kRejected;
    default:
      return ClaimOutcome::kPending;
  }
}

accrual::v1::SubmitRetroClaimRequest DemoRetroClaim(
    absl::string_view member_number, int index, absl::CivilDay today) {
  std::mt19937_64 rng = RngFor(index, /*seed=*/0);
  accrual::v1::SubmitRetroClaimRequest request;
  request.set_member_number(std::string(member_number));
  request.set_request_id(absl::StrCat("demo-c", index));
  const Route& route = Pick(kRoutes, rng, kDomesticRoutes);
  accrual::v1::PostOwnFlightRequest flight =
      OwnFlight(member_number, kClaimTickets + index, route, "Y",
                std::uniform_int_distribution<int>(101, 999)(rng),
                today - std::uniform_int_distribution<int>(10, 150)(rng));
  *request.mutable_flight_identity() = flight.flight_identity();
  *request.mutable_flight() = flight.flight();
  return request;
}

AwardOutcome AwardOutcomeOf(int index) {
  switch (index % 4) {
    case 0:
      return AwardOutcome::kIssued;
    case 1:
      return AwardOutcome::kRefunded;
    case 2:
      return AwardOutcome::kCancelled;
    default:
      return AwardOutcome::kHeld;
  }
}

redemption::v1::CreateRedemptionRequest DemoAward(
    absl::string_view member_number, int index, absl::string_view password,
    absl::CivilDay today) {
  // 601 to 1,200 miles: 12,000 miles in economy.
  static constexpr Route kAwardRoutes[] = {
      {"PEK", "PVG"}, {"PEK", "SHA"}, {"CAN", "CTU"}, {"SZX", "HGH"}};
  const Route& route = kAwardRoutes[index % std::size(kAwardRoutes)];
  redemption::v1::CreateRedemptionRequest request;
  request.set_member_number(std::string(member_number));
  redemption::v1::StandardAward& award = *request.mutable_standard();
  award.set_cabin(redemption::v1::ECONOMY);
  award.mutable_itinerary()->set_journey_type(redemption::v1::ONE_WAY);
  redemption::v1::Segment& segment =
      *award.mutable_itinerary()->mutable_outbound()->add_segments();
  segment.set_carrier("FM");
  segment.set_flight_number(1101 + index % 800);
  *segment.mutable_flight_date() =
      validation::ToProtoDate(today + 20 + index % 180);
  segment.set_origin(route.from);
  segment.set_destination(route.to);
  request.add_passengers()->set_member(true);
  request.set_member_password(std::string(password));
  request.set_request_id(absl::StrCat("demo-r", index));
  return request;
}

std::string DemoAwardTicket(int index) {
  return absl::StrCat(kAwardTickets + index);
}

}  // namespace mileagebank::demo
