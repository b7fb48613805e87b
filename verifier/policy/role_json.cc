#include "verifier/policy/role_json.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "verifier/common/errors.h"
#include "verifier/common/json_util.h"

namespace teeverify::policy {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

using FieldPath = std::vector<const FieldDescriptor*>;

void Flatten(const google::protobuf::Descriptor* message, const std::string& prefix,
             FieldPath path, std::map<std::string, FieldPath>& out) {
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* f = message->field(i);
    const std::string name = prefix.empty() ? f->name() : absl::StrCat(prefix, "_", f->name());
    FieldPath p = path;
    p.push_back(f);
    if (f->type() == FieldDescriptor::TYPE_MESSAGE && !f->is_repeated()) {
      Flatten(f->message_type(), name, p, out);
    } else {
      out.emplace(name, std::move(p));
    }
  }
}

const std::map<std::string, FieldPath>& RoleFields() {
  static const auto* fields = [] {
    auto* m = new std::map<std::string, FieldPath>();
    Flatten(v1::Policy::descriptor(), "", {}, *m);
    return m;
  }();
  return *fields;
}

absl::Status BadField(absl::string_view name, absl::string_view problem) {
  return MakeError(v1::REASON_BAD_REQUEST, absl::StrCat("role JSON: ", name, ": ", problem));
}

absl::StatusOr<std::vector<std::string>> StringList(absl::string_view name,
                                                    const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    for (absl::string_view s : absl::StrSplit(v.get_ref<const std::string&>(), ',')) {
      s = absl::StripAsciiWhitespace(s);
      if (!s.empty()) out.emplace_back(s);
    }
    return out;
  }
  if (!v.is_array()) return BadField(name, "expected a list of strings");
  for (const nlohmann::json& item : v) {
    if (!item.is_string()) return BadField(name, "expected a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<bool> Bool(absl::string_view name, const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string() && (v == "true" || v == "false")) return v == "true";
  return BadField(name, "expected true or false");
}

absl::StatusOr<int64_t> Integer(absl::string_view name, const nlohmann::json& v, int64_t max) {
  int64_t n = -1;
  if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (!v.is_string() || !absl::SimpleAtoi(v.get_ref<const std::string&>(), &n)) {
    return BadField(name, "expected a whole number");
  }
  if (n < 0 || n > max) return BadField(name, absl::StrCat(n, " is out of range"));
  return n;
}

absl::Status SetField(Message& policy, absl::string_view name, const FieldPath& path,
                      const nlohmann::json& value) {
  Message* msg = &policy;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    msg = msg->GetReflection()->MutableMessage(msg, path[i]);
  }
  const FieldDescriptor* leaf = path.back();
  const Reflection* r = msg->GetReflection();
  if (leaf->is_repeated()) {
    absl::StatusOr<std::vector<std::string>> list = StringList(name, value);
    if (!list.ok()) return list.status();
    r->ClearField(msg, leaf);
    for (const std::string& s : *list) r->AddString(msg, leaf, s);
    return absl::OkStatus();
  }
  switch (leaf->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: {
      absl::StatusOr<bool> b = Bool(name, value);
      if (!b.ok()) return b.status();
      r->SetBool(msg, leaf, *b);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      absl::StatusOr<int64_t> n = Integer(name, value, UINT32_MAX);
      if (!n.ok()) return n.status();
      r->SetUInt32(msg, leaf, static_cast<uint32_t>(*n));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      absl::StatusOr<int64_t> n = Integer(name, value, INT64_MAX);
      if (!n.ok()) return n.status();
      r->SetInt64(msg, leaf, *n);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING:
      if (!value.is_string()) return BadField(name, "expected a string");
      r->SetString(msg, leaf, value.get<std::string>());
      return absl::OkStatus();
    default:
      return BadField(name, "unsupported field type");
  }
}

}  // namespace

absl::StatusOr<v1::Policy> PolicyFromRoleJson(absl::string_view json) {
  if (json.size() > kMaxRoleJsonSize) {
    return MakeError(v1::REASON_BAD_REQUEST, absl::StrCat("role JSON: ", json.size(),
                                                          " bytes, more than the ",
                                                          kMaxRoleJsonSize, " accepted"));
  }
  absl::StatusOr<Json> parsed = ParseJson(json, "role JSON", v1::REASON_BAD_REQUEST,
                                          kMaxRoleJsonDepth);
  if (!parsed.ok()) return parsed.status();
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return MakeError(v1::REASON_BAD_REQUEST, "role JSON: expected a JSON object");
  }
  v1::Policy policy;
  for (const auto& [name, value] : doc.items()) {
    // The plugin's token settings and the role's name are not policy.
    if (absl::StartsWith(name, "token_") || name == "name") continue;
    const auto it = RoleFields().find(name);
    if (it == RoleFields().end()) return BadField(name, "unknown role field");
    if (absl::Status s = SetField(policy, name, it->second, value); !s.ok()) return s;
  }
  return policy;
}

}  // namespace teeverify::policy
