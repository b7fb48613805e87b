#include "tests/bench/bench_main.h"

#include <openssl/crypto.h>

#include "benchmark/benchmark.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The OpenSSL this process runs with, in the report's context: bench/bench_openssl_newer.sh
  // builds the same benchmarks against another OpenSSL and must show which one was measured.
  benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
  teeverify::bench::Prepare();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
