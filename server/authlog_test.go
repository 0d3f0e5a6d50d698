package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// A storm of requests with bad signatures, and of denied calls, writes a
// few warnings a second, not one line each; the lines written say how
// many were left out.
func TestAuthWarningsAreRateLimited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(`{"principals": [{"name": "nobody", "accessKeys": [{"accessKeyId": "AKIDNOBODY", "secretAccessKey": "s"}],
	  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "*"}]}]}]}`), 0o600)
	var logBuf syncBuffer
	s, err := Open(context.Background(), Config{DB: "sqlite::memory:", AuthFile: path, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const storm = 2000
	send := func(i int) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"registrationStatus":"REGISTERED"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if i%2 == 0 {
			// A signature made with the wrong secret.
			signRequest(t, req, `{"registrationStatus":"REGISTERED"}`, "AKIDNOBODY", "wrong")
		} else {
			// A good signature, for a principal every call is denied.
			signRequest(t, req, `{"registrationStatus":"REGISTERED"}`, "AKIDNOBODY", "s")
		}
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	began := time.Now()
	for i := range storm {
		send(i)
	}
	// After the storm, the next lines written say how many were left out.
	for i := 0; !strings.Contains(logBuf.String(), "suppressed=") || strings.Count(logBuf.String(), "suppressed=") < 2; i++ {
		if i == 200 {
			t.Fatalf("no line says how many were left out:\n%s", logBuf.String())
		}
		send(i)
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(began).Seconds()
	out := logBuf.String()
	for _, msg := range []string{"request not authenticated", "request denied"} {
		lines := regexp.MustCompile(`level=WARN msg="`+msg+`".*`).FindAllString(out, -1)
		// The burst, then two a second.
		if max := authWarnBurst + int(authWarnsPerSecond*secs) + 1; len(lines) == 0 || len(lines) > max {
			t.Errorf("%q: %d lines for %d requests in %.1fs (at most %d)", msg, len(lines), storm/2, secs, max)
		}
		counted := 0
		for _, l := range lines {
			if m := regexp.MustCompile(`suppressed=(\d+)`).FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				counted += n
			}
		}
		if counted < storm/2-len(lines) || len(lines)+counted > storm {
			t.Errorf("%q: %d lines, %d counted as left out, of %d", msg, len(lines), counted, storm/2)
		}
	}
}

func signRequest(t *testing.T, req *http.Request, body, key, secret string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req,
		hex.EncodeToString(sum[:]), "swf", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
}
