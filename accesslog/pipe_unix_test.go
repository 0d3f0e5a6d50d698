//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package accesslog_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/accesslog"
	"github.com/swfd/swfd/frontend"
)

// within runs f and fails the test if it has not returned within a few
// seconds; unblock is then called to let it go.
func within(t *testing.T, what string, f func() error, unblock func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		unblock()
		<-done
		t.Fatalf("%s had not returned after 5 s", what)
		return nil
	}
}

// openReader opens the read end of a named pipe without waiting for a
// writer.
func openReader(t *testing.T, path string) *os.File {
	t.Helper()
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// An access log that is a named pipe no process reads yet (a log shipper
// started after swfd) is opened at once: opening it used to wait for a
// reader, which held swfd's start, or a SIGHUP, for as long as none came.
// The lines wait in the pipe for the reader, which gets them when it
// comes.
func TestOpenANamedPipeWithNoReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	var l *accesslog.Log
	err := within(t, "Open of a named pipe with no reader", func() (err error) {
		l, err = accesslog.Open(path)
		return err
	}, func() { openReader(t, path).Close() })
	if err != nil {
		t.Fatalf("Open of a named pipe with no reader: %v", err)
	}
	defer l.Close()
	l.Call(&frontend.Call{RequestID: "before-the-reader", Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatalf("a line written to a pipe nobody reads yet: %v", err)
	}
	r := openReader(t, path)
	defer r.Close()
	line, err := bufio.NewReader(r).ReadBytes('\n')
	var got struct {
		RequestID string `json:"request_id"`
	}
	if err != nil || json.Unmarshal(line, &got) != nil || got.RequestID != "before-the-reader" {
		t.Fatalf("the reader read %q, %v", line, err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatalf("Reopen of the named pipe: %v", err)
	}
}

// A named pipe whose reader does not keep up (a shipper stalled, or not
// started) never holds up a call: once the pipe is full, the lines wait
// in the log's buffer, and past it are dropped whole and counted, as for
// any write that fails. Writing to the full pipe used to wait for the
// reader, with the log's lock held, so every API call waited with it.
// Once the reader drains the pipe, the lines kept are written.
func TestFullNamedPipeHoldsNoCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	l, err := accesslog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := openReader(t, path)
	defer r.Close()
	drain := func() {
		go func() {
			buf := make([]byte, 64<<10)
			for {
				if _, err := r.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	// Far more than a pipe holds (64 KiB on Linux, up to 1 MiB when
	// raised) and the log's buffer together.
	const calls = 20000
	err = within(t, "logging calls to a full pipe", func() error {
		for i := range calls {
			l.Call(&frontend.Call{RequestID: "request-" + strconv.Itoa(i), Operation: "PollForActivityTask", Domain: "orders", Status: 200})
		}
		return l.Flush()
	}, drain)
	if err == nil {
		t.Fatal("Flush into a full pipe reported no error")
	}
	if l.Dropped() == 0 {
		t.Fatal("no line dropped for a full pipe")
	}
	// The reader catches up: the lines kept are written, whole.
	catchUp(t, l, readUntilEnd(r, nil))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// readUntilEnd reads the log's lines from r, once start is closed (at
// once if start is nil), and sends "the-end" when the line of the call with
// that request id comes, or what went wrong first (a read that failed, a
// line that is not whole JSON).
func readUntilEnd(r io.Reader, start <-chan struct{}) <-chan string {
	got := make(chan string, 1)
	go func() {
		if start != nil {
			<-start
		}
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				got <- "read: " + err.Error()
				return
			}
			var v struct {
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &v) != nil {
				got <- "not a line: " + line
				return
			}
			if v.RequestID == "the-end" {
				got <- v.RequestID
				return
			}
		}
	}()
	return got
}

// catchUp checks that l, whose reader reads again (readUntilEnd's got),
// writes out what it kept and then a last line, "the-end", which the
// reader gets whole, within 10 s.
func catchUp(t *testing.T, l *accesslog.Log, got <-chan string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	flushed := func() {
		t.Helper()
		for l.Flush() != nil {
			if time.Now().After(deadline) {
				t.Fatal("the log never caught up once the reader read")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	flushed()
	l.Call(&frontend.Call{RequestID: "the-end", Status: 200})
	flushed()
	select {
	case s := <-got:
		if s != "the-end" {
			t.Fatalf("the reader: %s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the last line never came")
	}
}
