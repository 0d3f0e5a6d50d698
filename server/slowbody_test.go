package server

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// Clients that send a request's headers and then its body never, or a
// byte at a time, must not hold every connection at --max-connections
// until their body's timeout: once no idle connection or long poll is left
// to make room with, the body that has been arriving longest is cut off
// (answered RequestTimeoutException, its connection closed), and a new
// client is served at once, not after the body timeout (here a minute).
func TestSlowBodiesAtConnectionLimitMakeRoom(t *testing.T) {
	log := slowSendersMakeRoom(t, "senders", true, func(string) string {
		return "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n" +
			"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 1000\r\n\r\n" + `{"registrationStatus":`
	})
	if !strings.Contains(log, "request whose body was still arriving") {
		t.Errorf("the cut is not logged:\n%s", log)
	}
}

// The web console's forms are read as the API's bodies are: a form that
// never arrives whole (a sign-in form, which anyone may send, or an
// action's) is cut off at --max-connections when a new connection needs
// its connection, and at the body timeout otherwise. Read with no bound,
// two such forms held both connections of --max-connections 2 for as long
// as their clients stayed, and no API call was answered meanwhile.
func TestSlowConsoleFormsAtConnectionLimitMakeRoom(t *testing.T) {
	slowSendersMakeRoom(t, "console forms", false, func(addr string) string {
		return fmt.Sprintf("POST /console/domains HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 1000\r\n\r\nname=", addr)
	})
}

// The admin API's bodies (swf clock advance, swf dev reset) are read as the
// API's are: one that never arrives whole, which anyone may send (it is read
// before its signature is checked), is cut off at --max-connections when a
// new connection needs its connection. Read with no bound, two such bodies
// held both connections of --max-connections 2 for as long as their clients
// stayed, and no API call was answered meanwhile.
func TestSlowAdminBodiesAtConnectionLimitMakeRoom(t *testing.T) {
	slowSendersMakeRoom(t, "admin bodies", true, func(addr string) string {
		return fmt.Sprintf("POST /swfd/clock/advance HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: 1000\r\n\r\n{\"duration\":", addr)
	})
}

// slowSendersMakeRoom serves swfd at --max-connections 2 with a body
// timeout of a minute, opens two connections that each send the start of a
// request (slowStart, given the server's address) whose body never ends,
// and then checks that a third client's API call is answered at once and
// that exactly one slow sender was cut off: answered 408 (with the SWF
// API's RequestTimeoutException when amzError) and its connection closed.
// It returns what swfd logged.
func slowSendersMakeRoom(t *testing.T, what string, amzError bool, slowStart func(addr string) string) (log string) {
	t.Helper()
	logBuf := &logbuf.Buffer{}
	_, addr := serving(t, Config{DB: MemoryDB, MaxConnections: 2, BodyTimeout: time.Minute,
		Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	var slow []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprint(c, slowStart(addr))
		slow = append(slow, c)
	}

	const body = `{"registrationStatus":"REGISTERED"}`
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a client after two slow %s at --max-connections 2 was not answered in %v: %v", what, time.Since(start).Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new client's call: status %d", resp.StatusCode)
	}

	// One slow sender was told why, as at its body's timeout, and its
	// connection closed; the other still holds its own.
	cutOff := 0
	for _, sc := range slow {
		sc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		resp, err := http.ReadResponse(bufio.NewReader(sc), nil)
		if err != nil {
			continue
		}
		resp.Body.Close()
		cutOff++
		typ := resp.Header.Get("x-amzn-ErrorType")
		if resp.StatusCode != http.StatusRequestTimeout || (amzError && typ != "RequestTimeoutException") || !resp.Close {
			t.Errorf("the cut-off one of the %s got status %d, x-amzn-ErrorType %q, close %v; want 408 and its connection closed",
				what, resp.StatusCode, typ, resp.Close)
		}
	}
	if cutOff != 1 {
		t.Errorf("%d slow %s cut off, want 1", cutOff, what)
	}
	return logBuf.String()
}
