// Package sdkhttp holds the HTTP client swfd's own tools and tests give
// aws-sdk-go-v2.
//
// The SDK (smithy-go) closes a request's body as soon as the response
// headers arrive. net/http's transport, once it has written Content-Length
// bytes of a body, reads it once more to make sure it is at its end; when a
// fast server answers before that last read, the read fails on the closed
// body, the transport treats it as a write error and closes the connection
// while the response body is still being read, and the call fails with
// "use of closed network connection" after a 200 (aws/aws-sdk-go-v2#2737;
// the SDK's default retryer retries it, swfd's tools and tests run without
// retries). Client avoids it by handing the transport its own copy of the
// body.
package sdkhttp

import (
	"bytes"
	"io"
	"net/http"
)

// Client is an HTTP client for aws-sdk-go-v2 (its HTTPClient option) that
// sends a private copy of each request body.
type Client struct{ *http.Client }

// Do sends req with its body read into memory first.
func (c Client) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.ContentLength = int64(len(b))
	}
	return c.Client.Do(req)
}
