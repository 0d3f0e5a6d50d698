package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/clock"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newHandler(t *testing.T, mode clock.Mode) (*Handler, *clock.ManualClock) {
	t.Helper()
	clk := clock.NewManual(t0)
	ctl, err := clock.NewController(mode, clk)
	if err != nil {
		t.Fatal(err)
	}
	ctl.SetEngine(noTimers{}, func() {})
	return &Handler{Clock: ctl, Region: "us-east-1", Account: "123456789012"}, clk
}

type noTimers struct{}

func (noTimers) NextTimer(context.Context, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (noTimers) Overdue(context.Context, time.Time, int) ([]swfd.Timer, error) { return nil, nil }
func (noTimers) Settle(context.Context) (int, error)                           { return 0, nil }
func (noTimers) PurgeExpired(context.Context) error                            { return nil }
func (noTimers) PendingMessages(context.Context) (bool, error)                 { return false, nil }

// call serves one request and returns the status, the fault code (from
// x-amzn-ErrorType) and the decoded body.
func call(h http.Handler, method, path, body string, sign func(*http.Request)) (int, string, map[string]any) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if sign != nil {
		sign(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, w.Header().Get("x-amzn-ErrorType"), out
}

func TestClockCalls(t *testing.T) {
	h, _ := newHandler(t, clock.Manual)
	st, code, out := call(h, "GET", "/swfd/clock", "", nil)
	if st != 200 || code != "" || out["mode"] != "manual" || out["now"] != "2030-01-01T00:00:00.000Z" || out["unixMillis"] != float64(t0.UnixMilli()) {
		t.Fatalf("GET clock: %d %s %v", st, code, out)
	}
	st, _, out = call(h, "POST", "/swfd/clock/advance", `{"duration": "1d12h"}`, nil)
	if st != 200 || out["now"] != "2030-01-02T12:00:00.000Z" || out["timersFired"] != float64(0) {
		t.Fatalf("advance: %d %v", st, out)
	}
	st, _, out = call(h, "POST", "/swfd/clock/advance", `{"duration": 60}`, nil)
	if st != 200 || out["now"] != "2030-01-02T12:01:00.000Z" {
		t.Fatalf("advance by a number of seconds: %d %v", st, out)
	}
	st, _, out = call(h, "POST", "/swfd/clock/set", `{"time": "2030-02-01T00:00:00Z"}`, nil)
	if st != 200 || out["now"] != "2030-02-01T00:00:00.000Z" {
		t.Fatalf("set: %d %v", st, out)
	}
	st, _, out = call(h, "POST", "/swfd/clock/set", `{"time": 1896177600.5}`, nil)
	if st != 200 || out["now"] != "2030-02-01T12:00:00.500Z" {
		t.Fatalf("set to epoch seconds: %d %v", st, out)
	}
}

// Bad input gets a fault naming the member, and the clock stays where it
// was.
func TestBadInputChangesNothing(t *testing.T) {
	h, clk := newHandler(t, clock.Manual)
	cases := []struct{ path, body, code, msg string }{
		{"/swfd/clock/advance", `{"duration": "-1h"}`, "ValidationException", "Value '-1h' at 'duration' failed to satisfy constraint: Member must not be negative: the clock never goes backwards"},
		{"/swfd/clock/advance", `{"duration": -5}`, "ValidationException", "at 'duration' failed to satisfy constraint: Member must not be negative"},
		{"/swfd/clock/advance", `{"duration": "soon"}`, "ValidationException", "Value 'soon' at 'duration' failed to satisfy constraint: Member must be a duration"},
		{"/swfd/clock/advance", `{}`, "ValidationException", "Value null at 'duration'"},
		{"/swfd/clock/advance", `{"duration": null}`, "ValidationException", "Value null at 'duration'"},
		{"/swfd/clock/advance", `{"duration": {"h": 1}}`, "ValidationException", "at 'duration'"},
		{"/swfd/clock/advance", `{"duration": "1h"`, "SerializationException", "not a JSON object"},
		{"/swfd/clock/set", `{"time": "2029-12-31T23:59:59Z"}`, "ValidationException", "Value '2029-12-31T23:59:59Z' at 'time' failed to satisfy constraint: Member must not be before swfd's time 2030-01-01T00:00:00.000Z"},
		{"/swfd/clock/set", `{"time": "tomorrow"}`, "ValidationException", "Value 'tomorrow' at 'time'"},
		{"/swfd/clock/set", `{"time": -1}`, "ValidationException", "at 'time'"},
		{"/swfd/clock/set", `{}`, "ValidationException", "Value null at 'time'"},
		// A time swfd could not store (nor the timers that would follow it).
		{"/swfd/clock/set", `{"time": "9999-12-31T23:00:00Z"}`, "ValidationException", "Value '9999-12-31T23:00:00Z' at 'time' failed to satisfy constraint: Member must not be after 9990-01-01T00:00:00Z"},
		// The value quoted is the one sent, as it was sent.
		{"/swfd/clock/set", `{"time": "2030-01-01T01:00:00+02:00"}`, "ValidationException", "Value '2030-01-01T01:00:00+02:00' at 'time' failed to satisfy constraint: Member must not be before swfd's time 2030-01-01T00:00:00.000Z: the clock never goes backwards (the value is 2029-12-31T23:00:00Z)"},
		{"/swfd/clock/set", `{"time": 1893455999.5}`, "ValidationException", "Value '1893455999.5' at 'time' failed to satisfy constraint: Member must not be before swfd's time 2030-01-01T00:00:00.000Z: the clock never goes backwards (the value is 2029-12-31T23:59:59.5Z)"},
		// Readable but more than one move can take: too large, not unreadable.
		{"/swfd/clock/advance", `{"duration": "99999999h"}`, "ValidationException", "Value '99999999h' at 'duration' failed to satisfy constraint: Member must be at most 106751d (about 292 years) in one move"},
		{"/swfd/clock/advance", `{"duration": 9999999999999999999}`, "ValidationException", "Value '9999999999999999999' at 'duration' failed to satisfy constraint: Member must be at most 106751d"},
		// The clock counts milliseconds: less is refused, not dropped.
		{"/swfd/clock/advance", `{"duration": "1ns"}`, "ValidationException", "Value '1ns' at 'duration' failed to satisfy constraint: Member must be a whole number of milliseconds"},
		{"/swfd/clock/advance", `{"duration": "1500us"}`, "ValidationException", "Value '1500us' at 'duration' failed to satisfy constraint: Member must be a whole number of milliseconds"},
		{"/swfd/dev/reset", ``, "OperationNotPermittedFault", "only available when swfd runs with --dev"},
		{"/swfd/nope", `{}`, "UnknownOperationException", "Unknown swfd API path"},
		{"/swfd/clock", `{}`, "UnknownOperationException", "Use GET /swfd/clock"},
		{"/swfd/clock/advance", strings.Repeat(" ", maxBody+1), "RequestEntityTooLargeException", "exceeds"},
	}
	for _, c := range cases {
		st, code, out := call(h, "POST", c.path, c.body, nil)
		msg, _ := out["message"].(string)
		if code != c.code || !strings.Contains(msg, c.msg) || st < 400 {
			t.Errorf("POST %s %.40s: %d %s %q; want %s %q", c.path, c.body, st, code, msg, c.code, c.msg)
		}
		if typ, _ := out["__type"].(string); !strings.HasSuffix(typ, "#"+c.code) {
			t.Errorf("POST %s: __type %q", c.path, typ)
		}
		if !clk.Now().Equal(t0) {
			t.Fatalf("POST %s %s moved the clock to %v", c.path, c.body, clk.Now())
		}
	}
	if st, code, _ := call(h, "GET", "/swfd/clock/advance", "", nil); code != "UnknownOperationException" || st != 400 {
		t.Errorf("GET advance: %d %s", st, code)
	}
}

// The clock stops short of times swfd cannot store: a move past
// clock.Latest is refused, whether to a time or by a duration, and moves
// nothing.
func TestClockStopsAtLatest(t *testing.T) {
	h, clk := newHandler(t, clock.Manual)
	if st, _, out := call(h, "POST", "/swfd/clock/set", `{"time": "9989-12-31T00:00:00Z"}`, nil); st != 200 {
		t.Fatalf("set to 9989: %d %v", st, out)
	}
	before := clk.Now()
	st, code, out := call(h, "POST", "/swfd/clock/advance", `{"duration": "2d"}`, nil)
	if msg, _ := out["message"].(string); st != 400 || code != "ValidationException" ||
		!strings.Contains(msg, "Value '2d' at 'duration' failed to satisfy constraint: Member must not move the clock past 9990-01-01T00:00:00Z (swfd's time is 9989-12-31T00:00:00.000Z)") {
		t.Fatalf("advance past the latest time: %d %s %v", st, code, out)
	}
	if !clk.Now().Equal(before) {
		t.Fatalf("a refused advance moved the clock to %v", clk.Now())
	}
	if st, _, out := call(h, "POST", "/swfd/clock/advance", `{"duration": "1d"}`, nil); st != 200 || out["now"] != "9990-01-01T00:00:00.000Z" {
		t.Fatalf("advance to the latest time: %d %v", st, out)
	}
}

func TestRealClockCannotMove(t *testing.T) {
	h, _ := newHandler(t, clock.Real)
	ctl, _ := clock.NewController(clock.Real, nil)
	h.Clock = ctl
	_, code, out := call(h, "GET", "/swfd/clock", "", nil)
	if code != "" || out["mode"] != "real" {
		t.Fatalf("GET: %s %v", code, out)
	}
	before := ctl.Now()
	for _, c := range []struct{ path, body string }{{"/swfd/clock/advance", `{"duration": "1h"}`}, {"/swfd/clock/set", `{"time": "2999-01-01T00:00:00Z"}`}} {
		_, code, out := call(h, "POST", c.path, c.body, nil)
		if code != "OperationNotPermittedFault" || !strings.Contains(out["message"].(string), "--clock manual") {
			t.Errorf("POST %s: %s %v", c.path, code, out)
		}
	}
	if ctl.Now().Sub(before) > time.Hour {
		t.Fatal("the real clock moved")
	}
}

func TestReset(t *testing.T) {
	h, _ := newHandler(t, clock.Manual)
	resets := 0
	h.Reset = func(context.Context) error { resets++; return nil }
	if st, code, _ := call(h, "POST", "/swfd/dev/reset", "", nil); st != 200 || code != "" || resets != 1 {
		t.Fatalf("reset: %d %s, %d resets", st, code, resets)
	}
}

const authFile = `{"principals": [
  {"name": "operator", "accessKeys": [{"accessKeyId": "AKIDOPERATOR", "secretAccessKey": "operator-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
  {"name": "tester", "accessKeys": [{"accessKeyId": "AKIDTESTER", "secretAccessKey": "tester-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": ["swfd:AdvanceClock", "swfd:Reset"], "Resource": "arn:aws:swf:us-east-1:123456789012:/swfd/*"}]}]},
  {"name": "no-reset", "accessKeys": [{"accessKeyId": "AKIDNORESET", "secretAccessKey": "noreset-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "*", "Resource": "*"},
     {"Effect": "Deny", "Action": "swfd:Reset", "Resource": "*"}]}]},
  {"name": "no-slash", "accessKeys": [{"accessKeyId": "AKIDNOSLASH", "secretAccessKey": "noslash-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "swfd:AdvanceClock", "Resource": "arn:aws:swf:us-east-1:123456789012:swfd/clock"},
     {"Effect": "Allow", "Action": "swfd:Reset", "Resource": "arn:aws:swf:us-east-1:123456789012:swfd/*"}]}]},
  {"name": "no-slash-deny", "accessKeys": [{"accessKeyId": "AKIDNOSLASHDENY", "secretAccessKey": "noslashdeny-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [
     {"Effect": "Allow", "Action": "*", "Resource": "*"},
     {"Effect": "Deny", "Action": "*", "Resource": ["arn:aws:swf:us-east-1:123456789012:swfd/clock", "arn:aws:swf:us-east-1:123456789012:swfd/dev"]}]}]}]}`

// With authentication on, moving the clock needs swfd:AdvanceClock and
// resetting swfd:Reset (swf:* grants neither); reading it needs a valid
// signature only.
func TestAuthorization(t *testing.T) {
	cfg, err := auth.ParseConfig([]byte(authFile))
	if err != nil {
		t.Fatal(err)
	}
	h, clk := newHandler(t, clock.Manual)
	h.Auth = (&auth.Verifier{Keys: auth.NewKeyring(cfg), Region: "us-east-1"}).Verify
	h.Reset = func(context.Context) error { return nil }
	signer := func(key, secret string) func(*http.Request) {
		return func(r *http.Request) {
			body, _ := readAll(r)
			sum := sha256.Sum256(body)
			v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "swf", "us-east-1", time.Now())
		}
	}
	operator, tester, noReset := signer("AKIDOPERATOR", "operator-secret"), signer("AKIDTESTER", "tester-secret"), signer("AKIDNORESET", "noreset-secret")
	advance := `{"duration": "1h"}`

	if _, code, _ := call(h, "GET", "/swfd/clock", "", nil); code != auth.MissingAuthenticationToken {
		t.Errorf("unsigned GET: %s", code)
	}
	if _, code, _ := call(h, "POST", "/swfd/clock/advance", advance, nil); code != auth.MissingAuthenticationToken {
		t.Errorf("unsigned advance: %s", code)
	}
	if _, code, _ := call(h, "POST", "/swfd/clock/advance", advance, signer("AKIDOPERATOR", "wrong")); code != auth.InvalidSignature {
		t.Errorf("badly signed advance: %s", code)
	}
	if _, code, _ := call(h, "GET", "/swfd/clock", "", operator); code != "" {
		t.Errorf("operator GET: %s", code)
	}
	_, code, out := call(h, "POST", "/swfd/clock/advance", advance, operator)
	if code != "OperationNotPermittedFault" || !strings.Contains(out["message"].(string), "is not authorized to perform: swfd:AdvanceClock on resource: arn:aws:swf:us-east-1:123456789012:/swfd/clock") {
		t.Errorf("operator advance: %s %v", code, out)
	}
	if _, code, _ := call(h, "POST", "/swfd/dev/reset", "", operator); code != "OperationNotPermittedFault" {
		t.Errorf("operator reset: %s", code)
	}
	if !clk.Now().Equal(t0) {
		t.Fatal("a refused call moved the clock")
	}
	if _, code, out := call(h, "POST", "/swfd/clock/advance", advance, tester); code != "" || out["now"] != "2030-01-01T01:00:00.000Z" {
		t.Errorf("tester advance: %s %v", code, out)
	}
	if _, code, _ := call(h, "POST", "/swfd/clock/set", `{"time": "2030-01-02T00:00:00Z"}`, tester); code != "" {
		t.Errorf("tester set: %s", code)
	}
	if _, code, _ := call(h, "POST", "/swfd/dev/reset", "", tester); code != "" {
		t.Errorf("tester reset: %s", code)
	}
	if _, code, _ := call(h, "POST", "/swfd/dev/reset", "", noReset); code != "OperationNotPermittedFault" {
		t.Errorf("explicitly denied reset: %s", code)
	}
}

// A policy may name the clock and the dev server with or without the "/"
// before "swfd", as it may a domain with or without the one before
// "domain": both forms grant, and both deny.
func TestResourceWithoutTheSlash(t *testing.T) {
	cfg, err := auth.ParseConfig([]byte(authFile))
	if err != nil {
		t.Fatal(err)
	}
	h, clk := newHandler(t, clock.Manual)
	h.Auth = (&auth.Verifier{Keys: auth.NewKeyring(cfg), Region: "us-east-1"}).Verify
	resets := 0
	h.Reset = func(context.Context) error { resets++; return nil }
	signer := func(key, secret string) func(*http.Request) {
		return func(r *http.Request) {
			body, _ := readAll(r)
			sum := sha256.Sum256(body)
			v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "swf", "us-east-1", time.Now())
		}
	}
	allowed, denied := signer("AKIDNOSLASH", "noslash-secret"), signer("AKIDNOSLASHDENY", "noslashdeny-secret")
	for _, c := range []struct{ path, body string }{{"/swfd/clock/advance", `{"duration": "1h"}`}, {"/swfd/clock/set", `{"time": "2030-01-01T02:00:00Z"}`}, {"/swfd/dev/reset", ""}} {
		if _, code, out := call(h, "POST", c.path, c.body, denied); code != "OperationNotPermittedFault" {
			t.Errorf("%s denied without the slash: %q %v", c.path, code, out)
		}
		if _, code, out := call(h, "POST", c.path, c.body, allowed); code != "" {
			t.Errorf("%s allowed without the slash: %q %v", c.path, code, out)
		}
	}
	if want := t0.Add(2 * time.Hour); !clk.Now().Equal(want) || resets != 1 {
		t.Errorf("clock at %v, %d resets; want %v and 1", clk.Now(), resets, want)
	}
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	r.Body = readCloser{bytes.NewReader(b.Bytes())}
	return b.Bytes(), err
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// Epoch seconds with milliseconds name that millisecond exactly, as the
// clock's own unixMillis does: read as a binary fraction they came out a
// hair before it, so setting the clock to its own time was refused as a
// move backwards, and a later millisecond moved it one short.
func TestSetToEpochMillisecondsExactly(t *testing.T) {
	h, _ := newHandler(t, clock.Manual)
	sec := t0.Unix()
	for i, tc := range []struct{ body, want string }{
		{fmt.Sprintf(`{"time": %d.626}`, sec), "2030-01-01T00:00:00.626Z"},
		{fmt.Sprintf(`{"time": %d.626}`, sec), "2030-01-01T00:00:00.626Z"},
		{fmt.Sprintf(`{"time": "%d.626"}`, sec), "2030-01-01T00:00:00.626Z"},
		{fmt.Sprintf(`{"time": %d.627}`, sec), "2030-01-01T00:00:00.627Z"},
		{fmt.Sprintf(`{"time": "%d.628000"}`, sec), "2030-01-01T00:00:00.628Z"},
		{fmt.Sprintf(`{"time": %d}`, sec+1), "2030-01-01T00:00:01.000Z"},
		{fmt.Sprintf(`{"time": %d.5e0}`, sec+1), "2030-01-01T00:00:01.500Z"},
	} {
		st, code, out := call(h, "POST", "/swfd/clock/set", tc.body, nil)
		if st != 200 || out["now"] != tc.want {
			t.Errorf("%d: set %s: %d %s %v; want %s", i, tc.body, st, code, out, tc.want)
		}
	}
}

// A duration given as a JSON number is seconds however the number is
// written: a client that works out a duration as a float (Python's
// timedelta.total_seconds() gives 86400.0) sent a whole number of seconds
// and was told it must be one.
func TestAdvanceBySecondsAsAnyNumber(t *testing.T) {
	h, _ := newHandler(t, clock.Manual)
	for i, tc := range []struct{ body, want string }{
		{`{"duration": 86400.0}`, "2030-01-02T00:00:00.000Z"},
		{`{"duration": 1.5}`, "2030-01-02T00:00:01.500Z"},
		{`{"duration": 1e3}`, "2030-01-02T00:16:41.500Z"},
		{`{"duration": 0.001}`, "2030-01-02T00:16:41.501Z"},
		{`{"duration": 60}`, "2030-01-02T00:17:41.501Z"},
		{`{"duration": -0.0}`, "2030-01-02T00:17:41.501Z"},
		{`{"duration": -0}`, "2030-01-02T00:17:41.501Z"},
	} {
		st, code, out := call(h, "POST", "/swfd/clock/advance", tc.body, nil)
		if st != 200 || out["now"] != tc.want {
			t.Errorf("%d: advance %s: %d %s %v; want %s", i, tc.body, st, code, out, tc.want)
		}
	}
	for _, tc := range []struct{ body, fault string }{
		{`{"duration": -1.5}`, "Value '-1.5' at 'duration' failed to satisfy constraint: Member must not be negative"},
		{`{"duration": 0.0005}`, "Value '0.0005' at 'duration' failed to satisfy constraint: Member must be a whole number of milliseconds"},
		{`{"duration": 1e300}`, "Value '1e300' at 'duration' failed to satisfy constraint: Member must be at most 106751d"},
		{`{"duration": 1e400}`, "Value '1e400' at 'duration' failed to satisfy constraint: Member must be at most 106751d"},
		{`{"duration": -1e400}`, "Value '-1e400' at 'duration' failed to satisfy constraint: Member must not be negative"},
	} {
		st, code, out := call(h, "POST", "/swfd/clock/advance", tc.body, nil)
		if msg, _ := out["message"].(string); st != 400 || code != "ValidationException" || !strings.Contains(msg, tc.fault) {
			t.Errorf("advance %s: %d %s %v; want %s", tc.body, st, code, out, tc.fault)
		}
	}
}

// A body that is JSON but not an object, or not JSON, is a
// SerializationException in swfd's words: the decoder's said "Go value of
// type struct { Duration json.RawMessage … }", which is how swfd is built,
// not what is wrong with the request.
func TestBodyNotAnObjectSaysSoPlainly(t *testing.T) {
	h, clk := newHandler(t, clock.Manual)
	for _, c := range []struct{ body, msg string }{
		{`[1]`, "Request body is not a JSON object: it is an array"},
		{`"1h"`, "Request body is not a JSON object: it is a string"},
		{`3600`, "Request body is not a JSON object: it is a number"},
		{`true`, "Request body is not a JSON object: it is a bool"},
		{`{"duration": "1h"} x`, "Request body is not a JSON object: trailing data after the JSON value"},
		{`{"duration": "1h",}`, "Request body is not a JSON object: not valid JSON at byte 19"},
		{`{"duration": "1h"`, "Request body is not a JSON object: the JSON ends before it is complete"},
	} {
		for _, path := range []string{"/swfd/clock/advance", "/swfd/clock/set"} {
			st, code, out := call(h, "POST", path, c.body, nil)
			msg, _ := out["message"].(string)
			if st != 400 || code != "SerializationException" || msg != c.msg {
				t.Errorf("POST %s %s: %d %s %q; want 400 SerializationException %q", path, c.body, st, code, msg, c.msg)
			}
		}
	}
	if !clk.Now().Equal(t0) {
		t.Errorf("the clock moved to %v", clk.Now())
	}
}

// The clock counts milliseconds, as SWF's timestamps do: a time finer than
// that is refused, naming the member, and moves nothing. It was cut to the
// millisecond before it, so the clock showed a time other than the one it
// was set to. A finer spelling of a whole millisecond (trailing zeros, an
// exponent) is that millisecond exactly.
func TestSetRefusesTimesFinerThanAMillisecond(t *testing.T) {
	h, clk := newHandler(t, clock.Manual)
	sec := t0.Unix()
	for _, body := range []string{
		`{"time": "2030-01-01T00:00:00.0005Z"}`,
		`{"time": "2030-01-01T00:00:01.1234+00:00"}`,
		`{"time": "2030-01-01T00:00:01.000000001Z"}`,
		fmt.Sprintf(`{"time": %d.0005}`, sec),
		fmt.Sprintf(`{"time": "%d.6289"}`, sec),
		fmt.Sprintf(`{"time": %d.6289e0}`, sec),
		`{"time": 1.8934560006289e9}`,
	} {
		st, code, out := call(h, "POST", "/swfd/clock/set", body, nil)
		msg, _ := out["message"].(string)
		if st != 400 || code != "ValidationException" || !strings.Contains(msg, "at 'time' failed to satisfy constraint: Member must be a whole number of milliseconds") {
			t.Errorf("set %s: %d %s %q; want a ValidationException naming time", body, st, code, msg)
		}
		if !clk.Now().Equal(t0) {
			t.Fatalf("set %s moved the clock to %v", body, clk.Now())
		}
	}
	for i, tc := range []struct{ body, want string }{
		{`{"time": "2030-01-01T00:00:00.500000000Z"}`, "2030-01-01T00:00:00.500Z"},
		{`{"time": 1.893456000626e9}`, "2030-01-01T00:00:00.626Z"},
		{fmt.Sprintf(`{"time": "%d.627000"}`, sec), "2030-01-01T00:00:00.627Z"},
	} {
		st, code, out := call(h, "POST", "/swfd/clock/set", tc.body, nil)
		if st != 200 || out["now"] != tc.want {
			t.Errorf("%d: set %s: %d %s %v; want %s", i, tc.body, st, code, out, tc.want)
		}
	}
}

// A reset's body, if any, is a JSON object, as every other call's: one
// that is not JSON, or JSON but not an object, is refused with a
// SerializationException saying what is wrong, and resets nothing (it
// reset the server, whatever its body). No body, or an object (its
// members, none of which a reset has, ignored as the SWF API ignores
// unknown members), resets.
func TestResetRefusesABodyNotAnObject(t *testing.T) {
	h, _ := newHandler(t, clock.Manual)
	resets := 0
	h.Reset = func(context.Context) error { resets++; return nil }
	for _, c := range []struct{ body, msg string }{
		{`garbage`, "Request body is not a JSON object: not valid JSON at byte 1"},
		{`[1]`, "Request body is not a JSON object: it is an array"},
		{`"all"`, "Request body is not a JSON object: it is a string"},
		{`null`, "Request body is not a JSON object: it is null"},
		{`{}x`, "Request body is not a JSON object: trailing data after the JSON value"},
		{`{`, "Request body is not a JSON object: the JSON ends before it is complete"},
	} {
		st, code, out := call(h, "POST", "/swfd/dev/reset", c.body, nil)
		msg, _ := out["message"].(string)
		if st != 400 || code != "SerializationException" || msg != c.msg {
			t.Errorf("reset %s: %d %s %q; want 400 SerializationException %q", c.body, st, code, msg, c.msg)
		}
	}
	if resets != 0 {
		t.Fatalf("%d resets by bodies refused", resets)
	}
	for _, body := range []string{``, ` `, `{}`, `{"x": 1}`} {
		if st, code, _ := call(h, "POST", "/swfd/dev/reset", body, nil); st != 200 || code != "" {
			t.Errorf("reset %q: %d %s", body, st, code)
		}
	}
	if resets != 4 {
		t.Fatalf("%d resets; want 4", resets)
	}
}
