#include "verifier/tdx/tdx_claims.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "verifier/common/hex.h"
#include "verifier/common/time_util.h"

namespace teeverify::tdx {
namespace {

bool TdAttributeBit(const TdReport& body, int bit) {
  return (body.td_attributes[bit / 8] >> (bit % 8)) & 1;
}

}  // namespace

TdxClaims TdxClaimsFromQuote(const Quote& quote) {
  TdxClaims claims;
  claims.header = quote.header;
  claims.body_type = quote.body_type;
  claims.body = quote.body;
  return claims;
}

bool IsDebugTd(const TdReport& body) { return TdAttributeBit(body, 0); }

nlohmann::ordered_json TdxClaimsToJson(const TdxClaims& c) {
  const TdReport& b = c.body;
  nlohmann::ordered_json j;
  j["quote_version"] = c.header.version;
  j["body_type"] = b.is_tdx15 ? "tdx-1.5" : "tdx-1.0";
  j["mrtd"] = HexEncode(b.mr_td);
  for (size_t i = 0; i < b.rtmr.size(); ++i) j[absl::StrCat("rtmr", i)] = HexEncode(b.rtmr[i]);
  j["mrconfigid"] = HexEncode(b.mr_config_id);
  j["mrowner"] = HexEncode(b.mr_owner);
  j["mrownerconfig"] = HexEncode(b.mr_owner_config);
  j["mrseam"] = HexEncode(b.mr_seam);
  j["mrsignerseam"] = HexEncode(b.mr_signer_seam);
  j["seam_attributes"] = HexEncode(b.seam_attributes);
  j["td_attributes"] = HexEncode(b.td_attributes);
  // TDX module ABI, TDINFO_STRUCT.ATTRIBUTES: bit 0 DEBUG, 28 SEPT_VE_DISABLE, 29 MIGRATABLE,
  // 30 PKS, 31 KL, 63 PERFMON.
  j["td_attributes_flags"] = {{"debug", TdAttributeBit(b, 0)},
                              {"sept_ve_disable", TdAttributeBit(b, 28)},
                              {"migratable", TdAttributeBit(b, 29)},
                              {"pks", TdAttributeBit(b, 30)},
                              {"kl", TdAttributeBit(b, 31)},
                              {"perfmon", TdAttributeBit(b, 63)}};
  j["xfam"] = HexEncode(b.xfam);
  j["tee_tcb_svn"] = HexEncode(b.tee_tcb_svn);
  if (b.is_tdx15) {
    j["tee_tcb_svn2"] = HexEncode(b.tee_tcb_svn2);
    j["mrservicetd"] = HexEncode(b.mr_service_td);
  }
  j["qe_vendor_id"] = HexEncode(c.header.qe_vendor_id);
  if (c.fmspc) j["fmspc"] = HexEncode(*c.fmspc);
  if (c.pce_id) j["pce_id"] = HexEncode(*c.pce_id);
  if (c.tcb) {
    j["platform_tcb_status"] = c.tcb->platform_tcb_status;
    j["tdx_module_tcb_status"] = c.tcb->tdx_module_tcb_status;
    j["qe_tcb_status"] = c.tcb->qe_tcb_status;
    j["tcb_date"] = FormatRfc3339(c.tcb->tcb_date);
    j["tcb_evaluation_data_number"] = c.tcb->tcb_evaluation_data_number;
    j["qe_identity_tcb_evaluation_data_number"] = c.tcb->qe_identity_tcb_evaluation_data_number;
    if (!c.tcb->shortfall.empty()) j["tcb_shortfall"] = ShortfallToJson(c.tcb->shortfall);
    if (c.tcb->out_of_date_since) {
      j["tcb_out_of_date_since"] = FormatRfc3339(*c.tcb->out_of_date_since);
    }
    j["collateral_dates"] = {{"tcb_info_issue_date", FormatRfc3339(c.tcb->tcb_info_issue_date)},
                             {"qe_identity_issue_date", FormatRfc3339(c.tcb->qe_identity_issue_date)},
                             {"pck_crl_this_update", FormatRfc3339(c.tcb->pck_crl_this_update)}};
    if (c.tcb->early) {
      j["tcb_status_early"] = c.tcb->early->tcb_status;
      j["tcb_evaluation_data_number_early"] = c.tcb->early->tcb_evaluation_data_number;
      if (!c.tcb->early->shortfall.empty()) {
        j["tcb_shortfall_early"] = ShortfallToJson(c.tcb->early->shortfall);
      }
    }
  }
  return j;
}

}  // namespace teeverify::tdx
