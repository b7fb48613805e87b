# Sourced by the scripts: the Go toolchain setup.sh fetched, if the machine's Go is too old.
_tee_go="$HOME/.cache/vault-plugin-auth-tee/go1.26.8/go/bin"
if [ -x "$_tee_go/go" ] && ! { command -v go >/dev/null 2>&1 && go version | awk '{split(substr($3,3),v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=25))}'; }; then
  export PATH="$_tee_go:$PATH"
fi
unset _tee_go
