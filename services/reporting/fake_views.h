// FakeViews: Views over a MemoryView, for the service's and the consistency
// check's tests. Readers are copies of the view taken when asked, so later
// changes do not reach them; WaitFor compares with the view's positions;
// ReaderAt answers what `reader_at` says (by default a copy whose position
// of the source is the sequence asked for).
//
// Thread-compatible: tests change the view between calls.
#ifndef MILEAGEBANK_SERVICES_REPORTING_FAKE_VIEWS_H_
#define MILEAGEBANK_SERVICES_REPORTING_FAKE_VIEWS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/reporting/memory_view.h"
#include "services/reporting/views.h"

namespace mileagebank::reporting {

class FakeViews final : public Views {
 public:
  MemoryView& view() { return view_; }

  absl::Status WaitFor(const google::protobuf::Map<std::string, uint64_t>& min,
                       absl::Time deadline) override {
    for (const auto& [source, sequence] : min) {
      if (view_.positions().count(source) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "min_stream_positions: no source named \"", source, "\""));
      }
    }
    while (true) {
      bool reached = true;
      for (const auto& [source, sequence] : min) {
        if (view_.positions().at(source) < sequence) reached = false;
      }
      if (reached) return absl::OkStatus();
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError("min_stream_positions not reached");
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  std::unique_ptr<ViewReader> Reader() const override {
    return std::make_unique<MemoryView>(view_);
  }

  absl::StatusOr<std::unique_ptr<ViewReader>> ReaderAt(
      const std::string& source, uint64_t sequence,
      absl::Time deadline) override {
    reader_at_calls.push_back(sequence);
    if (reader_at) return reader_at(source, sequence);
    auto copy = std::make_unique<MemoryView>(view_);
    copy->mutable_positions()[source] = sequence;
    return std::unique_ptr<ViewReader>(std::move(copy));
  }

  std::function<absl::StatusOr<std::unique_ptr<ViewReader>>(
      const std::string& source, uint64_t sequence)>
      reader_at;
  std::vector<uint64_t> reader_at_calls;

 private:
  MemoryView view_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_FAKE_VIEWS_H_
