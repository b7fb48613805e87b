// SEV-SNP: measurement-like claims as value lists, plus minimum guest SVN, minimum TCBs per
// component (reported, launch, committed, current), provisional firmware, minimum firmware
// version, allowed products and signing keys, the most privileged VMPL allowed, and the guest
// policy (AMD SEV-SNP ABI spec 56860, "Guest Policy"; "ATTESTATION_REPORT Structure").
#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "verifier/common/byte_reader.h"
#include "verifier/policy/tee_rules.h"
#include "verifier/snp/report.h"
#include "verifier/snp/snp_claims.h"

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

// The launch measurement, or the key that signed the ID block (which the PSP checked against the
// measurement at launch). HOST_DATA is the host's; FAMILY_ID and IMAGE_ID are claims of the ID
// block, meaningful only with its key pinned.
const ImageAnchor kSnpAnchors[] = {
    {{"sev_snp.measurement"}},
    {{"sev_snp.id_key_digest"}, /*zero_means_unsigned=*/true},
    {{"sev_snp.author_key_digest"}, /*zero_means_unsigned=*/true}};

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

// A TCB minimum of the role and the claim it compares.
struct TcbRule {
  absl::string_view role_field;  // "min_reported_tcb"
  absl::string_view claim;       // "reported_tcb"
  const v1::SnpTcbMinimum& (v1::SnpPolicy::*minimum)() const;
  snp::TcbVersion snp::SnpClaims::*actual;
};

const TcbRule kTcbRules[] = {
    {"min_reported_tcb", "reported_tcb", &v1::SnpPolicy::min_reported_tcb,
     &snp::SnpClaims::reported_tcb},
    {"min_launch_tcb", "launch_tcb", &v1::SnpPolicy::min_launch_tcb, &snp::SnpClaims::launch_tcb},
    {"min_committed_tcb", "committed_tcb", &v1::SnpPolicy::min_committed_tcb,
     &snp::SnpClaims::committed_tcb},
    {"min_current_tcb", "current_tcb", &v1::SnpPolicy::min_current_tcb,
     &snp::SnpClaims::current_tcb},
};

// A guest policy bit and the role flag that governs it. A bit that grants the host something is
// checked unless the role allows it (flag true); a bit that restricts the host is checked when
// the role requires it (flag true). Checked bits must not have `refused_value`.
struct GuestPolicyRule {
  int bit;
  absl::string_view claim;      // "sev_snp.policy.migrate_ma"
  absl::string_view role_flag;  // "sev_snp.allow_migrate_ma"
  bool (v1::SnpPolicy::*flag)() const;
  bool checked_when;
  bool refused_value;
};

const GuestPolicyRule kGuestPolicyRules[] = {
    {snp::kPolicyMigrateMaBit, "sev_snp.policy.migrate_ma", "sev_snp.allow_migrate_ma",
     &v1::SnpPolicy::allow_migrate_ma, false, true},
    {snp::kPolicyCxlAllowBit, "sev_snp.policy.cxl_allow", "sev_snp.allow_cxl",
     &v1::SnpPolicy::allow_cxl, false, true},
    {snp::kPolicySmtBit, "sev_snp.policy.smt", "sev_snp.require_smt_disabled",
     &v1::SnpPolicy::require_smt_disabled, true, true},
    {snp::kPolicySingleSocketBit, "sev_snp.policy.single_socket", "sev_snp.require_single_socket",
     &v1::SnpPolicy::require_single_socket, true, false},
    {snp::kPolicyMemAes256XtsBit, "sev_snp.policy.mem_aes_256_xts",
     "sev_snp.require_mem_aes_256_xts", &v1::SnpPolicy::require_mem_aes_256_xts, true, false},
    {snp::kPolicyRaplDisBit, "sev_snp.policy.rapl_dis", "sev_snp.require_rapl_dis",
     &v1::SnpPolicy::require_rapl_dis, true, false},
    {snp::kPolicyCiphertextHidingDramBit, "sev_snp.policy.ciphertext_hiding_dram",
     "sev_snp.require_ciphertext_hiding", &v1::SnpPolicy::require_ciphertext_hiding, true, false},
    {snp::kPolicyPageSwapDisableBit, "sev_snp.policy.page_swap_disable",
     "sev_snp.require_page_swap_disable", &v1::SnpPolicy::require_page_swap_disable, true, false},
};

// "major.minor" or "major.minor.build", each 0-255; a missing build is nullopt.
struct FirmwareMinimum {
  uint32_t major = 0, minor = 0;
  std::optional<uint32_t> build;
};

std::optional<FirmwareMinimum> ParseFirmware(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  uint32_t n[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty() || parts[i].size() > 3 ||
        !std::all_of(parts[i].begin(), parts[i].end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(parts[i], &n[i]) || n[i] > 255) {
      return std::nullopt;
    }
  }
  FirmwareMinimum out{n[0], n[1], std::nullopt};
  if (parts.size() == 3) out.build = n[2];
  return out;
}

void ValidateSnp(v1::Policy* p, std::vector<std::string>* errors) {
  v1::SnpPolicy* snp = p->mutable_sev_snp();
  NormalizeNames(snp->mutable_products(), "sev_snp.products", kProducts, errors);
  NormalizeNames(snp->mutable_signing_keys(), "sev_snp.signing_keys", kSigningKeys, errors);
  if (snp->has_max_vmpl() && snp->max_vmpl() > 3) {
    errors->push_back(absl::StrCat("sev_snp.max_vmpl: ", snp->max_vmpl(), " is not a VMPL (0-3)"));
  }
  for (const TcbRule& rule : kTcbRules) {
    for (size_t i = 0; i < 5; ++i) {
      std::optional<uint32_t> min = Minimum((snp->*rule.minimum)(), i);
      if (min && *min > 255) {
        errors->push_back(absl::StrCat("sev_snp.", rule.role_field, ".", kTcbComponents[i], ": ",
                                       *min, " exceeds 255"));
      }
    }
  }
  for (auto [has, value, name] :
       {std::tuple(snp->has_min_abi_major(), snp->min_abi_major(), "min_abi_major"),
        std::tuple(snp->has_min_abi_minor(), snp->min_abi_minor(), "min_abi_minor")}) {
    if (has && value > 255) {
      errors->push_back(absl::StrCat("sev_snp.", name, ": ", value, " exceeds 255"));
    }
  }
  if (snp->has_min_abi_minor() && !snp->has_min_abi_major()) {
    errors->push_back("sev_snp.min_abi_minor: set without sev_snp.min_abi_major");
  }
  if (snp->has_min_firmware() && !ParseFirmware(snp->min_firmware())) {
    errors->push_back(absl::StrCat("sev_snp.min_firmware: \"", snp->min_firmware(),
                                   "\" is not \"major.minor\" or \"major.minor.build\" (each 0-255)"));
  }
}

void CheckTcbMinimums(const snp::SnpClaims& s, const v1::SnpPolicy& rule,
                      std::vector<Mismatch>* out) {
  for (const TcbRule& tcb : kTcbRules) {
    for (size_t i = 0; i < 5; ++i) {
      const std::optional<uint32_t> min = Minimum((rule.*tcb.minimum)(), i);
      if (!min) continue;
      const std::optional<uint8_t> actual = Component(s.*tcb.actual, i);
      if (!actual || *actual < *min) {
        out->push_back(
            {absl::StrCat("sev_snp.", tcb.claim, ".", kTcbComponents[i]),
             {absl::StrCat(">= ", *min)},
             actual ? absl::StrCat(*actual) : "absent (this product has no such component)"});
      }
    }
  }
}

// Firmware whose CURRENT_TCB or version runs ahead of the committed one has not been committed
// and can be rolled back to the committed one, with its vulnerabilities.
void CheckFirmware(const snp::SnpClaims& s, const v1::SnpPolicy& rule, std::vector<Mismatch>* out) {
  if (!rule.allow_provisional_firmware()) {
    if (s.current_tcb.raw != s.committed_tcb.raw) {
      out->push_back({"sev_snp.current_tcb",
                      {absl::StrCat("equal to committed_tcb 0x", absl::Hex(s.committed_tcb.raw),
                                    " (set sev_snp.allow_provisional_firmware to admit provisional"
                                    " firmware)")},
                      absl::StrCat("0x", absl::Hex(s.current_tcb.raw))});
    }
    if (s.current_firmware != s.committed_firmware) {
      out->push_back({"sev_snp.current_firmware",
                      {absl::StrCat("equal to committed_firmware ", s.committed_firmware,
                                    " (set sev_snp.allow_provisional_firmware to admit provisional"
                                    " firmware)")},
                      s.current_firmware});
    }
  }
  if (rule.has_min_firmware()) {
    const std::optional<FirmwareMinimum> min = ParseFirmware(rule.min_firmware());
    const snp::FirmwareVersion& v = s.committed_version;
    const bool ok =
        min && std::tuple(uint32_t{v.major}, uint32_t{v.minor}, uint32_t{v.build}) >=
                   std::tuple(min->major, min->minor, min->build.value_or(0));
    if (!ok) {
      out->push_back({"sev_snp.committed_firmware", {absl::StrCat(">= ", rule.min_firmware())},
                      s.committed_firmware});
    }
  }
}

// The guest policy is the host's choice at launch and is not part of the measurement.
void CheckGuestPolicy(const snp::SnpClaims& s, const v1::SnpPolicy& rule,
                      std::vector<Mismatch>* out) {
  for (const GuestPolicyRule& g : kGuestPolicyRules) {
    if ((rule.*g.flag)() != g.checked_when) continue;
    const bool bit = (s.policy >> g.bit) & 1;
    if (bit != g.refused_value) continue;
    const absl::string_view how = g.checked_when ? " (required by " : " (unless ";
    out->push_back({std::string(g.claim),
                    {absl::StrCat(g.refused_value ? "false" : "true", how, g.role_flag,
                                  g.checked_when ? ")" : " is true)")},
                    bit ? "true" : "false"});
  }
  if (rule.has_min_abi_major()) {
    const uint32_t major = (s.policy >> 8) & 0xff, minor = s.policy & 0xff;
    if (std::pair(major, minor) < std::pair(rule.min_abi_major(), rule.min_abi_minor())) {
      out->push_back({"sev_snp.policy.abi",
                      {absl::StrCat(">= ", rule.min_abi_major(), ".", rule.min_abi_minor())},
                      absl::StrCat(major, ".", minor)});
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
  CheckTcbMinimums(s, rule, out);
  CheckFirmware(s, rule, out);
  CheckGuestPolicy(s, rule, out);
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
  // Unset means 0: a report requested from a less privileged VMPL is not the guest's own.
  const uint32_t max_vmpl = rule.has_max_vmpl() ? rule.max_vmpl() : 0;
  if (s.vmpl > max_vmpl) {
    out->push_back({"sev_snp.vmpl", {absl::StrCat("<= ", max_vmpl)}, absl::StrCat(s.vmpl)});
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
                               &ValidateSnp, &CheckSnp, kSnpAnchors, &SnpIdentity};
  return kRules;
}

}  // namespace teeverify::policy
