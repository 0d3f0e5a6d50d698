package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/swfd/swfd/internal/lograte"
)

const (
	testKey    = "AKIDOPERATOR0001"
	testSecret = "operator/secret+key"
)

func testConfig(t testing.TB) *Config {
	t.Helper()
	c, err := ParseConfig([]byte(`{"principals": [
		{"name": "operator", "accessKeys": [{"accessKeyId": "AKIDOPERATOR0001", "secretAccessKey": "operator/secret+key"}],
		 "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyServer runs a Verifier behind a real HTTP server, answering
// "ok <principal> <key>" or the fault code and message.
type verifyServer struct {
	*httptest.Server
	now atomic.Pointer[time.Time]
}

func newVerifyServer(t *testing.T) *verifyServer {
	t.Helper()
	return startVerifyServer(t, false)
}

// startVerifyServer starts a verifyServer, over HTTPS and HTTP/2 if http2.
func startVerifyServer(t *testing.T, http2 bool) *verifyServer {
	t.Helper()
	return startVerifyServerOn(t, nil, http2)
}

// newVerifyServerOn starts a verifyServer over HTTP on the listener ln.
func newVerifyServerOn(t *testing.T, ln net.Listener) *verifyServer {
	t.Helper()
	return startVerifyServerOn(t, ln, false)
}

// startVerifyServerOn starts a verifyServer on ln (a loopback port if
// nil), over HTTPS and HTTP/2 if http2.
func startVerifyServerOn(t *testing.T, ln net.Listener, http2 bool) *verifyServer {
	t.Helper()
	vs := &verifyServer{}
	now := time.Now()
	vs.now.Store(&now)
	v := &Verifier{Keys: NewKeyring(testConfig(t)), Region: "us-east-1", Now: func() time.Time { return *vs.now.Load() }}
	vs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, f := v.Verify(r, body)
		if f != nil {
			st, _ := FaultHTTPStatus(f.Code)
			w.WriteHeader(st)
			io.WriteString(w, f.Code+" "+f.Message)
			return
		}
		io.WriteString(w, "ok "+p.Name+" "+p.AccessKeyID)
	}))
	if ln != nil {
		vs.Listener.Close()
		vs.Listener = ln
	}
	if http2 {
		vs.EnableHTTP2 = true
		vs.StartTLS()
	} else {
		vs.Start()
	}
	t.Cleanup(vs.Close)
	return vs
}

// newRequest builds a request as the Go SDK sends it.
func (vs *verifyServer) newRequest(t *testing.T, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, vs.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
	return req
}

func payloadHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func sign(t *testing.T, req *http.Request, body, key, secret, service, region string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req, payloadHash(body), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

func (vs *verifyServer) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestVerifyAccepts(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	cases := []struct {
		name string
		prep func(req *http.Request)
	}{
		{"sdk request", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
		}},
		{"with content hash", func(req *http.Request) {
			req.Header.Set("X-Amz-Content-Sha256", payloadHash(body))
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
		}},
		{"with an empty session token header", func(req *http.Request) {
			// An empty X-Amz-Security-Token carries no token: the
			// request is signed with the long-term key alone.
			req.Header.Set("X-Amz-Security-Token", "")
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
		}},
		{"4 minutes old", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now().Add(-4*time.Minute))
		}},
		{"4 minutes ahead", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now().Add(4*time.Minute))
		}},
		{"query string", func(req *http.Request) {
			req.URL.RawQuery = "b=2&a=x%20y&a=1"
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
		}},
		{"only host;x-amz-date;x-amz-target signed", func(req *http.Request) {
			// What aws-sdk 2.0.31 for JavaScript signs: sign a copy
			// without Content-Type, then send the Content-Type unsigned.
			req.Header.Del("Content-Type")
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now())
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := vs.newRequest(t, body)
			c.prep(req)
			st, out := vs.do(t, req)
			if st != 200 || out != "ok operator "+testKey {
				t.Fatalf("%d %s", st, out)
			}
		})
	}
}

// boto 2 sends "Host: 127.0.0.1" (no port) but signs the host with the
// port.
func TestVerifyHostWithoutPort(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{}`
	req := vs.newRequest(t, body)
	sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now()) // signs 127.0.0.1:PORT
	req.Host = strings.Split(req.URL.Host, ":")[0]
	if st, out := vs.do(t, req); st != 200 {
		t.Fatalf("%d %s", st, out)
	}
}

// The same over IPv6: "Host: [::1]" is signed as "[::1]:PORT", not with
// the brackets doubled.
func TestVerifyIPv6HostWithoutPort(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	vs := newVerifyServerOn(t, ln)
	body := `{}`
	req := vs.newRequest(t, body)
	sign(t, req, body, testKey, testSecret, "swf", "us-east-1", time.Now()) // signs [::1]:PORT
	req.Host = "[::1]"
	if st, out := vs.do(t, req); st != 200 {
		t.Fatalf("%d %s", st, out)
	}
}

// The JavaScript SDK's HTTP/2 handler sends no host header and signs the
// :authority pseudo-header in its place (with the same value). That is
// accepted over HTTP/2, where the pseudo-header exists, and refused over
// HTTP/1.1, where the host would then go unsigned.
func TestVerifyAuthorityOverHTTP2(t *testing.T) {
	body := `{"registrationStatus":"REGISTERED"}`
	for _, c := range []struct {
		http2 bool
		want  int
		out   string
	}{
		{true, 200, "ok operator " + testKey},
		{false, 400, InvalidSignature + " 'Host' must be a signed header"},
	} {
		vs := startVerifyServer(t, c.http2)
		req := vs.newRequest(t, body)
		signAuthority(req, body, time.Now())
		resp, err := vs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantMajor := map[bool]int{true: 2, false: 1}[c.http2]; resp.ProtoMajor != wantMajor {
			t.Fatalf("served over %s", resp.Proto)
		}
		if resp.StatusCode != c.want || !strings.HasPrefix(string(out), c.out) {
			t.Errorf("http2 %v: %d %s, want %d %s", c.http2, resp.StatusCode, out, c.want, c.out)
		}
	}
}

// signAuthority signs req as the JavaScript SDK signs an HTTP/2 request:
// ":authority" (the host and port) instead of "host", with content-type,
// x-amz-date and x-amz-target. It is written out here, apart from the
// verifier's own code, so that the two cannot share a mistake.
func signAuthority(req *http.Request, body string, at time.Time) {
	amzDate := at.UTC().Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	signed := ":authority;content-type;x-amz-date;x-amz-target"
	creq := strings.Join([]string{
		"POST", "/", "",
		":authority:" + req.URL.Host,
		"content-type:" + req.Header.Get("Content-Type"),
		"x-amz-date:" + amzDate,
		"x-amz-target:" + req.Header.Get("X-Amz-Target"),
		"",
		signed,
		payloadHash(body),
	}, "\n")
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	scope := day + "/us-east-1/swf/aws4_request"
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := mac(mac(mac(mac([]byte("AWS4"+testSecret), day), "us-east-1"), "swf"), "aws4_request")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/"+scope+", SignedHeaders="+signed+
		", Signature="+hex.EncodeToString(mac(key, sts)))
}

func TestVerifyFailures(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	now := time.Now()
	signed := func(req *http.Request) { sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now) }
	cases := []struct {
		name   string
		prep   func(req *http.Request)
		status int
		code   string
		msg    string
	}{
		{"no Authorization", func(req *http.Request) {}, 403, MissingAuthenticationToken, "Request is missing Authentication Token"},
		{"legacy AWS3 header only", func(req *http.Request) {
			req.Header.Set("X-Amzn-Authorization", "AWS3 AWSAccessKeyId=x,Algorithm=HmacSHA256,Signature=y")
		}, 403, MissingAuthenticationToken, ""},
		{"unknown access key", func(req *http.Request) {
			sign(t, req, body, "AKIDUNKNOWN", testSecret, "swf", "us-east-1", now)
		}, 400, UnrecognizedClient, "The security token included in the request is invalid."},
		{"wrong secret", func(req *http.Request) {
			sign(t, req, body, testKey, "not the secret", "swf", "us-east-1", now)
		}, 400, InvalidSignature, "The request signature we calculated does not match"},
		{"body changed after signing", func(req *http.Request) {
			signed(req)
			req.Body = io.NopCloser(strings.NewReader(`{"registrationStatus":"DEPRECATED"}`))
		}, 400, InvalidSignature, "does not match"},
		{"signed header changed", func(req *http.Request) {
			signed(req)
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DeprecateDomain")
		}, 400, InvalidSignature, "does not match"},
		{"content hash header lies", func(req *http.Request) {
			req.Header.Set("X-Amz-Content-Sha256", payloadHash("other"))
			signed(req)
		}, 400, InvalidSignature, "x-amz-content-sha256"},
		{"unsigned payload", func(req *http.Request) {
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			signed(req)
		}, 400, InvalidSignature, "The 'x-amz-content-sha256' header is 'UNSIGNED-PAYLOAD', not the SHA-256 of the request body in hex: the body of an SWF request must be signed"},
		{"streamed payload", func(req *http.Request) {
			req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
			signed(req)
		}, 400, InvalidSignature, "is 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', not the SHA-256"},
		{"not SigV4", func(req *http.Request) {
			req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
		}, 400, IncompleteSignature, "Signature Version 4"},
		{"missing parts", func(req *http.Request) {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20240101/us-east-1/swf/aws4_request")
			req.Header.Set("X-Amz-Date", now.UTC().Format(amzDateFmt))
		}, 400, IncompleteSignature, "requires the 'Signature' parameter. The Authorization header requires the 'SignedHeaders' parameter."},
		{"no equal sign", func(req *http.Request) {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+" /20240101/us-east-1/swf/aws4_request, SignedHeaders=host, Signature=00, junk")
		}, 400, IncompleteSignature, "not a key=value pair"},
		{"short credential", func(req *http.Request) {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20240101/us-east-1, SignedHeaders=host;x-amz-date, Signature=00")
			req.Header.Set("X-Amz-Date", now.UTC().Format(amzDateFmt))
		}, 400, IncompleteSignature, "Credential must have the form"},
		{"no date", func(req *http.Request) {
			signed(req)
			req.Header.Del("X-Amz-Date")
		}, 400, IncompleteSignature, "'X-Amz-Date' or a 'Date' header"},
		{"bad date", func(req *http.Request) {
			signed(req)
			req.Header.Set("X-Amz-Date", "yesterday")
		}, 400, IncompleteSignature, "ISO 8601"},
		{"expired", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now.Add(-6*time.Minute))
		}, 400, InvalidSignature, "Signature expired: " + now.Add(-6*time.Minute).UTC().Format(amzDateFmt) + " is now earlier than "},
		{"from the future", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now.Add(6*time.Minute))
		}, 400, InvalidSignature, "Signature not yet current: "},
		{"wrong region", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "swf", "eu-west-1", now)
		}, 400, InvalidSignature, "scoped to region 'us-east-1' and service 'swf'"},
		{"wrong service", func(req *http.Request) {
			sign(t, req, body, testKey, testSecret, "sqs", "us-east-1", now)
		}, 400, InvalidSignature, "scoped to region"},
		{"scope date differs", func(req *http.Request) {
			signed(req)
			a := req.Header.Get("Authorization")
			d := now.UTC().Format(scopeDateFmt)
			req.Header.Set("Authorization", strings.Replace(a, "/"+d+"/", "/19990101/", 1))
		}, 400, InvalidSignature, "date in the credential scope"},
		{"bad terminator", func(req *http.Request) {
			signed(req)
			req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "aws4_request", "aws5_request", 1))
		}, 400, InvalidSignature, "must end in 'aws4_request'"},
		{"host not signed", func(req *http.Request) {
			signed(req)
			a := req.Header.Get("Authorization")
			req.Header.Set("Authorization", strings.Replace(a, "host;", "", 1))
		}, 400, InvalidSignature, "'Host' must be a signed header"},
		{"date not signed", func(req *http.Request) {
			signed(req)
			a := req.Header.Get("Authorization")
			req.Header.Set("Authorization", strings.Replace(a, ";x-amz-date", "", 1))
		}, 400, InvalidSignature, "'x-amz-date' must be a signed header"},
		{"boto 2 host-derived scope", func(req *http.Request) {
			// What boto 2 signs with when it is not told the region and
			// service: 127.0.0.1 gives service "127", region "0".
			sign(t, req, body, testKey, testSecret, "127", "0", now)
		}, 400, InvalidSignature, "scoped to region 'us-east-1' and service 'swf', not '0/127'"},
		{"X-Amz-Target not signed", func(req *http.Request) {
			// A signature that does not cover the operation: the same
			// signature would do for DeprecateDomain.
			req.Header.Del("X-Amz-Target")
			signed(req)
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DeprecateDomain")
		}, 400, IncompleteSignature, "Every x-amz-* header must be signed: add x-amz-target to SignedHeaders."},
		{"x-amz headers not signed", func(req *http.Request) {
			signed(req)
			req.Header.Set("X-Amz-User-Agent", "aws-sdk-js/2.0.31")
			req.Header.Set("x-amz-meta-thing", "1")
		}, 400, IncompleteSignature, "add x-amz-meta-thing, x-amz-user-agent to SignedHeaders"},
		{"duplicate Signature", func(req *http.Request) {
			signed(req)
			req.Header.Set("Authorization", req.Header.Get("Authorization")+", Signature=00")
		}, 400, IncompleteSignature, "names the 'Signature' parameter more than once"},
		{"duplicate Credential", func(req *http.Request) {
			signed(req)
			a := req.Header.Get("Authorization")
			req.Header.Set("Authorization", strings.Replace(a, "Credential=", "Credential=AKIDOTHER/20240101/us-east-1/swf/aws4_request, Credential=", 1))
		}, 400, IncompleteSignature, "names the 'Credential' parameter more than once"},
		{"unknown parameter", func(req *http.Request) {
			signed(req)
			req.Header.Set("Authorization", req.Header.Get("Authorization")+", Extra=1")
		}, 400, IncompleteSignature, "'Extra' is not a parameter of the Authorization header"},
		{"signature not hex", func(req *http.Request) {
			signed(req)
			a := req.Header.Get("Authorization")
			i := strings.Index(a, "Signature=")
			req.Header.Set("Authorization", a[:i]+"Signature=zz")
		}, 400, InvalidSignature, "does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := vs.newRequest(t, body)
			c.prep(req)
			st, out := vs.do(t, req)
			if st != c.status || !strings.HasPrefix(out, c.code+" ") || !strings.Contains(out, c.msg) {
				t.Fatalf("got %d %q, want %d %s ...%s", st, out, c.status, c.code, c.msg)
			}
		})
	}
}

// swfd issues no temporary credentials, so no session token belongs to any
// of its keys: a request that carries one (X-Amz-Security-Token as a
// header or in the query), signed with a long-term key of the auth file
// or not, is refused as AWS refuses a token that does not go with the
// key, before its signature is looked at.
func TestVerifyRefusesSessionToken(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{"registrationStatus":"REGISTERED"}`
	now := time.Now()
	withToken := func(key, secret, token string) func(req *http.Request) {
		return func(req *http.Request) {
			err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token},
				req, payloadHash(body), "swf", "us-east-1", now)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name string
		prep func(req *http.Request)
	}{
		{"long-term key with a token", withToken(testKey, testSecret, "tok")},
		{"long-term key with a token, content hash signed", func(req *http.Request) {
			req.Header.Set("X-Amz-Content-Sha256", payloadHash(body))
			withToken(testKey, testSecret, "FwoGZXIvYXdzEBYaDO")(req)
		}},
		{"wrong secret with a token", withToken(testKey, "not the secret", "tok")},
		{"unknown key with a token", withToken("ASIAUNKNOWN0001", testSecret, "tok")},
		{"token in the query", func(req *http.Request) {
			req.URL.RawQuery = "X-Amz-Security-Token=tok"
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now)
		}},
		{"token header twice, one empty", func(req *http.Request) {
			req.Header.Add("X-Amz-Security-Token", "")
			req.Header.Add("X-Amz-Security-Token", "tok")
			sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := vs.newRequest(t, body)
			c.prep(req)
			st, out := vs.do(t, req)
			if want := UnrecognizedClient + " The security token included in the request is invalid."; st != 400 || out != want {
				t.Fatalf("got %d %q, want 400 %q", st, out, want)
			}
		})
	}
}

// A request with a Date header instead of X-Amz-Date is accepted when
// Date is signed.
func TestVerifyDateHeader(t *testing.T) {
	vs := newVerifyServer(t)
	body := `{}`
	at := time.Now().UTC().Truncate(time.Second)
	req := vs.newRequest(t, body)
	req.Header.Set("Date", at.Format(http.TimeFormat))
	// Sign by hand: the SDK always adds X-Amz-Date.
	req.Host = req.URL.Host
	signed := []string{"content-type", "date", "host", "x-amz-target"}
	creq := canonicalRequest(req, req.URL.Host, "/", signed, payloadHash(body))
	scope := at.Format(scopeDateFmt) + "/us-east-1/swf/aws4_request"
	sts := algorithm + "\n" + at.Format(amzDateFmt) + "\n" + scope + "\n" + hexSHA256(creq)
	sig := hex.EncodeToString(hmacSHA256(signingKey(testSecret, at.Format(scopeDateFmt), "us-east-1", "swf"), sts))
	req.Header.Set("Authorization", algorithm+" Credential="+testKey+"/"+scope+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	if st, out := vs.do(t, req); st != 200 {
		t.Fatalf("%d %s", st, out)
	}
}

// Keys added by a reload are accepted at once; removed ones are refused.
func TestVerifyAfterReload(t *testing.T) {
	k := NewKeyring(testConfig(t))
	v := &Verifier{Keys: k, Region: "us-east-1"}
	body := []byte(`{}`)
	mk := func(key, secret string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "http://swf.local/", bytes.NewReader(body))
		sign(t, req, string(body), key, secret, "swf", "us-east-1", time.Now())
		return req
	}
	if _, f := v.Verify(mk("AKIDNEW", "s2"), body); f == nil || f.Code != UnrecognizedClient {
		t.Fatalf("before: %v", f)
	}
	c, err := ParseConfig([]byte(`{"principals": [{"name": "new", "accessKeys": [{"accessKeyId": "AKIDNEW", "secretAccessKey": "s2"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	k.cur.Store(c)
	if p, f := v.Verify(mk("AKIDNEW", "s2"), body); f != nil || p.Name != "new" {
		t.Fatalf("after: %v %v", p, f)
	}
	if _, f := v.Verify(mk(testKey, testSecret), body); f == nil || f.Code != UnrecognizedClient {
		t.Fatalf("old key: %v", f)
	}
}

// Failures are logged at warn level with the key id (and at debug level
// with the canonical request), never the secret.
func TestVerifyLogsNoSecret(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v := &Verifier{Keys: NewKeyring(testConfig(t)), Region: "us-east-1", Log: log, Warn: lograte.New(log, 5, 5, nil)}
	body := []byte(`{}`)
	req := httptest.NewRequest(http.MethodPost, "http://swf.local/", bytes.NewReader(body))
	sign(t, req, string(body), testKey, "wrong", "swf", "us-east-1", time.Now())
	if _, f := v.Verify(req, body); f == nil {
		t.Fatal("accepted")
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN msg=\"request not authenticated\" code=InvalidSignatureException") ||
		!strings.Contains(out, testKey) || !strings.Contains(out, "canonical request") || strings.Contains(out, testSecret) {
		t.Fatalf("log: %s", out)
	}
}

// The debug line of a failed signature shows the canonical request with
// the credentials it holds (a presigned query's signature, the
// Authorization header) as xxxxx, never their values; a request that
// carries a session token is refused before its signature is checked,
// and its token is in no line either (the probe once found it verbatim).
func TestVerifyLogsNoSessionToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v := &Verifier{Keys: NewKeyring(testConfig(t)), Region: "us-east-1", Log: log, Warn: lograte.New(log, 5, 5, nil)}
	body := []byte(`{}`)
	const token, queryToken, querySig = "session-token-not-for-logs", "query-token-not-for-logs", "0123abcd-signature-not-for-logs"

	// A session token: refused, and not logged.
	req := httptest.NewRequest(http.MethodPost, "http://swf.local/?X-Amz-Security-Token="+queryToken+"&a=1", bytes.NewReader(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "wrong", SessionToken: token},
		req, payloadHash(string(body)), "swf", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, f := v.Verify(req, body); f == nil || f.Code != UnrecognizedClient {
		t.Fatalf("fault %v", f)
	}
	// A wrong signature: its canonical request is logged, redacted.
	req = httptest.NewRequest(http.MethodPost, "http://swf.local/?X-Amz-Signature="+querySig+"&a=1", bytes.NewReader(body))
	sign(t, req, string(body), testKey, "wrong", "swf", "us-east-1", time.Now())
	if _, f := v.Verify(req, body); f == nil || f.Code != InvalidSignature {
		t.Fatalf("fault %v", f)
	}
	out := buf.String()
	for _, secret := range []string{token, queryToken, querySig, "wrong"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q: %s", secret, out)
		}
	}
	for _, want := range []string{"X-Amz-Signature=xxxxx", "a=1", `host:swf.local\n`, "code=UnrecognizedClientException"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q: %s", want, out)
		}
	}
	// A canonical request written for the log shows a token as xxxxx,
	// while the one checked holds it as sent.
	req = httptest.NewRequest(http.MethodPost, "http://swf.local/?X-Amz-Security-Token="+queryToken, bytes.NewReader(body))
	req.Header.Set("X-Amz-Security-Token", token)
	signedHeaders := []string{"host", "x-amz-security-token"}
	if got := buildCanonicalRequest(req, "swf.local", "/", signedHeaders, "", true); strings.Contains(got, token) || strings.Contains(got, queryToken) ||
		!strings.Contains(got, "x-amz-security-token:xxxxx\n") || !strings.Contains(got, "X-Amz-Security-Token=xxxxx") {
		t.Errorf("the canonical request for the log: %s", got)
	}
	if got := canonicalRequest(req, "swf.local", "/", signedHeaders, ""); !strings.Contains(got, token) || !strings.Contains(got, queryToken) {
		t.Errorf("the canonical request to sign lost the token: %s", got)
	}
}

// A request signed more than five minutes before or after the server's
// time is refused, as AWS refuses it, with AWS's message naming the
// window; one inside the window is accepted.
func TestVerifyClockSkewIsFiveMinutes(t *testing.T) {
	vs := newVerifyServer(t)
	now := time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)
	vs.now.Store(&now)
	body := `{"registrationStatus":"REGISTERED"}`
	cases := []struct {
		skew time.Duration
		want string
	}{
		{-4*time.Minute - 59*time.Second, "ok operator " + testKey},
		{4*time.Minute + 59*time.Second, "ok operator " + testKey},
		{-6 * time.Minute, "InvalidSignatureException Signature expired: 20260304T101430Z is now earlier than 20260304T101530Z (20260304T102030Z - 5 min.)"},
		{6 * time.Minute, "InvalidSignatureException Signature not yet current: 20260304T102630Z is still later than 20260304T102530Z (20260304T102030Z + 5 min.)"},
	}
	for _, c := range cases {
		req := vs.newRequest(t, body)
		sign(t, req, body, testKey, testSecret, "swf", "us-east-1", now.Add(c.skew))
		if _, out := vs.do(t, req); out != c.want {
			t.Errorf("signed %v from the server's time: got %q, want %q", c.skew, out, c.want)
		}
	}
}
