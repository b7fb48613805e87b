// TEST-ONLY: platform TCB levels for synthetic TDX TCB info (the cases no real vector has), as
// the TCB evaluation and explanation tests write them.
#ifndef TEE_VERIFIER_TESTING_TDX_TCB_LEVELS_H_
#define TEE_VERIFIER_TESTING_TDX_TCB_LEVELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "verifier/common/hex.h"
#include "verifier/tdx/tcb_info.h"

namespace teeverify::testing {

// A platform TCB level: SGX and TDX component SVNs, PCE SVN, status, advisories and, where the
// test looks at it, the level's tcbDate (else left at its default).
inline tdx::TcbLevel TestTcbLevel(ByteArray<16> sgx, uint16_t pce, ByteArray<16> tdx,
                                  tdx::TcbStatus status, std::vector<std::string> advisories = {},
                                  std::optional<absl::Time> tcb_date = std::nullopt) {
  tdx::TcbLevel l;
  l.sgx_svns = sgx;
  l.pce_svn = pce;
  l.tdx_svns = tdx;
  l.status = status;
  if (tcb_date.has_value()) l.tcb_date = *tcb_date;
  l.advisory_ids = std::move(advisories);
  return l;
}

}  // namespace teeverify::testing

#endif  // TEE_VERIFIER_TESTING_TDX_TCB_LEVELS_H_
