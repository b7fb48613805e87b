#!/usr/bin/env bash
# Differential accept/reject test against the peer verifiers (docs/conformance.md):
#   1. tee-mutants writes every real vector (at its MANIFEST time) and the mutation campaign's
#      mutants of each (the same generator, seeds and order: tests/mutation/mutator.h) to files,
#      with our verdict on each (the core with caches, as the sidecar verifies);
#   2. the Go peers (bench/peers/go: go-tdx-guest for TDX, go-sev-guest for SEV-SNP) and, in the
#      full run, the Rust peers (bench/peers/rust: dcap-qvl for TDX, Evervault's
#      attestation-doc-validation for Nitro, the latter under Debian's libfaketime since it reads
#      the clock) give their verdicts on the same files;
#   3. `peers -report` counts the cases and agreements per peer and lists every disagreement by
#      class; it fails (exit 1) on a disagreement docs/conformance.md does not explain, and on
#      any case where ours accepts and a peer refuses.
#
#   scripts/differential.sh          full run (--scale 1: about 11,600 cases; ~3 minutes plus the
#                                    first cargo build)
#   scripts/differential.sh --short  what scripts/test.sh runs in CI: --scale 0.03 (about 400
#                                    cases, every real vector included), Go peers only
# Output: $OUT (default build/differential): cases.tsv, verdicts-*.tsv, report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/env.sh
BUILD_DIR=${BUILD_DIR:-build}
OUT=${OUT:-$BUILD_DIR/differential}
SCALE=1
RUST=1
if [ "${1:-}" = "--short" ]; then
  SCALE=${DIFF_SCALE:-0.03}
  RUST=0
fi
log() { printf '[differential %ds] %s\n' "$SECONDS" "$*" >&2; }

[ -x "$BUILD_DIR/tests/tee-mutants" ] || cmake --build "$BUILD_DIR" --target tee-mutants >&2
rm -rf "$OUT"
mkdir -p "$OUT"
log "writing cases (scale $SCALE) with our verdicts"
"$BUILD_DIR/tests/tee-mutants" --data tests/data --out "$OUT" --scale "$SCALE" >&2

log "building and running the Go peers (go-tdx-guest, go-sev-guest)"
(cd bench/peers/go && go build -o "$ROOT/$OUT/peers-go" .)
"$OUT/peers-go" -data tests/data -cases "$OUT/cases.tsv" > "$OUT/verdicts-go.tsv"

if [ "$RUST" = 1 ]; then
  if ! command -v cargo > /dev/null; then
    log "cargo not found: the full run needs the Rust peers"; exit 2
  fi
  FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
  [ -f "$FAKETIME_LIB" ] || { log "libfaketime not installed (scripts/setup.sh installs it)"; exit 2; }
  log "building and running the Rust peers (dcap-qvl, attestation-doc-validation)"
  (cd bench/peers/rust &&
    CARGO_TARGET_DIR="$ROOT/build-bench/peers-rust-target" cargo build --release -q) >&2
  LD_PRELOAD="$FAKETIME_LIB" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    FAKETIME="2000-01-01 00:00:00" \
    build-bench/peers-rust-target/release/teeverify-bench-peers -cases "$OUT/cases.tsv" \
    > "$OUT/verdicts-rust.tsv"
fi

log "report"
set +e
"$OUT/peers-go" -report "$OUT/cases.tsv" "$OUT"/verdicts-*.tsv | tee "$OUT/report.txt"
rc=${PIPESTATUS[0]}
log "done (exit $rc)"
exit "$rc"
