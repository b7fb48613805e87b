#!/usr/bin/env bash
# Contract tests of the tee-verify CLI for Azure confidential VMs (vTPM evidence, docs/azure.md):
# trustee's published evidence JSON, detected with the default --tee auto.
#   azure_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   azure_cli_test.sh list                         print the case names
# Expected values: tests/data/azure/PROVENANCE.md.
set -uo pipefail

cases=(snp_auto_detects_and_verifies snp_version2_verifies snp_nonce_is_the_quote_extra_data
       snp_role_dry_run tdx_stops_at_the_missing_collateral inspect_unverified tampered_pcr_refused)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
A="$DATA/azure"
AT=2025-10-01T08:00:00Z
OUT=$(mktemp); trap 'rm -rf "$OUT" "$OUT".*' EXIT
source "$(dirname "$0")/lib.sh"

case "$CASE" in
snp_auto_detects_and_verifies)
  run 0 --at "$AT" "$A/az-snp-vtpm-evidence-v1.json"
  jqeq .tee az-snp-vtpm; jqeq .verified true; jqeq .tcb_status NotApplicable
  jqeq .report_data "$(printf challenge | xxd -p)"; jqeq .valid_until 2032-01-28T16:26:55Z
  jqeq .sev_snp.product Milan
  jqeq .sev_snp.measurement 6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e
  jqeq '.azure.pcrs|length' 24
  jqeq '.azure.pcrs["4"]' eee70c86ea856a27719a2127d6090f02e100e2947c16a0d6a355f7294382992f
  jqeq '.azure.pcrs["7"]' 3b20e022416fdf61d72e4da32b4354781be3de0608116976d28ffdad8c341d2a
  jqeq '.azure.vm_configuration["secure-boot"]' true; jqeq .azure.vm_id 26F8BC30-774E-4290-8E7A-535F3B672AEE
  jqeq .azure.hardware_report_data af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f21$(printf '0%.0s' {1..64}) ;;
snp_version2_verifies)
  run 0 --tee az-snp-vtpm --at "$AT" "$A/az-snp-vtpm-evidence-v2.json"
  jqeq .tee az-snp-vtpm; jqeq .azure.vm_id 7DF7B373-B947-4AAA-96E5-C358F2A03D20 ;;
snp_nonce_is_the_quote_extra_data)
  # trustee's test nonce is the extraData itself, not our binding of it: refused as a mismatch.
  run 1 --at "$AT" --nonce "$(printf challenge | xxd -p)" "$A/az-snp-vtpm-evidence-v1.json"
  jqeq .reason NONCE_MISMATCH ;;
snp_role_dry_run)
  cat >"$OUT.role" <<'ROLE'
{"tee_types": "az-snp-vtpm", "allow_unbound_evidence": true,
 "azure_pcr4": "eee70c86ea856a27719a2127d6090f02e100e2947c16a0d6a355f7294382992f",
 "azure_pcr7": "3b20e022416fdf61d72e4da32b4354781be3de0608116976d28ffdad8c341d2a",
 "azure_secure_boot": true, "sev_snp_min_reported_tcb_snp": 8, "token_policies": "mcp"}
ROLE
  run 0 --at "$AT" --role "$OUT.role" "$A/az-snp-vtpm-evidence-v1.json"
  jqeq .decision allow
  sed -i 's/"azure_secure_boot": true/"azure_secure_boot": false, "azure_pcr11": "'"$(printf '1%.0s' {1..64})"'"/' "$OUT.role"
  run 1 --at "$AT" --role "$OUT.role" "$A/az-snp-vtpm-evidence-v1.json"
  jqeq .decision deny
  jqeq '[.reasons[].field]|join(",")' azure.pcr11,azure.vm_configuration.secure-boot ;;
tdx_stops_at_the_missing_collateral)
  # No collateral is recorded for FMSPC 00806f050000; everything else verified before. Another
  # platform's bundle, at a time inside its window, is refused for its FMSPC.
  run 1 --at 2025-07-19T10:00:34Z --collateral "$DATA/tdx/collateral/dcap-qvl-2025-06" "$A/az-tdx-vtpm-evidence-v1.json"
  jqeq .tee az-tdx-vtpm; jqeq .reason PLATFORM_MISMATCH
  jqtrue '.error | contains("PCK certificate FMSPC 00806f050000 does not match")' ;;
inspect_unverified)
  run 0 --inspect --at "$AT" "$A/az-tdx-vtpm-evidence-v1.json"
  jqeq .verified false; jqeq .tee az-tdx-vtpm
  jqeq .tdx.mrtd 024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b
  jqeq '.azure.vm_configuration["root-cert-thumbprint"]' 6nZZnYaJc4KqUZ_yvA-mucFdYNouvlPnITnNMXsHl-0
  jqtrue 'has("warnings") | not' ;;
tampered_pcr_refused)
  jq -c '.tpm_quote.pcrs[4] = "'"$(printf '0%.0s' {1..64})"'"' "$A/az-snp-vtpm-evidence-v1.json" >"$OUT.ev"
  run 1 --at "$AT" "$OUT.ev"
  jqeq .reason BAD_SIGNATURE; jqtrue '.error | contains("pcrDigest")' ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
