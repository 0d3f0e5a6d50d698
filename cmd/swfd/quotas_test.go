package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// --quotas FILE: a bad file is refused at start with an error naming what
// is wrong; a good one throttles as it says; SIGHUP reloads it, and a bad
// file then is logged while the quotas in force stay.
func TestQuotasFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "quotas.json")
	os.WriteFile(path, []byte(`{"operations": {"ListDomains": {"bucketSize": 0, "refillPerSecond": 1}}}`), 0o600)
	err := run(context.Background(), []string{"--db", "sqlite::memory:", "--quotas", path}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--quotas: quota file "+path+": operations.ListDomains: bucketSize 0") {
		t.Fatalf("a bad quota file at start: %v", err)
	}
	err = run(context.Background(), []string{"--db", "sqlite::memory:", "--quotas", filepath.Join(dir, "none.json")}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--quotas: quota file") {
		t.Fatalf("a missing quota file at start: %v", err)
	}
	// A word that is not one of the two reads as a file that is not
	// there; the error says which words there are.
	err = run(context.Background(), []string{"--db", "sqlite::memory:", "--quotas", "AWS"}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `the values are "off" and "aws"`) {
		t.Fatalf("--quotas AWS at start: %v", err)
	}

	// aws needs no file.
	actx, acancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer acancel()
	var aout logbuf.Buffer
	if err := run(actx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--quotas", "aws"}, noenv, &aout); err != nil || !strings.Contains(aout.String(), "quotas=aws") {
		t.Fatalf("--quotas aws: %v\n%s", err, aout.String())
	}

	os.WriteFile(path, []byte(`{"base": "off", "operations": {"ListDomains": {"bucketSize": 2, "refillPerSecond": 0.001}}}`), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	env := func(k string) string {
		if k == "SWFD_QUOTAS" {
			return path
		}
		return ""
	}
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}, env, &out)
	}()
	waitLogged(t, &out, "swfd listening", 1)
	addr := regexp.MustCompile(` addr=(\S+)`).FindStringSubmatch(out.String())
	if addr == nil || !strings.Contains(out.String(), "quotas="+path) {
		t.Fatalf("not logged: %s", out.String())
	}
	listDomains := func() (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr[1]+"/", strings.NewReader(`{"registrationStatus":"REGISTERED"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(body)
	}
	for i := range 2 {
		if code, _, body := listDomains(); code != 200 {
			t.Fatalf("call %d within the bucket: %d %s", i+1, code, body)
		}
	}
	code, errType, body := listDomains()
	if code != 400 || !strings.HasPrefix(errType, "ThrottlingException") ||
		body != `{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}` {
		t.Fatalf("past the bucket: %d %q %s", code, errType, body)
	}

	// A bad file at reload: logged, and the quotas in force stay (with the
	// defaults instead, ListDomains would have 100 tokens).
	os.WriteFile(path, []byte(`{"base": "off", "operations": {"ListDomain": {"unlimited": true}}}`), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLogged(t, &out, "quota file not reloaded; the previous quotas stay in force", 1)
	if !strings.Contains(out.String(), `\"ListDomain\" is not an SWF operation`) && !strings.Contains(out.String(), `"ListDomain" is not an SWF operation`) {
		t.Errorf("the reload error does not say what is wrong:\n%s", out.String())
	}
	if code, _, _ := listDomains(); code != 400 {
		t.Fatalf("after a bad reload ListDomains answered %d: the old quotas are gone", code)
	}

	// A good file at reload is in force at once.
	os.WriteFile(path, []byte(`{"base": "off", "operations": {"ListDomains": {"unlimited": true}}}`), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLogged(t, &out, "quota file", 3)
	waitLogged(t, &out, "reloaded on SIGHUP", 1)
	for i := range 5 {
		if code, _, body := listDomains(); code != 200 {
			t.Fatalf("call %d after lifting the limit: %d %s", i+1, code, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

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
