// Package swfdtest starts real swfd servers for tests — the whole stack
// over HTTP on a loopback port — and gives aws-sdk-go-v2 clients pointed at
// them, so end-to-end tests see exactly what SDK users see.
package swfdtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"

	"github.com/swfd/swfd/internal/sdkhttp"
	"github.com/swfd/swfd/server"
)

// Options tune a test server.
type Options struct {
	// DB defaults to a fresh SQLite file in t.TempDir().
	DB          string
	PollTimeout time.Duration // default 2s
	Config      func(*server.Config)
	// TLS, if set, makes the server speak HTTPS with this certificate;
	// Client trusts it.
	TLS *Cert
}

// Server is a running test server.
type Server struct {
	URL    string
	Server *server.Server
	// CAs are the authorities an HTTPS server's certificate is trusted
	// by (nil for HTTP).
	CAs    *x509.CertPool
	cancel context.CancelFunc
	done   chan error
}

// Start starts a server for the test and stops it at cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.DB == "" {
		opts.DB = "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	}
	if opts.PollTimeout == 0 {
		opts.PollTimeout = 2 * time.Second
	}
	level := slog.LevelWarn
	if os.Getenv("SWFD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	cfg := server.Config{
		DB: opts.DB, AccountID: "123456789012", Region: "us-east-1", PollTimeout: opts.PollTimeout,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if opts.TLS != nil {
		cfg.TLSCertFile, cfg.TLSKeyFile = opts.TLS.CertFile, opts.TLS.KeyFile
	}
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	ctx := context.Background()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv.Start()
	sctx, cancel := context.WithCancel(ctx)
	s := &Server{URL: "http://" + ln.Addr().String(), Server: srv, cancel: cancel, done: make(chan error, 1)}
	if srv.TLS() {
		s.URL = "https://" + ln.Addr().String()
		if opts.TLS != nil {
			s.CAs = opts.TLS.Pool
		}
	}
	go func() { s.done <- srv.Serve(sctx, ln) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.Server.Close()
	s.cancel = nil
}

// Client returns an aws-sdk-go-v2 SWF client for the server, with static
// credentials, no retries, and an HTTP timeout longer than a long poll.
func (s *Server) Client() *swf.Client {
	if s.CAs != nil {
		return NewTLSClient(s.URL, s.CAs)
	}
	return NewClient(s.URL)
}

// NewTLSClient is NewClient for an HTTPS endpoint whose certificate the
// authorities in cas vouch for. It speaks HTTP/2 where the server offers
// it.
func NewTLSClient(url string, cas *x509.CertPool) *swf.Client {
	return swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Client{Client: TLSHTTPClient(cas)},
	})
}

// TLSHTTPClient is an HTTP client that trusts the authorities in cas (only
// those) and speaks HTTP/2 where the server offers it.
func TLSHTTPClient(cas *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: cas}, ForceAttemptHTTP2: true,
	}}
}

// NewClient returns an aws-sdk-go-v2 SWF client for an endpoint.
func NewClient(url string) *swf.Client {
	return swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.NewCredentialsCache(staticCreds{}),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Client{Client: &http.Client{Timeout: 90 * time.Second}},
	})
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Source: "swfdtest"}, nil
}

// ClientWithKey returns an aws-sdk-go-v2 SWF client for the server that
// signs with the given access key, for servers started with an auth file.
func (s *Server) ClientWithKey(accessKeyID, secretAccessKey string) *swf.Client {
	return NewClientWithKey(s.URL, accessKeyID, secretAccessKey)
}

// NewClientWithKey is NewClient with the given access key.
func NewClientWithKey(url, accessKeyID, secretAccessKey string) *swf.Client {
	return swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.NewCredentialsCache(keyCreds{accessKeyID, secretAccessKey}),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Client{Client: &http.Client{Timeout: 90 * time.Second}},
	})
}

type keyCreds struct{ id, secret string }

func (k keyCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: k.id, SecretAccessKey: k.secret, Source: "swfdtest"}, nil
}
