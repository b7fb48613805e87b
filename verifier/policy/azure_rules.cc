// Azure confidential VMs (az-snp-vtpm, az-tdx-vtpm): the vTPM's PCRs (SHA-256 bank) as value
// lists and the HCL runtime data's VM configuration flags. The hardware report's own fields are
// constrained by the sev_snp / tdx sections (the underlying rules); they measure Azure's
// paravisor, so only PCRs anchor the guest image: PCR 4 (boot manager / UKI / shim, grub,
// kernel as loaded by the firmware), 8 and 9 (grub's commands and the files it loads) and 11
// (the UKI's sections, systemd-stub). PCR 7 (Secure Boot policy) says who may sign, not what ran.
#include "absl/strings/str_cat.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {
namespace {

std::string Pcr(const Claims& c, uint32_t index) {
  if (!c.azure) return "";
  auto it = c.azure->pcrs.find(index);
  return it == c.azure->pcrs.end() ? "" : it->second;
}

constexpr bool IsAnchor(uint32_t index) {
  return index == 4 || index == 8 || index == 9 || index == 11;
}

#define AZURE_PCR(n)                                                                          \
  ValueField {                                                                                \
    "azure.pcr" #n, 32, IsAnchor(n),                                                          \
        [](v1::Policy* p) { return p->mutable_azure()->mutable_pcr##n(); },                   \
        [](const v1::Policy& p) -> const StringList& { return p.azure().pcr##n(); },          \
        [](const Claims& c) { return Pcr(c, n); }                                             \
  }

const ValueField kAzureFields[] = {
    AZURE_PCR(0),  AZURE_PCR(1),  AZURE_PCR(2),  AZURE_PCR(3),  AZURE_PCR(4),  AZURE_PCR(5),
    AZURE_PCR(6),  AZURE_PCR(7),  AZURE_PCR(8),  AZURE_PCR(9),  AZURE_PCR(10), AZURE_PCR(11),
    AZURE_PCR(12), AZURE_PCR(13), AZURE_PCR(14), AZURE_PCR(15), AZURE_PCR(16), AZURE_PCR(17),
    AZURE_PCR(18), AZURE_PCR(19), AZURE_PCR(20), AZURE_PCR(21), AZURE_PCR(22), AZURE_PCR(23),
};

#undef AZURE_PCR

// Any one of the boot chain's PCRs pins the guest image (see the top of this file); the report's
// own measurements (sev_snp / tdx) are Azure's paravisor and never count.
const ImageAnchor kAzureAnchors[] = {
    {{"azure.pcr4"}}, {{"azure.pcr8"}}, {{"azure.pcr9"}}, {{"azure.pcr11"}}};

struct Flag {
  absl::string_view name;  // as the runtime data's vm-configuration names it
  bool (*has)(const v1::AzurePolicy&);
  bool (*value)(const v1::AzurePolicy&);
};

const Flag kFlags[] = {
    {"secure-boot", [](const v1::AzurePolicy& p) { return p.has_secure_boot(); },
     [](const v1::AzurePolicy& p) { return p.secure_boot(); }},
    {"tpm-enabled", [](const v1::AzurePolicy& p) { return p.has_tpm_enabled(); },
     [](const v1::AzurePolicy& p) { return p.tpm_enabled(); }},
    {"console-enabled", [](const v1::AzurePolicy& p) { return p.has_console_enabled(); },
     [](const v1::AzurePolicy& p) { return p.console_enabled(); }},
    {"tpm-persisted", [](const v1::AzurePolicy& p) { return p.has_tpm_persisted(); },
     [](const v1::AzurePolicy& p) { return p.tpm_persisted(); }},
};

// A flag the role sets must be present in the runtime data with that value.
void CheckAzure(const Claims& c, const v1::Policy& p, absl::Time now, std::vector<Mismatch>* out) {
  const TeeRules& hardware = c.tee == TeeKind::kAzSnpVtpm ? SnpRules() : TdxRules();
  if (hardware.check_extras != nullptr) hardware.check_extras(c, p, now, out);
  for (const Flag& flag : kFlags) {
    if (!flag.has(p.azure())) continue;
    const std::string expected = flag.value(p.azure()) ? "true" : "false";
    std::string actual = "absent";
    if (c.azure) {
      auto it = c.azure->vm_flags.find(std::string(flag.name));
      if (it != c.azure->vm_flags.end()) actual = it->second ? "true" : "false";
    }
    if (actual != expected) {
      out->push_back({absl::StrCat("azure.vm_configuration.", flag.name), {expected}, actual});
    }
  }
}

// The image anchor PCRs, in a fixed order.
std::string AzureIdentity(const Claims& c) {
  return IdentityDigest(c.tee, {Pcr(c, 4), Pcr(c, 8), Pcr(c, 9), Pcr(c, 11)});
}

// The Azure rules over the underlying TEE's: the same fields and checks for both kinds.
TeeRules AzureRules(TeeKind kind, const TeeRules* hardware) {
  return TeeRules{kind,
                  "azure",
                  [](const v1::Policy& p) { return p.has_azure(); },
                  kAzureFields,
                  /*validate_extras=*/nullptr,
                  &CheckAzure,
                  kAzureAnchors,
                  &AzureIdentity,
                  hardware};
}

}  // namespace

const TeeRules& AzSnpRules() {
  static const TeeRules kRules = AzureRules(TeeKind::kAzSnpVtpm, &SnpRules());
  return kRules;
}

const TeeRules& AzTdxRules() {
  static const TeeRules kRules = AzureRules(TeeKind::kAzTdxVtpm, &TdxRules());
  return kRules;
}

}  // namespace teeverify::policy
