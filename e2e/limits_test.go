package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/internal/swfdtest"
)

// A flood of connections cannot use up swfd's file handles. The issue it
// guards against: about 20,000 keep-alive connections took every handle
// (accept4: too many open files) and normal calls timed out. Scaled
// down: swfd runs with a limit of 256 open files (so its default cap is
// 128 connections) and 2,000 connections arrive at once, half sending a
// call and then sitting idle on keep-alive, half never sending anything.
// A decider polling since before the flood is handed its task during it
// (its poll may be answered empty to make room, and it polls again), a
// new client is served during it, swfd never runs out of handles, and
// its open files stay under the limit.
func TestConnectionFloodWithLowFileLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit not on PATH")
	}
	const fileLimit, flood = 256, 2000
	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	proc := startSwfd(t, prlimit, nil, fmt.Sprintf("--nofile=%d:%d", fileLimit, fileLimit), bin,
		"--addr", anyPort, "--db", db, "--poll-timeout", "80s", "--log-level", "info")
	addr := proc.addr
	ctx := context.Background()
	c := swfdtest.NewClient("http://" + addr)
	wfType := &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("flood"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("flood"), Name: wfType.Name, Version: wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("d")}, DefaultExecutionStartToCloseTimeout: aws.String("600"),
		DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	// A decider that polls until it is handed a task, as every poller
	// does: an empty answer (its connection evicted to make room at the
	// cap) sends it back to poll again.
	polled := make(chan *swf.PollForDecisionTaskOutput, 1)
	go func() {
		for {
			out, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("flood"), TaskList: &types.TaskList{Name: aws.String("d")}})
			if err != nil {
				t.Errorf("long poll made before the flood: %v", err)
			}
			if err != nil || out.TaskToken != nil {
				polled <- out
				return
			}
		}
	}()
	// The poll must be waiting in swfd before the flood starts: started
	// together, the flood may take every connection first.
	waitLong(t, "the long poll to wait in swfd", func() bool {
		fams, err := promtest.Scrape(nil, "http://"+addr+"/metrics")
		if err != nil {
			return false
		}
		n, _ := fams.Value("swfd_pollers_waiting", "kind", "decision")
		return n == 1
	})

	// The flood. Connections swfd has no room for wait in the kernel's
	// backlog; dials that find even that full are given up.
	var conns sync.Map
	var dialed, answered atomic.Int32
	var wg sync.WaitGroup
	hold := make(chan struct{})
	for i := range flood {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return
			}
			dialed.Add(1)
			conns.Store(i, conn)
			if i%2 == 1 {
				return // silent
			}
			conn.SetDeadline(time.Now().Add(2 * time.Minute))
			io.WriteString(conn, "POST / HTTP/1.1\r\nHost: "+addr+"\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n"+
				"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 35\r\n\r\n{\"registrationStatus\":\"REGISTERED\"}")
			if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Add(1)
			}
			<-hold // and sit idle on keep-alive
		})
	}
	defer func() {
		close(hold)
		conns.Range(func(_, c any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	}()
	waitLong(t, "the flood to connect", func() bool { return dialed.Load() >= flood/2 })

	// A new client is served while the flood holds, and its call reaches
	// the decider polling since before it.
	fresh := swfdtest.NewClient("http://" + addr)
	if _, err := fresh.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("flood"), WorkflowId: aws.String("w"), WorkflowType: wfType}); err != nil {
		t.Fatalf("a new client during the flood: %v", err)
	}
	select {
	case out := <-polled:
		if out == nil || out.TaskToken == nil {
			t.Fatal("the decider polling since before the flood got no task")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the decider polling since before the flood was not handed its task")
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", proc.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) >= fileLimit {
		t.Errorf("swfd has %d files open with a limit of %d", len(fds), fileLimit)
	}
	log := proc.stderr.String()
	if strings.Contains(log, "too many open files") {
		t.Errorf("swfd ran out of file handles:\n%s", log)
	}
	if !strings.Contains(log, "max_connections=128") {
		t.Errorf("default cap not derived from the file limit:\n%s", log)
	}
	t.Logf("%d of %d connections made, %d answered; swfd has %d files open", dialed.Load(), flood, answered.Load(), len(fds))
}
