#include "verifier/policy/tee_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::policy {

const TeeRules& RulesOf(TeeKind tee) {
  switch (tee) {
    case TeeKind::kSevSnp:
      return SnpRules();
    case TeeKind::kNitro:
      return NitroRules();
    case TeeKind::kAzSnpVtpm:
      return AzSnpRules();
    case TeeKind::kAzTdxVtpm:
      return AzTdxRules();
    case TeeKind::kTdx:
      break;
  }
  return TdxRules();
}

bool PinsImage(const TeeRules& tee, const v1::Policy& policy) {
  for (const ImageAnchor& anchor : tee.anchors) {
    bool pinned = true;
    for (absl::string_view name : anchor.fields) {
      auto field = std::find_if(tee.fields.begin(), tee.fields.end(),
                                [&](const ValueField& f) { return f.name == name; });
      const StringList& values = field->allowed(policy);
      pinned &= !values.empty() &&
                (!anchor.zero_means_unsigned ||
                 std::none_of(values.begin(), values.end(), [](const std::string& v) {
                   return v.find_first_not_of('0') == std::string::npos;
                 }));
    }
    if (pinned) return true;
  }
  return false;
}

std::string DescribeAnchors(const TeeRules& tee) {
  std::vector<std::string> anchors;
  for (const ImageAnchor& anchor : tee.anchors) anchors.push_back(absl::StrJoin(anchor.fields, " + "));
  return absl::StrJoin(anchors, ", or ");
}

std::string IdentityDigest(TeeKind tee, std::initializer_list<std::string> parts) {
  std::string all;
  for (const std::string& part : parts) all += part;
  return absl::StrCat(TeeKindName(tee), ":", HexEncode(Sha256(all)));
}

}  // namespace teeverify::policy
