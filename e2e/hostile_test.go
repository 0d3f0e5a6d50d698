package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// Hostile and malformed input: every bad request is answered with the
// right fault or a closed connection, nothing is written, and the server
// goes on serving everyone else.

// hostileClock is the wall clock plus an offset the test can move.
type hostileClock struct{ offset atomic.Int64 }

func (c *hostileClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

type hostileEnv struct {
	t     *testing.T
	srv   *swfdtest.Server
	c     *swf.Client
	clock *hostileClock
	addr  string
	runID string
	used  string // a decision task token whose completion was acknowledged
}

const hostileDomain = "hostile"

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	clock := &hostileClock{}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 2 * time.Second, Config: func(c *server.Config) {
		c.Clock = clock
		c.ReadHeaderTimeout = time.Second
		c.BodyTimeout = time.Second
	}})
	e := &hostileEnv{t: t, srv: srv, c: srv.Client(), clock: clock, addr: strings.TrimPrefix(srv.URL, "http://")}
	ctx := context.Background()
	must := mustOK(t)
	for _, d := range []string{hostileDomain, "hostile-2"} {
		must(e.c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(d), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	}
	// Timeouts far enough away that moving the clock a day on fires nothing.
	must(e.c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(hostileDomain), Name: aws.String("hw"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("hd")}, DefaultExecutionStartToCloseTimeout: aws.String("31536000"),
		DefaultTaskStartToCloseTimeout: aws.String("NONE"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	st, err := e.c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(hostileDomain), WorkflowId: aws.String("ref"),
		WorkflowType: &types.WorkflowType{Name: aws.String("hw"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	e.runID = *st.RunId
	d, err := e.c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(hostileDomain), TaskList: &types.TaskList{Name: aws.String("hd")}})
	if err != nil || d.TaskToken == nil {
		t.Fatalf("poll: %+v %v", d, err)
	}
	must(e.c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken}))
	e.used = *d.TaskToken
	return e
}

// snapshot is everything a bad request could have changed.
func (e *hostileEnv) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, st := range []types.RegistrationStatus{types.RegistrationStatusRegistered, types.RegistrationStatusDeprecated} {
		out, err := e.c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: st})
		if err != nil {
			e.t.Fatalf("ListDomains: %v", err)
		}
		for _, d := range out.DomainInfos {
			fmt.Fprintf(&b, "domain %s %s\n", *d.Name, d.Status)
		}
	}
	h, err := killHistory(ctx, e.c, hostileDomain, "ref", e.runID)
	if err != nil {
		e.t.Fatalf("history: %v", err)
	}
	fmt.Fprintf(&b, "history %v\n", eventTypes(h))
	for _, tl := range []string{"hd", "hw"} {
		n, err := e.c.CountPendingDecisionTasks(ctx, &swf.CountPendingDecisionTasksInput{Domain: aws.String(hostileDomain), TaskList: &types.TaskList{Name: aws.String(tl)}})
		if err != nil {
			e.t.Fatalf("count: %v", err)
		}
		fmt.Fprintf(&b, "pending %s %d\n", tl, n.Count)
	}
	o, err := e.c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(hostileDomain),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	if err != nil {
		e.t.Fatalf("count open: %v", err)
	}
	fmt.Fprintf(&b, "open %d\n", o.Count)
	return b.String()
}

// hostileReply is what came back for a raw request.
type hostileReply struct {
	status int
	code   string // the part of __type after '#'
	body   string
	closed bool // the connection closed without an answer
}

// hostileRaw writes raw bytes to a fresh connection and reads one answer.
func hostileRaw(t *testing.T, addr string, raw []byte, closeWrite bool) hostileReply {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := conn.Write(raw); err != nil {
		return hostileReply{closed: true}
	}
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return hostileReply{closed: true}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := hostileReply{status: resp.StatusCode, body: string(b)}
	var f struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(b, &f) == nil {
		_, r.code, _ = strings.Cut(f.Type, "#")
	}
	return r
}

func hostileRequest(op string, body []byte, extra ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST / HTTP/1.1\r\nHost: swfd\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: SimpleWorkflowService.%s\r\n", op)
	hasLen := false
	for _, h := range extra {
		b.WriteString(h + "\r\n")
		hasLen = hasLen || strings.HasPrefix(strings.ToLower(h), "content-length:")
	}
	if !hasLen {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

func hostileGzip(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func flipByte(s string, i int) string {
	b := []byte(s)
	b[i] ^= 0x01
	return string(b)
}

func TestHostileRequests(t *testing.T) {
	e := newHostileEnv(t)
	ctx := context.Background()
	before := e.snapshot()

	// Real page tokens, to forge from.
	pg, err := e.c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1})
	if err != nil || pg.NextPageToken == nil {
		t.Fatalf("ListDomains page: %+v %v", pg, err)
	}
	page := *pg.NextPageToken
	hp, err := e.c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(hostileDomain),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("ref"), RunId: aws.String(e.runID)}, MaximumPageSize: 1})
	if err != nil || hp.NextPageToken == nil {
		t.Fatalf("history page: %+v %v", hp, err)
	}
	histPage := *hp.NextPageToken
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	long := func(n int) string { return strings.Repeat("a", n) }
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	huge := `{"name":"hostile-huge","workflowExecutionRetentionPeriodInDays":"1","description":"` + long(2<<20) + `"}`
	bomb := hostileGzip([]byte(`{"name":"hostile-bomb","workflowExecutionRetentionPeriodInDays":"1","description":"` + long(8<<20) + `"}`))
	tags := `["a","b","c","d","e","f"]`
	randTok := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x42}, 60))
	reg := func(extra string) string {
		return `{"name":"hostile-new","workflowExecutionRetentionPeriodInDays":"1"` + extra + `}`
	}

	cases := []struct {
		name  string
		op    string
		body  string
		hdrs  []string
		want  string // fault code; "closed" for a closed connection; "ok" for 200
		raw   []byte // instead of op/body
		close bool   // half-close after writing
	}{
		// Wrong JSON types.
		{name: "number for string", op: "RegisterDomain", body: `{"name":5,"workflowExecutionRetentionPeriodInDays":"1"}`, want: "SerializationException"},
		{name: "object for string", op: "RegisterDomain", body: `{"name":{"x":1},"workflowExecutionRetentionPeriodInDays":"1"}`, want: "SerializationException"},
		{name: "string for list", op: "StartWorkflowExecution", body: `{"domain":"hostile","workflowId":"w","workflowType":{"name":"hw","version":"1"},"tagList":"a"}`, want: "SerializationException"},
		{name: "string for integer", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","maximumPageSize":"10"}`, want: "SerializationException"},
		{name: "string for boolean", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","reverseOrder":"true"}`, want: "SerializationException"},
		{name: "fraction for integer", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","maximumPageSize":1.5}`, want: "SerializationException"},
		{name: "huge number", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","maximumPageSize":1e400}`, want: "SerializationException"},
		{name: "string timestamp", op: "CountOpenWorkflowExecutions", body: `{"domain":"hostile","startTimeFilter":{"oldestDate":"yesterday"}}`, want: "SerializationException"},
		{name: "array body", op: "RegisterDomain", body: `[1,2]`, want: "SerializationException"},
		{name: "decision list of strings", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(e.used) + `,"decisions":["x"]}`, want: "SerializationException"},
		// Missing and extra members.
		{name: "missing required", op: "RegisterDomain", body: `{"name":"hostile-new"}`, want: "ValidationException"},
		{name: "null required", op: "RegisterDomain", body: `{"name":null,"workflowExecutionRetentionPeriodInDays":"1"}`, want: "ValidationException"},
		{name: "missing nested required", op: "StartWorkflowExecution", body: `{"domain":"hostile","workflowId":"w","workflowType":{"name":"hw"}}`, want: "ValidationException"},
		{name: "extra members and missing required", op: "RegisterDomain", body: `{"name":"hostile-new","bogus":1,"extra":{"a":[1]}}`, want: "ValidationException"},
		{name: "extra members are ignored", op: "DescribeDomain", body: `{"name":"hostile","bogus":[1,2,3],"more":{"x":null}}`, want: "ok"},
		{name: "case-folded duplicate member", op: "DescribeDomain", body: `{"name":"hostile","NAME":"nope"}`, want: "ok"},
		{name: "bad enum", op: "ListDomains", body: `{"registrationStatus":"BOGUS"}`, want: "ValidationException"},
		// Invalid UTF-8.
		{name: "invalid UTF-8 in string", op: "RegisterDomain", body: "{\"name\":\"ho\xffst\",\"workflowExecutionRetentionPeriodInDays\":\"1\"}", want: "SerializationException"},
		{name: "invalid UTF-8 in key", op: "RegisterDomain", body: "{\"na\xc3me\":\"x\",\"workflowExecutionRetentionPeriodInDays\":\"1\"}", want: "SerializationException"},
		{name: "lone surrogate escape", op: "RegisterDomain", body: `{"name":"a\ud800b","workflowExecutionRetentionPeriodInDays":"1"}`, want: "ValidationException"},
		{name: "control character in name", op: "RegisterDomain", body: `{"name":"a\u0000b","workflowExecutionRetentionPeriodInDays":"1"}`, want: "ValidationException"},
		// Strings and lists over their limits.
		{name: "name over 256", op: "RegisterDomain", body: strings.Replace(reg(""), "hostile-new", long(257), 1), want: "ValidationException"},
		{name: "description over 1024", op: "RegisterDomain", body: reg(`,"description":"` + long(1025) + `"`), want: "ValidationException"},
		{name: "input over 32768", op: "StartWorkflowExecution", body: `{"domain":"hostile","workflowId":"w","workflowType":{"name":"hw","version":"1"},"input":"` + long(32769) + `"}`, want: "ValidationException"},
		{name: "six tags", op: "StartWorkflowExecution", body: `{"domain":"hostile","workflowId":"w","workflowType":{"name":"hw","version":"1"},"tagList":` + tags + `}`, want: "ValidationException"},
		{name: "page size over 1000", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","maximumPageSize":1001}`, want: "ValidationException"},
		{name: "page token over 2048", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","nextPageToken":"` + long(2049) + `"}`, want: "ValidationException"},
		{name: "task token over 1024", op: "RespondActivityTaskCompleted", body: `{"taskToken":"` + long(1025) + `"}`, want: "ValidationException"},
		// Huge bodies, deep nesting, broken JSON.
		{name: "2 MB body", op: "RegisterDomain", body: huge, want: "RequestEntityTooLargeException|closed"},
		{name: "2 MB claimed, nothing sent", raw: hostileRequest("RegisterDomain", nil, "Content-Length: 2097152"), want: "RequestEntityTooLargeException|closed"},
		{name: "gzip bomb", op: "RegisterDomain", body: string(bomb), hdrs: []string{"Content-Encoding: gzip"}, want: "RequestEntityTooLargeException"},
		{name: "broken gzip", op: "RegisterDomain", body: "\x1f\x8b\x08\x00garbage", hdrs: []string{"Content-Encoding: gzip"}, want: "SerializationException"},
		{name: "deeply nested JSON", op: "RegisterDomain", body: deep, want: "SerializationException"},
		{name: "deep arrays in a list member", op: "StartWorkflowExecution", body: `{"domain":"hostile","workflowId":"w","workflowType":{"name":"hw","version":"1"},"tagList":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, want: "SerializationException"},
		{name: "truncated JSON", op: "RegisterDomain", body: `{"name":"hostile-new","workflowExecutionRetentionPeriodInDays":"1"`, want: "SerializationException"},
		{name: "trailing garbage", op: "RegisterDomain", body: reg("") + `}`, want: "SerializationException"},
		{name: "two objects", op: "RegisterDomain", body: reg("") + reg(""), want: "SerializationException"},
		{name: "not JSON", op: "RegisterDomain", body: `name=hostile-new`, want: "SerializationException"},
		{name: "NUL bytes", op: "RegisterDomain", body: "\x00\x00\x00\x00", want: "SerializationException"},
		{name: "truncated body, then EOF", raw: hostileRequest("RegisterDomain", []byte(reg("")[:20]), "Content-Length: 200"), close: true, want: "closed|SerializationException"},
		{name: "chunked body cut short", raw: []byte("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RegisterDomain\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + reg("")[:30]), close: true, want: "closed|SerializationException"},
		// Protocol-level nonsense.
		{name: "unknown operation", op: "DropAllTables", body: `{}`, want: "UnknownOperationException"},
		{name: "GET", raw: []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\nConnection: close\r\n\r\n"), want: "UnknownOperationException"},
		{name: "garbage request line", raw: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"), want: "closed|400"},
		{name: "huge header", raw: []byte("POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + long(2<<20) + "\r\n\r\n"), want: "closed|431"},
		// Forged and expired task tokens.
		{name: "empty task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":""}`, want: "ValidationException"},
		{name: "garbage task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":"not a token at all"}`, want: "UnknownResourceFault"},
		{name: "random base64 task token", op: "RespondActivityTaskCompleted", body: `{"taskToken":"` + randTok + `"}`, want: "UnknownResourceFault"},
		{name: "used task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(e.used) + `}`, want: "UnknownResourceFault"},
		{name: "used token with decisions", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(e.used) + `,"decisions":[{"decisionType":"CompleteWorkflowExecution"}]}`, want: "UnknownResourceFault"},
		{name: "tampered task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(flipByte(e.used, 10)) + `}`, want: "UnknownResourceFault"},
		{name: "truncated task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(e.used[:len(e.used)-4]) + `}`, want: "UnknownResourceFault"},
		{name: "decision token as activity token", op: "RespondActivityTaskCompleted", body: `{"taskToken":` + q(e.used) + `}`, want: "UnknownResourceFault"},
		{name: "decision token as heartbeat", op: "RecordActivityTaskHeartbeat", body: `{"taskToken":` + q(e.used) + `}`, want: "UnknownResourceFault"},
		// Forged page tokens.
		{name: "garbage page token", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","nextPageToken":"garbage"}`, want: "ValidationException"},
		{name: "tampered page token", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","nextPageToken":` + q(flipByte(page, 5)) + `}`, want: "ValidationException"},
		{name: "page token, other arguments", op: "ListDomains", body: `{"registrationStatus":"DEPRECATED","nextPageToken":` + q(page) + `}`, want: "ValidationException"},
		{name: "page token, other operation", op: "ListActivityTypes", body: `{"domain":"hostile","registrationStatus":"REGISTERED","nextPageToken":` + q(page) + `}`, want: "ValidationException"},
		{name: "history page token, other run", op: "GetWorkflowExecutionHistory", body: `{"domain":"hostile","execution":{"workflowId":"ref","runId":"00000000000000000000000000000000"},"nextPageToken":` + q(histPage) + `}`, want: "ValidationException|UnknownResourceFault"},
		{name: "task token as page token", op: "ListDomains", body: `{"registrationStatus":"REGISTERED","nextPageToken":` + q(e.used) + `}`, want: "ValidationException"},
		{name: "page token as task token", op: "RespondDecisionTaskCompleted", body: `{"taskToken":` + q(page) + `}`, want: "UnknownResourceFault"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			if raw == nil {
				raw = hostileRequest(tc.op, []byte(tc.body), tc.hdrs...)
			}
			r := hostileRaw(t, e.addr, raw, tc.close)
			got := r.code
			switch {
			case r.closed:
				got = "closed"
			case r.status == 200:
				got = "ok"
			case got == "":
				got = fmt.Sprint(r.status)
			}
			ok := false
			for _, w := range strings.Split(tc.want, "|") {
				ok = ok || w == got
			}
			if !ok {
				t.Errorf("got %s (status %d, body %.200q), want %s", got, r.status, r.body, tc.want)
			}
			if !r.closed && r.status >= 400 && r.code != "" && r.status != 413 && r.status != 400 {
				t.Errorf("fault %s with status %d", r.code, r.status)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("state changed:\nbefore %s\nafter %s", before, after)
			}
		})
	}

	// Expired page tokens: a day later, the token has outlived its 24 hours.
	e.clock.offset.Store(int64(25 * time.Hour))
	r := hostileRaw(t, e.addr, hostileRequest("ListDomains", []byte(`{"registrationStatus":"REGISTERED","nextPageToken":`+q(page)+`}`)), false)
	e.clock.offset.Store(0)
	if r.code != "ValidationException" || !strings.Contains(r.body, "maximum lifetime") {
		t.Errorf("expired page token: %d %s %s", r.status, r.code, r.body)
	}
	// And the real token still works today.
	if out, err := e.c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1, NextPageToken: aws.String(page)}); err != nil || len(out.DomainInfos) != 1 {
		t.Errorf("genuine page token: %+v %v", out, err)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("state changed:\nbefore %s\nafter %s", before, after)
	}
}

// TestHostileSlowClients: clients that never finish sending their headers
// or their body are cut off, and meanwhile everyone else is served.
func TestHostileSlowClients(t *testing.T) {
	e := newHostileEnv(t)
	before := e.snapshot()
	const n = 200
	var conns []net.Conn
	for i := range n {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		switch i % 3 {
		case 0: // headers never finished
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RegisterDomain\r\n")
		case 1: // body never finished
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RegisterDomain\r\nContent-Length: 1000\r\n\r\n{\"name\":\"hostile-slow-%d\",", i)
		case 2: // chunked body that never ends
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RegisterDomain\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"name\":\"hostile-")
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// A trickler: one byte every 200ms, for ever.
	trickle, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer trickle.Close()
	fmt.Fprintf(trickle, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RegisterDomain\r\nContent-Length: 100000\r\n\r\n")
	trickleDone := make(chan error, 1)
	go func() {
		for {
			if _, err := trickle.Write([]byte(" ")); err != nil {
				trickleDone <- err
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()

	// Everyone else is served, promptly.
	start := time.Now()
	for range 20 {
		if _, err := e.c.DescribeDomain(context.Background(), &swf.DescribeDomainInput{Name: aws.String(hostileDomain)}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("20 calls took %v beside slow clients", d)
	}
	// A long poll lasts its whole poll timeout, unaffected by the body timeout.
	start = time.Now()
	if _, err := e.c.PollForActivityTask(context.Background(), &swf.PollForActivityTaskInput{Domain: aws.String(hostileDomain), TaskList: &types.TaskList{Name: aws.String("nobody")}}); err != nil {
		t.Fatalf("long poll beside slow clients: %v", err)
	}
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Errorf("long poll returned after %v, want its 2s poll timeout", d)
	}

	// The slow ones are cut off (timeouts are 1s here).
	deadline := time.Now().Add(10 * time.Second)
	for i, c := range conns {
		c.SetReadDeadline(deadline)
		b, err := io.ReadAll(c)
		if err != nil && time.Now().After(deadline) {
			t.Fatalf("slow client %d still connected after 10s (read %q, %v)", i, b, err)
		}
		if bytes.Contains(b, []byte("HTTP/1.1 200")) {
			t.Errorf("slow client %d was answered 200: %q", i, b)
		}
	}
	select {
	case <-trickleDone:
	case <-time.After(10 * time.Second):
		t.Error("trickling client still connected after 10s")
	}
	if after := e.snapshot(); after != before {
		t.Errorf("state changed:\nbefore %s\nafter %s", before, after)
	}
}

// TestHostileExhaustion: thousands of concurrent long polls and thousands
// of idle connections, while normal calls keep working, with the heap
// measured (client and server share this process; the raw connections
// used here cost the client side little).
func TestHostileExhaustion(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	polls := killEnvInt("SWFD_HOSTILE_POLLS", 2000/hostileRaceScale)
	idle := killEnvInt("SWFD_HOSTILE_IDLE", 5000/hostileRaceScale)
	hostileRaiseFDLimit(t, uint64(2*(polls+idle)+1000))
	clock := &hostileClock{}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 30 * time.Second, Config: func(c *server.Config) {
		c.Clock = clock
		c.ReadHeaderTimeout = 60 * time.Second // idle connections must stay for the measurement
	}})
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := srv.Client()
	ctx := context.Background()
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(hostileDomain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(hostileDomain), Name: aws.String("hw"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("work")}, DefaultExecutionStartToCloseTimeout: aws.String("600"),
		DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	mem := func() (heapMB float64, goroutines int) {
		runtime.GC()
		runtime.GC() // and once more for what sync.Pools kept a cycle
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse) / (1 << 20), runtime.NumGoroutine()
	}
	heap0, g0 := mem()

	// Long polls, as raw connections, spread over task lists (the real
	// service allows 1,000 pollers a list).
	var pollConns []net.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range polls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("dial poller: %v", err)
				return
			}
			body := fmt.Sprintf(`{"domain":"hostile","taskList":{"name":"idle-%d"},"identity":"p%d"}`, i%10, i)
			op := "PollForActivityTask"
			if i%2 == 0 {
				op = "PollForDecisionTask"
			}
			if _, err := conn.Write(hostileRequest(op, []byte(body))); err != nil {
				t.Errorf("write poll: %v", err)
			}
			mu.Lock()
			pollConns = append(pollConns, conn)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Idle connections that say nothing at all.
	var idleConns []net.Conn
	for range idle {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial idle %d: %v", len(idleConns), err)
		}
		idleConns = append(idleConns, conn)
	}
	defer func() {
		for _, c := range append(pollConns, idleConns...) {
			c.Close()
		}
	}()
	// The server has taken them all in once every poll waits on its list
	// and every connection has its goroutine.
	waiting := func() int {
		n := 0
		for _, st := range srv.Server.Service.Matcher().Stats() {
			n += st.Waiting
		}
		return n
	}
	waitFor(t, "every poll to wait and every connection to be served", func() bool {
		return waiting() == polls && runtime.NumGoroutine() >= g0+polls+idle
	})
	heap1, g1 := mem()

	// Normal calls keep working, and work reaches a poller promptly.
	start := time.Now()
	for i := range 20 {
		if _, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(hostileDomain), WorkflowId: aws.String(fmt.Sprintf("w%d", i)),
			WorkflowType: &types.WorkflowType{Name: aws.String("hw"), Version: aws.String("1")}}); err != nil {
			t.Fatalf("start beside %d polls and %d idle connections: %v", polls, idle, err)
		}
		d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(hostileDomain), TaskList: &types.TaskList{Name: aws.String("work")}})
		if err != nil || d.TaskToken == nil {
			t.Fatalf("poll beside the crowd: %+v %v", d, err)
		}
		if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{completeWorkflow("ok")}}); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	if took > 15*time.Second {
		t.Errorf("20 workflows beside the crowd took %v", took)
	}
	// A waiting poller gets work handed to it.
	if _, err := c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(hostileDomain), Name: aws.String("ha"), Version: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	heap2, g2 := mem()
	perConn := (heap1 - heap0) * (1 << 20) / float64(polls+idle)
	t.Logf("exhaustion: %d long polls + %d idle connections: heap %.1f MB → %.1f MB (%.1f KB per connection, client side included), goroutines %d → %d; 20 workflows beside them in %v; after: heap %.1f MB, goroutines %d",
		polls, idle, heap0, heap1, perConn/1024, g0, g1, took.Round(time.Millisecond), heap2, g2)
	if perConn > 64<<10 {
		t.Errorf("%.1f KB of heap per connection", perConn/1024)
	}
	// Hang up on everything: the server lets go of it all.
	for _, c := range append(pollConns, idleConns...) {
		c.Close()
	}
	pollConns, idleConns = nil, nil
	var g3 int
	var heap3 float64
	for range 50 {
		time.Sleep(200 * time.Millisecond)
		if heap3, g3 = mem(); g3 < g0+50 {
			break
		}
	}
	t.Logf("exhaustion: after hang-up: heap %.1f MB, goroutines %d", heap3, g3)
	if g3 > g0+50 {
		t.Errorf("goroutines after everyone hung up: %d (started with %d)", g3, g0)
	}
	if heap3 > heap0+32 {
		t.Errorf("heap after everyone hung up: %.1f MB (started with %.1f MB)", heap3, heap0)
	}
}
