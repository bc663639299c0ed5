#include "libs/http/static_files.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mileagebank::http {
namespace {

bool IsFolder(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

absl::string_view ContentTypeOf(absl::string_view file_name) {
  static constexpr std::pair<absl::string_view, absl::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (absl::EndsWith(file_name, extension)) return type;
  }
  return "application/octet-stream";
}

absl::StatusOr<std::unique_ptr<StaticFiles>> StaticFiles::Open(
    const std::string& folder) {
  if (!IsFolder(folder)) {
    return absl::InvalidArgumentError(
        absl::StrCat("portal_dir: ", folder, " is not a folder"));
  }
  return std::unique_ptr<StaticFiles>(new StaticFiles(folder));
}

bool StaticFiles::Serve(const Request& request, Response* response) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  // Decoded paths are checked segment by segment, so neither "../" nor
  // "%2e%2e/" nor a NUL reaches the file system.
  for (absl::string_view segment : absl::StrSplit(request.path, '/')) {
    if (segment == ".." || absl::StrContains(segment, '\0') ||
        absl::StrContains(segment, '\\')) {
      return false;
    }
  }
  std::string path = folder_ + request.path;
  if (IsFolder(path)) {
    path = absl::StrCat(path, absl::EndsWith(path, "/") ? "" : "/", "index.html");
  }
  if (!IsFile(path)) return false;
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream content;
  content << file.rdbuf();
  response->status = 200;
  response->content_type = std::string(ContentTypeOf(path));
  response->body = content.str();
  return true;
}

}  // namespace mileagebank::http
