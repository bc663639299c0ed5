// Views: the reporting store's snapshots as the service and the consistency
// check read them. The ingest (ingest.h) provides them in the process;
// tests serve a MemoryView. IngestViews adapts the former without this
// header depending on it.
//
// Thread-safe (implementations must be).
#ifndef MILEAGEBANK_SERVICES_REPORTING_VIEWS_H_
#define MILEAGEBANK_SERVICES_REPORTING_VIEWS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "services/reporting/view_state.h"

namespace mileagebank::reporting {

class Views {
 public:
  virtual ~Views() = default;
  // Waits until every source in `min` has been applied at least up to its
  // sequence: DEADLINE_EXCEEDED at `deadline`, INVALID_ARGUMENT naming
  // min_stream_positions for an unknown source.
  virtual absl::Status WaitFor(
      const google::protobuf::Map<std::string, uint64_t>& min,
      absl::Time deadline) = 0;
  // One consistent snapshot; its positions() are the cursors it reflects.
  virtual std::unique_ptr<ViewReader> Reader() const = 0;
  // A snapshot with `source` applied exactly up to `sequence` (the other
  // sources wherever they are); FAILED_PRECONDITION when the ingest is
  // already past it.
  virtual absl::StatusOr<std::unique_ptr<ViewReader>> ReaderAt(
      const std::string& source, uint64_t sequence, absl::Time deadline) = 0;
};

// Views over anything with the Ingest's methods (the template keeps this
// header free of the ingest's).
template <typename Ingest>
class IngestViews final : public Views {
 public:
  explicit IngestViews(Ingest* ingest) : ingest_(ingest) {}
  absl::Status WaitFor(const google::protobuf::Map<std::string, uint64_t>& min,
                       absl::Time deadline) override {
    return ingest_->WaitFor(min, deadline);
  }
  std::unique_ptr<ViewReader> Reader() const override {
    return ingest_->Reader();
  }
  absl::StatusOr<std::unique_ptr<ViewReader>> ReaderAt(
      const std::string& source, uint64_t sequence,
      absl::Time deadline) override {
    return ingest_->ReaderAt(source, sequence, deadline);
  }

 private:
  Ingest* const ingest_;
};

}  // namespace mileagebank::reporting

#endif  // MILEAGEBANK_SERVICES_REPORTING_VIEWS_H_
