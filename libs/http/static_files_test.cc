// Static files from a real folder: index pages, content types, and paths
// that must not leave the folder.
#include "libs/http/static_files.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace mileagebank::http {
namespace {

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(getenv("TEST_TMPDIR")) + "/site";
    mkdir(root_.c_str(), 0755);
    mkdir((root_ + "/js").c_str(), 0755);
    mkdir((root_ + "/docs").c_str(), 0755);
    Write(root_ + "/index.html", "<p>home</p>");
    Write(root_ + "/js/main.js", "export {};");
    Write(root_ + "/docs/index.html", "<p>docs</p>");
    Write(std::string(getenv("TEST_TMPDIR")) + "/secret.txt", "secret");
    files_ = *StaticFiles::Open(root_);
  }
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  Response Get(const std::string& path, const std::string& method = "GET") {
    Request request{.method = method, .path = path};
    Response response;
    response.status = files_->Serve(request, &response) ? response.status : 404;
    return response;
  }

  std::string root_;
  std::unique_ptr<StaticFiles> files_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirTypeAndFoldersWithTheirIndex) {
  EXPECT_EQ(Get("/").body, "<p>home</p>");
  EXPECT_EQ(Get("/").content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Get("/js/main.js").body, "export {};");
  EXPECT_EQ(Get("/js/main.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/docs").body, "<p>docs</p>");
  EXPECT_EQ(Get("/docs/").body, "<p>docs</p>");
  EXPECT_EQ(Get("/js/main.js", "HEAD").status, 200);
}

TEST_F(StaticFilesTest, AnswersNothingForMissingFilesOtherMethodsOrEscapes) {
  EXPECT_EQ(Get("/missing.js").status, 404);
  EXPECT_EQ(Get("/js").status, 404);  // a folder without an index
  EXPECT_EQ(Get("/index.html", "POST").status, 404);
  EXPECT_EQ(Get("/../secret.txt").status, 404);
  EXPECT_EQ(Get("/js/../../secret.txt").status, 404);
  EXPECT_EQ(Get(std::string("/index.html\0x", 13)).status, 404);
}

TEST(StaticFilesOpenTest, RefusesAMissingFolder) {
  EXPECT_EQ(StaticFiles::Open("/nonexistent/folder").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mileagebank::http
