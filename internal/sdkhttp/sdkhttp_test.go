package sdkhttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// sdkBody is a request body as aws-sdk-go-v2 hands it over: it may be
// closed by the SDK as soon as the response arrives. After its last byte
// the next Read waits for that close (or returns EOF after a while), which
// makes the transport's end-of-body check meet the close every time.
type sdkBody struct {
	r      io.Reader
	once   sync.Once
	closed chan struct{}
}

func newSDKBody(s string) *sdkBody {
	return &sdkBody{r: strings.NewReader(s), closed: make(chan struct{})}
}

func (b *sdkBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 || err == nil {
		return n, nil
	}
	select {
	case <-b.closed:
		return 0, errors.New("read on closed body")
	case <-time.After(300 * time.Millisecond):
		return 0, io.EOF
	}
}

func (b *sdkBody) Close() error { b.once.Do(func() { close(b.closed) }); return nil }

func roundTrip(t *testing.T, do func(*http.Request) (*http.Response, error)) error {
	const payload = `{"domain":"d"}`
	body := newSDKBody(payload)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, int64(len(payload))))
		body.Close() // the SDK closes its body once the answer is coming
		time.Sleep(50 * time.Millisecond)
		w.Write([]byte(strings.Repeat(string(b), 1000)))
	}))
	defer srv.Close()
	req, err := http.NewRequest("POST", srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(payload))
	resp, err := do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if string(got) != strings.Repeat(payload, 1000) {
		t.Errorf("answer of %d bytes, want %d", len(got), 1000*len(payload))
	}
	return nil
}

// TestBodyClosedEarly reproduces the SDK's early close of a request body:
// the plain client loses the connection under the answer, Client does not.
func TestBodyClosedEarly(t *testing.T) {
	if err := roundTrip(t, http.DefaultClient.Do); err == nil {
		t.Log("the plain client survived the early close (the race went the other way)")
	} else {
		t.Logf("plain client: %v", err)
	}
	c := Client{Client: &http.Client{}}
	if err := roundTrip(t, c.Do); err != nil {
		t.Fatalf("Client: %v", err)
	}
}
