#!/usr/bin/env bash
# All tests, on a fresh Debian machine (installs what is missing through scripts/setup.sh):
#   1. C++ unit, CLI and sidecar tests (ctest) on the release build
#   2. the generated Go API code matches proto/ (no drift)
#   3. Go unit tests with the race detector, and go vet; a short differential test against the Go
#      peer verifiers (scripts/differential.sh --short)
#   4. Go integration tests on the real stack: OpenBao + plugin + sidecars + tee-login + test TEE,
#      a three-node raft cluster, faults, logs
#   5. the C++ tests again under ASan+UBSan (LeakSanitizer on, the sidecar included), on a clang
#      build that also carries the fuzzers' coverage instrumentation
#   6. a bounded fuzzing run of every parser on that build
# Ends with "N passed, N failed" (ctest cases, Go tests, fuzz targets, checks) and writes it to
# build/test-summary.txt for .ci/run.
#   TEE_SKIP_SANITIZE=1    skip 5 and 6 (faster local runs)
#   TEE_SKIP_INTEGRATION=1 skip 4
#   FUZZ_SECONDS           seconds per fuzz target (default 10; 0 skips fuzzing; scripts/fuzz.sh alone runs longer)
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
mkdir -p build
SUMMARY=build/test-summary.txt
rm -f "$SUMMARY"
passed=0
failed=0
started=$SECONDS
# The stacks of the integration and load tests live in a temporary directory of this run; at the
# end no process of theirs (or any other started from this checkout) may still run.
RUN_TMP=$(mktemp -d /tmp/tee-run.XXXXXX)

note() { printf '\n=== %s (%ds)\n' "$*" $((SECONDS - started)); }
pass() { passed=$((passed + ${1:-1})); }
fail() { failed=$((failed + ${1:-1})); echo "FAILED: ${2:-}"; }

count_ctest() {  # count_ctest LOG: adds ctest's totals
  local line total nfail
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1)
  if [ -z "$line" ]; then fail 1 "no ctest summary in $1"; return; fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - nfail)); failed=$((failed + nfail))
}

count_go() {  # count_go JSONLOG: adds the Go tests' (and subtests') results from go test -json
  local p f
  p=$(jq -r 'select(.Test != null and .Action == "pass") | .Test' "$1" 2>/dev/null | wc -l)
  f=$(jq -r 'select(.Test != null and .Action == "fail") | .Test' "$1" 2>/dev/null | wc -l)
  passed=$((passed + p)); failed=$((failed + f))
  jq -r 'select(.Test != null and .Action == "fail") | "FAILED: go " + .Package + " " + .Test' "$1" 2>/dev/null
  # A package that does not build has no test results: count it.
  if jq -e -s 'map(select(.Test == null and .Action == "fail")) | length > 0' "$1" >/dev/null 2>&1 && [ "$f" = 0 ]; then
    fail 1 "a Go package failed to build or run"
  fi
}

go_test() {  # go_test LOG ARGS...: go test -json, human-readable output on failure
  local log=$1; shift
  (cd plugin_shim && go test -json "$@") >"$log.json" 2>"$log.err"
  local rc=$?
  jq -r 'select(.Action == "output") | .Output' "$log.json" 2>/dev/null >"$log"
  count_go "$log.json"
  if [ $rc -ne 0 ]; then tail -n 60 "$log" "$log.err"; fi
  grep -hE '^\s*(HA:|sidecar killed|.*faults_test.go.*sidecar killed)' "$log" | sed 's/^\s*//' | sort -u || true
}

# reap_leftovers STEP: kills what STEP left running (scripts/reap.sh), a failure when it left any.
reap_leftovers() {
  sleep 2  # the integration tests' watchdog acts a second after the test binary exits
  if bash scripts/reap.sh "$PWD" "$RUN_TMP"; then pass; else fail 1 "$1 left processes of the stack running (above)"; fi
}

note "setup"
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed" | tee "$SUMMARY"; exit 1; }

note "build"
built=1
scripts/build.sh || { built=0; fail 1 "C++ build"; }
scripts/build_go.sh || { built=0; fail 1 "Go build"; }

if [ $built = 1 ]; then
  note "ctest"
  (cd build && ctest -j2 --output-on-failure --timeout 600) 2>&1 | tee build/ctest.log | grep -vE '^\s*[0-9]+/[0-9]+ Test' | tail -30
  count_ctest build/ctest.log
fi

note "generated Go API code matches proto/"
gen=$(mktemp -d)
if bash scripts/gen_proto.sh "$gen" && diff -r "$gen" plugin_shim/gen/teeverifyv1; then
  pass
else
  fail 1 "plugin_shim/gen/teeverifyv1 differs from what proto/ generates: run scripts/gen_proto.sh"
fi
rm -rf "$gen"

note "go vet and Go unit tests (race detector)"
if (cd plugin_shim && go vet ./... && go vet -tags integration ./integration/); then pass; else fail 1 "go vet"; fi
go_test build/go-unit.log -race -count=1 ./...

if [ $built = 1 ]; then
  # A short differential run against the Go peers (docs/conformance.md; the full run with the Rust
  # peers is scripts/differential.sh): fails on a disagreement the docs do not explain.
  note "differential test against go-tdx-guest and go-sev-guest, short (scripts/differential.sh --short)"
  if bash scripts/differential.sh --short >build/differential.log 2>&1; then
    pass
  else
    tail -40 build/differential.log; fail 1 "differential test (build/differential.log)"
  fi
fi

if [ $built = 1 ] && [ "${TEE_SKIP_INTEGRATION:-0}" != "1" ]; then
  note "Go integration tests (OpenBao, plugin, sidecars, tee-login, test TEE; HA cluster)"
  TMPDIR="$RUN_TMP" go_test build/go-integration.log -tags integration -count=1 -timeout 15m ./integration/
  reap_leftovers "the Go integration tests"
fi

if [ $built = 1 ] && [ "${TEE_SKIP_LOAD:-0}" != "1" ]; then
  # A short run of the load test, so that it keeps working: it fails on any error or wrong
  # decision; its timings are not judged here (docs/performance.md has a full run).
  note "load test, short (scripts/load.sh)"
  if TMPDIR="$RUN_TMP" LOAD_NONCE_BURST=200 LOAD_SECONDS=2 LOAD_ROUNDS=1 LOAD_BATCH=30 LOAD_SKIP_BUILD=1 bash scripts/load.sh >build/load.log 2>&1; then
    pass
  else
    tail -30 build/load.log; fail 1 "load test (build/load.log)"
  fi
  reap_leftovers "the load test"
fi

if [ "${TEE_SKIP_SANITIZE:-0}" != "1" ]; then
  note "sanitizer build (clang, ASan+UBSan, fuzzer instrumentation)"
  if BUILD_DIR=build-san CC=clang CXX=clang++ \
       CMAKE_ARGS="-DTEE_SANITIZE=ON -DTEE_FUZZ=ON -DTEE_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
       scripts/build.sh; then
    note "C++ tests under ASan+UBSan+LSan"
    # The mutation campaign runs a fifth of its mutations here (the release run does them all).
    (cd build-san && TEE_MUTATION_SCALE=0.2 ASAN_OPTIONS=detect_leaks=1 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest -j2 --output-on-failure --timeout 900) \
       2>&1 | tee build/ctest-asan.log | grep -vE '^\s*[0-9]+/[0-9]+ Test' | tail -30
    count_ctest build/ctest-asan.log
    if [ "${FUZZ_SECONDS:-10}" != "0" ]; then
      note "fuzzing (${FUZZ_SECONDS:-10}s per target)"
      FUZZ_BUILD_DIR=build-san FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz.sh 2>&1 | tee build/fuzz.log
      fuzz_rc=${PIPESTATUS[0]}
      n_ok=$(grep -c '^== .*: fuzzing for' build/fuzz.log)
      # A finding: a sanitizer report, a crash, or an input slower than FUZZ_TIMEOUT (libFuzzer:
      # "==N== ERROR: libFuzzer: timeout after 5 seconds", "SUMMARY: libFuzzer: timeout").
      n_bad=$(grep -cE '^(==[0-9]+== ?ERROR|SUMMARY: (Address|Undefined|libFuzzer)|.*deadly signal)' build/fuzz.log)
      if [ "$fuzz_rc" = 0 ] && [ "$n_bad" = 0 ]; then pass "$n_ok"; else fail 1 "fuzzing found a crash or a slow input (build/fuzz.log)"; fi
    fi
  else
    fail 1 "sanitizer build"
  fi
fi

note "no process of the stack survives"
reap_leftovers "the test run"
rm -rf "$RUN_TMP"

echo "test.sh took $((SECONDS - started)) s"
echo "$passed passed, $failed failed" | tee "$SUMMARY"
[ "$failed" -eq 0 ]
