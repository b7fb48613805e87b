package main

import (
	"flag"
	"testing"
)

func TestRelayProcsIsAQuarterOfTheCPUsAndAtLeastOne(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 4: 1, 7: 1, 8: 2, 32: 8, 96: 24} {
		if got := relayProcs(cpus); got != want {
			t.Errorf("relayProcs(%d) = %d, want %d", cpus, got, want)
		}
	}
}

func TestTheFlagThenTheEnvironmentOverrideTheDefault(t *testing.T) {
	flags := flag.NewFlagSet("plugin", flag.ContinueOnError)
	n := procsFlag(flags)
	if err := flags.Parse([]string{"-gomaxprocs=6"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		flagged      int
		env          string
		defaultProcs int
		want         int
	}{
		{*n, "", 32, 6},  // the flag wins
		{*n, "3", 32, 6}, // over the environment too
		{0, "3", 32, 0},  // GOMAXPROCS in the environment: left as the runtime set it
		{0, "", 32, 8},   // neither: a quarter of the runtime's default
		{0, "", 2, 1},
	}
	for _, c := range cases {
		if got := procsToUse(c.flagged, c.env, c.defaultProcs); got != c.want {
			t.Errorf("procsToUse(%d, %q, %d) = %d, want %d", c.flagged, c.env, c.defaultProcs, got, c.want)
		}
	}
}
