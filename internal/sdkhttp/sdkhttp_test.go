package sdkhttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closingBody fails every read once closed, as a body the SDK has closed.
type closingBody struct {
	r      io.Reader
	closed bool
}

func (b *closingBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("read on closed body")
	}
	return b.r.Read(p)
}

func (b *closingBody) Close() error { b.closed = true; return nil }

// TestBodyCopied checks that the transport never reads the caller's body
// after Do has taken its copy: the caller may close it at any moment.
func TestBodyCopied(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()
	body := &closingBody{r: strings.NewReader(`{"domain":"d"}`)}
	req, err := http.NewRequest("POST", srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 14
	resp, err := Client{Client: srv.Client()}.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if string(got) != `{"domain":"d"}` {
		t.Errorf("server got %q", got)
	}
	if !body.closed {
		t.Error("the caller's body was not closed after it was copied")
	}
}
