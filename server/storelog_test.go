package server

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// tallyLines finds the log's lines of msg at level and adds up the counts
// of lines left out that they carry.
func tallyLines(logBuf *logbuf.Buffer, level, msg string) (lines []string, counted int) {
	lines = regexp.MustCompile(`level=`+level+` msg="`+regexp.QuoteMeta(msg)+`".*`).FindAllString(logBuf.String(), -1)
	for _, l := range lines {
		if m := regexp.MustCompile(`suppressed=(\d+)`).FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			counted += n
		}
	}
	return lines, counted
}

// stormOfWrites sends n calls that write, each answered status, then one
// call at a time until the lines of msg account for every call sent; it
// fails the test unless those lines are the burst and a few a second.
func stormOfWrites(t *testing.T, s *Server, logBuf *logbuf.Buffer, n, status int, level, msg string) {
	t.Helper()
	began := time.Now()
	sent := 0
	send := func() {
		if code, body := registerDomain(t, s, fmt.Sprint("storm-", sent)); code != status {
			t.Fatalf("call %d: %d %s, want %d", sent, code, body, status)
		}
		sent++
	}
	for range n {
		send()
	}
	waitUntil(t, "the lines to account for every call", func() bool {
		lines, counted := tallyLines(logBuf, level, msg)
		if len(lines)+counted >= sent {
			return true
		}
		send()
		return false
	})
	secs := time.Since(began).Seconds()
	lines, counted := tallyLines(logBuf, level, msg)
	if max := storeLineBurst + int(storeLinesPerSecond*secs) + 1; len(lines) > max || len(lines)+counted != sent {
		t.Fatalf("%q: %d lines and %d counted as left out for %d calls in %.1fs (at most %d lines)", msg, len(lines), counted, sent, secs, max)
	}
}

// A storm of calls refused because the storage refuses writes (here its
// directory was removed) writes a few warnings a second, and the lines
// written say how many were left out; before, each call wrote a line.
func TestRefusedWritesAreLoggedRateLimited(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, logBuf := openSQLiteServer(t, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if code, _ := probe(t, s, "/healthz"); code != 503 {
		t.Fatalf("/healthz with the data directory removed: %d", code)
	}
	stormOfWrites(t, s, logBuf, 2000, 503, "WARN", "storage is unavailable: a call failed and nothing of it was applied")
	if !strings.Contains(logBuf.String(), "suppressed=") {
		t.Fatalf("log:\n%s", logBuf.String())
	}
}
