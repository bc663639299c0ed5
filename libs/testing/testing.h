// Helpers shared by the project's tests.
#ifndef MILEAGEBANK_LIBS_TESTING_TESTING_H_
#define MILEAGEBANK_LIBS_TESTING_TESTING_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mileagebank::testing {

// An empty folder under $TEST_TMPDIR named for the running test (plus
// `suffix`), removed first if an earlier run left it. Once one is made,
// $TEST_TMPDIR is emptied at exit if every test passed.
std::string FreshTestDir(absl::string_view suffix = "");
// The same emptying, for a suite that keeps its folder itself (one shared
// by its tests).
void EmptyTestDirAtExit();

// Damages `file` as a bad disk would: one bit of the byte at `offset`
// flipped in place.
void FlipByte(const std::string& file, size_t offset);

// The newest RocksDB table file (.sst) directly in `folder`, "" if none.
std::string NewestTableFile(const std::string& folder);

// Whether `status` carries a field violation naming `field`.
bool NamesField(const absl::Status& status, absl::string_view field);

}  // namespace mileagebank::testing

#endif  // MILEAGEBANK_LIBS_TESTING_TESTING_H_
