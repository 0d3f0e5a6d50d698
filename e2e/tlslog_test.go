package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// A client that refuses swfd's certificate is logged as that, with its
// address: "TLS handshake refused by the client", and that it likely does
// not trust the certificate. The issue: the line was Go's own, "http: TLS
// handshake error from …: remote error: tls: bad certificate" or, from
// curl, the AWS CLI and other OpenSSL clients over TLS 1.3, "local error:
// tls: bad record MAC", which points an operator at the network or at
// swfd rather than at the client's CA bundle.
func TestTLSClientRefusalLogged(t *testing.T) {
	cert := swfdtest.NewCert(t, t.TempDir(), "swfd")
	var log logbuf.Buffer
	srv := swfdtest.Start(t, swfdtest.Options{TLS: cert, Config: func(c *server.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}})
	refused := regexp.MustCompile(`level=WARN msg="TLS handshake refused by the client: it likely does not trust swfd's certificate[^"]*" client=127\.0\.0\.1:\d+ reason="([^"]+)"`)
	refusals := func() []string {
		var out []string
		for _, m := range refused.FindAllStringSubmatch(log.String(), -1) {
			out = append(out, m[1])
		}
		return out
	}
	// Go's client, trusting another authority: it sends an alert.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	if _, err := hc.Get(srv.URL + "/healthz"); err == nil {
		t.Fatal("a client that does not trust the certificate was served")
	}
	waitFor(t, "the refusal to be logged", func() bool { return len(refusals()) == 1 })
	if got := refusals()[0]; got != "remote error: tls: bad certificate" {
		t.Errorf("reason %q", got)
	}
	// curl (OpenSSL) over TLS 1.3: its alert reaches swfd as a bad record.
	if curl, err := exec.LookPath("curl"); err == nil {
		if err := exec.Command(curl, "-s", "--tlsv1.3", srv.URL+"/healthz").Run(); err == nil {
			t.Fatal("curl was served without trusting the certificate")
		}
		waitFor(t, "curl's refusal to be logged", func() bool { return len(refusals()) == 2 })
		if got := refusals()[1]; !strings.Contains(got, "bad record MAC") && !strings.HasPrefix(got, "remote error: ") {
			t.Errorf("curl's reason %q", got)
		}
	}
	if strings.Contains(log.String(), "http: TLS handshake error") {
		t.Errorf("Go's own wording is still logged:\n%s", log.String())
	}
}
