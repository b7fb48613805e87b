package main

import (
	"flag"
	"os"
	"runtime"
)

// relayProcs is how many threads run the plugin's Go code at once. The plugin relays: it decodes a
// login, checks the nonce's MAC, asks the sidecar and returns a token, so a login spends most of
// its time waiting on the server or the sidecar. With GOMAXPROCS at the number of CPUs, each wake-up
// lets idle Ps spin looking for work, and on a small server that spinning cost more CPU than the
// login itself (docs/performance.md, "Load"). A quarter of the CPUs, at least one, keeps the
// spinning down and still leaves a large server several.
func relayProcs(cpus int) int {
	return max(1, cpus/4)
}

// procsFlag is -gomaxprocs, given at registration (`plugin register -args=-gomaxprocs=N`);
// OpenBao's catalog sets no environment for a plugin, Vault's can (GOMAXPROCS in -env).
func procsFlag(flags *flag.FlagSet) *int {
	return flags.Int("gomaxprocs", 0, "threads running Go code at once (default: a quarter of the CPUs, at least 1)")
}

// procsToUse is the -gomaxprocs flag if given, nothing (0) if GOMAXPROCS is in the environment (the
// runtime has applied it), and relayProcs of the runtime's default otherwise.
func procsToUse(flagged int, env string, defaultProcs int) int {
	switch {
	case flagged > 0:
		return flagged
	case env != "":
		return 0
	}
	return relayProcs(defaultProcs)
}

func limitProcs(flagged int) {
	if n := procsToUse(flagged, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0)); n > 0 {
		runtime.GOMAXPROCS(n)
	}
}
