#include "verifier/server/decision_log.h"

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace teeverify::server {

DecisionLog::DecisionLog(const std::string& path)
    : out_(path.empty() ? stderr : fopen(path.c_str(), "a")), owned_(!path.empty()) {
  if (out_ == nullptr) {
    out_ = stderr;
    owned_ = false;
  }
}

DecisionLog::~DecisionLog() {
  if (owned_) fclose(out_);
}

void DecisionLog::Write(absl::string_view level, absl::string_view event,
                        nlohmann::ordered_json fields) {
  nlohmann::ordered_json line;
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = std::string(level);
  line["event"] = std::string(event);
  for (auto& [key, value] : fields.items()) line[key] = value;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  absl::MutexLock lock(&mu_);
  fwrite(text.data(), 1, text.size(), out_);
  fflush(out_);
}

}  // namespace teeverify::server
