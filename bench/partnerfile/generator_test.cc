#include "bench/partnerfile/generator.h"

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/settlement/accrual_file.h"

namespace mileagebank::partnerfile {
namespace {

GeneratorOptions Options(bool airline) {
  GeneratorOptions options;
  options.partner = airline ? "CA" : "HILTON";
  options.seq = 42;
  options.created = *settlement::ParseTimestamp("2026-08-31T10:00:00Z");
  options.records = 2000;
  options.airline = airline;
  options.booking_classes = "FJY";
  options.members = MembersFromSerials(100000001, 7, "Li");
  return options;
}

void ExpectValid(const GeneratorOptions& options, const std::string& file) {
  settlement::FileContext context;
  context.sender_partner = options.partner;
  context.partner_active = true;
  context.last_accepted_seq = options.seq - 1;
  context.received_at = options.created;
  std::istringstream pass1(file);
  settlement::FileCheck check =
      settlement::AccrualFileReader::CheckFile(pass1, context);
  ASSERT_TRUE(check.passed()) << check.message;
  EXPECT_EQ(check.record_count, options.records);

  settlement::PartnerRules rules;
  rules.partner_code = options.partner;
  rules.is_airline = options.airline;
  rules.booking_classes = {'F', 'J', 'Y'};
  std::istringstream pass2(file);
  settlement::AccrualFileReader reader(pass2, rules);
  settlement::AccrualRecord record;
  int64_t count = 0;
  settlement::MemberFacts member;
  member.family_name = "Li";
  while (reader.Next(&record)) {
    ++count;
    settlement::RecordVerdict verdict =
        settlement::JudgeRecord(record, &member, *check.header);
    EXPECT_TRUE(verdict.accepted_so_far())
        << record.record_number << " " << verdict.ReasonText();
  }
  EXPECT_TRUE(reader.status().ok());
  EXPECT_EQ(count, options.records);
}

TEST(GeneratorTest, AirlineFileIsValid) {
  GeneratorOptions options = Options(true);
  std::ostringstream out;
  ASSERT_TRUE(GenerateAccrualFile(options, &out).ok());
  ExpectValid(options, out.str());
}

TEST(GeneratorTest, HotelFileWithCrlfIsValid) {
  GeneratorOptions options = Options(false);
  options.crlf = true;
  std::ostringstream out;
  ASSERT_TRUE(GenerateAccrualFile(options, &out).ok());
  ExpectValid(options, out.str());
}

TEST(GeneratorTest, DeterministicWithSeed) {
  GeneratorOptions options = Options(true);
  std::ostringstream a, b, c;
  ASSERT_TRUE(GenerateAccrualFile(options, &a).ok());
  ASSERT_TRUE(GenerateAccrualFile(options, &b).ok());
  options.seed = 2;
  ASSERT_TRUE(GenerateAccrualFile(options, &c).ok());
  EXPECT_EQ(a.str(), b.str());
  EXPECT_NE(a.str(), c.str());
}

// The refs (ticket/coupon) of one file, in order.
std::vector<std::string> Refs(const GeneratorOptions& options) {
  std::ostringstream out;
  EXPECT_TRUE(GenerateAccrualFile(options, &out).ok());
  settlement::PartnerRules rules;
  rules.partner_code = options.partner;
  rules.is_airline = options.airline;
  std::istringstream in(out.str());
  settlement::AccrualFileReader reader(in, rules);
  settlement::AccrualRecord record;
  std::vector<std::string> refs;
  while (reader.Next(&record)) refs.push_back(record.ref);
  return refs;
}

TEST(GeneratorTest, TwoAirlinesFilesOfOneSeqShareNoTicket) {
  GeneratorOptions ca = Options(true);
  GeneratorOptions mu = Options(true);
  mu.partner = "MU";
  std::vector<std::string> refs = Refs(ca);
  for (const std::string& ref : Refs(mu)) refs.push_back(ref);
  ASSERT_EQ(refs.size(), 4000u);
  std::set<std::string> tickets;
  for (const std::string& ref : refs) tickets.insert(ref.substr(0, 13));
  EXPECT_EQ(tickets.size(), refs.size());
}

TEST(GeneratorTest, BadOptions) {
  GeneratorOptions options = Options(true);
  options.members.clear();
  std::ostringstream out;
  EXPECT_FALSE(GenerateAccrualFile(options, &out).ok());
  options = Options(true);
  options.seq = 0;
  EXPECT_FALSE(GenerateAccrualFile(options, &out).ok());
}

}  // namespace
}  // namespace mileagebank::partnerfile
