// TDX claims a role can constrain: the TD report's measurements as value lists, TD_ATTRIBUTES and
// XFAM as value/mask pairs (the host chooses both at TD creation, outside MRTD and the RTMRs;
// Intel TDX module ABI, TDINFO_STRUCT), and a minimum TEE_TCB_SVN.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "verifier/common/byte_reader.h"
#include "verifier/common/hex.h"
#include "verifier/policy/tee_rules.h"

namespace teeverify::policy {
namespace {

#define TDX_FIELD(field, expr, binds)                                                         \
  ValueField {                                                                                \
    "tdx." #field, 48, binds, [](v1::Policy* p) { return p->mutable_tdx()->mutable_##field(); }, \
        [](const v1::Policy& p) -> const StringList& { return p.tdx().field(); },            \
        [](const Claims& c) {                                                                 \
          return c.tdx ? std::string(AsView(c.tdx->body.expr)) : std::string();               \
        }                                                                                     \
  }

const ValueField kTdxFields[] = {
    TDX_FIELD(mrtd, mr_td, true),
    TDX_FIELD(rtmr0, rtmr[0], true),
    TDX_FIELD(rtmr1, rtmr[1], true),
    TDX_FIELD(rtmr2, rtmr[2], true),
    TDX_FIELD(rtmr3, rtmr[3], true),
    TDX_FIELD(mrconfigid, mr_config_id, true),
    TDX_FIELD(mrowner, mr_owner, true),
    TDX_FIELD(mrownerconfig, mr_owner_config, true),
    // The TDX module's measurement says which module hosts the TD, not what runs in it.
    TDX_FIELD(mrseam, mr_seam, false),
    // The service TD bound to this TD (e.g. a migration TD), chosen by the host; TDX 1.5 only.
    ValueField{"tdx.mrservicetd", 48, false,
               [](v1::Policy* p) { return p->mutable_tdx()->mutable_mrservicetd(); },
               [](const v1::Policy& p) -> const StringList& { return p.tdx().mrservicetd(); },
               [](const Claims& c) {
                 return c.tdx && c.tdx->body.is_tdx15 ? std::string(AsView(c.tdx->body.mr_service_td))
                                                      : std::string();
               }},
};

#undef TDX_FIELD

// The TD's launch measurements: firmware (MRTD), its configuration (RTMR0) and the boot chain
// (RTMR1: kernel and initrd, RTMR2: command line / OS). RTMR3 is extended at run time and left out.
std::string TdxIdentity(const Claims& c) {
  const auto& b = c.tdx->body;
  return IdentityDigest(TeeKind::kTdx, {std::string(AsView(b.mr_td)), std::string(AsView(b.rtmr[0])),
                                        std::string(AsView(b.rtmr[1])),
                                        std::string(AsView(b.rtmr[2]))});
}

// The TD's firmware (MRTD), kernel (RTMR1) and command line / initrd (RTMR2): together the image.
// MRTD alone is the firmware every TD on the same OVMF shares; RTMR0 is the firmware's
// configuration (largely the host's); RTMR3, MRCONFIGID and MROWNER* are set at run time or by
// the host.
const ImageAnchor kTdxAnchors[] = {{{"tdx.mrtd", "tdx.rtmr1", "tdx.rtmr2"}}};

// The default TD_ATTRIBUTES pair when a role sets none: SEPT_VE_DISABLE (bit 28) required, so that
// the host cannot inject #VE through EPT violations the guest must handle; MIGRATABLE (bit 29)
// and PERFMON (bit 63) refused, as a migration TD or host performance monitoring can read or move
// the TD's state. DEBUG (bit 0) is governed by allow_debug.
constexpr char kDefaultAttributes[] = "0000001000000000";
constexpr char kDefaultAttributesMask[] = "0000003000000080";

// Named TD_ATTRIBUTES bits, for readable mismatch reasons.
constexpr std::pair<int, const char*> kAttributeBits[] = {
    {0, "debug"}, {28, "sept_ve_disable"}, {29, "migratable"}, {30, "pks"}, {31, "kl"},
    {63, "perfmon"}};

bool Bit(absl::string_view bytes, int bit) {
  return (static_cast<uint8_t>(bytes[bit / 8]) >> (bit % 8)) & 1;
}

// A value/mask pair of the role (both or neither).
struct MaskedField {
  absl::string_view name;  // "tdx.attributes"
  const std::string& (v1::TdxPolicy::*value)() const;
  bool (v1::TdxPolicy::*has_value)() const;
  std::string* (v1::TdxPolicy::*mutable_value)();
  const std::string& (v1::TdxPolicy::*mask)() const;
  bool (v1::TdxPolicy::*has_mask)() const;
  std::string* (v1::TdxPolicy::*mutable_mask)();
};

const MaskedField kMaskedFields[] = {
    {"tdx.attributes", &v1::TdxPolicy::attributes, &v1::TdxPolicy::has_attributes,
     &v1::TdxPolicy::mutable_attributes, &v1::TdxPolicy::attributes_mask,
     &v1::TdxPolicy::has_attributes_mask, &v1::TdxPolicy::mutable_attributes_mask},
    {"tdx.xfam", &v1::TdxPolicy::xfam, &v1::TdxPolicy::has_xfam, &v1::TdxPolicy::mutable_xfam,
     &v1::TdxPolicy::xfam_mask, &v1::TdxPolicy::has_xfam_mask, &v1::TdxPolicy::mutable_xfam_mask},
};

// Lowercases a hex value and checks its length; errors name the role field.
void NormalizeHex(std::string* value, absl::string_view name, size_t length,
                  std::vector<std::string>* errors) {
  *value = absl::AsciiStrToLower(*value);
  absl::StatusOr<std::string> raw = HexDecode(*value, name);
  if (!raw.ok()) {
    errors->push_back(std::string(raw.status().message()));
  } else if (raw->size() != length) {
    errors->push_back(absl::StrCat(name, ": expected ", length, " bytes (", 2 * length,
                                   " hex digits), got ", raw->size()));
  }
}

void ValidateTdx(v1::Policy* p, std::vector<std::string>* errors) {
  v1::TdxPolicy* tdx = p->mutable_tdx();
  for (const MaskedField& f : kMaskedFields) {
    const bool has_value = (tdx->*f.has_value)(), has_mask = (tdx->*f.has_mask)();
    if (has_value != has_mask) {
      errors->push_back(absl::StrCat(f.name, has_value ? "_mask" : "", ": required with ", f.name,
                                     has_value ? "" : "_mask", " (a value/mask pair)"));
    }
    if (has_value) NormalizeHex((tdx->*f.mutable_value)(), f.name, 8, errors);
    if (has_mask) NormalizeHex((tdx->*f.mutable_mask)(), absl::StrCat(f.name, "_mask"), 8, errors);
  }
  if (tdx->has_min_tee_tcb_svn()) {
    NormalizeHex(tdx->mutable_min_tee_tcb_svn(), "tdx.min_tee_tcb_svn", 16, errors);
  }
}

// "0000000000000080 (sept_ve_disable=0, perfmon=1)": the value with the named bits under `mask`.
std::string DescribeAttributes(absl::string_view bytes, absl::string_view mask) {
  std::vector<std::string> bits;
  for (const auto& [bit, name] : kAttributeBits) {
    if (Bit(mask, bit)) bits.push_back(absl::StrCat(name, "=", Bit(bytes, bit) ? 1 : 0));
  }
  return absl::StrCat(HexEncode(bytes), bits.empty() ? "" : " (", absl::StrJoin(bits, ", "),
                      bits.empty() ? "" : ")");
}

void CheckMasked(const MaskedField& f, absl::string_view actual, absl::string_view value_hex,
                 absl::string_view mask_hex, bool is_default, std::vector<Mismatch>* out) {
  // Validated when the role was written; a value that does not decode fails closed.
  const std::string value = HexDecode(value_hex, f.name).value_or("");
  const std::string mask = HexDecode(mask_hex, f.name).value_or("");
  bool ok = value.size() == 8 && mask.size() == 8 && actual.size() == 8;
  for (size_t i = 0; ok && i < 8; ++i) ok = ((actual[i] ^ value[i]) & mask[i]) == 0;
  if (ok) return;
  const bool named = f.name == "tdx.attributes";
  out->push_back(
      {std::string(f.name),
       {absl::StrCat(named ? DescribeAttributes(value, mask) : HexEncode(value), " under mask ",
                     mask_hex, is_default ? " (default; set tdx.attributes and "
                                            "tdx.attributes_mask to change it)"
                                          : "")},
       named ? DescribeAttributes(actual, mask) : HexEncode(actual)});
}

void CheckTdx(const Claims& c, const v1::Policy& p, absl::Time, std::vector<Mismatch>* out) {
  const tdx::TdReport& b = c.tdx->body;
  const v1::TdxPolicy& rule = p.tdx();
  const bool default_attributes = !rule.has_attributes();
  CheckMasked(kMaskedFields[0], AsView(b.td_attributes),
              default_attributes ? kDefaultAttributes : rule.attributes(),
              default_attributes ? kDefaultAttributesMask : rule.attributes_mask(),
              default_attributes, out);
  if (rule.has_xfam()) {
    CheckMasked(kMaskedFields[1], AsView(b.xfam), rule.xfam(), rule.xfam_mask(), false, out);
  }
  if (rule.has_min_tee_tcb_svn()) {
    const std::string min = HexDecode(rule.min_tee_tcb_svn(), "tdx.min_tee_tcb_svn").value_or("");
    bool ok = min.size() == b.tee_tcb_svn.size();
    for (size_t i = 0; ok && i < min.size(); ++i) {
      ok = b.tee_tcb_svn[i] >= static_cast<uint8_t>(min[i]);
    }
    if (!ok) {
      out->push_back({"tdx.tee_tcb_svn",
                      {absl::StrCat(">= ", rule.min_tee_tcb_svn(), " (each byte)")},
                      HexEncode(b.tee_tcb_svn)});
    }
  }
}

}  // namespace

const TeeRules& TdxRules() {
  static const TeeRules kRules{TeeKind::kTdx, "tdx",
                               [](const v1::Policy& p) { return p.has_tdx(); }, kTdxFields,
                               &ValidateTdx, &CheckTdx, kTdxAnchors, &TdxIdentity};
  return kRules;
}

}  // namespace teeverify::policy
