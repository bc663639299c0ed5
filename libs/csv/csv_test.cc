#include "libs/csv/csv.h"

#include <sstream>

#include "gtest/gtest.h"

namespace mileagebank::csv {
namespace {

std::vector<CsvRecord> ReadAll(const std::string& text, std::string* error) {
  std::istringstream input(text);
  CsvReader reader(input);
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (reader.Next(&record)) records.push_back(record);
  *error = reader.error();
  return records;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, MixedLineEndsAndMissingLastLineEnd) {
  std::string error;
  auto records = ReadAll("a,b\r\nc,d\ne,f", &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(records[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ(records[2].fields, (Fields{"e", "f"}));
  EXPECT_TRUE(records[2].at_end_of_input);
  EXPECT_EQ(records[2].line, 3);
}

TEST(CsvReaderTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  std::string error;
  auto records = ReadAll("\"a,1\",\"say \"\"hi\"\"\",\"x\ny\"\nnext\n", &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"a,1", "say \"hi\"", "x\ny"}));
  EXPECT_EQ(records[1].line, 3);
}

TEST(CsvReaderTest, LoneCarriageReturnIsContent) {
  std::string error;
  auto records = ReadAll("a\rb,c\n", &error);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (Fields{"a\rb", "c"}));
}

TEST(CsvReaderTest, EmptyLineIsFlagged) {
  std::string error;
  auto records = ReadAll("a\n\n\"\"\n,\n", &error);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_FALSE(records[0].empty_line);
  EXPECT_TRUE(records[1].empty_line);
  EXPECT_FALSE(records[2].empty_line);  // An empty quoted field is content.
  EXPECT_FALSE(records[3].empty_line);
  EXPECT_EQ(records[3].fields, (Fields{"", ""}));
}

TEST(CsvReaderTest, BadQuotingIsAnError) {
  for (const char* text : {"\"open\n", "a\"b\n", "\"a\"b\n"}) {
    std::string error;
    ReadAll(text, &error);
    EXPECT_NE(error.find("bad quoting"), std::string::npos) << text;
  }
}

TEST(CsvReaderTest, OverlongRecordIsAnError) {
  std::istringstream input(std::string(100, 'x'));
  CsvReader reader(input, 10);
  CsvRecord record;
  EXPECT_FALSE(reader.Next(&record));
  EXPECT_NE(reader.error().find("longer than 10"), std::string::npos);
}

TEST(FormatRecordTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(FormatRecord({"a", "b,c", "d\"e", ""}), "a,\"b,c\",\"d\"\"e\",\n");
}

}  // namespace
}  // namespace mileagebank::csv
