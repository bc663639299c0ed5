// Reporting at full scale: catch-up speed of the REAL projections and the
// time of each of the eight report queries over a year, with the history of
// a mid-sized airline loaded.
//
// 1. Generates, deterministically (same sizes, same events), a history from
//    2022-10-01 to 2025-12-31 of the four sources, interleaved by time:
//    - membership: `members` MemberEnrolled (40 % imported on the first
//      day, the rest enrolled over the years through the web, call centre,
//      sales offices, counters, agents and partners), the
//      QualifyingActivityRecorded that membership records for every
//      qualifying credit and reversal, TierChanged on each upgrade and on
//      the yearly requalification, a few StatusChanged;
//    - accrual: `accrual_events` events, as the ledger writes them: mostly
//      CreditPosted for own and partner flights (many routes and booking
//      classes, earning breakdown, tier bonus, a lot per credit), partner
//      activities and purchases, each flight with its
//      QualifyingActivityPosted; DebitPosted for redemptions, redeposit
//      fees, the monthly expiry run (with LotExpired), adjustments and
//      reversals, consuming lots oldest first; retro-claims submitted,
//      approved (with their RETRO_CLAIM credit) or rejected;
//    - redemption: `redemptions` awards held, then issued, cancelled or
//      expired; some issued ones refunded (with the REDEPOSIT credit and
//      fee in accrual);
//    - settlement: partners registered, monthly outbound acknowledgements
//      of the airline partners, statements issued and settled.
// 2. Applies them from an empty store through every projection that
//    services/reporting/main.cc builds, with a BufferedViewState, flushing
//    into one batch with the cursors of the sources every 100,000 events
//    (IngestOptions::catchup_commit_every_events) and
//    keeping at most two batches in the store's line, as Ingest's applier
//    does (Ingest itself reads its sources over gRPC only). Prints the
//    catch-up rate, the time spent generating events excluded.
// 3. Prints the store's rows and a fingerprint of their bytes (the same
//    history must give the same store, whatever makes the catch-up faster).
// 4. On a SnapshotViewReader of the loaded store, runs each report query
//    (module_queries.h) for the year 2025 several times and prints the
//    median and maximum, then the local consistency figures.
//
//   bazel build -c opt //bench:reporting_scale_benchmark
//   bazel-bin/bench/reporting_scale_benchmark                 # 1M / 20M
//   bazel-bin/bench/reporting_scale_benchmark --members=20000
//       --accrual_events=400000 --redemptions=4000            # seconds
//
// Flags (or environment variables MB_SCALE_<NAME in upper case>):
// --members (1,000,000), --accrual_events (20,000,000), --redemptions
// (200,000), --repetitions (7), --commit_every (events per batch; the
// ingest's catch-up value), --dir (the store's folder;
// $MB_BENCH_DIR/mb-bench-reporting-scale, /tmp by default; emptied first),
// --reports_only (no catch-up: the queries on the store an earlier run left
// in --dir), --write_sources=DIR (no catch-up: the history written as the
// four sources' event logs, a store each under DIR, for
// bench/reporting_ingest.sh).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "libs/store/store.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "mileagebank/accrual/v1/accrual.pb.h"
#include "mileagebank/common/v1/events.pb.h"
#include "mileagebank/config/v1/reporting.pb.h"
#include "mileagebank/membership/v1/membership.pb.h"
#include "mileagebank/redemption/v1/redemption.pb.h"
#include "mileagebank/settlement/v1/settlement.pb.h"
#include "services/reporting/accrual_analysis.h"
#include "services/reporting/expiring_miles.h"
#include "services/reporting/ingest.h"
#include "services/reporting/liability.h"
#include "services/reporting/members.h"
#include "services/reporting/module_queries.h"
#include "services/reporting/partner_settlement.h"
#include "services/reporting/redemptions.h"
#include "services/reporting/sales_offices.h"
#include "services/reporting/store_view.h"

namespace mileagebank::reporting {
namespace {

namespace av1 = accrual::v1;
namespace cv1 = common::v1;
namespace mv1 = membership::v1;
namespace rv1 = redemption::v1;
namespace sv1 = settlement::v1;

// ---------------------------------------------------------------------------
// Sizes

struct Sizes {
  int64_t members = 1'000'000;
  int64_t accrual_events = 20'000'000;
  int64_t redemptions = 200'000;
  int repetitions = 7;
  int64_t commit_every = IngestOptions().catchup_commit_every_events;
  std::string dir;
  // Only the report queries, on the store an earlier run left in `dir`.
  bool reports_only = false;
  // Only the history, written as the four sources' event logs, one store
  // each under this folder (bench/reporting_ingest.sh serves them).
  std::string write_sources;
};

bool ParseSize(absl::string_view name, absl::string_view text, int64_t* out) {
  if (absl::SimpleAtoi(text, out) && *out >= 0) return true;
  std::fprintf(stderr, "--%s: not a count: %s\n", std::string(name).c_str(),
               std::string(text).c_str());
  return false;
}

bool ReadSizes(int argc, char** argv, Sizes* sizes) {
  const char* base = std::getenv("MB_BENCH_DIR");
  sizes->dir = absl::StrCat(base ? base : "/tmp", "/mb-bench-reporting-scale");
  int64_t repetitions = sizes->repetitions;
  const std::vector<std::pair<std::string, int64_t*>> counts = {
      {"members", &sizes->members},
      {"accrual_events", &sizes->accrual_events},
      {"redemptions", &sizes->redemptions},
      {"repetitions", &repetitions},
      {"commit_every", &sizes->commit_every}};
  for (const auto& [name, value] : counts) {
    std::string env = "MB_SCALE_" + name;
    std::transform(env.begin(), env.end(), env.begin(), ::toupper);
    if (const char* text = std::getenv(env.c_str())) {
      if (!ParseSize(name, text, value)) return false;
    }
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    bool known = false;
    for (const auto& [name, value] : counts) {
      const std::string prefix = absl::StrCat("--", name, "=");
      if (absl::StartsWith(arg, prefix)) {
        if (!ParseSize(name, arg.substr(prefix.size()), value)) return false;
        known = true;
      }
    }
    if (absl::StartsWith(arg, "--dir=")) {
      sizes->dir = std::string(arg.substr(6));
      known = true;
    }
    if (absl::StartsWith(arg, "--write_sources=")) {
      sizes->write_sources = std::string(arg.substr(16));
      known = true;
    }
    if (arg == "--reports_only") {
      sizes->reports_only = true;
      known = true;
    }
    if (!known) {
      std::fprintf(stderr, "unknown argument %s (see the file's comment)\n",
                   argv[i]);
      return false;
    }
  }
  sizes->repetitions = static_cast<int>(std::max<int64_t>(1, repetitions));
  sizes->commit_every = std::max<int64_t>(1, sizes->commit_every);
  if (sizes->members < 1) {
    std::fprintf(stderr, "--members: at least 1\n");
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Deterministic randomness and the airline's world

// splitmix64: fast, and the same sequence on every machine.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t x = (state_ += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  // [0, n)
  int64_t Below(int64_t n) {
    return n <= 1 ? 0 : static_cast<int64_t>(Next() % static_cast<uint64_t>(n));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // An index of `weights`, with their probabilities.
  template <size_t N>
  size_t Pick(const std::array<double, N>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = Unit() * total;
    for (size_t i = 0; i < N; ++i) {
      if (u < weights[i]) return i;
      u -= weights[i];
    }
    return N - 1;
  }

 private:
  uint64_t state_;
};

constexpr char kHost[] = "FM";
const absl::CivilDay kFirstDay(2022, 10, 1);
const absl::CivilDay kLastDay(2025, 12, 31);

const char* const kAirports[] = {
    "PEK", "PVG", "SHA", "CAN", "SZX", "CTU", "KMG", "XIY", "HGH", "CKG",
    "WUH", "NKG", "XMN", "CSX", "TAO", "DLC", "SHE", "HRB", "URC", "TSN",
    "HKG", "TPE", "NRT", "HND", "KIX", "ICN", "SIN", "BKK", "KUL", "SGN",
    "SYD", "MEL", "LAX", "SFO", "JFK", "YVR", "LHR", "CDG", "FRA", "AMS",
    "MAD", "FCO", "MUC", "ZRH", "DXB", "DEL", "MOW", "IST"};
constexpr int kAirportCount = sizeof(kAirports) / sizeof(kAirports[0]);
constexpr int kDomesticAirports = 20;  // The first ones; hubs first.

struct Route {
  const char* origin;
  const char* destination;
  int64_t distance;
};

// Own network: hub-and-spoke from the first four airports, both ways.
std::vector<Route> MakeRoutes(int hubs, int first_spoke, int spokes,
                              uint64_t seed) {
  std::vector<Route> routes;
  Random random(seed);
  for (int hub = 0; hub < hubs; ++hub) {
    for (int spoke = first_spoke; spoke < first_spoke + spokes; ++spoke) {
      const int to = spoke % kAirportCount;
      if (to == hub) continue;
      const bool international = to >= kDomesticAirports;
      const int64_t distance = international ? 900 + random.Below(6500)
                                             : 300 + random.Below(1500);
      routes.push_back({kAirports[hub], kAirports[to], distance});
      routes.push_back({kAirports[to], kAirports[hub], distance});
    }
  }
  return routes;
}

// Booking classes with their share of sold seats and earning rate.
struct BookingClass {
  const char* code;
  double share;
  int32_t rate_percent;
};
const BookingClass kClasses[] = {
    {"F", 0.005, 200}, {"A", 0.003, 175}, {"J", 0.02, 150}, {"C", 0.02, 150},
    {"D", 0.02, 125},  {"I", 0.01, 125},  {"W", 0.03, 110}, {"Y", 0.10, 100},
    {"B", 0.09, 100},  {"M", 0.12, 75},   {"H", 0.12, 75},  {"K", 0.11, 50},
    {"L", 0.10, 50},   {"Q", 0.07, 25},   {"T", 0.06, 25},  {"V", 0.05, 25},
    {"G", 0.02, 0},    {"X", 0.01, 0},    {"Z", 0.005, 0}};

const BookingClass& PickClass(Random& random) {
  double u = random.Unit();
  for (const BookingClass& c : kClasses) {
    if (u < c.share) return c;
    u -= c.share;
  }
  return kClasses[7];
}

struct PartnerInfo {
  const char* code;
  const char* name;
  sv1::PartnerType type;
  const char* currency;
  av1::PartnerActivityType activity;
};
const PartnerInfo kPartners[] = {
    {"NH", "All Nippon Airways", sv1::AIRLINE, "JPY",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"LH", "Lufthansa", sv1::AIRLINE, "EUR",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"SQ", "Singapore Airlines", sv1::AIRLINE, "SGD",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"TG", "Thai Airways", sv1::AIRLINE, "THB",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"AC", "Air Canada", sv1::AIRLINE, "CAD",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"OZ", "Asiana Airlines", sv1::AIRLINE, "KRW",
     av1::PARTNER_ACTIVITY_TYPE_UNSPECIFIED},
    {"HILTON", "Hilton Honors", sv1::HOTEL, "USD", av1::HOTEL},
    {"MARRIOTT", "Marriott Bonvoy", sv1::HOTEL, "USD", av1::HOTEL},
    {"SHANGRI", "Shangri-La Circle", sv1::HOTEL, "CNY", av1::HOTEL},
    {"HERTZ", "Hertz", sv1::CAR, "USD", av1::CAR},
    {"AVIS", "Avis", sv1::CAR, "USD", av1::CAR},
    {"ICBCCARD", "ICBC co-branded card", sv1::CARD, "CNY", av1::CARD},
    {"CMBCARD", "CMB co-branded card", sv1::CARD, "CNY", av1::CARD}};
constexpr int kPartnerCount = sizeof(kPartners) / sizeof(kPartners[0]);
constexpr int kAirlinePartners = 6;

const char* const kOffices[] = {"PEK01", "PEK02", "SHA01", "PVG01", "CAN01",
                                "SZX01", "CTU01", "HKG01", "NRT01", "SIN01",
                                "LAX01", "LHR01", "FRA01", "SYD01"};
const char* const kNationalities[] = {"CN", "CN", "CN", "CN", "CN", "CN",
                                      "CN", "CN", "CN", "CN", "CN", "CN",
                                      "CN", "CN", "HK", "TW", "US", "JP",
                                      "KR", "SG", "DE", "GB", "FR", "AU",
                                      "CA", "TH", "MY", "RU", "IN", "IT"};
const char* const kFamilyNames[] = {"WANG", "LI",    "ZHANG", "LIU",   "CHEN",
                                    "YANG", "HUANG", "ZHAO",  "WU",    "ZHOU",
                                    "SMITH", "TANAKA", "KIM", "MUELLER",
                                    "MARTIN"};
const char* const kGivenNames[] = {"WEI", "FANG", "NA",  "MIN",   "JING",
                                   "LEI", "JUN",  "YAN", "JOHN",  "MARY",
                                   "HIROSHI", "JIHOON", "ANNA", "PIERRE"};

template <typename T, size_t N>
const T& OneOf(Random& random, const T (&items)[N]) {
  return items[random.Below(N)];
}

// ---------------------------------------------------------------------------
// The generator: what each service would have written, day by day.

// One event in line, as the ingest sees it.
struct Item {
  int source;
  cv1::Event event;
};
const char* const kSources[] = {kMembershipSource, kAccrualSource,
                                kRedemptionSource, kSettlementSource};
enum SourceIndex { kMembership = 0, kAccrual = 1, kRedemption = 2,
                   kSettlement = 3 };

absl::CivilDay ExpiryOf(absl::CivilDay activity) {
  // The last day of the 36th month after the activity's month.
  return absl::CivilDay(absl::CivilMonth(activity) + 37) - 1;
}

struct LotState {
  int64_t remaining;
  absl::CivilDay expiry;
  int64_t member;
};

struct MemberState {
  mv1::Tier tier = mv1::BLUE;
  int32_t year = 0;
  int64_t qm = 0;  // This year's.
  int32_t qs = 0;
  int64_t last_year_qm = 0;
  int32_t last_year_qs = 0;
  int64_t balance = 0;
  uint32_t transactions = 0;
  bool active = true;
  std::deque<uint32_t> lots;  // Oldest expiry first.
};

// A credit that may later be reversed.
struct RecentCredit {
  int64_t member;
  av1::Transaction transaction;
};

struct PendingClaim {
  absl::CivilDay decide;
  av1::RetroClaim claim;
};

struct PendingAward {
  absl::CivilDay due;
  rv1::RedemptionRecord record;
  int action;  // 0 issue, 1 cancel, 2 expire, 3 refund (an issued one)
};

class History {
 public:
  explicit History(const Sizes& sizes)
      : sizes_(sizes),
        random_(20221001),
        own_routes_(MakeRoutes(4, 4, kAirportCount - 4, 7)),
        partner_routes_(MakeRoutes(kAirportCount, 20, 8, 11)),
        days_(static_cast<int>(kLastDay - kFirstDay) + 1) {
    members_.reserve(static_cast<size_t>(sizes.members));
    // Enrolled by the end of day d: 40 % on the first day (import), the
    // rest evenly. Accrual volume follows the members enrolled.
    enrolled_by_.resize(days_);
    const int64_t imported = sizes.members * 4 / 10;
    double weight_sum = 0;
    std::vector<double> weights(days_);
    for (int d = 0; d < days_; ++d) {
      enrolled_by_[d] =
          imported + (sizes.members - imported) * (d + 1) / days_;
      weights[d] = static_cast<double>(enrolled_by_[d]);
      weight_sum += weights[d];
    }
    accrual_by_.resize(days_);
    redemptions_by_.resize(days_);
    double cumulative = 0;
    for (int d = 0; d < days_; ++d) {
      cumulative += weights[d];
      accrual_by_[d] = static_cast<int64_t>(
          std::llround(sizes.accrual_events * cumulative / weight_sum));
      redemptions_by_[d] = static_cast<int64_t>(
          std::llround(sizes.redemptions * cumulative / weight_sum));
    }
  }

  int days() const { return days_; }
  int64_t events(int source) const { return sequence_[source]; }
  const std::array<int64_t, 32>& ledger_counts() const { return by_type_; }

  // The events of day `d` in time order, sequences numbered per source.
  void Day(int d, std::vector<Item>& out) {
    out.clear();
    out_ = &out;
    day_ = kFirstDay + d;
    clock_ = absl::FromCivil(day_, absl::UTCTimeZone());
    if (d == 0) RegisterPartners();
    if (day_.day() == 1) {
      MonthStart();
      if (day_.month() == 1) YearStart();
    }
    // Activities of the day, spread over it in proportion to what is left
    // of each source's budget (so the sources interleave by time).
    const int64_t enrolments = enrolled_by_[d] - members_.size();
    const int64_t accrual_target = accrual_by_[d];
    const int64_t award_target = redemptions_by_[d];
    int64_t enrol_left = enrolments;
    int64_t awards_left = award_target - awards_;
    const int64_t activity_estimate = std::max<int64_t>(
        1, enrol_left + awards_left + (accrual_target - sequence_[kAccrual]) / 2);
    const absl::Duration step = absl::Hours(24) / (activity_estimate + 1);
    // Day-one import arrives in bulk: channel IMPORT.
    const bool import = d == 0;
    while (true) {
      const int64_t accrual_left = accrual_target - sequence_[kAccrual];
      if (enrol_left <= 0 && awards_left <= 0 && accrual_left <= 0) break;
      Tick(step);
      DecidePending();
      const double total = static_cast<double>(
          std::max<int64_t>(enrol_left, 0) + std::max<int64_t>(awards_left, 0) +
          std::max<int64_t>(accrual_left, 0) / 2);
      const double u = random_.Unit() * total;
      if (u < enrol_left) {
        Enrol(import);
        --enrol_left;
      } else if (u < enrol_left + std::max<int64_t>(awards_left, 0)) {
        HoldAward();
        --awards_left;
      } else {
        AccrualActivity();
      }
    }
    DecidePending();
    out_ = nullptr;
  }

 private:
  // --- plumbing -----------------------------------------------------------

  void Tick(absl::Duration step) {
    const absl::Time end_of_day =
        absl::FromCivil(day_ + 1, absl::UTCTimeZone()) - absl::Milliseconds(1);
    clock_ = std::min(clock_ + step, end_of_day);
  }

  google::protobuf::Timestamp Now() const {
    return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(clock_));
  }
  static google::protobuf::Timestamp At(absl::Time time) {
    return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
        absl::ToUnixMicros(time));
  }

  void Emit(int source, const std::string& key,
            const google::protobuf::Message& payload) {
    Item& item = out_->emplace_back();
    item.source = source;
    item.event.set_sequence(static_cast<uint64_t>(++sequence_[source]));
    *item.event.mutable_recorded_at() = Now();
    item.event.set_key(key);
    item.event.mutable_payload()->PackFrom(payload);
  }

  const std::string& Number(int64_t member) const {
    return numbers_[static_cast<size_t>(member)];
  }

  // A member active so far, frequent flyers more often: the first
  // enrolled are the long-standing, busiest ones.
  int64_t BusyMember() {
    const double u = random_.Unit();
    return static_cast<int64_t>(u * u * static_cast<double>(members_.size()));
  }

  cv1::Actor Actor(cv1::Channel channel) {
    cv1::Actor actor;
    actor.set_channel(channel);
    if (channel == cv1::SALES_OFFICE || channel == cv1::COUNTER ||
        channel == cv1::CALL_CENTRE || channel == cv1::AGENT) {
      actor.set_office_code(channel == cv1::CALL_CENTRE ? "CC01"
                                                        : OneOf(random_, kOffices));
      actor.set_operator_id(absl::StrCat("OP", 1000 + random_.Below(400)));
    }
    return actor;
  }

  // --- membership ---------------------------------------------------------

  void Enrol(bool import) {
    const int64_t member = static_cast<int64_t>(members_.size());
    members_.emplace_back();
    members_.back().year = static_cast<int32_t>(day_.year());
    numbers_.push_back(validation::MemberNumberFromSerial(100'000'001 + member));
    mv1::MemberEnrolled enrolled;
    mv1::Member* m = enrolled.mutable_member();
    m->set_member_number(Number(member));
    m->set_status(mv1::ACTIVE);
    m->set_tier(mv1::BLUE);
    m->set_version(1);
    *m->mutable_enrolled_at() = Now();
    *m->mutable_updated_at() = Now();
    m->set_has_password(!import);
    static const std::array<double, 7> kChannelShare = {0.45, 0.10, 0.12, 0.06,
                                                        0.07, 0.12, 0.08};
    static const cv1::Channel kChannelOf[] = {
        cv1::WEB, cv1::CALL_CENTRE, cv1::SALES_OFFICE, cv1::AGENT,
        cv1::PARTNER, cv1::COUNTER, cv1::WEB};
    *m->mutable_enrolment() =
        Actor(import ? cv1::IMPORT : kChannelOf[random_.Pick(kChannelShare)]);
    mv1::Profile* p = m->mutable_profile();
    p->set_family_name(OneOf(random_, kFamilyNames));
    p->set_given_name(OneOf(random_, kGivenNames));
    p->set_nationality(OneOf(random_, kNationalities));
    *p->mutable_date_of_birth() = validation::ToProtoDate(
        absl::CivilDay(1950, 1, 1) + random_.Below(365 * 55));
    p->set_mobile_phone(absl::StrCat("+86139", 10'000'000 + member));
    p->set_email(absl::StrCat("m", member, "@example.com"));
    p->set_preferred_language(random_.Chance(0.8) ? "zh" : "en");
    p->set_marketing_consent(random_.Chance(0.6));
    Emit(kMembership, Number(member), enrolled);
  }

  static mv1::Tier TierFor(int64_t qm, int32_t qs) {
    if (qm >= 100'000 || qs >= 100) return mv1::PLATINUM;
    if (qm >= 50'000 || qs >= 60) return mv1::GOLD;
    if (qm >= 25'000 || qs >= 30) return mv1::SILVER;
    return mv1::BLUE;
  }

  void RollYear(MemberState& state) {
    const int32_t year = static_cast<int32_t>(day_.year());
    if (state.year == year) return;
    state.last_year_qm = state.year == year - 1 ? state.qm : 0;
    state.last_year_qs = state.year == year - 1 ? state.qs : 0;
    state.qm = 0;
    state.qs = 0;
    state.year = year;
  }

  void SetTier(int64_t member, mv1::Tier tier) {
    MemberState& state = members_[static_cast<size_t>(member)];
    if (state.tier == tier) return;
    mv1::TierChanged changed;
    changed.set_member_number(Number(member));
    changed.set_from_tier(state.tier);
    changed.set_to_tier(tier);
    *changed.mutable_effective_date() = validation::ToProtoDate(day_);
    state.tier = tier;
    Emit(kMembership, Number(member), changed);
  }

  // Accrual's QualifyingActivityPosted, then membership's record of it.
  void Qualifying(int64_t member, const av1::Transaction& t, bool reversal,
                  const av1::Transaction& credit) {
    av1::QualifyingActivityPosted posted;
    posted.set_member_number(Number(member));
    posted.set_activity_id(credit.transaction_id());
    *posted.mutable_activity_date() = credit.activity_date();
    posted.set_qualifying_miles(std::abs(credit.qualifying_miles()));
    posted.set_qualifying_segments(std::abs(credit.qualifying_segments()));
    posted.set_reversal(reversal);
    posted.set_source_type(t.type());
    Emit(kAccrual, Number(member), posted);
    Tick(absl::Milliseconds(3));
    mv1::QualifyingActivityRecorded recorded;
    recorded.set_member_number(Number(member));
    recorded.set_activity_id(credit.transaction_id());
    *recorded.mutable_activity_date() = credit.activity_date();
    recorded.set_qualifying_miles(posted.qualifying_miles());
    recorded.set_qualifying_segments(posted.qualifying_segments());
    recorded.set_reversal(reversal);
    Emit(kMembership, Number(member), recorded);
    MemberState& state = members_[static_cast<size_t>(member)];
    RollYear(state);
    if (credit.activity_date().year() != state.year) return;
    const int64_t sign = reversal ? -1 : 1;
    state.qm += sign * posted.qualifying_miles();
    state.qs += static_cast<int32_t>(sign * posted.qualifying_segments());
    const mv1::Tier earned =
        std::max(TierFor(state.qm, state.qs),
                 TierFor(state.last_year_qm, state.last_year_qs));
    if (earned > state.tier) SetTier(member, earned);
  }

  void YearStart() {
    // Requalification: the tier earned last year holds for this one.
    for (size_t i = 0; i < members_.size(); ++i) {
      MemberState& state = members_[i];
      RollYear(state);
      const mv1::Tier kept = TierFor(state.last_year_qm, state.last_year_qs);
      if (kept != state.tier) {
        Tick(absl::Microseconds(50));
        SetTier(static_cast<int64_t>(i), kept);
      }
    }
  }

  void ChangeStatus(int64_t member) {
    MemberState& state = members_[static_cast<size_t>(member)];
    mv1::StatusChanged changed;
    changed.set_member_number(Number(member));
    changed.set_from_status(state.active ? mv1::ACTIVE : mv1::SUSPENDED);
    changed.set_to_status(state.active
                              ? (random_.Chance(0.7) ? mv1::SUSPENDED
                                                     : mv1::CLOSED)
                              : mv1::ACTIVE);
    changed.set_reason(state.active ? "FRAUD_REVIEW" : "REVIEW_CLEARED");
    *changed.mutable_actor() = Actor(cv1::CALL_CENTRE);
    state.active = !state.active;
    Emit(kMembership, Number(member), changed);
  }

  // --- accrual ------------------------------------------------------------

  av1::Transaction NewTransaction(int64_t member, av1::TransactionType type,
                                  absl::CivilDay activity) {
    MemberState& state = members_[static_cast<size_t>(member)];
    av1::Transaction t;
    t.set_transaction_id(
        absl::StrCat("T", Number(member), "-", ++state.transactions));
    t.set_member_number(Number(member));
    t.set_type(type);
    *t.mutable_posted_at() = Now();
    *t.mutable_posting_date() = validation::ToProtoDate(day_);
    *t.mutable_activity_date() = validation::ToProtoDate(activity);
    return t;
  }

  // Posts a credit of t.miles(): a new lot, the balance, the event.
  void PostCredit(int64_t member, av1::Transaction& t, absl::CivilDay activity,
                  absl::CivilDay expiry) {
    MemberState& state = members_[static_cast<size_t>(member)];
    if (t.miles() > 0) {
      const uint32_t lot = static_cast<uint32_t>(lots_.size());
      lots_.push_back({t.miles(), expiry, member});
      // Lots stay in expiry order (a REDEPOSIT keeps an older expiry).
      auto at = std::upper_bound(
          state.lots.begin(), state.lots.end(), lot,
          [&](uint32_t a, uint32_t b) { return lots_[a].expiry < lots_[b].expiry; });
      state.lots.insert(at, lot);
      expiring_[absl::CivilMonth(expiry)].push_back(lot);
      av1::LotMovement* movement = t.add_lot_movements();
      movement->set_lot_id(absl::StrCat("L", lot));
      movement->set_miles(t.miles());
      *movement->mutable_expiry_date() = validation::ToProtoDate(expiry);
    }
    (void)activity;
    state.balance += t.miles();
    t.set_balance_after(state.balance);
    av1::CreditPosted posted;
    *posted.mutable_transaction() = t;
    ++by_type_[t.type()];
    Emit(kAccrual, Number(member), posted);
  }

  // Posts a debit of -t.miles() (> 0), oldest lots first.
  void PostDebit(int64_t member, av1::Transaction& t) {
    MemberState& state = members_[static_cast<size_t>(member)];
    int64_t left = -t.miles();
    while (left > 0 && !state.lots.empty()) {
      const uint32_t lot = state.lots.front();
      LotState& l = lots_[lot];
      const int64_t take = std::min(left, l.remaining);
      if (take > 0) {
        av1::LotMovement* movement = t.add_lot_movements();
        movement->set_lot_id(absl::StrCat("L", lot));
        movement->set_miles(-take);
        *movement->mutable_expiry_date() = validation::ToProtoDate(l.expiry);
        l.remaining -= take;
        left -= take;
      }
      if (l.remaining == 0) state.lots.pop_front();
    }
    state.balance += t.miles();
    t.set_balance_after(state.balance);
    av1::DebitPosted posted;
    *posted.mutable_transaction() = t;
    ++by_type_[t.type()];
    Emit(kAccrual, Number(member), posted);
  }

  void Earn(av1::Transaction& t, int64_t member, int64_t distance,
            int32_t rate, int64_t minimum) {
    const MemberState& state = members_[static_cast<size_t>(member)];
    av1::EarningBreakdown* e = t.mutable_earning();
    e->set_distance_miles(distance);
    e->set_rate_percent(rate);
    int64_t base = distance * rate / 100;
    if (rate > 0 && base < minimum) {
      base = minimum;
      e->set_minimum_applied(true);
    }
    e->set_base_miles(base);
    e->set_tier(state.tier);
    static const int32_t kBonus[] = {0, 0, 25, 50, 100};
    e->set_bonus_percent(kBonus[state.tier]);
    e->set_bonus_miles(base * kBonus[state.tier] / 100);
    t.set_miles(base + e->bonus_miles());
    t.set_qualifying_miles(base);
    t.set_qualifying_segments(1);
  }

  std::string Ticket() {
    return absl::StrCat(7'810'000'000'000LL + random_.Below(9'999'999'999LL));
  }

  void Remember(int64_t member, const av1::Transaction& t) {
    if (recent_.size() < 20'000) {
      recent_.push_back({member, t});
    } else {
      recent_[static_cast<size_t>(random_.Below(recent_.size()))] = {member, t};
    }
  }

  void OwnFlight(int64_t member, av1::TransactionType type, absl::CivilDay flown,
                 const std::string& claim_id) {
    const Route& route = own_routes_[static_cast<size_t>(
        std::min<int64_t>(random_.Below(own_routes_.size()),
                          random_.Below(own_routes_.size())))];
    const BookingClass& booking = PickClass(random_);
    av1::Transaction t = NewTransaction(member, type, flown);
    av1::Flight* f = t.mutable_flight();
    f->set_carrier(kHost);
    f->set_flight_number(static_cast<int32_t>(100 + random_.Below(8000)));
    *f->mutable_flight_date() = validation::ToProtoDate(flown);
    f->set_origin(route.origin);
    f->set_destination(route.destination);
    f->set_booking_class(booking.code);
    t.mutable_flight_identity()->set_ticket_number(Ticket());
    t.mutable_flight_identity()->set_coupon_number(
        static_cast<int32_t>(1 + random_.Below(2)));
    t.set_idempotency_key(absl::StrCat(t.flight_identity().ticket_number(),
                                       "/", t.flight_identity().coupon_number()));
    Earn(t, member, route.distance, booking.rate_percent, 500);
    if (booking.rate_percent == 0) t.set_qualifying_segments(0);
    t.set_claim_id(claim_id);
    *t.mutable_actor() = type == av1::RETRO_CLAIM ? Actor(cv1::CALL_CENTRE)
                                                  : Actor(cv1::SYSTEM);
    PostCredit(member, t, flown, ExpiryOf(flown));
    Tick(absl::Milliseconds(2));
    Qualifying(member, t, false, t);
    Remember(member, t);
  }

  void PartnerFlight(int64_t member) {
    const PartnerInfo& partner = kPartners[random_.Below(kAirlinePartners)];
    const Route& route =
        partner_routes_[static_cast<size_t>(random_.Below(partner_routes_.size()))];
    const BookingClass& booking = PickClass(random_);
    const absl::CivilDay flown = day_ - (5 + random_.Below(40));
    av1::Transaction t = NewTransaction(member, av1::PARTNER_FLIGHT, flown);
    av1::Flight* f = t.mutable_flight();
    f->set_carrier(partner.code);
    f->set_flight_number(static_cast<int32_t>(1 + random_.Below(9000)));
    *f->mutable_flight_date() = validation::ToProtoDate(flown);
    f->set_origin(route.origin);
    f->set_destination(route.destination);
    f->set_booking_class(booking.code);
    t.mutable_flight_identity()->set_ticket_number(Ticket());
    t.mutable_flight_identity()->set_coupon_number(1);
    t.set_partner_code(partner.code);
    t.set_partner_reference(absl::StrCat(t.flight_identity().ticket_number(), "/1"));
    if (random_.Chance(0.7)) {
      t.mutable_partner_source()->set_file_id(
          absl::StrCat(partner.code, "-", absl::FormatCivilTime(day_)));
      t.mutable_partner_source()->set_record_number(1 + random_.Below(5000));
    }
    Earn(t, member, route.distance, std::max(booking.rate_percent / 2, 25), 250);
    *t.mutable_actor() = Actor(cv1::SYSTEM);
    PostCredit(member, t, flown, ExpiryOf(flown));
    Tick(absl::Milliseconds(2));
    Qualifying(member, t, false, t);
    Remember(member, t);
  }

  void PartnerActivity(int64_t member) {
    const PartnerInfo& partner =
        kPartners[kAirlinePartners +
                  random_.Below(kPartnerCount - kAirlinePartners)];
    const absl::CivilDay done = day_ - (1 + random_.Below(30));
    av1::Transaction t = NewTransaction(member, av1::PARTNER_ACTIVITY, done);
    t.set_partner_code(partner.code);
    t.set_partner_activity_type(partner.activity);
    t.set_partner_reference(absl::StrCat("R", sequence_[kAccrual]));
    t.set_miles(partner.activity == av1::CARD ? 200 + random_.Below(3000)
                                              : 500 + random_.Below(2500));
    t.mutable_partner_source()->set_file_id(
        absl::StrCat(partner.code, "-", absl::FormatCivilTime(day_)));
    t.mutable_partner_source()->set_record_number(1 + random_.Below(20000));
    *t.mutable_actor() = Actor(cv1::SYSTEM);
    PostCredit(member, t, done, ExpiryOf(done));
  }

  void Purchase(int64_t member) {
    av1::Transaction t = NewTransaction(member, av1::PURCHASE, day_);
    t.set_miles(1000 * (1 + random_.Below(20)));
    t.set_reason_code("BUY_MILES");
    *t.mutable_actor() = Actor(cv1::WEB);
    PostCredit(member, t, day_, ExpiryOf(day_));
  }

  void Adjustment(int64_t member) {
    MemberState& state = members_[static_cast<size_t>(member)];
    av1::Transaction t = NewTransaction(member, av1::ADJUSTMENT, day_);
    t.set_reason_code(random_.Chance(0.5) ? "GOODWILL" : "CORRECTION");
    t.set_note("service recovery");
    *t.mutable_actor() = Actor(cv1::CALL_CENTRE);
    const int64_t miles = 500 * (1 + random_.Below(10));
    av1::AdjustmentPosted adjusted;
    if (random_.Chance(0.7) || state.balance < miles) {
      t.set_miles(miles);
      PostCredit(member, t, day_, ExpiryOf(day_));
    } else {
      t.set_miles(-miles);
      PostDebit(member, t);
    }
    adjusted.set_member_number(Number(member));
    adjusted.set_transaction_id(t.transaction_id());
    adjusted.set_miles(t.miles());
    adjusted.set_reason_code(t.reason_code());
    *adjusted.mutable_actor() = t.actor();
    Emit(kAccrual, Number(member), adjusted);
  }

  bool Reversal() {
    if (recent_.empty()) return false;
    const size_t index = static_cast<size_t>(random_.Below(recent_.size()));
    RecentCredit credit = std::move(recent_[index]);
    recent_[index] = std::move(recent_.back());
    recent_.pop_back();
    MemberState& state = members_[static_cast<size_t>(credit.member)];
    if (state.balance < credit.transaction.miles()) return false;
    av1::Transaction t = NewTransaction(
        credit.member, av1::REVERSAL,
        validation::UtcDay(absl::FromUnixMicros(
            google::protobuf::util::TimeUtil::TimestampToMicroseconds(
                credit.transaction.posted_at()))));
    *t.mutable_activity_date() = credit.transaction.activity_date();
    t.set_miles(-credit.transaction.miles());
    t.set_qualifying_miles(-credit.transaction.qualifying_miles());
    t.set_qualifying_segments(-credit.transaction.qualifying_segments());
    t.set_reversed_transaction_id(credit.transaction.transaction_id());
    *t.mutable_flight() = credit.transaction.flight();
    *t.mutable_flight_identity() = credit.transaction.flight_identity();
    t.set_partner_code(credit.transaction.partner_code());
    t.set_reason_code("NO_SHOW");
    *t.mutable_actor() = Actor(cv1::SYSTEM);
    PostDebit(credit.member, t);
    av1::CreditReversed reversed;
    reversed.set_member_number(Number(credit.member));
    reversed.set_reversed_transaction_id(credit.transaction.transaction_id());
    reversed.set_reversal_transaction_id(t.transaction_id());
    reversed.set_reversed_type(credit.transaction.type());
    reversed.set_miles(credit.transaction.miles());
    reversed.set_qualifying_miles(credit.transaction.qualifying_miles());
    reversed.set_qualifying_segments(credit.transaction.qualifying_segments());
    reversed.set_reason_code("NO_SHOW");
    Emit(kAccrual, Number(credit.member), reversed);
    Tick(absl::Milliseconds(2));
    Qualifying(credit.member, t, true, credit.transaction);
    return true;
  }

  void SubmitClaim(int64_t member) {
    av1::RetroClaim claim;
    claim.set_claim_id(absl::StrCat("C", ++claims_));
    claim.set_member_number(Number(member));
    claim.set_state(av1::CLAIM_PENDING);
    claim.mutable_flight_identity()->set_ticket_number(Ticket());
    claim.mutable_flight_identity()->set_coupon_number(1);
    const Route& route =
        own_routes_[static_cast<size_t>(random_.Below(own_routes_.size()))];
    av1::Flight* f = claim.mutable_flight();
    f->set_carrier(kHost);
    f->set_flight_number(static_cast<int32_t>(100 + random_.Below(8000)));
    *f->mutable_flight_date() =
        validation::ToProtoDate(day_ - (10 + random_.Below(150)));
    f->set_origin(route.origin);
    f->set_destination(route.destination);
    f->set_booking_class(PickClass(random_).code);
    *claim.mutable_submitted_at() = Now();
    *claim.mutable_submitted_by() =
        random_.Chance(0.75) ? Actor(cv1::WEB)
                             : Actor(random_.Chance(0.5) ? cv1::CALL_CENTRE
                                                         : cv1::SALES_OFFICE);
    av1::RetroClaimSubmitted submitted;
    *submitted.mutable_claim() = claim;
    Emit(kAccrual, Number(member), submitted);
    claims_pending_.push_back({day_ + 2 + random_.Below(12), std::move(claim)});
  }

  void DecideClaim(av1::RetroClaim& claim) {
    const int64_t member = member_of_.at(claim.member_number());
    *claim.mutable_decided_at() = Now();
    *claim.mutable_decided_by() = Actor(cv1::CALL_CENTRE);
    if (random_.Chance(0.8)) {
      claim.set_state(av1::CLAIM_APPROVED);
      const absl::CivilDay flown(claim.flight().flight_date().year(),
                                 claim.flight().flight_date().month(),
                                 claim.flight().flight_date().day());
      OwnFlight(member, av1::RETRO_CLAIM, flown, claim.claim_id());
      claim.set_transaction_id(absl::StrCat(
          "T", Number(member), "-",
          members_[static_cast<size_t>(member)].transactions));
      av1::RetroClaimApproved approved;
      *approved.mutable_claim() = claim;
      Emit(kAccrual, Number(member), approved);
    } else {
      claim.set_state(av1::CLAIM_REJECTED);
      claim.set_rejection_reason("NOT_ON_MANIFEST");
      av1::RetroClaimRejected rejected;
      *rejected.mutable_claim() = claim;
      Emit(kAccrual, Number(member), rejected);
    }
  }

  void AccrualActivity() {
    if (members_.empty()) return;
    const int64_t member = BusyMember();
    // Shares of activities (a flight is 3 events, 2 of them accrual's).
    static const std::array<double, 8> kShare = {
        0.640,   // own flight
        0.090,   // partner flight
        0.200,   // hotel, car, card
        0.015,   // purchase
        0.010,   // adjustment
        0.012,   // reversal
        0.012,   // retro-claim
        0.00005  // status change (membership)
    };
    switch (random_.Pick(kShare)) {
      case 0:
        OwnFlight(member, av1::OWN_FLIGHT, day_ - random_.Below(3), "");
        break;
      case 1:
        PartnerFlight(member);
        break;
      case 2:
        PartnerActivity(member);
        break;
      case 3:
        Purchase(member);
        break;
      case 4:
        Adjustment(member);
        break;
      case 5:
        if (!Reversal()) PartnerActivity(member);
        break;
      case 6:
        SubmitClaim(member);
        break;
      default:
        ChangeStatus(random_.Below(members_.size()));
        break;
    }
  }

  // The monthly expiry run: lots whose last day was in the month before.
  void MonthStart() {
    auto due = expiring_.find(absl::CivilMonth(day_) - 1);
    if (due != expiring_.end()) {
      for (uint32_t lot : due->second) {
        LotState& l = lots_[lot];
        if (l.remaining <= 0 || l.expiry >= day_) continue;
        Tick(absl::Microseconds(100));
        const int64_t miles = l.remaining;
        MemberState& state = members_[static_cast<size_t>(l.member)];
        av1::Transaction t = NewTransaction(l.member, av1::EXPIRE, l.expiry);
        t.set_miles(-miles);
        av1::LotMovement* movement = t.add_lot_movements();
        movement->set_lot_id(absl::StrCat("L", lot));
        movement->set_miles(-miles);
        *movement->mutable_expiry_date() = validation::ToProtoDate(l.expiry);
        *t.mutable_actor() = Actor(cv1::SYSTEM);
        l.remaining = 0;
        state.lots.erase(std::find(state.lots.begin(), state.lots.end(), lot));
        state.balance -= miles;
        t.set_balance_after(state.balance);
        av1::DebitPosted posted;
        *posted.mutable_transaction() = t;
        ++by_type_[av1::EXPIRE];
        Emit(kAccrual, Number(l.member), posted);
        av1::LotExpired expired;
        expired.set_member_number(Number(l.member));
        expired.set_lot_id(movement->lot_id());
        *expired.mutable_expiry_date() = movement->expiry_date();
        expired.set_miles(miles);
        expired.set_transaction_id(t.transaction_id());
        *expired.mutable_run_date() = validation::ToProtoDate(day_);
        Emit(kAccrual, Number(l.member), expired);
      }
      expiring_.erase(due);
    }
    Settlement();
  }

  // --- redemption ---------------------------------------------------------

  void HoldAward() {
    if (members_.empty()) return;
    // A member with enough miles: the busy ones, a few tries.
    int64_t member = -1;
    int64_t miles_per_passenger = 0;
    rv1::Cabin cabin = rv1::ECONOMY;
    const rv1::JourneyType journey =
        random_.Chance(0.55) ? rv1::ROUND_TRIP
                             : (random_.Chance(0.9) ? rv1::ONE_WAY : rv1::OPEN_JAW);
    const int passengers = random_.Chance(0.7) ? 1 : 2 + random_.Below(3);
    for (int attempt = 0; attempt < 8 && member < 0; ++attempt) {
      const int64_t candidate = BusyMember();
      cabin = random_.Chance(0.8) ? rv1::ECONOMY
                                  : (random_.Chance(0.85) ? rv1::BUSINESS
                                                          : rv1::FIRST);
      miles_per_passenger = (cabin == rv1::ECONOMY   ? 12'500
                             : cabin == rv1::BUSINESS ? 40'000
                                                      : 70'000) *
                            (journey == rv1::ONE_WAY ? 1 : 2);
      if (members_[static_cast<size_t>(candidate)].balance >=
              miles_per_passenger * passengers &&
          members_[static_cast<size_t>(candidate)].active) {
        member = candidate;
      }
    }
    if (member < 0) return;  // Nobody could afford it this time.
    ++awards_;
    rv1::RedemptionRecord r;
    r.set_redemption_id(absl::StrCat("R", awards_));
    r.set_member_number(Number(member));
    r.set_state(rv1::HELD);
    r.set_award_type(random_.Chance(0.9) ? rv1::STANDARD_AWARD
                                         : rv1::UPGRADE_AWARD);
    const bool partner = random_.Chance(0.12);
    const Route& route =
        partner ? partner_routes_[static_cast<size_t>(
                      random_.Below(partner_routes_.size()))]
                : own_routes_[static_cast<size_t>(
                      random_.Below(own_routes_.size()))];
    const absl::CivilDay flight_day = day_ + 7 + random_.Below(120);
    rv1::Itinerary* itinerary = r.mutable_itinerary();
    itinerary->set_journey_type(journey);
    rv1::Segment* out = itinerary->mutable_outbound()->add_segments();
    const char* carrier =
        partner ? kPartners[random_.Below(kAirlinePartners)].code : kHost;
    if (partner) r.set_partner_code(carrier);
    out->set_carrier(carrier);
    out->set_flight_number(static_cast<int32_t>(100 + random_.Below(8000)));
    *out->mutable_flight_date() = validation::ToProtoDate(flight_day);
    out->set_origin(route.origin);
    out->set_destination(route.destination);
    if (journey != rv1::ONE_WAY) {
      rv1::Segment* in = itinerary->mutable_inbound()->add_segments();
      *in = *out;
      in->set_origin(route.destination);
      in->set_destination(route.origin);
      *in->mutable_flight_date() =
          validation::ToProtoDate(flight_day + 3 + random_.Below(20));
    }
    r.set_cabin(cabin);
    for (int p = 0; p < passengers; ++p) {
      rv1::Passenger* passenger = r.add_passengers();
      if (p == 0) {
        passenger->set_member(true);
      } else {
        passenger->set_nominee_id(absl::StrCat("N", p));
      }
      passenger->set_family_name(OneOf(random_, kFamilyNames));
      passenger->set_given_name(OneOf(random_, kGivenNames));
    }
    rv1::JourneyPrice* price = r.add_prices();
    price->set_distance_miles(route.distance);
    price->set_miles(miles_per_passenger);
    r.set_miles_per_passenger(miles_per_passenger);
    r.set_total_miles(miles_per_passenger * passengers);
    *r.mutable_first_flight_date() = out->flight_date();
    r.set_hold_id(absl::StrCat("H", awards_));
    *r.mutable_hold_expires_at() = At(clock_ + absl::Minutes(30));
    r.set_request_id(absl::StrCat("Q", awards_));
    static const std::array<double, 5> kChannel = {0.70, 0.15, 0.08, 0.04,
                                                   0.03};
    static const cv1::Channel kChannelOf[] = {cv1::WEB, cv1::CALL_CENTRE,
                                              cv1::SALES_OFFICE, cv1::COUNTER,
                                              cv1::AGENT};
    *r.mutable_created_by() = Actor(kChannelOf[random_.Pick(kChannel)]);
    *r.mutable_created_at() = Now();
    rv1::RedemptionHeld held;
    *held.mutable_redemption() = r;
    Emit(kRedemption, Number(member), held);
    // Most are issued within minutes; some cancelled or left to expire.
    const double u = random_.Unit();
    const int action = u < 0.85 ? 0 : u < 0.97 ? 1 : 2;
    const absl::CivilDay due =
        action == 0 && random_.Chance(0.9) ? day_ : day_ + random_.Below(2);
    awards_pending_.push_back({due, std::move(r), action});
  }

  void MoveAward(PendingAward& pending) {
    rv1::RedemptionRecord& r = pending.record;
    int64_t member = member_of_.at(r.member_number());
    switch (pending.action) {
      case 0: {
        MemberState& state = members_[static_cast<size_t>(member)];
        if (state.balance < r.total_miles()) {
          pending.action = 1;  // Spent elsewhere meanwhile: cancelled.
          MoveAward(pending);
          return;
        }
        av1::Transaction t = NewTransaction(member, av1::REDEMPTION, day_);
        t.set_miles(-r.total_miles());
        t.set_hold_id(r.hold_id());
        *t.mutable_actor() = r.created_by();
        PostDebit(member, t);
        Tick(absl::Milliseconds(5));
        r.set_state(rv1::ISSUED);
        *r.mutable_issued_by() = r.created_by();
        *r.mutable_issued_at() = Now();
        for (int p = 0; p < r.passengers_size(); ++p) {
          r.add_award_ticket_numbers(Ticket());
        }
        rv1::RedemptionIssued issued;
        *issued.mutable_redemption() = r;
        Emit(kRedemption, Number(member), issued);
        if (random_.Chance(0.05)) {
          awards_pending_.push_back(
              {day_ + 1 + random_.Below(60), r, /*action=*/3});
        }
        return;
      }
      case 1: {
        r.set_state(rv1::CANCELLED);
        *r.mutable_cancelled_by() = r.created_by();
        *r.mutable_cancelled_at() = Now();
        r.set_cancel_reason("MEMBER_REQUEST");
        rv1::RedemptionCancelled cancelled;
        *cancelled.mutable_redemption() = r;
        Emit(kRedemption, Number(member), cancelled);
        return;
      }
      case 2: {
        r.set_state(rv1::EXPIRED);
        *r.mutable_expired_at() = Now();
        rv1::RedemptionExpired expired;
        *expired.mutable_redemption() = r;
        Emit(kRedemption, Number(member), expired);
        return;
      }
      default: {
        // Refund: the miles come back (REDEPOSIT, a fresh lot), less a fee.
        const int64_t fee = std::min<int64_t>(r.total_miles(), 1000);
        av1::Transaction back = NewTransaction(member, av1::REDEPOSIT, day_);
        back.set_miles(r.total_miles());
        back.set_hold_id(r.hold_id());
        *back.mutable_actor() = Actor(cv1::CALL_CENTRE);
        PostCredit(member, back, day_, ExpiryOf(day_));
        av1::Transaction charge =
            NewTransaction(member, av1::REDEPOSIT_FEE, day_);
        charge.set_miles(-fee);
        *charge.mutable_actor() = back.actor();
        PostDebit(member, charge);
        r.set_state(rv1::REFUNDED);
        *r.mutable_refunded_by() = back.actor();
        *r.mutable_refunded_at() = Now();
        r.set_refund_reason("SCHEDULE_CHANGE");
        r.set_redeposit_fee_miles(fee);
        rv1::RedemptionRefunded refunded;
        *refunded.mutable_redemption() = r;
        Emit(kRedemption, Number(member), refunded);
        return;
      }
    }
  }

  void DecidePending() {
    // Claims and awards due today, a few at a time between activities.
    for (int i = 0; i < 2 && !claims_pending_.empty() &&
                    claims_pending_.front().decide <= day_;
         ++i) {
      PendingClaim claim = std::move(claims_pending_.front());
      claims_pending_.pop_front();
      DecideClaim(claim.claim);
    }
    for (size_t i = 0; i < 4 && pending_at_ < awards_pending_.size(); ++i) {
      // Each award waits in order; one not yet due stops the line.
      PendingAward& next = awards_pending_[pending_at_];
      if (next.due > day_) {
        // Refunds are due later than what was held today: move on.
        if (next.action != 3) break;
        awards_pending_.push_back(std::move(next));
        ++pending_at_;
        continue;
      }
      PendingAward award = std::move(next);
      ++pending_at_;
      MoveAward(award);
    }
    if (pending_at_ > 100'000) {
      awards_pending_.erase(awards_pending_.begin(),
                            awards_pending_.begin() + pending_at_);
      pending_at_ = 0;
    }
  }

  // --- settlement ---------------------------------------------------------

  void RegisterPartners() {
    for (const PartnerInfo& info : kPartners) {
      Tick(absl::Seconds(1));
      sv1::Partner partner;
      partner.set_partner_code(info.code);
      partner.set_name(info.name);
      partner.set_type(info.type);
      partner.set_status(sv1::ACTIVE);
      partner.set_currency_code(info.currency);
      partner.mutable_contract()->mutable_mile_sale_price()->set_currency_code(
          info.currency);
      partner.mutable_contract()->mutable_mile_sale_price()->set_minor_units(
          1500);
      partner.mutable_contract()->mutable_award_price()->set_currency_code(
          info.currency);
      partner.mutable_contract()->mutable_award_price()->set_minor_units(1200);
      partner.set_version(1);
      *partner.mutable_created_at() = Now();
      *partner.mutable_updated_at() = Now();
      sv1::PartnerRegistered registered;
      *registered.mutable_partner() = partner;
      *registered.mutable_actor() = Actor(cv1::CALL_CENTRE);
      Emit(kSettlement, info.code, registered);
    }
  }

  // At each month start: last month's statements issued, the month before
  // settled; the airline partners' outbound acknowledgements.
  void Settlement() {
    const absl::CivilMonth last = absl::CivilMonth(day_) - 1;
    for (int i = 0; i < kPartnerCount; ++i) {
      const PartnerInfo& info = kPartners[i];
      if (i < kAirlinePartners) {
        Tick(absl::Seconds(1));
        sv1::OutboundFileAcknowledged acknowledged;
        sv1::OutboundFile* file = acknowledged.mutable_file();
        file->set_file_id(absl::StrCat(info.code, "-OUT-", ++outbound_files_));
        file->set_partner_code(info.code);
        file->set_seq(static_cast<int32_t>(outbound_files_));
        *file->mutable_acknowledged_at() = Now();
        file->set_record_count(2000 + random_.Below(3000));
        file->set_records_accepted(file->record_count() - random_.Below(50));
        file->set_records_rejected(file->record_count() -
                                   file->records_accepted());
        file->set_miles_credited(file->records_accepted() * 1200);
        Emit(kSettlement, info.code, acknowledged);
      }
      if (absl::CivilDay(last) < kFirstDay) continue;
      for (int settled = 0; settled < 2; ++settled) {
        const absl::CivilMonth month = settled ? last - 1 : last;
        if (absl::CivilDay(month) < kFirstDay) continue;
        Tick(absl::Seconds(1));
        sv1::Statement statement;
        statement.set_statement_id(absl::StrCat(
            info.code, "_", absl::FormatTime("%Y%m",
                                             absl::FromCivil(month, absl::UTCTimeZone()),
                                             absl::UTCTimeZone())));
        statement.set_partner_code(info.code);
        statement.set_year(static_cast<int32_t>(month.year()));
        statement.set_month(month.month());
        statement.set_currency_code(info.currency);
        statement.set_status(settled ? sv1::SETTLED : sv1::ISSUED);
        for (sv1::StatementLineType type :
             {sv1::ACCRUAL, sv1::REDEMPTION, sv1::PURCHASE}) {
          sv1::StatementLine* line = statement.add_lines();
          line->set_type(type);
          line->set_count(i < kAirlinePartners || type == sv1::ACCRUAL
                              ? 1000 + random_.Below(20000)
                              : 0);
          line->set_miles(line->count() * 1500);
          line->mutable_amount()->set_currency_code(info.currency);
          line->mutable_amount()->set_minor_units(line->miles() * 15);
        }
        *statement.mutable_issued_at() = Now();
        if (settled) {
          *statement.mutable_settled_at() = Now();
          sv1::StatementSettled event;
          *event.mutable_statement() = statement;
          Emit(kSettlement, info.code, event);
        } else {
          sv1::StatementIssued event;
          *event.mutable_statement() = statement;
          Emit(kSettlement, info.code, event);
        }
      }
    }
  }

  const Sizes sizes_;
  Random random_;
  const std::vector<Route> own_routes_;
  const std::vector<Route> partner_routes_;
  const int days_;
  std::vector<int64_t> enrolled_by_;
  std::vector<int64_t> accrual_by_;
  std::vector<int64_t> redemptions_by_;

  std::vector<Item>* out_ = nullptr;
  absl::CivilDay day_;
  absl::Time clock_;
  std::array<int64_t, 4> sequence_{};
  std::array<int64_t, 32> by_type_{};

  std::vector<MemberState> members_;
  std::vector<std::string> numbers_;
  // Member numbers back to their index (claims and awards carry numbers).
  struct NumberIndex {
    int64_t at(const std::string& number) const {
      // Numbers are issued in serial order: the serial is the index.
      int64_t serial = 0;
      absl::SimpleAtoi(absl::string_view(number).substr(0, 9), &serial);
      return serial - 100'000'001;
    }
  } member_of_;
  std::vector<LotState> lots_;
  std::map<absl::CivilMonth, std::vector<uint32_t>> expiring_;
  std::vector<RecentCredit> recent_;
  std::deque<PendingClaim> claims_pending_;
  std::vector<PendingAward> awards_pending_;
  size_t pending_at_ = 0;
  int64_t claims_ = 0;
  int64_t awards_ = 0;
  int64_t outbound_files_ = 0;
};

// ---------------------------------------------------------------------------
// Timing

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time of the calling thread: steadier than the wall clock on a shared
// machine.
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9;
}

// CPU time of the whole process (every thread: the applier, the store's
// writer, RocksDB's own) so far.
double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9;
}

// The process's peak resident memory so far.
double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;
}

cv1::Date ProtoDate(int year, int month, int day) {
  return validation::ToProtoDate(absl::CivilDay(year, month, day));
}

template <typename Request>
void SetYear(Request& request) {
  *request.mutable_range()->mutable_from_date() = ProtoDate(2025, 1, 1);
  *request.mutable_range()->mutable_to_date() = ProtoDate(2025, 12, 31);
}

struct Timed {
  std::string name;
  std::vector<double> ms;
  std::string error;
};

template <typename F>
Timed Time(const std::string& name, int repetitions, F&& run) {
  Timed timed{name, {}, ""};
  for (int i = 0; i < repetitions; ++i) {
    const Clock::time_point start = Clock::now();
    absl::Status status = run();
    timed.ms.push_back(Seconds(Clock::now() - start) * 1000);
    if (!status.ok()) {
      timed.error = status.ToString();
      break;
    }
  }
  std::sort(timed.ms.begin(), timed.ms.end());
  return timed;
}

void PrintTimed(const Timed& t) {
  if (!t.error.empty()) {
    std::printf("%-34s ERROR %s\n", t.name.c_str(), t.error.c_str());
    return;
  }
  std::printf("%-34s median %9.1f ms   max %9.1f ms   %s\n", t.name.c_str(),
              t.ms[t.ms.size() / 2], t.ms.back(),
              t.ms.back() < 200 ? "(< 200 ms)" : "(OVER 200 ms)");
}

// Applies the generated history through `projections` into `store`, as
// the ingest's applier does, and prints the rate; non-zero on a failure.
int CatchUp(const Sizes& sizes, store::Store& store,
            const std::vector<Projection*>& projections) {
  // --- catch-up -----------------------------------------------------------
  // As the ingest commits while catching up.
  const size_t commit_every = sizes.commit_every;
  constexpr size_t kMaxInFlight = 2;       // As Ingest.
  History history(sizes);
  std::vector<std::string> resident;
  for (const Projection* projection : projections) {
    for (std::string& table : projection->ResidentTables()) {
      resident.push_back(std::move(table));
    }
  }
  BufferedViewState state(&store, {.resident_tables = resident});
  if (absl::Status loaded = state.Load(); !loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.ToString().c_str());
    return 1;
  }
  // An empty store, as the ingest's rebuild: derived rows are deferred.
  for (Projection* projection : projections) {
    projection->DeferDerived(state);
  }
  std::vector<Item> day;
  std::array<uint64_t, 4> applied{}, flushed{};
  std::deque<uint64_t> in_flight;
  size_t unflushed = 0;
  int64_t total = 0, commits = 0, writes = 0;
  // committing: the flush and the enqueue, waiting included; waiting: for
  // room in the store's line alone (the disk behind the applier).
  Clock::duration generating{}, applying{}, committing{}, waiting{};
  double cpu_generating = 0;
  const double cpu_began = ThreadCpuSeconds();
  const double process_cpu_began = ProcessCpuSeconds();
  std::array<Clock::duration, 8> per_projection{};
  auto commit = [&] {
    const Clock::time_point start = Clock::now();
    store::WriteBatch batch = store.NewBatch();
    writes += state.Flush(batch);
    for (int s = 0; s < 4; ++s) {
      if (applied[s] != flushed[s]) batch.SetCursor(kSources[s], applied[s]);
    }
    if (in_flight.size() >= kMaxInFlight) {
      const Clock::time_point wait_start = Clock::now();
      store.Wait(in_flight.front());
      waiting += Clock::now() - wait_start;
      in_flight.pop_front();
    }
    in_flight.push_back(store.Enqueue(batch));
    flushed = applied;
    unflushed = 0;
    ++commits;
    committing += Clock::now() - start;
  };
  const Clock::time_point began = Clock::now();
  Clock::time_point report_at = began;
  for (int d = 0; d < history.days(); ++d) {
    Clock::time_point start = Clock::now();
    const double cpu_start = ThreadCpuSeconds();
    history.Day(d, day);
    cpu_generating += ThreadCpuSeconds() - cpu_start;
    Clock::time_point generated = Clock::now();
    generating += generated - start;
    for (const Item& item : day) {
      const char* source = kSources[item.source];
      const SourceEvent event(source, item.event);
      for (size_t p = 0; p < projections.size(); ++p) {
        // Timing each projection costs two clock reads per projection
        // and event; sampled one event in 64.
        absl::Status status;
        if ((total & 63) == 0) {
          const Clock::time_point at = Clock::now();
          status = projections[p]->Apply(event, state);
          per_projection[p] += (Clock::now() - at) * 64;
        } else {
          status = projections[p]->Apply(event, state);
        }
        if (!status.ok()) {
          std::fprintf(stderr, "apply %s %llu: %s\n", source,
                       static_cast<unsigned long long>(item.event.sequence()),
                       status.ToString().c_str());
          return 1;
        }
      }
      applied[item.source] = item.event.sequence();
      ++total;
      if (++unflushed >= commit_every) commit();
    }
    applying += Clock::now() - generated;
    if (Clock::now() - report_at > std::chrono::seconds(30)) {
      report_at = Clock::now();
      std::printf("  %s: %lld events, %.0f events/s so far\n",
                  absl::FormatCivilTime(kFirstDay + d).c_str(),
                  static_cast<long long>(total),
                  total / Seconds(applying));
      std::fflush(stdout);
    }
  }
  {
    const Clock::time_point start = Clock::now();
    if (unflushed > 0) commit();
    while (!in_flight.empty()) {
      store.Wait(in_flight.front());
      in_flight.pop_front();
    }
    // As the ingest once caught up: from the store, then committed.
    SnapshotViewReader view(store.NewSnapshot());
    for (Projection* projection : projections) {
      if (absl::Status derived = projection->DeriveDeferred(view, state);
          !derived.ok()) {
        std::fprintf(stderr, "derive: %s\n", derived.ToString().c_str());
        return 1;
      }
    }
    commit();
    store.Wait(in_flight.back());
    in_flight.clear();
    applying += Clock::now() - start;
  }
  const double apply_seconds = Seconds(applying);
  const double apply_cpu = ThreadCpuSeconds() - cpu_began - cpu_generating;
  // The event generator runs on the applier thread: excluded here too.
  const double process_cpu =
      ProcessCpuSeconds() - process_cpu_began - cpu_generating;
  std::printf("\nhistory 2022-10-01..2025-12-31: events per source: "
              "membership %lld, accrual %lld, redemption %lld, settlement %lld\n",
              static_cast<long long>(history.events(kMembership)),
              static_cast<long long>(history.events(kAccrual)),
              static_cast<long long>(history.events(kRedemption)),
              static_cast<long long>(history.events(kSettlement)));
  std::printf("accrual ledger events by transaction type:");
  for (int type = 1; type < 32; ++type) {
    if (history.ledger_counts()[type] == 0) continue;
    std::printf(" %s %lld",
                av1::TransactionType_Name(
                    static_cast<av1::TransactionType>(type)).c_str(),
                static_cast<long long>(history.ledger_counts()[type]));
  }
  std::printf("\n");
  std::printf("generating events (excluded): %.1f s\n", Seconds(generating));
  std::printf(
      "CATCH-UP: %lld events applied and committed in %.1f s = %.0f events/s "
      "(%s 100,000/s); %lld commits; flush+enqueue %.1f s, of which "
      "waiting for the store's line %.1f s\n",
      static_cast<long long>(total), apply_seconds, total / apply_seconds,
      total / apply_seconds >= 100'000 ? "meets" : "MISSES",
      static_cast<long long>(commits), Seconds(committing), Seconds(waiting));
  std::printf(
      "  applier thread CPU %.1f s = %.2f us per event (%.0f events per CPU "
      "second); peak resident memory %.0f MiB\n",
      apply_cpu, apply_cpu * 1e6 / total, total / apply_cpu, PeakRssMiB());
  std::printf(
      "  process CPU (applier, store writer, RocksDB) %.1f s = %.2f us per "
      "event\n",
      process_cpu, process_cpu * 1e6 / total);
  std::printf(
      "  store writes %.2f per event, store reads by the applier %.3f per "
      "event\n",
      static_cast<double>(writes) / total,
      static_cast<double>(state.store_reads()) / total);
  static const char* const kProjectionNames[] = {
      "members", "liability", "expiring_miles", "accrual_analysis",
      "sales_offices", "redemptions", "partner_settlement"};
  std::printf("  apply time per projection (sampled):");
  for (size_t p = 0; p < projections.size(); ++p) {
    std::printf(" %s %.1f s", kProjectionNames[p], Seconds(per_projection[p]));
  }
  std::printf("\n\n");
  std::fflush(stdout);

  return 0;
}

// Writes the generated history as the event logs of the four sources,
// each in a store of its own under `sizes.write_sources`, keeping every
// event's time; the store numbers them 1, 2, ... per source exactly as the
// generator does. Non-zero on a failure.
int WriteSources(const Sizes& sizes) {
  constexpr size_t kEventsPerCommit = 10'000;
  std::filesystem::remove_all(sizes.write_sources);
  std::array<std::unique_ptr<store::Store>, 4> stores;
  std::vector<store::WriteBatch> batches;
  std::array<uint64_t, 4> written{};
  for (int s = 0; s < 4; ++s) {
    auto opened = store::Store::Open(
        {.path = absl::StrCat(sizes.write_sources, "/", kSources[s])});
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    stores[s] = std::move(*opened);
    batches.push_back(stores[s]->NewBatch());
  }
  History history(sizes);
  std::vector<Item> day;
  const Clock::time_point began = Clock::now();
  for (int d = 0; d < history.days(); ++d) {
    history.Day(d, day);
    for (Item& item : day) {
      if (item.event.sequence() != ++written[item.source]) {
        std::fprintf(stderr, "%s: event %llu out of order\n",
                     kSources[item.source],
                     static_cast<unsigned long long>(item.event.sequence()));
        return 1;
      }
      store::WriteBatch& batch = batches[item.source];
      batch.AppendRecordedEvent(std::move(item.event));
      if (written[item.source] % kEventsPerCommit == 0) {
        stores[item.source]->Enqueue(batch);
      }
    }
  }
  uint64_t total = 0;
  for (int s = 0; s < 4; ++s) {
    if (!batches[s].empty()) stores[s]->Enqueue(batches[s]);
    stores[s]->WaitForQueued();
    std::printf("SOURCE %s: %llu events, head %llu\n", kSources[s],
                static_cast<unsigned long long>(written[s]),
                static_cast<unsigned long long>(stores[s]->LastSequence()));
    total += written[s];
  }
  std::printf("wrote %llu events in %.1f s under %s\n",
              static_cast<unsigned long long>(total),
              Seconds(Clock::now() - began), sizes.write_sources.c_str());
  return 0;
}

// Prints the number of rows and a hash of every table's keys and values
// (FNV-1a), so that two builds' stores can be compared byte for byte: a
// change that only makes the catch-up faster must leave it the same.
int PrintFingerprint(store::Store& store,
                     const std::vector<std::string>& tables) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](absl::string_view bytes) {
    for (const char c : absl::StrCat(bytes.size(), ":", bytes)) {
      hash = (hash ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    }
  };
  int64_t rows = 0;
  for (const std::string& table : tables) {
    // A table's name counts from its first row: an empty table (a deferred
    // index's state, once derived) leaves the figure as without it.
    bool named = false;
    absl::Status scanned =
        store.Scan(table, store::ScanRange{},
                   [&](absl::string_view key, absl::string_view value) {
                     if (!named) mix(table);
                     named = true;
                     mix(key);
                     mix(value);
                     ++rows;
                     return true;
                   });
    if (!scanned.ok()) {
      std::fprintf(stderr, "%s\n", scanned.ToString().c_str());
      return 1;
    }
  }
  std::printf("STORE: %lld rows, fingerprint %016llx\n\n",
              static_cast<long long>(rows),
              static_cast<unsigned long long>(hash));
  std::fflush(stdout);
  return 0;
}

int Run(int argc, char** argv) {
  Sizes sizes;
  if (!ReadSizes(argc, argv, &sizes)) return 2;
  std::printf(
      "reporting scale: %lld members, %lld accrual events, %lld redemptions; "
      "store %s\n",
      static_cast<long long>(sizes.members),
      static_cast<long long>(sizes.accrual_events),
      static_cast<long long>(sizes.redemptions), sizes.dir.c_str());
  std::fflush(stdout);
  if (!sizes.write_sources.empty()) return WriteSources(sizes);

  // The projections, as main.cc builds them.
  config::v1::ReportingConfig config;
  config.mutable_cost_per_thousand_miles()->set_currency_code("CNY");
  config.mutable_cost_per_thousand_miles()->set_minor_units(6000);
  auto members = MembersProjection::FromConfig(config.tiers());
  if (!members.ok()) {
    std::fprintf(stderr, "%s\n", members.status().ToString().c_str());
    return 1;
  }
  LiabilityProjection liability;
  ExpiringMilesProjection expiring_miles;
  AccrualAnalysisProjection accrual_analysis;
  SalesOfficesProjection sales_offices;
  RedemptionsProjection redemptions;
  PartnerSettlementProjection partner_settlement;
  const std::vector<Projection*> projections = {
      members->get(),    &liability,     &expiring_miles,
      &accrual_analysis, &sales_offices, &redemptions,
      &partner_settlement};

  if (!sizes.reports_only) {
    std::filesystem::remove_all(sizes.dir);
    std::filesystem::create_directories(sizes.dir);
  }
  std::vector<std::string> tables;
  for (const Projection* projection : projections) {
    for (std::string& table : projection->Tables()) {
      tables.push_back(std::move(table));
    }
  }
  auto store = store::Store::Open({.path = sizes.dir + "/reporting",
                                   .tables = tables});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }

  if (!sizes.reports_only) {
    if (int failed = CatchUp(sizes, **store, projections); failed != 0) {
      return failed;
    }
  }

  if (int failed = PrintFingerprint(**store, tables); failed != 0) {
    return failed;
  }

  // --- report queries -----------------------------------------------------
  SnapshotViewReader view((*store)->NewSnapshot());
  const ReportContext context{
      .now = absl::FromCivil(absl::CivilSecond(2026, 1, 5, 9, 0, 0),
                             absl::UTCTimeZone()),
      .config = &config};
  const ReportQueries queries = ModuleQueries();
  const int reps = sizes.repetitions;
  std::vector<Timed> timings;
  {
    v1::GetMembersReportRequest request;
    SetYear(request);
    timings.push_back(Time("members", reps, [&] {
      return queries.members(view, request, context).status();
    }));
  }
  {
    v1::GetLiabilityReportRequest request;
    SetYear(request);
    timings.push_back(Time("liability", reps, [&] {
      return queries.liability(view, request, context).status();
    }));
  }
  {
    v1::GetAccrualAnalysisReportRequest request;
    SetYear(request);
    timings.push_back(Time("accrual_analysis", reps, [&] {
      return queries.accrual_analysis(view, request, context).status();
    }));
    request.set_partner_code("LH");
    timings.push_back(Time("accrual_analysis (partner LH)", reps, [&] {
      return queries.accrual_analysis(view, request, context).status();
    }));
  }
  {
    v1::GetRedemptionsReportRequest request;
    SetYear(request);
    timings.push_back(Time("redemptions", reps, [&] {
      return queries.redemptions(view, request, context).status();
    }));
  }
  {
    v1::GetTopMembersReportRequest request;
    SetYear(request);
    request.set_top_n(100);
    request.set_near_tier_percent(10);
    request.set_near_tier_limit(100);
    timings.push_back(Time("top_members", reps, [&] {
      return queries.top_members(view, request, context).status();
    }));
  }
  {
    v1::GetExpiringMilesReportRequest request;
    *request.mutable_range()->mutable_from_date() = ProtoDate(2026, 1, 1);
    *request.mutable_range()->mutable_to_date() = ProtoDate(2026, 12, 31);
    timings.push_back(Time("expiring_miles (2026)", reps, [&] {
      return queries.expiring_miles(view, request, context).status();
    }));
  }
  {
    v1::GetPartnerSettlementReportRequest request;
    SetYear(request);
    timings.push_back(Time("partner_settlement", reps, [&] {
      return queries.partner_settlement(view, request, context).status();
    }));
  }
  {
    v1::GetSalesOfficeReportRequest request;
    SetYear(request);
    timings.push_back(Time("sales_offices", reps, [&] {
      return queries.sales_offices(view, request, context).status();
    }));
  }
  std::printf("REPORTS, range 2025-01-01..2025-12-31, %d repetitions:\n", reps);
  for (const Timed& t : timings) PrintTimed(t);

  // --- consistency, local checks ------------------------------------------
  const ConsistencyFigures figures =
      ModuleFigures([&] { return context.now; });
  int64_t liability_total = 0, balances = 0;
  TierCounts current, recount;
  std::vector<Timed> checks;
  checks.push_back(Time("consistency: liability_total", 1, [&] {
    auto v = figures.liability_total(view);
    if (v.ok()) liability_total = *v;
    return v.status();
  }));
  checks.push_back(Time("consistency: member_balances", 1, [&] {
    auto v = figures.sum_of_member_balances(view);
    if (v.ok()) balances = *v;
    return v.status();
  }));
  checks.push_back(Time("consistency: current_tier_counts", 1, [&] {
    auto v = figures.current_tier_counts(view);
    if (v.ok()) current = *v;
    return v.status();
  }));
  checks.push_back(Time("consistency: recount_tiers", 1, [&] {
    auto v = figures.recount_tiers(view);
    if (v.ok()) recount = *v;
    return v.status();
  }));
  std::printf("\nCONSISTENCY (local checks), once each:\n");
  for (const Timed& t : checks) PrintTimed(t);
  std::printf("liability total %lld vs member balances %lld: %s\n",
              static_cast<long long>(liability_total),
              static_cast<long long>(balances),
              liability_total == balances ? "consistent" : "INCONSISTENT");
  std::printf("tier counts vs recount: %s (",
              current == recount ? "consistent" : "INCONSISTENT");
  for (const auto& [tier, count] : recount) {
    std::printf(" %s %lld/%lld", mv1::Tier_Name(tier).c_str(),
                static_cast<long long>(current[tier]),
                static_cast<long long>(count));
  }
  std::printf(" )\n");
  return 0;
}

}  // namespace
}  // namespace mileagebank::reporting

int main(int argc, char** argv) {
  return mileagebank::reporting::Run(argc, argv);
}
