package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

func noenv(string) string { return "" }

const authFile = `{"principals": [{"name": "op", "accessKeys": [{"accessKeyId": "AKIDOP", "secretAccessKey": "op-secret-value"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}`

func TestRefusesNonLoopbackWithoutAuth(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		var out logbuf.Buffer
		err := run(context.Background(), []string{"--addr", addr, "--db", "sqlite::memory:"}, noenv, &out)
		if err == nil || !strings.Contains(err.Error(), "refusing to listen on "+addr+" without --auth") || !strings.Contains(err.Error(), "--insecure") {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	// Loopback needs nothing; --insecure (or SWFD_INSECURE) allows the rest, with a warning.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}, noenv, &logbuf.Buffer{}); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out logbuf.Buffer
	env := func(k string) string {
		if k == "SWFD_INSECURE" {
			return "true"
		}
		return ""
	}
	if err := run(ctx, []string{"--addr", "0.0.0.0:0", "--db", "sqlite::memory:"}, env, &out); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	if !strings.Contains(out.String(), "without --auth") {
		t.Fatalf("no warning: %s", out.String())
	}
}

func TestAuthFlag(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"principals": []}`), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"--auth", bad, "--db", "sqlite::memory:"}, noenv, &logbuf.Buffer{}); err == nil || !strings.Contains(err.Error(), "no principals") {
		t.Fatalf("bad file: %v", err)
	}
	good := filepath.Join(dir, "auth.json")
	os.WriteFile(good, []byte(authFile), 0o644)
	var out logbuf.Buffer
	env := func(k string) string {
		if k == "SWFD_AUTH" {
			return good
		}
		return ""
	}
	// With --auth (here from SWFD_AUTH) any address is fine.
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"--addr", "0.0.0.0:0", "--db", "sqlite::memory:"}, env, &out); err != nil {
		t.Fatalf("auth: %v", err)
	}
	if !strings.Contains(out.String(), "readable by every user") || strings.Contains(out.String(), "op-secret-value") {
		t.Fatalf("log: %s", out.String())
	}
}

// --pprof-addr on an address other hosts can reach needs --insecure.
func TestPprofLoopbackOnly(t *testing.T) {
	err := run(context.Background(), []string{"--db", "sqlite::memory:", "--addr", "127.0.0.1:0", "--pprof-addr", "0.0.0.0:0"}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "refusing to serve profiles on 0.0.0.0:0") {
		t.Fatalf("non-loopback pprof: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"--db", "sqlite::memory:", "--addr", "127.0.0.1:0", "--pprof-addr", "0.0.0.0:0", "--insecure"}, noenv, &logbuf.Buffer{}); err != nil {
		t.Fatalf("with --insecure: %v", err)
	}
}

// The database password never reaches the log or an error: not in the
// start-up line, not when the database cannot be reached, not in the
// URL's password parameter.
func TestDSNPasswordNeverPrinted(t *testing.T) {
	for _, dsn := range []string{
		"postgres://swfd:hunter2secret@127.0.0.1:1/swfd?connect_timeout=1",
		"postgres://swfd@127.0.0.1:1/swfd?password=hunter2secret&connect_timeout=1",
		"postgres://swfd:hunter2secret@127.0.0.1:1/swfd?connect_timeout=1&bogus%zz",
		"mysql://swfd:hunter2secret@127.0.0.1/swfd",
	} {
		var out logbuf.Buffer
		err := run(context.Background(), []string{"--db", dsn, "--addr", "127.0.0.1:0"}, noenv, &out)
		if err == nil {
			t.Fatalf("%s: started", dsn)
		}
		if strings.Contains(err.Error()+out.String(), "hunter2") {
			t.Errorf("password printed:\nerr: %v\nlog: %s", err, out.String())
		}
	}
	// A server that starts logs the URL with the password masked.
	dsn := pgtest.NewDatabase(t)
	if !strings.HasPrefix(dsn, "postgres://") || !strings.Contains(dsn, "@") {
		t.Skipf("DSN %q", dsn)
	}
	dsn = strings.Replace(dsn, "@", ":hunter2secret@", 1)
	if strings.Count(dsn, ":hunter2secret@") != 1 || strings.Contains(dsn, "//:") {
		t.Skipf("DSN %q", dsn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--db", dsn, "--addr", "127.0.0.1:0"}, noenv, &out) }()
	waitLogged(t, &out, "swfd listening", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "xxxxx@") {
		t.Fatalf("log: %s", out.String())
	}
}

// No command that takes a database prints its password, whatever form the
// value takes: swfd's --db and SWFD_DB, swfd --dev's refusal of a --db,
// swfd migrate's --from and --to, and swfd backup's --db.
func TestDSNPasswordNeverPrintedByAnyCommand(t *testing.T) {
	dir := t.TempDir()
	target := "sqlite:" + filepath.Join(dir, "target.db")
	for _, dsn := range []string{
		"host=127.0.0.1 user=postgres password=topsecret dbname=test",
		"host=x password='topsecret'",
		"postgres:topsecret@127.0.0.1/db",
		"mysql://u:topsecret@127.0.0.1/db",
		"postgres://u@127.0.0.1:1/db?connect_timeout=1&PASSWORD=topsecret",
		"postgres://u@127.0.0.1:1/db?x=1;password=topsecret",
		"postgres://u:top/secret@127.0.0.1:1/db",
	} {
		env := func(k string) string {
			if k == "SWFD_DB" {
				return dsn
			}
			return ""
		}
		for name, cmd := range map[string]func(out *logbuf.Buffer) error{
			"swfd --db": func(out *logbuf.Buffer) error {
				return run(context.Background(), []string{"--db", dsn, "--addr", "127.0.0.1:0"}, noenv, out)
			},
			"SWFD_DB": func(out *logbuf.Buffer) error {
				return run(context.Background(), []string{"--addr", "127.0.0.1:0"}, env, out)
			},
			"swfd --dev --db": func(out *logbuf.Buffer) error {
				return run(context.Background(), []string{"--dev", "--db", dsn, "--addr", "127.0.0.1:0"}, noenv, out)
			},
			"swfd migrate --from": func(out *logbuf.Buffer) error {
				return migrateMain(context.Background(), []string{"--from", dsn, "--to", target}, out)
			},
			"swfd migrate --to": func(out *logbuf.Buffer) error {
				return migrateMain(context.Background(), []string{"--from", "sqlite::memory:", "--to", dsn}, out)
			},
			"swfd backup --db": func(out *logbuf.Buffer) error {
				return backupMain(context.Background(), []string{"--db", dsn, "--to", filepath.Join(dir, "copy.db")}, out)
			},
		} {
			var out logbuf.Buffer
			err := cmd(&out)
			if err == nil {
				t.Fatalf("%s %q: no error", name, dsn)
			}
			if got := err.Error() + out.String(); strings.Contains(got, "topsecret") || strings.Contains(got, "secret@") {
				t.Errorf("%s %q: the password is printed:\nerr: %v\nlog: %s", name, dsn, err, out.String())
			}
		}
	}
	// The error still says what is wrong, and how to write it.
	err := run(context.Background(), []string{"--db", "host=127.0.0.1 password=topsecret"}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--db: unknown database") || !strings.Contains(err.Error(), "postgres://USER:PASSWORD@HOST:PORT/DB") {
		t.Errorf("a key=value --db: %v", err)
	}
	err = migrateMain(context.Background(), []string{"--from", "host=x password=s3cretpw", "--to", target}, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("a key=value --from: %v, want it to name --from", err)
	}
}

func waitLogged(t *testing.T, out *logbuf.Buffer, s string, n int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if strings.Count(out.String(), s) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never logged %q %d times:\n%s", s, n, out.String())
}

// A word that is not a flag is an error (exit status 2) before anything is
// opened: a misspelled command does not start a server on the default
// database, and a stray argument does not start one at all.
func TestArgumentsThatAreNotFlags(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // where the default database would be created
	env := func(k string) string {
		if k == "SWFD_ADDR" {
			return "127.0.0.1:0" // should a server start after all
		}
		return ""
	}
	live, copy := filepath.Join(dir, "live.db"), filepath.Join(dir, "copy.db")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"bakup", "--db", "sqlite:" + live, "--to", copy}, []string{`unknown command "bakup"`, "migrate", "backup"}},
		{[]string{"serve"}, []string{`unknown command "serve"`}},
		{[]string{"--addr", "127.0.0.1:0", "--db", "sqlite:" + live, "extra"}, []string{`unexpected argument "extra"`, "swfd -h"}},
		{[]string{"--db", "sqlite:" + live, "--", "backup"}, []string{`unexpected argument "backup"`, "come first"}},
		{[]string{"--db", "host=x", "password=topsecret"}, []string{"unexpected argument (a key=value argument, not shown"}},
		{[]string{"migrate", "--from", "sqlite:" + live, "--to", "sqlite:" + copy, "extra"}, []string{`unexpected argument "extra"`, "swfd migrate -h"}},
		{[]string{"backup", "--db", "sqlite:" + live, "--to", copy, "extra"}, []string{`unexpected argument "extra"`, "swfd backup -h"}},
		{[]string{"migrate", "--from", "sqlite:" + live}, []string{"both --from and --to are required"}},
		{[]string{"restore", "--from", copy}, []string{"both --from and --db are required"}},
		{[]string{"restore", "--from", copy, "--db", "sqlite:" + live, "extra"}, []string{`unexpected argument "extra"`, "swfd restore -h"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var out logbuf.Buffer
		code := command(ctx, tc.args, env, &out)
		cancel()
		if code != 2 {
			t.Errorf("swfd %q: exit status %d, want 2; output:\n%s", tc.args, code, out.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("swfd %q: the output does not say %q:\n%s", tc.args, w, out.String())
			}
		}
		if strings.Contains(out.String(), "topsecret") || strings.Contains(out.String(), "swfd listening") {
			t.Errorf("swfd %q:\n%s", tc.args, out.String())
		}
		for _, f := range []string{live, copy, filepath.Join(dir, "swfd-data")} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Fatalf("swfd %q created %s", tc.args, f)
			}
		}
	}
}

// startsWith runs swfd with args and env until it stops by itself or has
// started (then it is stopped), and returns its exit status and output.
func startsWith(t *testing.T, args []string, env map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out logbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- command(ctx, args, func(k string) string { return env[k] }, &out) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case code := <-done:
			return code, out.String()
		default:
		}
		if strings.Contains(out.String(), "swfd listening") {
			cancel()
			return <-done, out.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("swfd %q neither started nor stopped:\n%s", args, out.String())
		}
	}
}

// An SWFD_ variable is parsed as its flag is: a value the flag would
// refuse is an error naming the variable (exit status 2), not ignored or
// read as false.
func TestEnvironmentParsedAsFlags(t *testing.T) {
	base := []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"SWFD_METRICS": "yes"}, nil, `SWFD_METRICS="yes": invalid value for --metrics, want true or false`},
		{map[string]string{"SWFD_POLL_TIMEOUT": "30"}, nil, `SWFD_POLL_TIMEOUT="30": invalid value for --poll-timeout, want a duration with its unit`},
		{map[string]string{"SWFD_MAX_CONNECTIONS": "lots"}, nil, `SWFD_MAX_CONNECTIONS="lots": invalid value for --max-connections, want a whole number`},
		{map[string]string{"SWFD_INSECURE": "on"}, nil, `SWFD_INSECURE="on"`},
		// Wrong even where the command line overrides it.
		{map[string]string{"SWFD_POLL_TIMEOUT": "30"}, []string{"--poll-timeout", "30s"}, `SWFD_POLL_TIMEOUT="30"`},
	} {
		code, out := startsWith(t, append(append([]string{}, base...), tc.args...), tc.env)
		if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "swfd listening") {
			t.Errorf("%v %q: exit status %d, want 2 and %q; output:\n%s", tc.env, tc.args, code, tc.want, out)
		}
	}
	// Good values are taken as the flags'.
	code, out := startsWith(t, base, map[string]string{"SWFD_METRICS": "false", "SWFD_MAX_CONNECTIONS": "77", "SWFD_POLL_TIMEOUT": "2s"})
	if code != 0 || !strings.Contains(out, "metrics=off") || !strings.Contains(out, "max_connections=77") {
		t.Errorf("good values: exit status %d; output:\n%s", code, out)
	}
}

// A duration or number that means nothing is refused with a message
// naming the flag (or the variable that set it), not replaced by the
// default.
func TestNumbersThatMeanNothing(t *testing.T) {
	base := []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--poll-timeout", "-5s"}, nil, "--poll-timeout -5s: a poll must be able to wait"},
		{[]string{"--poll-timeout", "0"}, nil, "--poll-timeout 0s: a poll must be able to wait"},
		{[]string{"--dev", "--poll-timeout", "0s"}, nil, "--poll-timeout 0s"},
		{nil, map[string]string{"SWFD_POLL_TIMEOUT": "-1m"}, "SWFD_POLL_TIMEOUT=-1m0s: a poll must be able to wait"},
		{[]string{"--max-connections", "-3"}, nil, "--max-connections -3: at least 1 connection"},
		{[]string{"--max-connections", "0"}, nil, "--max-connections 0: at least 1 connection"},
		{nil, map[string]string{"SWFD_MAX_CONNECTIONS": "0"}, "SWFD_MAX_CONNECTIONS=0: at least 1 connection"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--metrics-max-connections", "0"}, nil, "--metrics-max-connections 0: at least 1 connection must be allowed on --metrics-addr"},
		{[]string{"--metrics-addr", "127.0.0.1:0"}, map[string]string{"SWFD_METRICS_MAX_CONNECTIONS": "-2"}, "SWFD_METRICS_MAX_CONNECTIONS=-2: at least 1 connection"},
		{[]string{"--metrics-max-connections", "8"}, nil, "--metrics-max-connections 8 caps the connections of --metrics-addr, which is not given"},
		{[]string{"--run-cache-mb", "0"}, nil, "--run-cache-mb 0: give the run cache between 1 and 1048576 MiB"},
		{nil, map[string]string{"SWFD_RUN_CACHE_MB": "-1"}, "SWFD_RUN_CACHE_MB=-1: give the run cache between 1"},
		{[]string{"--run-cache-mb", "2000000"}, nil, "--run-cache-mb 2000000: give the run cache between 1"},
		{[]string{"--call-timeout", "0s"}, nil, "--call-timeout 0s: give a duration above zero and at most 5m0s"},
		{[]string{"--call-timeout", "-1s"}, nil, "--call-timeout -1s: give a duration above zero"},
		{[]string{"--call-timeout", "6m"}, nil, "--call-timeout 6m0s: give a duration above zero and at most 5m0s"},
		{nil, map[string]string{"SWFD_CALL_TIMEOUT": "0"}, "SWFD_CALL_TIMEOUT=0s: give a duration above zero"},
		{[]string{"--account-id", "abc"}, nil, `--account-id "abc": an account id is 12 digits`},
		{[]string{"--account-id", "1234567890123"}, nil, "an account id is 12 digits"},
		// A region is one field of every ARN: a ':' in it (or the quotes
		// a Docker --env-file keeps) makes ARNs no call takes back.
		{[]string{"--region", "us-east-1:"}, nil, `--region "us-east-1:": a region is letters, digits and hyphens`},
		{nil, map[string]string{"SWFD_REGION": `"eu-west-1"`}, `SWFD_REGION="\"eu-west-1\"": a region is letters, digits and hyphens`},
		{[]string{"--region", "us east 1"}, nil, "a region is letters, digits and hyphens"},
	} {
		code, out := startsWith(t, append(append([]string{}, base...), tc.args...), tc.env)
		if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "swfd listening") {
			t.Errorf("%q %v: exit status %d, want 2 and %q; output:\n%s", tc.args, tc.env, code, tc.want, out)
		}
	}
	code, out := startsWith(t, append(base, "--poll-timeout", "1s", "--max-connections", "1", "--account-id", "000000000001", "--run-cache-mb", "64", "--call-timeout", "5m", "--region", "us-gov-west-1"), nil)
	if code != 0 || !strings.Contains(out, "max_connections=1 ") || !strings.Contains(out, "run_cache_mb=64 ") || !strings.Contains(out, "account_id=000000000001") || !strings.Contains(out, "region=us-gov-west-1 ") ||
		!strings.Contains(out, "call_timeout=5m0s ") || !strings.Contains(out, "--call-timeout is above 40s") {
		t.Errorf("good values: exit status %d; output:\n%s", code, out)
	}
	code, out = startsWith(t, base, map[string]string{"SWFD_CALL_TIMEOUT": "30s"})
	if code != 0 || !strings.Contains(out, "call_timeout=30s ") || strings.Contains(out, "--call-timeout is above") {
		t.Errorf("SWFD_CALL_TIMEOUT=30s: exit status %d; output:\n%s", code, out)
	}
	code, out = startsWith(t, base, nil)
	if code != 0 || !strings.Contains(out, "call_timeout=15s ") {
		t.Errorf("the default call timeout: exit status %d; output:\n%s", code, out)
	}
}

// An address in use, for the API, the profiles or the metrics, stops swfd
// (exit status 2) before it creates a database.
func TestBusyAddressStopsBeforeTheStore(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	for _, name := range []string{"--addr", "--pprof-addr", "--metrics-addr"} {
		db := filepath.Join(dir, name[2:]+".db")
		code, out := startsWith(t, []string{"--addr", "127.0.0.1:0", "--db", "sqlite:" + db, name, busy.Addr().String()}, nil)
		if code != 2 || !strings.Contains(out, name+": listen tcp "+busy.Addr().String()) || !strings.Contains(out, "address already in use") ||
			strings.Contains(out, "swfd listening") {
			t.Errorf("%s in use: exit status %d; output:\n%s", name, code, out)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("%s in use: the database was created (%v)", name, err)
		}
	}
}

// The API's address is held while the store opens, and a request that
// comes meanwhile gets no answer until swfd is ready: here it never is, as
// the database never answers, and the connection ends unanswered.
func TestAddressHeldButSilentWhileTheStoreOpens(t *testing.T) {
	db, err := net.Listen("tcp", "127.0.0.1:0") // a database that accepts and never answers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	go func() {
		for {
			c, err := db.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	done := make(chan error, 1)
	var out logbuf.Buffer
	go func() {
		done <- run(context.Background(), []string{"--addr", "127.0.0.1:0",
			"--db", "postgres://swfd@" + db.Addr().String() + "/swfd?sslmode=disable&connect_timeout=2"}, noenv, &out)
	}()
	// The port the kernel picked is logged once it is taken, before the
	// store opens; no other process can have it in between.
	waitLogged(t, &out, "address taken; opening the store", 1)
	m := regexp.MustCompile(`msg="address taken; opening the store" addr=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the address is not logged:\n%s", out.String())
	}
	c, err := net.Dial("tcp", m[1])
	if err != nil {
		t.Fatalf("nothing listens on --addr while the store opens: %v", err)
	}
	defer c.Close()
	c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: swfd\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(c)
	if len(got) > 0 {
		t.Errorf("answered before the store was open: %q", got)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("run: %v\n%s", err, out.String())
	}
}

// swfd -h says that --db takes a PostgreSQL URL too.
func TestHelpNamesPostgres(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-h"}, noenv, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v", err)
	}
	_, after, _ := strings.Cut(out.String(), "\n  -db ")
	db, _, _ := strings.Cut(after, "\n  -")
	if !strings.Contains(db, "sqlite:PATH") || !strings.Contains(db, "postgres://USER@HOST:PORT/DB") {
		t.Errorf("-db's help: %q", db)
	}
}

// --call-timeout bounds how long a call other than a long poll waits on a
// database that has stopped answering (here PostgreSQL behind a proxy that
// holds its answers back): set to 300ms, the call is answered
// ServiceUnavailable, as with the default of 15 s, long before that
// default would have run out.
func TestCallTimeoutFlag(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	u, err := url.Parse(proxy.DSN(dsn))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1") // every call goes through the one connection, open before the stall
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", u.String(), "--call-timeout", "300ms", "--console=false"}, noenv, &out)
	}()
	waitLogged(t, &out, "swfd listening", 1)
	line := out.String()
	api := regexp.MustCompile(` addr=(\S+)`).FindStringSubmatch(line)
	if api == nil || !strings.Contains(line, "call_timeout=300ms") {
		t.Fatalf("address or call timeout not logged: %s", line)
	}
	client := &http.Client{Timeout: 10 * time.Second} // below the default call timeout
	listDomains := func() (int, string, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+api[1]+"/", strings.NewReader(`{"registrationStatus":"REGISTERED"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	if code, body, err := listDomains(); err != nil || code != http.StatusOK {
		t.Fatalf("before the stall: %d %s %v", code, body, err)
	}
	proxy.Stall()
	code, body, err := listDomains()
	proxy.Resume()
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "ServiceUnavailable") {
		t.Errorf("a call waiting on a database that does not answer: %d %s %v; want 503 ServiceUnavailable within 10 s", code, body, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// --addr-file: swfd started on port 0 writes, once it serves, the
// addresses it got (API, metrics, profiles), whole, where a script finds
// them; a file left by an earlier run is removed first, and swfd removes
// its own when it stops. A path swfd cannot write stops it before it
// opens the database.
func TestAddrFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.addr")
	stale := "addr=127.0.0.1:1\nurl=http://127.0.0.1:1\n"
	if err := os.WriteFile(path, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--metrics-addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0",
			"--addr-file", path, "--log-level", "warn"}, noenv, &out)
	}()
	var got map[string]string
	for deadline := time.Now().Add(30 * time.Second); got == nil; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("swfd stopped: %v\n%s", err, out.String())
		default:
		}
		if b, err := os.ReadFile(path); err == nil && string(b) != stale {
			got = map[string]string{}
			for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok || v == "" {
					t.Fatalf("line %q of %q", line, b)
				}
				got[k] = v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address file after 30 s:\n%s", out.String())
		}
	}
	if len(got) != 4 || got["url"] != "http://"+got["addr"] || strings.HasSuffix(got["addr"], ":0") {
		t.Fatalf("address file: %v", got)
	}
	for _, u := range []string{got["url"] + "/healthz", "http://" + got["metrics_addr"] + "/metrics", "http://" + got["pprof_addr"] + "/debug/pprof/"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", u, resp.Status)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the address file is still there after swfd stopped (%v)", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".swfd.addr.*")); len(left) > 0 {
		t.Errorf("files left beside it: %v", left)
	}

	db := filepath.Join(dir, "never.db")
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", "sqlite:" + db, "--addr-file", filepath.Join(dir, "no-such-dir", "swfd.addr")}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--addr-file") {
		t.Errorf("an address file in a directory that does not exist: %v", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the database was created (%v)", err)
	}
}

// --addr-file removes at start only an address file an earlier swfd left
// (or an empty file, as mktemp makes): a path that names a directory, or a
// file of anything else (a slip of the flag's value naming a file that
// matters), is refused, exit status 2,
// and left as it was. It removed an empty directory and wrote its file in
// its place, and removed any other file, both gone for good once swfd
// stopped.
func TestAddrFileLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(precious, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{empty, "is a directory"},
		{precious, "not an address file"},
	} {
		var out logbuf.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		codes := make(chan int, 1)
		go func() {
			codes <- command(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--addr-file", tc.path}, noenv, &out)
		}()
		var code int
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			select {
			case code = <-codes:
			default:
				// Served, its address file written over the path given:
				// stop it and report.
				if b, _ := os.ReadFile(tc.path); strings.HasPrefix(string(b), "addr=") || time.Now().After(deadline) {
					cancel()
					code = <-codes
				} else {
					continue
				}
			}
			break
		}
		cancel()
		if code != 2 || !strings.Contains(out.String(), "--addr-file") || !strings.Contains(out.String(), tc.want) {
			t.Errorf("--addr-file %s: exit status %d, want 2 and %q:\n%s", filepath.Base(tc.path), code, tc.want, out.String())
		}
	}
	if fi, err := os.Stat(empty); err != nil || !fi.IsDir() {
		t.Errorf("the directory given as --addr-file is gone (%v)", err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me\n" {
		t.Errorf("the file given as --addr-file: %q, %v", b, err)
	}
}

// A --lambda-endpoint that is not an http or https URL with a host (a host
// name without its scheme, a typo) is refused at start, naming the flag or
// the variable that set it, before the address is taken or a database
// created: otherwise swfd would start and every ScheduleLambdaFunction
// decision would fail, each with the transport's error in its history.
func TestLambdaEndpointMustBeAURL(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "swfd.db")
	base := []string{"--addr", "127.0.0.1:0", "--db", db}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--lambda-endpoint", "lambda.us-east-1.amazonaws.com"}, nil, `--lambda-endpoint "lambda.us-east-1.amazonaws.com": give the Lambda API's URL`},
		{[]string{"--lambda-endpoint", "127.0.0.1:9001"}, nil, `--lambda-endpoint "127.0.0.1:9001"`},
		{[]string{"--lambda-endpoint", "ftp://lambda.example"}, nil, `--lambda-endpoint "ftp://lambda.example"`},
		{[]string{"--lambda-endpoint", "http://"}, nil, `--lambda-endpoint "http://"`},
		{[]string{"--lambda-endpoint", "http//localhost:9001"}, nil, `--lambda-endpoint "http//localhost:9001"`},
		{nil, map[string]string{"SWFD_LAMBDA_ENDPOINT": "localhost:9001"}, `SWFD_LAMBDA_ENDPOINT="localhost:9001": give the Lambda API's URL`},
		// A port no connection can be made to, a query or a fragment
		// (which no request to the Invoke API carries), and a user name
		// and password, which the Lambda client ignores and swfd logged
		// at start: quoted with the password hidden.
		{[]string{"--lambda-endpoint", "http://127.0.0.1:99999"}, nil, `--lambda-endpoint "http://127.0.0.1:99999": give the Lambda API's URL`},
		{[]string{"--lambda-endpoint", "http://127.0.0.1:0"}, nil, `--lambda-endpoint "http://127.0.0.1:0": give the Lambda API's URL`},
		{[]string{"--lambda-endpoint", "http://127.0.0.1:9001/?stage=dev"}, nil, `--lambda-endpoint "http://127.0.0.1:9001/?stage=dev": give the Lambda API's URL`},
		{[]string{"--lambda-endpoint", "http://127.0.0.1:9001#top"}, nil, `--lambda-endpoint "http://127.0.0.1:9001#top": give the Lambda API's URL`},
		{[]string{"--lambda-endpoint", "http://admin:s3cret@127.0.0.1:9001"}, nil, `--lambda-endpoint "http://admin:xxxxx@127.0.0.1:9001": give the Lambda API's URL`},
	} {
		code, out := startsWith(t, append(append([]string{}, base...), tc.args...), tc.env)
		if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "address taken") || strings.Contains(out, "s3cret") {
			t.Errorf("%q %v: exit status %d, want 2 and %q before the address is taken; output:\n%s", tc.args, tc.env, code, tc.want, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "swfd.db")); !os.IsNotExist(err) {
			t.Fatalf("%q %v created the database", tc.args, tc.env)
		}
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // the look for credentials at start stays on this machine
	for _, ok := range []string{"http://127.0.0.1:9001", "https://lambda.eu-west-1.amazonaws.com", "HTTP://localhost:4566/", "http://127.0.0.1:9001/lambda"} {
		code, out := startsWith(t, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--lambda-endpoint", ok}, nil)
		if code != 0 || !strings.Contains(out, "swfd listening") {
			t.Errorf("--lambda-endpoint %s: exit status %d; output:\n%s", ok, code, out)
		}
	}
}

// A word a flag does not know (--clock, --log-level, --log-format) is
// refused naming the flag, or the variable that set it, which is what
// the operator must correct, before the address is taken.
func TestWordsThatMeanNothing(t *testing.T) {
	base := []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--clock", "bogus"}, nil, `--clock "bogus": use real, manual or skip`},
		{nil, map[string]string{"SWFD_CLOCK": "Manual"}, `SWFD_CLOCK="Manual": use real, manual or skip`},
		{[]string{"--log-level", "loud"}, nil, `--log-level "loud": use debug, info, warn or error`},
		{nil, map[string]string{"SWFD_LOG_LEVEL": "verbose"}, `SWFD_LOG_LEVEL="verbose": use debug, info, warn or error`},
		{[]string{"--log-format", "xml"}, nil, `--log-format "xml": use text or json`},
		{nil, map[string]string{"SWFD_LOG_FORMAT": "logfmt"}, `SWFD_LOG_FORMAT="logfmt": use text or json`},
		{[]string{"--dev", "--db", "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")}, nil, "--dev keeps everything in memory (a reset drops it all); it cannot be used with --db sqlite:"},
	} {
		code, out := startsWith(t, append(append([]string{}, base...), tc.args...), tc.env)
		if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "address taken") || strings.Contains(out, "s3cret") {
			t.Errorf("%q %v: exit status %d, want 2 and %q before the address is taken; output:\n%s", tc.args, tc.env, code, tc.want, out)
		}
	}
	code, out := startsWith(t, base, map[string]string{"SWFD_CLOCK": "skip", "SWFD_LOG_LEVEL": "DEBUG", "SWFD_LOG_FORMAT": "json"})
	if code != 0 || !strings.Contains(out, `"msg":"swfd listening"`) || !strings.Contains(out, `"clock":"skip"`) {
		t.Errorf("good values: exit status %d; output:\n%s", code, out)
	}
}

// A flag that only means something beside another is refused without it,
// exit status 2, rather than ignored: --metrics-task-lists with the
// metrics off, --clock-unsafe with the real clock (it allows a manual or
// skip clock on a database that keeps its data).
func TestFlagsThatNeedAnother(t *testing.T) {
	base := []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--metrics=false", "--metrics-task-lists"}, nil, "--metrics-task-lists adds series to the metrics, which --metrics=false turns off"},
		{[]string{"--metrics-task-lists"}, map[string]string{"SWFD_METRICS": "false"}, "--metrics-task-lists adds series to the metrics, which SWFD_METRICS=false turns off"},
		{[]string{"--clock-unsafe"}, nil, "--clock-unsafe allows --clock manual or skip on a database that keeps its data; the clock is real"},
		{nil, map[string]string{"SWFD_CLOCK_UNSAFE": "true", "SWFD_CLOCK": "real"}, "SWFD_CLOCK_UNSAFE=true allows --clock manual or skip"},
	} {
		code, out := startsWith(t, append(append([]string{}, base...), tc.args...), tc.env)
		if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "swfd listening") {
			t.Errorf("%q %v: exit status %d, want 2 and %q; output:\n%s", tc.args, tc.env, code, tc.want, out)
		}
	}
}

// --addr-file and --access-log may not name the SQLite database's own
// files (a slip of the value): the address file was renamed onto the
// database, which swfd then could not write and which was gone once it
// stopped; the access log's lines were appended to the database file. Both
// are refused at start, exit status 2, before the database is created.
func TestFilesThatAreTheDatabaseAreRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "swfd.db")
	for _, tc := range []struct{ flag, path string }{
		{"--addr-file", db},
		{"--access-log", db},
		{"--access-log", db + "-wal"},
		{"--addr-file", filepath.Join(dir, ".", "swfd.db")},
	} {
		code, out := startsWith(t, []string{"--addr", "127.0.0.1:0", "--db", "sqlite:" + db, tc.flag, tc.path}, nil)
		if code != 2 || !strings.Contains(out, tc.flag+" "+tc.path+" is the database's") {
			t.Errorf("%s %s with --db sqlite:%s: exit status %d, want 2 and a refusal; output:\n%s", tc.flag, tc.path, db, code, out)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Fatalf("%s %s: the database was created (%v)", tc.flag, tc.path, err)
		}
	}
}

// The start-up line names every address swfd listens on, as the address
// file does: the API's, --metrics-addr's and --pprof-addr's, each as bound
// (a port the kernel picked for :0 included), so that a script reading the
// log finds the profiles as it finds the metrics.
func TestListeningLineNamesEveryAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--metrics-addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0"}, noenv, &out)
	}()
	waitLogged(t, &out, "swfd listening", 1)
	var line string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, `msg="swfd listening"`) {
			line = l
		}
	}
	addrs := map[string]string{}
	for _, key := range []string{"addr", "metrics", "pprof"} {
		m := regexp.MustCompile(` ` + key + `=(127\.0\.0\.1:[0-9]+)( |$)`).FindStringSubmatch(line)
		if m == nil || strings.HasSuffix(m[1], ":0") {
			t.Fatalf("the listening line names no %s address as bound: %s", key, line)
		}
		addrs[key] = m[1]
	}
	for _, u := range []string{"http://" + addrs["addr"] + "/healthz", "http://" + addrs["metrics"] + "/metrics", "http://" + addrs["pprof"] + "/debug/pprof/"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", u, resp.Status)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An --addr-file in a directory swfd cannot write a file in (missing, or
// read-only) is refused at start naming the path given and its directory,
// not the hidden file swfd writes first and renames (".NAME.123456789"),
// which the operator never named.
func TestAddrFileInAnUnwritableDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "swfd.addr")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out logbuf.Buffer
	code := command(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--addr-file", path}, noenv, &out)
	want := fmt.Sprintf("--addr-file %s: cannot create a file in %s: no such file or directory", path, filepath.Dir(path))
	if code == 0 || !strings.Contains(out.String(), want) || strings.Contains(out.String(), ".swfd.addr.") {
		t.Errorf("exit status %d, want it to say %q and name no hidden file:\n%s", code, want, out.String())
	}
}
