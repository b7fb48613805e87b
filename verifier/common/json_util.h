// Strict, exception-free reads from JSON collateral (nlohmann::json), with errors that carry the
// path of the offending value ("tcb_info_response.json: tcbInfo.tcbLevels[3].tcb.pcesvn: ...").
#ifndef TEE_VERIFIER_COMMON_JSON_UTIL_H_
#define TEE_VERIFIER_COMMON_JSON_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify {

using Json = nlohmann::json;

// The deepest nesting of arrays and objects ParseJson accepts unless its caller names a tighter
// bound (a flat object is depth 1). Nothing this verifier reads nests deeper than 7 (a PCS TCB
// info response); nlohmann builds every nested value, so 64 KiB of '[' would cost ten times a
// normal document of that size.
inline constexpr int kMaxJsonDepth = 16;

// Parses a JSON document without exceptions. `reason` is used for the errors. Nesting deeper than
// `max_depth` is refused by a linear scan before the document is parsed, with an error naming the
// top-level member it is in and the limit.
absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what, Reason reason,
                               int max_depth = kMaxJsonDepth);

// The scan ParseJson runs first: OK when no array or object of `text` nests deeper than
// `max_depth`. Only brackets outside strings are counted; `text` need not be valid JSON.
absl::Status CheckJsonDepth(absl::string_view text, absl::string_view what, Reason reason,
                            int max_depth);

// The members of a top-level JSON object as raw text, in order, without parsing the values (signed
// PCS collateral is signed over these raw bytes, so they must not be re-serialized):
// `{ "k1": <v1>, "k2": <v2> }` followed only by whitespace. Keys are returned as written (escapes
// are not decoded, so an escaped key never equals a plain one). Values are only delimited here;
// a caller must parse any value it uses. Duplicate keys are refused.
absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> RawTopLevelMembers(
    absl::string_view json, absl::string_view what);

// Typed member access. `path` is the dotted path of `obj` used in errors.
class JsonFields {
 public:
  JsonFields(const Json& obj, std::string path, Reason reason)
      : obj_(obj), path_(std::move(path)), reason_(reason) {}

  bool Has(absl::string_view key) const;
  absl::StatusOr<const Json*> Object(absl::string_view key) const;
  absl::StatusOr<const Json*> Array(absl::string_view key) const;
  absl::StatusOr<std::string> String(absl::string_view key) const;
  absl::StatusOr<uint64_t> Uint(absl::string_view key, uint64_t max) const;
  absl::StatusOr<absl::Time> Time(absl::string_view key) const;
  template <size_t N>
  absl::StatusOr<ByteArray<N>> Hex(absl::string_view key) const {
    absl::StatusOr<std::string> text = String(key);
    if (!text.ok()) return text.status();
    absl::StatusOr<ByteArray<N>> out = HexDecodeArray<N>(*text, FieldPath(key));
    if (!out.ok()) return MakeError(reason_, out.status().message());
    return out;
  }

  absl::Status Error(absl::string_view key, absl::string_view problem) const;
  std::string FieldPath(absl::string_view key) const;
  const std::string& path() const { return path_; }
  Reason reason() const { return reason_; }

 private:
  absl::StatusOr<const Json*> Member(absl::string_view key) const;

  const Json& obj_;
  std::string path_;
  Reason reason_;
};

}  // namespace teeverify

#endif  // TEE_VERIFIER_COMMON_JSON_UTIL_H_
