package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseExecFlags(t *testing.T) {
	opts, argv, err := parseExecFlags([]string{"-role=r", "-tee=tdx", "--", "server", "--port", "1"}, io.Discard)
	if err != nil || opts.role != "r" || opts.tee != "tdx" || strings.Join(argv, " ") != "server --port 1" {
		t.Fatalf("%+v %v %v", opts, argv, err)
	}
	for _, args := range [][]string{
		{"-role=r", "server"},                      // no "--"
		{"-role=r", "--"},                          // no command
		{"--", "server"},                           // no role
		{"-role=r", "-token-only", "--", "server"}, // printing does not apply
		{"-role=r", "-evidence-file=q", "--", "server"},
	} {
		if _, _, err := parseExecFlags(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestCommandEnvReplacesTokensAndAddresses(t *testing.T) {
	env := commandEnv([]string{"PATH=/bin", "VAULT_TOKEN=old", "BAO_TOKEN=old", "VAULT_ADDR=x", "BAO_ADDR=x", "HOME=/h"},
		"https://v:8200", "s.new")
	want := "PATH=/bin HOME=/h VAULT_ADDR=https://v:8200 BAO_ADDR=https://v:8200 VAULT_TOKEN=s.new BAO_TOKEN=s.new"
	if got := strings.Join(env, " "); got != want {
		t.Fatalf("got %s", got)
	}
}
