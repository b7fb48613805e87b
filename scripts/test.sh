#!/usr/bin/env bash
# All tests: C++ unit and CLI tests (ctest), the same C++ tests under ASan+UBSan, and a bounded
# fuzzing run of every parser. Ends with "N passed, N failed" and writes it to
# build/test-summary.txt for .ci/run.
#   TEE_SKIP_SANITIZE=1   skip the sanitizer build (faster local runs)
#   FUZZ_SECONDS          seconds per fuzz target (default 15; 0 skips fuzzing)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p build
SUMMARY=build/test-summary.txt
rm -f "$SUMMARY"
passed=0
failed=0

note() { printf '\n=== %s\n' "$*"; }
count_ctest() {  # count_ctest LOG: adds ctest's totals
  local line total nfail
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  nfail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - nfail)); failed=$((failed + nfail))
}

note "setup"
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed" | tee "$SUMMARY"; exit 1; }

note "build"
if scripts/build.sh; then
  note "ctest"
  (cd build && ctest -j2 --output-on-failure --timeout 600) 2>&1 | tee build/ctest.log
  count_ctest build/ctest.log
else
  echo "build failed"; failed=$((failed + 1))
fi

if [ "${TEE_SKIP_SANITIZE:-0}" != "1" ]; then
  note "C++ tests under ASan+UBSan"
  if BUILD_DIR=build-asan CMAKE_ARGS="-DTEE_SANITIZE=ON -DTEE_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug" \
       scripts/build.sh --target verifier_tests tee-verify; then
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       ctest -j2 --output-on-failure --timeout 900) 2>&1 | tee build/ctest-asan.log
    count_ctest build/ctest-asan.log
  else
    echo "sanitizer build failed"; failed=$((failed + 1))
  fi
fi

if [ "${FUZZ_SECONDS:-15}" != "0" ]; then
  note "fuzzing (${FUZZ_SECONDS:-15}s per target)"
  if FUZZ_SECONDS="${FUZZ_SECONDS:-15}" scripts/fuzz.sh 2>&1 | tee build/fuzz.log; then
    n=$(grep -c '^== .*: fuzzing for' build/fuzz.log); passed=$((passed + n))
  else
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed" | tee "$SUMMARY"
[ "$failed" -eq 0 ]
