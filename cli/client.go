package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

const (
	defaultEndpoint = "http://127.0.0.1:7733"
	defaultRegion   = "us-east-1"
	// Longer than the server's 60 s long poll, so an empty poll is an
	// answer and not a timeout.
	defaultReadTimeout    = 70 * time.Second
	defaultConnectTimeout = 60 * time.Second
	maxRetries            = 4
)

// serviceError is a fault answered by the service.
type serviceError struct {
	code, message, op string
	hasMessage        bool
	retries           int
}

func (e *serviceError) Error() string {
	msg := e.message
	if !e.hasMessage {
		msg = "Unknown"
	}
	retry := ""
	if e.retries > 0 {
		retry = fmt.Sprintf(" (reached max retries: %d)", e.retries)
	}
	return fmt.Sprintf("An error occurred (%s) when calling the %s operation%s: %s", e.code, e.op, retry, msg)
}

// client sends signed SWF requests.
type client struct {
	endpoint string
	region   string
	doer     interface {
		Do(*http.Request) (*http.Response, error)
	}
	creds aws.CredentialsProvider // nil: send unsigned
	// local: the endpoint is on this machine (a loopback address), where
	// a server without --auth needs no real credentials.
	local bool
	// placeholder: no credentials are configured, and requests to the
	// local endpoint are signed with placeholderCreds.
	placeholder bool
	signer      *v4.Signer
	debug       io.Writer // nil unless --debug
	now         func() time.Time
}

// newClient resolves region, credentials and the HTTP client through the
// standard AWS chain (environment, shared config and credentials files,
// profiles).
func newClient(ctx context.Context, g *globals) (*client, error) {
	if err := checkEndpoint(g.endpoint); err != nil {
		return nil, err
	}
	read, connect := defaultReadTimeout, defaultConnectTimeout
	if g.readTimeout != nil {
		read = *g.readTimeout
	}
	if g.connectTimeout != nil {
		connect = *g.connectTimeout
	}
	// 0 is no timeout; a negative one is refused before any call, in the
	// AWS CLI's words (its HTTP library refuses it as it connects).
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"read", read}, {"connect", connect}} {
		if t.d < 0 {
			return nil, fmt.Errorf("Attempted to set %s timeout to %d, but the timeout cannot be set to a value less than or equal to 0.", t.name, t.d/time.Second)
		}
	}
	hc := awshttp.NewBuildableClient().
		WithReadTimeout(read).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = connect })
	if g.noVerifySSL {
		hc = hc.WithTransportOptions(func(t *http.Transport) {
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true
		})
	}
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	local := isLoopbackURL(g.endpoint)
	if local {
		// A server on this machine is not on EC2's instance metadata
		// service: without configured credentials the SDK would ask it
		// for some, and warn when that fails.
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.profile))
		if !g.profileFlag && g.envCreds != nil {
			// As in the AWS CLI, keys in the environment come before those
			// of a profile named by AWS_PROFILE (not of one named by
			// --profile); the SDK would take the profile's whenever one
			// is named.
			creds := *g.envCreds
			opts = append(opts, config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })))
		}
	}
	if g.region != "" {
		opts = append(opts, config.WithRegion(g.region))
	}
	// A CA bundle (--ca-bundle, else AWS_CA_BUNDLE, else the profile's
	// ca_bundle) matters only to an https endpoint. As with the AWS CLI,
	// one that cannot be read fails the call to an https endpoint, naming
	// it, and is not even opened for an http one (loadSDKConfig keeps the
	// SDK from reading the variable, sdkSharedFiles the profile's).
	data, err := readCABundle(g, g.endpoint)
	if err != nil {
		return nil, err
	}
	if data != nil {
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(data)))
	}
	shared, cleanup := sdkSharedFiles()
	defer cleanup()
	cfg, err := loadSDKConfig(ctx, append(opts, shared...))
	if err != nil {
		if strings.Contains(err.Error(), "failed to get shared config profile") {
			return nil, fmt.Errorf("The config profile (%s) could not be found", g.profile)
		}
		return nil, err
	}
	c := &client{endpoint: g.endpoint, region: cfg.Region, creds: cfg.Credentials, local: local, signer: v4.NewSigner(), debug: g.debugOut, now: time.Now}
	if c.region == "" {
		c.region = defaultRegion
	}
	if !validRegion(c.region) {
		return nil, fmt.Errorf("Provided region_name '%s' doesn't match a supported format.", c.region)
	}
	// The configured client: it carries AWS_CA_BUNDLE / --ca-bundle and
	// the timeouts.
	c.doer = cfg.HTTPClient
	if g.noSign {
		c.creds = nil
	}
	return c, nil
}

// readCABundle returns the CA bundle (--ca-bundle, else AWS_CA_BUNDLE,
// else the profile's ca_bundle) for an https endpoint, nil when none is
// given or the endpoint is http.
func readCABundle(g *globals, endpoint string) ([]byte, error) {
	bundle := g.caBundle
	if bundle == "" {
		bundle = os.Getenv("AWS_CA_BUNDLE")
	}
	if bundle == "" {
		bundle = g.profileCABundle
	}
	if bundle == "" || !strings.HasPrefix(strings.ToLower(endpoint), "https://") {
		return nil, nil
	}
	u := strings.TrimRight(endpoint, "/") + "/"
	data, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("SSL validation failed for %s %s", u, pyOSError(err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("SSL validation failed for %s [X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found", u)
	}
	return data, nil
}

// call sends one operation and returns the response body (nil for an empty
// body).
func (c *client) call(ctx context.Context, op string, body *omap) (any, error) {
	payload, err := json.Marshal(plainJSON(body))
	if err != nil {
		return nil, err
	}
	creds, err := c.credentials(ctx)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		status, respBody, err := c.send(ctx, op, payload, creds)
		if err != nil {
			return nil, err
		}
		if status == 200 {
			if len(bytes.TrimSpace(respBody)) == 0 {
				return nil, nil
			}
			v, err := decodeJSON(respBody)
			if err != nil {
				return nil, fmt.Errorf("Unable to parse response (%v), invalid JSON received:\n%s", err, respBody)
			}
			return v, nil
		}
		se := parseFault(op, status, respBody)
		if retryable(status, se.code) && attempt < maxRetries {
			sleep := time.Duration(rand.Float64() * float64(time.Second) * float64(int(1)<<attempt) / 2)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(sleep):
			}
			continue
		}
		if attempt > 0 {
			se.retries = attempt
		}
		return nil, c.explain(se)
	}
}

// loadSDKConfig loads the SDK's configuration (credentials, region). The
// SDK refuses an AWS_IGNORE_CONFIGURED_ENDPOINT_URLS other than "true" or
// "false" ("invalid value for environment variable"), which the AWS CLI
// reads as false (ignoreConfiguredEndpoints reads it so). swf chooses the
// endpoint itself and the SDK has no say in it, so such a value is hidden
// from the SDK while it loads.
func loadSDKConfig(ctx context.Context, opts []func(*config.LoadOptions) error) (aws.Config, error) {
	const name = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	if v, ok := os.LookupEnv(name); ok && v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		os.Unsetenv(name)
		defer os.Setenv(name, v)
	}
	// newClient has dealt with AWS_CA_BUNDLE (read for https endpoints
	// only); the SDK would read it for any endpoint.
	if v, ok := os.LookupEnv("AWS_CA_BUNDLE"); ok {
		os.Unsetenv("AWS_CA_BUNDLE")
		defer os.Setenv("AWS_CA_BUNDLE", v)
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// validRegion reports whether a region is a host label, as the AWS CLI
// requires before it signs anything with it: at most 63 letters, digits
// and hyphens, not all digits, and no hyphen first or last.
func validRegion(r string) bool {
	if len(r) > 63 || strings.HasPrefix(r, "-") || strings.HasSuffix(r, "-") || strings.Trim(r, "0123456789") == "" {
		return false
	}
	for _, ch := range r {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// pyOSError words a failure to read a file as Python's OSError does:
// "[Errno 2] No such file or directory".
func pyOSError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return fmt.Sprintf("[Errno %d] %s", int(errno), strings.ToUpper(msg[:1])+msg[1:])
	}
	return err.Error()
}

// placeholderCreds sign requests to a local endpoint when no credentials
// are configured: a server without --auth accepts any signature, and one
// with --auth refuses them with a fault that explain words.
var placeholderCreds = aws.Credentials{AccessKeyID: "SWFLOCALPLACEHOLDER", SecretAccessKey: "placeholder", Source: "swf placeholder"}

// credentials returns what to sign with: the configured credentials; for a
// local endpoint without any, placeholder ones (quietly; --debug says so);
// else nil, and the request goes unsigned, as far as a server needing no
// credentials is concerned.
func (c *client) credentials(ctx context.Context) (*aws.Credentials, error) {
	if c.creds == nil {
		return nil, nil
	}
	if c.placeholder {
		return &placeholderCreds, nil
	}
	cr, err := c.creds.Retrieve(ctx)
	switch {
	case err == nil:
		return &cr, nil
	case c.local:
		if c.debug != nil {
			fmt.Fprintf(c.debug, "swf: no credentials configured (%v); signing with placeholder credentials, which a local swfd without --auth accepts\n", err)
		}
		c.placeholder = true
		return &placeholderCreds, nil
	}
	if c.debug != nil {
		fmt.Fprintf(c.debug, "swf: no credentials (%v); sending unsigned\n", err)
	}
	return nil, nil
}

// explain adds to an authentication fault answered to placeholder
// credentials what the user has to do.
func (c *client) explain(se *serviceError) error {
	if !c.placeholder {
		return se
	}
	switch se.code {
	case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException", "MissingAuthenticationTokenException":
		return fmt.Errorf("%w\nNo AWS credentials are configured, so swf signed with placeholder credentials, and this server checks signatures (swfd --auth): "+
			"give it a real access key from its auth file (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --profile)", se)
	}
	return se
}

// isLoopbackURL reports whether an endpoint URL names this machine: a
// loopback address or localhost.
func isLoopbackURL(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseFault(op string, status int, body []byte) *serviceError {
	se := &serviceError{op: op, code: fmt.Sprint(status)}
	var fb map[string]any
	if json.Unmarshal(body, &fb) == nil {
		if t, ok := fb["__type"].(string); ok {
			se.code = t
		} else if t, ok := fb["code"].(string); ok {
			se.code = t
		}
		for _, k := range []string{"message", "Message", "errorMessage"} {
			if m, ok := fb[k].(string); ok {
				se.message, se.hasMessage = m, true
				break
			}
		}
	}
	if i := strings.LastIndexByte(se.code, '#'); i >= 0 {
		se.code = se.code[i+1:]
	}
	if i := strings.IndexByte(se.code, ':'); i >= 0 {
		se.code = se.code[:i]
	}
	return se
}

func retryable(status int, code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException":
		return true
	}
	return status == 500 || status == 502 || status == 503 || status == 504
}

func (c *client) send(ctx context.Context, op string, payload []byte, creds *aws.Credentials) (int, []byte, error) {
	return c.roundTrip(ctx, http.MethodPost, "/", "SimpleWorkflowService."+op, payload, creds)
}

// roundTrip sends one signed request (with an X-Amz-Target unless target
// is empty) and returns the answer's status and body.
func (c *client) roundTrip(ctx context.Context, method, path, target string, payload []byte, creds *aws.Credentials) (int, []byte, error) {
	u := strings.TrimRight(c.endpoint, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	if target != "" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", target)
	} else if len(payload) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "swf-cli/1 (swfd)")
	if creds != nil {
		sum := sha256.Sum256(payload)
		if err := c.signer.SignHTTP(ctx, *creds, req, hex.EncodeToString(sum[:]), "swf", c.region, c.now()); err != nil {
			return 0, nil, err
		}
	}
	if c.debug != nil {
		c.logRequest(req, payload)
	}
	resp, err := c.do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err() // interrupted (Ctrl-C)
		}
		return 0, nil, endpointError(u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		return 0, nil, endpointError(u, err)
	}
	if c.debug != nil {
		c.logResponse(resp, body)
	}
	return resp.StatusCode, body, nil
}

func (c *client) do(req *http.Request) (*http.Response, error) {
	if c.doer != nil {
		return c.doer.Do(req)
	}
	return http.DefaultClient.Do(req)
}

// endpointError words transport failures as the AWS CLI does.
func endpointError(u string, err error) error {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("Read timeout on endpoint URL: \"%s\"", u)
	}
	if reason, ok := certificateProblem(err); ok {
		return fmt.Errorf("SSL validation failed for %s [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s", u, reason)
	}
	if errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" {
			return fmt.Errorf("Could not connect to the endpoint URL: \"%s\"", u)
		}
		return fmt.Errorf("Connection was closed before we received a valid response from endpoint URL: \"%s\".", u)
	}
	return err
}

// certificateProblem says why the server's certificate was refused, in
// OpenSSL's words (which the AWS CLI prints), when that is what err is.
func certificateProblem(err error) (string, bool) {
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) {
		return "", false
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		chain := ve.UnverifiedCertificates
		if n := len(chain); n > 0 && bytes.Equal(chain[n-1].RawIssuer, chain[n-1].RawSubject) {
			if n == 1 {
				return "self-signed certificate", true
			}
			return "self-signed certificate in certificate chain", true
		}
		return "unable to get local issuer certificate", true
	case errors.As(err, &he):
		if net.ParseIP(he.Host) != nil {
			return fmt.Sprintf("IP address mismatch, certificate is not valid for '%s'.", he.Host), true
		}
		return fmt.Sprintf("Hostname mismatch, certificate is not valid for '%s'.", he.Host), true
	case errors.As(err, &ie) && ie.Reason == x509.Expired:
		return "certificate has expired", true
	}
	return ve.Err.Error(), true
}

func (c *client) logRequest(req *http.Request, body []byte) {
	fmt.Fprintf(c.debug, "%s swf debug: request %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), req.Method, req.URL)
	writeHeaders(c.debug, req.Header, req.Host)
	fmt.Fprintf(c.debug, "  body: %s\n", body)
}

func (c *client) logResponse(resp *http.Response, body []byte) {
	fmt.Fprintf(c.debug, "%s swf debug: response %s\n", time.Now().UTC().Format(time.RFC3339Nano), resp.Status)
	writeHeaders(c.debug, resp.Header, "")
	fmt.Fprintf(c.debug, "  body: %s\n", body)
}

func writeHeaders(w io.Writer, h http.Header, host string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if host != "" {
		fmt.Fprintf(w, "  Host: %s\n", host)
	}
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if k == "Authorization" {
			// Keep the credential scope, hide the signature.
			if i := strings.Index(v, "Signature="); i >= 0 {
				v = v[:i] + "Signature=<redacted>"
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", k, v)
	}
}

// checkEndpoint refuses, before any call and in the AWS CLI's words, an
// endpoint URL that names no host, or a host that is neither a DNS name
// (labels of letters, digits and hyphens, none at either end of a label;
// so an IPv4 address too) nor an IPv6 address in brackets, and then one
// whose scheme is not http or https.
func checkEndpoint(endpoint string) error {
	invalid := fmt.Errorf("Invalid endpoint: %s", endpoint)
	if strings.ContainsAny(endpoint, "\t\r\n") {
		return invalid
	}
	scheme, rest, _ := strings.Cut(endpoint, "://")
	netloc := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		netloc = rest[:i]
	}
	if strings.Contains(netloc, "[") != strings.Contains(netloc, "]") {
		return errors.New("Invalid IPv6 URL")
	}
	if i := strings.LastIndex(netloc, "@"); i >= 0 {
		netloc = netloc[i+1:]
	}
	var host string
	if _, bracketed, ok := strings.Cut(netloc, "["); ok {
		host, _, _ = strings.Cut(bracketed, "]")
		if ip, _, _ := strings.Cut(host, "%"); net.ParseIP(ip) == nil || !strings.Contains(ip, ":") {
			return invalid
		}
	} else {
		host, _, _ = strings.Cut(netloc, ":")
		if !isDNSName(strings.TrimSuffix(host, ".")) {
			return invalid
		}
	}
	if len(host) > 255 {
		return invalid
	}
	if s := strings.ToLower(scheme); s != "http" && s != "https" {
		return fmt.Errorf("An HTTP Client raised an unhandled exception: Not supported URL scheme %s", scheme)
	}
	return nil
}

// isDNSName reports whether host is dot-separated labels of 1 to 63
// letters, digits and hyphens, none beginning or ending with a hyphen.
func isDNSName(host string) bool {
	if host == "" {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
