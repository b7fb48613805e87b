#!/usr/bin/env bash
# The main job, on a fresh Debian machine: installs what is missing (scripts/setup.sh), builds,
# and runs the whole system on loopback: an OpenBao server with the plugin in its catalog, the
# tee-verifierd sidecar, and MCP servers in a TDX VM, an SEV-SNP VM, a Nitro enclave and Azure
# confidential VMs (SEV-SNP and TDX, a vTPM: swtpm) that log in with tee-login and read the one
# credential their role releases; then an MCP server (the official
# MCP Python SDK) run by the stock OpenBao Agent after an attested-certificate login, its signing key
# in its environment only.
#
# This machine has no TEE, so the TEE is the test TEE (tee-testgen, TEST ONLY): it answers
# configfs-tsm and NSM requests with evidence signed by test CAs that only a sidecar started with
# --test-roots accepts. Then real vendor-signed evidence from tests/data is replayed through a
# second, replay-mode sidecar at the time its MANIFEST entry gives (it is long expired).
#   TEE_SERVER=vault   use HashiCorp Vault (`vault` on PATH) instead of OpenBao
#   DEMO_KEEP=1        leave the stack running (prints how to stop it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=$ROOT/build

step() { printf '\n\033[1m── %s\033[0m\n' "$*"; }
run() { local shown="$*"; printf '$ %s\n' "${shown//$BAO/bao}" >&2; "$@"; }
as_token() { local t=$1; shift; VAULT_TOKEN=$t BAO_TOKEN=$t "$@"; }  # BAO_TOKEN wins over VAULT_TOKEN

step "Installing what is missing and building (scripts/setup.sh, build.sh, build_go.sh)"
bash scripts/setup.sh >/dev/null
scripts/build.sh >/dev/null
scripts/build_go.sh >/dev/null

WORK=$(mktemp -d /tmp/tee-demo-XXXXXX)
stop_stack() { scripts/stack.sh stop "$WORK" >/dev/null 2>&1 || true; }
if [ "${DEMO_KEEP:-0}" != "1" ]; then trap 'stop_stack; rm -rf "$WORK"' EXIT; fi
step "Starting OpenBao (dev server), two sidecars, and registering the plugin (scripts/stack.sh)"
scripts/stack.sh start "$WORK"
source "$WORK/env"
export VAULT_TOKEN=root BAO_TOKEN=root
BAO=$SERVER_BIN

step "The Vault admin: secrets, policies and roles (policy_examples/)"
run "$BAO" kv put -mount=secret mcp/tdx/api-key value=tdx-api-key-7f3c >/dev/null
run "$BAO" kv put -mount=secret mcp/snp/jwt-key value=snp-jwt-signing-key-91ab >/dev/null
run "$BAO" kv put -mount=secret mcp/nitro/db-pass value=nitro-db-password-55e0 >/dev/null
run "$BAO" kv put -mount=secret payments/db-password value=not-for-mcp-servers >/dev/null
for tee in tdx snp nitro; do
  run "$BAO" policy write "mcp-server-$tee" "policy_examples/mcp-server-$tee.policy.hcl" >/dev/null
  run "$BAO" write "auth/tee/role/mcp-server-$tee" "@policy_examples/mcp-server-$tee.role.json" >/dev/null
  "$BAO" write "auth/tee-recorded/role/mcp-server-$tee" "@policy_examples/mcp-server-$tee.role.json" \
    allow_unbound_evidence=true >/dev/null
done
"$BAO" read -format=json auth/tee/role/mcp-server-tdx | jq '.data | {tee_types, tdx_mrtd, tdx_rtmr0, allowed_tcb_statuses, token_policies, token_ttl}'

# The test TEE: configfs-tsm (TDX, SEV-SNP) and the NSM (Nitro) stand-ins, measuring what the
# example roles expect (policy_examples/test-tee-profile.json).
PROFILE=policy_examples/test-tee-profile.json
"$B/verifier/tee-testgen" serve-tsm "$WORK/tsm-tdx" --provider tdx_guest --profile "$PROFILE" 2>/dev/null &
TSM_TDX=$!
"$B/verifier/tee-testgen" serve-tsm "$WORK/tsm-snp" --provider sev_guest --profile "$PROFILE" 2>/dev/null &
TSM_SNP=$!
"$B/verifier/tee-testgen" serve-nsm "$WORK/nsm.sock" --profile "$PROFILE" 2>/dev/null &
NSM=$!
trap 'kill $TSM_TDX $TSM_SNP $NSM 2>/dev/null || true; [ "${DEMO_KEEP:-0}" = 1 ] || { stop_stack; rm -rf "$WORK"; }' EXIT
sleep 0.3

login_and_read() {  # login_and_read LABEL ROLE SECRET TEE-LOGIN-ARGS...
  local label=$1 role=$2 secret=$3; shift 3
  step "$label logs in (nonce → evidence from the TEE → sidecar verifies → token)"
  printf '$ tee-login -role=%s %s\n' "$role" "$*"
  local token
  token=$(HOME="$WORK" "$B/go/tee-login" -token-only -role="$role" "$@")
  echo "token: ${token:0:8}…  (policies: $(as_token "$token" "$BAO" token lookup -format=json | jq -c .data.policies))"
  echo "\$ bao kv get secret/$secret   (with that token)"
  as_token "$token" "$BAO" kv get -format=json -mount=secret "$secret" | jq -c '.data.data'
  echo "\$ bao kv get secret/payments/db-password   (with that token)"
  if as_token "$token" "$BAO" kv get -mount=secret payments/db-password >/dev/null 2>&1; then
    echo "!!! another secret was readable"; exit 1
  fi
  echo "refused: permission denied (the role releases only its own credential)"
}

login_and_read "An MCP server in an Intel TDX VM" mcp-server-tdx mcp/tdx/api-key -tee=tdx -tsm-path="$WORK/tsm-tdx"
login_and_read "An MCP server in an AMD SEV-SNP VM" mcp-server-snp mcp/snp/jwt-key -tee=sev-snp -tsm-path="$WORK/tsm-snp"
login_and_read "An MCP server in an AWS Nitro enclave" mcp-server-nitro mcp/nitro/db-pass -tee=nitro -nsm-device="$WORK/nsm.sock"

# An Azure CVM (docs/azure.md): no nonce in the hardware report; tee-login quotes the PCRs with the
# vTPM's AK, which the HCL report's hardware report vouches for. azure-cvm (TEST ONLY) is swtpm
# provisioned as the vTPM with an HCL report the test TEE made, and a stand-in for THIM (SEV-SNP)
# or the quote service (TDX); a role pins the PCRs its boot measured (the image anchor).
for kind in snp tdx; do
  mkdir -p "$WORK/azure-$kind"
  "$B/go/azure-cvm" -kind "$kind" -dir "$WORK/azure-$kind" -testgen "$B/verifier/tee-testgen" -profile "$PROFILE" \
    >"$WORK/azure-$kind/vm.json" 2>"$WORK/azure-$kind/vm.log" &
  eval "AZURE_${kind^^}=\$!"
done
TRAP_BEFORE_AZURE=$(trap -p EXIT)
trap 'kill $AZURE_SNP $AZURE_TDX $TSM_TDX $TSM_SNP $NSM 2>/dev/null || true; [ "${DEMO_KEEP:-0}" = 1 ] || { stop_stack; rm -rf "$WORK"; }' EXIT
for kind in snp tdx; do
  pid_var=AZURE_${kind^^}
  until [ -s "$WORK/azure-$kind/vm.json" ]; do  # until the VM's vTPM and service are up
    kill -0 "${!pid_var}" 2>/dev/null || { echo "!!! azure-cvm $kind exited"; cat "$WORK/azure-$kind/vm.log"; exit 1; }
    sleep 0.1
  done
  VM=$WORK/azure-$kind/vm.json
  "$BAO" write "auth/tee/role/mcp-server-az-$kind" tee_types="az-$kind-vtpm" azure_pcr4="$(jq -r .pcr4 "$VM")" \
    azure_pcr11="$(jq -r .pcr11 "$VM")" azure_secure_boot=true token_policies="mcp-server-$kind" >/dev/null
done
echo "\$ bao write auth/tee/role/mcp-server-az-snp tee_types=az-snp-vtpm azure_pcr4=… azure_pcr11=… azure_secure_boot=true token_policies=mcp-server-snp"
VM=$WORK/azure-snp/vm.json
login_and_read "An MCP server in an Azure confidential VM (SEV-SNP, vTPM)" mcp-server-az-snp mcp/snp/jwt-key -tee=azure \
  -azure-tpm="$(jq -r .tpm "$VM")" "$(jq -r .service_flag "$VM")=$(jq -r .service_url "$VM")"
VM=$WORK/azure-tdx/vm.json
login_and_read "An MCP server in an Azure confidential VM (TDX, vTPM)" mcp-server-az-tdx mcp/tdx/api-key -tee=azure \
  -azure-tpm="$(jq -r .tpm "$VM")" "$(jq -r .service_flag "$VM")=$(jq -r .service_url "$VM")"
kill $AZURE_SNP $AZURE_TDX 2>/dev/null || true
wait $AZURE_SNP $AZURE_TDX 2>/dev/null || true
eval "$TRAP_BEFORE_AZURE"

step "A replayed login is refused (single-use nonce)"
NONCE=$("$BAO" write -field=nonce auth/tee/nonce role=mcp-server-tdx)
"$B/verifier/tee-testgen" evidence --tee tdx --nonce "$NONCE" --profile "$PROFILE" --out "$WORK/quote.bin" 2>/dev/null
EVIDENCE=$(base64 -w0 "$WORK/quote.bin")
"$BAO" write -field=token_policies auth/tee/login role=mcp-server-tdx nonce="$NONCE" evidence="$EVIDENCE" >/dev/null
echo "first login with nonce ${NONCE:0:12}…: token issued"
if "$BAO" write auth/tee/login role=mcp-server-tdx nonce="$NONCE" evidence="$EVIDENCE" 2>"$WORK/err"; then
  echo "!!! a replay got a token"; exit 1
fi
echo "replay: $(grep -m1 '^\*' "$WORK/err")"

step "Another workload (a different MRTD) is refused: the caller learns no more, the server log has every reason"
cat >"$WORK/other.json" <<'EOF'
{"tdx": {"mrtd": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}}
EOF
NONCE=$("$BAO" write -field=nonce auth/tee/nonce role=mcp-server-tdx)
"$B/verifier/tee-testgen" evidence --tee tdx --nonce "$NONCE" --profile "$WORK/other.json" --out "$WORK/other.bin" 2>/dev/null
if "$BAO" write auth/tee/login role=mcp-server-tdx nonce="$NONCE" evidence="$(base64 -w0 "$WORK/other.bin")" 2>"$WORK/err"; then
  echo "!!! the wrong workload got a token"; exit 1
fi
echo "answer: $(grep -m1 '^\*' "$WORK/err")"
for _ in $(seq 50); do grep -q 'role not satisfied' "$WORK/server.out" && break; sleep 0.1; done
grep 'role not satisfied' "$WORK/server.out" | grep -oE 'field=[^ ]+ .*' | cut -c1-160 | sed 's/^/server log: /' || true

step "Real vendor-signed evidence (tests/data), replayed at its MANIFEST time on auth/tee-recorded"
echo "(a replay-mode sidecar; these roles admit unbound evidence: recorded evidence carries no nonce)"
standin_stats() {  # standin_stats kds|pcs: the stand-in's request counts on AMD KDS or Intel PCS paths
  local keep=.; [ "$1" = kds ] || keep=not
  curl -s "$PCS_URL/_stats" | jq -c "with_entries(select(.key | test(\"^/(vcek|vlek)/\") | $keep))"
}
recorded() {  # recorded LABEL ROLE SECRET EVIDENCE AT [ARGS...]
  local label=$1 role=$2 secret=$3 evidence=$4 at=$5; shift 5
  local token
  token=$(HOME="$WORK" "$B/go/tee-login" -token-only -path=tee-recorded -role="$role" \
    -evidence-file="$evidence" -verification-time="$at" "$@")
  printf '%-52s verified as of %s → token, reads %s: %s\n' "$label" "$at" "$secret" \
    "$(as_token "$token" "$BAO" kv get -field=value -mount=secret "$secret")"
}
recorded "Intel TDX quote v4 (Phala dcap-qvl, real Intel PCS)" mcp-server-tdx mcp/tdx/api-key \
  tests/data/tdx/quotes/dcap-qvl_tdx_quote.bin 2025-07-19T09:00:00Z -tee=tdx
echo "  its collateral was fetched by the sidecar itself, verified, then cached, from $PCS_URL (a local"
echo "  Intel PCS stand-in serving the real recorded responses; requests per item: $(standin_stats pcs)"
# The report carries no certificate table and tee-login sends no VCEK: the sidecar fetches it by
# the report's CHIP_ID and REPORTED_TCB, with the product's cert_chain and CRL, from the stand-in.
recorded "AMD SEV-SNP Genoa report v5 (Oak, no certificates)" mcp-server-snp mcp/snp/jwt-key \
  tests/data/sevsnp/reports/oak_genoa_oc_report.bin 2025-10-01T08:00:00Z -tee=sev-snp
echo "  its VCEK (the real one AMD's KDS served for this chip at this TCB) and the ASK/ARK chain were"
echo "  fetched by the sidecar, verified to the pinned ARK, then cached, from $KDS_URL (the same stand-in,"
echo "  on AMD KDS paths; no real AMD CRL is recorded, so /crl answers 404); requests per item:"
echo "  $(standin_stats kds)"
recorded "AWS Nitro attestation document (real AWS chain)" mcp-server-nitro mcp/nitro/db-pass \
  tests/data/nitro/docs/beta_nondebug.bin 2022-10-13T09:00:00Z -tee=nitro
if HOME="$WORK" "$B/go/tee-login" -token-only -path=tee-recorded -role=mcp-server-tdx \
     -evidence-file=tests/data/tdx/quotes/dcap-qvl_tdx_quote.bin 2>"$WORK/err" >/dev/null; then
  echo "!!! expired evidence verified as of now"; exit 1
fi
echo "The same TDX quote as of now: refused — $(grep -m1 -oE 'evidence rejected \(EXPIRED\)[^"]*' "$WORK/err" | head -1 | cut -c1-120)…"

step "An attested MCP server run by the stock OpenBao Agent (policy_examples/mcp-server, docs/workloads.md)"
EX=policy_examples/mcp-server
PY=$ROOT/.venv/bin/python
run "$BAO" policy write mcp-signer "$EX/mcp-signer.policy.hcl" >/dev/null
run "$BAO" write auth/tee/role/mcp-signer "@$EX/mcp-signer.role.json" >/dev/null
KEY=demo-jwt-key-$(openssl rand -hex 16)
run "$BAO" kv put -mount=secret mcp/signer/jwt-key value="$KEY" >/dev/null
# In the TEE: tee-login cert keeps an attested key and certificate fresh (a tmpfs in production).
"$B/go/tee-login" cert -role=mcp-signer -out="$WORK/cert" -tee=tdx -tsm-path="$WORK/tsm-tdx" -refresh=4m 2>"$WORK/cert.log" &
MINTER=$!
for _ in $(seq 600); do [ -f "$WORK/cert/cert.pem" ] && break; sleep 0.2; done
echo "\$ tee-login cert -role=mcp-signer -out=$WORK/cert -refresh=4m &"
echo "\$ bao login -method=cert -path=tee -client-cert=…/cert.pem -client-key=…/key.pem -token-only -no-store name=mcp-signer"
TOKEN=$(VAULT_ADDR=$VAULT_TLS_ADDR BAO_ADDR=$VAULT_TLS_ADDR VAULT_TOKEN= BAO_TOKEN= HOME="$WORK" "$BAO" login -method=cert -path=tee \
  -client-cert="$WORK/cert/cert.pem" -client-key="$WORK/cert/key.pem" -token-only -no-store name=mcp-signer)
echo "token: ${TOKEN:0:8}…  (the stock CLI, an attested TLS client certificate; policies: $(as_token "$TOKEN" "$BAO" token lookup -format=json | jq -c .data.policies))"

# start_agent NAME CERT_DIR PORT: the example agent config, filled in, run in the background.
start_agent() {
  sed -e "s#@VAULT_TLS_ADDR@#$VAULT_TLS_ADDR#" -e "s#@VAULT_CACERT@#$VAULT_CACERT#" -e "s#@CERT_DIR@#$2#" \
      -e "s#@ROLE@#mcp-signer#" -e "s#@RENDER_INTERVAL@#2s#" -e "s#@PYTHON@#$PY#" -e "s#@EXAMPLE_DIR@#$ROOT/$EX#" \
      -e "s#@MCP_PORT@#$3#" "$EX/agent.hcl.tmpl" >"$WORK/$1.hcl"
  # The environment's VAULT_ADDR/BAO_ADDR would win over the config's address: the TLS listener.
  VAULT_ADDR=$VAULT_TLS_ADDR BAO_ADDR=$VAULT_TLS_ADDR VAULT_TOKEN= BAO_TOKEN= HOME="$WORK" "$BAO" agent -config="$WORK/$1.hcl" >"$WORK/$1.log" 2>&1 &
}
mcp() { "$PY" "$EX/client.py" "http://127.0.0.1:$PORT/mcp" "$@"; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "\$ bao agent -config=agent.hcl   (cert auto-auth, no sink; env_template MCP_JWT_SIGNING_KEY; exec server.py)"
start_agent agent "$WORK/cert" "$PORT"
AGENT=$!
trap 'kill $AGENT $MINTER $TSM_TDX $TSM_SNP $NSM 2>/dev/null || true; [ "${DEMO_KEEP:-0}" = 1 ] || { stop_stack; rm -rf "$WORK"; }' EXIT
wait_for_key() {  # wait_for_key KEY: until the server answers with that key's fingerprint
  local want
  want=$(printf %s "$1" | sha256sum | cut -c1-16)
  for _ in $(seq 600); do
    INFO=$(mcp server_info 2>/dev/null) && [ "$(jq -r .result.key_sha256_prefix <<<"$INFO")" = "$want" ] && return 0
    kill -0 "$AGENT" 2>/dev/null || { echo "!!! the agent exited"; tail -20 "$WORK/agent.log"; exit 1; }
    sleep 0.2
  done
  echo "!!! the MCP server did not come up with the key"; exit 1
}
wait_for_key "$KEY"
PID=$(jq -r .result.pid <<<"$INFO")
echo "\$ python client.py http://127.0.0.1:$PORT/mcp sign_jwt '{\"subject\": \"alice\"}'   (the MCP SDK's client)"
mcp sign_jwt '{"subject": "alice"}' | jq -c '{tools, jwt: (.result[0:48] + "…")}'
echo "The key lives in the server's environment: /proc/$PID/environ has MCP_JWT_SIGNING_KEY ($(tr '\0' '\n' </proc/$PID/environ | grep -c "^MCP_JWT_SIGNING_KEY=$KEY\$") match)"
if grep -rlF --exclude-dir=.git "$KEY" "$ROOT" "$WORK" 2>/dev/null; then echo "!!! a file holds the key"; exit 1; fi
echo "No file under $ROOT or $WORK holds it (grep -rlF); the token lives only in the agent's memory."

run "$BAO" kv put -mount=secret mcp/signer/jwt-key value="$KEY-rotated" >/dev/null
wait_for_key "$KEY-rotated"
echo "Rotated in KV: the agent restarted the server (pid $PID → $(jq -r .result.pid <<<"$INFO")), which signs with the new key."

echo "Another workload's evidence (other MRTD) in its certificate: the agent's login is refused, no server starts"
"$B/verifier/tee-testgen" serve-tsm "$WORK/tsm-other" --provider tdx_guest --profile "$WORK/other.json" 2>/dev/null &
TSM_OTHER=$!
for _ in $(seq 600); do  # until the stand-in serves
  "$B/go/tee-login" cert -role=mcp-signer -out="$WORK/cert-other" -tee=tdx -tsm-path="$WORK/tsm-other" 2>>"$WORK/cert.log" && break
  sleep 0.2
done
PORT_OTHER=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_agent agent-other "$WORK/cert-other" "$PORT_OTHER"
wait $! || true
kill $TSM_OTHER 2>/dev/null || true
echo "agent: $(grep -m1 -oE 'permission denied' "$WORK/agent-other.log" || echo '!!! no refusal')  → exited; server spawned: $(grep -c 'spawning' "$WORK/agent-other.log")"
if PORT=$PORT_OTHER mcp sign_jwt '{"subject": "mallory"}' 2>/dev/null; then echo "!!! a tool call succeeded"; exit 1; fi
echo "the MCP client's call fails: nothing serves on its port"
kill $AGENT $MINTER 2>/dev/null || true
wait $AGENT 2>/dev/null || true

step "Done"
echo "Sidecar decisions logged (JSON lines, evidence by digest only): $(grep -c '"event":"evaluate"' "$WORK/sidecar-test.log") on the test sidecar, $(grep -c '"event":"evaluate"' "$WORK/sidecar-recorded.log") on the replay sidecar"
if [ "${DEMO_KEEP:-0}" = "1" ]; then
  echo "The stack is still running: source $WORK/env; stop it with scripts/stack.sh stop $WORK"
fi
