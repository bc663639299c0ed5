#include "services/membership/csv_import.h"

#include "gtest/gtest.h"

namespace mileagebank::membership {
namespace {

constexpr char kHeader[] =
    "family_name,given_name,date_of_birth,nationality,document_type,"
    "document_number,document_country,mobile_phone";

TEST(CsvImportTest, RowBecomesEnrolment) {
  auto rows = ParseImport(std::string(kHeader) +
                          ",address_line1,city,address_country,seat_preference,"
                          "marketing_consent\n"
                          "Wang,Fang,1990-01-02,CN,OTHER,X1,CN,+861390000,"
                          "\"1 Road, Block 2\",Beijing,CN,window,yes\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  const auto& request = *(*rows)[0].enrolment;
  EXPECT_EQ(request.profile().identity_document().type(), v1::OTHER_DOCUMENT);
  EXPECT_EQ(request.profile().address().lines(0), "1 Road, Block 2");
  EXPECT_EQ(request.profile().seat_preference(), v1::WINDOW);
  EXPECT_TRUE(request.profile().marketing_consent());
  EXPECT_EQ(request.profile().date_of_birth().month(), 1);
}

TEST(CsvImportTest, BadRowsCarryTheirColumn) {
  auto rows = ParseImport(std::string(kHeader) + ",gender\n" +
                          "A,B,1990-01-02,CN,PASSPORT,1,CN,+861,ALIEN\n" +
                          "A,B,1990-01-02,CN,PASSPORT,1,CN\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_NE((*rows)[0].enrolment.status().message().find("gender"),
            absl::string_view::npos);
  EXPECT_EQ((*rows)[1].line, 3);
  EXPECT_NE((*rows)[1].enrolment.status().message().find("fields"),
            absl::string_view::npos);
}

TEST(CsvImportTest, HeaderProblemsRefuseTheFile) {
  EXPECT_FALSE(ParseImport("").ok());
  EXPECT_FALSE(ParseImport("family_name\nLi\n").ok());  // Missing columns.
  EXPECT_FALSE(ParseImport(std::string(kHeader) + ",family_name\n").ok());
  EXPECT_FALSE(ParseImport(std::string(kHeader) + "\n\"open\n").ok());
}

}  // namespace
}  // namespace mileagebank::membership
