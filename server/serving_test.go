package server

import (
	"context"
	"net"
	"testing"
)

// serving opens a server with cfg, starts it and serves its API on a port
// of 127.0.0.1 the kernel picks, until the test ends. It returns the
// server and the API's address.
func serving(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	return s, ln.Addr().String()
}
