package frontend_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/frontend"
)

// waitUntil waits, up to 10 s, for cond to hold.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// answer is what a request sent in the background was answered.
type answer struct {
	status int
	fault  string
	err    error
}

// stalledBody is a request body of frontend.MaxBodyBytes that sends sent
// bytes and then waits until the test ends.
func stalledBody(t *testing.T, sent int) io.Reader {
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); pw.CloseWithError(io.ErrUnexpectedEOF) })
	go func() {
		pw.Write([]byte(strings.Repeat(" ", sent)))
		<-stop
	}()
	return pr
}

// send posts body to srv with client in the background (the
// DescribeDomain operation) and returns where its answer comes.
func send(client *http.Client, srv *httptest.Server, body io.Reader, length int64) <-chan answer {
	out := make(chan answer, 1)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
	req.ContentLength = length
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			out <- answer{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out <- answer{status: resp.StatusCode, fault: resp.Header.Get("x-amzn-ErrorType")}
	}()
	return out
}

// One HTTP/2 connection carries hundreds of requests at once, each of which
// may hold a body of up to 1 MB while it arrives, so the connection limit
// does not bound those bytes (four connections of 250 stalled bodies took
// swfd to 1.2 GB). The bytes of bodies still arriving are bounded
// (MaxReceiving): a body that would take them past it makes room by
// cutting off the body that has been arriving longest, answered
// RequestTimeoutException as at its timeout, and is served; the others go
// on arriving.
func TestReceivingIsBoundedOverHTTP2(t *testing.T) {
	fe := &frontend.Handler{Service: smallService{}, MaxReceiving: 2 * frontend.MaxBodyBytes, BodyTimeout: time.Minute}
	frontend.SetReceiveCutAfter(fe, time.Millisecond)
	srv := httptest.NewUnstartedServer(fe)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close) // after the stalled bodies end
	client := srv.Client()

	const part = 640 << 10 // three of them fit in the bound, four do not
	var stalled []<-chan answer
	for i := range 3 {
		stalled = append(stalled, send(client, srv, stalledBody(t, part), frontend.MaxBodyBytes))
		waitUntil(t, fmt.Sprintf("%d bodies to arrive in part", i+1), func() bool { return fe.Receiving() == int64(i+1)*part })
	}
	whole := `{"name":"d"` + strings.Repeat(" ", part) + `}`
	got := <-send(client, srv, strings.NewReader(whole), int64(len(whole)))
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("a body sent at once past the bound: %+v, want 200", got)
	}
	select {
	case a := <-stalled[0]:
		if a.err != nil || a.status != http.StatusRequestTimeout || a.fault != "RequestTimeoutException" {
			t.Errorf("the body arriving longest: %+v, want 408 RequestTimeoutException", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the body arriving longest was not cut off to make room")
	}
	for i, c := range stalled[1:] {
		select {
		case a := <-c:
			t.Errorf("body %d, arriving for less long, was answered: %+v", i+2, a)
		default:
		}
	}
	if n, limit := fe.Receiving(), int64(2*frontend.MaxBodyBytes); n != 2*part || n > limit {
		t.Errorf("Receiving = %d, want the %d bytes of the two bodies still arriving", n, 2*part)
	}
}

// When no body has been arriving long enough to be cut off, the one that
// would take the bytes past the bound is refused instead
// (ServiceUnavailable, which SDKs retry; its HTTP/1.1 connection closed,
// as the rest of its body is still on its way), and the others go on.
func TestReceivingRefusesWhenNoBodyIsSlow(t *testing.T) {
	fe := &frontend.Handler{Service: smallService{}, MaxReceiving: 2 * frontend.MaxBodyBytes, BodyTimeout: time.Minute}
	frontend.SetReceiveCutAfter(fe, time.Hour)
	srv := httptest.NewServer(fe)
	defer srv.Close()

	const part = 800 << 10
	for i := range 2 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.DescribeDomain\r\nContent-Length: %d\r\n\r\n%s",
			frontend.MaxBodyBytes, strings.Repeat(" ", part))
		waitUntil(t, fmt.Sprintf("%d bodies to arrive in part", i+1), func() bool { return fe.Receiving() == int64(i+1)*part })
	}
	// Sent whole, over a connection of its own, it reads the answer.
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"name":"d"` + strings.Repeat(" ", 600<<10) + `}`
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.DescribeDomain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("x-amzn-ErrorType") != "ServiceUnavailable" || !strings.Contains(string(msg), "receiving") {
		t.Errorf("a body past the bound with none to cut: status %d, x-amzn-ErrorType %q, body %s; want 503 ServiceUnavailable", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), msg)
	}
	if !resp.Close {
		t.Error("its answer did not say Connection: close")
	}
	if n := fe.Receiving(); n != 2*part {
		t.Errorf("Receiving = %d after a refused body, want the %d of the two still arriving", n, 2*part)
	}
	if r := post(t, srv, "DescribeDomain", `{"name":"d"}`); r.status != http.StatusOK {
		t.Errorf("a small body within the bound: status %d (%s), want 200", r.status, r.body)
	}
}
