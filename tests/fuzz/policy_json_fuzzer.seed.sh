# Seeds $1 for policy_json_fuzzer: the example roles (first byte 1: role JSON) and their nested
# --policy form (first byte 0).
for f in policy_examples/*.role.json; do
  n=$(basename "$f" .role.json)
  { printf '\x01'; cat "$f"; } > "$1/role-$n"
  { printf '\x00'; jq -c '{tee_types, allow_debug, tdx: ({mrtd: .tdx_mrtd, rtmr0: .tdx_rtmr0}
      | with_entries(select(.value != null)))}' "$f"; } > "$1/policy-$n"
done
