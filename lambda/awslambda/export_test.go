package awslambda

import (
	"net/http"
	"net/url"
)

// WithProxy sends the requests of an Invoker made with opts through the
// proxy at u, whatever the environment says.
func WithProxy(opts Options, u *url.URL) Options {
	opts.proxy = http.ProxyURL(u)
	return opts
}
