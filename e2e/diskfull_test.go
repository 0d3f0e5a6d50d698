//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/internal/swfdtest"
)

// smallFS mounts a tmpfs of size bytes for the test (CI runs as root); the
// test is skipped where mounting is not allowed.
func smallFS(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	return dir
}

// fill writes a file until the file system has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// The last bytes a page at a time, so that none is left.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
}

// The SQLite database's file system fills up under writes: each write that
// finds no room fails with a 503 that says the storage is full, keeps
// nothing of itself, reads go on, /readyz says not ready; once space is
// freed, writes succeed again without a restart and nothing acknowledged
// is lost.
func TestDiskFull(t *testing.T) {
	dir := smallFS(t, 24<<20)
	h := newWFHarness(t, swfdtest.Options{DB: "sqlite:" + filepath.Join(dir, "swfd.db")})
	ready := func() int {
		resp, err := http.Get(h.srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ready(); code != 200 {
		t.Fatalf("/readyz %d before the disk fills", code)
	}

	acked := map[string]string{} // workflowId → runId
	start := func(id string) error {
		out, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain),
			WorkflowId: aws.String(id), WorkflowType: h.wfType, Input: aws.String(strings.Repeat("x", 32<<10))})
		if err == nil {
			acked[id] = *out.RunId
		}
		return err
	}
	for i := range 20 {
		if err := start(fmt.Sprint("before-", i)); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler)

	var refused error
	for i := range 5000 {
		if refused = start(fmt.Sprint("full-", i)); refused != nil {
			break
		}
	}
	var ae smithy.APIError
	var re interface{ HTTPStatusCode() int }
	if !errors.As(refused, &ae) || ae.ErrorCode() != "ServiceUnavailable" || !strings.Contains(ae.ErrorMessage(), "storage is full") ||
		!errors.As(refused, &re) || re.HTTPStatusCode() != 503 {
		t.Fatalf("a write on a full disk: %v, want a 503 ServiceUnavailable saying the storage is full", refused)
	}
	// Signals and decisions are refused the same way; nothing of them is kept.
	_, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain),
		WorkflowId: aws.String("before-0"), SignalName: aws.String("refused"), Input: aws.String(strings.Repeat("y", 32<<10))})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" {
		t.Fatalf("a signal on a full disk: %v", err)
	}
	// Reads go on.
	if _, err := h.c.DescribeDomain(h.ctx, &swf.DescribeDomainInput{Name: aws.String(h.domain)}); err != nil {
		t.Fatalf("a read on a full disk: %v", err)
	}
	if got := len(h.history("before-0", acked["before-0"])); got != 2 {
		t.Fatalf("before-0 has %d events on a full disk, want 2", got)
	}
	if code := ready(); code != 503 {
		t.Fatalf("/readyz %d on a full disk, want 503", code)
	}

	// Space comes back: swfd carries on.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code := ready(); code != 200 {
		t.Fatalf("/readyz %d once space is freed", code)
	}
	if err := start("after"); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
	h.must(h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain),
		WorkflowId: aws.String("before-0"), SignalName: aws.String("after")}))
	for id, runID := range acked {
		evs := h.history(id, runID)
		for i, e := range evs {
			if e.EventId != int64(i+1) {
				t.Fatalf("%s: event %d at position %d", id, e.EventId, i+1)
			}
		}
		want := 2
		if id == "before-0" {
			want = 3
		}
		if len(evs) != want || evs[0].EventType != types.EventTypeWorkflowExecutionStarted {
			t.Fatalf("%s: %v, want %d events", id, eventTypes(evs), want)
		}
	}
	t.Logf("%d executions acknowledged, all kept", len(acked))
}
