# Seeds $1 for tdx_collateral_fuzzer. The first byte selects the parser: 0 the PCS envelope,
# 1 TCB info, 2 QE identity.
D=tests/data/tdx
for f in "$D"/collateral/*/tcb_info_response.json "$D"/extra/*tcb_info*.json "$D"/extra/*tcbinfo*.json; do
  n=$(basename "$(dirname "$f")")-$(basename "$f")
  { printf '\x00'; cat "$f"; } > "$1/env-$n"
  { printf '\x01'; jq -c .tcbInfo "$f"; } > "$1/tcb-$n"
done
for f in "$D"/collateral/*/qe_identity_response.json; do
  { printf '\x02'; jq -c .enclaveIdentity "$f"; } > "$1/qe-$(basename "$(dirname "$f")")"
done
