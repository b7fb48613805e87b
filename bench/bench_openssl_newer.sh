#!/usr/bin/env bash
# Our own verification against a newer OpenSSL, measured (docs/performance.md, "A newer OpenSSL"):
#   1. the OpenSSL 4.0.4 of crates.io's openssl-src with its 64-bit P-384 code, static, built by
#      bench/openssl_newer.sh with enable-ec_nistp_64_gcc_128 into build-openssl-newer-nistp64/
#      (built here if missing, about 10 minutes);
#   2. verify_bench built a second time, in build-bench-ossl4/, against that static libcrypto
#      (build/ and build-bench/ keep Debian's OpenSSL 3.0, which the product ships with); a binary
#      that would also load a shared libcrypto or libssl is refused;
#   3. scripts/bench.sh on build-bench/ (OpenSSL 3.0) and on build-bench-ossl4/ (4.0.4, with its
#      own `openssl speed` as the floor), ROUNDS times, the order alternating (3.0 first, then 4.0
#      first, ...), each run with the peers (built once, in build-bench/), callgrind in the first
#      round only (instruction counts do not depend on load), the load average before each run;
#   4. one table: CPU time per path with each OpenSSL in every run, instructions, the floors, and
#      each peer against our cold path in the same run.
# Never run by CI or scripts/test.sh. About 15 minutes for 3 rounds on 2 cores once built.
# Environment: ROUNDS (3), OPENSSL_PREFIX (build-openssl-newer-nistp64), CMAKE_ARGS (for the
# configure of build-bench-ossl4), and scripts/bench.sh's MIN_TIME, REPETITIONS, PEER_SECONDS,
# SPEED_SECONDS, SKIP_CALLGRIND, JOBS. Each run's output and numbers: build-bench-ossl4/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
PREFIX_NAME="${OPENSSL_PREFIX:-build-openssl-newer-nistp64}"
PREFIX="$PWD/$PREFIX_NAME"
SYSTEM_DIR=build-bench
NEWER_DIR=build-bench-ossl4
OUT="$NEWER_DIR/compare"
log() { echo "bench_openssl_newer: $*" >&2; }

# 1. The newer OpenSSL.
if [ ! -f "$PREFIX/src/libcrypto.a" ] || [ ! -x "$PREFIX/bin/openssl" ]; then
  CONFIGURE_EXTRA=enable-ec_nistp_64_gcc_128 PREFIX="$PREFIX_NAME" bench/openssl_newer.sh
fi

# 2. The benchmark against it. FindOpenSSL is given the static library and headers outright, so
#    that nothing falls back to the system's.
if [ ! -f "$NEWER_DIR/build.ninja" ]; then
  # shellcheck disable=SC2086  # CMAKE_ARGS holds several arguments
  cmake -S . -B "$NEWER_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEE_BENCH=ON \
    ${CMAKE_ARGS:-} -DOPENSSL_USE_STATIC_LIBS=TRUE -DOPENSSL_ROOT_DIR="$PREFIX/src" \
    -DOPENSSL_INCLUDE_DIR="$PREFIX/src/include" -DOPENSSL_CRYPTO_LIBRARY="$PREFIX/src/libcrypto.a" \
    -DOPENSSL_SSL_LIBRARY="$PREFIX/src/libssl.a" >&2
fi
if ! grep -qx "OPENSSL_CRYPTO_LIBRARY:FILEPATH=$PREFIX/src/libcrypto.a" "$NEWER_DIR/CMakeCache.txt"; then
  log "$NEWER_DIR is not configured with $PREFIX/src/libcrypto.a; remove it and run again"
  exit 1
fi
log "building verify_bench in $NEWER_DIR"
cmake --build "$NEWER_DIR" -j "${JOBS:-2}" --target verify_bench >&2
if ldd "$NEWER_DIR/tests/verify_bench" | grep -E 'lib(crypto|ssl)\.so' >&2; then
  log "$NEWER_DIR/tests/verify_bench would load a shared OpenSSL besides the static one"
  exit 1
fi
echo "$NEWER_DIR/tests/verify_bench: no shared libcrypto or libssl (ldd)"

# 3. Both, alternating.
mkdir -p "$OUT"
rm -f "$OUT"/run*
for round in $(seq 1 "$ROUNDS"); do
  order="3.0 4.0"
  [ $((round % 2)) = 1 ] || order="4.0 3.0"
  for side in $order; do
    dir=$SYSTEM_DIR bin=openssl
    [ "$side" = 3.0 ] || dir=$NEWER_DIR bin="$PREFIX/bin/openssl"
    skip_cg=1
    [ "$round" != 1 ] || skip_cg="${SKIP_CALLGRIND:-0}"
    name="run$round-openssl$side"
    cut -d' ' -f1-3 /proc/loadavg > "$OUT/$name.load"
    log "$name: load average $(cat "$OUT/$name.load")"
    BUILD_DIR=$dir OPENSSL_BIN=$bin PEER_BUILD_DIR=$SYSTEM_DIR SKIP_PARSER_BENCH=1 \
      SKIP_CALLGRIND=$skip_cg scripts/bench.sh > "$OUT/$name.txt"
    cp "$dir/bench-results/summary.json" "$OUT/$name.json"
  done
done

# 4. The comparison.
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys

out, rounds = sys.argv[1], int(sys.argv[2])
runs = {side: [] for side in ("3.0", "4.0")}  # in time order within each side
for r in range(1, rounds + 1):
    for side in runs:
        s = json.load(open(f"{out}/run{r}-openssl{side}.json"))
        s["load"] = open(f"{out}/run{r}-openssl{side}.load").read().split()[0]
        s["round"] = r
        runs[side].append(s)

for side, rs in runs.items():
    print(f"OpenSSL {side} runs: verify_bench reported \"{rs[0]['openssl']}\"; load average "
          f"before each run: {', '.join(s['load'] for s in rs)}")

def cells(side, get):
    return ", ".join(get(s) for s in runs[side])

def median(side, get):
    values = [get(s) for s in runs[side] if get(s) is not None]
    return statistics.median(values) if values else None

print("\n| path | OpenSSL 3.0 CPU time | OpenSSL 4.0.4 CPU time | 3.0 / 4.0 (medians) "
      "| M instr 3.0 | M instr 4.0 |")
print("|---|---:|---:|---:|---:|---:|")
for key, label in (("p256", "floor: ECDSA P-256 (openssl speed)"),
                   ("p384", "floor: ECDSA P-384 (openssl speed)")):
    get = lambda s: s["floor_us"][key]
    print(f"| {label} | {cells('3.0', lambda s: f'{get(s):.0f}')} us | "
          f"{cells('4.0', lambda s: f'{get(s):.0f}')} us | "
          f"{median('3.0', get) / median('4.0', get):.2f}x | | |")
paths = [("BM_TdxCold", "TDX cold"), ("BM_TdxNewPlatform", "TDX new platform"),
         ("BM_TdxWarm", "TDX warm"), ("BM_SnpMilanCold", "SNP Milan cold"),
         ("BM_SnpMilanWarm", "SNP Milan warm"), ("BM_SnpGenoaCold", "SNP Genoa cold"),
         ("BM_SnpGenoaNewPlatform", "SNP Genoa new platform"), ("BM_SnpGenoaWarm", "SNP Genoa warm"),
         ("BM_NitroCold", "Nitro cold"), ("BM_NitroWarm", "Nitro warm"),
         ("BM_NitroWarmNewLeaf", "Nitro warm, new leaf")]
for bench, label in paths:
    get = lambda s: s["cpu_us"].get(bench)
    instr = {side: next((f"{s['minstr'][bench]:.2f}" for s in rs if bench in s["minstr"]), "-")
             for side, rs in runs.items()}
    m30, m40 = median("3.0", get), median("4.0", get)
    ratio = f"{m30 / m40:.2f}x" if m30 and m40 else "-"
    print(f"| {label} | {cells('3.0', lambda s: f'{get(s):.0f}')} us | "
          f"{cells('4.0', lambda s: f'{get(s):.0f}')} us | {ratio} | {instr['3.0']} | {instr['4.0']} |")

# Each run measured the peers right after our benchmarks: peer / ours cold within that run.
ours_cold = {"tdx_dcap_qvl": "BM_TdxCold", "snp_milan_oak": "BM_SnpMilanCold",
             "snp_genoa_oak": "BM_SnpGenoaCold", "nitro_ga_debug": "BM_NitroCold"}
print("\n| peer, case | peer CPU time (runs with 3.0; with 4.0) | peer / ours cold, 3.0 "
      "| peer / ours cold, 4.0 |")
print("|---|---:|---:|---:|")
for p in runs["3.0"][0]["peers"]:
    case, peer = p["case"], p["peer"]
    ours = next((b for k, b in ours_cold.items() if case.startswith(k)), None)
    if ours is None or "cpu_ns_per_op" not in p:
        continue
    def peer_us(s):  # None when the peer refused or did not run in that run
        q = next((q for q in s["peers"] if q["case"] == case and q["peer"] == peer), {})
        return int(q["cpu_ns_per_op"]) / 1000.0 if "cpu_ns_per_op" in q else None
    def ratio(s):
        t, o = peer_us(s), s["cpu_us"].get(ours)
        return f"{t / o:.2f}x" if t and o else "-"
    time = lambda s: f"{peer_us(s):.0f}" if peer_us(s) else "-"
    print(f"| {peer} {case} | {cells('3.0', time)}; {cells('4.0', time)} us | "
          f"{cells('3.0', ratio)} | {cells('4.0', ratio)} |")
PY
