#!/usr/bin/env bash
# The main job, on a fresh Debian machine: installs what is missing, builds, and verifies the real
# vendor-signed evidence checked into tests/data, as of the time each vector's MANIFEST entry
# gives (the evidence itself is long expired), printing the claims a Vault role would match.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
scripts/build.sh >/dev/null
TV=build/verifier/tee-verify
D=tests/data/tdx

show() {  # show LABEL AT COLLATERAL QUOTE
  echo
  echo "── $1 (verified as of $2)"
  if "$TV" --at "$2" --collateral "$D/collateral/$3" "$D/quotes/$4" > build/demo-claims.json; then
    jq '{tee, verified, tcb_status, debug, valid_until, mrtd: .tdx.mrtd, rtmr0: .tdx.rtmr0,
         rtmr1: .tdx.rtmr1, rtmr2: .tdx.rtmr2, fmspc: .tdx.fmspc}' build/demo-claims.json
  else
    jq '{verified, reason, error}' build/demo-claims.json
  fi
}

show "Intel TDX quote v4 (Phala dcap-qvl sample)" 2025-07-19T10:00:34Z dcap-qvl-2025-06 dcap-qvl_tdx_quote.bin
show "Intel TDX quote v5, TDX 1.5 body (go-tdx-guest sample)" 2026-03-20T10:41:14Z dcap-qvl-2026-02 go-tdx-guest_quote_v5_sample.bin
show "Intel TDX debug TD (trustee sample)" 2023-07-01T01:00:00Z go-tdx-guest-2023-06 trustee_tdx_quote_4_debug.bin
show "A TDX platform below every TCB level (refused)" 2026-03-20T10:41:14Z dcap-qvl-2026-02 dcap-qvl_tdx_quote_outdated_v5.bin
show "The same good quote one second after its PCK CRL expired (refused)" 2025-07-19T10:00:36Z dcap-qvl-2025-06 dcap-qvl_tdx_quote.bin
