// SEV-SNP: measurement-like claims as value lists, plus minimum guest SVN, minimum reported TCB
// per component, allowed products and signing keys, and the most privileged VMPL allowed.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/byte_reader.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {
namespace {

#define SNP_FIELD(field, len)                                                                 \
  ValueField {                                                                                \
    "sev_snp." #field, len, true,                                                             \
        [](v1::Policy* p) { return p->mutable_sev_snp()->mutable_##field(); },                \
        [](const v1::Policy& p) -> const StringList& { return p.sev_snp().field(); },         \
        [](const Claims& c) {                                                                 \
          return c.sev_snp ? std::string(AsView(c.sev_snp->field)) : std::string();          \
        }                                                                                     \
  }

const ValueField kSnpFields[] = {
    SNP_FIELD(measurement, 48),   SNP_FIELD(host_data, 32), SNP_FIELD(id_key_digest, 48),
    SNP_FIELD(author_key_digest, 48), SNP_FIELD(family_id, 16), SNP_FIELD(image_id, 16),
};

#undef SNP_FIELD

constexpr absl::string_view kProducts[] = {"Milan", "Genoa", "Turin"};
constexpr absl::string_view kSigningKeys[] = {"vcek", "vlek"};
constexpr absl::string_view kTcbComponents[] = {"boot_loader", "tee", "snp", "microcode", "fmc"};

// Canonicalizes names (case-insensitive) against `allowed` and removes duplicates.
void NormalizeNames(StringList* values, absl::string_view field,
                    absl::Span<const absl::string_view> allowed, std::vector<std::string>* errors) {
  std::vector<std::string> seen;
  for (int i = 0; i < values->size(); ++i) {
    auto it = std::find_if(allowed.begin(), allowed.end(), [&](absl::string_view a) {
      return absl::EqualsIgnoreCase(a, (*values)[i]);
    });
    if (it == allowed.end()) {
      errors->push_back(absl::StrCat(field, "[", i, "]: \"", (*values)[i],
                                     "\" is not one of: ", absl::StrJoin(allowed, ", ")));
    } else if (std::find(seen.begin(), seen.end(), *it) == seen.end()) {
      seen.emplace_back(*it);
    }
  }
  values->Clear();
  for (std::string& v : seen) values->Add(std::move(v));
}

// The minimum for component `i` of kTcbComponents, if the role sets one.
std::optional<uint32_t> Minimum(const v1::SnpTcbMinimum& t, size_t i) {
  switch (i) {
    case 0: return t.has_boot_loader() ? std::optional(t.boot_loader()) : std::nullopt;
    case 1: return t.has_tee() ? std::optional(t.tee()) : std::nullopt;
    case 2: return t.has_snp() ? std::optional(t.snp()) : std::nullopt;
    case 3: return t.has_microcode() ? std::optional(t.microcode()) : std::nullopt;
    default: return t.has_fmc() ? std::optional(t.fmc()) : std::nullopt;
  }
}

std::optional<uint8_t> Component(const snp::TcbVersion& tcb, size_t i) {
  switch (i) {
    case 0: return tcb.boot_loader;
    case 1: return tcb.tee;
    case 2: return tcb.snp;
    case 3: return tcb.microcode;
    default: return tcb.fmc;
  }
}

void ValidateSnp(v1::Policy* p, std::vector<std::string>* errors) {
  v1::SnpPolicy* snp = p->mutable_sev_snp();
  NormalizeNames(snp->mutable_products(), "sev_snp.products", kProducts, errors);
  NormalizeNames(snp->mutable_signing_keys(), "sev_snp.signing_keys", kSigningKeys, errors);
  if (snp->has_max_vmpl() && snp->max_vmpl() > 3) {
    errors->push_back(absl::StrCat("sev_snp.max_vmpl: ", snp->max_vmpl(), " is not a VMPL (0-3)"));
  }
  for (size_t i = 0; i < 5; ++i) {
    std::optional<uint32_t> min = Minimum(snp->min_reported_tcb(), i);
    if (min && *min > 255) {
      errors->push_back(absl::StrCat("sev_snp.min_reported_tcb.", kTcbComponents[i], ": ", *min,
                                     " exceeds 255"));
    }
  }
}

void CheckSnp(const Claims& c, const v1::Policy& p, absl::Time, std::vector<Mismatch>* out) {
  const snp::SnpClaims& s = *c.sev_snp;
  const v1::SnpPolicy& rule = p.sev_snp();
  if (rule.has_min_guest_svn() && s.guest_svn < rule.min_guest_svn()) {
    out->push_back({"sev_snp.guest_svn", {absl::StrCat(">= ", rule.min_guest_svn())},
                    absl::StrCat(s.guest_svn)});
  }
  for (size_t i = 0; i < 5; ++i) {
    const std::optional<uint32_t> min = Minimum(rule.min_reported_tcb(), i);
    if (!min) continue;
    const std::optional<uint8_t> actual = Component(s.reported_tcb, i);
    if (!actual || *actual < *min) {
      out->push_back({absl::StrCat("sev_snp.reported_tcb.", kTcbComponents[i]),
                      {absl::StrCat(">= ", *min)},
                      actual ? absl::StrCat(*actual) : "absent (this product has no such component)"});
    }
  }
  const std::string product(snp::ProductName(s.product));
  if (!rule.products().empty() &&
      std::find(rule.products().begin(), rule.products().end(), product) == rule.products().end()) {
    out->push_back({"sev_snp.product", {rule.products().begin(), rule.products().end()}, product});
  }
  const std::string key = s.vlek ? "vlek" : "vcek";
  if (!rule.signing_keys().empty() &&
      std::find(rule.signing_keys().begin(), rule.signing_keys().end(), key) ==
          rule.signing_keys().end()) {
    out->push_back({"sev_snp.signing_key", {rule.signing_keys().begin(), rule.signing_keys().end()},
                    key});
  }
  if (rule.has_max_vmpl() && s.vmpl > rule.max_vmpl()) {
    out->push_back({"sev_snp.vmpl", {absl::StrCat("<= ", rule.max_vmpl())}, absl::StrCat(s.vmpl)});
  }
}

// The guest's launch measurement (firmware, kernel, initrd, command line as measured by the PSP).
std::string SnpIdentity(const Claims& c) {
  return IdentityDigest(TeeKind::kSevSnp, {std::string(AsView(c.sev_snp->measurement))});
}

}  // namespace

const TeeRules& SnpRules() {
  static const TeeRules kRules{TeeKind::kSevSnp, "sev_snp",
                               [](const v1::Policy& p) { return p.has_sev_snp(); }, kSnpFields,
                               &ValidateSnp, &CheckSnp, &SnpIdentity};
  return kRules;
}

}  // namespace teeverify::policy
