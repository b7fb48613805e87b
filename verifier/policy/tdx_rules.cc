// TDX claims a role can constrain (TD report measurements).
#include "verifier/common/byte_reader.h"
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

}  // namespace

const TeeRules& TdxRules() {
  static const TeeRules kRules{TeeKind::kTdx, "tdx",
                               [](const v1::Policy& p) { return p.has_tdx(); }, kTdxFields,
                               /*validate_extras=*/nullptr, /*check_extras=*/nullptr, &TdxIdentity};
  return kRules;
}

}  // namespace teeverify::policy
