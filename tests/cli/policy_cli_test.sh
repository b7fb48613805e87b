#!/usr/bin/env bash
# Contract tests of tee-verify --policy and --role: the dry run an admin does before writing a role
# (policy_examples/README.md), on the real vectors the example roles were written from.
#   policy_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   policy_cli_test.sh list                         print the case names
set -uo pipefail

cases=(examples_deny_only_for_nonce examples_allow_unbound_copy wrong_measurement_listed
       every_mismatch_listed nested_policy_same_decision invalid_role_lists_errors
       unknown_role_field policy_and_role_exclusive inspect_refuses_role role_name_scopes_identity)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; DATA="$2"; CASE="$3"
EX="$DATA/../../policy_examples"
OUT=$(mktemp); trap 'rm -f "$OUT" "$OUT".*' EXIT
source "$(dirname "$0")/lib.sh"

# Per example: role file, then the evidence arguments it was written from.
TDX_ARGS=(--collateral "$DATA/tdx/collateral/dcap-qvl-2025-06" --at 2025-07-19T10:00:34Z
          "$DATA/tdx/quotes/dcap-qvl_tdx_quote.bin")
SNP_ARGS=(--cert "$DATA/sevsnp/certs/oak_genoa_oc_vcek.der" --at 2025-10-01T08:00:00Z
          "$DATA/sevsnp/reports/oak_genoa_oc_report.bin")
NITRO_ARGS=(--at 2022-10-13T09:00:00Z "$DATA/nitro/docs/beta_nondebug.bin")

# each_example FUNCTION : calls FUNCTION ROLE_FILE EVIDENCE_ARGS... for the three examples.
each_example() {
  "$1" "$EX/mcp-server-tdx.role.json" "${TDX_ARGS[@]}"
  "$1" "$EX/mcp-server-snp.role.json" "${SNP_ARGS[@]}"
  "$1" "$EX/mcp-server-nitro.role.json" "${NITRO_ARGS[@]}"
}

# Recorded evidence carries no login nonce: the example roles deny it for that alone.
deny_only_nonce() {
  local role=$1; shift
  run 1 --role "$role" "$@"
  jqeq .decision deny; jqeq '[.reasons[].field]|join(",")' nonce; jqeq .claims.verified true
  jqtrue '.workload_identity|test("^(tdx|sev-snp|nitro):[0-9a-f]{64}$")'
}

allow_unbound() {
  local role=$1; shift
  jq '. + {allow_unbound_evidence: true}' "$role" >"$OUT.role"
  run 0 --role "$OUT.role" "$@"
  jqeq .decision allow; jqeq '.reasons|length' 0
}

case "$CASE" in
examples_deny_only_for_nonce) each_example deny_only_nonce ;;
examples_allow_unbound_copy) each_example allow_unbound ;;
wrong_measurement_listed)
  jq '.tdx_mrtd = ["'"$(printf 'ab%.0s' {1..48})"'"] | .allow_unbound_evidence = true' \
    "$EX/mcp-server-tdx.role.json" >"$OUT.role"
  run 1 --role "$OUT.role" "${TDX_ARGS[@]}"
  jqeq .decision deny; jqeq '[.reasons[].field]|join(",")' tdx.mrtd
  jqeq '.reasons[0].actual' "$(jq -r .claims.tdx.mrtd "$OUT")"
  jqeq '.reasons[0].expected[0]' "$(printf 'ab%.0s' {1..48})" ;;
every_mismatch_listed)
  # Three unmet constraints and no nonce: four reasons, not just the first.
  jq '.sev_snp_measurement = ["'"$(printf '00%.0s' {1..48})"'"] | .sev_snp_min_reported_tcb_snp = 99
      | .sev_snp_products = ["Milan"]' "$EX/mcp-server-snp.role.json" >"$OUT.role"
  run 1 --role "$OUT.role" "${SNP_ARGS[@]}"
  jqeq '.reasons|length' 4
  jqtrue '[.reasons[].field] | index("sev_snp.measurement") and index("sev_snp.product")
          and index("sev_snp.reported_tcb.snp") and index("nonce")' ;;
nested_policy_same_decision)
  # The --policy form of the same role (policy_examples/README.md, step 3) decides the same.
  jq '{tee_types, allow_unbound_evidence: true, nitro: {pcr0: .nitro_pcr0, pcr1: .nitro_pcr1,
       pcr2: .nitro_pcr2, pcr8: .nitro_pcr8}, max_evidence_age_seconds}' \
    "$EX/mcp-server-nitro.role.json" >"$OUT.policy"
  run 0 --policy "$OUT.policy" "${NITRO_ARGS[@]}"; jqeq .decision allow
  id=$(jq -r .workload_identity "$OUT")
  allow_unbound "$EX/mcp-server-nitro.role.json" "${NITRO_ARGS[@]}"
  jqeq .workload_identity "$id" ;;
invalid_role_lists_errors)
  echo '{"tee_types":["tdx","sgx"],"tdx_mrtd":["abc"]}' >"$OUT.role"
  run 1 --role "$OUT.role" "${TDX_ARGS[@]}"
  jqeq .decision invalid_policy; jqeq '.errors|length' 3
  jqtrue '.errors|map(test("sgx"))|any'; jqtrue '.errors|map(test("tdx.mrtd"))|any'
  jqtrue '.errors|map(test("does not pin its image"))|any'
  jqtrue 'has("claims")|not' ;;
unknown_role_field)
  jq '. + {tdx_mrtdd: []}' "$EX/mcp-server-tdx.role.json" >"$OUT.role"
  run 1 --role "$OUT.role" "${TDX_ARGS[@]}"
  jqeq .decision invalid_policy; jqeq '.errors[0]' "role JSON: tdx_mrtdd: unknown role field" ;;
policy_and_role_exclusive)
  "$TV" --role "$EX/mcp-server-tdx.role.json" --policy "$EX/mcp-server-tdx.role.json" \
    "${TDX_ARGS[@]}" >"$OUT" 2>&1
  [ $? = 2 ] || fail "exit status"
  grep -q "give one of --policy and --role" "$OUT" || fail "no usage message" ;;
role_name_scopes_identity)
  # --role-name gives the entity alias a login to that role gets (docs/policy.md, "Workload
  # identity"): the role's name is part of it, so another name is another identity.
  allow_unbound "$EX/mcp-server-tdx.role.json" "${TDX_ARGS[@]}"; anonymous=$(jq -r .workload_identity "$OUT")
  run 0 --role "$OUT.role" --role-name mcp-server-tdx "${TDX_ARGS[@]}"; named=$(jq -r .workload_identity "$OUT")
  jqeq .metadata.workload_identity "$named"
  run 0 --role "$OUT.role" --role-name other "${TDX_ARGS[@]}"; other=$(jq -r .workload_identity "$OUT")
  [ "$named" != "$anonymous" ] && [ "$other" != "$named" ] && [ "$other" != "$anonymous" ] ||
    fail "identities do not depend on the role name: $anonymous $named $other"
  run 2 --role-name x "${TDX_ARGS[@]}" ;;
inspect_refuses_role)
  run 2 --inspect --role "$EX/mcp-server-tdx.role.json" "$DATA/tdx/quotes/dcap-qvl_tdx_quote.bin" ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "ok [$CASE]"
