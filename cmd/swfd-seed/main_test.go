package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A number that means nothing is refused with exit status 2 and a message
// naming the flag, its value and the default, before a database is
// created; it is never replaced by the default.
func TestRefuseNumbersThatMeanNothing(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-closed", "-1"}, "-closed -1: a number of executions to write is 0 or more; leave the flag out for the default, 1000000"},
		{[]string{"-open", "-5"}, "-open -5: a number of executions to write is 0 or more"},
		{[]string{"-span", "0s"}, "-span 0s: start and close times need a period to spread over"},
		{[]string{"-span", "-1h"}, "-span -1h0m0s: start and close times need a period"},
		{[]string{"-batch", "0"}, "-batch 0: a commit must hold at least 1 execution; leave the flag out for the default, 2000"},
		{[]string{"-batch", "-3"}, "-batch -3: a commit must hold at least 1 execution"},
		{[]string{"-workers", "0"}, "-workers 0: at least 1 goroutine must build executions; leave the flag out for the default, GOMAXPROCS ("},
		{[]string{"-workers", "-1"}, "-workers -1: at least 1 goroutine"},
		// A retention that is no number of days: swfd reads it as none and
		// purges every closed execution seeded at its first pass.
		{[]string{"-retention", "abc"}, `-retention abc: a retention is a whole number of days, 0 or more, or NONE; leave the flag out for the default, 365`},
		{[]string{"-retention", "-3"}, "-retention -3: a retention is a whole number of days"},
		{[]string{"-retention", ""}, "-retention : a retention is a whole number of days"},
		{[]string{"bench", "-n", "0"}, "-n 0: at least 1 call per query must be measured; leave the flag out for the default, 200"},
		{[]string{"bench", "-warmup", "0"}, "-warmup 0: the warm-up is at least 1 call per query; leave the flag out for the default, 10"},
		{[]string{"bench", "-duration", "0s"}, "-duration 0s: a throughput run must last: give a duration above zero, such as 5s; leave the flag out for the default, 15s"},
		{[]string{"bench", "-writers", "-1"}, "-writers -1: at least 1 loop must start and close workflows; leave the flag out for the default, 8"},
		{[]string{"bench", "-readers", "0"}, "-readers 0: at least 1 loop must query during the loaded runs; leave the flag out for the default, 2"},
	} {
		db := filepath.Join(t.TempDir(), "seed.db")
		args := append(c.args, "-db", db)
		var stdout, stderr bytes.Buffer
		code := command(context.Background(), args, &stdout, &stderr)
		if code != 2 {
			t.Errorf("swfd-seed %s: exit status %d, want 2", strings.Join(c.args, " "), code)
		}
		if !strings.HasPrefix(stderr.String(), "swfd-seed: ") || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("swfd-seed %s: %q, want %q", strings.Join(c.args, " "), stderr.String(), c.want)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("swfd-seed %s: the database was created (%v)", strings.Join(c.args, " "), err)
		}
	}
}

// Numbers that mean something are taken as given: no closed executions,
// a few open ones in commits of one, by one goroutine.
func TestSeedTakesNumbersGiven(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seed.db")
	var stdout, stderr bytes.Buffer
	code := command(context.Background(), []string{"-db", db, "-closed", "0", "-open", "3", "-batch", "1", "-workers", "1", "-span", "1h"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	if want := "seeded 0 closed and 3 open executions"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
}

// Closed executions are made by the engine's own steps, each close at its
// time: the seeded decider answers within its decision task's timeout,
// or the engine would time the task out and refuse the answer.
func TestSeedClosesRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "seed.db")
	var stdout, stderr bytes.Buffer
	code := command(context.Background(), []string{"-db", db, "-closed", "200", "-open", "1"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	if want := "seeded 200 closed and 1 open executions"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
}
