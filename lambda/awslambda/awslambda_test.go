package awslambda_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/lambda/awslambda"
)

// A regional AWS Lambda endpoint is signed for its own region, whatever
// region the AWS configuration or swfd's --region names: AWS refuses a
// signature scoped to any other ("Credential should be scoped to a valid
// region"). An endpoint of any other host (an emulator) is signed for the
// configured region.
func TestSigningRegionOfTheEndpoint(t *testing.T) {
	// The requests for the AWS hosts go to a proxy here, which answers
	// every one as Lambda answers a DryRun and keeps its Authorization. It
	// is given to the Invoker, not in HTTP_PROXY: net/http reads that once
	// per process, so a second run of the test (-count=2) sent its
	// requests to the first run's proxy, long closed.
	var mu sync.Mutex
	var auth []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Host+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer proxy.Close()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "AKIDLAMBDATEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_PROFILE": "", "AWS_DEFAULT_REGION": "", "AWS_REGION": "",
	} {
		t.Setenv(k, v)
	}
	cases := []struct {
		name, endpoint, awsRegion, want string
	}{
		{"no region configured", "http://lambda.eu-west-1.amazonaws.com", "", "/eu-west-1/lambda/"},
		{"another region configured", "http://lambda.eu-west-1.amazonaws.com", "us-west-2", "/eu-west-1/lambda/"},
		{"FIPS endpoint", "http://lambda-fips.us-gov-west-1.amazonaws.com", "us-west-2", "/us-gov-west-1/lambda/"},
		{"China", "http://lambda.cn-north-1.amazonaws.com.cn/", "", "/cn-north-1/lambda/"},
		{"emulator", "http://emulator.internal:9001", "us-west-2", "/us-west-2/lambda/"},
		{"emulator, no region configured", "http://emulator.internal:9001", "", "/us-east-1/lambda/"},
	}
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", c.awsRegion)
			iv, err := awslambda.New(context.Background(), awslambda.WithProxy(awslambda.Options{Endpoint: c.endpoint, Region: "us-east-1"}, proxyURL))
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			auth = nil
			mu.Unlock()
			if err := iv.Check(context.Background(), lambda.Request{Function: "fn"}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(auth) != 1 || !strings.Contains(auth[0], "Credential=AKIDLAMBDATEST/") || !strings.Contains(auth[0], c.want) {
				t.Errorf("requests %q; want one signed with scope %s", auth, c.want)
			}
		})
	}
}

// A throttled invocation (429 TooManyRequestsException) is sent once, not
// retried by the SDK (the Loop retries it, with a back-off of its own),
// and its error is lambda.ErrThrottled with the endpoint's code; a
// throttled DryRun check is retried by the SDK, as any retryable error.
// Another error of an invocation is not ErrThrottled.
func TestThrottledInvocation(t *testing.T) {
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
	} {
		t.Setenv(k, v)
	}
	var mu sync.Mutex
	calls := map[string]int{}
	status := http.StatusTooManyRequests
	code := "TooManyRequestsException"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.Header.Get("X-Amz-Invocation-Type")]++
		s, c := status, code
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", c)
		w.WriteHeader(s)
		w.Write([]byte(`{"Type":"User","message":"Rate Exceeded."}`))
	}))
	defer srv.Close()
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = iv.Invoke(context.Background(), lambda.Request{Function: "fn"})
	var coded interface{ ErrorCode() string }
	if !errors.Is(err, lambda.ErrThrottled) || !errors.As(err, &coded) || coded.ErrorCode() != "TooManyRequestsException" ||
		err.Error() != "TooManyRequestsException: Rate Exceeded." {
		t.Errorf("throttled invocation: %v; want ErrThrottled with the code TooManyRequestsException", err)
	}
	if n := calls["RequestResponse"]; n != 1 {
		t.Errorf("a throttled invocation was sent %d times, want 1", n)
	}
	if err := iv.Check(context.Background(), lambda.Request{Function: "fn"}); !errors.Is(err, lambda.ErrThrottled) ||
		err.Error() != "TooManyRequestsException: Rate Exceeded." {
		t.Errorf("a throttled check: %v; want ErrThrottled with the endpoint's code", err)
	}
	if n := calls["DryRun"]; n != 3 {
		t.Errorf("a throttled check was sent %d times; want the SDK's 3", n)
	}
	mu.Lock()
	status, code = http.StatusInternalServerError, "ServiceException"
	mu.Unlock()
	if _, err := iv.Invoke(context.Background(), lambda.Request{Function: "fn"}); err == nil || errors.Is(err, lambda.ErrThrottled) {
		t.Errorf("a failed invocation: %v; want an error that is not ErrThrottled", err)
	}
}

// An invocation that got no connection to the endpoint (nobody listens) is
// lambda.ErrNotSent: it never reached Lambda, and the Loop invokes it
// again. One whose connection broke after the request was sent (the
// endpoint read it whole and hung up) may have run the function: it is not
// ErrNotSent, nor an invocation given up by its caller.
func TestInvocationNotSent(t *testing.T) {
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"HTTP_PROXY": "", "http_proxy": "",
	} {
		t.Setenv(k, v)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: closed, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iv.Invoke(context.Background(), lambda.Request{Function: "fn"}); !errors.Is(err, lambda.ErrNotSent) {
		t.Errorf("an invocation with nobody listening: %v; want ErrNotSent", err)
	}
	if err := iv.Check(context.Background(), lambda.Request{Function: "fn"}); !errors.Is(err, lambda.ErrNotSent) {
		t.Errorf("a check with nobody listening: %v; want ErrNotSent", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := iv.Invoke(ctx, lambda.Request{Function: "fn"}); err == nil || errors.Is(err, lambda.ErrNotSent) {
		t.Errorf("an invocation given up before it was sent: %v; want an error that is not ErrNotSent", err)
	}

	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer hangUp.Close()
	iv, err = awslambda.New(context.Background(), awslambda.Options{Endpoint: hangUp.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"k":1}`
	if _, err := iv.Invoke(context.Background(), lambda.Request{Function: "fn", Input: &in}); err == nil || errors.Is(err, lambda.ErrNotSent) {
		t.Errorf("an invocation whose connection broke once it was sent: %v; want an error that is not ErrNotSent", err)
	}
}

// A response of lambda.MaxResponseBytes is read whole; one a byte longer
// is cut there, and the Response says so.
func TestResponseCutPastMaxResponseBytes(t *testing.T) {
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"HTTP_PROXY": "", "http_proxy": "",
	} {
		t.Setenv(k, v)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The function's name, fn:N, says how many bytes to answer.
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/fn:"), "/invocations"))
		w.Write(bytes.Repeat([]byte("x"), n))
	}))
	defer srv.Close()
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		size, read int
		cut        bool
	}{{10, 10, false}, {lambda.MaxResponseBytes, lambda.MaxResponseBytes, false}, {lambda.MaxResponseBytes + 1, lambda.MaxResponseBytes, true}, {10 << 20, lambda.MaxResponseBytes, true}} {
		resp, err := iv.Invoke(context.Background(), lambda.Request{Function: "fn:" + strconv.Itoa(c.size)})
		if err != nil || len(resp.Payload) != c.read || resp.Cut != c.cut {
			t.Errorf("a response of %d bytes: %d bytes read, cut %v, %v; want %d, cut %v", c.size, len(resp.Payload), resp.Cut, err, c.read, c.cut)
		}
	}
}

// Credentials that cannot be had when swfd starts (a container's or an
// instance's role whose endpoint is not answering yet) are looked for
// again by each request to AWS Lambda: until they can be had a request
// fails unsent, and then it is signed. The requests used to go unsigned for as long as swfd ran,
// so that AWS refused every function until a restart.
func TestCredentialsFoundAfterStart(t *testing.T) {
	home := t.TempDir()
	var fail atomic.Bool
	fail.Store(true)
	creds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, `{"code":"Unavailable","message":"not yet"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"AccessKeyId":"AKIDLATER","SecretAccessKey":"secret","Token":"token","Expiration":"` +
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`))
	}))
	defer creds.Close()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"AWS_DEFAULT_REGION": "", "AWS_REGION": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.URL + "/role",
	} {
		t.Setenv(k, v)
	}
	var mu sync.Mutex
	var auth []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer proxy.Close()
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	iv, err := awslambda.New(context.Background(), awslambda.WithProxy(awslambda.Options{
		Endpoint: "http://lambda.eu-west-1.amazonaws.com", Region: "us-east-1", CredentialsTimeout: 5 * time.Second}, proxyURL))
	if err != nil {
		t.Fatal(err)
	}
	// Until then a request fails before it is sent (the Loop makes it
	// again later).
	if err := iv.Check(context.Background(), lambda.Request{Function: "fn"}); !errors.Is(err, lambda.ErrNotSent) {
		t.Errorf("a check without credentials: %v; want ErrNotSent", err)
	}
	fail.Store(false)
	if err := iv.Check(context.Background(), lambda.Request{Function: "fn"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 1 || !strings.Contains(auth[0], "Credential=AKIDLATER/") {
		t.Errorf("Authorization %q; want the request signed with the credentials found after the start", auth)
	}
}
