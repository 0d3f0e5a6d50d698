// Package awslambda is the lambda.Invoker that calls the AWS Lambda API
// (AWS Lambda itself, or any emulator of its Invoke operation) through
// aws-sdk-go-v2's Lambda client.
//
// Credentials come from the standard AWS configuration chain (environment,
// shared files, container or instance roles). When the chain has none at
// start, the requests to an emulator go unsigned, as emulators accept
// them; those to AWS Lambda itself (which refuses unsigned requests) keep
// the chain, which looks for credentials again at each request until it
// finds some. swfd invokes with
// these credentials: it does not assume the execution's Lambda role, which
// it passes to the log only (the real service invokes as that role).
package awslambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/swfd/swfd/internal/sdkhttp"
	swflambda "github.com/swfd/swfd/lambda"
)

// Options configure an Invoker.
type Options struct {
	// Endpoint is the Lambda API's URL, e.g. https://lambda.us-east-1.amazonaws.com
	// or http://localhost:9001 for an emulator.
	Endpoint string
	// Region signs the requests when the AWS configuration names none
	// and the endpoint is not AWS Lambda's own (whose requests are signed
	// for the region its host names).
	Region string
	Log    *slog.Logger
	// CredentialsTimeout bounds the look for credentials at start
	// (default 10s): past it, or when none are found, requests to an
	// emulator go unsigned (those to AWS Lambda look again each time).
	CredentialsTimeout time.Duration

	// proxy, if set, replaces the proxy the environment names (tests:
	// net/http reads HTTP_PROXY once per process, so a test cannot point
	// it at a server of its own twice).
	proxy func(*http.Request) (*url.URL, error)
}

// Invoker invokes functions through the Lambda API.
type Invoker struct {
	client   *lambda.Client
	log      *slog.Logger
	noDryRun sync.Once // the warning that the endpoint does not implement DryRun, once
}

var _ swflambda.Invoker = (*Invoker)(nil)

// New returns an Invoker for opts.Endpoint. It looks for credentials once,
// now: an error means the AWS configuration itself could not be read.
func New(ctx context.Context, opts Options) (*Invoker, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Endpoint == "" {
		return nil, errors.New("awslambda: no endpoint")
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, fmt.Errorf("awslambda: read the AWS configuration: %w", err)
	}
	region := endpointRegion(opts.Endpoint) // "" for an emulator
	if r := region; r != "" {
		// AWS refuses a signature scoped to any region but its
		// endpoint's.
		if cfg.Region != "" && cfg.Region != r {
			log.Info("Lambda requests are signed for the endpoint's region, not the AWS configuration's", "endpoint", opts.Endpoint, "region", r, "configured", cfg.Region)
		}
		cfg.Region = r
	}
	if cfg.Region == "" {
		cfg.Region = opts.Region
	}
	wait := opts.CredentialsTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, wait)
	creds, err := cfg.Credentials.Retrieve(cctx)
	cancel()
	switch {
	case (err != nil || !creds.HasKeys()) && region != "" && cfg.Credentials != nil:
		// AWS Lambda refuses every unsigned request, and credentials
		// missing now (a container's or an instance's role whose
		// endpoint does not answer yet) may be had later: the chain
		// looks for them again at each request, which fails (before it
		// is sent) until it finds them.
		log.Warn("no AWS credentials found yet: requests to AWS Lambda fail until the AWS configuration yields them", "endpoint", opts.Endpoint, "err", err)
	case err != nil || !creds.HasKeys():
		log.Info("no AWS credentials found: Lambda requests go unsigned", "endpoint", opts.Endpoint, "err", err)
		cfg.Credentials = aws.AnonymousCredentials{}
	default:
		log.Info("Lambda requests are signed", "endpoint", opts.Endpoint, "source", creds.Source, "region", cfg.Region)
	}
	// The SDK closes a request's body early, which can fail a call that
	// was answered (see sdkhttp); an invocation is never retried, so it
	// must not fail that way.
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		tr := bc.GetTransport()
		if opts.proxy != nil {
			tr.Proxy = opts.proxy
		}
		cfg.HTTPClient = sdkhttp.Client{Client: &http.Client{Transport: tr}}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = limitClient{next: cfg.HTTPClient}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(opts.Endpoint)
	})
	return &Invoker{client: client, log: log}, nil
}

// endpointRegion returns the region an AWS Lambda endpoint serves, as its
// host names it (lambda.REGION.amazonaws.com, lambda-fips.REGION.…, and
// the China and dual-stack domains); "" for any other endpoint (an
// emulator), which is signed for the configured region.
func endpointRegion(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), ".")
	if len(labels) < 4 || (labels[0] != "lambda" && labels[0] != "lambda-fips") {
		return ""
	}
	switch strings.Join(labels[2:], ".") {
	case "amazonaws.com", "amazonaws.com.cn", "api.aws":
	default:
		return ""
	}
	region := labels[1]
	if !regionName.MatchString(region) {
		return ""
	}
	return region
}

// regionName matches an AWS region's name: us-east-1, cn-north-1,
// us-gov-west-1, ap-southeast-5.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Check invokes r's function with InvocationType DryRun: Lambda checks the
// function exists and may be invoked, and runs nothing. The SDK retries
// what it deems retryable (the function does not run, so this is safe),
// throttling (429 TooManyRequestsException) and connections that failed
// among it: up to 3 attempts, with its own back-off. A check still
// throttled then wraps swflambda.ErrThrottled, one that never got a
// connection swflambda.ErrNotSent, and one answered with an error that
// passes swflambda.ErrUnavailable (a function not ready yet, a 5xx that
// names no lasting fault of the function: serverFault, or no answer at
// all, its connection broken once it was sent): none is a
// refusal, and the Loop checks again later. Any other answer (no such
// function, access denied, a configuration that cannot work) is one.
//
// An endpoint that answers that it does not implement DryRun (501
// NotImplemented: local emulators that only run functions, such as
// sam local start-lambda) has checked nothing and refused nothing: the
// function may be invoked, and if it cannot be, its invocation fails after
// its start instead.
func (iv *Invoker) Check(ctx context.Context, r swflambda.Request) error {
	tctx, c := newCall(ctx)
	_, err := iv.client.Invoke(tctx, &lambda.InvokeInput{
		FunctionName: aws.String(r.Function), InvocationType: types.InvocationTypeDryRun,
	})
	switch {
	case err == nil:
		return nil
	case notSent(ctx, c):
		return &notSentError{err}
	case dryRunUnsupported(err):
		iv.noDryRun.Do(func() {
			iv.log.Warn("the Lambda endpoint does not implement DryRun: functions are invoked without a check first (one that cannot be invoked fails after its start)", "err", describe(err))
		})
		return nil
	case throttled(err):
		return &throttledError{describe(err)}
	case notReady(err) || serverFault(err):
		return &unavailableError{describe(err)}
	case sendFailed(err):
		// No answer came: the connection broke, and a check runs
		// nothing, so it may be made again.
		return &unavailableError{err}
	}
	return describe(err)
}

// dryRunUnsupported reports whether err is the endpoint's answer that it
// does not implement the request (HTTP 501, or the NotImplemented code).
func dryRunUnsupported(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented"
}

// Invoke invokes r's function synchronously (RequestResponse), once: the
// SDK's retries are off, since a retry after a failure the function did
// not cause could run it a second time. A throttled invocation (429
// TooManyRequestsException: Lambda refused it for now and ran nothing)
// is not retried here either: its error wraps swflambda.ErrThrottled, and
// the Loop invokes again after a back-off of its own; so does one that
// never got a connection to the endpoint (swflambda.ErrNotSent), and one
// Lambda refused as the function is not ready to run yet (notReady,
// swflambda.ErrUnavailable). Lambda's internal error (500
// ServiceException) and any other 5xx are not retried: they do not say
// the function did not run (Lambda may fail after running it), and the
// answer is recorded as the function's failure. That holds for a 502,
// 503 or 504 without an error code too, which comes from a gateway in
// front of Lambda (a proxy, a load balancer) rather than Lambda: it says
// that Lambda's answer did not reach the gateway, which may have sent the
// request on, so the function may have run; invoking it again could run
// it twice, where a Lambda task runs at most once for its schedule. (A
// check, which runs nothing, is made again after such an answer.)
func (iv *Invoker) Invoke(ctx context.Context, r swflambda.Request) (swflambda.Response, error) {
	in := &lambda.InvokeInput{FunctionName: aws.String(r.Function), InvocationType: types.InvocationTypeRequestResponse}
	if r.Input != nil {
		in.Payload = []byte(*r.Input)
	}
	tctx, c := newCall(ctx)
	out, err := iv.client.Invoke(tctx, in, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	if err != nil {
		if notSent(ctx, c) {
			return swflambda.Response{}, &notSentError{err}
		}
		if throttled(err) {
			return swflambda.Response{}, &throttledError{describe(err)}
		}
		if notReady(err) {
			// Refused before the function's code was loaded.
			return swflambda.Response{}, &unavailableError{describe(err)}
		}
		return swflambda.Response{}, describe(err)
	}
	return swflambda.Response{Payload: out.Payload, FunctionError: aws.ToString(out.FunctionError), Cut: c.cut.Load()}, nil
}

// limitClient reads at most swflambda.MaxResponseBytes of each response's
// body, whatever the endpoint sends (Lambda answers up to 6 MB, an
// emulator without end): the SDK reads a body into memory whole, and a
// thousand functions in flight answering so would take it all. A body
// longer than that ends there, as if it were all. It also keeps the
// account of the call its request belongs to (call), if any.
type limitClient struct{ next aws.HTTPClient }

// call is the account of one call to the Lambda endpoint (its requests,
// when the SDK tries more than once), kept by limitClient, which sees the
// requests to the endpoint only: sent is set once one of them got a
// connection to it, cut when a response was cut short.
type call struct{ sent, cut atomic.Bool }

// callKey is the context key of a call's *call.
type callKey struct{}

// newCall returns ctx with a new call's account.
func newCall(ctx context.Context) (context.Context, *call) {
	c := new(call)
	return context.WithValue(ctx, callKey{}, c), c
}

func (c limitClient) Do(req *http.Request) (*http.Response, error) {
	account, _ := req.Context().Value(callKey{}).(*call)
	if account != nil {
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { account.sent.Store(true) },
		}))
	}
	resp, err := c.next.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body := &limitedBody{ReadCloser: resp.Body, left: swflambda.MaxResponseBytes}
	if account != nil {
		body.cut = &account.cut
	}
	resp.Body = body
	return resp, nil
}

// limitedBody is a response body of which at most left more bytes are
// read; if more follow, cut (when not nil) is set.
type limitedBody struct {
	io.ReadCloser
	left int64
	cut  *atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Is there more? One byte tells.
		var one [1]byte
		n, err := io.ReadFull(b.ReadCloser, one[:])
		if n > 0 && b.cut != nil {
			b.cut.Store(true)
		}
		if n > 0 || err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// notSent reports whether call c, which failed, surely never reached the
// endpoint: no request of it got a connection (the endpoint's name was
// not found, its connection refused or timed out, its TLS handshake
// failed; or the request was not made at all, as without credentials to
// sign it), and ctx, the call's own, did not end (a call given up is no
// endpoint's failure). net/http writes nothing of a request before its
// connection is made, TLS included; once it has one, some of the request
// may have been sent, and it is not notSent. Only the requests to the
// endpoint count: an error of such a call may hold an answer of another
// service (the credentials' endpoint, STS), which is not the endpoint's
// and must not be taken for it.
func notSent(ctx context.Context, c *call) bool {
	return !c.sent.Load() && ctx.Err() == nil
}

// notSentError is the error of a call that never reached the endpoint: it
// is swflambda.ErrNotSent too.
type notSentError struct{ err error }

func (e *notSentError) Error() string   { return e.err.Error() }
func (e *notSentError) Unwrap() []error { return []error{e.err, swflambda.ErrNotSent} }

// throttled reports whether err is Lambda's refusal of an invocation for
// now: TooManyRequestsException, or HTTP 429 from an endpoint that names
// no code. Lambda answers so before it runs anything (the account's or the
// function's concurrency, or its rate of requests, is used up).
func throttled(err error) bool {
	var tm *types.TooManyRequestsException
	if errors.As(err, &tm) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "TooManyRequestsException" {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusTooManyRequests
}

// notReady reports whether err is Lambda's answer that the function is not
// ready to run yet, which it gives before loading the function's code, for
// a state that ends by itself: the function is Pending (being created, or
// connected to a VPC) or being updated (409 ResourceConflictException, "The
// operation cannot be performed at this time"), it is inactive and its VPC
// connection is being made again (ResourceNotReadyException), its SnapStart
// snapshot is being made (SnapStartNotReadyException), or EC2 throttled the
// set-up of its environment (EC2ThrottledException). A function whose
// state is Failed is not: Lambda answers it with the same conflict, but
// it stays Failed.
func notReady(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceConflictException":
		// Unless the state it names is Failed: a function whose
		// creation failed stays so until it is deleted and made again.
		return !strings.Contains(ae.ErrorMessage(), "state: Failed")
	case "ResourceNotReadyException", "SnapStartNotReadyException", "EC2ThrottledException":
		return true
	}
	return false
}

// serverFault reports whether err is a 5xx answer that may pass: Lambda's
// internal error (500 ServiceException), a gateway's 502, 503 or 504, an
// emulator's 500, but not the 502s by which Lambda names a fault of the
// function's configuration that stays until someone changes it (lasting).
func serverFault(err error) bool {
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() < 500 {
		return false
	}
	var ae smithy.APIError
	return !errors.As(err, &ae) || !lasting[ae.ErrorCode()]
}

// lasting holds the codes of the 5xx answers by which Lambda says that the
// function's configuration cannot work (its subnets, security groups, KMS
// key, package or runtime) or that its VPC has no room for it: trying
// again does not help until someone changes the function or the account.
var lasting = map[string]bool{
	"InvalidSubnetIDException": true, "InvalidSecurityGroupIDException": true, "SubnetIPAddressLimitReachedException": true,
	"ENILimitReachedException": true, "EC2AccessDeniedException": true, "KMSAccessDeniedException": true,
	"KMSDisabledException": true, "KMSInvalidStateException": true, "KMSNotFoundException": true,
	"InvalidZipFileException": true, "InvalidRuntimeException": true,
}

// sendFailed reports whether err is a request's that got no answer at all
// (its connection failed or broke before a response came).
func sendFailed(err error) bool {
	var se *smithyhttp.RequestSendError
	return errors.As(err, &se)
}

// unavailableError is the error of a call the endpoint could not serve for
// now (notReady, or for a check serverFault): it is
// swflambda.ErrUnavailable too.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.err, swflambda.ErrUnavailable} }

// throttledError is a throttled invocation's error: its text and code are
// the endpoint's, and it is swflambda.ErrThrottled too.
type throttledError struct{ err error }

func (e *throttledError) Error() string   { return e.err.Error() }
func (e *throttledError) Unwrap() []error { return []error{e.err, swflambda.ErrThrottled} }

// describe turns an error the endpoint answered into "Code: message" (the
// SDK's own text wraps it in the operation and request id); other errors
// pass unchanged. The result keeps the error's code (ErrorCode) and wraps
// the original.
func describe(err error) error {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	return &apiError{code: ae.ErrorCode(), msg: ae.ErrorMessage(), err: err}
}

type apiError struct {
	code, msg string
	err       error
}

func (e *apiError) Error() string {
	if e.msg == "" {
		return e.code
	}
	return e.code + ": " + e.msg
}

func (e *apiError) ErrorCode() string { return e.code }
func (e *apiError) Unwrap() error     { return e.err }
