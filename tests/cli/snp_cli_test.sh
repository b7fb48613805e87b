#!/usr/bin/env bash
# Contract tests of the tee-verify CLI for AMD SEV-SNP: exit codes, JSON shape, flags.
#   snp_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   snp_cli_test.sh list                         print the case names
# Expected values come from ../shared/vectors/MANIFEST.md (tests/data/sevsnp/PROVENANCE.md).
set -uo pipefail

cases=(milan_verifies_with_claims auto_detects_snp every_real_report_verifies vlek_names_the_cloud
       genoa_v5 azure_vcek_ask_ark_bundle pem_and_der_cert rejected_with_reason
       truncated_and_oversized inspect_unverified evidence_with_certificate_table
       test_roots_only turin_vlek_synthetic)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
R="$DATA/sevsnp/reports"; C="$DATA/sevsnp/certs"; S="$DATA/sevsnp/synthetic"
AT=2025-10-01T08:00:00Z
OUT=$(mktemp); trap 'rm -rf "$OUT" "$OUT".*' EXIT
source "$(dirname "$0")/lib.sh"

case "$CASE" in
milan_verifies_with_claims)
  run 0 --tee sev-snp --cert "$C/go-sev-guest_vcek.der" --at 2022-09-24T01:00:00Z "$R/go-sev-guest_attestation.bin"
  jqeq .tee sev-snp; jqeq .verified true; jqeq .tcb_status NotApplicable; jqeq '.advisory_ids|length' 0
  jqeq .debug true; jqeq .valid_until 2029-09-24T00:55:28Z
  jqeq .report_data "0102030405$(printf '0%.0s' {1..118})"
  jqeq .sev_snp.version 2; jqeq .sev_snp.product Milan; jqeq .sev_snp.signing_key vcek
  jqeq .sev_snp.measurement b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01
  jqeq .sev_snp.policy.value 0xb0000; jqeq .sev_snp.policy.debug true; jqeq .sev_snp.policy.smt true
  jqeq .sev_snp.reported_tcb.raw 0x4405000000000002; jqeq .sev_snp.reported_tcb.boot_loader 2
  jqeq .sev_snp.reported_tcb.snp 5; jqeq .sev_snp.reported_tcb.microcode 68
  jqeq .sev_snp.chip_id 3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d
  for k in version product signing_key vmpl policy guest_svn family_id image_id measurement host_data \
           id_key_digest author_key_digest report_id report_id_ma chip_id platform_info current_tcb \
           reported_tcb committed_tcb launch_tcb; do
    jqtrue ".sev_snp | has(\"$k\")"
  done ;;
auto_detects_snp)
  run 0 --cert "$C/trustee_test-vcek.der" --at "$AT" "$R/trustee_test-report.bin"
  jqeq .tee sev-snp; jqeq .sev_snp.guest_svn 4 ;;
every_real_report_verifies)
  while read -r report cert measurement; do
    run 0 --cert "$C/$cert" --at "$AT" "$R/$report"
    jqeq .verified true; jqeq .sev_snp.measurement "$measurement"
  done <<'EOF'
virtee-sev_report_milan.bin virtee-sev_vcek_milan.der 7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f
trustee_test-report.bin trustee_test-vcek.der a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c
trustee_test-vlek-report.bin trustee_test-vlek.der 8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0
trustee_e2e-report.bin trustee_e2e-vcek.der 6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315506e73e
oak_genoa_oc_report.bin oak_genoa_oc_vcek.der c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc
oak_milan_oc_release_report.bin oak_milan_oc_release_vcek.der 195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3
oak_milan_rk_release_report.bin oak_milan_rk_release_vcek.der 195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3
azure_milan_hcl_snp_report.bin azure_milan_vcek_ask_ark.pem 9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c22944eb386d17c315
azure_genoa_hcl_snp_report.bin azure_genoa_vcek.pem f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae
EOF
  ;;
vlek_names_the_cloud)
  run 0 --cert "$C/trustee_test-vlek.der" --at "$AT" "$R/trustee_test-vlek-report.bin"
  jqeq .sev_snp.signing_key vlek; jqeq .sev_snp.vmpl 1; jqeq .sev_snp.csp_id CN=cc-us-east-2.amazonaws.com
  jqeq .sev_snp.reported_tcb.microcode 217; jqeq .sev_snp.current_tcb.microcode 220
  jqeq .valid_until 2025-12-10T22:14:21Z ;;
genoa_v5)
  run 0 --tee sev-snp --cert "$C/oak_genoa_oc_vcek.der" --at "$AT" "$R/oak_genoa_oc_report.bin"
  jqeq .sev_snp.version 5; jqeq .sev_snp.product Genoa; jqeq .sev_snp.cpuid.model 0x11
  jqeq .sev_snp.launch_mit_vector 0x1; jqeq .sev_snp.reported_tcb.raw 0x541900000000000a ;;
azure_vcek_ask_ark_bundle)
  run 0 --cert "$C/azure_milan_vcek_ask_ark.pem" --at "$AT" "$R/azure_milan_hcl_snp_report.bin"
  jqeq .sev_snp.guest_svn 5; jqeq .sev_snp.reported_tcb.microcode 115; jqeq .sev_snp.current_tcb.microcode 210 ;;
pem_and_der_cert)
  openssl x509 -inform der -in "$C/oak_milan_oc_release_vcek.der" -out "$OUT.pem" || fail "openssl"
  run 0 --cert "$OUT.pem" --at "$AT" "$R/oak_milan_oc_release_report.bin"
  openssl x509 -in "$C/azure_genoa_vcek.pem" -outform der -out "$OUT.der" || fail "openssl"
  run 0 --cert "$OUT.der" --at "$AT" "$R/azure_genoa_hcl_snp_report.bin"
  printf 'garbage' > "$OUT.bad"; run 1 --cert "$OUT.bad" --at "$AT" "$R/azure_genoa_hcl_snp_report.bin"
  jqeq .reason CERT_CHAIN_INVALID ;;
rejected_with_reason)
  run 1 --cert "$C/trustee_test-vcek-invalid-legacy.der" --at "$AT" "$R/trustee_test-report.bin"
  jqeq .verified false; jqeq .tee sev-snp; jqeq .reason CERT_CHAIN_INVALID
  jqtrue 'has("sev_snp") | not'
  run 1 --cert "$C/trustee_test-vcek-invalid-new.der" --at "$AT" "$R/trustee_test-report.bin"
  jqeq .reason CERT_CHAIN_INVALID
  run 1 --cert "$C/virtee-sev_vcek_milan.der" --at "$AT" "$R/trustee_test-report.bin"
  jqeq .reason PLATFORM_MISMATCH
  jqtrue '.error | contains("the VCEK belongs to another chip")'
  run 1 --cert "$C/oak_genoa_oc_vcek.der" --at "$AT" "$R/oak_milan_oc_release_report.bin"
  jqeq .reason PLATFORM_MISMATCH
  jqtrue '.error | contains("from a Milan processor")'
  run 1 --cert "$C/trustee_test-vlek.der" --at 2025-12-10T22:14:22Z "$R/trustee_test-vlek-report.bin"
  jqeq .reason EXPIRED
  jqtrue '.error | contains("SEV-VLEK") and contains("expired at 2025-12-10T22:14:21Z")'
  run 1 --at "$AT" "$R/trustee_test-report.bin"
  jqeq .reason COLLATERAL_MISSING ;;
truncated_and_oversized)
  head -c 1183 "$R/trustee_test-report.bin" > "$OUT.short"
  run 1 --tee sev-snp --cert "$C/trustee_test-vcek.der" --at "$AT" "$OUT.short"
  jqeq .reason MALFORMED_EVIDENCE; jqeq .error "sev-snp report: 1183 bytes, but a report is exactly 1184 bytes"
  run 1 --cert "$C/trustee_test-vcek.der" --at "$AT" "$OUT.short"
  jqeq .reason UNSUPPORTED_FORMAT
  { cat "$R/trustee_test-report.bin"; printf 'X'; } > "$OUT.long"
  run 1 --cert "$C/trustee_test-vcek.der" --at "$AT" "$OUT.long"
  jqeq .reason MALFORMED_EVIDENCE
  jqtrue '.error | startswith("sev-snp evidence: the 1 bytes after the 1184-byte report are not a certificate table")'
  printf '\x04' | dd of="$OUT.long" bs=1 seek=0 conv=notrunc 2>/dev/null
  run 1 --tee sev-snp --at "$AT" "$OUT.long"; jqeq .reason UNSUPPORTED_FORMAT ;;
inspect_unverified)
  for f in "$R"/*.bin; do
    run 0 --inspect "$f"
    jqeq .verified false; jqeq .tee sev-snp; jqeq 'has("tcb_status")' false; jqeq 'has("valid_until")' false
    jqtrue '.sev_snp.measurement | test("^[0-9a-f]{96}$")'
  done
  run 0 --inspect "$R/trustee_test-report.bin"
  jqtrue '.warnings[0] | contains("the product is not known")'
  run 0 --inspect "$R/oak_genoa_oc_report.bin"; jqeq .sev_snp.product Genoa; jqeq 'has("warnings")' false ;;
evidence_with_certificate_table)
  # Milan test evidence carrying its VCEK and test ASK; the test ARK via --roots.
  d="$OUT.d"; mkdir "$d"; cp "$S/roots/amd_ark_milan.pem" "$d/"
  run 0 --roots "$d" --at 2026-01-01T00:00:00Z "$S/milan_vcek_extended.bin"
  jqeq .tee sev-snp; jqeq .sev_snp.product Milan; jqeq .sev_snp.signing_key vcek
  jqeq .report_data "$(printf '42%.0s' {1..64})" ;;
test_roots_only)
  # Under the built-in AMD roots the test ASK in the table is refused.
  run 1 --at 2026-01-01T00:00:00Z "$S/milan_vcek_extended.bin"
  jqeq .reason CERT_CHAIN_INVALID
  jqtrue '.error | contains("is not AMD'"'"'s SEV-Milan")'
  # And a real report is refused under the test ARK.
  d="$OUT.d"; mkdir "$d"; cp "$S/roots/amd_ark_milan.pem" "$d/"
  run 1 --roots "$d" --cert "$C/oak_milan_oc_release_vcek.der" --at "$AT" "$R/oak_milan_oc_release_report.bin"
  jqeq .reason CERT_CHAIN_INVALID ;;
turin_vlek_synthetic)
  d="$OUT.d"; mkdir "$d"; cp "$S/roots/amd_ark_turin.pem" "$d/"
  run 0 --roots "$d" --at 2026-01-01T00:00:00Z "$S/turin_vlek_extended.bin"
  jqeq .sev_snp.product Turin; jqeq .sev_snp.signing_key vlek; jqeq .sev_snp.version 5
  jqeq .sev_snp.reported_tcb.raw 0x500000004030201; jqeq .sev_snp.reported_tcb.fmc 1
  jqeq .sev_snp.reported_tcb.boot_loader 2; jqeq .sev_snp.reported_tcb.microcode 5
  jqeq .sev_snp.csp_id test-csp.example ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "ok [$CASE]"
