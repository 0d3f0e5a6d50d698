package auth

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// spacedValues are signed header values whose whitespace signers fold in
// different ways: tabs inside, runs of spaces, no-break spaces (U+00A0) and
// other Unicode spaces, at the ends and inside.
var spacedValues = []struct{ name, value string }{
	{"tab inside", "order\t42"},
	{"tabs and spaces", "order \t 42\t\tshipped"},
	{"runs of spaces", "  order   42  "},
	{"tab at the ends", "\torder 42\t"},
	{"no-break space inside", "order\u00a042"},
	{"no-break spaces at the ends", "\u00a0order 42\u00a0"},
	{"space and no-break space", "order \u00a0 42"},
	{"em spaces", "order\u2003\u200342"},
	{"ideographic space", "order\u3000\u300042"},
	{"next line and narrow no-break", "order\u0085\u202f42"},
}

// unspaced is v with every white space taken out: a change a signature
// must not let through, whichever way the signer folded v.
func unspaced(v string) string { return strings.Join(strings.Fields(v), "") }

// A signed header whose value holds tabs, runs of spaces, no-break or
// other Unicode spaces is accepted as aws-sdk-go-v2 signs it (the value
// trimmed at both ends of every white space, runs of ASCII spaces inside
// folded to one, tabs and other spaces inside kept), and refused once the
// value is changed.
func TestVerifyHeaderWhitespaceGoSDK(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	for _, c := range spacedValues {
		t.Run(c.name, func(t *testing.T) {
			for _, header := range []string{"X-Amz-Meta-Note", "X-Order-Note"} {
				req := vs.newRequest(t, body)
				req.Header.Set(header, c.value)
				sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
				if st, out := vs.do(t, req); st != 200 || out != "ok operator "+testKey {
					t.Errorf("%s %q signed by aws-sdk-go-v2: %d %s", header, c.value, st, out)
				}

				req = vs.newRequest(t, body)
				req.Header.Set(header, c.value)
				sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
				req.Header.Set(header, unspaced(c.value))
				if st, out := vs.do(t, req); st != 400 || !strings.HasPrefix(out, InvalidSignature+" ") {
					t.Errorf("%s %q changed to %q after signing: %d %s", header, c.value, unspaced(c.value), st, out)
				}
			}
		})
	}
}

// A query string, which SWF's clients do not send but one may add, is
// accepted as aws-sdk-go-v2 signs it: the SDK decodes it ('+' as a space),
// encodes every name and value again (a space as %20, every character but
// A-Z a-z 0-9 - _ . ~ as %XX) and sends what it signed.
func TestVerifyQueryGoSDK(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{}`
	for _, q := range []string{
		"a=x+y", "a=x%20y", "a=x%2By", "a=b/c:d@e", "a=%2F%3A%40", "z=1&a=!$'()*,", "a=%7E~&b=%41", "a=1&a=%20&a=+",
		"k%20ey=v+al", "a", "a=&b", "a=caf%C3%A9",
	} {
		req := vs.newRequest(t, body)
		req.URL.RawQuery = q
		sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
		if st, out := vs.do(t, req); st != 200 {
			t.Errorf("query %q (sent as %q): %d %s", q, req.URL.RawQuery, st, out)
		}
	}
}

// botocoreSignScript signs each request given as JSON on stdin with
// botocore's SigV4Auth, sends it with botocore's own HTTP session (so the
// bytes on the wire are botocore's, header values in UTF-8 as its endpoint
// sends them), with the headers of "after" put in
// place after signing, and prints each status and body.
const botocoreSignScript = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
c = json.load(sys.stdin)
session = URLLib3Session()
out = []
for r in c["requests"]:
    req = AWSRequest(method="POST", url=r["url"], data=c["body"].encode(), headers=r["headers"])
    SigV4Auth(Credentials(c["key"], c["secret"]), "swf", "us-east-1").add_auth(req)
    for k, v in r.get("after", {}).items():
        del req.headers[k]
        req.headers[k] = v
    # As botocore's endpoint does before it sends a request: header
    # values go out in UTF-8.
    items = list(req.headers.items())
    for k in {k for k, _ in items}:
        del req.headers[k]
    for k, v in items:
        req.headers[k] = v.encode("utf-8") if isinstance(v, str) else v
    resp = session.send(req.prepare())
    out.append({"status": resp.status_code, "body": resp.text})
print(json.dumps(out))
`

type botoRequest struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	After   map[string]string `json:"after,omitempty"`
}

type botoResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// botocoreSend signs and sends reqs with botocore; it skips the test when
// python3 or botocore is not there.
func botocoreSend(t *testing.T, body string, reqs []botoRequest) []botoResult {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	if err := exec.Command(py, "-c", "import botocore").Run(); err != nil {
		t.Skip("botocore not installed")
	}
	script := filepath.Join(t.TempDir(), "sign.py")
	if err := os.WriteFile(script, []byte(botocoreSignScript), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(map[string]any{"key": testKey, "secret": testSecret, "body": body, "requests": reqs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HTTP_PROXY=") && !strings.HasPrefix(kv, "http_proxy=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_PROXY=*")
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("botocore: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("botocore: %v", err)
	}
	var res []botoResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(reqs) {
		t.Fatalf("botocore output %q: %v", out, err)
	}
	return res
}

// The same header values signed by botocore, which folds every run of
// white space (Python's: tabs, no-break and other Unicode spaces) into one
// space and trims the ends, are accepted; changed after signing, refused.
// So are query strings botocore signs as they are written, without
// decoding or encoding them again ('+' and '/' stay as they are).
func TestVerifyBotocoreSigned(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	base := map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "SimpleWorkflowService.ListDomains"}
	with := func(k, v string) map[string]string {
		h := map[string]string{k: v}
		for bk, bv := range base {
			h[bk] = bv
		}
		return h
	}
	type check struct {
		what string
		req  botoRequest
		ok   bool
	}
	var checks []check
	for _, c := range spacedValues {
		for _, header := range []string{"X-Amz-Meta-Note", "X-Order-Note"} {
			checks = append(checks,
				check{header + " " + c.name, botoRequest{URL: vs.URL + "/", Headers: with(header, c.value)}, true},
				check{header + " " + c.name + ", changed after signing", botoRequest{URL: vs.URL + "/", Headers: with(header, c.value), After: map[string]string{header: unspaced(c.value)}}, false})
		}
	}
	for _, q := range []string{"a=x+y", "a=x%20y", "b=2&a=x+y&c=d/e", "a=b:c@d,e", "a=%2F%3A", "z=1&a=!$'()*", "a", "a=1&a=+&a=%20"} {
		checks = append(checks, check{"query " + q, botoRequest{URL: vs.URL + "/?" + q, Headers: base}, true})
	}
	checks = append(checks, check{"a signed header changed after signing, with a query", botoRequest{URL: vs.URL + "/?a=x+y", Headers: with("X-Amz-Meta-Note", "n"), After: map[string]string{"X-Amz-Meta-Note": "m"}}, false})
	reqs := make([]botoRequest, len(checks))
	for i, c := range checks {
		reqs[i] = c.req
	}
	for i, res := range botocoreSend(t, body, reqs) {
		c := checks[i]
		switch {
		case c.ok && (res.Status != 200 || res.Body != "ok operator "+testKey):
			t.Errorf("%s (%q): %d %s", c.what, c.req.Headers, res.Status, res.Body)
		case !c.ok && (res.Status != 400 || !strings.HasPrefix(res.Body, InvalidSignature+" ")):
			t.Errorf("%s (%q): %d %s", c.what, c.req.Headers, res.Status, res.Body)
		}
	}
}
