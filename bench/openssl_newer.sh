#!/usr/bin/env bash
# What a newer OpenSSL would change (docs/performance.md, "A newer OpenSSL"): builds the OpenSSL
# that crates.io's openssl-src crate vendors (400.x carries OpenSSL 4.0.x) into a private prefix,
# outside the project's build, and prints `openssl speed` for ECDSA P-256 and P-384 beside the
# system OpenSSL's, measured one after the other. Never run by CI or scripts/test.sh; run it by
# hand when the machine is quiet (the build takes about 10 minutes on 2 cores).
# Environment: OPENSSL_SRC_VERSION (400.0.3+4.0.4), PREFIX (build-openssl-newer), SPEED_SECONDS (3),
# CONFIGURE_EXTRA (more Configure options, e.g. enable-ec_nistp_64_gcc_128 for the 64-bit P-384
# code, which OpenSSL does not build by default; use another PREFIX for it).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${OPENSSL_SRC_VERSION:-400.0.3+4.0.4}"
PREFIX="$PWD/${PREFIX:-build-openssl-newer}"
SPEED_SECONDS="${SPEED_SECONDS:-3}"
log() { echo "openssl_newer: $*" >&2; }

# 1. The crate's source, through cargo (crates.io), into cargo's registry cache.
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"openssl-src-$VERSION" 2>/dev/null | head -1 || true)
if [ -z "$src" ]; then
  log "fetching openssl-src $VERSION from crates.io"
  cargo info "openssl-src@$VERSION" > /dev/null
  src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"openssl-src-$VERSION" | head -1)
fi

# 2. Built out of the crate's tree (static, no tests or docs), once.
if [ ! -x "$PREFIX/bin/openssl" ]; then
  if [ ! -f "$PREFIX/src/Makefile" ]; then
    rm -rf "$PREFIX/src" && mkdir -p "$PREFIX/src" && cp -r "$src/openssl/." "$PREFIX/src/"
    # The options the crate itself builds with: it ships the source without the legacy
    # provider's and the tests' files.
    (cd "$PREFIX/src" && ./Configure linux-x86_64 no-shared no-module no-tests no-legacy no-docs \
        no-comp no-zlib no-camellia no-idea no-seed no-md2 no-rc5 no-weak-ssl-ciphers \
        ${CONFIGURE_EXTRA:-} --prefix="$PREFIX" --libdir=lib > "$PREFIX/configure.log" 2>&1)
  fi
  log "building $(sed -n 's/^# *define OPENSSL_FULL_VERSION_STR *"\(.*\)"/\1/p' "$PREFIX/src/include/openssl/opensslv.h" 2>/dev/null) in $PREFIX"
  (cd "$PREFIX/src" && make -j "${JOBS:-2}" build_libs apps/openssl > "$PREFIX/make.log" 2>&1)
  mkdir -p "$PREFIX/bin" && cp "$PREFIX/src/apps/openssl" "$PREFIX/bin/openssl"
fi

# 3. Both, one after the other (CPU time per verification, as scripts/bench.sh reports it).
for bin in "$(command -v openssl)" "$PREFIX/bin/openssl"; do
  echo "== $("$bin" version)"
  "$bin" speed -seconds "$SPEED_SECONDS" ecdsap256 ecdsap384 2>/dev/null | grep -E "^ *[0-9]+ bits (ecdsa|EC) "
done
