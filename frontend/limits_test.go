package frontend_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
)

// hugeService answers DescribeDomain with 64 MB, DescribeWorkflowType with
// a fault of 64 MB, and PollForDecisionTask after a wait longer than the
// write timeout.
type hugeService struct {
	api.Service
	pollWait time.Duration
}

func (hugeService) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	return &api.DomainDetail{DomainInfo: api.DomainInfo{Name: in.Name, Status: api.RegistrationStatusRegistered, Description: api.String(strings.Repeat("x", 64<<20))}}, nil
}

func (hugeService) DescribeWorkflowType(ctx context.Context, in *api.DescribeWorkflowTypeInput) (*api.WorkflowTypeDetail, error) {
	return nil, api.ErrUnknownResource("%s", strings.Repeat("x", 64<<20))
}

func (h hugeService) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	select {
	case <-time.After(h.pollWait):
	case <-ctx.Done():
	}
	return &api.DecisionTask{}, nil
}

// A client that asks for a large answer and never reads it is cut off
// once WriteTimeout has passed: the handler returns, letting go of the
// answer, and the connection is closed, although the client read nothing.
// A fault is cut off as a result is.
func TestClientThatNeverReadsIsCutOff(t *testing.T) {
	for _, tc := range []struct{ name, op, body string }{
		{"result", "DescribeDomain", `{"name":"d"}`},
		{"fault", "DescribeWorkflowType", `{"domain":"d","workflowType":{"name":"n","version":"1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready := make(chan struct{})
			done := make(chan struct{}, 1)
			closed := make(chan struct{}, 1)
			fe := &frontend.Handler{Service: hugeService{}, WriteTimeout: 300 * time.Millisecond}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fe.ServeHTTP(&firstWrite{ResponseWriter: w, ready: ready}, r)
				done <- struct{}{}
			}))
			srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateClosed {
					closed <- struct{}{}
				}
			}
			srv.Start()
			defer srv.Close()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService."+tc.op+"\r\nContent-Type: application/x-amz-json-1.0\r\n"+
				"Content-Length: "+strconv.Itoa(len(tc.body))+"\r\n\r\n"+tc.body)
			// Building and encoding 64 MB takes from a second to over a
			// minute (with -race on a busy machine) and is not what is
			// tested: the WriteTimeout counts from the answer's first
			// write, and so does the wait for the cut-off.
			select {
			case <-ready:
			case <-done:
				t.Fatal("the handler returned without writing an answer")
			}
			for _, ch := range []chan struct{}{done, closed} {
				select {
				case <-ch:
				case <-time.After(time.Minute):
					t.Fatal("the server is still writing to a client that does not read")
				}
			}
		})
	}
}

// firstWrite closes ready when the answer's header or first bytes are
// written, that is once the answer is ready; Unwrap lets the handler's
// http.ResponseController reach the connection beneath.
type firstWrite struct {
	http.ResponseWriter
	ready chan struct{}
	once  sync.Once
}

func (w *firstWrite) start() { w.once.Do(func() { close(w.ready) }) }

func (w *firstWrite) WriteHeader(code int) { w.start(); w.ResponseWriter.WriteHeader(code) }

func (w *firstWrite) Write(p []byte) (int, error) { w.start(); return w.ResponseWriter.Write(p) }

func (w *firstWrite) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The write timeout counts from the moment the answer is ready: a long
// poll that waits longer than it is answered in full.
func TestWriteTimeoutSparesLongPolls(t *testing.T) {
	fe := &frontend.Handler{Service: hugeService{pollWait: 1500 * time.Millisecond}, WriteTimeout: 100 * time.Millisecond}
	srv := httptest.NewServer(fe)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"domain":"d","taskList":{"name":"l"}}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.PollForDecisionTask")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(b) != `{"previousStartedEventId":0,"startedEventId":0}` {
		t.Fatalf("%d %q %v", resp.StatusCode, b, err)
	}
}

// A request refused for its credentials is answered with Connection:
// close, and the connection is closed: a client that did not
// authenticate keeps nothing open.
func TestRefusedConnectionIsClosed(t *testing.T) {
	fe := &frontend.Handler{Service: hugeService{}, Auth: func(r *http.Request, body []byte) (*auth.Principal, *api.Fault) {
		return nil, api.NewFault(auth.MissingAuthenticationToken, "Request is missing Authentication Token")
	}}
	resp, _, r := rawExchange(t, fe, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.DescribeDomain\r\nContent-Length: 12\r\n\r\n{\"name\":\"d\"}")
	if resp.StatusCode != 403 || !resp.Close {
		t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
	}
	// Closed at once: rawExchange reads for 30 s at most (a refused
	// connection used to be held 120 s).
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after a 403: %v", err)
	}
}

// goneService's long poll waits until its caller goes away, and says so.
type goneService struct{ api.Service }

func (goneService) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A long poll whose client went away is observed with fault ClientClosed
// and status 499 (nothing was answered), not status 0.
func TestClientClosedIsObservedAs499(t *testing.T) {
	var got []frontend.Call
	h := &frontend.Handler{Service: goneService{}, Observe: func(c *frontend.Call) { got = append(got, *c) }}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/", strings.NewReader(`{"domain":"d","taskList":{"name":"l"}}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.PollForActivityTask")
	time.AfterFunc(20*time.Millisecond, cancel)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(got) != 1 {
		t.Fatalf("observed %+v", got)
	}
	if c := got[0]; c.Fault != frontend.ClientClosed || c.Status != 499 || c.Operation != "PollForActivityTask" {
		t.Errorf("observed %+v, want fault ClientClosed, status 499", c)
	}
}

// Over HTTP/2 one connection carries many callers' requests (an SDK's
// whole pool): a request that fails to authenticate must not end it, or the
// others' calls in flight on it fail. The refused caller's next request and
// a good one both go on the same connection.
func TestRefusedRequestKeepsSharedHTTP2Connection(t *testing.T) {
	fe := &frontend.Handler{Service: smallService{}, Auth: func(r *http.Request, body []byte) (*auth.Principal, *api.Fault) {
		if r.Header.Get("Authorization") == "" {
			return nil, api.NewFault(auth.MissingAuthenticationToken, "Request is missing Authentication Token")
		}
		return &auth.Principal{}, nil
	}}
	srv := httptest.NewUnstartedServer(fe)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	var conns []string
	call := func(authz string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"name":"d"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			conns = append(conns, i.Conn.LocalAddr().String())
		}}
		resp, err := client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("answered over %s, want HTTP/2", resp.Proto)
		}
		return resp
	}
	if resp := call("x"); resp.StatusCode != 200 {
		t.Fatalf("good call: status %d", resp.StatusCode)
	}
	if resp := call(""); resp.StatusCode != 403 || resp.Header.Get("Connection") != "" {
		t.Fatalf("refused call: status %d, Connection %q", resp.StatusCode, resp.Header.Get("Connection"))
	}
	if resp := call("x"); resp.StatusCode != 200 {
		t.Fatalf("good call after the refused one: status %d", resp.StatusCode)
	}
	if len(conns) != 3 || conns[0] != conns[1] || conns[1] != conns[2] {
		t.Fatalf("connections used: %v, want one for all three", conns)
	}
}

// smallService answers DescribeDomain at once, with little.
type smallService struct{ api.Service }

func (smallService) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	return &api.DomainDetail{}, nil
}

// A body that stops arriving is answered RequestTimeoutException, the code
// every SDK's standard retry takes as transient (nothing was done), not a
// SerializationException, which none retries.
func TestStalledBodyIsARequestTimeout(t *testing.T) {
	fe := &frontend.Handler{Service: hugeService{}, BodyTimeout: 200 * time.Millisecond}
	resp, body, _ := rawExchange(t, fe, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.DescribeDomain\r\nContent-Length: 100\r\n\r\n{\"name\":")
	if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("x-amzn-ErrorType") != "RequestTimeoutException" ||
		!strings.Contains(string(body), `"__type":"com.amazon.coral.service#RequestTimeoutException"`) {
		t.Fatalf("status %d, x-amzn-ErrorType %q, body %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
	}
}

// rawExchange serves h on a test server, sends it raw over a connection of
// its own (closed when the test ends) and reads the answer (within 30 s):
// the response, its body, and the connection's reader for what follows.
func rawExchange(t *testing.T, h http.Handler, raw string) (*http.Response, []byte, *bufio.Reader) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, r
}
