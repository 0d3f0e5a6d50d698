package frontend_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
)

// principalService records the principal its calls carry.
type principalService struct {
	fakeService
	seen string
}

func (p *principalService) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	if pr := auth.FromContext(ctx); pr != nil {
		p.seen = pr.Name
	}
	return p.fakeService.DescribeDomain(ctx, in)
}

// The Auth hook runs on the raw body before anything is decoded or
// called; its principal reaches the service in the context; its faults
// are answered with the framework's wire type and their own status.
func TestAuthHook(t *testing.T) {
	svc := &principalService{}
	var gotBody []byte
	h := &frontend.Handler{Service: svc, Auth: func(r *http.Request, body []byte) (*auth.Principal, *api.Fault) {
		gotBody = body
		switch r.Header.Get("Authorization") {
		case "":
			return nil, api.NewFault(auth.MissingAuthenticationToken, "Request is missing Authentication Token")
		case "bad":
			return nil, api.NewFault(auth.InvalidSignature, "no")
		case "who":
			return nil, api.NewFault(auth.UnrecognizedClient, "The security token included in the request is invalid.")
		case "half":
			return nil, api.NewFault(auth.IncompleteSignature, "half")
		}
		return &auth.Principal{Name: "alice"}, nil
	}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	withAuth := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", v) }
	}
	for _, c := range []struct {
		authz, wire string
		status      int
	}{
		{"", "com.amazon.coral.service#MissingAuthenticationTokenException", 403},
		{"bad", "com.amazon.coral.service#InvalidSignatureException", 400},
		{"who", "com.amazon.coral.service#UnrecognizedClientException", 400},
		{"half", "com.amazon.coral.service#IncompleteSignatureException", 400},
	} {
		var mods []func(*http.Request)
		if c.authz != "" {
			mods = append(mods, withAuth(c.authz))
		}
		// Even a body that would not decode, or an unknown operation,
		// gets the authentication fault: nothing is looked at first.
		r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", strings.NewReader(`{"name": 3`), mods...)
		checkFault(t, r, c.status, c.wire)
		if r.header.Get("x-amzn-ErrorType") != strings.TrimPrefix(c.wire, "com.amazon.coral.service#") {
			t.Errorf("x-amzn-ErrorType %q", r.header.Get("x-amzn-ErrorType"))
		}
		r = do(t, srv, http.MethodPost, "SimpleWorkflowService.Nope", "application/x-amz-json-1.0", strings.NewReader(`{}`), mods...)
		checkFault(t, r, c.status, c.wire)
	}
	if svc.calls.Load() != 0 {
		t.Fatalf("service called %d times", svc.calls.Load())
	}

	// The hook sees the body as sent (gzip and all).
	zipped := gz(t, `{"name":"d"}`)
	r := do(t, srv, http.MethodPost, "SimpleWorkflowService.DescribeDomain", "application/x-amz-json-1.0", bytes.NewReader(zipped),
		withAuth("ok"), func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") })
	if r.status != 200 || svc.seen != "alice" || !bytes.Equal(gotBody, zipped) {
		t.Fatalf("status %d %s, principal %q, hook body %q", r.status, r.body, svc.seen, gotBody)
	}
	// Authenticated requests still get the usual faults.
	r = do(t, srv, http.MethodPost, "SimpleWorkflowService.Nope", "application/x-amz-json-1.0", strings.NewReader(`{}`), withAuth("ok"))
	checkFault(t, r, 400, "com.amazon.coral.service#UnknownOperationException")
}
