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

	"github.com/swfd/swfd/internal/logbuf"
)

// A storm of requests with bad signatures, and of denied calls, writes a
// few warnings a second, not one line each; the lines written say how
// many were left out.
func TestAuthWarningsAreRateLimited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(`{"principals": [{"name": "nobody", "accessKeys": [{"accessKeyId": "AKIDNOBODY", "secretAccessKey": "s"}],
	  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "*"}]}]}]}`), 0o600)
	var logBuf logbuf.Buffer
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
	// After the storm, the next lines written say how many were left out:
	// keep sending (one request at a time, so that few more are left out)
	// until the lines account for every request of the storm.
	tally := func(msg string) (lines []string, counted int) {
		lines = regexp.MustCompile(`level=WARN msg="`+msg+`".*`).FindAllString(logBuf.String(), -1)
		for _, l := range lines {
			if m := regexp.MustCompile(`suppressed=(\d+)`).FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				counted += n
			}
		}
		return lines, counted
	}
	msgs := []string{"request not authenticated", "request denied"}
	accounted := func() bool {
		for _, msg := range msgs {
			if lines, counted := tally(msg); len(lines)+counted < storm/2 {
				return false
			}
		}
		return true
	}
	extra := 0
	for ; !accounted(); extra++ {
		if extra == 400 {
			t.Fatalf("the lines never account for the storm:\n%s", logBuf.String())
		}
		send(extra)
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(began).Seconds()
	for _, msg := range msgs {
		lines, counted := tally(msg)
		// The burst, then two a second.
		if max := authWarnBurst + int(authWarnsPerSecond*secs) + 1; len(lines) == 0 || len(lines) > max {
			t.Errorf("%q: %d lines for %d requests in %.1fs (at most %d)", msg, len(lines), storm/2, secs, max)
		}
		if len(lines) > storm/4 || len(lines)+counted > storm/2+extra {
			t.Errorf("%q: %d lines, %d counted as left out, of %d requests", msg, len(lines), counted, storm/2+extra/2)
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
