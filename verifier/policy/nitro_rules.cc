// Nitro: the PCRs that describe the enclave image (0: image, 1: kernel and bootstrap,
// 2: application, 3: IAM role of the parent instance, 4: parent instance ID, 8: the image's
// signing certificate), SHA-384 so 48 bytes each; and the document's age.
#include "absl/strings/str_cat.h"
#include "verifier/common/time_util.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {
namespace {

std::string Pcr(const Claims& c, uint32_t index) {
  if (!c.nitro) return "";
  auto it = c.nitro->pcrs.find(index);
  return it == c.nitro->pcrs.end() ? "" : it->second;
}

#define NITRO_FIELD(n)                                                                        \
  ValueField {                                                                                \
    "nitro.pcr" #n, 48, true,                                                                 \
        [](v1::Policy* p) { return p->mutable_nitro()->mutable_pcr##n(); },                   \
        [](const v1::Policy& p) -> const StringList& { return p.nitro().pcr##n(); },          \
        [](const Claims& c) { return Pcr(c, n); }                                             \
  }

const ValueField kNitroFields[] = {NITRO_FIELD(0), NITRO_FIELD(1), NITRO_FIELD(2),
                                   NITRO_FIELD(3), NITRO_FIELD(4), NITRO_FIELD(8)};

#undef NITRO_FIELD

// The whole image (PCR0), its kernel and application (PCR1 and PCR2), or its signing certificate
// (PCR8). PCR3 and PCR4 describe the parent instance, i.e. the host.
const ImageAnchor kNitroAnchors[] = {
    {{"nitro.pcr0"}}, {{"nitro.pcr1", "nitro.pcr2"}}, {{"nitro.pcr8"}, /*zero_means_unsigned=*/true}};

// A document is produced on request; an old one is a replay even when its nonce matches.
void CheckNitro(const Claims& c, const v1::Policy& p, absl::Time now, std::vector<Mismatch>* out) {
  const absl::Time produced = absl::FromUnixMillis(static_cast<int64_t>(c.nitro->timestamp_ms));
  const absl::Duration age = now - produced;
  if (age > absl::Seconds(p.max_evidence_age_seconds())) {
    out->push_back({"nitro.timestamp",
                    {absl::StrCat("at most ", p.max_evidence_age_seconds(), "s before ",
                                  FormatRfc3339(now))},
                    absl::StrCat(FormatRfc3339(produced), " (", absl::ToInt64Seconds(age),
                                 "s old)")});
  }
}

// The enclave image (PCR0), kernel and bootstrap (PCR1) and application (PCR2).
std::string NitroIdentity(const Claims& c) {
  return IdentityDigest(TeeKind::kNitro, {Pcr(c, 0), Pcr(c, 1), Pcr(c, 2)});
}

}  // namespace

const TeeRules& NitroRules() {
  static const TeeRules kRules{TeeKind::kNitro, "nitro",
                               [](const v1::Policy& p) { return p.has_nitro(); }, kNitroFields,
                               /*validate_extras=*/nullptr, &CheckNitro, kNitroAnchors,
                               &NitroIdentity};
  return kRules;
}

}  // namespace teeverify::policy
