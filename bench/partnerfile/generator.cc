#include "bench/partnerfile/generator.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/airports/airports.h"
#include "libs/csv/csv.h"
#include "libs/validation/dates.h"
#include "libs/validation/member_number.h"
#include "services/settlement/accrual_file.h"

namespace mileagebank::partnerfile {
namespace {

// Busy airports of the built-in table that flights are drawn between.
constexpr const char* kAirports[] = {"PEK", "PVG", "SHA", "CAN", "CTU", "SZX",
                                     "HKG", "NRT", "LHR", "FRA", "JFK", "SIN"};

bool IsPartnerCode(const std::string& code) {
  if (code.size() < 2 || code.size() > 8) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Three digits standing for the partner in its tickets' numbers, as the
// airline code leads a real ticket number.
int PartnerTicketPrefix(const std::string& partner) {
  uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : partner) hash = (hash ^ c) * 16777619u;
  return static_cast<int>(hash % 1000);
}

}  // namespace

std::vector<GeneratedMember> MembersFromSerials(int64_t first_serial,
                                                int64_t count,
                                                const std::string& family) {
  std::vector<GeneratedMember> members;
  for (int64_t serial = first_serial; serial < first_serial + count; ++serial) {
    members.push_back({validation::MemberNumberFromSerial(serial), family, ""});
  }
  return members;
}

absl::Status GenerateAccrualFile(const GeneratorOptions& options,
                                 std::ostream* out) {
  if (!IsPartnerCode(options.partner)) {
    return absl::InvalidArgumentError("partner: 2-8 of A-Z and 0-9");
  }
  if (options.seq < 1 || options.seq > 999999) {
    return absl::InvalidArgumentError("seq: 1 to 999999");
  }
  if (options.records < 0 || options.records > settlement::kMaxAccrualRecords) {
    return absl::InvalidArgumentError("records: 0 to 5,000,000");
  }
  if (options.members.empty()) {
    return absl::InvalidArgumentError("members: at least one");
  }
  for (const GeneratedMember& member : options.members) {
    if (!validation::ValidateMemberNumber("member", member.member_number)
             .ok() ||
        member.family_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("members: bad member ", member.member_number));
    }
  }
  if (options.airline &&
      (options.booking_classes.empty() || options.partner.size() != 2)) {
    return absl::InvalidArgumentError(
        "an airline needs a 2-character code and booking classes");
  }
  std::vector<const airports::Airport*> airports;
  for (const char* code : kAirports) {
    const airports::Airport* airport =
        airports::AirportTable::Builtin().Find(code);
    if (airport != nullptr) airports.push_back(airport);
  }
  if (options.airline && airports.size() < 2) {
    return absl::InternalError("the airport table lacks the usual airports");
  }

  std::mt19937_64 random(options.seed);
  auto below = [&random](uint64_t n) { return random() % n; };
  const std::string eol = options.crlf ? "\r\n" : "\n";
  auto write = [&](const std::vector<std::string>& fields) {
    std::string line = csv::FormatRecord(fields);
    line.pop_back();
    line += eol;
    out->write(line.data(), static_cast<std::streamsize>(line.size()));
  };

  const absl::CivilDay created =
      absl::ToCivilDay(options.created, absl::UTCTimeZone());
  write({"H", options.partner, absl::StrFormat("%06d", options.seq),
         settlement::FormatTimestamp(options.created), "1"});
  static constexpr const char* kTypes[] = {"HOTEL", "CAR", "CARD", "OTHER"};
  int64_t total_miles = 0;
  for (int64_t rec = 1; rec <= options.records; ++rec) {
    const GeneratedMember& member =
        options.members[(rec - 1 + options.seed) % options.members.size()];
    const std::string date = validation::FormatDate(created - below(150));
    if (options.airline) {
      size_t from = below(airports.size());
      size_t to = (from + 1 + below(airports.size() - 1)) % airports.size();
      // Ticket numbers unique across the partner's files (seq and record)
      // and, as far as three digits allow, across partners: a ticket and
      // coupon credited by one partner is DUPLICATE_ACTIVITY for any other.
      std::string ticket =
          absl::StrFormat("%03d%03d%07d", PartnerTicketPrefix(options.partner),
                          options.seq % 1000, rec);
      write(
          {"D", absl::StrCat(rec), member.member_number, member.family_name,
           member.given_name, date, "AIR",
           absl::StrCat(ticket, "/", 1 + below(4)), options.partner,
           absl::StrCat(1 + below(9999)), airports[from]->code,
           airports[to]->code,
           std::string(
               1,
               options.booking_classes[below(options.booking_classes.size())]),
           ""});
    } else {
      const char* type = kTypes[below(4)];
      int64_t miles = 1 + below(5000);
      total_miles += miles;
      write({"D", absl::StrCat(rec), member.member_number, member.family_name,
             member.given_name, date, type,
             absl::StrFormat("%s-%06d-%07d", type, options.seq, rec), "", "",
             "", "", "", absl::StrCat(miles)});
    }
  }
  write({"T", absl::StrCat(options.records), absl::StrCat(total_miles)});
  out->flush();
  if (!*out) return absl::InternalError("writing the file failed");
  return absl::OkStatus();
}

}  // namespace mileagebank::partnerfile
