#!/usr/bin/env bash
# reap.sh DIR...: kills every process of the stack (OpenBao, the sidecar, the plugins, the load
# tools, tee-testgen's stand-ins, tee-login cert/exec, azure-cvm) that belongs to DIR — its binary, working
# directory or command line lies in it — and names each one. Exit status 1 when there was one: a test left it running.
# scripts/test.sh runs it on the checkout and its run's temporary directory.
set -uo pipefail
names='^(bao|vault|tee-verifierd|tee-testgen|tee-collateral|vault-plugin-auth-tee|noop-auth-plugin|tee-loadgen|ghz|swtpm|tee-login|azure-cvm)$'
found=0
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  [ "$pid" = $$ ] && continue
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  exe=${exe% (deleted)}
  [[ $(basename "$exe") =~ $names ]] || continue
  cwd=$(readlink "$p/cwd" 2>/dev/null || true)
  cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null || true)
  for dir in "$@"; do
    dir=${dir%/}
    if [[ "$cwd/" == "$dir/"* || "$exe" == "$dir/"* || "$cmd" == *"$dir/"* ]]; then
      echo "reap: still running: pid $pid $(basename "$exe") (cwd $cwd): $cmd"
      kill -KILL "$pid" 2>/dev/null
      found=1
      break
    fi
  done
done
exit $found
