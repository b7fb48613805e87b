#!/usr/bin/env bash
# Builds the Go binaries (the plugin, tee-login, and azure-cvm: the demo's Azure CVM stand-in, TEST
# ONLY) into build/go. Modules come from the Go module proxy; the build cache makes repeated runs
# cheap.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$(dirname "$0")/../plugin_shim"
OUT="${BUILD_DIR:-../build}/go"
mkdir -p "$OUT"
go build -trimpath -o "$OUT/vault-plugin-auth-tee" ./cmd/vault-plugin-auth-tee
go build -trimpath -o "$OUT/tee-login" ./cmd/tee-login
go build -trimpath -o "$OUT/azure-cvm" ./internal/cmd/azure-cvm
