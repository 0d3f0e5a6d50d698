package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noenv(string) string { return "" }

const authFile = `{"principals": [{"name": "op", "accessKeys": [{"accessKeyId": "AKIDOP", "secretAccessKey": "op-secret-value"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}`

func TestRefusesNonLoopbackWithoutAuth(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		var out syncBuf
		err := run(context.Background(), []string{"--addr", addr, "--db", "sqlite::memory:"}, noenv, &out)
		if err == nil || !strings.Contains(err.Error(), "refusing to listen on "+addr+" without --auth") || !strings.Contains(err.Error(), "--insecure") {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	// Loopback needs nothing; --insecure (or SWFD_INSECURE) allows the rest, with a warning.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:"}, noenv, &syncBuf{}); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out syncBuf
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
	if err := run(ctx, []string{"--auth", bad, "--db", "sqlite::memory:"}, noenv, &syncBuf{}); err == nil || !strings.Contains(err.Error(), "no principals") {
		t.Fatalf("bad file: %v", err)
	}
	good := filepath.Join(dir, "auth.json")
	os.WriteFile(good, []byte(authFile), 0o644)
	var out syncBuf
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

// SIGHUP reloads the auth file; a bad file is reported and the old one
// stays in force.
func TestSIGHUPReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(authFile), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
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
