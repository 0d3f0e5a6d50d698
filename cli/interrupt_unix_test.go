//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package cli

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// Ctrl-C during a call (a long poll) exits 130 with no message, as the
// AWS CLI does (it writes a line break to stdout).
func TestInterrupt(t *testing.T) {
	setCreds(t)
	arrived, done := make(chan struct{}, 1), make(chan struct{})
	f := newFake(t, func(string, map[string]any) (int, string) {
		arrived <- struct{}{}
		select { // a long poll
		case <-done:
		case <-time.After(10 * time.Second):
		}
		return 200, "{}"
	})
	go func() {
		<-arrived
		syscall.Kill(os.Getpid(), syscall.SIGINT) // Main is listening for it
	}()
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, "poll-for-activity-task", "--domain", "d", "--task-list", "name=t")
	close(done)
	if r.RC != 130 || r.Stderr != "" || r.Stdout != "\n" {
		t.Errorf("rc=%d stdout %q stderr %q", r.RC, r.Stdout, r.Stderr)
	}
}

// Ctrl-C while swf history --follow waits for its next look exits 130
// with a line break, as during a call: before, it exited 0 when the
// interrupt came between two looks, so the status depended on timing.
func TestInterruptDuringFollow(t *testing.T) {
	setCreds(t)
	f := extraFake(t)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	var out logbuf.Buffer
	var errs bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Main([]string{"history", "--domain", "d", "--workflow-id", "w1", "--follow", "--interval", "3600"},
			strings.NewReader(""), &out, &errs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "DecisionTaskScheduled") {
		if time.Now().After(deadline) {
			t.Fatalf("no events after 30 s:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The events are printed: the follow loop now waits an hour for its
	// next look (Main is listening for the signal).
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case rc := <-done:
		if rc != 130 || errs.String() != "" || !strings.HasSuffix(out.String(), "\n\n") {
			t.Errorf("rc=%d stdout %q stderr %q", rc, out.String(), errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("history --follow did not stop on Ctrl-C")
	}
}
