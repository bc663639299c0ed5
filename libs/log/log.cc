#include "libs/log/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mileagebank::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

absl::Mutex service_mutex;
std::string& ServiceName() {
  static auto* name = new std::string("mileagebank");
  return *name;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

Value::Value(double number) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", number);
  json_ = buffer;
}

std::string Value::Quote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

void SetService(absl::string_view service) {
  absl::MutexLock lock(&service_mutex);
  ServiceName() = std::string(service);
}

void SetMinLevel(Level level) { min_level = static_cast<int>(level); }

bool ParseLevel(absl::string_view text, Level* level) {
  for (Level candidate :
       {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (text == LevelName(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

void Write(Level level, absl::string_view event, Fields fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  std::string service;
  {
    absl::MutexLock lock(&service_mutex);
    service = ServiceName();
  }
  std::string line = absl::StrCat(
      "{\"ts\":",
      Value::Quote(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone())),
      ",\"level\":\"", LevelName(level), "\",\"service\":",
      Value::Quote(service), ",\"event\":", Value::Quote(event));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",", Value::Quote(key), ":", value.json());
  }
  line += "}\n";
  // One write(2) per line keeps lines whole when threads log at once.
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t written = ::write(STDERR_FILENO, data, left);
    if (written <= 0) return;
    data += written;
    left -= static_cast<size_t>(written);
  }
}

}  // namespace mileagebank::log
