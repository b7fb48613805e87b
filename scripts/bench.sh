#!/usr/bin/env bash
# Measures verification speed against the signature floor and the peer verifiers, in one run on
# one machine (docs/performance.md explains the method and records the numbers):
#   1. builds tests/bench/verify_bench (RelWithDebInfo: -O2, symbols for callgrind) in BUILD_DIR;
#   2. `openssl speed` for ECDSA P-256, P-384 and RSA-4096: the signature floor;
#   3. verify_bench: CPU time per verification, cold and warm, per TEE (median of repetitions);
#   4. callgrind: instructions per verification (repeatable on a shared machine);
#   5. the peers on the same vectors: go-tdx-guest and go-sev-guest (bench/peers/go, modules
#      from the Go module proxy) and dcap-qvl (bench/peers/rust, crates.io);
#   6. prints the tables;
#   7. parser_bench: every parser on a normal input and on its worst inputs, and worst / normal
#      per parser (docs/performance.md, "Worst-case inputs").
# Environment: BUILD_DIR (default build-bench), SPEED_SECONDS (3), MIN_TIME (0.5 s per
# benchmark), REPETITIONS (3), CG_ITERATIONS (10), PEER_SECONDS (2), SKIP_CALLGRIND=1,
# SKIP_PEERS=1. Whole run: about 2.5 minutes on 2 cores once the peers are built, 5-8 the
# first time (Go modules and crates are downloaded and compiled).
# For bench/bench_openssl_newer.sh (another OpenSSL, a second build dir): OPENSSL_BIN (the
# `openssl` whose speed is the floor; default the system's), PEER_BUILD_DIR (where the peers are
# built; default BUILD_DIR), SKIP_PARSER_BENCH=1 (skips step 7).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD_DIR="${BUILD_DIR:-build-bench}"
SPEED_SECONDS="${SPEED_SECONDS:-3}"
MIN_TIME="${MIN_TIME:-0.5}"
REPETITIONS="${REPETITIONS:-3}"
CG_ITERATIONS="${CG_ITERATIONS:-10}"
PEER_SECONDS="${PEER_SECONDS:-2}"
OPENSSL_BIN="${OPENSSL_BIN:-openssl}"
PEER_BUILD_DIR="${PEER_BUILD_DIR:-$BUILD_DIR}"
OUT="$BUILD_DIR/bench-results"
mkdir -p "$OUT"
log() { echo "bench: $*" >&2; }

# 1. Build only the benchmark (the rest of the tree is not needed for it).
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEE_BENCH=ON >&2
fi
log "building verify_bench in $BUILD_DIR"
targets=(verify_bench parser_bench)
[ "${SKIP_PARSER_BENCH:-0}" != 1 ] || targets=(verify_bench)
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target "${targets[@]}" >&2
BENCH="$BUILD_DIR/tests/verify_bench"

# 2. The floor, as this machine's OpenSSL does it (CPU time, like verify_bench's CPU column).
log "$("$OPENSSL_BIN" version): speed -seconds $SPEED_SECONDS ecdsap256 ecdsap384 rsa4096"
"$OPENSSL_BIN" speed -seconds "$SPEED_SECONDS" ecdsap256 ecdsap384 rsa4096 > "$OUT/openssl_speed.txt" 2>/dev/null

# 3. Time.
log "verify_bench: $REPETITIONS x ${MIN_TIME}s per benchmark"
"$BENCH" --benchmark_min_time="$MIN_TIME" --benchmark_repetitions="$REPETITIONS" \
  --benchmark_report_aggregates_only=true --benchmark_format=json \
  --benchmark_out="$OUT/verify_bench.json" --benchmark_out_format=json > /dev/null

# 4. Instructions: callgrind counts one benchmark function (collection toggled on it alone) over
#    exactly CG_ITERATIONS iterations; everything the benchmark needs was prepared before it.
CG_BENCHMARKS=(BM_TdxCold BM_TdxNewPlatform BM_TdxWarm BM_TdxWarmEvaluate BM_SnpMilanCold BM_SnpGenoaCold BM_SnpGenoaNewPlatform
  BM_SnpMilanWarm BM_SnpGenoaWarm BM_SnpGenoaWarmEvaluate BM_NitroCold BM_NitroWarm
  BM_NitroWarmNewLeaf BM_NitroWarmEvaluate BM_EcdsaP256QuoteSignature
  BM_EcdsaP384ReportSignature BM_RsaPss4096VcekSignature)
: > "$OUT/callgrind.txt"
if [ "${SKIP_CALLGRIND:-0}" != 1 ] && command -v valgrind > /dev/null; then
  log "callgrind: ${#CG_BENCHMARKS[@]} benchmarks x $CG_ITERATIONS iterations"
  for b in "${CG_BENCHMARKS[@]}"; do
    TEE_BENCH_ITERATIONS="$CG_ITERATIONS" valgrind --tool=callgrind \
      --callgrind-out-file="$OUT/callgrind.out.$b" --collect-atstart=no \
      --toggle-collect="teeverify::(anonymous namespace)::$b(benchmark::State&)" \
      "$BENCH" --benchmark_filter="^$b(/|\$)" > /dev/null 2>&1
    ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$OUT/callgrind.out.$b")
    echo "$b $ir $CG_ITERATIONS" >> "$OUT/callgrind.txt"
  done
fi

# 5. Peers, built here (dependencies from the Go module proxy and crates.io) and run in turn.
: > "$OUT/peers.txt"
if [ "${SKIP_PEERS:-0}" != 1 ]; then
  if command -v go > /dev/null; then
    log "building and running the Go peers (go-tdx-guest, go-sev-guest)"
    (cd bench/peers/go && go build -o "$ROOT/$PEER_BUILD_DIR/peers-go" .) >&2
    "$PEER_BUILD_DIR/peers-go" -data tests/data -seconds "$PEER_SECONDS" 2>/dev/null \
      | grep '^peer=' >> "$OUT/peers.txt" || true
  else
    log "go not found: Go peers skipped"
  fi
  if command -v cargo > /dev/null; then
    log "building and running the Rust peers (dcap-qvl; attestation-doc-validation under libfaketime)"
    (cd bench/peers/rust &&
      CARGO_TARGET_DIR="$ROOT/$PEER_BUILD_DIR/peers-rust-target" cargo build --release -q) >&2
    # Evervault's Nitro verifier reads the clock; libfaketime (scripts/setup.sh) pins it to the
    # document's time without faking the monotonic clock the timing uses.
    faketime_lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
    [ -f "$faketime_lib" ] || faketime_lib=""
    LD_PRELOAD="$faketime_lib" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    "$PEER_BUILD_DIR/peers-rust-target/release/teeverify-bench-peers" -data tests/data \
      -seconds "$PEER_SECONDS" | grep '^peer=' >> "$OUT/peers.txt" || true
  else
    log "cargo not found: Rust peer skipped"
  fi
fi

# 6. Tables.
python3 - "$OUT" <<'PY'
import json, re, sys

out = sys.argv[1]
speed = open(f"{out}/openssl_speed.txt").read()

def verify_us(pattern):
    # The verify/s column of the first line matching pattern, found through the header above it
    # (OpenSSL 4.0 names the curves differently and adds encrypt/decrypt columns to RSA's line).
    header = []
    for line in speed.splitlines():
        if "verify/s" in line:
            header = line.split()
        elif re.search(pattern, line):
            nums = re.findall(r"\s([0-9.]+)s?(?=\s|$)", line)
            return 1e6 / float(nums[header.index("verify/s") - len(header)])
    raise SystemExit(f"no verify/s for {pattern} in openssl_speed.txt")

p256 = verify_us(r"\((nistp256|prime256v1)\)")
p384 = verify_us(r"\((nistp384|secp384r1)\)")
rsa = verify_us(r"^rsa\s+4096 bits")

report = json.load(open(f"{out}/verify_bench.json"))
cpu = {}  # the median of the repetitions (or the single run), ns -> us
for b in report["benchmarks"]:
    if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration":
        if b.get("error_occurred"):
            continue
        cpu[b["run_name"]] = b["cpu_time"] / 1000.0

instr = {}
for line in open(f"{out}/callgrind.txt"):
    name, ir, n = line.split()
    if ir:
        instr[name] = int(ir) / int(n) / 1e6  # million instructions per verification

peers = []
for line in open(f"{out}/peers.txt"):
    peers.append(dict(kv.split("=", 1) for kv in re.findall(r'(\w+=(?:"[^"]*"|\S+))', line)))

fl_i = {"p256": instr.get("BM_EcdsaP256QuoteSignature"), "p384": instr.get("BM_EcdsaP384ReportSignature"),
        "rsa": instr.get("BM_RsaPss4096VcekSignature")}
fl_t = {"p256": p256, "p384": p384, "rsa": rsa}

def floor(counts, table):
    if any(table[k] is None for k in counts):
        return None
    return sum(n * table[k] for k, n in counts.items())

# The numbers again, for bench/bench_openssl_newer.sh, which compares runs.
json.dump({"openssl": report["context"].get("openssl"), "floor_us": fl_t, "cpu_us": cpu,
           "minstr": instr, "peers": peers}, open(f"{out}/summary.json", "w"), indent=1)
print(f"\nverify_bench ran with {report['context'].get('openssl', 'an unknown OpenSSL')}")
print("\nSignature floor (openssl speed, CPU time per verification):")
print(f"  ECDSA P-256 {p256:8.1f} us   ECDSA P-384 {p384:8.1f} us   RSA-4096 {rsa:8.1f} us")
if fl_i["p256"]:
    print("Same through our code path (callgrind, instructions per verification):")
    print(f"  ECDSA P-256 {fl_i['p256']:7.3f} M    ECDSA P-384 {fl_i['p384']:7.3f} M    "
          f"RSA-4096 PSS {fl_i['rsa']:7.3f} M")

rows = [
    ("TDX", "cold", "BM_TdxCold", {"p256": 7}, "7 x P-256"),
    ("TDX", "new platform", "BM_TdxNewPlatform", {"p256": 3}, "3 x P-256"),
    ("TDX", "warm", "BM_TdxWarm", {"p256": 2}, "2 x P-256"),
    ("TDX", "warm+policy", "BM_TdxWarmEvaluate", {"p256": 2}, "2 x P-256"),
    ("SNP Milan", "cold", "BM_SnpMilanCold", {"p384": 1, "rsa": 2}, "P-384 + 2 x RSA-4096"),
    ("SNP Milan", "warm", "BM_SnpMilanWarm", {"p384": 1}, "1 x P-384"),
    ("SNP Genoa", "cold", "BM_SnpGenoaCold", {"p384": 1, "rsa": 2}, "P-384 + 2 x RSA-4096"),
    ("SNP Genoa", "new platform", "BM_SnpGenoaNewPlatform", {"p384": 1, "rsa": 2}, "P-384 + 2 x RSA-4096"),
    ("SNP Genoa", "warm", "BM_SnpGenoaWarm", {"p384": 1}, "1 x P-384"),
    ("SNP Genoa", "warm+policy", "BM_SnpGenoaWarmEvaluate", {"p384": 1}, "1 x P-384"),
    ("Nitro", "cold", "BM_NitroCold", {"p384": 5}, "5 x P-384"),
    ("Nitro", "warm", "BM_NitroWarm", {"p384": 1}, "1 x P-384"),
    ("Nitro", "warm new leaf", "BM_NitroWarmNewLeaf", {"p384": 2}, "2 x P-384"),
    ("Nitro", "warm+policy", "BM_NitroWarmEvaluate", {"p384": 1}, "1 x P-384"),
]
print("\nTDX cold: the quote, its PCK chain and the raw PCS collateral (TCB info, QE identity, PCK CRL,\n"
      "root CA CRL, their issuer chains) parsed and verified on every call, nothing kept between\n"
      "calls: 7 P-256 signatures per call. The root's signatures over the compiled-in Intel PCK CA\n"
      "and TCB Signing certificates are verified once per process (their windows, names and the\n"
      "root CA CRL on every call). New platform: collateral verified beforehand; PCK leaf, QE\n"
      "report, quote.")
print("\n| TEE | path | floor | CPU time | floor time | ratio | Minstr | floor Minstr | ratio |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for tee, path, bench, counts, text in rows:
    t = cpu.get(bench)
    ft = floor(counts, fl_t)
    i = instr.get(bench)
    fi = floor(counts, fl_i)
    ts = f"{t:.0f} us" if t else "-"
    fts = f"{ft:.0f} us" if ft else "-"
    rt = f"{t / ft:.2f}x" if t and ft else "-"
    i_s = f"{i:.2f}" if i else "-"
    fis = f"{fi:.2f}" if fi else "-"
    ri = f"{i / fi:.2f}x" if i and fi else "-"
    print(f"| {tee} | {path} | {text} | {ts} | {fts} | {rt} | {i_s} | {fis} | {ri} |")

if peers:
    ours = {"tdx_dcap_qvl": ("BM_TdxCold", "BM_TdxWarm"),
            "snp_milan_oak": ("BM_SnpMilanCold", "BM_SnpMilanWarm"),
            "snp_genoa_oak": ("BM_SnpGenoaCold", "BM_SnpGenoaWarm"),
            "nitro_ga_debug": ("BM_NitroCold", "BM_NitroWarm")}
    print("\n| vector | peer, case | peer CPU time | ours cold | ours warm | peer / ours cold | peer / ours warm |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for p in peers:
        case = p["case"]
        key = next((k for k in ours if case.startswith(k)), None)
        if "error" in p:
            print(f"| {key or case} | {p['peer']} {case} | refused: {p['error']} | | | | |")
            continue
        pt = int(p["cpu_ns_per_op"]) / 1000.0
        if key is None:
            print(f"| (floor) | {p['peer']} {case} | {pt:.1f} us | | | | |")
            continue
        cold, warm = cpu.get(ours[key][0]), cpu.get(ours[key][1])
        if cold is None or warm is None:
            print(f"| {key} | {p['peer']} {case} | {pt:.0f} us | - | - | - | - |")
            continue
        print(f"| {key} | {p['peer']} {case} | {pt:.0f} us | {cold:.0f} us | {warm:.0f} us | "
              f"{pt / cold:.2f}x | {pt / warm:.2f}x |")
print()
PY

# 7. Worst-case inputs: each parser's slowest input over its normal one (CPU time, median).
[ "${SKIP_PARSER_BENCH:-0}" != 1 ] || exit 0
log "parser_bench: $REPETITIONS x ${MIN_TIME}s per case"
"$BUILD_DIR/tests/parser_bench" --benchmark_min_time="$MIN_TIME" \
  --benchmark_repetitions="$REPETITIONS" --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$OUT/parser_bench.json" \
  --benchmark_out_format=json > /dev/null
python3 - "$OUT/parser_bench.json" <<'PY'
import json, sys

cases = {}  # parser -> {case: (cpu us, bytes)}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration":
        parser, case = b["run_name"][len("BM_"):].split("/", 1)
        cases.setdefault(parser, {})[case] = (b["cpu_time"] / 1000.0, int(b.get("bytes", 0)))
print("| parser | case | bytes | CPU time | / normal |")
print("|---|---|---:|---:|---:|")
for parser, by_case in cases.items():
    normal = by_case["normal"][0]
    for case, (t, n) in by_case.items():
        print(f"| {parser} | {case} | {n} | {t:.2f} us | {t / normal:.2f}x |")
print("\n| parser | worst case | worst / normal |")
print("|---|---|---:|")
for parser, by_case in cases.items():
    normal = by_case["normal"][0]
    worst = max((c for c in by_case if c not in ("normal", "real")), key=lambda c: by_case[c][0])
    print(f"| {parser} | {worst} | {by_case[worst][0] / normal:.2f}x |")
PY
