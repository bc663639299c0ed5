// The files of one folder over HTTP (a web application's built files):
// GET and HEAD of a path under the folder, "/" and folders answered with
// their index.html, the Content-Type by the file's extension. Paths that
// climb out of the folder are never served.
//
//   auto files = http::StaticFiles::Open("/srv/portal");
//   if (!(*files)->Serve(request, &response)) { /* 404 */ }
//
// Thread-safe (files are read on each request, so a rebuilt portal is
// served at once).
#ifndef MILEAGEBANK_LIBS_HTTP_STATIC_FILES_H_
#define MILEAGEBANK_LIBS_HTTP_STATIC_FILES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/http/server.h"

namespace mileagebank::http {

class StaticFiles {
 public:
  // INVALID_ARGUMENT when `folder` is not a folder.
  static absl::StatusOr<std::unique_ptr<StaticFiles>> Open(
      const std::string& folder);

  // Answers a GET or HEAD of a file under the folder into `response`;
  // false (and `response` untouched) when there is no such file.
  bool Serve(const Request& request, Response* response) const;

 private:
  explicit StaticFiles(std::string folder) : folder_(std::move(folder)) {}
  std::string folder_;
};

// "text/javascript; charset=utf-8" for "main.js"; application/octet-stream
// for what it does not know.
absl::string_view ContentTypeOf(absl::string_view file_name);

}  // namespace mileagebank::http

#endif  // MILEAGEBANK_LIBS_HTTP_STATIC_FILES_H_
