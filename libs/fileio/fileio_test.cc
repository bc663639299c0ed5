#include "libs/fileio/fileio.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "libs/testing/testing.h"

namespace mileagebank::fileio {
namespace {

TEST(FilesTest, WriteAllWritesEveryByteAndFoldersSync) {
  const std::string dir = testing::FreshTestDir();
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/out.bin";
  const std::string bytes(3 << 20, 'x');
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, bytes, path).ok());
  ::close(fd);
  std::ifstream in(path, std::ios::binary);
  std::stringstream read;
  read << in.rdbuf();
  EXPECT_EQ(read.str(), bytes);
  EXPECT_TRUE(SyncFolder(dir).ok());
}

TEST(FilesTest, ErrorsNameThePath) {
  absl::Status missing = SyncFolder("/nonexistent/folder");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInternal);
  EXPECT_NE(missing.message().find("/nonexistent/folder"), std::string::npos);
  EXPECT_FALSE(WriteAll(-1, "x", "/some/path").ok());
}

}  // namespace
}  // namespace mileagebank::fileio
