#include "verifier/tdx/tcb_evaluation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "verifier/common/errors.h"
#include "verifier/common/hex.h"

namespace teeverify::tdx {
namespace {

template <size_t N>
bool MaskedEqual(const ByteArray<N>& actual, const ByteArray<N>& mask,
                 const ByteArray<N>& expected) {
  for (size_t i = 0; i < N; ++i) {
    if ((actual[i] & mask[i]) != expected[i]) return false;
  }
  return true;
}

template <size_t N>
bool AllAtLeast(const ByteArray<N>& actual, const ByteArray<N>& required, size_t from = 0) {
  for (size_t i = from; i < N; ++i) {
    if (actual[i] < required[i]) return false;
  }
  return true;
}

void AppendUnique(const std::vector<std::string>& ids, std::vector<std::string>* out) {
  for (const std::string& id : ids) {
    if (std::find(out->begin(), out->end(), id) == out->end()) out->push_back(id);
  }
}

absl::Status Mismatch(absl::string_view what, absl::string_view actual, absl::string_view expected) {
  return MakeError(v1::REASON_IDENTITY_MISMATCH,
                   absl::StrCat(what, " ", actual, " does not match ", expected));
}

std::string SvnList(const ByteArray<16>& svns) {
  return absl::StrCat("[", absl::StrJoin(svns, ","), "]");
}

struct ModuleEvaluation {
  TcbStatus status = TcbStatus::kUpToDate;
  std::vector<std::string> advisory_ids;
};

// TDX module: TEE_TCB_SVN[1] is the module's major version, [0] its SVN. Version 0 means a
// TDX 1.0 module described by the plain "tdxModule" object; otherwise the TCB info must list an
// identity "TDX_<version in hex>" whose levels rate the SVN.
absl::StatusOr<ModuleEvaluation> EvaluateModule(const TcbInfo& info, const TdReport& report) {
  const uint8_t module_version = report.tee_tcb_svn[1];
  const uint8_t module_svn = report.tee_tcb_svn[0];
  const TdxModuleIdentity* module = &info.tdx_module;
  std::string name = "tdxModule";
  if (module_version > 0) {
    name = absl::StrFormat("TDX_%02X", module_version);
    auto it = std::find_if(info.tdx_module_identities.begin(), info.tdx_module_identities.end(),
                           [&](const TdxModuleIdentity& m) { return m.id == name; });
    if (it == info.tdx_module_identities.end()) {
      return MakeError(v1::REASON_IDENTITY_MISMATCH,
                       absl::StrCat("TDX module identity ", name,
                                    " (from TEE_TCB_SVN[1]) is not listed in the TCB info"));
    }
    module = &*it;
  }
  if (report.mr_signer_seam != module->mr_signer) {
    return Mismatch(absl::StrCat("TDX module MRSIGNERSEAM"), HexEncode(report.mr_signer_seam),
                    absl::StrCat(name, " mrsigner ", HexEncode(module->mr_signer)));
  }
  for (size_t i = 0; i < 8; ++i) {
    const uint8_t actual = report.seam_attributes[i];
    const uint8_t mask = module->attributes_mask[i];
    if ((actual & mask) != (module->attributes[i] & mask) || (actual & ~mask) != 0) {
      return Mismatch("TDX module SEAM_ATTRIBUTES", HexEncode(report.seam_attributes),
                      absl::StrCat(name, " attributes ", HexEncode(module->attributes), " mask ",
                                   HexEncode(module->attributes_mask)));
    }
  }
  ModuleEvaluation out;
  if (module_version == 0) return out;
  for (const TdxModuleTcbLevel& level : module->tcb_levels) {  // highest first
    if (module_svn >= level.isv_svn) {
      out.status = level.status;
      out.advisory_ids = level.advisory_ids;
      return out;
    }
  }
  return MakeError(v1::REASON_TCB_LEVEL_NOT_SUPPORTED,
                   absl::StrCat("TCB level not supported: TDX module ", name, " SVN ", module_svn,
                                " is below every level of its identity"));
}

}  // namespace

absl::StatusOr<QeEvaluation> EvaluateQeIdentity(const EnclaveIdentity& identity,
                                                const SgxReportBody& qe) {
  if (!MaskedEqual(qe.misc_select, identity.misc_select_mask, identity.misc_select)) {
    return Mismatch("quoting enclave MISCSELECT", HexEncode(qe.misc_select),
                    absl::StrCat("TD_QE identity ", HexEncode(identity.misc_select), " under mask ",
                                 HexEncode(identity.misc_select_mask)));
  }
  if (!MaskedEqual(qe.attributes, identity.attributes_mask, identity.attributes)) {
    return Mismatch("quoting enclave ATTRIBUTES", HexEncode(qe.attributes),
                    absl::StrCat("TD_QE identity ", HexEncode(identity.attributes), " under mask ",
                                 HexEncode(identity.attributes_mask)));
  }
  if (qe.mr_signer != identity.mr_signer) {
    return Mismatch("quoting enclave MRSIGNER", HexEncode(qe.mr_signer),
                    absl::StrCat("TD_QE identity ", HexEncode(identity.mr_signer)));
  }
  if (qe.isv_prod_id != identity.isv_prod_id) {
    return Mismatch("quoting enclave ISVPRODID", absl::StrCat(qe.isv_prod_id),
                    absl::StrCat("TD_QE identity ", identity.isv_prod_id));
  }
  for (const QeTcbLevel& level : identity.tcb_levels) {  // document order, as QVL
    if (level.isv_svn <= qe.isv_svn) {
      QeEvaluation out;
      out.status = level.status == TcbStatus::kUpToDate || level.status == TcbStatus::kRevoked
                       ? level.status
                       : TcbStatus::kOutOfDate;
      out.advisory_ids = level.advisory_ids;
      return out;
    }
  }
  return MakeError(v1::REASON_TCB_LEVEL_NOT_SUPPORTED,
                   absl::StrCat("TCB level not supported: quoting enclave ISVSVN ", qe.isv_svn,
                                " is below every TD_QE identity level"));
}

absl::StatusOr<TcbEvaluation> EvaluateTcb(const TcbInfo& info, const PckExtensions& pck,
                                          const TdReport& report, const QeEvaluation& qe) {
  // Platform level: the first level (highest first) that the PCK certificate's SGX components
  // and PCESVN reach, and whose TDX components TEE_TCB_SVN reaches. When TEE_TCB_SVN[1] (the
  // module major version) is set, bytes 0 and 1 describe the module and are rated by its
  // identity instead, so the comparison starts at byte 2.
  const size_t tdx_from = report.tee_tcb_svn[1] > 0 ? 2 : 0;
  const TcbLevel* platform = nullptr;
  bool sgx_reached = false;
  for (const TcbLevel& level : info.tcb_levels) {
    if (!AllAtLeast(pck.tcb_component_svns, level.sgx_svns) || pck.pce_svn < level.pce_svn) {
      continue;
    }
    sgx_reached = true;
    if (AllAtLeast(report.tee_tcb_svn, level.tdx_svns, tdx_from)) {
      platform = &level;
      break;
    }
  }
  if (platform == nullptr) {
    return MakeError(
        v1::REASON_TCB_LEVEL_NOT_SUPPORTED,
        sgx_reached
            ? absl::StrCat("TCB level not supported: TEE_TCB_SVN ", HexEncode(report.tee_tcb_svn),
                           " is below every TCB level the platform's SGX TCB reaches (FMSPC ",
                           HexEncode(info.fmspc), ")")
            : absl::StrCat("TCB level not supported: PCK SGX TCB components ",
                           SvnList(pck.tcb_component_svns), " with PCESVN ", pck.pce_svn,
                           " are below every TCB level of FMSPC ", HexEncode(info.fmspc)));
  }

  absl::StatusOr<ModuleEvaluation> module = EvaluateModule(info, report);
  if (!module.ok()) return module.status();

  TcbEvaluation out;
  out.platform_status = platform->status;
  out.module_status = module->status;
  out.qe_status = qe.status;
  out.tcb_date = platform->tcb_date;
  out.status = Converge(Converge(platform->status, module->status), qe.status);
  AppendUnique(platform->advisory_ids, &out.advisory_ids);
  AppendUnique(module->advisory_ids, &out.advisory_ids);
  AppendUnique(qe.advisory_ids, &out.advisory_ids);
  return out;
}

}  // namespace teeverify::tdx
