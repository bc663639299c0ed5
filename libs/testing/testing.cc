#include "libs/testing/testing.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank::testing {

std::string FreshTestDir(absl::string_view suffix) {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(
      root == nullptr ? "/tmp" : root, "/",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), suffix);
  std::filesystem::remove_all(path);
  return path;
}

bool NamesField(const absl::Status& status, absl::string_view field) {
  auto details = GetErrorDetails(status);
  if (!details) return false;
  for (const auto& violation : details->field_violations()) {
    if (violation.field() == field) return true;
  }
  return false;
}

}  // namespace mileagebank::testing
