#!/usr/bin/env bash
# `systemd-analyze verify` of deploy/tee-verifierd.service, with ExecStart pointing at the built
# binary (verify requires the executable to exist).
#   unit_test.sh UNIT TEE_VERIFIERD
set -euo pipefail
UNIT="$1"; BIN="$2"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
sed "s#^ExecStart=/usr/local/bin/tee-verifierd#ExecStart=$BIN#" "$UNIT" >"$WORK/tee-verifierd.service"
grep -q "^ExecStart=$BIN " "$WORK/tee-verifierd.service" || { echo "FAIL: ExecStart not found"; exit 1; }
for setting in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict RuntimeDirectory=tee-verifierd \
               StateDirectory=tee-verifierd CapabilityBoundingSet= ; do
  grep -qx "$setting" "$UNIT" || { echo "FAIL: $setting missing"; exit 1; }
done
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$WORK/tee-verifierd.service" 2>&1) || {
  echo "FAIL: systemd-analyze verify:"; echo "$out"; exit 1; }
# verify also prints warnings without failing; any line about our unit is a defect.
if echo "$out" | grep -q "tee-verifierd.service"; then echo "FAIL:"; echo "$out"; exit 1; fi
echo "PASS"
