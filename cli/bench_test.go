package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// swf bench signs with the credentials every other command uses and
// verifies an https endpoint with --ca-bundle: before, it signed with
// placeholder keys whatever was configured (so against swfd --auth every
// call was refused) and trusted only the system's CA certificates.
func TestBenchUsesConfiguredCredentialsAndTLS(t *testing.T) {
	setCreds(t) // AKIDTEST
	var mu sync.Mutex
	var auths []string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(400)
		w.Write([]byte(`{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`))
	}))
	defer ts.Close()
	r := swfRun(map[string]string{}, "bench", "--endpoint-url", ts.URL, "--ca-bundle", caFile(t, ts), "--workflows", "1", "--quiet")
	if r.RC != 255 || !strings.Contains(r.Stderr, "stop here") {
		t.Errorf("rc=%d stdout %q stderr %q", r.RC, r.Stdout, r.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auths) == 0 {
		t.Fatal("no request reached the endpoint")
	}
	for _, a := range auths {
		if !strings.Contains(a, "Credential=AKIDTEST/") {
			t.Errorf("signed as %q, not with the configured AKIDTEST", a)
		}
	}
}

// Over http too, the configured keys sign the load.
func TestBenchSignsWithConfiguredKeys(t *testing.T) {
	setCreds(t) // AKIDTEST
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 400, `{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`
	})
	if r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, "bench", "--workflows", "1", "--quiet"); r.RC != 255 {
		t.Errorf("rc=%d stdout %q stderr %q", r.RC, r.Stdout, r.Stderr)
	}
	if a := f.last().header.Get("Authorization"); !strings.Contains(a, "Credential=AKIDTEST/") {
		t.Errorf("signed as %q, not with the configured AKIDTEST", a)
	}
}

// --rate takes a finite positive number of workflows a second and refuses
// anything else before any call: NaN and the infinities, which parse as
// floats, were taken, and paced nothing.
func TestBenchRateBounds(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 400, `{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, v := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "-5", "0", "-0", "abc", "1e400"} {
		r := swfRun(env, "bench", "--workflows", "1", "--quiet", "--rate", v)
		want := "swf: error: --rate: workflows a second, a finite positive number, not \"" + v + "\"\n"
		if r.RC != 2 || !strings.HasSuffix(r.Stderr, want) {
			t.Errorf("--rate %s: rc=%d stderr %q", v, r.RC, r.Stderr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("%d calls made", len(f.requests))
	}
}

// --no-sign-request sends the load unsigned, as it does every other
// command's call: before, swf bench signed it with placeholder keys.
func TestBenchNoSignRequest(t *testing.T) {
	setCreds(t) // AKIDTEST, which must not be used
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 400, `{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`
	})
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}, "bench", "--no-sign-request", "--workflows", "1", "--quiet")
	if r.RC != 255 || !strings.Contains(r.Stderr, "stop here") {
		t.Errorf("rc=%d stdout %q stderr %q", r.RC, r.Stdout, r.Stderr)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("no request reached the endpoint")
	}
	for _, q := range f.requests {
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			if v := q.header.Get(h); v != "" {
				t.Errorf("%s sent with %s: %q", q.op, h, v)
			}
		}
	}
}

// A --timeout of zero or less is refused before any call: before, a
// negative one was taken, and the run ended before its first workflow
// (exit status 255, "0 of 1000 workflows completed").
func TestBenchTimeoutBounds(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 400, `{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, v := range []string{"-5m", "-1ns", "0", "0s"} {
		r := swfRun(env, "bench", "--workflows", "1", "--quiet", "--timeout", v)
		want := "swf: error: --timeout: a positive duration such as 30m, not \"" + v + "\"\n"
		if r.RC != 2 || !strings.HasSuffix(r.Stderr, want) {
			t.Errorf("--timeout %s: rc=%d stderr %q", v, r.RC, r.Stderr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("%d calls made", len(f.requests))
	}
}

// --workflows, --concurrency and --starters take a positive whole number
// and refuse 0 before any call, as --activities refuses a negative one:
// before, --workflows 0 and --concurrency 0 were taken by the flags (said
// to take any non-negative number) and failed the run after it had
// connected, with exit status 255, and --starters 0 was taken as 4.
func TestBenchCountsBounds(t *testing.T) {
	setCreds(t)
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 400, `{"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault", "message": "stop here"}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, c := range []struct{ flag, value, what string }{
		{"workflows", "0", "a positive whole number"}, {"concurrency", "0", "a positive whole number"},
		{"starters", "0", "a positive whole number"}, {"workflows", "-1", "a positive whole number"},
		{"activities", "-1", "a non-negative whole number"},
	} {
		r := swfRun(env, "bench", "--quiet", "--"+c.flag, c.value)
		want := "swf: error: --" + c.flag + ": " + c.what + ", not \"" + c.value + "\"\n"
		if r.RC != 2 || !strings.HasSuffix(r.Stderr, want) {
			t.Errorf("--%s %s: rc=%d stderr %q", c.flag, c.value, r.RC, r.Stderr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("%d calls made", len(f.requests))
	}
}
