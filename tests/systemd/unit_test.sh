#!/usr/bin/env bash
# `systemd-analyze verify` of deploy/tee-verifierd.service, with ExecStart pointing at the built
# binary (verify requires the executable to exist).
#   unit_test.sh UNIT TEE_VERIFIERD
# Exits 77 (ctest: skipped) only when systemd-analyze cannot verify units on this machine at all,
# as shown by a control copy with an unknown setting that it fails to flag; any complaint about
# the real unit fails the test.
set -euo pipefail
UNIT="$1"; BIN="$2"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/unit" "$WORK/control"
sed "s#^ExecStart=/usr/local/bin/tee-verifierd#ExecStart=$BIN#" "$UNIT" >"$WORK/unit/tee-verifierd.service"
grep -q "^ExecStart=$BIN " "$WORK/unit/tee-verifierd.service" || { echo "FAIL: ExecStart not found"; exit 1; }
for setting in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict RuntimeDirectory=tee-verifierd \
               StateDirectory=tee-verifierd CapabilityBoundingSet= ; do
  grep -qx "$setting" "$UNIT" || { echo "FAIL: $setting missing"; exit 1; }
done

# verify prints warnings without failing; any line about the unit is a defect (other units of
# the machine may draw warnings of their own, which are not ours).
command -v systemd-analyze >/dev/null ||
  { echo "SKIP: systemd-analyze is not installed (scripts/setup.sh installs systemd)"; exit 77; }
verify() { SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$1" 2>&1; }

sed 's/^\[Service\]$/[Service]\nFrobnicateTheSidecar=yes/' "$WORK/unit/tee-verifierd.service" \
  >"$WORK/control/tee-verifierd.service"
control=$(verify "$WORK/control/tee-verifierd.service" || true)
if ! echo "$control" | grep "tee-verifierd.service" | grep -q FrobnicateTheSidecar; then
  echo "SKIP: systemd-analyze verify does not work here (it did not flag an unknown setting):"
  echo "$control"
  exit 77
fi

out=$(verify "$WORK/unit/tee-verifierd.service") || { echo "FAIL: systemd-analyze verify:"; echo "$out"; exit 1; }
if echo "$out" | grep -q "tee-verifierd.service"; then echo "FAIL:"; echo "$out"; exit 1; fi
echo "PASS"
