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
	"github.com/swfd/swfd/server"
)

// hugeHistory starts a run and signals it 1,000 times with inputs of
// 32,768 four-byte characters (131 KB each, the largest input SWF takes):
// a history of about 131 MB, the one that took swfd to 2.3 GB.
func hugeHistory(t *testing.T, c *swf.Client) *types.WorkflowExecution {
	t.Helper()
	ctx := context.Background()
	h := &wfHarness{t: t, ctx: ctx, c: c, domain: "huge",
		wfType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}
	h.must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("huge"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	h.must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("huge"), Name: h.wfType.Name, Version: h.wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("d")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("30"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	runID := h.start("huge")
	input := strings.Repeat("😀", 32768)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 1000; i += 4 {
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
	exec := hugeHistory(t, srv.Client())
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
