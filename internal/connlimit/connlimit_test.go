package connlimit

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	for _, c := range []struct {
		n     int
		files uint64
		fits  bool
	}{{512, 1024, true}, {960, 1024, true}, {961, 1024, false}, {1000, 256, false}, {10, 0, true}} {
		if got := Fits(c.n, c.files); got != c.fits {
			t.Errorf("Fits(%d, %d) = %v, want %v", c.n, c.files, got, c.fits)
		}
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

// pollHandler is a long poll: it waits until released or evicted, and
// answers "evicted" (closing its connection) or "released".
func pollHandler(waiting chan<- string, release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/poll" {
			io.WriteString(w, "ok")
			return
		}
		evict := make(chan struct{})
		done := Waiting(r.Context(), func() { close(evict) })
		waiting <- r.URL.Query().Get("n")
		select {
		case <-evict:
		case <-release:
		}
		if done() {
			if !Evicted(r.Context()) {
				panic("evicted, but Evicted says not")
			}
			w.Header().Set("Connection", "close")
			io.WriteString(w, "evicted")
			return
		}
		io.WriteString(w, "released")
	}
}

// Connections held by requests that wait (long polls) do not lock new
// clients out: at the cap, with no idle connection to close, the request
// that has waited longest is evicted, answers, and its connection closes;
// the others wait on.
func TestWaitingRequestsMakeRoom(t *testing.T) {
	waiting := make(chan string, 10)
	release := make(chan struct{})
	defer close(release)
	evicted := make(chan time.Duration, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(ln, 3)
	l.EvictAfter = 0
	l.OnEvict = func(d time.Duration) { evicted <- d }
	hs := &http.Server{Handler: pollHandler(waiting, release), ConnState: l.ConnState, ConnContext: l.ConnContext}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	type poll struct {
		c net.Conn
		r *bufio.Reader
	}
	var polls []poll
	for i := range 3 {
		c, r := dial(t, addr)
		c.SetDeadline(time.Now().Add(time.Minute))
		io.WriteString(c, "GET /poll?n="+string(rune('0'+i))+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if n := <-waiting; n != string(rune('0'+i)) {
			t.Fatalf("poll %s waits, want %d", n, i)
		}
		polls = append(polls, poll{c, r})
	}
	c, r := dial(t, addr)
	c.SetDeadline(time.Now().Add(time.Minute))
	if out, err := get(t, c, r, "/"); err != nil || out != "ok" {
		t.Fatalf("client at the cap: %q %v", out, err)
	}
	resp, err := http.ReadResponse(polls[0].r, nil)
	if err != nil {
		t.Fatalf("the poll that waited longest: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "evicted" || !resp.Close {
		t.Fatalf("the poll that waited longest answered %q, close=%v", b, resp.Close)
	}
	if _, err := polls[0].r.ReadByte(); err != io.EOF {
		t.Fatalf("its connection stayed open: %v", err)
	}
	if len(evicted) != 1 {
		t.Fatalf("%d evictions reported, want 1", len(evicted))
	}
	if l.Open() > 3 {
		t.Fatalf("%d open with a cap of 3", l.Open())
	}
	// The others were not evicted: a new connection takes the idle one's
	// place, and the next eviction is the next oldest poll.
	if l.Evict() != true {
		t.Fatal("no poll left to evict")
	}
	resp, err = http.ReadResponse(polls[1].r, nil)
	if err != nil {
		t.Fatalf("the second poll: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "evicted" {
		t.Fatalf("the second poll answered %q", b)
	}
}

// A request waits EvictAfter before it may be evicted, and one that is
// done waiting is not evicted: done says so, and Evicted stays false.
func TestEvictAfterAndDone(t *testing.T) {
	l := Listen(nil, 1)
	l.EvictAfter = time.Hour
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	ctx := l.ConnContext(context.Background(), c1)
	calls := 0
	done := Waiting(ctx, func() { calls++ })
	if l.Evict() {
		t.Fatal("evicted a request that has not waited EvictAfter")
	}
	l.EvictAfter = 0
	if done() || Evicted(ctx) {
		t.Fatal("done reports an eviction that did not happen")
	}
	if l.Evict() || calls != 0 {
		t.Fatal("evicted a request done waiting")
	}
	done = Waiting(ctx, func() { calls++ })
	if !l.Evict() || calls != 1 || !done() || !Evicted(ctx) {
		t.Fatalf("eviction of a waiting request: evict called %d times, evicted %v", calls, Evicted(ctx))
	}
	// A wait that begins on a connection already evicted (another stream
	// of an HTTP/2 connection closing) gives up at once.
	calls = 0
	if done = Waiting(ctx, func() { calls++ }); calls != 1 || !done() {
		t.Fatalf("a wait on an evicted connection: evict called %d times", calls)
	}
	// A request that came through no Listener is never evicted.
	if Waiting(context.Background(), func() { t.Fatal("evicted") })() {
		t.Fatal("a request without a Listener was evicted")
	}
}

// Over HTTP/2 a connection carries many requests, and a client's polls
// often all share one: when its longest wait is evicted, every wait on it
// is evicted with it (each answers at once), the connection is told
// (Evicted) so that its answers close it (GOAWAY), and a wait that begins
// on it afterwards gives up at once.
func TestWaitingOverHTTP2EvictsTheConnection(t *testing.T) {
	waiting := make(chan string, 2)
	release := make(chan struct{})
	defer close(release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(ln, 4)
	l.EvictAfter = 0
	evicted := make(chan time.Duration, 4)
	l.OnEvict = func(d time.Duration) { evicted <- d }
	srv := httptest.NewUnstartedServer(pollHandler(waiting, release))
	srv.Listener.Close()
	srv.Listener = l
	srv.EnableHTTP2 = true
	srv.Config.ConnState, srv.Config.ConnContext = l.ConnState, l.ConnContext
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	answered := make(chan string, 2)
	for i := range 2 {
		go func() {
			resp, err := client.Get(srv.URL + "/poll?n=" + strconv.Itoa(i))
			if err != nil {
				answered <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answered <- resp.Proto + " " + string(b)
		}()
		<-waiting
	}
	if !l.Evict() {
		t.Fatal("no request waiting over HTTP/2 was evicted")
	}
	for range 2 {
		if got := <-answered; got != "HTTP/2.0 evicted" {
			t.Fatalf("answer: %s; want both waits on the connection evicted", got)
		}
	}
	if n := len(evicted); n != 2 {
		t.Errorf("OnEvict told of %d waits, want 2", n)
	}
	if l.Evict() {
		t.Error("evicted again with no request waiting")
	}
}
