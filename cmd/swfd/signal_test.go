package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/server"
)

// TestMain runs swfd itself instead of the tests when GO_TEST_SWFD_MAIN is
// set: the tests of signals run it as a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_SWFD_MAIN") == "1" {
		if os.Getenv("GO_TEST_SWFD_STUCK_OPEN") == "1" {
			// An open that heeds no cancellation, as a store's may not
			// (a driver's call that takes no context, a lock it waits on).
			openServer = func(context.Context, server.Config) (*server.Server, error) { select {} }
		}
		if os.Getenv("GO_TEST_SWFD_STUCK_CLOSE") == "1" {
			// A close that does not end, as a PostgreSQL store's does
			// for some 20 s while the database stops answering: its
			// commit under way waits 10 s for an answer and 10 s more to
			// read back whether it landed, and the cluster's news of
			// the tasks left waits behind it.
			openServer = func(ctx context.Context, cfg server.Config) (*server.Server, error) {
				closeServer = func(s *server.Server) error {
					s.Close()
					select {}
				}
				return server.Open(ctx, cfg)
			}
		}
		main()
	}
	os.Exit(m.Run())
}

// A second SIGTERM while swfd waits for a client that never finishes its
// request stops it at once: the connection is closed, the store closed,
// and swfd exits with status 2 saying so, instead of waiting out the 15 s.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "swfd.db")
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--db", "sqlite:"+db)
	cmd.Env = append(os.Environ(), "GO_TEST_SWFD_MAIN=1")
	p := startProcess(t, cmd)
	waitLogged(t, &p.out, "swfd listening", 1)
	addr := regexp.MustCompile(`swfd listening" addr=(\S+)`).FindStringSubmatch(p.out.String())
	if addr == nil {
		t.Fatalf("log: %s", p.out.String())
	}
	c, err := net.Dial("tcp", addr[1])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server answers "100 Continue" once the call reads the body: the
	// call is under way when the client stops sending.
	c.Write([]byte("POST / HTTP/1.1\r\nHost: swfd\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n" +
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	c.Write([]byte("{"))
	p.cmd.Process.Signal(syscall.SIGTERM)
	waitLogged(t, &p.out, "shutting down", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitsWithStatus2(t, 10*time.Second,
		`msg="stopping; another SIGINT or SIGTERM stops at once" signal=terminated`,
		`msg="stopping at once" signal=terminated`,
		`msg="shutdown cut short: closed the connections still open" connections=1`,
		`msg="sqlite store closed"`,
		"swfd: stopped at once by a second signal: shutdown cut short (connections still open, now closed: 1)",
	)
}

// A second SIGTERM once the calls have ended, while swfd closes its store,
// stops it at once too: it waits at most storeCloseWait for the store and
// exits with status 2. It used to wait for the close whatever the signals,
// 20 s and more with a PostgreSQL that stopped answering.
func TestSecondSignalStopsAStuckClose(t *testing.T) {
	db := filepath.Join(t.TempDir(), "swfd.db")
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--db", "sqlite:"+db)
	cmd.Env = append(os.Environ(), "GO_TEST_SWFD_MAIN=1", "GO_TEST_SWFD_STUCK_CLOSE=1")
	p := startProcess(t, cmd)
	waitLogged(t, &p.out, "swfd listening", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	// No call is under way: the store's close begins at once (and, here,
	// closes it, then never returns).
	waitLogged(t, &p.out, "sqlite store closed", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitsWithStatus2(t, storeCloseWait+10*time.Second,
		`msg="stopping at once" signal=terminated`,
		`msg="the store did not close in time; stopping without waiting for it"`,
		"swfd: stopped at once by a second signal while closing the store",
	)
}

// A second SIGTERM while swfd starts stops it at once with status 2, even
// when opening the store does not end: the first one only asked the open
// to give up, and one that did not went on for ever.
func TestSecondSignalStopsAStuckStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "swfd.db")
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--db", "sqlite:"+db)
	cmd.Env = append(os.Environ(), "GO_TEST_SWFD_MAIN=1", "GO_TEST_SWFD_STUCK_OPEN=1")
	p := startProcess(t, cmd)
	waitLogged(t, &p.out, "opening the store", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	waitLogged(t, &p.out, "stopping; another SIGINT or SIGTERM stops at once", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitsWithStatus2(t, 10*time.Second,
		`msg="stopping at once" signal=terminated`,
		"swfd: stopped at once by a second signal while starting: the store had not opened",
	)
}

// A SIGTERM while swfd starts on a PostgreSQL that does not answer (a
// proxy or firewall that takes the connection and says nothing) stops it
// with status 2, saying what it was doing and that the signal stopped it;
// it used to say only "...: context canceled", which reads as a failure of
// its own.
func TestSignalWhileWaitingForPostgreSQL(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn // taken, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	pg := silent.Addr().String()
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--db", "postgres://swfd@"+pg+"/swfd?connect_timeout=120")
	cmd.Env = append(os.Environ(), "GO_TEST_SWFD_MAIN=1")
	p := startProcess(t, cmd)
	waitLogged(t, &p.out, "waiting for PostgreSQL to answer", 1)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.exitsWithStatus2(t, 20*time.Second,
		"swfd: stopped by SIGTERM while starting, before serving any call: ",
		"interrupted while waiting for PostgreSQL at "+pg+" to answer",
	)
}

// process is swfd run as a process of its own (TestMain), what it writes to
// its standard error read into out as it comes.
type process struct {
	cmd *exec.Cmd
	out logbuf.Buffer
	eof chan struct{} // closed once swfd has exited and its output is read
}

// startProcess starts cmd, swfd, reading its standard error; the end of
// the test kills it if it still runs.
func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	p := &process{cmd: cmd, eof: make(chan struct{})}
	go func() {
		defer close(p.eof)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
		}
	}()
	return p
}

// exitsWithStatus2 checks that swfd exits within d, with status 2, having
// said each of wants.
func (p *process) exitsWithStatus2(t *testing.T, d time.Duration, wants ...string) {
	t.Helper()
	select {
	case <-p.eof:
	case <-time.After(d):
		t.Fatalf("swfd still runs %v after the signal:\n%s", d, p.out.String())
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("exit: %v, want status 2", err)
	}
	for _, want := range wants {
		if !strings.Contains(p.out.String(), want) {
			t.Errorf("the output does not say %q:\n%s", want, p.out.String())
		}
	}
}
