#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzzer.cc; clang, ASan+UBSan), replays the
# checked-in regression inputs (tests/fuzz/regressions/<target>/), then fuzzes each target for a
# bounded time on a corpus seeded by tests/fuzz/<target>.seed.sh from the real vectors.
#   scripts/fuzz.sh [TARGET...]   (default: every target)
#   FUZZ_SECONDS  seconds per target (default 30)
#   FUZZ_TIMEOUT  seconds one input may take (default 5): every parser bounds its input and is
#                 linear in it, so no input should come near it even under ASan on a busy
#                 machine; a slower one is a finding like a crash (libFuzzer saves it as
#                 <target>-timeout-*, and the run fails).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-30}"
TIMEOUT="${FUZZ_TIMEOUT:-5}"
BUILD_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(ls tests/fuzz/*_fuzzer.cc | xargs -n1 basename | sed 's/\.cc$//')
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DTEE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${TARGETS[@]}"

status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD_DIR/corpus/$t"
  mkdir -p "$corpus"
  [ -f "tests/fuzz/$t.seed.sh" ] && bash "tests/fuzz/$t.seed.sh" "$corpus"
  reg="tests/fuzz/regressions/$t"
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    echo "== $t: replaying $(ls "$reg" | wc -l) regression inputs"
    "$BUILD_DIR/tests/fuzz/$t" -timeout="$TIMEOUT" "$reg"/* >"$BUILD_DIR/$t.replay.log" 2>&1 || { status=1; tail -30 "$BUILD_DIR/$t.replay.log"; }
  fi
  echo "== $t: fuzzing for ${SECONDS_PER_TARGET}s"
  if ! "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" \
       -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$BUILD_DIR/$t-" \
       "$corpus" 2>"$BUILD_DIR/$t.log"; then
    status=1; tail -40 "$BUILD_DIR/$t.log"
  fi
  grep -E 'DONE|stat::number_of_executed_units' "$BUILD_DIR/$t.log" | tail -2
done
exit $status
