package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/sqlite"
)

// `swfd backup` under load: workers start and signal executions without
// pause while the copy is taken. Every call acknowledged before the backup
// began is in the copy, every history in it is contiguous, and a server
// started on the copy serves it and takes new work. The database, its WAL
// and the copy are readable by their owner only.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "data", "swfd.db")
	h := newWFHarness(t, swfdtest.Options{DB: "sqlite:" + dbPath})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	type acked struct {
		runID   string
		signals int
	}
	var mu sync.Mutex
	done := map[string]acked{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("bk-%d-%d", g, i)
				out, err := h.c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain),
					WorkflowId: aws.String(id), WorkflowType: h.wfType, Input: aws.String(id)})
				if err != nil {
					return // the test is stopping the load
				}
				mu.Lock()
				done[id] = acked{runID: *out.RunId}
				mu.Unlock()
				for s := 1; s <= 3; s++ {
					if _, err := h.c.SignalWorkflowExecution(ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain),
						WorkflowId: aws.String(id), RunId: out.RunId, SignalName: aws.String(fmt.Sprint("s", s))}); err != nil {
						return
					}
					mu.Lock()
					done[id] = acked{runID: *out.RunId, signals: s}
					mu.Unlock()
				}
			}
		})
	}
	waitFor(t, "some load", func() bool { mu.Lock(); defer mu.Unlock(); return len(done) >= 40 })

	mu.Lock()
	before := make(map[string]acked, len(done))
	for k, v := range done {
		before[k] = v
	}
	mu.Unlock()
	copyPath := filepath.Join(dir, "copy.db")
	if _, err := sqlite.Backup(context.Background(), dbPath, copyPath, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	during := len(done) - len(before)
	mu.Unlock()
	stop()
	wg.Wait()
	t.Logf("%d executions acknowledged before the backup, %d more while it ran", len(before), during)

	for _, p := range []string{dbPath, dbPath + "-wal", copyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(filepath.Dir(dbPath)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the data directory: %v %v, want mode 0700", fi.Mode().Perm(), err)
	}

	restored := swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + copyPath})
	c := restored.Client()
	bg := context.Background()
	contiguous := func(id, runID string) (signals int) {
		t.Helper()
		p := swf.NewGetWorkflowExecutionHistoryPaginator(c, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(h.domain),
			Execution: &types.WorkflowExecution{WorkflowId: aws.String(id), RunId: aws.String(runID)}})
		var next int64 = 1
		for p.HasMorePages() {
			page, err := p.NextPage(bg)
			if err != nil {
				t.Fatalf("history of %s in the copy: %v", id, err)
			}
			for _, e := range page.Events {
				if e.EventId != next {
					t.Fatalf("history of %s in the copy: event %d where %d belongs", id, e.EventId, next)
				}
				next++
				if e.EventType == types.EventTypeWorkflowExecutionSignaled {
					signals++
				}
			}
		}
		return signals
	}
	for id, a := range before {
		if got := contiguous(id, a.runID); got < a.signals {
			t.Fatalf("%s: %d signals acknowledged before the backup, %d in the copy", id, a.signals, got)
		}
	}
	// Every execution in the copy, including those caught mid-load.
	in := &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}}
	n := 0
	for {
		out, err := c.ListOpenWorkflowExecutions(bg, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.ExecutionInfos {
			contiguous(*e.Execution.WorkflowId, *e.Execution.RunId)
			n++
		}
		if out.NextPageToken == nil {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	if n < len(before) {
		t.Fatalf("the copy lists %d open executions, fewer than the %d acknowledged before the backup", n, len(before))
	}
	// The restored server takes new work.
	if _, err := c.StartWorkflowExecution(bg, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain),
		WorkflowId: aws.String("after-restore"), WorkflowType: h.wfType}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.PollForDecisionTask(bg, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("deciders")}}); err != nil || out.TaskToken == nil {
		t.Fatalf("a decision task from the restored server: %v", err)
	}
}
