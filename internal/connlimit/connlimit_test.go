package connlimit

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func serve(t *testing.T, n int, h http.Handler) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(ln, n)
	hs := &http.Server{Handler: h, ConnState: l.ConnState}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return l, ln.Addr().String()
}

// get sends one keep-alive request on c and reads the answer.
func get(t *testing.T, c net.Conn, r *bufio.Reader, path string) (string, error) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// Keep-alive connections left idle do not lock new clients out: at the
// cap, they are closed to make room.
func TestIdleConnectionsMakeRoom(t *testing.T) {
	l, addr := serve(t, 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	type kc struct {
		c net.Conn
		r *bufio.Reader
	}
	var idle []kc
	for range 4 {
		c, r := dial(t, addr)
		if out, err := get(t, c, r, "/"); err != nil || out != "ok" {
			t.Fatalf("%q %v", out, err)
		}
		idle = append(idle, kc{c, r})
	}
	if l.Open() != 4 {
		t.Fatalf("%d open", l.Open())
	}
	// A fifth client is served, on a slot an idle one gave up.
	c, r := dial(t, addr)
	if out, err := get(t, c, r, "/"); err != nil || out != "ok" {
		t.Fatalf("fifth client: %q %v", out, err)
	}
	closed := 0
	for _, k := range idle {
		k.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := k.r.ReadByte(); err == io.EOF {
			closed++
		}
	}
	if closed == 0 {
		t.Fatal("no idle connection was closed")
	}
	if l.Open() > 4 {
		t.Fatalf("%d open with a cap of 4", l.Open())
	}
}

// Connections at work are never closed for room: a new connection waits
// until one of them is done, and is then served.
func TestBusyConnectionsMakeNewOnesWait(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	l, addr := serve(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "done "+r.URL.Path)
	}))
	results := make(chan string, 3)
	for range 2 {
		c, r := dial(t, addr)
		go func() {
			out, err := get(t, c, r, "/slow")
			if err != nil {
				out = err.Error()
			}
			results <- out
		}()
	}
	<-entered
	<-entered
	c, r := dial(t, addr) // the kernel queues it; swfd has no slot for it yet
	go func() {
		out, err := get(t, c, r, "/fast")
		if err != nil {
			out = err.Error()
		}
		results <- out
	}()
	if l.Open() != 2 {
		t.Fatalf("%d open", l.Open())
	}
	close(release)
	got := map[string]int{}
	for range 3 {
		got[<-results]++
	}
	if got["done /slow"] != 2 || got["done /fast"] != 1 {
		t.Fatalf("results: %v", got)
	}
}

func TestDefault(t *testing.T) {
	for _, c := range []struct {
		files uint64
		want  int
	}{{0, 32}, {64, 32}, {1024, 512}, {20000, 10000}, {1 << 20, 10000}} {
		if got := Default(c.files); got != c.want {
			t.Errorf("Default(%d) = %d, want %d", c.files, got, c.want)
		}
	}
	if FileLimit() == 0 {
		t.Error("no file limit read")
	}
}

// Connections that never send a request do not lock new clients out
// either: at the cap, those silent for SilentAfter are closed.
func TestSilentConnectionsMakeRoom(t *testing.T) {
	_, addr := serve(t, 3, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	for range 3 {
		dial(t, addr) // and say nothing
	}
	c, r := dial(t, addr)
	c.SetDeadline(time.Now().Add(time.Minute))
	if out, err := get(t, c, r, "/"); err != nil || out != "ok" {
		t.Fatalf("client after the silent ones: %q %v", out, err)
	}
}
