#!/usr/bin/env bash
# Configures (once) and builds the C++ tree into a cached build directory.
#   BUILD_DIR   build directory (default: build)
#   CMAKE_ARGS  extra cmake arguments (e.g. -DTEE_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-2}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja ${CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j "$JOBS" "$@"
