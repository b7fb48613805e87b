#!/usr/bin/env bash
# Contract tests of tee-collateral (docs/collateral.md) against the local PCS stand-in
# (tests/collateral/pcs_standin.py) serving the real recorded dcap-qvl responses.
#   collateral_cli_test.sh TEE_VERIFY DATA_DIR CASE   run one case (tee-collateral beside tee-verify)
#   collateral_cli_test.sh list                       print the case names
set -uo pipefail

cases=(fetch_then_verify_and_status refuses_bad_data_writes_nothing http_error_names_item
       usage_errors kds_fetch_snp_report)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
TC="$(dirname "$TV")/tee-collateral"
AT=2025-07-19T10:00:34Z
# The stand-in is on loopback: a proxy from the environment (libcurl and curl honour it) must not
# carry these requests.
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
WORK=$(mktemp -d); OUT="$WORK/out"; PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
source "$(dirname "$0")/lib.sh"

# Starts the stand-in and sets URL (it prints its port once listening).
standin() {
  local serve=(--bundle "$DATA/tdx/collateral/dcap-qvl-2025-06")
  [ "${1:-}" = kds ] && serve=(--kds "$DATA/sevsnp/kds/index.json")
  coproc SRV { exec python3 "$(dirname "$0")/../collateral/pcs_standin.py" "${serve[@]}"; }
  PID=$SRV_PID
  local line; read -r line <&"${SRV[0]}" || fail "stand-in did not start"
  URL="http://127.0.0.1:${line#PORT }"
}
tc() { local want=$1; shift; "$TC" "$@" >"$OUT" 2>"$OUT.err"; local got=$?
  [ "$got" = "$want" ] || { cat "$OUT.err" >>"$OUT"; fail "exit $got, expected $want: tee-collateral $*"; }; }

case "$CASE" in
fetch_then_verify_and_status)
  standin
  tc 0 fetch --pccs "$URL" --fmspc B0C06F000000 --at "$AT" --out "$WORK/bundle"
  jqeq .verified true; jqeq .requests 4; jqeq .tcb_evaluation_data_number 17
  jqeq .next_update 2025-07-19T10:00:35Z
  for f in tcb_info_response.json qe_identity_response.json pck_crl.der root_ca_crl.der \
           tcb_info_issuer_chain.pem qe_identity_issuer_chain.pem pck_crl_issuer_chain.pem; do
    cmp -s "$WORK/bundle/$f" "$DATA/tdx/collateral/dcap-qvl-2025-06/$f" || fail "$f differs from the recorded response"
  done
  run 0 --at "$AT" --collateral "$WORK/bundle" "$DATA/tdx/quotes/dcap-qvl_tdx_quote.bin"
  jqeq .verified true
  tc 0 status "$WORK/bundle" --at "$AT"
  jqeq '.bundles|length' 1; jqeq .bundles[0].fmspc b0c06f000000; jqeq .bundles[0].verified true
  jqeq .bundles[0].tcb_info_next_update 2025-07-19T10:16:03Z; jqeq .expires_first.next_update 2025-07-19T10:00:35Z
  tc 1 status "$WORK/bundle" --at 2025-07-19T10:00:36Z
  jqeq .bundles[0].verified false; jqtrue '.bundles[0].error | contains("pck_crl.der")' ;;
refuses_bad_data_writes_nothing)
  standin
  curl -fsS "$URL/_fault?kind=wrong_chain&path=/tdx/certification/v4/tcb" >/dev/null || fail "fault"
  tc 1 fetch --pccs "$URL" --fmspc b0c06f000000 --at "$AT" --out "$WORK/bundle"
  jqeq .verified false; [ ! -e "$WORK/bundle" ] || fail "unverified collateral was written"
  curl -fsS "$URL/_fault?kind=none" >/dev/null
  tc 1 fetch --pccs "$URL" --fmspc b0c06f000000 --at 2026-01-01T00:00:00Z --out "$WORK/bundle"
  jqtrue '.error | contains("expired")'; [ ! -e "$WORK/bundle" ] || fail "expired collateral was written"
  tc 1 fetch --pccs "$URL" --fmspc 00906ed50000 --at "$AT" --out "$WORK/bundle"
  jqeq .item tcb_info_response.json; jqtrue '.error | contains("HTTP 404")' ;;
http_error_names_item)
  standin
  curl -fsS "$URL/_fault?kind=500&path=/sgx/certification/v4/pckcrl" >/dev/null || fail "fault"
  tc 1 fetch --pccs "$URL" --fmspc b0c06f000000 --at "$AT" --out "$WORK/bundle"
  jqeq .item pck_crl.der; jqeq .requests 3; jqtrue '.error | contains("HTTP 500")' ;;
kds_fetch_snp_report)
  # Oak's real Genoa report (no certificate table) at its MANIFEST time: VCEK, cert_chain, CRL.
  standin kds
  tc 0 fetch --kds "$URL" --snp-report "$DATA/sevsnp/reports/oak_genoa_oc_report.bin" \
     --at 2025-10-01T08:00:00Z --out "$WORK/kds"
  jqeq .verified true; jqeq .product Genoa
  jqeq '[.items[]|select(.kind=="vcek")][0].state' valid
  jqeq '[.items[]|select(.kind=="vcek")][0].not_after' 2032-08-07T17:21:41Z
  jqeq '[.items[]|select(.kind=="crl")][0].not_found' true
  ls "$WORK/kds"/snp-vcek-Genoa-d2421d97*.json >/dev/null 2>&1 || fail "no VCEK file written"
  # tee-verify reads that directory offline: the report, which carries no VCEK, verifies with the
  # one fetched; without the directory, or for a chip it holds no VCEK of, it does not.
  run 0 --at 2025-10-01T08:00:00Z --collateral "$WORK/kds" "$DATA/sevsnp/reports/oak_genoa_oc_report.bin"
  jqeq .tee sev-snp; jqeq .verified true; jqeq .sev_snp.product Genoa
  run 1 --at 2025-10-01T08:00:00Z "$DATA/sevsnp/reports/oak_genoa_oc_report.bin"
  jqeq .verified false
  run 1 --at 2025-10-01T08:00:00Z --collateral "$WORK/kds" "$DATA/sevsnp/reports/oak_milan_oc_release_report.bin"
  jqeq .verified false; jqeq .reason COLLATERAL_MISSING
  # A chip KDS does not know: nothing about it is written, exit 1.
  tc 1 fetch --kds "$URL" --snp-report "$DATA/sevsnp/reports/azure_milan_hcl_snp_report.bin" \
     --at 2025-10-01T08:00:00Z --out "$WORK/none"
  jqeq .verified false; jqtrue '.error | contains("HTTP 404")'
  # (only the 404 is remembered, without a body)
  ! grep -qs '"body"' "$WORK/none"/snp-vcek-* || fail "a VCEK was written"
  tc 2 fetch --kds "$URL" --fmspc b0c06f000000 --snp-report "$DATA/sevsnp/reports/oak_genoa_oc_report.bin" --out "$WORK/x"
  tc 2 fetch --pccs "$URL" --snp-report x --fmspc b0c06f000000 --out "$WORK/x" ;;
usage_errors)
  tc 2 fetch --fmspc b0c06f000000 --out "$WORK/x"
  tc 2 fetch --pccs http://x --pcs http://y --fmspc b0c06f000000 --out "$WORK/x"
  tc 2 fetch --pccs http://x --fmspc b0c06f --out "$WORK/x"
  tc 2 fetch --pccs http://x --fmspc b0c06f000000 --update later --out "$WORK/x"
  tc 2 status
  tc 2 frobnicate ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "PASS [$CASE]"
