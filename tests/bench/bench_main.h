// The main() of every benchmark binary in tests/bench (bench_main.cc): it reads Google
// Benchmark's flags, calls the binary's Prepare(), then runs the benchmarks.
#ifndef TEE_TESTS_BENCH_BENCH_MAIN_H_
#define TEE_TESTS_BENCH_BENCH_MAIN_H_

namespace teeverify::bench {

// Defined by each benchmark binary: builds every input and fixture, runs each measured path once
// and registers what is not registered statically, so that nothing done once per process is
// measured. Exits the process when an input cannot be built.
void Prepare();

}  // namespace teeverify::bench

#endif  // TEE_TESTS_BENCH_BENCH_MAIN_H_
