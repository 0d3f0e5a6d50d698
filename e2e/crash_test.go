package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// buildSwfd builds ./cmd/swfd (see buildCmd).
func buildSwfd(t *testing.T) string {
	t.Helper()
	return buildCmd(t, "swfd")
}

// anyPort is the --addr that has the kernel pick a free port: startSwfd
// learns which from swfd's --addr-file. (A port found free by the test and
// handed to swfd could be taken by another process, such as another test
// package run at the same time, before swfd binds it.)
const anyPort = "127.0.0.1:0"

type swfdProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan struct{}
	addr   string // host:port the API listens on
}

// kill9 kills swfd as a crash would (SIGKILL: no shutdown, no final
// checkpoint) and waits until it has exited.
func (p *swfdProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// startSwfd starts the binary with args and an --addr-file of its own,
// waits for swfd to write its address there (p.addr) and then until
// /healthz answers 200 on it. Give --addr anyPort (flag or SWFD_ADDR), or
// the address a node had before to restart it there.
func startSwfd(t *testing.T, bin string, env []string, args ...string) *swfdProc {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "swfd.addr")
	cmd := exec.Command(bin, append(args, "--addr-file", addrFile)...)
	cmd.Env = append(os.Environ(), env...)
	p := &swfdProc{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("swfd exited before serving: %v\n%s", cmd.ProcessState, p.stderr)
		default:
		}
		if p.addr == "" {
			// The file appears whole, once swfd serves.
			if b, err := os.ReadFile(addrFile); err == nil {
				line, _, _ := strings.Cut(string(b), "\n")
				addr, ok := strings.CutPrefix(line, "addr=")
				if !ok {
					t.Fatalf("swfd's --addr-file begins %q, not addr=", line)
				}
				p.addr = addr
			}
		}
		if p.addr != "" {
			resp, err := http.Get("http://" + p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("swfd did not become healthy (address %q)\n%s", p.addr, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestCrashKill9Durability(t *testing.T) {
	bin := buildSwfd(t)
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "swfd.db")
	p := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn")
	c := swfdtest.NewClient("http://" + p.addr)
	ctx := rgCtx(t)

	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("crashy"), WorkflowExecutionRetentionPeriodInDays: aws.String("3"),
		Tags: []types.ResourceTag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		rgActivity(t, c, "crashy", fmt.Sprintf("act%d", i), "1")
	}
	rgWorkflow(t, c, "crashy", "wf", "1")
	if _, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("crashy"), ActivityType: &types.ActivityType{Name: aws.String("act4"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	// Every acknowledged write must survive an immediate SIGKILL.
	p.kill9(t)

	p2 := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn")
	c2 := swfdtest.NewClient("http://" + p2.addr)
	d := rgDescribeDomain(t, c2, "crashy")
	if aws.ToString(d.Configuration.WorkflowExecutionRetentionPeriodInDays) != "3" {
		t.Errorf("retention after crash = %v", d.Configuration.WorkflowExecutionRetentionPeriodInDays)
	}
	tags, err := c2.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: aws.String(rgARN("crashy"))})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("tags after crash: %+v %v", tags, err)
	}
	reg, err := c2.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("crashy"), RegistrationStatus: types.RegistrationStatusRegistered})
	if err != nil || len(reg.TypeInfos) != 4 {
		t.Errorf("registered activity types after crash: %+v %v", reg, err)
	}
	dep, err := c2.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("crashy"), RegistrationStatus: types.RegistrationStatusDeprecated})
	if err != nil || len(dep.TypeInfos) != 1 || *dep.TypeInfos[0].ActivityType.Name != "act4" {
		t.Errorf("deprecated activity types after crash: %+v %v", dep, err)
	}
	if _, err := c2.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("crashy"), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}}); err != nil {
		t.Errorf("workflow type after crash: %v", err)
	}
	// And the restarted server takes new writes.
	rgDomain(t, c2, "after-crash")
}

// An unreachable PostgreSQL database is a clear start-up error, not a hang
// or a crash.
func TestSwfdPostgresUnreachable(t *testing.T) {
	bin := buildSwfd(t)
	cmd := exec.Command(bin, "--addr", anyPort, "--db", "postgres://postgres@127.0.0.1:1/nope?connect_timeout=2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || cmd.ProcessState.ExitCode() == 0 {
			t.Errorf("swfd with an unreachable database exited 0")
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("swfd with an unreachable database kept running")
	}
	if !strings.Contains(stderr.String(), "open PostgreSQL database") {
		t.Errorf("stderr = %q, want a clear message about the database", stderr.String())
	}
}

func TestSwfdAddrFromEnv(t *testing.T) {
	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	p := startSwfd(t, bin, []string{"SWFD_ADDR=" + anyPort, "SWFD_DB=" + db, "SWFD_LOG_LEVEL=warn"})
	c := swfdtest.NewClient("http://" + p.addr)
	rgDomain(t, c, "env-domain")
	// A flag overrides the environment.
	db2 := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	p2 := startSwfd(t, bin, []string{"SWFD_ADDR=127.0.0.1:1", "SWFD_DB=" + db2}, "--addr", anyPort)
	if p2.addr == "127.0.0.1:1" {
		t.Errorf("swfd listens on SWFD_ADDR's address, not --addr's")
	}
}
