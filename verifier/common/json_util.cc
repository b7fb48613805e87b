#include "verifier/common/json_util.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "verifier/common/status_macros.h"
#include "verifier/common/time_util.h"

namespace teeverify {
namespace {

// A minimal cursor over text already known to be valid JSON; it only finds value boundaries.
class RawScanner {
 public:
  explicit RawScanner(absl::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Reads a string token (cursor on its opening quote) and returns its raw contents.
  bool String(absl::string_view* out) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    const size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') pos_ += (text_[pos_] == '\\') ? 2 : 1;
    if (pos_ >= text_.size()) return false;
    *out = text_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }
  // Skips one value and returns its exact text.
  bool Value(absl::string_view* out) {
    SkipSpace();
    const size_t start = pos_;
    if (pos_ >= text_.size()) return false;
    const char first = text_[pos_];
    if (first == '"') {
      absl::string_view ignored;
      if (!String(&ignored)) return false;
    } else if (first == '{' || first == '[') {
      int depth = 0;
      do {
        const char c = text_[pos_];
        if (c == '"') {
          absl::string_view ignored;
          if (!String(&ignored)) return false;
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++pos_;
      } while (depth > 0 && pos_ < text_.size());
      if (depth != 0) return false;
    } else {  // number, true, false, null
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' &&
             text_[pos_] != ']' && text_[pos_] != ' ' && text_[pos_] != '\n' &&
             text_[pos_] != '\r' && text_[pos_] != '\t') {
        ++pos_;
      }
    }
    *out = text_.substr(start, pos_ - start);
    return pos_ > start;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status CheckJsonDepth(absl::string_view text, absl::string_view what, Reason reason,
                            int max_depth) {
  int depth = 0;
  // The top-level member being read: the last string closed at depth 1 followed by ':'.
  absl::string_view last_string, member;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t start = ++i;
      while (i < text.size() && text[i] != '"') i += (text[i] == '\\') ? 2 : 1;
      last_string = text.substr(start, std::min(i, text.size()) - start);
    } else if (c == ':' && depth == 1) {
      member = last_string.substr(0, 64);  // a name, not 64 KiB of it, in the error
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return MakeError(reason, absl::StrCat(what, ": ", member,
                                              member.empty() ? "" : ": ", "nesting deeper than the ",
                                              max_depth, " levels of arrays and objects accepted "
                                              "(at byte ", i, ")"));
      }
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == 0) member = {};
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what, Reason reason,
                               int max_depth) {
  RETURN_IF_ERROR(CheckJsonDepth(text, what, reason, max_depth));
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MakeError(reason, absl::StrCat(what, ": not valid JSON"));
  return doc;
}

absl::StatusOr<std::vector<std::pair<absl::string_view, absl::string_view>>> RawTopLevelMembers(
    absl::string_view json, absl::string_view what) {
  auto invalid = [&](absl::string_view why) {
    return MakeError(v1::REASON_COLLATERAL_INVALID, absl::StrCat(what, ": ", why));
  };
  RawScanner s(json);
  if (!s.Consume('{')) return invalid("not a JSON object");
  std::vector<std::pair<absl::string_view, absl::string_view>> members;
  if (!s.Consume('}')) {
    do {
      absl::string_view name, value;
      if (!s.String(&name) || !s.Consume(':') || !s.Value(&value)) {
        return invalid("unreadable top-level member");
      }
      members.emplace_back(name, value);
    } while (s.Consume(','));
    if (!s.Consume('}')) return invalid("unterminated top-level object");
  }
  if (!s.AtEnd()) return invalid("bytes after the top-level object");
  // Sorted names, not every pair compared: the cost stays linear-logarithmic in the members.
  std::vector<absl::string_view> names;
  names.reserve(members.size());
  for (const auto& [name, unused] : members) names.push_back(name);
  std::sort(names.begin(), names.end());
  if (auto twice = std::adjacent_find(names.begin(), names.end()); twice != names.end()) {
    return invalid(absl::StrCat("top-level member \"", *twice, "\" appears more than once"));
  }
  return members;
}

std::string JsonFields::FieldPath(absl::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
}

absl::Status JsonFields::Error(absl::string_view key, absl::string_view problem) const {
  return MakeError(reason_, absl::StrCat(FieldPath(key), ": ", problem));
}

bool JsonFields::Has(absl::string_view key) const {
  return obj_.is_object() && obj_.find(key) != obj_.end();
}

absl::StatusOr<const Json*> JsonFields::Member(absl::string_view key) const {
  if (!obj_.is_object()) return MakeError(reason_, absl::StrCat(path_, ": not an object"));
  auto it = obj_.find(key);
  if (it == obj_.end()) return Error(key, "missing");
  return &*it;
}

absl::StatusOr<const Json*> JsonFields::Object(absl::string_view key) const {
  absl::StatusOr<const Json*> v = Member(key);
  if (v.ok() && !(*v)->is_object()) return Error(key, "expected an object");
  return v;
}

absl::StatusOr<const Json*> JsonFields::Array(absl::string_view key) const {
  absl::StatusOr<const Json*> v = Member(key);
  if (v.ok() && !(*v)->is_array()) return Error(key, "expected an array");
  return v;
}

absl::StatusOr<std::string> JsonFields::String(absl::string_view key) const {
  absl::StatusOr<const Json*> v = Member(key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_string()) return Error(key, "expected a string");
  return (*v)->get<std::string>();
}

absl::StatusOr<uint64_t> JsonFields::Uint(absl::string_view key, uint64_t max) const {
  absl::StatusOr<const Json*> v = Member(key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_number_unsigned()) return Error(key, "expected a non-negative integer");
  const uint64_t value = (*v)->get<uint64_t>();
  if (value > max) return Error(key, absl::StrCat("value ", value, " exceeds ", max));
  return value;
}

absl::StatusOr<absl::Time> JsonFields::Time(absl::string_view key) const {
  absl::StatusOr<std::string> text = String(key);
  if (!text.ok()) return text.status();
  absl::StatusOr<absl::Time> t = ParseRfc3339(*text, FieldPath(key));
  if (!t.ok()) return MakeError(reason_, t.status().message());
  return t;
}

}  // namespace teeverify
