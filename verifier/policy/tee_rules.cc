#include "verifier/policy/tee_rules.h"

#include "absl/strings/str_cat.h"
#include "verifier/common/hex.h"
#include "verifier/common/openssl_util.h"

namespace teeverify::policy {

const TeeRules& RulesOf(TeeKind tee) {
  switch (tee) {
    case TeeKind::kSevSnp:
      return SnpRules();
    case TeeKind::kNitro:
      return NitroRules();
    case TeeKind::kTdx:
      break;
  }
  return TdxRules();
}

std::string IdentityDigest(TeeKind tee, std::initializer_list<std::string> parts) {
  std::string all;
  for (const std::string& part : parts) all += part;
  return absl::StrCat(TeeKindName(tee), ":", HexEncode(Sha256(all)));
}

}  // namespace teeverify::policy
