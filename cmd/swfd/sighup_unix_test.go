//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

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
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/internal/swfdtest"
)

// SIGHUP reloads the auth file; a bad file is reported and the old one
// stays in force.
func TestSIGHUPReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(authFile), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--auth", path}, noenv, &out)
	}()
	waitFor := func(s string, n int) {
		t.Helper()
		for i := 0; i < 200; i++ {
			if strings.Count(out.String(), s) >= n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("never logged %q %d times:\n%s", s, n, out.String())
	}
	waitFor("swfd listening", 1) // the SIGHUP handler is installed by now
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("auth file loaded", 2)
	os.WriteFile(path, []byte(`{`), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("auth file not reloaded", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "op-secret-value") {
		t.Fatal("secret logged")
	}
}

// Without --auth or TLS, SIGHUP is logged and ignored: swfd goes on.
func TestSIGHUPWithoutAuthKeepsRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}, noenv, &out)
	}()
	waitLogged(t, &out, "swfd listening", 1)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLogged(t, &out, "SIGHUP: nothing to reload", 1)
	select {
	case err := <-done:
		t.Fatalf("swfd stopped on SIGHUP: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// With --tls-cert and --tls-key swfd serves HTTPS and SIGHUP reloads the
// certificate; a certificate without its key is refused at start.
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	cert := swfdtest.NewCert(t, dir, "swfd")
	// Refused as the flags are read: before the address is taken and the
	// log says the store is being opened.
	for _, args := range [][]string{{"--tls-cert", cert.CertFile}, {"--tls-key", cert.KeyFile}} {
		var log logbuf.Buffer
		err := run(context.Background(), append([]string{"--db", "sqlite::memory:", "--addr", "127.0.0.1:0"}, args...), noenv, &log)
		if err == nil || !strings.Contains(err.Error(), "--tls-key") || !strings.Contains(err.Error(), "--tls-cert") {
			t.Fatalf("%s alone: %v", args[0], err)
		}
		if strings.Contains(log.String(), "address taken") {
			t.Errorf("%s alone: refused only after the address was taken:\n%s", args[0], log.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	env := func(k string) string {
		switch k {
		case "SWFD_TLS_CERT":
			return cert.CertFile
		case "SWFD_TLS_KEY":
			return cert.KeyFile
		}
		return ""
	}
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}, env, &out) }()
	waitLogged(t, &out, "swfd listening", 1)
	addr := regexp.MustCompile(`swfd listening" addr=(\S+) tls=true`).FindStringSubmatch(out.String())
	if addr == nil {
		t.Fatalf("log: %s", out.String())
	}
	resp, err := swfdtest.TLSHTTPClient(cert.Pool).Get("https://" + addr[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("healthz over TLS: %d %s", resp.StatusCode, resp.Proto)
	}
	// Logged once at start, and again on SIGHUP.
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLogged(t, &out, "TLS certificate loaded", 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// --metrics-addr serves /metrics on its own address (and the API's does
// not); --access-log writes a line per call, and SIGHUP reopens it.
func TestMetricsAndAccessLogFlags(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	if err := run(context.Background(), []string{"--db", "sqlite::memory:", "--metrics=false", "--metrics-addr", "127.0.0.1:0"}, noenv, &logbuf.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "--metrics-addr") {
		t.Fatalf("--metrics-addr with --metrics=false: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--metrics-addr", "127.0.0.1:0", "--access-log", logPath}, noenv, &out)
	}()
	waitLogged(t, &out, "swfd listening", 1)
	line := out.String()
	api := regexp.MustCompile(` addr=(\S+)`).FindStringSubmatch(line)
	met := regexp.MustCompile(` metrics=(\S+)`).FindStringSubmatch(line)
	if api == nil || met == nil || met[1] == "api" {
		t.Fatalf("addresses not logged: %s", line)
	}
	if _, err := promtest.Scrape(nil, "http://"+met[1]+"/metrics"); err != nil {
		t.Errorf("metrics address: %v", err)
	}
	if fams, err := promtest.Scrape(nil, "http://"+api[1]+"/metrics"); err == nil {
		t.Errorf("/metrics served on the API's address too: %d families", len(fams))
	}
	post := func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+api[1]+"/", strings.NewReader(`{"registrationStatus":"REGISTERED"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post()
	waitFile := func(path, want string) {
		t.Helper()
		for i := 0; i < 200; i++ {
			if b, _ := os.ReadFile(path); strings.Count(string(b), want) == 1 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		b, _ := os.ReadFile(path)
		t.Fatalf("%s: want one %q in:\n%s", path, want, b)
	}
	waitFile(logPath, `"operation":"ListDomains"`)
	os.Rename(logPath, logPath+".1")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLogged(t, &out, "reloaded on SIGHUP", 1)
	post()
	waitFile(logPath, `"operation":"ListDomains"`)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

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
