package accesslog

import (
	"fmt"
	"path/filepath"
	"testing"
)

// A Reopen (SIGHUP) that meets the log's Close (the server stopping) neither
// crashes nor leaves a reopened file behind a closed log: after both, the log
// is closed and takes no lines. Run with -race, the old Reopen's look at the
// file without the lock was reported as a race, and when Close came between
// that look and the swap it closed a nil file.
func TestReopenMeetingClose(t *testing.T) {
	dir := t.TempDir()
	for i := range 200 {
		l, err := Open(filepath.Join(dir, fmt.Sprintf("access-%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- l.Reopen() }()
		if err := l.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", i, err)
		}
		if err := <-done; err != nil {
			t.Fatalf("round %d: Reopen: %v", i, err)
		}
		l.mu.Lock()
		f := l.f
		l.mu.Unlock()
		if f != nil {
			t.Fatalf("round %d: a Reopen that met Close left the closed log with an open file", i)
		}
	}
}
