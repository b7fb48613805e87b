// libFuzzer target: the TDX collateral JSON parsers (PCS response envelope, TCB info v3, TD_QE
// enclave identity). The first byte picks the parser so one corpus covers all three.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "verifier/common/json_util.h"
#include "verifier/tdx/tcb_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto s = teeverify::tdx::ParseSignedCollateral(input, "tcbInfo", "fuzz");
      if (s.ok()) {
        // The signed body is an exact substring of the document.
        if (input.find(s->body) == absl::string_view::npos) abort();
        (void)teeverify::tdx::ParseTcbInfo(s->body, "fuzz");
      }
      break;
    }
    case 1: {
      auto info = teeverify::tdx::ParseTcbInfo(input, "fuzz");
      if (info.ok()) {
        for (size_t i = 1; i < info->tcb_levels.size(); ++i) {
          // Levels are sorted highest first and unique.
          const auto& a = info->tcb_levels[i - 1];
          const auto& b = info->tcb_levels[i];
          if (std::tie(a.sgx_svns, a.pce_svn, a.tdx_svns) <= std::tie(b.sgx_svns, b.pce_svn, b.tdx_svns)) abort();
        }
      }
      break;
    }
    default:
      (void)teeverify::tdx::ParseEnclaveIdentity(input, "fuzz");
      (void)teeverify::RawTopLevelMembers(input, "fuzz");
  }
  return 0;
}
