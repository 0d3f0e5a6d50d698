package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/server"
)

// hugeHistory starts a run and signals it n times with inputs of 32,768
// three-byte characters (98 KB each, the largest input SWF takes: a
// four-byte character counts two of the 32,768): with n = 1,000 a history
// of about 98 MB (the one that took swfd to 2.3 GB was 131 MB, when swfd
// still counted a four-byte character as one).
func hugeHistory(t *testing.T, c *swf.Client, n int) *types.WorkflowExecution {
	t.Helper()
	ctx := context.Background()
	h := &wfHarness{t: t, ctx: ctx, c: c, domain: "huge",
		wfType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}
	h.must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("huge"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	h.must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("huge"), Name: h.wfType.Name, Version: h.wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("d")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("30"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	runID := h.start("huge")
	input := strings.Repeat("域", 32768)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if _, err := c.SignalWorkflowExecution(ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String("huge"), WorkflowId: aws.String("huge"),
					SignalName: aws.String(fmt.Sprint("s", i)), Input: aws.String(input)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return &types.WorkflowExecution{WorkflowId: aws.String("huge"), RunId: aws.String(runID)}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Three clients ask for the huge history and never read the answer: swfd
// lets go of what it holds for them once the write timeout has passed
// (it held 400 MB for over 30 s, for as long as they stayed).
func TestClientsThatNeverReadAreCutOff(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{Config: func(c *server.Config) { c.WriteTimeout = time.Second }})
	exec := hugeHistory(t, srv.Client(), 1000)
	base := heapInUse()
	addr := strings.TrimPrefix(srv.URL, "http://")
	body := fmt.Sprintf(`{"domain":"huge","execution":{"workflowId":%q,"runId":%q}}`, *exec.WorkflowId, *exec.RunId)
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: SimpleWorkflowService.GetWorkflowExecutionHistory\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
		// The answer's headers, and not a byte more than the socket
		// holds: the answer is ready and being sent.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 4096), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("history: %v %v", resp, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		held := int64(heapInUse()) - int64(base)
		if held < 32<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("swfd still holds %d MB for clients that do not read", held>>20)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A history page stops at about a megabyte of events, whatever
// maximumPageSize asks for: one call for the huge history answered all of it.
// The decision task's pages are bounded the same way, and following
// nextPageToken still yields every event, in order, once.
func TestHistoryPagesStopAtTheByteBudget(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{})
	c := srv.Client()
	const signals = 60
	exec := hugeHistory(t, c, signals)
	ctx := context.Background()
	const event = 3 * 32768 // a signal's input, in bytes of JSON
	check := func(what string, pages [][]types.HistoryEvent) {
		t.Helper()
		var next int64 = 1
		for i, p := range pages {
			bytes := 0
			for _, e := range p {
				if e.EventId != next {
					t.Fatalf("%s: page %d has event %d, want %d", what, i, e.EventId, next)
				}
				next++
				if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
					bytes += len(aws.ToString(a.Input))
				}
			}
			if bytes > runs.HistoryPageBytes {
				t.Fatalf("%s: page %d holds %d bytes of input, over the %d budget", what, i, bytes, runs.HistoryPageBytes)
			}
			if i < len(pages)-1 && bytes+2*event <= runs.HistoryPageBytes {
				t.Fatalf("%s: page %d ended early with only %d bytes", what, i, bytes)
			}
		}
		if next < signals+3 {
			t.Fatalf("%s: the pages hold events up to %d, want at least %d", what, next-1, signals+2)
		}
	}

	var pages [][]types.HistoryEvent
	in := &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("huge"), Execution: exec, MaximumPageSize: 1000}
	for {
		out, err := c.GetWorkflowExecutionHistory(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, out.Events)
		if out.NextPageToken == nil {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	if len(pages) < 5 {
		t.Fatalf("%d signals of 131 KB came in %d pages", signals, len(pages))
	}
	check("history", pages)

	pages = nil
	poll := &swf.PollForDecisionTaskInput{Domain: aws.String("huge"), TaskList: &types.TaskList{Name: aws.String("d")}, MaximumPageSize: 1000}
	for {
		out, err := c.PollForDecisionTask(ctx, poll)
		if err != nil {
			t.Fatal(err)
		}
		if out.TaskToken == nil {
			t.Fatal("no decision task")
		}
		pages = append(pages, out.Events)
		if out.NextPageToken == nil {
			break
		}
		poll.NextPageToken = out.NextPageToken
	}
	check("decision task", pages)
}
