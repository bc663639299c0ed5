// Structured logs: one JSON object per line on stderr, one line per notable
// event, so that log collectors parse them without rules of their own.
//
//   log::Info("member_enrolled", {{"member_number", number}, {"channel", "WEB"}});
//   => {"ts":"2026-11-23T18:00:00.123Z","level":"info","service":"membership",
//       "event":"member_enrolled","member_number":"1000000018","channel":"WEB"}
//
// Thread-safe: each line is written with a single write(2).
#ifndef MILEAGEBANK_LIBS_LOG_LOG_H_
#define MILEAGEBANK_LIBS_LOG_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace mileagebank::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// A field value: text, or a number or flag written unquoted.
class Value {
 public:
  Value(absl::string_view text) : json_(Quote(text)) {}
  Value(const std::string& text) : json_(Quote(text)) {}
  Value(const char* text) : json_(Quote(text)) {}
  Value(int64_t number) : json_(std::to_string(number)) {}
  Value(int number) : json_(std::to_string(number)) {}
  Value(uint64_t number) : json_(std::to_string(number)) {}
  Value(double number);
  Value(bool flag) : json_(flag ? "true" : "false") {}
  const std::string& json() const { return json_; }

  // `text` as a JSON string literal.
  static std::string Quote(absl::string_view text);

 private:
  std::string json_;
};

using Fields = std::initializer_list<std::pair<absl::string_view, Value>>;

// Names the process in every line; called once at start.
void SetService(absl::string_view service);
// Lines below `level` are dropped.
void SetMinLevel(Level level);
// "debug", "info", "warning" or "error"; false for anything else.
bool ParseLevel(absl::string_view text, Level* level);

void Write(Level level, absl::string_view event, Fields fields = {});

inline void Debug(absl::string_view event, Fields fields = {}) {
  Write(Level::kDebug, event, fields);
}
inline void Info(absl::string_view event, Fields fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warning(absl::string_view event, Fields fields = {}) {
  Write(Level::kWarning, event, fields);
}
inline void Error(absl::string_view event, Fields fields = {}) {
  Write(Level::kError, event, fields);
}

}  // namespace mileagebank::log

#endif  // MILEAGEBANK_LIBS_LOG_LOG_H_
