# Shared helpers for the CLI contract tests (sourced by tests/cli/*_cli_test.sh).
# Each test script: `script list` prints case names; `script TEE_VERIFY DATA_DIR CASE` runs one.
# Set CASE, TV (the tee-verify binary) and OUT (a temp file for stdout) before using these.

fail() { echo "FAIL [$CASE]: $*"; echo "--- output:"; cat "$OUT"; exit 1; }

# run EXPECTED_EXIT args... : runs tee-verify, captures stdout in $OUT, checks the exit code.
run() {
  local want=$1; shift
  "$TV" "$@" >"$OUT" 2>"$OUT.err"; local got=$?
  [ "$got" = "$want" ] || { cat "$OUT.err" >>"$OUT"; fail "exit $got, expected $want: tee-verify $*"; }
  rm -f "$OUT.err"
}

# jqeq FILTER EXPECTED : the JSON in $OUT has FILTER == EXPECTED (compared as jq -r text).
jqeq() {
  local v
  v=$(jq -r "$1" "$OUT") || fail "not JSON"
  [ "$v" = "$2" ] || fail "$1 = '$v', expected '$2'"
}

# wait_until TRIES COMMAND... : runs COMMAND every 20 ms until it succeeds (status 0) or TRIES
# attempts have failed (status 1).
wait_until() {
  local tries=$1; shift
  for _ in $(seq "$tries"); do "$@" && return 0; sleep 0.02; done
  return 1
}

# jqtrue FILTER : the JSON in $OUT satisfies FILTER.
jqtrue() { jq -e "$1" "$OUT" >/dev/null || fail "not true: $1"; }
