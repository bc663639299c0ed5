#include "tests/chaos/journal.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

namespace mileagebank::chaos {
namespace {

// Keeps one entry on one line and its fields apart.
std::string Flat(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\t", " "}, {"\n", " "}});
}

}  // namespace

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAcknowledged: return "ACKNOWLEDGED";
    case Outcome::kRefused: return "REFUSED";
    case Outcome::kUnknown: return "UNKNOWN";
  }
  return "?";
}

Journal::Journal(const std::string& path) : file_(path) {}

int64_t Journal::NextOperation() {
  absl::MutexLock lock(&mutex_);
  return next_operation_++;
}

void Journal::Request(absl::string_view thread, int64_t operation,
                      absl::string_view kind, absl::string_view key,
                      absl::string_view member, int attempt,
                      absl::string_view request) {
  Line(thread, absl::StrCat("REQUEST\t", operation, "\t", kind, "\t", key, "\t",
                            member, "\t", attempt, "\t", Flat(request)));
}

void Journal::Answer(absl::string_view thread, int64_t operation, int attempt,
                     absl::string_view code, absl::string_view detail) {
  Line(thread, absl::StrCat("ANSWER\t", operation, "\t", attempt, "\t", code, "\t",
                            Flat(detail)));
}

void Journal::Finish(absl::string_view thread, int64_t operation, Outcome outcome) {
  Line(thread, absl::StrCat("OUTCOME\t", operation, "\t", OutcomeName(outcome)));
}

void Journal::Note(absl::string_view thread, absl::string_view what,
                   absl::string_view subject, absl::string_view detail) {
  Line(thread, absl::StrCat(what, "\t", subject, "\t", Flat(detail)));
}

void Journal::Flush() {
  absl::MutexLock lock(&mutex_);
  file_.flush();
}

void Journal::Line(absl::string_view thread, absl::string_view text) {
  const int64_t ms = absl::ToInt64Milliseconds(absl::Now() - start_);
  absl::MutexLock lock(&mutex_);
  file_ << ms << "\t" << thread << "\t" << text << "\n";
}

}  // namespace mileagebank::chaos
