#!/usr/bin/env bash
# A bounded load test on loopback (docs/performance.md, "Load"): the sidecar alone with ghz, then
# logins through OpenBao, AppRole against TEE, on the stack of scripts/stack.sh.
#
#   scripts/load.sh            builds what it needs into build/ (the tree scripts/test.sh builds), runs
#                              (about 3 minutes after the build), prints the report and writes
#                              build/load-report.json
#
# Environment:
#   LOAD_SECONDS       duration of each ghz phase (default 20)
#   LOAD_CONCURRENCY   ghz workers (default 4)
#   LOAD_ROUNDS        login rounds (default 5)
#   LOAD_BATCH         logins of each kind per round and concurrency (default 120)
#   LOAD_LOGIN_CONC    login concurrency levels (default 1,4)
#   LOAD_NONCE_BURST   nonce requests (GET) in one burst before the login rounds, then a login
#                      (default 20000; nonces are stateless, so nothing is exhausted)
#   LOAD_PROFILE=1     also profile the server (its pprof endpoint) and the plugin (perf) during
#                      AppRole-only and TEE-only login streams; top functions in <build>/profile/
#   LOAD_DISTINCT=N    also a ghz phase over N distinct TDX evidences, each with its own PCK leaf
#                      certificate, to fill the sidecar's caches (capacity 4096) and watch its RSS
#                      (about 40 s more per 1000)
#   LOAD_CLUSTER=1     also the logins on a three-node raft cluster (OpenBao, raft storage, static
#                      auto-unseal, each node auditing to its log as the dev server does): nonce and
#                      no-op requests as GETs that a standby answers itself (its audit log is
#                      checked), logins on the active node; the same rounds as the dev server's
#                      (about 40 s more with the short run's LOAD_* values, 2-3 minutes in full)
#   LOAD_NOOP_ARGS     arguments for the control plugin (e.g. -gomaxprocs=1: the TEE plugin's thread
#                      setting on a 2-core machine; default none, a stock Go plugin)
#   LOAD_STRICT=1      exit 1 when a target is missed (errors always exit 1)
#   LOAD_BUILD_DIR     the build tree (default build/)
#   LOAD_SKIP_BUILD=1  skip set-up and the project's build (scripts/test.sh has just done them); the
#                      load tools (ghz, the load generator, the control plugin) are built anyway
#
# Exit status: 0 no errors (targets are reported, met or not), 1 errors, failed decisions checks,
# or (LOAD_STRICT=1) a missed target.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
BUILD="$(realpath -m "${LOAD_BUILD_DIR:-$ROOT/build}")"
GHZ_VERSION=v0.121.0
SECONDS_PER_PHASE="${LOAD_SECONDS:-20}"
GHZ_CONC="${LOAD_CONCURRENCY:-4}"
ROUNDS="${LOAD_ROUNDS:-5}"
BATCH="${LOAD_BATCH:-120}"
LOGIN_CONC="${LOAD_LOGIN_CONC:-1,4}"
NONCE_BURST="${LOAD_NONCE_BURST:-20000}"
GHZ="$BUILD/bin/ghz"
LOADGEN="$BUILD/bin/tee-loadgen"
NOOP="$BUILD/bin/noop-auth-plugin"
TESTGEN="$BUILD/verifier/tee-testgen"
PROFILE_FILE="$ROOT/policy_examples/test-tee-profile.json"

# ---- build
if [ "${LOAD_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh >/dev/null
  BUILD_DIR="$BUILD" scripts/build.sh --target tee-verifierd tee-testgen >/dev/null
  BUILD_DIR="$BUILD" scripts/build_go.sh
fi
mkdir -p "$BUILD/bin"
[ -x "$GHZ" ] || GOBIN="$BUILD/bin" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
(cd tests/load && go build -trimpath -o "$LOADGEN" . && go build -trimpath -o "$NOOP" ./noopplugin)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tee-load.XXXXXX")
SAMPLER_PID=""
# stop_group PIDFILE: TERM to the process group (a node and its plugin processes), up to 30 s for
# its leader, then KILL to what is left of the group.
stop_group() {
  local pid; pid=$(cat "$1" 2>/dev/null) || return 0
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$pid" 2>/dev/null || true
}
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  for f in "$WORK"/cluster/node*.pid; do [ -f "$f" ] && stop_group "$f"; done
  BUILD_DIR="$BUILD" scripts/stack.sh stop "$WORK" || true
}
trap cleanup EXIT
BUILD_DIR="$BUILD" scripts/stack.sh start "$WORK" >/dev/null
source "$WORK/env"
# The control: an external auth plugin that only issues tokens (tests/load/noopplugin), at auth/noop.
cp "$NOOP" "$WORK/plugins/noop-auth-plugin"
VAULT_TOKEN=root "$SERVER_BIN" plugin register -sha256="$(sha256sum "$NOOP" | cut -d' ' -f1)" \
  -command=noop-auth-plugin ${LOAD_NOOP_ARGS:+-args="$LOAD_NOOP_ARGS"} auth noop-auth-plugin >/dev/null
VAULT_TOKEN=root "$SERVER_BIN" auth enable -path=noop noop-auth-plugin >/dev/null
SIDECAR_PID=$(cat "$WORK/sidecar-test.pid")
SERVER_PID=$(cat "$WORK/server.pid")
SOCK="$WORK/sidecar-test.sock"
SLOG="$WORK/sidecar-test.log"
mkdir -p "$WORK/ghz" "$WORK/ev"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

kib() { awk -v f="$1" '$1 == f":" {print $2}' "/proc/$SIDECAR_PID/status"; }
sleep 1
RSS_IDLE_KIB=$(kib VmRSS)

# RSS sampler: the sidecar's VmRSS every 100 ms, the largest seen, while load runs.
( max=0; while kill -0 "$SIDECAR_PID" 2>/dev/null; do
    r=$(kib VmRSS 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$max" ] && { max=$r; echo "$max" >"$WORK/rss-max"; }
    sleep 0.1
  done ) &
SAMPLER_PID=$!

# ---- sidecar phase: Evaluate with ghz over the unix socket
nonce_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# role_to_policy: a role file (flat fields, docs/plugin.md) -> teeverify.v1.Policy as protojson.
ROLE_TO_POLICY='reduce to_entries[] as $e ({};
  ($e.key) as $k |
  if ($k | startswith("token_")) then .
  elif ($k | startswith("tdx_")) then .tdx[$k[4:]] = $e.value
  elif ($k | startswith("sev_snp_min_reported_tcb_")) then .sev_snp.min_reported_tcb[$k[25:]] = $e.value
  elif ($k | startswith("sev_snp_")) then .sev_snp[$k[8:]] = $e.value
  elif ($k | startswith("nitro_")) then .nitro[$k[6:]] = $e.value
  else .[$k] = $e.value end)'

# make_request NAME TEE TEE_TYPE ROLE_FILE [JQ_EDIT]: fresh nonce-bound evidence + the role's policy.
make_request() {
  local name=$1 tee=$2 type=$3 role=$4 edit=${5:-.}
  local nonce; nonce=$(nonce_hex)
  "$TESTGEN" evidence --tee "$tee" --nonce "$nonce" --profile "$PROFILE_FILE" \
    --out "$WORK/ghz/$name.bin" 2>/dev/null
  jq -n --rawfile ev <(base64 -w0 "$WORK/ghz/$name.bin") \
    --arg nonce "$(printf %s "$nonce" | xxd -r -p | base64 -w0)" --arg type "$type" --arg role "load-$name" \
    --argjson policy "$(jq -c "$ROLE_TO_POLICY | $edit" "$role")" \
    '{evidence: {evidence: $ev, tee_type: $type}, nonce: $nonce, policy: $policy, role: $role}' \
    >"$WORK/ghz/$name.json"
}

WRONG_MRTD=$(printf 'ab%.0s' $(seq 48))
make_request tdx_allow tdx TEE_TYPE_TDX policy_examples/mcp-server-tdx.role.json
make_request sev_snp_allow sev-snp TEE_TYPE_SEV_SNP policy_examples/mcp-server-snp.role.json
make_request nitro_allow nitro TEE_TYPE_NITRO policy_examples/mcp-server-nitro.role.json
make_request tdx_deny tdx TEE_TYPE_TDX policy_examples/mcp-server-tdx.role.json ".tdx.mrtd = [\"$WRONG_MRTD\"]"

# utime + stime of the sidecar, in clock ticks (fields 14 and 15 of /proc/PID/stat).
sidecar_ticks() { awk '{print $14 + $15}' "/proc/$SIDECAR_PID/stat"; }

# phase NAME CONC SECONDS WANT_DECISION: one ghz run; its summary and the sidecar's decisions
# (from its log) for exactly these requests go to WORK/ghz/NAME.result.json.
phase() {
  local name=$1 conc=$2 secs=$3 want=$4 data=${1%_c1}
  local offset; offset=$(stat -c %s "$SLOG")
  local ticks; ticks=$(sidecar_ticks)
  "$GHZ" --insecure --proto proto/teeverify/v1/verifier.proto --call teeverify.v1.Verifier.Evaluate \
    -D "$WORK/ghz/$data.json" -c "$conc" -z "${secs}s" --duration-stop=wait --cpus 1 \
    --disable-template-functions --disable-template-data -O json -o "$WORK/ghz/$name.out.json" \
    "unix://$SOCK"
  ticks=$(( $(sidecar_ticks) - ticks ))
  tail -c +"$((offset + 1))" "$SLOG" | jq -s '[.[] | select(.event == "evaluate")] |
    {decisions: (group_by(.decision) | map({key: .[0].decision, value: length}) | from_entries),
     sidecar_duration_us_p50: (map(.duration_us) | sort | .[(length - 1) / 2 | floor])}' >"$WORK/ghz/$name.log.json"
  jq --slurpfile log "$WORK/ghz/$name.log.json" --arg want "$want" --argjson conc "$conc" --argjson ticks "$ticks" '
    def pct(p): ([.latencyDistribution[] | select(.percentage == p) | .latency][0] // 0) / 1e6 | . * 1000 | round / 1000;
    {count, rps: (.rps * 10 | round / 10), concurrency: $conc,
     mean_ms: (.average / 1e6 * 1000 | round / 1000), p50_ms: pct(50), p95_ms: pct(95), p99_ms: pct(99),
     errors: ((.errorDistribution // {}) | add // 0), status: .statusCodeDistribution,
     sidecar_decisions: $log[0].decisions, sidecar_duration_us_p50: $log[0].sidecar_duration_us_p50,
     sidecar_cpu_ms_per_call: ($ticks * 1000 / '"$(getconf CLK_TCK)"' / .count * 1000 | round / 1000),
     expected_decision: $want,
     decisions_ok: (($log[0].decisions | keys) == [$want] and $log[0].decisions[$want] == .count)}' \
    "$WORK/ghz/$name.out.json" >"$WORK/ghz/$name.result.json"
  jq -r --arg n "$name" '"sidecar \($n): \(.count) calls, \(.rps) rps, p50 \(.p50_ms) ms, p95 \(.p95_ms) ms, p99 \(.p99_ms) ms, sidecar CPU \(.sidecar_cpu_ms_per_call) ms/call, errors \(.errors), decisions \(.sidecar_decisions | tostring)"' \
    "$WORK/ghz/$name.result.json"
}

echo "== sidecar (ghz $GHZ_VERSION, unix socket, ${SECONDS_PER_PHASE}s per phase, concurrency $GHZ_CONC)"
phase tdx_allow_c1 1 "$(( SECONDS_PER_PHASE < 5 ? SECONDS_PER_PHASE : 5 ))" allow
phase tdx_allow "$GHZ_CONC" "$SECONDS_PER_PHASE" allow
phase sev_snp_allow "$GHZ_CONC" "$SECONDS_PER_PHASE" allow
phase nitro_allow "$GHZ_CONC" "$SECONDS_PER_PHASE" allow
phase tdx_deny "$GHZ_CONC" "$SECONDS_PER_PHASE" deny
if [ "${LOAD_DISTINCT:-0}" -gt 0 ]; then
  mkdir -p "$WORK/distinct"
  nonce=$(nonce_hex)
  seq "$LOAD_DISTINCT" | xargs -P 2 -I{} "$TESTGEN" evidence --tee tdx --nonce "$nonce" \
    --profile "$PROFILE_FILE" --out "$WORK/distinct/{}.bin" 2>/dev/null
  policy=$(jq -c '.policy' "$WORK/ghz/tdx_allow.json")
  nonce_b64=$(printf %s "$nonce" | xxd -r -p | base64 -w0)
  for f in "$WORK"/distinct/*.bin; do
    printf '{"evidence":{"evidence":"%s","tee_type":"TEE_TYPE_TDX"},"nonce":"%s","policy":%s,"role":"load-distinct"}\n' \
      "$(base64 -w0 "$f")" "$nonce_b64" "$policy"
  done | jq -s . >"$WORK/ghz/tdx_distinct.json"
  phase tdx_distinct "$GHZ_CONC" "$SECONDS_PER_PHASE" allow
fi
RSS_PEAK_SIDECAR_PHASE_KIB=$(cat "$WORK/rss-max")

# ---- login phase through OpenBao
echo "== logins through OpenBao ($ROUNDS rounds x $BATCH per kind, concurrency $LOGIN_CONC)"
LG=("$LOADGEN" -testgen "$TESTGEN" -profile "$PROFILE_FILE"
  -role-file policy_examples/mcp-server-tdx.role.json -policy-file policy_examples/mcp-server-tdx.policy.hcl
  -sidecar-log "$SLOG" -server-pid "$SERVER_PID" -sidecar-pid "$SIDECAR_PID" -tmp "$WORK/ev")
LOGIN_STATUS=0
"${LG[@]}" -rounds "$ROUNDS" -batch "$BATCH" -concurrency "$LOGIN_CONC" -nonce-burst "$NONCE_BURST" \
  -out "$WORK/logins.json" || LOGIN_STATUS=$?
[ -f "$WORK/logins.json" ] || { echo "load: the login phase wrote no report" >&2; exit 1; }

RSS_PEAK_KIB=$(cat "$WORK/rss-max")
RSS_HWM_KIB=$(kib VmHWM)
sleep 2
RSS_AFTER_KIB=$(kib VmRSS)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- optional profiles: what a TEE login costs beyond an AppRole login, by function
if [ "${LOAD_PROFILE:-0}" = 1 ]; then
  echo "== profiles (8 s of each kind at concurrency 4)"
  mkdir -p "$BUILD/profile"
  plugin_pid() { ps -o pid=,args= --ppid "$SERVER_PID" | awk -v n="$1" '$2 ~ n"$" {print $1}'; }
  for kind in approle noop tee; do
    "${LG[@]}" -kinds "$kind" -concurrency 4 -batch 100 -for 10s -warmup 0 -out "$BUILD/profile/$kind.json" \
      >"$BUILD/profile/$kind.table.txt" 2>&1 &
    lg=$!
    sleep 1
    curl -sf -H "X-Vault-Token: root" "$VAULT_ADDR/v1/sys/pprof/profile?seconds=8" -o "$BUILD/profile/server-$kind.pprof" &
    curlpid=$!
    case $kind in noop) pp=$(plugin_pid noop-auth-plugin) ;; tee) pp=$(plugin_pid vault-plugin-auth-tee) ;; *) pp="" ;; esac
    rm -f "$BUILD/profile/plugin-$kind.perf"*
    if [ -n "$pp" ] && command -v perf >/dev/null; then
      perf record -q -F 499 -g -p "$pp" -o "$BUILD/profile/plugin-$kind.perf" -- sleep 8 >/dev/null 2>&1 || true
    fi
    wait "$curlpid" || true
    wait "$lg" || true
    go tool pprof -top -cum "$BUILD/profile/server-$kind.pprof" >"$BUILD/profile/server-$kind.top.txt" 2>/dev/null || true
    if [ -f "$BUILD/profile/plugin-$kind.perf" ]; then
      perf report -i "$BUILD/profile/plugin-$kind.perf" --children --sort symbol --stdio -g none 2>/dev/null |
        grep '%' >"$BUILD/profile/plugin-$kind.top.txt" || true
    fi
    grep "/c4" "$BUILD/profile/$kind.table.txt" || true
  done
  echo "profiles in $BUILD/profile/"
fi

# ---- optional: the three-node raft cluster (LOAD_CLUSTER=1)
# Nodes as in the HA test (plugin_shim/integration/ha_cluster_test.go): raft, static-key
# auto-unseal, retry_join; node1 is initialized and becomes active, node2 and node3 join as
# standbys. Both plugins come from WORK/plugins; auth/tee uses the stack's test sidecar.
CLUSTER_STATUS=0
if [ "${LOAD_CLUSTER:-0}" = 1 ]; then
  echo "== three-node raft cluster: nonce and noop requests (GET) on a standby, logins on the active node"
  CW="$WORK/cluster"
  mkdir -p "$CW"
  head -c 32 /dev/urandom >"$CW/unseal.key"
  chmod 600 "$CW/unseal.key"
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
  API=() CLU=()
  for i in 0 1 2; do API[i]=$(free_port); CLU[i]=$(free_port); done
  # wait_until WHAT CMD...: a readiness poll with a deadline of minutes (a busy machine is slow,
  # a wedged node is not waited for forever).
  wait_until() {
    local what=$1 deadline=$((SECONDS + ${LOAD_CLUSTER_WAIT_SECONDS:-180})); shift
    until "$@" >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ]; then
        echo "load: cluster: timed out waiting for $what; the last attempt:" >&2
        "$@" >&2 || true
        return 1
      fi
      sleep 0.3
    done
  }
  # health PORT CODES: sys/health answers 200 on the active node, 429 (473 if it serves reads as
  # a performance standby) on a standby.
  health() { [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v1/sys/health")" =~ ^($2)$ ]]; }
  start_node() {
    local i=$1 n=node$(( $1 + 1 )) joins=""
    for j in 0 1 2; do
      [ "$j" = "$i" ] || joins+="  retry_join { leader_api_addr = \"http://127.0.0.1:${API[j]}\" }"$'\n'
    done
    mkdir -p "$CW/$n"
    cat >"$CW/$n.hcl" <<HCL
storage "raft" {
  path    = "$CW/$n"
  node_id = "$n"
$joins}
listener "tcp" {
  address         = "127.0.0.1:${API[i]}"
  cluster_address = "127.0.0.1:${CLU[i]}"
  tls_disable     = true
}
seal "static" {
  current_key_id = "load-1"
  current_key    = "file://$CW/unseal.key"
}
api_addr         = "http://127.0.0.1:${API[i]}"
cluster_addr     = "https://127.0.0.1:${CLU[i]}"
plugin_directory = "$WORK/plugins"
disable_mlock    = true
audit "file" "node-log" {
  options {
    file_path = "stdout"
  }
}
HCL
    setsid "$SERVER_BIN" server -config="$CW/$n.hcl" >"$CW/$n.log" 2>&1 &
    echo $! >"$CW/$n.pid"
  }
  run_cluster() {
    local active="http://127.0.0.1:${API[0]}" standby="http://127.0.0.1:${API[1]}" root
    # errexit does not apply here (the caller tests the status): every step checks its own.
    start_node 0
    wait_until "node1 to listen" curl -sf -o /dev/null "$active/v1/sys/init" || return 1
    # Init is not idempotent (a second call cannot return the root token): not retried.
    root=$(curl -sf -X PUT -d '{"recovery_shares":1,"recovery_threshold":1}' "$active/v1/sys/init" |
      jq -er .root_token) || { echo "load: cluster: init failed" >&2; return 1; }
    wait_until "node1 to become active" health "${API[0]}" 200 || return 1
    # The stack's env exports BAO_ADDR (which bao prefers to VAULT_ADDR): set both.
    local b=(env VAULT_ADDR="$active" BAO_ADDR="$active" VAULT_TOKEN="$root" BAO_TOKEN="$root" "$SERVER_BIN")
    # Joining nodes start as non-voters, which serve no reads; autopilot promotes them once stable.
    wait_until "the autopilot configuration" "${b[@]}" write sys/storage/raft/autopilot/configuration \
      server_stabilization_time=2s cleanup_dead_servers=false || return 1
    for i in 1 2; do # one at a time: raft adds one peer per configuration change
      start_node "$i"
      wait_until "node$((i + 1)) to join as a standby" health "${API[i]}" "429|473" || return 1
    done
    three_voters() {
      "${b[@]}" read -format=json sys/storage/raft/configuration |
        jq -e '[.data.config.servers[] | select(.voter)] | length == 3'
    }
    wait_until "three raft voters" three_voters || return 1
    # Each admin call is idempotent or made so, and retried until the new cluster has done it.
    wait_until "registering the TEE plugin" "${b[@]}" plugin register \
      -sha256="$(sha256sum "$WORK/plugins/vault-plugin-auth-tee" | cut -d' ' -f1)" \
      -command=vault-plugin-auth-tee auth vault-plugin-auth-tee || return 1
    wait_until "registering the control plugin" "${b[@]}" plugin register \
      -sha256="$(sha256sum "$WORK/plugins/noop-auth-plugin" | cut -d' ' -f1)" -command=noop-auth-plugin ${LOAD_NOOP_ARGS:+-args="$LOAD_NOOP_ARGS"} auth noop-auth-plugin || return 1
    # An enable retried after it had in fact succeeded meets "path is already in use": look first.
    enable_auth() {
      "${b[@]}" auth list -format=json | jq -e --arg p "$1/" 'has($p)' || "${b[@]}" auth enable -path="$1" "$2"
    }
    wait_until "auth/tee" enable_auth tee vault-plugin-auth-tee || return 1
    wait_until "auth/noop" enable_auth noop noop-auth-plugin || return 1
    wait_until "auth/tee/config" "${b[@]}" write auth/tee/config sidecar_address="unix://$SOCK" allow_test_sidecar=true || return 1
    # The standby serves reads once it has the new mounts and the nonce key.
    wait_until "the standby to answer a nonce read" curl -sf -o /dev/null "$standby/v1/auth/tee/nonce?role=load" || return 1
    wait_until "the standby to answer a control read" curl -sf -o /dev/null "$standby/v1/auth/noop/ping" || return 1
    # nonce_reads NODE: the nonce requests NODE answered, by the responses its audit device (its
    # stdout, in its log: a declarative audit device must be configured alike on every node)
    # recorded.
    nonce_reads() {
      grep '^{.*"type":"response"' "$CW/$1.log" | grep -c '"path":"auth/tee/nonce"' || true
    }
    local before_active before_standby
    before_active=$(nonce_reads node1)
    before_standby=$(nonce_reads node2)
    local status=0
    "$LOADGEN" -addr "$active" -token "$root" -read-addr "$standby" -testgen "$TESTGEN" -profile "$PROFILE_FILE" \
      -role-file policy_examples/mcp-server-tdx.role.json -policy-file policy_examples/mcp-server-tdx.policy.hcl \
      -sidecar-log "$SLOG" -server-pid "$(cat "$CW/node1.pid")" -sidecar-pid "$SIDECAR_PID" -tmp "$WORK/ev" \
      -rounds "$ROUNDS" -batch "$BATCH" -concurrency "$LOGIN_CONC" -out "$WORK/cluster-logins.json" || status=$?
    # Nonce reads answered on the standby are audited there, not on the active node.
    jq -n --argjson a "$(( $(nonce_reads node1) - before_active ))" \
      --argjson s "$(( $(nonce_reads node2) - before_standby ))" \
      '{nonce_audit_entries_active: $a, nonce_audit_entries_standby: $s}' >"$WORK/cluster-audit.json"
    return "$status"
  }
  CLUSTER_START=$SECONDS
  run_cluster || CLUSTER_STATUS=$?
  echo "cluster part: $((SECONDS - CLUSTER_START)) s"
  [ -f "$WORK/cluster-logins.json" ] || { echo "load: the cluster phase wrote no report" >&2; exit 1; }
  jq -r '"nonce requests audited on the standby: \(.nonce_audit_entries_standby), on the active node: \(.nonce_audit_entries_active)"' \
    "$WORK/cluster-audit.json"
  for f in "$CW"/node*.pid; do stop_group "$f"; done
fi

# ---- report
MIB() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
jq -n --slurpfile logins "$WORK/logins.json" \
  --argjson tdx_c1 "$(cat "$WORK/ghz/tdx_allow_c1.result.json")" \
  --argjson tdx "$(cat "$WORK/ghz/tdx_allow.result.json")" \
  --argjson snp "$(cat "$WORK/ghz/sev_snp_allow.result.json")" \
  --argjson nitro "$(cat "$WORK/ghz/nitro_allow.result.json")" \
  --argjson deny "$(cat "$WORK/ghz/tdx_deny.result.json")" \
  --argjson distinct "$(cat "$WORK/ghz/tdx_distinct.result.json" 2>/dev/null || echo null)" \
  --argjson cluster "$(cat "$WORK/cluster-logins.json" 2>/dev/null || echo null)" \
  --argjson cluster_audit "$(cat "$WORK/cluster-audit.json" 2>/dev/null || echo null)" \
  --argjson ndistinct "${LOAD_DISTINCT:-0}" \
  --argjson idle "$(MIB "$RSS_IDLE_KIB")" --argjson peak_sidecar "$(MIB "$RSS_PEAK_SIDECAR_PHASE_KIB")" \
  --argjson peak "$(MIB "$RSS_PEAK_KIB")" --argjson hwm "$(MIB "$RSS_HWM_KIB")" --argjson after "$(MIB "$RSS_AFTER_KIB")" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
  --argjson ncpu "$(nproc)" --arg load_before "$LOAD_BEFORE" --arg load_after "$LOAD_AFTER" \
  --arg ghz "$GHZ_VERSION" --arg server "$("$SERVER_BIN" version 2>/dev/null | head -1)" --arg go "$(go version)" --arg noop_args "${LOAD_NOOP_ARGS:-}" \
  --argjson secs "$SECONDS_PER_PHASE" '
  ($logins[0]) as $l |
  {date: $date,
   machine: {cpu: $cpu, cpus: $ncpu, loadavg_before: $load_before, loadavg_after: $load_after},
   versions: {ghz: $ghz, server: $server, go: $go}, control_plugin_args: $noop_args,
   sidecar: {seconds_per_phase: $secs,
             phases: ({tdx_allow_c1: $tdx_c1, tdx_allow: $tdx, sev_snp_allow: $snp, nitro_allow: $nitro, tdx_deny: $deny}
                      + if $distinct then {tdx_distinct: ($distinct + {distinct_evidences: $ndistinct})} else {} end),
             rss_mib: {idle_before: $idle, peak_sampled_sidecar_phase: $peak_sidecar, peak_sampled: $peak,
                       vm_hwm: $hwm, idle_after: $after}},
   logins: $l,
   cluster: (if $cluster then {logins: $cluster, standby_reads: $cluster_audit} else null end),
   targets: ({
     sidecar_errors_zero: ([$tdx_c1, $tdx, $snp, $nitro, $deny, ($distinct // empty)] | all(.errors == 0 and .decisions_ok)),
     login_errors_zero: ($l.errors_total == 0),
     sidecar_rss_idle_under_64_mib: ($idle < 64),
     sidecar_rss_load_under_256_mib: ([$peak, $hwm] | max < 256),
     tee_login_at_most_1_25x_approle: ($l.ratios | to_entries | map({key, value: (.value.tee_over_approle_mean <= 1.25 and .value.approle_rps_over_tee_rps <= 1.25)}) | from_entries),
     nonce_and_tee_login_at_most_1_25x_approle: ($l.ratios | to_entries | map({key, value: (.value.nonce_tee_over_approle_mean <= 1.25 and .value.approle_rps_over_nonce_tee_rps <= 1.25)}) | from_entries),
     nonce_at_most_1_1x_noop_request: ($l.ratios | to_entries | map({key, value: (.value.nonce_over_noop_request_mean <= 1.1)}) | from_entries),
     tee_login_at_most_1_6x_noop_login: ($l.ratios | to_entries | map({key, value: (.value.tee_over_noop_mean <= 1.6)}) | from_entries),
     nonce_and_tee_login_at_most_1_4x_noop_pair: ($l.ratios | to_entries | map({key, value: (.value.nonce_tee_over_noop_pair_mean <= 1.4)}) | from_entries)
   } + if $cluster then {
     cluster_login_errors_zero: ($cluster.errors_total == 0),
     cluster_nonce_reads_answered_by_the_standby: ($cluster_audit.nonce_audit_entries_standby > 0 and $cluster_audit.nonce_audit_entries_active == 0),
     cluster_nonce_at_most_1_1x_noop_request: ($cluster.ratios | to_entries | map({key, value: (.value.nonce_over_noop_request_mean <= 1.1)}) | from_entries),
     cluster_tee_login_at_most_1_6x_noop_login: ($cluster.ratios | to_entries | map({key, value: (.value.tee_over_noop_mean <= 1.6)}) | from_entries),
     cluster_nonce_and_tee_login_at_most_1_4x_noop_pair: ($cluster.ratios | to_entries | map({key, value: (.value.nonce_tee_over_noop_pair_mean <= 1.4)}) | from_entries)
   } else {} end)}' >"$BUILD/load-report.json"

echo "== sidecar RSS: idle $(MIB "$RSS_IDLE_KIB") MiB, peak sampled $(MIB "$RSS_PEAK_KIB") MiB, VmHWM $(MIB "$RSS_HWM_KIB") MiB, idle after $(MIB "$RSS_AFTER_KIB") MiB"
echo "== targets"
jq -r '.targets | to_entries[] | "\(.key): \(.value | if type == "object" then (to_entries | map("\(.key) \(if .value then "met" else "MISSED" end)") | join(", ")) elif . then "met" else "MISSED" end)"' \
  "$BUILD/load-report.json"
echo "report: $BUILD/load-report.json (load average before: $LOAD_BEFORE, after: $LOAD_AFTER)"

ok_errors=$(jq '.targets.sidecar_errors_zero and .targets.login_errors_zero and (.targets.cluster_login_errors_zero // true)
  and (.targets.cluster_nonce_reads_answered_by_the_standby // true)' "$BUILD/load-report.json")
all_met=$(jq '[.targets[] | if type == "object" then .[] else . end] | all' "$BUILD/load-report.json")
if [ "$ok_errors" != true ] || [ "$LOGIN_STATUS" != 0 ] || [ "$CLUSTER_STATUS" != 0 ]; then exit 1; fi
if [ "${LOAD_STRICT:-0}" = 1 ] && [ "$all_met" != true ]; then exit 1; fi
exit 0
