// Structured JSON logs, one object per line: every decision (tee, role, decision, reasons,
// measurements, evidence digest) and the sidecar's lifecycle. Never a token, never the evidence
// bytes, never a key.
#ifndef TEE_VERIFIER_SERVER_DECISION_LOG_H_
#define TEE_VERIFIER_SERVER_DECISION_LOG_H_

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace teeverify::server {

class DecisionLog {
 public:
  // Logs to `path` (appending), or to stderr when empty.
  explicit DecisionLog(const std::string& path);
  ~DecisionLog();

  // Writes {"time": ..., "level": level, "event": event, ...fields} as one line.
  void Write(absl::string_view level, absl::string_view event, nlohmann::ordered_json fields = {});

 private:
  absl::Mutex mu_;
  FILE* out_;
  bool owned_;
};

}  // namespace teeverify::server

#endif  // TEE_VERIFIER_SERVER_DECISION_LOG_H_
