# Sourced by the scripts: the Go toolchain setup.sh fetched, if the machine's Go is too old.
TEE_GO_VERSION=1.26.8
TEE_GO_HOME="$HOME/.cache/vault-plugin-auth-tee/go$TEE_GO_VERSION"
# Whether the `go` on PATH is at least 1.25, which the plugin needs.
tee_go_ok() {
  command -v go >/dev/null 2>&1 &&
    go version | awk '{split(substr($3,3),v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=25))}'
}
if [ -x "$TEE_GO_HOME/go/bin/go" ] && ! tee_go_ok; then
  export PATH="$TEE_GO_HOME/go/bin:$PATH"
fi
