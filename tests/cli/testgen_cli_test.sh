#!/usr/bin/env bash
# Contract tests of tee-testgen (docs/testgen.md), the TEST-ONLY TEE for the plugin's integration
# tests and the demo: what it makes must verify with tee-verify under the test roots, bound to a
# nonce as verifier/policy/nonce_binding.h defines (computed here with shell tools, not by the
# code under test), and its configfs-tsm and NSM emulations must follow their protocols.
#   testgen_cli_test.sh TEE_VERIFY DATA_DIR CASE     run one case
#   testgen_cli_test.sh list                         print the case names
# tee-testgen is found next to TEE_VERIFY (the build puts both in <build>/verifier/), or at
# $TEE_TESTGEN when that is set.
set -uo pipefail

cases=(roots_written usage_errors tdx_bound_to_nonce snp_bound_to_nonce nitro_bound_to_nonce
       nonce_option_binds_client_key collateral_window default_profile profile_in_claims
       profile_policy_decision example_roles_refuse_host_choices bad_profile_refused tsm_tdx_round_trip tsm_snp_round_trip
       tsm_errors_and_regeneration nsm_round_trip nsm_malformed_requests servers_stop_on_sigint)

if [ "${1:-}" = "list" ]; then printf '%s\n' "${cases[@]}"; exit 0; fi
TV="$1"; CASE="$3"
TG="${TEE_TESTGEN:-$(dirname "$TV")/tee-testgen}"
OUT=$(mktemp); W=$(mktemp -d)
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$OUT" "$OUT.err" "$W"
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
[ -x "$TG" ] || fail "tee-testgen not found at $TG (build it, or set TEE_TESTGEN)"

# tg EXPECTED_EXIT args... : runs tee-testgen, stdout in $OUT, stderr in $OUT.err.
tg() {
  local want=$1; shift
  "$TG" "$@" >"$OUT" 2>"$OUT.err"; local got=$?
  [ "$got" = "$want" ] || { cat "$OUT.err" >>"$OUT"; fail "exit $got, expected $want: tee-testgen $*"; }
}
errhas() { grep -qF -- "$1" "$OUT.err" || { cat "$OUT.err" >>"$OUT"; fail "stderr lacks: $1"; }; }

rep() { local s=""; for _ in $(seq "$2"); do s="$s$1"; done; printf '%s' "$s"; }
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# report_data NONCE_HEX [CLIENT_KEY_FILE]: SHA-512("tee-auth report-data v1" || 0x00 ||
# u8(len nonce) || nonce || u8(len key_hash) || key_hash), key_hash = SHA-256(key) or empty.
report_data() {
  {
    printf 'tee-auth report-data v1\000'
    printf '%02x' $((${#1} / 2)) | xxd -r -p
    printf '%s' "$1" | xxd -r -p
    if [ -n "${2:-}" ]; then printf '\040'; sha256sum "$2" | cut -c1-64 | xxd -r -p; else printf '\000'; fi
  } | sha512sum | cut -c1-128
}

NONCE=5e1ec7ed00112233445566778899aabbccddeeff0123456789abcdef01234567
OTHER_NONCE=00000000000000000000000000000000000000000000000000000000deadbeef
RD=$(report_data "$NONCE")
MODULE_ID=i-0123456789abcdef0-enc0123456789abcdef

setup_roots() { tg 0 roots "$W/roots"; }
setup_tdx() { setup_roots; tg 0 collateral "$W/coll"; COLL="$W/coll/testgen-tdx"; }

# start_server args...: tee-testgen in the background (SERVER=its pid; stderr in $W/server.log).
start_server() { "$TG" "$@" 2>>"$W/server.log" & SERVER=$!; SERVERS+=("$SERVER"); }
server_exited() { ! kill -0 "$SERVER" 2>/dev/null; }
# stop_server [SIGNAL]: the server must exit 0 within 5 s.
stop_server() {
  kill -"${1:-TERM}" "$SERVER"
  wait_until 250 server_exited
  kill -0 "$SERVER" 2>/dev/null && fail "server $SERVER still running 5 s after SIG${1:-TERM}"
  wait "$SERVER"; local rc=$?
  [ "$rc" = 0 ] || { cat "$W/server.log" >>"$OUT"; fail "server exited $rc after SIG${1:-TERM}"; }
}

# tsm_request DIR ENTRY INBLOB_HEX: the configfs-tsm client of docs/testgen.md, up to reading.
tsm_request() {
  local e="$1/$2"
  mkdir "$e" || fail "mkdir $e"
  printf '%s' "$3" | xxd -r -p > "$e/inblob"
  tsm_wait "$e"
}
tsm_answered() { [ -s "$1/outblob" ] || [ -s "$1/error" ]; }
tsm_wait() {
  wait_until 500 tsm_answered "$1" && return 0
  cat "$W/server.log" >>"$OUT"; fail "neither outblob nor error in $1 after 10 s"
}

case "$CASE" in
roots_written)
  setup_roots; errhas "TEST TEE"
  [ "$(ls "$W/roots" | tr '\n' ' ')" = "amd_ark_genoa.pem amd_ark_milan.pem amd_ark_turin.pem aws_nitro_enclaves_root_g1.pem intel_sgx_root_ca.pem " ] \
    || fail "root files: $(ls "$W/roots")"
  while read -r f subject; do
    got=$(openssl x509 -in "$W/roots/$f" -noout -subject -nameopt RFC2253) || fail "$f is not a certificate"
    [ "$got" = "subject=$subject" ] || fail "$f: $got, expected $subject"
  done <<EOF
intel_sgx_root_ca.pem O=Test TEE,CN=Test SGX Root CA
amd_ark_milan.pem O=Test TEE,CN=ARK-Milan
amd_ark_genoa.pem O=Test TEE,CN=ARK-Genoa
amd_ark_turin.pem O=Test TEE,CN=ARK-Turin
aws_nitro_enclaves_root_g1.pem O=Test TEE,CN=test.nitro-enclaves
EOF
  # The roots are fixed: another run writes the same bytes.
  tg 0 roots "$W/again"
  diff -r "$W/roots" "$W/again" >/dev/null || fail "roots differ between runs" ;;
usage_errors)
  tg 2; errhas "missing subcommand"
  tg 2 frobnicate; errhas 'unknown subcommand "frobnicate"'
  tg 2 roots; errhas "expected 1 positional argument(s), got 0"
  tg 2 evidence --report-data "$RD" --out "$W/e"; errhas "--tee must be tdx, sev-snp or nitro"
  tg 2 evidence --tee tdx --report-data "$RD"; errhas "--out FILE is required"
  tg 2 evidence --tee tdx --report-data "${RD:2}" --out "$W/e"; errhas "tdx REPORT_DATA is 64 bytes (128 hex digits), got 63"
  tg 2 evidence --tee sev-snp --report-data "${RD}00" --out "$W/e"; errhas "sev-snp REPORT_DATA is 64 bytes (128 hex digits), got 65"
  tg 2 evidence --tee tdx --report-data "$RD" --nonce "$NONCE" --out "$W/e"; errhas "give exactly one of --report-data HEX and --nonce HEX"
  tg 2 evidence --tee tdx --report-data xyz --out "$W/e"; errhas "--report-data"
  tg 2 evidence --tee tdx --report-data "$RD" --out "$W/e" --cert-out "$W/c"; errhas "--cert-out is for --tee sev-snp only"
  tg 2 evidence --tee tdx --report-data "$RD" --out "$W/e" --frob 1; errhas "unknown option --frob"
  tg 2 serve-tsm "$W/tsm" --provider snp; errhas "--provider must be tdx_guest or sev_guest"
  tg 2 nsm-request "$W/sock" --raw ff --nonce 00; errhas "--raw sends its bytes as they are"
  [ -e "$W/e" ] && fail "a usage error wrote evidence"
  tg 0 --help; grep -q "^usage: tee-testgen roots DIR" "$OUT" || fail "--help prints the usage" ;;
tdx_bound_to_nonce)
  setup_tdx
  tg 0 evidence --tee tdx --report-data "$RD" --out "$W/q.bin"; errhas "TEST TEE"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" "$W/q.bin"
  jqeq .tee tdx; jqeq .verified true; jqeq .report_data "$RD"; jqeq .tcb_status UpToDate
  jqeq .tdx.quote_version 4; jqeq .tdx.mrtd "$(rep 7d 48)"; jqeq .tdx.rtmr3 "$(rep a3 48)"; jqeq .debug false
  run 1 --roots "$W/roots" --collateral "$COLL" --nonce "$OTHER_NONCE" "$W/q.bin"
  jqeq .reason NONCE_MISMATCH
  # Under the built-in Intel root the test quote is refused.
  run 1 --collateral "$COLL" "$W/q.bin"; jqeq .verified false ;;
snp_bound_to_nonce)
  setup_roots
  tg 0 evidence --tee sev-snp --report-data "$RD" --out "$W/s.bin" --cert-out "$W/vcek.pem"
  [ "$(stat -c %s "$W/s.bin")" -gt 1184 ] || fail "evidence lacks the certificate table"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/s.bin"
  jqeq .tee sev-snp; jqeq .verified true; jqeq .report_data "$RD"
  jqeq .sev_snp.product Milan; jqeq .sev_snp.signing_key vcek; jqeq .sev_snp.vmpl 0
  jqeq .sev_snp.measurement "$(rep 3e 48)"; jqeq .sev_snp.policy.value 0x30000
  # --cert-out: the VCEK bundle, with which the bare report verifies too.
  [ "$(grep -c 'BEGIN CERTIFICATE' "$W/vcek.pem")" = 3 ] || fail "bundle is not VCEK, ASK, ARK"
  head -c 1184 "$W/s.bin" > "$W/bare.bin"
  run 0 --roots "$W/roots" --cert "$W/vcek.pem" --nonce "$NONCE" "$W/bare.bin"; jqeq .verified true
  run 1 --roots "$W/roots" --nonce "$OTHER_NONCE" "$W/s.bin"; jqeq .reason NONCE_MISMATCH ;;
nitro_bound_to_nonce)
  setup_roots
  before=$(date +%s%3N)
  tg 0 evidence --tee nitro --report-data "$RD" --out "$W/n.bin"
  after=$(date +%s%3N)
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/n.bin"
  jqeq .tee nitro; jqeq .verified true; jqeq .report_data "$RD"; jqeq .nitro.nonce "$RD"
  jqeq .nitro.module_id "$MODULE_ID"; jqeq '.nitro|has("user_data")' false
  ts=$(jq -r .nitro.timestamp_ms "$OUT")
  [ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ] || fail "timestamp $ts not within $before..$after"
  run 1 --roots "$W/roots" --nonce "$OTHER_NONCE" "$W/n.bin"; jqeq .reason NONCE_MISMATCH ;;
nonce_option_binds_client_key)
  setup_roots
  printf 'client public key bytes' > "$W/key"
  want=$(report_data "$NONCE" "$W/key")
  [ "$want" != "$RD" ] || fail "the key must change the binding"
  tg 0 evidence --tee sev-snp --nonce "$NONCE" --client-key "$W/key" --out "$W/s.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" --client-key "$W/key" "$W/s.bin"; jqeq .report_data "$want"
  tg 0 evidence --tee nitro --nonce "$NONCE" --out "$W/n.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/n.bin"; jqeq .nitro.nonce "$RD"
  run 1 --roots "$W/roots" --nonce "$NONCE" --client-key "$W/key" "$W/n.bin"; jqeq .reason NONCE_MISMATCH ;;
collateral_window)
  setup_tdx
  now=$(date +%s)
  issue=$(date -d "$(jq -r .tcbInfo.issueDate "$COLL/tcb_info_response.json")" +%s)
  next=$(date -d "$(jq -r .tcbInfo.nextUpdate "$COLL/tcb_info_response.json")" +%s)
  [ $((now - 365 * 86400 - issue)) -le 60 ] && [ $((issue - (now - 365 * 86400))) -le 5 ] || fail "issueDate $issue is not a year before $now"
  [ $((now + 5 * 365 * 86400 - next)) -le 60 ] && [ $((next - (now + 5 * 365 * 86400))) -le 5 ] || fail "nextUpdate $next is not five years after $now"
  tg 0 evidence --tee tdx --report-data "$RD" --out "$W/q.bin"
  run 0 --roots "$W/roots" --collateral "$COLL" --at "$(date -u -d @$((now + 4 * 365 * 86400)) +%FT%TZ)" "$W/q.bin"
  jqeq .verified true; jqeq .valid_until "$(date -u -d @"$next" +%FT%TZ)"
  run 1 --roots "$W/roots" --collateral "$COLL" --at "$(date -u -d @$((next + 60)) +%FT%TZ)" "$W/q.bin"
  jqeq .reason EXPIRED ;;
tcb_recovery_explained)
  # After a recovery 60 days ago (the test collateral is valid from a year ago) the test
  # platform (TEE_TCB_SVN[2] = 3) is OutOfDate: the new top level needs 4 (tdx_test_tee.h
  # RecoveredTcbInfoBody).
  setup_roots
  R=$(date -u -d "$(date -u +%F) - 60 days" +%FT%TZ); AT=$(date -u -d "$R + 1 day" +%FT%TZ)
  tg 0 collateral "$W/coll" --tcb-recovery "$R"
  tg 0 evidence --tee tdx --report-data "$RD" --out "$W/q.bin"
  run 0 --roots "$W/roots" --collateral "$W/coll/testgen-tdx" --at "$AT" "$W/q.bin"
  jqeq .tcb_status OutOfDate; jqeq .tdx.tcb_evaluation_data_number 19
  jqeq '.tdx.tcb_shortfall[0].component' 'tee_tcb_svn[2]'; jqeq '.tdx.tcb_shortfall[0].have' 3
  jqeq '.tdx.tcb_shortfall[0].need' 4; jqeq '.tdx.tcb_shortfall[0].level_status' UpToDate
  jqeq '.tdx.tcb_shortfall[0].level_tcb_date' "$R"
  jqeq .tdx.tcb_out_of_date_since "$R"; jqeq '.advisory_ids[0]' INTEL-SA-TEST-RECOVERY
  run 0 --explain --roots "$W/roots" --collateral "$W/coll/testgen-tdx" --at "$AT" "$W/q.bin"
  for want in "platform: level 1 OutOfDate" \
              "short of the next higher level 0 (UpToDate, tcbDate $R, advisories none): tee_tcb_svn[2] 3 < 4" \
              "out of date since $R"; do
    grep -qF -- "$want" "$OUT" || fail "explanation lacks: $want"
  done ;;
tcb_recovery_early_warning)
  setup_roots
  R=$(date -u -d "$(date -u +%F) + 30 days" +%FT%TZ)
  tg 0 collateral "$W/coll" --early-tcb-recovery "$R"
  [ -f "$W/coll/testgen-tdx/tcb_info_early_response.json" ] || fail "no early TCB info written"
  tg 0 evidence --tee tdx --report-data "$RD" --out "$W/q.bin"
  run 0 --roots "$W/roots" --collateral "$W/coll/testgen-tdx" "$W/q.bin"
  jqeq .tcb_status UpToDate; jqeq .tdx.tcb_evaluation_data_number 18
  jqeq .tdx.tcb_status_early OutOfDate; jqeq .tdx.tcb_evaluation_data_number_early 19
  jqeq '.tdx.tcb_shortfall_early[0].component' 'tee_tcb_svn[2]'
  tg 2 collateral "$W/coll2" --tcb-recovery yesterday ;;
default_profile)
  tg 0 profile
  jqeq .tdx.mrtd "$(rep 7d 48)"; jqeq .tdx.rtmr0 "$(rep a0 48)"; jqeq .tdx.rtmr1 "$(rep a1 48)"
  jqeq .tdx.rtmr2 "$(rep a2 48)"; jqeq .tdx.rtmr3 "$(rep a3 48)"; jqeq .tdx.mrconfigid "$(rep 00 48)"
  jqeq .tdx.td_attributes 0000001000000000
  jqeq .sev_snp.product Milan; jqeq .sev_snp.signing_key vcek; jqeq .sev_snp.measurement "$(rep 3e 48)"
  jqeq .sev_snp.host_data "$(rep 00 32)"; jqeq .sev_snp.family_id "$(rep f1 16)"
  jqeq .sev_snp.image_id "$(rep 1d 16)"; jqeq .sev_snp.policy 0x30000; jqeq .sev_snp.guest_svn 1
  jqeq .sev_snp.vmpl 0
  jqeq .nitro.pcr0 "$(rep a0 48)"; jqeq .nitro.pcr1 "$(rep a1 48)"; jqeq .nitro.pcr2 "$(rep a2 48)"
  jqeq .nitro.pcr4 "$(rep a4 48)"; jqeq .nitro.pcr5 "$(rep 00 48)"; jqeq .nitro.pcr8 "$(rep a8 48)"
  jqeq .nitro.module_id "$MODULE_ID"
  # A profile printed by `profile` is itself a valid profile that changes nothing.
  cp "$OUT" "$W/default.json"
  tg 0 profile --profile "$W/default.json"
  cmp -s "$OUT" "$W/default.json" || fail "profile --profile of the default profile differs" ;;
profile_in_claims)
  setup_tdx
  cat > "$W/p.json" <<EOF
{"tdx": {"mrtd": "$(rep 11 48)", "rtmr0": "$(rep 12 48)", "rtmr1": "$(rep 13 48)",
         "rtmr2": "$(rep 14 48)", "rtmr3": "$(rep 15 48)", "mrowner": "$(rep 16 48)",
         "td_attributes": "0100001000000000"},
 "sev_snp": {"product": "Genoa", "signing_key": "vlek", "measurement": "$(rep 21 48)",
             "host_data": "$(rep 22 32)", "policy": "0x30000", "guest_svn": 9, "vmpl": 1},
 "nitro": {"pcr0": "$(rep 31 48)", "pcr1": "$(rep 32 48)", "pcr2": "$(rep 33 48)",
           "pcr8": "$(rep 38 48)", "module_id": "i-feedfacecafe0001-enc0000000000000001"}}
EOF
  tg 0 evidence --tee tdx --report-data "$RD" --profile "$W/p.json" --out "$W/q.bin"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" "$W/q.bin"
  jqeq .tdx.mrtd "$(rep 11 48)"; jqeq .tdx.rtmr0 "$(rep 12 48)"; jqeq .tdx.rtmr1 "$(rep 13 48)"
  jqeq .tdx.rtmr2 "$(rep 14 48)"; jqeq .tdx.rtmr3 "$(rep 15 48)"; jqeq .tdx.mrowner "$(rep 16 48)"
  jqeq .tdx.td_attributes 0100001000000000; jqeq .debug true; jqeq .tdx.td_attributes_flags.debug true
  tg 0 evidence --tee sev-snp --report-data "$RD" --profile "$W/p.json" --out "$W/s.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/s.bin"
  jqeq .sev_snp.product Genoa; jqeq .sev_snp.signing_key vlek; jqeq .sev_snp.csp_id test-csp.example
  jqeq .sev_snp.measurement "$(rep 21 48)"; jqeq .sev_snp.host_data "$(rep 22 32)"
  jqeq .sev_snp.guest_svn 9; jqeq .sev_snp.vmpl 1; jqeq .sev_snp.chip_id "$(rep 00 64)"
  tg 0 evidence --tee nitro --report-data "$RD" --profile "$W/p.json" --out "$W/n.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/n.bin"
  jqeq '.nitro.pcrs["0"]' "$(rep 31 48)"; jqeq '.nitro.pcrs["1"]' "$(rep 32 48)"
  jqeq '.nitro.pcrs["2"]' "$(rep 33 48)"; jqeq '.nitro.pcrs["8"]' "$(rep 38 48)"
  jqeq '.nitro.pcrs["3"]' "$(rep a3 48)"; jqeq .nitro.module_id i-feedfacecafe0001-enc0000000000000001
  # `profile --profile` shows the same values.
  tg 0 profile --profile "$W/p.json"
  jqeq .tdx.mrtd "$(rep 11 48)"; jqeq .sev_snp.product Genoa; jqeq .sev_snp.signing_key vlek
  jqeq .sev_snp.vmpl 1; jqeq .nitro.pcr8 "$(rep 38 48)"; jqeq .tdx.rtmr1 "$(rep 13 48)" ;;
profile_policy_decision)
  setup_roots
  printf '{"nitro": {"pcr0": "%s"}}' "$(rep 44 48)" > "$W/p.json"
  tg 0 evidence --tee nitro --nonce "$NONCE" --profile "$W/p.json" --out "$W/n.bin"
  printf '{"tee_types": ["nitro"], "nitro": {"pcr0": ["%s"]}}' "$(rep 44 48)" > "$W/allow.json"
  printf '{"tee_types": ["nitro"], "nitro": {"pcr0": ["%s"]}}' "$(rep a0 48)" > "$W/deny.json"
  run 0 --roots "$W/roots" --nonce "$NONCE" --policy "$W/allow.json" "$W/n.bin"; jqeq .decision allow
  run 1 --roots "$W/roots" --nonce "$NONCE" --policy "$W/deny.json" "$W/n.bin"; jqeq .decision deny
  jqtrue '[.reasons[] | select(.actual == "'"$(rep 44 48)"'")] | length == 1'
  run 1 --roots "$W/roots" --nonce "$OTHER_NONCE" --policy "$W/allow.json" "$W/n.bin"; jqeq .decision deny ;;
example_roles_refuse_host_choices)
  # Test TEEs with the example roles' measurements (policy_examples/test-tee-profile.json), but a
  # guest policy or TD attributes the host chose to weaken: the example roles refuse them, naming
  # only that field (docs/policy.md, "What a verified report proves").
  setup_tdx
  EX="$2/../../policy_examples"
  jq '.sev_snp.policy = "0x70000"' "$EX/test-tee-profile.json" > "$W/migrate.json"
  jq '.tdx.td_attributes = "0000000000000080"' "$EX/test-tee-profile.json" > "$W/perfmon.json"
  for p in test-tee-profile migrate perfmon; do
    f="$W/$p.json"; [ "$p" = test-tee-profile ] && f="$EX/$p.json"
    tg 0 evidence --tee sev-snp --report-data "$RD" --profile "$f" --out "$W/$p.snp"
    tg 0 evidence --tee tdx --report-data "$RD" --profile "$f" --out "$W/$p.tdx"
  done
  run 0 --roots "$W/roots" --nonce "$NONCE" --role "$EX/mcp-server-snp.role.json" "$W/test-tee-profile.snp"
  jqeq .decision allow
  run 1 --roots "$W/roots" --nonce "$NONCE" --role "$EX/mcp-server-snp.role.json" "$W/migrate.snp"
  jqeq .decision deny; jqeq '[.reasons[].field]|join(",")' sev_snp.policy.migrate_ma
  jqeq '.claims.sev_snp.policy.migrate_ma' true
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" --role "$EX/mcp-server-tdx.role.json" \
    "$W/test-tee-profile.tdx"
  jqeq .decision allow
  run 1 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" --role "$EX/mcp-server-tdx.role.json" \
    "$W/perfmon.tdx"
  jqeq .decision deny; jqeq '[.reasons[].field]|join(",")' tdx.attributes
  jqtrue '.reasons[0].actual|test("sept_ve_disable=0, migratable=0, perfmon=1")' ;;
bad_profile_refused)
  setup_roots
  printf '{"tdx": {"mrtd": "0011"}}' > "$W/p.json"
  tg 2 evidence --tee tdx --report-data "$RD" --profile "$W/p.json" --out "$W/q.bin"
  errhas "tdx.mrtd: expected 48 bytes (96 hex digits), got 2"
  printf '{"sev_snp": {"vmpl": 7}}' > "$W/p.json"
  tg 2 profile --profile "$W/p.json"; errhas "sev_snp.vmpl: expected an integer from 0 to 3"
  printf '{"nitro": {"pcr0": "%s", "color": "blue"}}' "$(rep 00 48)" > "$W/p.json"
  tg 2 serve-nsm "$W/sock" --profile "$W/p.json"; errhas "nitro.color: unknown field"
  tg 2 evidence --tee nitro --report-data "$RD" --profile "$W/missing.json" --out "$W/n.bin"
  errhas "missing.json"
  [ -e "$W/q.bin" ] || [ -e "$W/n.bin" ] || [ -e "$W/sock" ] && fail "a refused profile produced output"
  true ;;
tsm_tdx_round_trip)
  setup_tdx; mkdir "$W/tsm"
  start_server serve-tsm "$W/tsm" --provider tdx_guest
  tsm_request "$W/tsm" report0 "$RD"
  e="$W/tsm/report0"
  [ -e "$e/error" ] && fail "error: $(cat "$e/error")"
  [ "$(cat "$e/provider")" = tdx_guest ] || fail "provider: $(cat "$e/provider")"
  [ "$(cat "$e/generation")" = 1 ] || fail "generation: $(cat "$e/generation")"
  [ -e "$e/auxblob" ] && fail "tdx_guest has no auxblob"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" "$e/outblob"
  jqeq .tee tdx; jqeq .verified true; jqeq .report_data "$RD"
  rm -r "$e"
  tsm_request "$W/tsm" report1 "$(report_data "$OTHER_NONCE")"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$OTHER_NONCE" "$W/tsm/report1/outblob"
  [ -z "$(ls -A "$W/tsm/report1" | grep '^\.')" ] || fail "temporary files left: $(ls -A "$W/tsm/report1")"
  stop_server
  grep -q "report0 generation 1: outblob" "$W/server.log" || fail "server log: $(cat "$W/server.log")" ;;
tsm_snp_round_trip)
  setup_roots; mkdir "$W/tsm"
  printf '{"sev_snp": {"product": "Turin", "measurement": "%s"}}' "$(rep 5a 48)" > "$W/p.json"
  start_server serve-tsm "$W/tsm" --provider sev_guest --profile "$W/p.json"
  mkdir "$W/tsm/r"
  wait_until 250 test -s "$W/tsm/r/provider"
  [ "$(cat "$W/tsm/r/provider")" = sev_guest ] || fail "provider before inblob: $(cat "$W/tsm/r/provider" 2>&1)"
  [ "$(cat "$W/tsm/r/generation")" = 0 ] || fail "generation before inblob: $(cat "$W/tsm/r/generation")"
  echo 1 > "$W/tsm/r/privlevel"
  printf '%s' "$RD" | xxd -r -p > "$W/tsm/r/inblob"
  tsm_wait "$W/tsm/r"
  [ "$(stat -c %s "$W/tsm/r/outblob")" = 1184 ] || fail "outblob is not a bare report"
  [ "$(cat "$W/tsm/r/generation")" = 2 ] || fail "generation after privlevel and inblob: $(cat "$W/tsm/r/generation")"
  # auxblob: the certificate table (VCEK, then ASK), as go-sev-guest reads it.
  [ "$(head -c 16 "$W/tsm/r/auxblob" | hexof /dev/stdin)" = 63da758de6644564adc5f4b93be8accd ] || fail "auxblob does not start with the VCEK GUID"
  cat "$W/tsm/r/outblob" "$W/tsm/r/auxblob" > "$W/ext.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/ext.bin"
  jqeq .tee sev-snp; jqeq .report_data "$RD"; jqeq .sev_snp.product Turin; jqeq .sev_snp.vmpl 1
  jqeq .sev_snp.measurement "$(rep 5a 48)"; jqeq .sev_snp.version 5
  # A shorter inblob is zero-padded, as sev_guest does.
  tsm_request "$W/tsm" short 0102
  cat "$W/tsm/short/outblob" "$W/tsm/short/auxblob" > "$W/ext.bin"
  run 0 --roots "$W/roots" "$W/ext.bin"; jqeq .report_data "0102$(rep 00 62)"
  stop_server ;;
tsm_errors_and_regeneration)
  setup_tdx; mkdir "$W/tsm"
  start_server serve-tsm "$W/tsm"
  tsm_request "$W/tsm" r "$(rep ab 32)"
  e="$W/tsm/r"
  [ -e "$e/outblob" ] && fail "a 32-byte inblob made an outblob"
  grep -qF "EINVAL: tdx_guest needs exactly 64 bytes of inblob, got 32" "$e/error" || fail "error file: $(cat "$e/error")"
  [ "$(cat "$e/generation")" = 1 ] || fail "generation: $(cat "$e/generation")"
  # A new inblob in the same entry replaces the error with an outblob and bumps generation.
  sleep 0.05
  printf '%s' "$RD" | xxd -r -p > "$e/inblob"
  wait_until 500 test -s "$e/outblob"
  [ -e "$e/error" ] && fail "stale error file"
  [ "$(cat "$e/generation")" = 2 ] || fail "generation: $(cat "$e/generation")"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" "$e/outblob"
  # Oversized inblob.
  tsm_request "$W/tsm" big "$(rep 00 65)"
  grep -qF "EINVAL: inblob holds at most 64 bytes, got 65" "$W/tsm/big/error" || fail "error: $(cat "$W/tsm/big/error")"
  # Entries removed at any time, and files that are not entries, do not disturb the server.
  for i in 1 2 3 4 5; do mkdir "$W/tsm/gone$i"; printf '%s' "$RD" | xxd -r -p > "$W/tsm/gone$i/inblob"; rm -rf "$W/tsm/gone$i" 2>/dev/null; done
  touch "$W/tsm/not-a-directory"
  tsm_request "$W/tsm" after "$RD"
  run 0 --roots "$W/roots" --collateral "$COLL" --nonce "$NONCE" "$W/tsm/after/outblob"
  stop_server ;;
nsm_round_trip)
  setup_roots
  printf '{"nitro": {"pcr0": "%s"}}' "$(rep 66 48)" > "$W/p.json"
  start_server serve-nsm "$W/nsm.sock" --profile "$W/p.json"
  tg 0 nsm-request "$W/nsm.sock" --nonce "$RD" --user-data 75736572 --public-key 3059301306 --out "$W/doc.bin" --response-out "$W/resp.bin"
  jqeq .document_bytes "$(stat -c %s "$W/doc.bin")"
  # {"Attestation": {"document": bstr}}: the map heads, then a two-byte length.
  [ "$(head -c 24 "$W/resp.bin" | hexof /dev/stdin)" = "a16b4174746573746174696f6ea168646f63756d656e7459" ] || fail "response head $(head -c 24 "$W/resp.bin" | hexof /dev/stdin)"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/doc.bin"
  jqeq .tee nitro; jqeq .verified true; jqeq .nitro.nonce "$RD"; jqeq .nitro.user_data 75736572
  jqeq .nitro.public_key 3059301306; jqeq '.nitro.pcrs["0"]' "$(rep 66 48)"
  # Null fields stay out of the document.
  tg 0 nsm-request "$W/nsm.sock" --out "$W/doc2.bin"
  run 0 --roots "$W/roots" "$W/doc2.bin"
  jqeq '.nitro|has("nonce")' false; jqeq '.nitro|has("user_data")' false; jqeq '.nitro|has("public_key")' false
  stop_server
  [ -e "$W/nsm.sock" ] && fail "socket file left behind"
  true ;;
nsm_malformed_requests)
  setup_roots
  start_server serve-nsm "$W/nsm.sock"
  # request hex, expected response hex ({"Error": CODE}).
  INVALID=a1654572726f726f496e76616c6964417267756d656e74
  while read -r request response; do
    tg 1 nsm-request "$W/nsm.sock" --raw "$request" --response-out "$W/resp.bin"
    [ "$(hexof "$W/resp.bin")" = "$response" ] || fail "request $request: response $(hexof "$W/resp.bin")"
  done <<EOF
ff $INVALID
a16b4174746573746174696f6ea1656e6f6e6365 $INVALID
a16b4174746573746174696f6ea1656e6f6e63656161 $INVALID
a16b4174746573746174696f6ea1656e6f6e636540ff $INVALID
a163466f6fa0 $INVALID
6b44657363726962654e534d a1654572726f7270496e76616c69644f7065726174696f6e
a16b4174746573746174696f6ea1656e6f6e6365590201$(rep aa 513) a1654572726f726d496e707574546f6f4c61726765
EOF
  jqeq .error InputTooLarge
  # An empty request (connect, half-close at once) is malformed too; the server goes on serving.
  tg 1 nsm-request "$W/nsm.sock" --raw "" --response-out "$W/resp.bin"
  [ "$(hexof "$W/resp.bin")" = "$INVALID" ] || fail "empty request: $(hexof "$W/resp.bin")"
  tg 0 nsm-request "$W/nsm.sock" --nonce "$RD" --out "$W/doc.bin"
  run 0 --roots "$W/roots" --nonce "$NONCE" "$W/doc.bin"
  stop_server
  [ "$(grep -c "serve-nsm: error InvalidArgument" "$W/server.log")" = 6 ] || fail "server log: $(cat "$W/server.log")" ;;
servers_stop_on_sigint)
  mkdir "$W/tsm"
  start_server serve-tsm "$W/tsm"; sleep 0.2; stop_server INT
  start_server serve-nsm "$W/nsm.sock"
  wait_until 250 test -S "$W/nsm.sock"
  [ -S "$W/nsm.sock" ] || fail "no socket"
  stop_server INT
  [ -e "$W/nsm.sock" ] && fail "socket file left behind"
  # A stale socket file from a killed server is replaced; any other file is refused.
  start_server serve-nsm "$W/nsm.sock"; sleep 0.2; kill -KILL "$SERVER"; wait "$SERVER" 2>/dev/null
  [ -S "$W/nsm.sock" ] || fail "the killed server left no socket"
  start_server serve-nsm "$W/nsm.sock"
  tg 0 nsm-request "$W/nsm.sock" --nonce 00
  stop_server
  touch "$W/plain"
  tg 2 serve-nsm "$W/plain"; errhas "exists and is not a socket" ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "PASS [$CASE]"
