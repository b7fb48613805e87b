# Build time. CI builds this tree twice (release, then clang with sanitizers) on two cores within a
# bounded time, and most of a compile went to parsing the same std/Abseil/JSON/gtest headers in every
# file. Two measures, both off with -DTEE_PCH=OFF -DTEE_TEST_OPT=ON (e.g. to check that every file
# includes what it uses, or to profile a test):
#  - one precompiled header per family (the libraries and tools; the test binaries), shared through
#    REUSE_FROM, so each family builds it once;
#  - test code compiled without optimization (-O0): it only drives the optimized libraries, and its
#    gtest macros were the costliest code to optimize. Benchmarks keep the build's optimization.
option(TEE_PCH "Precompile the common std, Abseil, JSON and gtest headers" ON)
option(TEE_TEST_OPT "Optimize test code like the libraries" OFF)

set(TEE_TEST_TARGETS verifier_tests collateral_tests sidecar_tests)
set(TEE_LIBRARY_TARGETS tee_testing tee_io tee_policy tee_collateral tee_server tee-testgen tee-verify
    tee-collateral tee-verifierd tee-mutants)

if(NOT TEE_TEST_OPT)
  foreach(target ${TEE_TEST_TARGETS})
    target_compile_options(${target} PRIVATE -O0)
  endforeach()
endif()

if(TEE_PCH)
  set(TEE_PCH_HEADERS
    <algorithm> <atomic> <cstdint> <cstring> <functional> <map> <memory> <optional> <set> <string>
    <utility> <vector>
    <absl/container/flat_hash_map.h> <absl/status/status.h> <absl/status/statusor.h>
    <absl/strings/str_cat.h> <absl/strings/string_view.h> <absl/synchronization/mutex.h>
    <absl/time/time.h> <nlohmann/json.hpp>)
  target_precompile_headers(tee_core PRIVATE ${TEE_PCH_HEADERS})
  foreach(target ${TEE_LIBRARY_TARGETS})
    target_precompile_headers(${target} REUSE_FROM tee_core)
  endforeach()
  target_precompile_headers(verifier_tests PRIVATE ${TEE_PCH_HEADERS} <gtest/gtest.h>)
  foreach(target collateral_tests sidecar_tests)
    target_precompile_headers(${target} REUSE_FROM verifier_tests)
  endforeach()
endif()
