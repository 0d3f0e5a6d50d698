package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/swfdtest"
)

var listening = regexp.MustCompile(`msg="swfd listening" addr=(\S+)`)

// BenchmarkDevStart measures how long swfd --dev takes from being started
// to answering /readyz with 200: the process starts, opens its in-memory
// store, logs its address, and serves. A test suite pays this once per
// server.
func BenchmarkDevStart(b *testing.B) {
	bin := buildCmd(b, "swfd")
	for b.Loop() {
		cmd := exec.Command(bin, "--dev", "--addr", "127.0.0.1:0")
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		url := ""
		for url == "" && sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				url = "http://" + m[1]
			}
		}
		if url == "" {
			b.Fatal("swfd --dev did not start")
		}
		resp, err := http.Get(url + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("/readyz: %v %v", resp, err)
		}
		resp.Body.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// BenchmarkDevReset measures POST /swfd/dev/reset on a server holding a
// domain, its types and 50 open executions with their decision tasks:
// what a test suite pays between two tests. Filling the server is not
// measured.
func BenchmarkDevReset(b *testing.B) {
	ctx := context.Background()
	srv := swfdtest.New(b)
	c := srv.Client()
	for b.Loop() {
		b.StopTimer()
		srv.RegisterDomain("bench", swfdtest.WorkflowType{Name: "wf", Version: "1"}, swfdtest.ActivityType{Name: "act", Version: "1"})
		for i := range 50 {
			_, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("bench"),
				WorkflowId: aws.String(fmt.Sprint("w", i)), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		resp, err := http.Post(srv.URL+"/swfd/dev/reset", "application/json", strings.NewReader("{}"))
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("reset: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}
