package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
)

// A clock that moves is refused with a database that keeps its data,
// unless --clock-unsafe says so.
func TestClockAndDevFlagsGuardPersistentStores(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--db", db, "--clock", "manual"}, "firing real timers early; use --db sqlite::memory:, or add --clock-unsafe"},
		{[]string{"--clock", "fast"}, `--clock "fast": use real, manual or skip`},
		{[]string{"--dev", "--db", db}, "--dev keeps everything in memory (a reset drops it all); it cannot be used with --db " + db},
	}
	for _, c := range cases {
		err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, c.args...), noenv, &logbuf.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want %q", c.args, err, c.want)
		}
	}
	// With --clock-unsafe the persistent store gets its manual clock.
	ctx, cancel := context.WithCancel(context.Background())
	url, done := startSwfd(t, ctx, "--db", db, "--clock", "manual", "--clock-unsafe")
	if got := getClock(t, url); !strings.Contains(got, `"mode":"manual"`) {
		t.Fatalf("GET /swfd/clock: %s", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// startSwfd runs swfd with args on a free port and returns its URL, read
// from the log.
func startSwfd(t *testing.T, ctx context.Context, args ...string) (string, chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), noenv, pw)
		pw.Close()
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "addr="); i >= 0 && strings.Contains(line, "swfd listening") {
			go io.Copy(io.Discard, pr)
			return "http://" + strings.Fields(line[i+5:])[0], done
		}
	}
	t.Fatalf("swfd never said where it listens: %v", <-done)
	return "", nil
}

func getClock(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/swfd/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /swfd/clock: %d %s", resp.StatusCode, body)
	}
	return string(body)
}

// swfd --dev keeps everything in memory, answers a reset, and waits 5 s in
// a long poll unless told otherwise.
func TestDevMode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	url, done := startSwfd(t, ctx, "--dev", "--clock", "manual")
	post := func(path, body string) (int, string) {
		resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/swfd/clock/advance", `{"duration":"1h"}`); code != 200 {
		t.Fatalf("advance: %d %s", code, body)
	}
	before := getClock(t, url)
	if code, body := post("/swfd/dev/reset", ""); code != 200 || body != "{}" {
		t.Fatalf("POST /swfd/dev/reset: %d %s; want 200 {}", code, body)
	}
	if after := getClock(t, url); after != before {
		t.Errorf("the reset moved the clock: %s, then %s", before, after)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
