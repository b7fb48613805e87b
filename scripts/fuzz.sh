#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time on a corpus
# seeded from the real vectors, after replaying the checked-in regression inputs.
#   FUZZ_SECONDS  seconds per target (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
BUILD_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
TARGETS=(tdx_quote_fuzzer tdx_collateral_fuzzer pck_extensions_fuzzer)

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DTEE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${TARGETS[@]}"

seed() {  # seed TARGET FILES...
  local dir="$BUILD_DIR/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do cp "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; done
}
D=tests/data/tdx
seed tdx_quote_fuzzer "$D"/quotes/*.bin
# The collateral fuzzer's first byte selects the parser: 0 envelope, 1 TCB info, 2 QE identity.
mkdir -p "$BUILD_DIR/corpus/tdx_collateral_fuzzer"
for f in "$D"/collateral/*/tcb_info_response.json "$D"/extra/*tcb_info*.json "$D"/extra/*tcbinfo*.json; do
  n=$(basename "$(dirname "$f")")-$(basename "$f")
  { printf '\x00'; cat "$f"; } > "$BUILD_DIR/corpus/tdx_collateral_fuzzer/env-$n"
  { printf '\x01'; jq -c .tcbInfo "$f"; } > "$BUILD_DIR/corpus/tdx_collateral_fuzzer/tcb-$n"
done
for f in "$D"/collateral/*/qe_identity_response.json; do
  n=$(basename "$(dirname "$f")")
  { printf '\x02'; jq -c .enclaveIdentity "$f"; } > "$BUILD_DIR/corpus/tdx_collateral_fuzzer/qe-$n"
done
seed pck_extensions_fuzzer "$D"/collateral/*/*.pem "$D"/collateral/*/*.der
# The SGX extension value of a real PCK certificate (from a quote's embedded PEM chain).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
awk '/BEGIN CERT/{p=1} p{print} /END CERT/{exit}' "$D/quotes/dcap-qvl_tdx_quote.bin" > "$tmp/pck.pem" 2>/dev/null || true
if [ -s "$tmp/pck.pem" ]; then
  off=$(openssl asn1parse -in "$tmp/pck.pem" | awk '/1.2.840.113741.1.13.1$/{getline; sub(":.*","",$1); print $1; exit}')
  [ -n "$off" ] && openssl asn1parse -in "$tmp/pck.pem" -strparse "$off" -noout -out "$BUILD_DIR/corpus/pck_extensions_fuzzer/sgx-extension.der" || true
fi

status=0
for t in "${TARGETS[@]}"; do
  reg="tests/fuzz/regressions/$t"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    echo "== $t: replaying $(ls "$reg" | wc -l) regression inputs"
    "$BUILD_DIR/tests/fuzz/$t" "$reg"/* || status=1
  fi
  echo "== $t: fuzzing for ${SECONDS_PER_TARGET}s"
  if ! "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
       -max_len=16384 -print_final_stats=1 -artifact_prefix="$BUILD_DIR/$t-" \
       "$BUILD_DIR/corpus/$t" 2>"$BUILD_DIR/$t.log"; then
    status=1; tail -40 "$BUILD_DIR/$t.log"
  fi
  grep -E 'stat::number_of_executed_units|stat::new_units_added|cov:' "$BUILD_DIR/$t.log" | tail -3
done
exit $status
