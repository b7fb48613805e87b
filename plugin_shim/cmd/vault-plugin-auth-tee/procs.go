package main

import (
	"os"
	"runtime"
)

// relayProcs is how many threads run the plugin's Go code at once. The plugin relays: it decodes a
// login, checks the nonce's MAC, asks the sidecar and returns a token, so a login spends most of
// its time waiting on the server or the sidecar. With GOMAXPROCS at the number of CPUs, each wake-up
// lets idle Ps spin looking for work, and on a small server that spinning cost more CPU than the
// login itself (docs/performance.md, "What a TEE login pays beyond the no-op login"). A quarter of
// the CPUs, at least one, keeps the spinning down and still leaves a large server several.
func relayProcs(cpus int) int {
	return max(1, cpus/4)
}

// limitProcs applies relayProcs unless the operator chose GOMAXPROCS (plugin register -env).
func limitProcs() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(relayProcs(runtime.GOMAXPROCS(0)))
}
