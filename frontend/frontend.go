// Package frontend speaks the SWF wire protocol — AWS JSON 1.0 over HTTP —
// in front of an api.Service: it routes on X-Amz-Target, bounds and
// decodes the body (gzip too), validates it against the service model,
// calls the operation and encodes the answer or the fault exactly as the
// real service does. It holds no SWF logic.
package frontend

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/internal/lograte"
)

// MaxBodyBytes is SWF's request size limit (1 MB).
const MaxBodyBytes = 1 << 20

// Target prefixes: the current one, and the legacy one boto 2 sends.
const (
	targetPrefix       = "SimpleWorkflowService."
	legacyTargetPrefix = "com.amazonaws.swf.service.model.SimpleWorkflowService."
)

// Handler serves the SWF API.
type Handler struct {
	Service api.Service
	Logger  *slog.Logger
	// Observe, if set, is told of every call once it is answered (for
	// metrics and the access log). The Call is the handler's: it must not
	// be kept after Observe returns.
	Observe func(c *Call)
	// Gate, if set, is asked first about every request, before its body
	// is read (the clock's gate: moves of a test clock happen between
	// calls). It returns release, called once the answer has been
	// written, or the fault to answer instead, and then nothing is read
	// or served; either way the call is observed (Observe) like any
	// other, from its arrival.
	Gate func(r *http.Request) (release func(), f *api.Fault)
	// Authorize, if set, decides every call that is authenticated (Auth)
	// and well formed, before Admit is asked about it: an error it returns
	// (the OperationNotPermittedFault of a call the principal's policies
	// deny) is the answer, and the call goes no further, taking nothing
	// from Admit's quotas. With it set, Service is the service the calls
	// it allows reach, which need not authorize them again.
	Authorize func(ctx context.Context, op string, in any) error
	// Admit, if set, is asked about every call that is authenticated,
	// authorized and well formed, just before it reaches Service: a fault
	// it returns is the answer, and the call goes no further (throttling).
	// in is the decoded input; Admit must not change it.
	Admit func(ctx context.Context, c *Call, in any) *api.Fault
	// TaskDomain, if set, tells the domain of the task a task token names,
	// so that Call.Domain is known for the task-token operations too (it
	// stays empty for a token that names no task, for one whose domain
	// can no longer be told (ok with domain ""), and when err says the
	// domain could not be read).
	TaskDomain func(ctx context.Context, token string) (domain string, ok bool, err error)
	// CallDomains makes the handler fill in Call.Domain for Observe (Admit
	// always gets it): for the task-token operations that costs opening
	// the token once more (and, for a token that names its domain by its
	// run, finding the run's domain).
	CallDomains bool
	// BodyTimeout bounds how long a client may take to send a request body
	// (default 20s): past it the read fails and the connection is closed,
	// so a client that stops sending holds nothing.
	BodyTimeout time.Duration
	// WriteTimeout, if set, bounds how long sending an answer may take
	// once it is ready (the time a long poll waits does not count): a
	// client that does not read is cut off.
	WriteTimeout time.Duration
	// Auth, if set, authenticates every request once its body (as sent,
	// before any decompression) has been read and before anything is
	// decoded: it returns the principal, which the call's context then
	// carries (auth.FromContext), or the fault to answer, and then nothing
	// is executed. Without Auth every request is accepted as it comes.
	Auth func(r *http.Request, body []byte) (*auth.Principal, *api.Fault)
	// CallTimeout bounds how long a call other than a long poll may take
	// once decoded (default 15s; negative: no bound): past it the call's
	// context ends, and a call still waiting on the store (a database
	// that has stopped answering) is answered ServiceUnavailable, which
	// SDKs retry, long before their own read timeout (botocore's is 60
	// seconds) would make them send the call again while the first is
	// still waiting. A store's commit, once sent, is not cut short by it:
	// its answer is awaited as long as the store bounds it (see the
	// store's Commit).
	CallTimeout time.Duration
	// MaxDecoding bounds the request bytes being decoded or served at
	// once (default DefaultMaxDecoding; negative: no bound; at least twice
	// MaxBodyBytes): a body counts its bytes (and a gzip body its
	// decompressed bytes too) from when it has been read until its call is
	// answered, or, for a long poll, until it is decoded. Decoding a
	// request takes up to about sixteen times its body
	// (api.MaxDecodeRatio for its values, the rest for the typed input),
	// and the decoded input lives while the service works on it, so this
	// keeps what many requests take at once in proportion, however many
	// connections send them. A call that would go past the bound is
	// answered ServiceUnavailable at once, which SDKs retry. A body still
	// arriving counts nothing here, so clients that send slowly or never
	// finish hold none of it (MaxReceiving bounds them), and neither does
	// a long poll waiting for a task.
	MaxDecoding int64
	// MaxReceiving bounds the bytes read so far of the bodies still
	// arriving (default DefaultMaxReceiving; negative: no bound; at least
	// twice MaxBodyBytes), whatever the connections they come on: the
	// connection limit alone does not bound them, as each HTTP/1.1
	// connection may hold a body of up to MaxBodyBytes and each HTTP/2
	// connection hundreds of them at once. A read that would go past it
	// cuts off the bodies that have been arriving longest, for at least
	// connlimit.SilentAfter, each answered RequestTimeoutException as at
	// BodyTimeout, until the bytes left are within it; if none has been
	// arriving that long, the body being read is refused instead,
	// ServiceUnavailable, which SDKs retry. Bodies sent at once are never
	// that long, so clients that send slowly or stall lose their bodies,
	// not the others.
	MaxReceiving int64
	// Refused and Failed, if set, bound the lines logged for calls refused
	// because the storage is full or unavailable (warn level) and for
	// calls that failed with an internal error (error level), each kind on
	// its own: a storage outage fails every call that writes alike (and,
	// when the database cannot be reached, every call that reads), and
	// the log then gets a few lines a second with a count of those left
	// out ("suppressed=N"), not a line per call. nil: a line per call.
	Refused, Failed *lograte.Limiter

	decoding atomic.Int64 // request bytes being decoded or served (MaxDecoding)
	recv     receiving    // bodies still arriving (MaxReceiving)
}

// DefaultMaxDecoding is Handler.MaxDecoding when it is 0: 32 bodies of the
// largest size decoded or served at once, a few hundred MB of memory at
// worst.
const DefaultMaxDecoding = 32 << 20

// maxDecoding is the bound MaxDecoding sets, or -1 for none.
func (h *Handler) maxDecoding() int64 {
	switch n := h.MaxDecoding; {
	case n < 0:
		return -1
	case n == 0:
		return DefaultMaxDecoding
	case n < 2*MaxBodyBytes:
		return 2 * MaxBodyBytes
	default:
		return n
	}
}

// hold takes n bytes of MaxDecoding, and reports false, taking nothing,
// when that would go past it.
func (h *Handler) hold(n int64) bool {
	limit := h.maxDecoding()
	for {
		cur := h.decoding.Load()
		if limit >= 0 && cur+n > limit {
			return false
		}
		if h.decoding.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// Decoding returns the request bytes being decoded or served now (see
// MaxDecoding).
func (h *Handler) Decoding() int64 { return h.decoding.Load() }

// refuseDecoding logs a call refused at MaxDecoding and returns its fault.
func (h *Handler) refuseDecoding(ctx context.Context, op string, attrs ...any) error {
	args := append([]any{"op", op}, attrs...)
	h.logLimited(ctx, h.Refused, slog.LevelWarn, "request bytes being decoded or served at their bound: a call was refused", append(args, "bound", h.maxDecoding())...)
	return api.NewFault(api.ServiceUnavailable, "The server is decoding as many request bytes as it may at once; the call was not applied. Retry.")
}

// HoldDecoding counts n request bytes that a caller decodes outside the
// handler (the web console: its forms, and the inputs of the operations it
// makes of them) in MaxDecoding, as the handler counts a body it decodes,
// and returns what lets them go once decoded (call it once). When they
// would go past the bound it takes nothing and returns the
// ServiceUnavailable fault the handler answers then, logged as the
// handler's own refusals are (op names the operation, if there is one yet).
func (h *Handler) HoldDecoding(ctx context.Context, op string, n int64) (release func(), err error) {
	if !h.hold(n) {
		return nil, h.refuseDecoding(ctx, op)
	}
	return func() { h.decoding.Add(-n) }, nil
}

// decodeReleasing decodes body and lets the n bytes held for it go.
func (h *Handler) decodeReleasing(info api.OperationInfo, body []byte, n int64) (any, error) {
	defer h.decoding.Add(-n)
	return info.Decode(body)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &Call{Time: time.Now(), RequestID: newRequestID()}
	w.Header().Set("x-amzn-RequestId", c.RequestID)
	if op, ok := target(r); ok && api.Operations[op].Name != "" {
		c.Operation = op
	}
	defer func() {
		if p := recover(); p != nil {
			// The stack goes to the log only: the client gets a bare
			// InternalFailure.
			h.log().Error("panic serving request", "op", c.Operation, "request_id", c.RequestID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			h.answerDeadline(w)
			c.answerFault(w, r, &api.Fault{Code: api.InternalFailure, Message: "We encountered an internal error. Please try again."})
		}
		if h.Observe != nil {
			c.Duration = time.Since(c.Time)
			h.Observe(c)
		}
	}()
	var out []byte
	var err error
	if release, f := h.enterGate(r); f != nil {
		err = f
	} else {
		defer release() // after the answer is written, below
		out, err = h.serve(w, r, c)
	}
	if connlimit.Evicted(r.Context()) {
		// A long poll that gave its connection up to a new one at the
		// connection limit, or a body cut off to make room: the
		// connection closes after this answer (over HTTP/2 it takes no
		// new request, a GOAWAY, and closes once those under way end).
		w.Header().Set("Connection", "close")
	}
	if err != nil {
		f := FaultFor(err)
		if f == nil {
			// The client went away; nobody reads the answer.
			c.Fault, c.Status = ClientClosed, StatusClientClosed
			return
		}
		if _, ok := api.AsFault(err); !ok {
			ctx := r.Context()
			if errors.Is(err, swfd.ErrStorageUnavailable) {
				h.logLimited(ctx, h.Refused, slog.LevelWarn, "storage is unavailable: a call failed and nothing of it was applied", "op", c.Operation, "request_id", c.RequestID, "err", err)
			} else if errors.Is(err, swfd.ErrOutcomeUnknown) {
				h.logLimited(ctx, h.Failed, slog.LevelError, "storage failed while a call's write may have been applied: whether it was is unknown", "op", c.Operation, "request_id", c.RequestID, "err", err)
			} else if errors.Is(err, swfd.ErrLocked) {
				h.logLimited(ctx, h.Refused, slog.LevelWarn, "another writer held or kept changing a run the call changes: a call failed", "op", c.Operation, "request_id", c.RequestID, "err", err)
			} else if errors.Is(err, context.DeadlineExceeded) {
				h.logLimited(ctx, h.Refused, slog.LevelWarn, "storage did not answer in time: a call failed", "op", c.Operation, "request_id", c.RequestID, "err", err)
			} else if f.Code == api.ServiceUnavailable {
				h.logLimited(ctx, h.Refused, slog.LevelWarn, "storage is full: a call that writes was refused", "op", c.Operation, "request_id", c.RequestID)
			} else {
				h.logLimited(ctx, h.Failed, slog.LevelError, "internal error", "op", c.Operation, "request_id", c.RequestID, "err", err)
			}
		}
		h.log().Debug("fault", "op", c.Operation, "request_id", c.RequestID, "code", f.Code, "message", f.Message)
		h.answerDeadline(w)
		c.answerFault(w, r, f)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	h.answerDeadline(w)
	c.Status = http.StatusOK
	if out == nil {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	c.BytesOut = int64(len(out))
}

// enterGate passes r through Gate, if there is one.
func (h *Handler) enterGate(r *http.Request) (release func(), f *api.Fault) {
	if h.Gate == nil {
		return func() {}, nil
	}
	return h.Gate(r)
}

// answerDeadline gives the answer about to be written WriteTimeout to be
// taken, whether it is a result or a fault: a client that does not read
// holds its connection, and the answer, no longer than that.
func (h *Handler) answerDeadline(w http.ResponseWriter) {
	if h.WriteTimeout > 0 {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.WriteTimeout))
	}
}

// FaultFor is the fault the API answers for an operation's error: the
// error's own fault; ServiceUnavailable when the storage is full or
// refuses writes, or when a row it had to write stayed locked
// (swfd.ErrLocked): nothing of the call was kept, and SDKs retry a 503;
// ServiceUnavailable too when the call's time ran out waiting on the store
// (context.DeadlineExceeded), which stores wrap only for a read or a
// commit that was not applied, and when the store lost its database
// during a write whose outcome it could not learn (swfd.ErrOutcomeUnknown:
// the fault's message says so; an SDK's retry of a call that was applied
// is then refused or answered as a repeated call is);
// InternalFailure for any other error. It is nil when the caller went away (context.Canceled):
// nothing is answered then.
func FaultFor(err error) *api.Fault {
	if f, ok := api.AsFault(err); ok {
		return f
	}
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, swfd.ErrStorageFull):
		return &api.Fault{Code: api.ServiceUnavailable, Message: "The server's storage is full; the call was not applied. Retry once space has been freed."}
	case errors.Is(err, swfd.ErrStorageUnavailable):
		return &api.Fault{Code: api.ServiceUnavailable, Message: "The server cannot write to its storage; the call was not applied. Retry later."}
	case errors.Is(err, swfd.ErrLocked):
		return &api.Fault{Code: api.ServiceUnavailable, Message: "A workflow execution the call changes is being changed by another writer; the call was not applied. Retry."}
	case errors.Is(err, context.DeadlineExceeded):
		return &api.Fault{Code: api.ServiceUnavailable, Message: "The server's storage did not answer in time. Retry."}
	case errors.Is(err, swfd.ErrOutcomeUnknown):
		return &api.Fault{Code: api.ServiceUnavailable, Message: "The server lost its storage while applying the call; whether the call was applied is unknown. Check its effect, or retry."}
	}
	return &api.Fault{Code: api.InternalFailure, Message: "We encountered an internal error. Please try again."}
}

// logLimited logs a line through l, or straight to the handler's logger
// when l is nil.
func (h *Handler) logLimited(ctx context.Context, l *lograte.Limiter, level slog.Level, msg string, args ...any) {
	if l == nil {
		h.log().Log(ctx, level, msg, args...)
		return
	}
	l.Log(ctx, level, msg, args...)
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// target returns the operation r's X-Amz-Target names, and false when the
// header is given more than once: the values may name different operations,
// and an intermediary between the client and swfd that reads another of them
// than swfd would (a proxy that allows only some operations) would let
// through a call it meant to refuse, so such a request names none.
func target(r *http.Request) (op string, ok bool) {
	v := r.Header.Values("X-Amz-Target")
	if len(v) > 1 {
		return "", false
	}
	if len(v) == 0 {
		return "", true
	}
	return operationName(v[0]), true
}

func operationName(target string) string {
	switch {
	case strings.HasPrefix(target, targetPrefix):
		return target[len(targetPrefix):]
	case strings.HasPrefix(target, legacyTargetPrefix):
		return target[len(legacyTargetPrefix):]
	}
	return ""
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *Call) ([]byte, error) {
	if r.Method != http.MethodPost {
		return nil, api.NewFault(api.UnknownOperationException, "Only POST requests are accepted")
	}
	raw, err := h.readRawBounded(w, r)
	c.BytesIn = int64(len(raw))
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if h.Auth != nil {
		// Authentication comes first: an unauthenticated caller learns
		// nothing, not even whether the operation exists.
		p, f := h.Auth(r, raw)
		if f != nil {
			return nil, f
		}
		if p != nil {
			c.Principal = p.Name
		}
		ctx = auth.NewContext(ctx, p)
	}
	info, ok := api.Operations[c.Operation]
	if !ok {
		if n := len(r.Header.Values("X-Amz-Target")); n > 1 {
			return nil, api.NewFault(api.UnknownOperationException, "X-Amz-Target is given %d times; give the operation once", n)
		}
		return nil, api.NewFault(api.UnknownOperationException, "Unknown operation %s", quoteHeader(r.Header.Get("X-Amz-Target")))
	}
	gzipped, err := bodyCoding(r)
	if err != nil {
		return nil, err
	}
	body, err := decodeBody(raw, gzipped)
	if err != nil {
		return nil, err
	}
	held := int64(len(body))
	if gzipped {
		held += int64(len(raw)) // both are held while it is decoded
	}
	if !h.hold(held) {
		return nil, h.refuseDecoding(ctx, c.Operation, "request_id", c.RequestID)
	}
	// A call keeps its bytes counted until it is answered: its decoded
	// input, about the size of its body, lives as long as the service
	// works on it, and what the service makes of it (a decision batch's
	// events) more. A long poll lets them go once decoded: its input is
	// small, and it waits in the service for up to a minute.
	var in any
	if isLongPoll(c.Operation) {
		in, err = h.decodeReleasing(info, body, held)
	} else {
		defer h.decoding.Add(-held)
		in, err = info.Decode(body)
	}
	if err != nil {
		return nil, err
	}
	if d := h.callTimeout(); d > 0 && !isLongPoll(c.Operation) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if h.CallDomains || h.Admit != nil {
		c.Domain = domainOf(ctx, c.Operation, in, h.TaskDomain)
	}
	// Authorization before throttling: a call the policies deny must not
	// spend the quota of the callers they allow. (In what order the real
	// service throttles and authorizes is not documented; clients expect
	// a quota to be theirs, not to be used up by callers who are refused.)
	if h.Authorize != nil {
		if err := h.Authorize(ctx, c.Operation, in); err != nil {
			return nil, err
		}
	}
	if h.Admit != nil {
		if f := h.Admit(ctx, c, in); f != nil {
			return nil, f
		}
	}
	out, err := info.Call(ctx, h.Service, in)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	return encode(out)
}

// DefaultCallTimeout is Handler.CallTimeout when it is 0.
const DefaultCallTimeout = 15 * time.Second

func (h *Handler) callTimeout() time.Duration {
	if h.CallTimeout == 0 {
		return DefaultCallTimeout
	}
	return h.CallTimeout
}

// isLongPoll reports whether op waits for work: CallTimeout does not
// apply to it.
func isLongPoll(op string) bool {
	return op == "PollForDecisionTask" || op == "PollForActivityTask"
}

// readRaw reads the body as the client sent it (the bytes a signature
// covers), at most limit bytes.
func readRaw(r *http.Request, body io.Reader, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	raw, err := readSized(&capReader{r: body, left: limit}, r.ContentLength)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, tooLarge(limit)
	case errors.Is(err, errReceivingFull):
		return nil, api.NewFault(api.ServiceUnavailable, "The server is receiving as many request bytes as it may at once; the call was not applied. Retry.")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, api.NewFault(api.RequestTimeout, "The request body was not received within the time allowed; nothing was done. Send the request again.")
	case err != nil:
		return nil, api.NewFault(api.SerializationException, "Request body could not be read")
	}
	return raw, nil
}

// maxPresize bounds the buffer readSized makes from a body's declared
// length before any of it has arrived: a client may declare a length up to
// the limit and send nothing, and the bytes the server is receiving are
// counted as they arrive (MaxReceiving), not as they are declared. A body
// larger than this grows its buffer as it arrives, as io.ReadAll does.
const maxPresize = 32 << 10

// readSized is io.ReadAll for a body of size bytes as declared (its
// Content-Length; -1 or 0 when unknown): a buffer of that size (at most
// maxPresize), with room for the read that sees the end, takes the body
// in one allocation where io.ReadAll starts at 512 bytes and grows it.
// A body longer or shorter than declared is read all the same.
func readSized(rd io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(rd)
	}
	b := make([]byte, 0, min(size, maxPresize)+1)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// decodeBody undoes gzip compression (bodyCoding); the limit applies to
// the decompressed body too.
func decodeBody(raw []byte, gzipped bool) ([]byte, error) {
	if !gzipped {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, api.NewFault(api.SerializationException, "Request body is not valid gzip")
	}
	defer zr.Close()
	body, err := io.ReadAll(&capReader{r: zr, left: MaxBodyBytes})
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, tooLarge(MaxBodyBytes)
	case err != nil:
		switch {
		case errors.Is(err, gzip.ErrChecksum):
			return nil, api.NewFault(api.SerializationException, "Request body is not valid gzip: its checksum does not match")
		case errors.Is(err, gzip.ErrHeader):
			return nil, api.NewFault(api.SerializationException, "Request body is not valid gzip: a member's header is invalid")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, api.NewFault(api.SerializationException, "Request body is not valid gzip: it ends early")
		}
		return nil, api.NewFault(api.SerializationException, "Request body could not be read")
	}
	return body, nil
}

// bodyCoding reads r's Content-Encoding, the codings applied to its body
// in order, and reports whether the body is gzip-compressed: gzip (or
// x-gzip, its older name) once, with any number of codings that change
// nothing around it (identity, and amz-1.0, which legacy clients send on
// a plain body). Any other coding (deflate, br, gzip twice, …) is a
// SerializationException that names it: a body read as if plain would
// only fail as JSON that is not valid UTF-8, which says nothing of why.
func bodyCoding(r *http.Request) (gzipped bool, err error) {
	for _, v := range r.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.TrimSpace(c)
			switch strings.ToLower(c) {
			case "", "identity", "amz-1.0":
			case "gzip", "x-gzip":
				if gzipped {
					return false, api.NewFault(api.SerializationException, "Request body has Content-Encoding %s, which applies gzip more than once; send it gzip-compressed once, or uncompressed", quoteHeader(v))
				}
				gzipped = true
			default:
				return false, api.NewFault(api.SerializationException, "Request body has Content-Encoding %s, which is not supported; send it gzip-compressed, or uncompressed", quoteHeader(c))
			}
		}
	}
	return gzipped, nil
}

// quoteHeader quotes a header's value (a Content-Encoding or one of its
// codings, an X-Amz-Target) for a fault's message, cut short if long: a
// header may hold tens of KB, which the answer does not send back.
func quoteHeader(c string) string {
	const most = 64
	if len(c) > most {
		return strconv.Quote(c[:most]) + "…"
	}
	return strconv.Quote(c)
}

var errBodyTooLarge = errors.New("request body too large")

// capReader reads at most left bytes from r and fails with errBodyTooLarge
// if r holds more.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}

func tooLarge(limit int64) *api.Fault {
	return api.NewFault(api.RequestEntityTooLarge, "Request size exceeds the limit of %d bytes", limit)
}

// encode marshals an operation's output. Empty long polls omit taskToken,
// as the real service does (the Flow framework treats any token as a task).
func encode(out any) ([]byte, error) {
	switch t := out.(type) {
	case *api.DecisionTask:
		if t.TaskToken == "" {
			return []byte(`{"previousStartedEventId":0,"startedEventId":0}`), nil
		}
		return encodeWithEvents(t, &t.Events)
	case *api.History:
		return encodeWithEvents(t, &t.Events)
	case *api.ActivityTask:
		if t.TaskToken == "" {
			return []byte(`{"startedEventId":0}`), nil
		}
	}
	return encodeJSON(out)
}

// encodeWithEvents encodes out, whose first member is "events", splicing in
// the stored wire JSON of events that carry it as is: encoding/json would
// validate and compact again every byte a MarshalJSON method returns, which
// for a page of history is most of the work of the answer.
func encodeWithEvents(out any, events *[]api.HistoryEvent) ([]byte, error) {
	evs := *events
	*events = []api.HistoryEvent{}
	b, err := encodeJSON(out)
	*events = evs
	if err != nil {
		return nil, err
	}
	const empty = `{"events":[]`
	if !bytes.HasPrefix(b, []byte(empty)) {
		return nil, fmt.Errorf("encode output: %T does not begin with its events", out)
	}
	size := len(b)
	for _, e := range evs {
		size += len(e.Raw) + 1
	}
	w := make([]byte, 0, size+64)
	w = append(w, `{"events":[`...)
	for i, e := range evs {
		if i > 0 {
			w = append(w, ',')
		}
		if len(e.Raw) > 0 {
			w = append(w, e.Raw...)
			continue
		}
		eb, err := encodeJSON(e)
		if err != nil {
			return nil, err
		}
		w = append(w, eb...)
	}
	w = append(w, ']')
	return append(w, b[len(empty):]...), nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// WriteFault answers f as SWF answers faults: its __type and message as JSON,
// x-amzn-ErrorType, and its HTTP status. Other HTTP APIs of swfd answer
// their faults with it too. r is the request answered.
func WriteFault(w http.ResponseWriter, r *http.Request, f *api.Fault) { writeFault(w, r, f) }

// answerFault answers f to r and records it in c.
func (c *Call) answerFault(w http.ResponseWriter, r *http.Request, f *api.Fault) {
	c.Fault = f.Code
	status, n := writeFault(w, r, f)
	c.Status, c.BytesOut = status, int64(n)
}

// faultAnswer is the wire type and HTTP status f is answered with, and
// whether it is an authentication fault.
func faultAnswer(f *api.Fault) (wireType string, status int, authFault bool) {
	if st, ok := auth.FaultHTTPStatus(f.Code); ok {
		return auth.FaultWireType(f.Code), st, true
	}
	return f.WireType(), f.HTTPStatus(), false
}

func writeFault(w http.ResponseWriter, r *http.Request, f *api.Fault) (status, bytes int) {
	wireType, status, authFault := faultAnswer(f)
	errorType := f.Code
	if authFault && r.ProtoMajor == 1 {
		// A caller that did not authenticate keeps no connection. Not
		// over HTTP/2: there the connection is shared by many requests
		// (an SDK's whole client pool), and Go's server answers
		// "Connection: close" by ending all of them.
		w.Header().Set("Connection", "close")
	}
	if f.Code == api.ThrottlingException {
		// As AWS's request framework sends it: the code, then the
		// namespace it comes from. Every SDK keeps the part before ':'.
		errorType = throttlingErrorType
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{wireType, f.Message})
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("x-amzn-ErrorType", errorType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
	return status, len(body)
}

// throttlingErrorType is the x-amzn-ErrorType header of a
// ThrottlingException.
const throttlingErrorType = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	// A random UUID (version 4, RFC 4122 variant), as AWS's request ids are.
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// ReadBody reads r's body, at most limit bytes (at most MaxBodyBytes), as
// the API's requests are read: within BodyTimeout, cut off at the
// connection limit when a new connection needs its own, and counted in
// MaxReceiving while it arrives. It is for the other handlers of the API's
// address that take bodies (the web console's forms): read otherwise, a
// body that never arrives holds its connection for good, out of the
// connection limit's reach. A body past limit is a RequestEntityTooLarge
// fault; one too slow, RequestTimeout; one refused at MaxReceiving,
// ServiceUnavailable.
func (h *Handler) ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	return h.readBounded(w, r, min(limit, MaxBodyBytes))
}

// readRawBounded reads an API request's body (see readBounded).
func (h *Handler) readRawBounded(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return h.readBounded(w, r, MaxBodyBytes)
}

// readBounded reads the body, at most limit bytes, within BodyTimeout, or until the
// connection limit cuts it off (connlimit.Receiving). Only when the timer
// fires, or the cut comes, with the body still unread does it touch the
// connection (a read deadline of now, which fails the pending read);
// Request.Body itself is left as the server made it.
func (h *Handler) readBounded(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	d := h.BodyTimeout
	if d <= 0 {
		d = 20 * time.Second
	}
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	finished := false
	cut := func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			rc.SetReadDeadline(time.Now())
		}
	}
	t := time.AfterFunc(d, cut)
	// At the connection limit a body still arriving after a while is cut
	// off the same way, to free its connection for a new one: a client
	// that sends it a byte at a time, or never finishes it, must not hold
	// connections the others need.
	received := connlimit.Receiving(r.Context(), cut)
	// Past MaxReceiving, the bodies arriving longest are cut off the
	// same way (or this one refused), whatever the connections they come
	// on: over HTTP/2 one connection carries hundreds of them.
	body := h.arrive(r.Body, cut)
	raw, err := readRaw(r, body, limit)
	body.done()
	received()
	mu.Lock()
	finished = true
	mu.Unlock()
	t.Stop()
	if f, ok := api.AsFault(err); ok && (connlimit.Evicted(r.Context()) || r.ProtoMajor == 1 && (f.Code == api.RequestTimeout || f.Code == api.ServiceUnavailable)) {
		// The rest of the body is still on its way, or the connection
		// limit wants the connection: it takes no other request.
		w.Header().Set("Connection", "close")
	}
	return raw, err
}
