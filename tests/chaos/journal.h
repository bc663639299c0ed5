// The chaos suite's journal: one tab-separated line per request sent, per
// answer received (or not), per operation's final outcome and per process
// killed or restarted, in the order they happened, so that a violation
// found at the end can be traced to the calls and kills around it.
//
//   <ms since start> <thread> REQUEST <op> <kind> <key> <member> <attempt> <request>
//   <ms since start> <thread> ANSWER  <op> <attempt> <code> <detail>
//   <ms since start> <thread> OUTCOME <op> <ACKNOWLEDGED|REFUSED|UNKNOWN>
//   <ms since start> killer   KILL|RESTART|... <process> <detail>
//
// Thread-safe.
#ifndef MILEAGEBANK_TESTS_CHAOS_JOURNAL_H_
#define MILEAGEBANK_TESTS_CHAOS_JOURNAL_H_

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mileagebank::chaos {

// What a client knows of an operation once it stopped asking.
enum class Outcome {
  // Answered OK: the system promised it is done.
  kAcknowledged,
  // Answered with a definite refusal (a rule): it must have changed nothing.
  kRefused,
  // Never answered definitely (a failed or timed-out call, even after
  // retries): it may or may not have happened, once.
  kUnknown,
};

absl::string_view OutcomeName(Outcome outcome);

class Journal {
 public:
  explicit Journal(const std::string& path);

  // A new operation's id.
  int64_t NextOperation();

  void Request(absl::string_view thread, int64_t operation, absl::string_view kind,
               absl::string_view key, absl::string_view member, int attempt,
               absl::string_view request);
  void Answer(absl::string_view thread, int64_t operation, int attempt,
              absl::string_view code, absl::string_view detail);
  void Finish(absl::string_view thread, int64_t operation, Outcome outcome);
  // Anything else: kills, restarts, phases of the run.
  void Note(absl::string_view thread, absl::string_view what,
            absl::string_view subject, absl::string_view detail);

  void Flush();

 private:
  void Line(absl::string_view thread, absl::string_view text);

  const absl::Time start_ = absl::Now();
  absl::Mutex mutex_;
  std::ofstream file_ ABSL_GUARDED_BY(mutex_);
  int64_t next_operation_ ABSL_GUARDED_BY(mutex_) = 1;
};

}  // namespace mileagebank::chaos

#endif  // MILEAGEBANK_TESTS_CHAOS_JOURNAL_H_
