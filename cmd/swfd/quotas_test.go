package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// --quotas "" (a unit file's value left empty, a variable expanded to
// nothing) is refused with the values there are, exit status 2, as --clock
// "" and --log-level "" are, rather than taken for off: the throttling
// meant may be missing. (An empty SWFD_QUOTAS counts as not set, as every
// empty variable does.)
func TestEmptyQuotasRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out logbuf.Buffer
	code := command(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--quotas", ""}, noenv, &out)
	if code != 2 || !strings.Contains(out.String(), `--quotas "": use off, aws or the path of a quota file`) {
		t.Fatalf("--quotas \"\": exit status %d, want 2 with the values there are:\n%s", code, out.String())
	}
}

// --db "" is refused before the address is taken, exit status 2, saying
// what a database is given as; it said "unknown database (not shown: not a
// URL)" once the address was taken, hiding a value that was not there.
func TestEmptyDBRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out logbuf.Buffer
	code := command(ctx, []string{"--addr", "127.0.0.1:0", "--db", ""}, noenv, &out)
	if code != 2 || !strings.Contains(out.String(), `--db "": give the database: sqlite:PATH`) || strings.Contains(out.String(), "address taken") {
		t.Fatalf("--db \"\": exit status %d, want 2 before the address is taken, saying what to give:\n%s", code, out.String())
	}
}

// --auth "" (a unit file's value left empty, a variable such as
// "$AUTH_FILE" expanded to nothing) is refused, exit status 2 before the
// address is taken, rather than read as no --auth: swfd would then take
// any credentials, where the operator meant every request to be signed.
// (An empty SWFD_AUTH counts as not set, as every empty variable does.)
func TestEmptyAuthRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out logbuf.Buffer
	code := command(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--auth", ""}, noenv, &out)
	if code != 2 || !strings.Contains(out.String(), `--auth "": give the path of the auth file`) || strings.Contains(out.String(), "address taken") {
		t.Fatalf("--auth \"\": exit status %d, want 2 before the address is taken, saying what to give:\n%s", code, out.String())
	}
}
