package main

import "testing"

func TestRelayProcsIsAQuarterOfTheCPUsAndAtLeastOne(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 4: 1, 7: 1, 8: 2, 32: 8, 96: 24} {
		if got := relayProcs(cpus); got != want {
			t.Errorf("relayProcs(%d) = %d, want %d", cpus, got, want)
		}
	}
}
