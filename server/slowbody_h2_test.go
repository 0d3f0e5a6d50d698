package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// in dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "swfd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Over HTTP/2 too, clients whose bodies never arrive hold connections at
// --max-connections only until a new one needs its place: the body that
// has been arriving longest is cut off (408), with the others of its
// connection, and that connection takes no new request (GOAWAY) and
// closes. Before, HTTP/2 bodies were never cut to make room, so two such
// connections at --max-connections 2 kept every new client waiting for the
// whole body timeout (here a minute), and for good with a client that
// opened a new stalled request before each timed out.
func TestSlowHTTP2BodiesAtConnectionLimitMakeRoom(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	s, apiAddr := serving(t, Config{DB: MemoryDB, MaxConnections: 2, BodyTimeout: time.Minute,
		TLSCertFile: certFile, TLSKeyFile: keyFile, Logger: slog.New(slog.DiscardHandler)})
	url := "https://" + apiAddr + "/"
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	}
	call := func(c *http.Client, body io.Reader, length int64) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, url, body)
		req.ContentLength = length
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		return c.Do(req)
	}
	// Two clients, each on an HTTP/2 connection of its own, send part of
	// a body and no more.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	cut := make(chan *http.Response, 2)
	for range 2 {
		pr, pw := io.Pipe()
		go func() {
			io.WriteString(pw, `{"registrationStatus":`)
			<-stop
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}()
		c := client()
		go func() {
			resp, err := call(c, pr, 1000)
			if err != nil {
				t.Logf("slow sender: %v", err)
				return
			}
			resp.Body.Close()
			cut <- resp
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.current().api.Receiving() < 2*int64(len(`{"registrationStatus":`)) {
		if time.Now().After(deadline) {
			t.Fatal("the two slow clients' bodies did not begin to arrive")
		}
		time.Sleep(time.Millisecond)
	}

	start := time.Now()
	body := `{"registrationStatus":"REGISTERED"}`
	c := client()
	c.Timeout = 20 * time.Second
	resp, err := call(c, strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("a client after two slow HTTP/2 senders at --max-connections 2 was not answered in %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("the new client's call: status %d over %s", resp.StatusCode, resp.Proto)
	}
	select {
	case r := <-cut:
		if r.StatusCode != http.StatusRequestTimeout || r.Header.Get("x-amzn-ErrorType") != "RequestTimeoutException" {
			t.Errorf("the cut-off sender got status %d, x-amzn-ErrorType %q", r.StatusCode, r.Header.Get("x-amzn-ErrorType"))
		}
	case <-time.After(10 * time.Second):
		t.Error("no slow sender was told why its body was cut off")
	}
}
