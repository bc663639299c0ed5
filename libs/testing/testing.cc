#include "libs/testing/testing.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/status/errors.h"

namespace mileagebank::testing {

namespace {

// Empties $TEST_TMPDIR when the program ends with every test passed. Bazel
// (4.2, process-wrapper sandbox) keeps each test's folder, and the stores of
// an end-to-end test take gigabytes: a full run would fill the disk. A
// failed run's folders stay, to be looked at.
class TestDirCleanup {
 public:
  ~TestDirCleanup() {
    const char* root = std::getenv("TEST_TMPDIR");
    if (root == nullptr || !::testing::UnitTest::GetInstance()->Passed())
      return;
    std::error_code ignored;
    for (const auto& entry :
         std::filesystem::directory_iterator(root, ignored)) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
};

}  // namespace

void EmptyTestDirAtExit() {
  // Made after gtest's UnitTest (which a running test or suite needs), so
  // it is destroyed before it, when the tests' fixtures are gone.
  static TestDirCleanup cleanup;
}

std::string FreshTestDir(absl::string_view suffix) {
  EmptyTestDirAtExit();
  const char* root = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(
      root == nullptr ? "/tmp" : root, "/",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), suffix);
  std::filesystem::remove_all(path);
  return path;
}

void FlipByte(const std::string& file, size_t offset) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  io.get(byte);
  io.seekp(static_cast<std::streamoff>(offset));
  io.put(static_cast<char>(byte ^ 0x10));
}

std::string NewestTableFile(const std::string& folder) {
  // Table files are numbered in the order they are written.
  std::string newest;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() == ".sst" && (newest.empty() || path > newest)) {
      newest = path;
    }
  }
  return newest;
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
