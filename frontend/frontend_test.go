package frontend_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
)

// fakeService implements the handful of operations the tests call; any
// other operation panics through the nil embedded interface.
type fakeService struct {
	api.Service
	calls      atomic.Int32
	lastDomain atomic.Value // string
}

func (f *fakeService) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	f.calls.Add(1)
	f.lastDomain.Store(in.Name)
	switch in.Name {
	case "missing":
		return nil, api.ErrUnknownResource("Unknown domain: %s", in.Name)
	case "boom":
		panic("service exploded")
	case "plainerr":
		return nil, errors.New("database is on fire")
	case "unreachable":
		return nil, fmt.Errorf("dial tcp: connection refused: %w", swfd.ErrStorageUnavailable)
	case "wrapped":
		return nil, fmtWrap(api.NewFault(api.DomainDeprecatedFault, "wrapped"))
	}
	return &api.DomainDetail{
		DomainInfo:    api.DomainInfo{Name: in.Name, Status: api.RegistrationStatusRegistered, Arn: "arn:aws:swf:us-east-1:123456789012:/domain/" + in.Name, Description: api.String("<&>")},
		Configuration: api.DomainConfiguration{WorkflowExecutionRetentionPeriodInDays: "7"},
	}, nil
}

type wrapErr struct{ err error }

func (w wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapErr) Unwrap() error { return w.err }
func fmtWrap(err error) error   { return wrapErr{err} }

func (f *fakeService) RegisterDomain(ctx context.Context, in *api.RegisterDomainInput) error {
	f.calls.Add(1)
	f.lastDomain.Store(in.Name)
	return nil
}

func (f *fakeService) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	f.calls.Add(1)
	return &api.DecisionTask{}, nil
}

func (f *fakeService) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	f.calls.Add(1)
	return &api.ActivityTask{}, nil
}

func newServer(t *testing.T) (*httptest.Server, *fakeService) {
	t.Helper()
	svc := &fakeService{}
	srv := httptest.NewServer(&frontend.Handler{Service: svc})
	t.Cleanup(srv.Close)
	return srv, svc
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, srv *httptest.Server, method, target, contentType string, body io.Reader, mod ...func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/", body)
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, m := range mod {
		m(req)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func post(t *testing.T, srv *httptest.Server, op, body string) response {
	t.Helper()
	return do(t, srv, http.MethodPost, "SimpleWorkflowService."+op, "application/x-amz-json-1.0", strings.NewReader(body))
}

// uuidRE matches a random (version 4, RFC 4122 variant) UUID, as AWS's request ids are.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkFault asserts a fault response and returns its message.
func checkFault(t *testing.T, r response, status int, wireType string) string {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if id := r.header.Get("x-amzn-RequestId"); !uuidRE.MatchString(id) {
		t.Errorf("x-amzn-RequestId = %q", id)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("fault body %q is not JSON: %v", r.body, err)
	}
	if len(m) != 2 {
		t.Errorf("fault body has members %v, want exactly __type and message", m)
	}
	if m["__type"] != wireType {
		t.Errorf("__type = %v, want %s", m["__type"], wireType)
	}
	msg, ok := m["message"].(string)
	if !ok {
		t.Errorf("message = %v, want a string", m["message"])
	}
	code := wireType[strings.Index(wireType, "#")+1:]
	// SDKs read the code up to a ':' (a throttling fault's header goes on
	// to name its namespace, as AWS's does).
	if got, _, _ := strings.Cut(r.header.Get("x-amzn-ErrorType"), ":"); got != code {
		t.Errorf("x-amzn-ErrorType = %q, want %q", got, code)
	}
	return msg
}

func TestTargetPrefixesAndContentTypes(t *testing.T) {
	srv, svc := newServer(t)
	for _, target := range []string{
		"SimpleWorkflowService.DescribeDomain",
		"com.amazonaws.swf.service.model.SimpleWorkflowService.DescribeDomain",
	} {
		for _, ct := range []string{"application/x-amz-json-1.0", "application/json", "application/json; charset=utf-8", ""} {
			before := svc.calls.Load()
			r := do(t, srv, http.MethodPost, target, ct, strings.NewReader(`{"name":"d1"}`))
			if r.status != 200 {
				t.Fatalf("%s %q: status %d %s", target, ct, r.status, r.body)
			}
			if svc.calls.Load() != before+1 {
				t.Errorf("%s %q: service not called", target, ct)
			}
			var out map[string]any
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatalf("body %s: %v", r.body, err)
			}
			info := out["domainInfo"].(map[string]any)
			if info["name"] != "d1" || info["status"] != "REGISTERED" || info["description"] != "<&>" {
				t.Errorf("domainInfo = %v", info)
			}
			if !bytes.Contains(r.body, []byte(`"<&>"`)) {
				t.Errorf("HTML characters were escaped: %s", r.body)
			}
			if got := out["configuration"].(map[string]any)["workflowExecutionRetentionPeriodInDays"]; got != "7" {
				t.Errorf("retention = %#v, want string \"7\"", got)
			}
			if r.header.Get("Content-Type") != "application/x-amz-json-1.0" {
				t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
			}
			if !uuidRE.MatchString(r.header.Get("x-amzn-RequestId")) {
				t.Errorf("x-amzn-RequestId = %q", r.header.Get("x-amzn-RequestId"))
			}
		}
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	srv, _ := newServer(t)
	a := post(t, srv, "DescribeDomain", `{"name":"a"}`).header.Get("x-amzn-RequestId")
	b := post(t, srv, "DescribeDomain", `{"name":"a"}`).header.Get("x-amzn-RequestId")
	if a == b {
		t.Errorf("two requests share request id %s", a)
	}
}

func gz(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestGzipBodies(t *testing.T) {
	srv, svc := newServer(t)
	enc := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Content-Encoding", v) }
	}
	r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		bytes.NewReader(gz(t, `{"name":"zipped"}`)), enc("gzip"))
	if r.status != 200 || svc.lastDomain.Load() != "zipped" {
		t.Fatalf("gzip body: status %d %s, service saw %v", r.status, r.body, svc.lastDomain.Load())
	}
	// Legacy clients send Content-Encoding amz-1.0 on a plain body.
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		strings.NewReader(`{"name":"legacy"}`), enc("amz-1.0"))
	if r.status != 200 || svc.lastDomain.Load() != "legacy" {
		t.Fatalf("amz-1.0 body: status %d %s", r.status, r.body)
	}
	// Not gzip at all.
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		strings.NewReader(`{"name":"plain"}`), enc("gzip"))
	checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
	// A gzip stream cut short.
	full := gz(t, `{"name":"`+strings.Repeat("x", 200)+`"}`)
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		bytes.NewReader(full[:len(full)-6]), enc("gzip"))
	checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
	if !strings.Contains(string(r.body), "Request body is not valid gzip: it ends early") {
		t.Errorf("cut gzip: %s", r.body)
	}
	// A corrupted checksum.
	bad := append([]byte(nil), full...)
	bad[len(bad)-5] ^= 0xff
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		bytes.NewReader(bad), enc("gzip"))
	checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
	if !strings.Contains(string(r.body), "Request body is not valid gzip: its checksum does not match") {
		t.Errorf("corrupted gzip: %s", r.body)
	}
	// A small gzip body that inflates past the limit.
	bomb := gz(t, `{"name":"a","pad":"`+strings.Repeat("0", frontend.MaxBodyBytes)+`"}`)
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		bytes.NewReader(bomb), enc("gzip"))
	if r.status < 400 || r.status == 500 {
		t.Errorf("inflating gzip bomb: status %d", r.status)
	}
	var m map[string]string
	json.Unmarshal(r.body, &m)
	if !strings.Contains(m["__type"], "RequestEntityTooLarge") {
		t.Errorf("inflating gzip bomb: %s", r.body)
	}
	// A compressed body that is itself over the limit (sent chunked, so
	// only reading it tells) is too large, not malformed.
	noise := make([]byte, 1200<<10)
	mrand.NewChaCha8([32]byte{1}).Read(noise)
	big := gz(t, `{"name":"a","pad":"`+base64.StdEncoding.EncodeToString(noise)+`"}`)
	if len(big) <= frontend.MaxBodyBytes {
		t.Fatalf("compressed body is only %d bytes", len(big))
	}
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0",
		noLen{bytes.NewReader(big)}, enc("gzip"))
	m = nil
	json.Unmarshal(r.body, &m)
	if !strings.Contains(m["__type"], "RequestEntityTooLarge") {
		t.Errorf("oversized compressed body: %d %s", r.status, r.body)
	}
}

// TestContentEncodings: a body under x-gzip (gzip's older name), or gzip
// listed with identity codings, is decoded as gzip; a coding the server
// does not undo (deflate, br, gzip twice) is a SerializationException
// naming it, not a complaint that the body is not valid UTF-8, and the
// call does not reach the service.
func TestContentEncodings(t *testing.T) {
	srv, svc := newServer(t)
	call := func(body []byte, encodings ...string) response {
		return do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", bytes.NewReader(body),
			func(r *http.Request) {
				for _, e := range encodings {
					r.Header.Add("Content-Encoding", e)
				}
			})
	}
	for i, encs := range [][]string{{"x-gzip"}, {"X-GZIP"}, {"gzip, identity"}, {"identity,gzip"}, {"identity", "gzip"}, {" gzip ,amz-1.0"}} {
		name := fmt.Sprint("zipped-", i)
		r := call(gz(t, `{"name":"`+name+`"}`), encs...)
		if r.status != 200 || svc.lastDomain.Load() != name {
			t.Errorf("Content-Encoding %q: status %d %s, the service saw %v", encs, r.status, r.body, svc.lastDomain.Load())
		}
	}
	svc.lastDomain.Store("")
	compressed := func(w io.WriteCloser, buf *bytes.Buffer) []byte {
		w.Write([]byte(`{"name":"unread"}`))
		w.Close()
		return buf.Bytes()
	}
	var fl, zl bytes.Buffer
	fw, _ := flate.NewWriter(&fl, flate.DefaultCompression)
	for _, c := range []struct {
		encs []string
		body []byte
		says string
	}{
		{[]string{"deflate"}, compressed(fw, &fl), `Content-Encoding "deflate", which is not supported`},
		{[]string{"br"}, []byte{0x0b, 0x02, 0x80}, `Content-Encoding "br", which is not supported`},
		{[]string{"gzip, deflate"}, compressed(zlib.NewWriter(&zl), &zl), `Content-Encoding "deflate", which is not supported`},
		{[]string{"gzip", "x-gzip"}, gz(t, string(gz(t, `{"name":"unread"}`))), `Content-Encoding "x-gzip", which applies gzip more than once`},
		{[]string{"compress"}, []byte(`{"name":"unread"}`), `Content-Encoding "compress", which is not supported`},
		{[]string{strings.Repeat("z", 100)}, []byte(`{"name":"unread"}`), `Content-Encoding "` + strings.Repeat("z", 64) + `"…, which is not supported`},
	} {
		r := call(c.body, c.encs...)
		msg := checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
		if !strings.Contains(msg, c.says) || strings.Contains(msg, "UTF-8") {
			t.Errorf("Content-Encoding %q: fault %q, want one saying %s", c.encs, msg, c.says)
		}
		if got := svc.lastDomain.Load(); got != "" {
			t.Errorf("Content-Encoding %q: the service was called for %v", c.encs, got)
		}
	}
}

// noLen hides a reader's length so the request is sent chunked.
type noLen struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	srv, svc := newServer(t)
	// Exactly the limit is accepted (the padding is an unknown member).
	prefix, suffix := `{"name":"big","pad":"`, `"}`
	exact := prefix + strings.Repeat("p", frontend.MaxBodyBytes-len(prefix)-len(suffix)) + suffix
	if len(exact) != frontend.MaxBodyBytes {
		t.Fatal("bad arithmetic")
	}
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(exact)
		if chunked {
			body = noLen{body}
		}
		r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", body)
		if r.status != 200 {
			t.Errorf("chunked=%v: body of exactly %d bytes: status %d %s", chunked, len(exact), r.status, r.body)
		}
	}
	over := exact[:len(exact)-2] + "p" + suffix
	for _, chunked := range []bool{false, true} {
		before := svc.calls.Load()
		var body io.Reader = strings.NewReader(over)
		if chunked {
			body = noLen{body}
		}
		r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", body)
		if r.status == 200 || r.status == 500 {
			t.Errorf("chunked=%v: body of %d bytes: status %d", chunked, len(over), r.status)
		}
		var m map[string]string
		if err := json.Unmarshal(r.body, &m); err != nil || !strings.Contains(m["__type"], "RequestEntityTooLarge") || m["message"] == "" {
			t.Errorf("chunked=%v: fault body %s", chunked, r.body)
		}
		if svc.calls.Load() != before {
			t.Errorf("chunked=%v: service was called for an oversized body", chunked)
		}
	}
	// A declared Content-Length over the limit is refused without reading.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(over))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("declared oversized body: status %d", resp.StatusCode)
		}
	}
}

func TestUnknownOperation(t *testing.T) {
	srv, svc := newServer(t)
	for _, target := range []string{
		"SimpleWorkflowService.NoSuchOperation",
		"SimpleWorkflowService.",
		"SimpleWorkflowService.describeDomain",
		"AmazonSQS.DescribeDomain",
		"DescribeDomain",
		"",
	} {
		r := do(t, srv, http.MethodPost, target, "application/x-amz-json-1.0", strings.NewReader(`{"name":"x"}`))
		checkFault(t, r, 400, "com.amazon.coral.service#UnknownOperationException")
	}
	// The fault names the target as sent, cut short when long: a header of
	// tens of KB is not sent back whole.
	long := "SimpleWorkflowService." + strings.Repeat("A", 60000)
	r := do(t, srv, http.MethodPost, long, "application/x-amz-json-1.0", strings.NewReader(`{"name":"x"}`))
	msg := checkFault(t, r, 400, "com.amazon.coral.service#UnknownOperationException")
	if want := `Unknown operation "SimpleWorkflowService.` + strings.Repeat("A", 42) + `"…`; msg != want {
		t.Errorf("message %.200q…, want %q", msg, want)
	}
	// A target given twice names no one operation, whichever an
	// intermediary between client and swfd would read: the call is
	// refused, even when both name the same operation.
	for _, targets := range [][]string{
		{"SimpleWorkflowService.DescribeDomain", "SimpleWorkflowService.RegisterDomain"},
		{"SimpleWorkflowService.DescribeDomain", "SimpleWorkflowService.DescribeDomain"},
	} {
		r := do(t, srv, http.MethodPost, targets[0], "application/x-amz-json-1.0", strings.NewReader(`{"name":"x"}`),
			func(r *http.Request) { r.Header.Add("X-Amz-Target", targets[1]) })
		msg := checkFault(t, r, 400, "com.amazon.coral.service#UnknownOperationException")
		if !strings.Contains(msg, "X-Amz-Target is given 2 times") {
			t.Errorf("targets %q: message %q", targets, msg)
		}
	}
	if svc.calls.Load() != 0 {
		t.Errorf("service called %d times", svc.calls.Load())
	}
}

func TestGetIsAFault(t *testing.T) {
	srv, svc := newServer(t)
	for _, target := range []string{"", "SimpleWorkflowService.DescribeDomain"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			r := do(t, srv, method, target, "", nil)
			if r.status < 400 || r.status >= 500 {
				t.Errorf("%s %q: status %d", method, target, r.status)
			}
			var m map[string]string
			if err := json.Unmarshal(r.body, &m); err != nil || m["__type"] == "" {
				t.Errorf("%s %q: body %s", method, target, r.body)
			}
		}
	}
	if svc.calls.Load() != 0 {
		t.Errorf("service called")
	}
}

func TestServiceFault(t *testing.T) {
	srv, _ := newServer(t)
	r := post(t, srv, "DescribeDomain", `{"name":"missing"}`)
	msg := checkFault(t, r, 400, "com.amazonaws.swf.base.model#UnknownResourceFault")
	if msg != "Unknown domain: missing" {
		t.Errorf("message = %q", msg)
	}
	if !bytes.HasPrefix(r.body, []byte(`{"__type":"com.amazonaws.swf.base.model#UnknownResourceFault","message":`)) {
		t.Errorf("body = %s", r.body)
	}
	// A fault wrapped in another error still reaches the client.
	r = post(t, srv, "DescribeDomain", `{"name":"wrapped"}`)
	checkFault(t, r, 400, "com.amazonaws.swf.base.model#DomainDeprecatedFault")
	// A plain error is an internal failure that does not leak its text.
	r = post(t, srv, "DescribeDomain", `{"name":"plainerr"}`)
	msg = checkFault(t, r, 500, "com.amazon.coral.service#InternalFailure")
	if strings.Contains(msg, "fire") {
		t.Errorf("internal error text leaked: %q", msg)
	}
}

func TestValidationFault(t *testing.T) {
	srv, svc := newServer(t)
	r := post(t, srv, "DescribeDomain", `{}`)
	msg := checkFault(t, r, 400, "com.amazon.coral.validate#ValidationException")
	if msg != "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null" {
		t.Errorf("message = %q", msg)
	}
	r = post(t, srv, "DescribeDomain", `{"name":`)
	checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
	r = post(t, srv, "DescribeDomain", `{"name":"a"}}`)
	checkFault(t, r, 400, "com.amazon.coral.service#SerializationException")
	if svc.calls.Load() != 0 {
		t.Errorf("service called for invalid input")
	}
}

func TestEmptyOutput(t *testing.T) {
	srv, svc := newServer(t)
	r := post(t, srv, "RegisterDomain", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1"}`)
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != "0" {
		t.Errorf("status %d, Content-Length %q, body %q", r.status, r.header.Get("Content-Length"), r.body)
	}
	if svc.lastDomain.Load() != "d" {
		t.Errorf("service not called")
	}
	if !uuidRE.MatchString(r.header.Get("x-amzn-RequestId")) {
		t.Errorf("no request id")
	}
}

func TestEmptyPolls(t *testing.T) {
	srv, _ := newServer(t)
	r := post(t, srv, "PollForDecisionTask", `{"domain":"d","taskList":{"name":"tl"}}`)
	if r.status != 200 || string(r.body) != `{"previousStartedEventId":0,"startedEventId":0}` {
		t.Errorf("empty decision poll: %d %s", r.status, r.body)
	}
	r = post(t, srv, "PollForActivityTask", `{"domain":"d","taskList":{"name":"tl"}}`)
	if r.status != 200 || string(r.body) != `{"startedEventId":0}` {
		t.Errorf("empty activity poll: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("taskToken")) {
		t.Errorf("empty poll carries a taskToken")
	}
}

func TestPanicIsInternalFailure(t *testing.T) {
	srv, _ := newServer(t)
	r := post(t, srv, "DescribeDomain", `{"name":"boom"}`)
	msg := checkFault(t, r, 500, "com.amazon.coral.service#InternalFailure")
	if strings.Contains(msg, "exploded") {
		t.Errorf("panic text leaked: %q", msg)
	}
	// An unimplemented method of the fake panics on the nil interface.
	r = post(t, srv, "DeprecateDomain", `{"name":"x"}`)
	checkFault(t, r, 500, "com.amazon.coral.service#InternalFailure")
	// The server keeps serving.
	for i := 0; i < 3; i++ {
		r = post(t, srv, "DescribeDomain", `{"name":"after"}`)
		if r.status != 200 {
			t.Fatalf("after panic: status %d %s", r.status, r.body)
		}
	}
}

func TestObserve(t *testing.T) {
	svc := &fakeService{}
	var got []frontend.Call
	h := &frontend.Handler{Service: svc, CallDomains: true, Observe: func(c *frontend.Call) { got = append(got, *c) }}
	send := func(target, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for _, body := range []string{`{"name":"ok"}`, `{"name":"missing"}`, `{"name":"boom"}`} {
		send("SimpleWorkflowService.DescribeDomain", body)
	}
	send("SimpleWorkflowService.PollForActivityTask", `{"domain":"orders","taskList":{"name":"workers"}}`)
	send("SimpleWorkflowService.NoSuchOperation-"+strings.Repeat("x", 100), `{}`)
	type call struct {
		op, domain, fault string
		status            int
	}
	want := []call{
		{"DescribeDomain", "ok", "", 200},
		{"DescribeDomain", "missing", "UnknownResourceFault", 400},
		{"DescribeDomain", "boom", "InternalFailure", 500},
		{"PollForActivityTask", "orders", "", 200},
		// An operation that does not exist is not named (the target is the
		// client's to choose: no unbounded value reaches a label).
		{"", "", "UnknownOperationException", 400},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if (call{g.Operation, g.Domain, g.Fault, g.Status}) != w {
			t.Errorf("call %d: %+v, want %+v", i, g, w)
		}
		if !uuidRE.MatchString(g.RequestID) || g.Time.IsZero() || g.Duration <= 0 || g.BytesIn == 0 || g.BytesOut == 0 {
			t.Errorf("call %d: request id, time, duration or sizes missing: %+v", i, g)
		}
	}
	if got[0].BytesIn != int64(len(`{"name":"ok"}`)) {
		t.Errorf("bytes in = %d", got[0].BytesIn)
	}
}

// The domain of a task-token call is the task's, told by TaskDomain with
// the request's context (it may read the store to find it); a token that
// names no task, or whose domain cannot be told, leaves it empty.
func TestCallDomainOfTaskToken(t *testing.T) {
	type key struct{}
	long := strings.Repeat("域", 256)
	var admitted []string
	h := &frontend.Handler{Service: &fakeService{},
		TaskDomain: func(ctx context.Context, token string) (string, bool, error) {
			if ctx.Value(key{}) != "request" {
				t.Errorf("TaskDomain(%q) not given the request's context", token)
			}
			switch token {
			case "long":
				return long, true, nil
			case "broken":
				return "", false, errors.New("store down")
			}
			return "", false, nil
		},
		Admit: func(_ context.Context, c *frontend.Call, in any) *api.Fault {
			admitted = append(admitted, c.Operation+"/"+c.Domain)
			return api.NewFault(api.ThrottlingException, "Rate exceeded")
		}}
	for _, c := range []struct{ target, body string }{
		{"RespondActivityTaskCompleted", `{"taskToken":"long"}`},
		{"RecordActivityTaskHeartbeat", `{"taskToken":"long"}`},
		{"RespondDecisionTaskCompleted", `{"taskToken":"unknown"}`},
		{"RespondActivityTaskFailed", `{"taskToken":"broken"}`},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		req = req.WithContext(context.WithValue(req.Context(), key{}, "request"))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+c.target)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	want := []string{"RespondActivityTaskCompleted/" + long, "RecordActivityTaskHeartbeat/" + long, "RespondDecisionTaskCompleted/", "RespondActivityTaskFailed/"}
	if strings.Join(admitted, ",") != strings.Join(want, ",") {
		t.Errorf("admitted %v, want %v", admitted, want)
	}
}

// A call Admit refuses answers Admit's fault, as AWS answers throttling, and
// never reaches the service.
func TestAdmitThrottles(t *testing.T) {
	svc := &fakeService{}
	var admitted []string
	h := &frontend.Handler{Service: svc, Admit: func(_ context.Context, c *frontend.Call, in any) *api.Fault {
		admitted = append(admitted, c.Operation+"/"+c.Domain)
		if in.(*api.DescribeDomainInput).Name == "busy" {
			return api.NewFault(api.ThrottlingException, "Rate exceeded")
		}
		return nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	r := post(t, srv, "DescribeDomain", `{"name":"busy"}`)
	if msg := checkFault(t, r, 400, "com.amazon.coral.availability#ThrottlingException"); msg != "Rate exceeded" {
		t.Errorf("message %q", msg)
	}
	if et := r.header.Get("x-amzn-ErrorType"); et != "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/" {
		t.Errorf("x-amzn-ErrorType = %q", et)
	}
	if r.header.Get("Connection") == "close" {
		t.Error("a throttled caller's connection is closed")
	}
	if n := svc.calls.Load(); n != 0 {
		t.Errorf("the service was called %d times", n)
	}
	if r := post(t, srv, "DescribeDomain", `{"name":"free"}`); r.status != 200 || svc.calls.Load() != 1 {
		t.Errorf("admitted call: status %d, service calls %d", r.status, svc.calls.Load())
	}
	// Malformed calls are refused before Admit is asked.
	post(t, srv, "DescribeDomain", `{"name":""}`)
	if want := []string{"DescribeDomain/busy", "DescribeDomain/free"}; strings.Join(admitted, ",") != strings.Join(want, ",") {
		t.Errorf("admitted %v, want %v", admitted, want)
	}
}

// A call is authorized before it is admitted: one Authorize refuses is
// answered its error and is never put to Admit (so it takes no token) nor
// to the service; one it allows is admitted, then served. Authorize is
// given the call's principal and deadline (CallTimeout).
func TestAuthorizeBeforeAdmit(t *testing.T) {
	svc := &fakeService{}
	var steps []string
	h := &frontend.Handler{Service: svc,
		Auth: func(r *http.Request, body []byte) (*auth.Principal, *api.Fault) {
			return &auth.Principal{Name: r.Header.Get("X-Test-Principal")}, nil
		},
		Authorize: func(ctx context.Context, op string, in any) error {
			p := auth.FromContext(ctx)
			steps = append(steps, "authorize "+op+" by "+p.Name)
			if _, ok := ctx.Deadline(); !ok {
				t.Error("Authorize's context has no deadline")
			}
			if p.Name == "mallory" {
				return api.NewFault(api.OperationNotPermittedFault, "not authorized")
			}
			return nil
		},
		Admit: func(_ context.Context, c *frontend.Call, in any) *api.Fault {
			steps = append(steps, "admit "+c.Operation+" by "+c.Principal)
			return nil
		}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	as := func(name string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Test-Principal", name) }
	}
	r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", strings.NewReader(`{"name":"d"}`), as("mallory"))
	checkFault(t, r, 400, "com.amazonaws.swf.base.model#OperationNotPermittedFault")
	if n := svc.calls.Load(); n != 0 {
		t.Errorf("a denied call reached the service (%d calls)", n)
	}
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", strings.NewReader(`{"name":"d"}`), as("alice"))
	if r.status != 200 || svc.calls.Load() != 1 {
		t.Errorf("an allowed call: status %d, service calls %d", r.status, svc.calls.Load())
	}
	want := []string{"authorize DescribeDomain by mallory", "authorize DescribeDomain by alice", "admit DescribeDomain by alice"}
	if strings.Join(steps, "; ") != strings.Join(want, "; ") {
		t.Errorf("steps %q, want %q", steps, want)
	}
}

// An operation made in-process is described as the API would have
// answered it: its principal and domain, the status and fault of its
// error, ClientClosed when its caller went away.
func TestInProcessCall(t *testing.T) {
	ctx := auth.NewContext(context.Background(), &auth.Principal{Name: "alice"})
	in := &api.TerminateWorkflowExecutionInput{Domain: "shop", WorkflowID: "w"}
	cases := []struct {
		err    error
		status int
		fault  string
	}{
		{nil, 200, ""},
		{api.NewFault(api.UnknownResourceFault, "no such run"), 400, api.UnknownResourceFault},
		{fmt.Errorf("commit: %w", swfd.ErrStorageFull), 503, api.ServiceUnavailable},
		{fmt.Errorf("refused: %w", swfd.ErrStorageUnavailable), 503, api.ServiceUnavailable},
		{errors.New("disk on fire"), 500, api.InternalFailure},
		{context.Canceled, frontend.StatusClientClosed, frontend.ClientClosed},
	}
	for _, c := range cases {
		call := frontend.NewCall(ctx, "TerminateWorkflowExecution", in)
		call.Done(c.err)
		if call.Principal != "alice" || call.Domain != "shop" || call.Operation != "TerminateWorkflowExecution" || call.RequestID == "" ||
			call.Status != c.status || call.Fault != c.fault || call.Duration < 0 {
			t.Errorf("%v: %+v; want status %d, fault %q", c.err, call, c.status, c.fault)
		}
	}
	// An input of another operation names no domain.
	if call := frontend.NewCall(context.Background(), "SignalWorkflowExecution", in); call.Domain != "" || call.Principal != "" {
		t.Errorf("a mismatched input: %+v", call)
	}
}
