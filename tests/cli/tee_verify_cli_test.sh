#!/usr/bin/env bash
# Contract tests of the tee-verify CLI (general and TDX): exit codes, JSON shape, flags.
#   tee_verify_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   tee_verify_cli_test.sh list                         print the case names
set -uo pipefail

cases=(dcap_qvl_verifies v5_sample_verifies debug_td_reported rejected_exit_1 expired_names_item
       missing_collateral_dir_item inspect_every_vector inspect_unverified usage_errors
       unreadable_file bad_at tee_flag_and_detection roots_flag explain_no_level explain_usage)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
Q="$DATA/tdx/quotes"; C="$DATA/tdx/collateral"
OUT=$(mktemp); trap 'rm -f "$OUT"' EXIT
source "$(dirname "$0")/lib.sh"

case "$CASE" in
explain_no_level)
  # MANIFEST caveat 5: every level of this TCB info needs SGX component 7 = 5; the PCK has 3
  # (read by hand from the TCB info JSON and the certificate's SGX extension).
  run 1 --explain --at 2026-03-20T10:41:14Z --collateral "$C/dcap-qvl-2026-02" "$Q/dcap-qvl_tdx_quote_outdated_v5.bin"
  for want in "verification: REJECTED at 2026-03-20T10:41:14Z: TCB_LEVEL_NOT_SUPPORTED" \
              "platform: matches NO TCB level" \
              "  level 0 (UpToDate, tcbDate 2024-11-13T00:00:00Z): cpusvn[7] 3 < 5" \
              "  level 1 (OutOfDate, tcbDate 2024-03-13T00:00:00Z): cpusvn[7] 3 < 5" \
              "  level 2 (OutOfDate, tcbDate 2018-01-04T00:00:00Z): cpusvn[7] 3 < 5" \
              "tdx_module: level 0 UpToDate (tcbDate 2024-11-13T00:00:00Z)"; do
    grep -qF -- "$want" "$OUT" || fail "explanation lacks: $want"
  done
  run 0 --explain --at 2025-07-19T10:00:34Z --collateral "$C/dcap-qvl-2025-06" "$Q/dcap-qvl_tdx_quote.bin"
  grep -qF "verification: verified at 2025-07-19T10:00:34Z, tcb_status UpToDate" "$OUT" || fail "verified line"
  grep -qF "platform: level 0 UpToDate" "$OUT" || fail "matched level" ;;
explain_usage)
  run 2 --explain --inspect "$Q/dcap-qvl_tdx_quote.bin"
  run 2 --explain --at 2022-10-13T09:00:00Z "$DATA/nitro/docs/beta_nondebug.bin" ;;
dcap_qvl_verifies)
  run 0 --at 2025-07-19T10:00:34Z --collateral "$C/dcap-qvl-2025-06" "$Q/dcap-qvl_tdx_quote.bin"
  jqeq .tee tdx; jqeq .verified true; jqeq .tcb_status UpToDate; jqeq '.advisory_ids|length' 0
  jqeq .verified_at 2025-07-19T10:00:34Z; jqeq .debug false
  jqeq .tdx.mrtd 91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7
  jqeq .tdx.rtmr2 d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132
  jqeq .tdx.fmspc b0c06f000000; jqeq .valid_until 2025-07-19T10:00:35Z
  for k in mrtd rtmr0 rtmr1 rtmr2 rtmr3 mrconfigid mrowner mrownerconfig mrseam td_attributes xfam tee_tcb_svn fmspc quote_version; do
    jq -e ".tdx | has(\"$k\")" "$OUT" >/dev/null || fail "tdx.$k missing"
  done ;;
v5_sample_verifies)
  run 0 --tee tdx --at 2026-03-20T10:41:14Z --collateral "$C/dcap-qvl-2026-02" "$Q/go-tdx-guest_quote_v5_sample.bin"
  jqeq .tdx.quote_version 5; jqeq .tdx.body_type tdx-1.5; jqeq .tcb_status UpToDate
  jqeq .tdx.tee_tcb_svn2 0d010400000000000000000000000000 ;;
debug_td_reported)
  run 0 --at 2023-07-01T01:00:00Z --collateral "$C/go-tdx-guest-2023-06" "$Q/trustee_tdx_quote_4_debug.bin"
  jqeq .debug true; jqeq .tdx.td_attributes_flags.debug true ;;
rejected_exit_1)
  run 1 --at 2026-03-20T10:41:14Z --collateral "$C/dcap-qvl-2026-02" "$Q/dcap-qvl_tdx_quote_outdated_v5.bin"
  jqeq .verified false; jqeq .reason TCB_LEVEL_NOT_SUPPORTED; jqeq .tee tdx
  jq -e '.error | startswith("TCB level not supported")' "$OUT" >/dev/null || fail "error text"
  jq -e 'has("tdx") | not' "$OUT" >/dev/null || fail "a rejection must not print claims" ;;
expired_names_item)
  run 1 --at 2025-07-19T10:00:36Z --collateral "$C/dcap-qvl-2025-06" "$Q/dcap-qvl_tdx_quote.bin"
  jqeq .reason EXPIRED
  jqeq .error "pck_crl.der expired at 2025-07-19T10:00:35Z (verification time 2025-07-19T10:00:36Z)" ;;
missing_collateral_dir_item)
  d=$(mktemp -d); cp "$C/dcap-qvl-2025-06"/* "$d"; rm "$d/qe_identity_response.json"
  run 1 --at 2025-07-19T10:00:34Z --collateral "$d" "$Q/dcap-qvl_tdx_quote.bin"; rm -rf "$d"
  jqeq .reason COLLATERAL_MISSING
  jq -e '.error | contains("qe_identity_response.json is missing")' "$OUT" >/dev/null || fail "item not named"
  run 1 --at 2025-07-19T10:00:34Z "$Q/dcap-qvl_tdx_quote.bin"
  jqeq .reason COLLATERAL_MISSING ;;
inspect_every_vector)
  for f in "$Q"/*.bin; do
    run 0 --inspect "$f"
    jqeq .verified false
    jq -e '.tdx.mrtd | test("^[0-9a-f]{96}$")' "$OUT" >/dev/null || fail "$f: mrtd"
    for r in rtmr0 rtmr1 rtmr2 rtmr3; do
      jq -e ".tdx.$r | test(\"^[0-9a-f]{96}\$\")" "$OUT" >/dev/null || fail "$f: $r"
    done
  done
  run 0 --inspect "$Q/go-tdx-guest_tdx_prod_quote_SPR_E4.bin"
  jqeq .tdx.mrtd 6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb
  jq -e '.warnings[0] | contains("not zero padding")' "$OUT" >/dev/null || fail "warning" ;;
inspect_unverified)
  run 0 --inspect "$Q/dcap-qvl_tdx_quote.bin"
  jqeq .verified false; jqeq 'has("tcb_status")' false; jqeq 'has("valid_until")' false
  jqeq .tdx.fmspc b0c06f000000
  head -c 100 "$Q/dcap-qvl_tdx_quote.bin" > "$OUT.bin"; run 1 --inspect "$OUT.bin"; rm -f "$OUT.bin"
  jqeq .verified false; jqeq .reason MALFORMED_EVIDENCE ;;
usage_errors)
  run 2; run 2 --tee sgx "$Q/dcap-qvl_tdx_quote.bin"; run 2 --bogus x "$Q/dcap-qvl_tdx_quote.bin"
  run 2 "$Q/dcap-qvl_tdx_quote.bin" "$Q/dcap-qvl_tdx_quote.bin"; run 2 --at
  run 0 --help; grep -q "usage: tee-verify" "$OUT" || fail "help text" ;;
unreadable_file)
  run 2 /nonexistent/quote.bin
  run 2 --cert /nonexistent/vcek.der "$Q/dcap-qvl_tdx_quote.bin" ;;
bad_at)
  run 2 --at "last tuesday" "$Q/dcap-qvl_tdx_quote.bin" ;;
tee_flag_and_detection)
  printf 'not evidence at all' > "$OUT.bin"; run 1 "$OUT.bin"; rm -f "$OUT.bin"
  jqeq .reason UNSUPPORTED_FORMAT; jqeq 'has("tee")' false
  run 1 --tee nitro --at 2025-07-19T10:00:34Z "$Q/dcap-qvl_tdx_quote.bin"; jqeq .tee nitro ;;
roots_flag)
  d=$(mktemp -d); cp "$DATA/tdx/extra/intel_sgx_root_ca.pem" "$d/intel_sgx_root_ca.pem"
  run 0 --roots "$d" --at 2025-07-19T10:00:34Z --collateral "$C/dcap-qvl-2025-06" "$Q/dcap-qvl_tdx_quote.bin"
  e=$(mktemp -d); run 2 --roots "$e" "$Q/dcap-qvl_tdx_quote.bin"; rm -rf "$d" "$e" ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "ok [$CASE]"
