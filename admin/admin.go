// Package admin serves swfd's own small HTTP API, beside the SWF one, under
// /swfd/: reading and moving the clock, and resetting a --dev server. It is
// plain JSON over HTTP so that tests in any language can drive it; with
// authentication on, requests are signed (AWS Signature Version 4, service
// "swf") like SWF calls, and faults are answered the way SWF answers them.
//
//	GET  /swfd/clock           the clock: {"mode", "now", "unixMillis"}
//	POST /swfd/clock/advance   {"duration": "24h"}: move forward by a duration
//	POST /swfd/clock/set       {"time": "2030-01-02T00:00:00Z"}: move forward to a time
//	POST /swfd/dev/reset       drop every domain, execution and task (--dev only);
//	                           no body, or a JSON object ({})
//
// Moving the clock and resetting need their own IAM actions,
// swfd:AdvanceClock (on arn:aws:swf:REGION:ACCOUNT:/swfd/clock) and
// swfd:Reset (on arn:aws:swf:REGION:ACCOUNT:/swfd/dev), which a policy may
// name with or without the "/" before "swfd" (auth.OwnResource); reading
// the clock needs only a valid signature. docs/testing.md documents the API.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/frontend"
)

// Prefix is where the admin API is mounted.
const Prefix = "/swfd/"

// The IAM actions of the admin API (a policy naming another swfd: action
// is refused when the auth file is loaded).
const (
	ActionAdvanceClock = auth.ActionAdvanceClock
	ActionReset        = auth.ActionReset
)

// Clock is the clock the API reads and moves (a *clock.Controller).
type Clock interface {
	Mode() clock.Mode
	Now() time.Time
	Advance(ctx context.Context, d time.Duration) (clock.Moved, error)
	Set(ctx context.Context, t time.Time) (clock.Moved, error)
}

// Handler serves the admin API.
type Handler struct {
	Clock Clock
	// Reset drops every domain, execution and task; nil when the server
	// is not in --dev mode, and then reset answers a fault.
	Reset func(ctx context.Context) error
	// Auth, if set, authenticates every request as the SWF API does (see
	// frontend.Handler.Auth).
	Auth            func(r *http.Request, body []byte) (*auth.Principal, *api.Fault)
	Region, Account string
	Logger          *slog.Logger
	// Execution, if set, finds the run a timer belongs to (any domain),
	// so that a move names each timer that failed to fire by its run's
	// domain and workflowId too; a run it cannot find is named by its
	// runId alone.
	Execution func(ctx context.Context, runID string) (domain, workflowID string, err error)
	// ReadBody, if set, reads a request's body, at most limit bytes, as
	// the SWF API reads its requests' (frontend.Handler.ReadBody): within
	// the body timeout, cut off at the connection limit when a new
	// connection needs its own. A body is read before its signature can be
	// checked, so anyone who reaches the port may send one; read with no
	// bound, one that never arrives whole holds its connection for as long
	// as its client stays, out of the connection limit's reach. Without
	// it the body is read as it comes (for tests of the handler alone).
	ReadBody func(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error)
}

// maxBody bounds a request body: the API's inputs are a few bytes.
const maxBody = 64 << 10

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := h.serve(w, r)
	if err != nil {
		f, ok := api.AsFault(err)
		if !ok {
			h.log().Error("admin call failed", "path", r.URL.Path, "err", err)
			f = &api.Fault{Code: api.InternalFailure, Message: "We encountered an internal error. Please try again."}
		}
		frontend.WriteFault(w, r, f)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// clockState is what every clock call answers.
type clockState struct {
	Mode       clock.Mode `json:"mode"`
	Now        string     `json:"now"`
	UnixMillis int64      `json:"unixMillis"`
	// TimersFired counts the timers and timeouts a move fired.
	TimersFired *int `json:"timersFired,omitempty"`
	// TimersStuck lists the timers a move went on past because they
	// failed to fire (clock.Moved.Stuck); absent when there are none.
	TimersStuck []stuckTimer `json:"timersStuck,omitempty"`
}

// stuckTimer is a timer that failed to fire: the run it belongs to (its
// domain and workflowId when they could be read) and when it was due.
type stuckTimer struct {
	Domain     string `json:"domain,omitempty"`
	WorkflowID string `json:"workflowId,omitempty"`
	RunID      string `json:"runId"`
	Due        string `json:"due"`
}

func (h *Handler) state(now time.Time, fired *int) clockState {
	now = now.UTC()
	return clockState{Mode: h.Clock.Mode(), Now: now.Format(timeLayout), UnixMillis: now.UnixMilli(), TimersFired: fired}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (any, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var p *auth.Principal
	if h.Auth != nil {
		// As for SWF calls, an unauthenticated caller learns nothing.
		var f *api.Fault
		if p, f = h.Auth(r, body); f != nil {
			return nil, f
		}
	}
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /swfd/clock":
		return h.state(h.Clock.Now(), nil), nil
	case "POST /swfd/clock/advance":
		if err := h.authorize(p, ActionAdvanceClock, "clock"); err != nil {
			return nil, err
		}
		var in struct {
			Duration json.RawMessage `json:"duration"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		d, sent, err := parseDuration(in.Duration)
		if err != nil {
			return nil, err
		}
		m, err := h.Clock.Advance(r.Context(), d)
		if errors.Is(err, clock.ErrTooLate) {
			return nil, api.ErrValidation("1 validation error detected: Value '%s' at 'duration' failed to satisfy constraint: "+
				"Member must not move the clock past %s (swfd's time is %s)", sent, clock.Latest.Format(time.RFC3339), h.Clock.Now().Format(timeLayout))
		}
		return h.move(r.Context(), m, err)
	case "POST /swfd/clock/set":
		if err := h.authorize(p, ActionAdvanceClock, "clock"); err != nil {
			return nil, err
		}
		var in struct {
			Time json.RawMessage `json:"time"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		t, sent, err := parseTime(in.Time)
		if err != nil {
			return nil, err
		}
		m, err := h.Clock.Set(r.Context(), t)
		// The value quoted is the one sent, as it was sent; the time it
		// stands for follows when it is spelled otherwise.
		as := ""
		if utc := t.UTC().Format(time.RFC3339Nano); utc != sent {
			as = " (the value is " + utc + ")"
		}
		if errors.Is(err, clock.ErrBackwards) {
			return nil, api.ErrValidation("1 validation error detected: Value '%s' at 'time' failed to satisfy constraint: "+
				"Member must not be before swfd's time %s: the clock never goes backwards%s",
				sent, h.Clock.Now().UTC().Format(timeLayout), as)
		}
		if errors.Is(err, clock.ErrTooLate) {
			return nil, api.ErrValidation("1 validation error detected: Value '%s' at 'time' failed to satisfy constraint: "+
				"Member must not be after %s%s", sent, clock.Latest.Format(time.RFC3339), as)
		}
		if errors.Is(err, clock.ErrTimePrecision) {
			// parseTime refused such a time already; this is the clock's
			// own word for it.
			return nil, api.ErrValidation("1 validation error detected: Value '%s' at 'time' failed to satisfy constraint: "+
				"Member must be a whole number of milliseconds (swfd's clock counts milliseconds, as SWF's timestamps do)%s", sent, as)
		}
		return h.move(r.Context(), m, err)
	case "POST /swfd/dev/reset":
		if err := h.authorize(p, ActionReset, "dev"); err != nil {
			return nil, err
		}
		// A reset has no members; its body, if any, is an object all the
		// same, as every call's is, and one that is not is refused before
		// anything is dropped.
		if err := decode(body, &struct{}{}); err != nil {
			return nil, err
		}
		if h.Reset == nil {
			return nil, api.NewFault(api.OperationNotPermittedFault,
				"Reset is only available when swfd runs with --dev (it drops every domain, execution and task); this server keeps its data")
		}
		if err := h.Reset(r.Context()); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	}
	return nil, unknownRoute(r)
}

// readBody reads the request's body, at most maxBody bytes, through
// ReadBody when it is set.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if h.ReadBody != nil {
		return h.ReadBody(w, r, maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, api.NewFault(api.SerializationException, "Request body could not be read")
	}
	if len(body) > maxBody {
		return nil, api.NewFault(api.RequestEntityTooLarge, "Request size exceeds the limit of %d bytes", maxBody)
	}
	return body, nil
}

// move answers a move of the clock.
func (h *Handler) move(ctx context.Context, m clock.Moved, err error) (any, error) {
	switch {
	case errors.Is(err, clock.ErrReal):
		return nil, api.NewFault(api.OperationNotPermittedFault,
			"swfd's clock is real (--clock real) and cannot be moved; start swfd with --clock manual or --clock skip")
	case err != nil:
		// A move refused for its value was answered before: a negative
		// duration or one below a millisecond when it was read, a time
		// before swfd's or past clock.Latest by the caller, which has the
		// value as it was sent.
		return nil, err
	}
	st := h.state(m.Now, &m.Fired)
	for _, t := range m.Stuck {
		st.TimersStuck = append(st.TimersStuck, h.stuck(ctx, t.RunID, t.Due))
	}
	if len(st.TimersStuck) > 0 {
		first := st.TimersStuck[0]
		h.log().Warn("the clock moved on past timers that failed to fire (their runs could not be read or written); "+
			"they are still pending, tried again by the timer loop every 5s and by every move",
			"timers", len(m.Stuck), "earliest_domain", first.Domain, "earliest_workflow_id", first.WorkflowID,
			"earliest_run_id", first.RunID, "earliest_due", first.Due)
	}
	return st, nil
}

// stuckLookup bounds the look-up of one stuck timer's run: its run is
// likely the one that cannot be read, and the answer must not wait on it.
const stuckLookup = time.Second

// stuck names a timer that failed to fire, with its run's domain and
// workflowId when they can be read.
func (h *Handler) stuck(ctx context.Context, runID string, due time.Time) stuckTimer {
	t := stuckTimer{RunID: runID, Due: due.UTC().Format(timeLayout)}
	if h.Execution == nil {
		return t
	}
	ctx, cancel := context.WithTimeout(ctx, stuckLookup)
	defer cancel()
	if domain, workflowID, err := h.Execution(ctx, runID); err == nil {
		t.Domain, t.WorkflowID = domain, workflowID
	}
	return t
}

// authorize allows a call to principal p (nil with authentication off).
func (h *Handler) authorize(p *auth.Principal, action, what string) error {
	if h.Auth == nil {
		return nil
	}
	res := auth.OwnResource(h.Region, h.Account, what)
	arn := res.ARN()
	if p.Evaluate(h.Region, h.Account, action, res, auth.Keys{}) == auth.Allowed {
		return nil
	}
	who := "anonymous"
	if p != nil {
		who = p.ARN(h.Account)
		h.log().Info("request denied", "principal", p.Name, "action", action, "resource", arn)
	}
	return api.NewFault(api.OperationNotPermittedFault, "User: %s is not authorized to perform: %s on resource: %s", who, action, arn)
}

func unknownRoute(r *http.Request) error {
	switch r.URL.Path {
	case "/swfd/clock":
		return api.NewFault(api.UnknownOperationException, "Use GET /swfd/clock")
	case "/swfd/clock/advance", "/swfd/clock/set", "/swfd/dev/reset":
		return api.NewFault(api.UnknownOperationException, "Use POST %s", r.URL.Path)
	}
	return api.NewFault(api.UnknownOperationException,
		"Unknown swfd API path %s: the API has GET /swfd/clock, POST /swfd/clock/advance, POST /swfd/clock/set and POST /swfd/dev/reset", strconv.Quote(r.URL.Path))
}

func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return api.NewFault(api.SerializationException, "Request body is not a JSON object: %s", syntaxProblem(body))
	}
	if string(bytes.TrimSpace(body)) == "null" {
		// Decoded into a struct, null is no error: it changes nothing.
		return api.NewFault(api.SerializationException, "Request body is not a JSON object: it is null")
	}
	if err := json.Unmarshal(body, v); err != nil {
		// The members are decoded raw, so only the body as a whole can
		// be of the wrong type. The decoder's message would name the Go
		// type it decodes into, which says nothing of the request.
		what := "not an object"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			what = "a " + te.Value
			if strings.HasPrefix(te.Value, "a") {
				what = "an " + te.Value
			}
		}
		return api.NewFault(api.SerializationException, "Request body is not a JSON object: it is %s", what)
	}
	return nil
}

// syntaxProblem says where a body that is not JSON goes wrong, in words of
// the request rather than the decoder's.
func syntaxProblem(body []byte) string {
	var raw json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(&raw)
	var se *json.SyntaxError
	switch {
	case err == nil:
		return "trailing data after the JSON value"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends before it is complete"
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	}
	return "not valid JSON"
}

// timeLayout is how the API writes times.
const timeLayout = "2006-01-02T15:04:05.000Z"

// parseDuration reads "duration": a string as clock.ParseDuration reads
// it, or a JSON number, which is seconds however it is written (86400,
// 86400.0 as a float a client worked out, 1.5, 1e3). sent is the value as
// it was sent, for faults.
func parseDuration(raw json.RawMessage) (d time.Duration, sent string, err error) {
	s, ok := scalar(raw)
	if !ok {
		return 0, "", api.ErrValidation("1 validation error detected: Value null at 'duration' failed to satisfy constraint: Member must not be null")
	}
	in := s
	if isNumber(raw) {
		in = s + "s"
		if strings.ContainsAny(s, "eE") {
			f, _ := strconv.ParseFloat(s, 64) // a JSON number: ±Inf at worst
			in = strconv.FormatFloat(f, 'f', -1, 64) + "s"
		}
	}
	d, err = clock.ParseDuration(in)
	if f, _ := strconv.ParseFloat(s, 64); isNumber(raw) && math.IsInf(f, 0) {
		d, err = 0, clock.ErrTooLong
		if f < 0 {
			err = clock.ErrNegative
		}
	}
	switch {
	case errors.Is(err, clock.ErrNegative):
		return 0, s, api.ErrValidation("1 validation error detected: Value '%s' at 'duration' failed to satisfy constraint: Member must not be negative: the clock never goes backwards", s)
	case errors.Is(err, clock.ErrTooLong):
		return 0, s, api.ErrValidation("1 validation error detected: Value '%s' at 'duration' failed to satisfy constraint: "+
			"Member must be at most 106751d (about 292 years) in one move; /swfd/clock/set moves the clock to a time", s)
	case errors.Is(err, clock.ErrPrecision):
		return 0, s, api.ErrValidation("1 validation error detected: Value '%s' at 'duration' failed to satisfy constraint: "+
			"Member must be a whole number of milliseconds (swfd's clock counts milliseconds)", s)
	case err != nil:
		return 0, s, api.ErrValidation("1 validation error detected: Value '%s' at 'duration' failed to satisfy constraint: "+
			"Member must be a duration such as 90s, 15m, 24h, 7d or 1d12h, or a whole number of seconds", s)
	}
	return d, s, nil
}

// parseTime reads "time": an RFC 3339 date and time, or epoch seconds.
// sent is the value as it was sent, for faults. A time finer than a
// millisecond is refused: swfd's clock counts milliseconds, as the
// timestamps of SWF's answers do (epoch seconds to three decimals), so the
// clock could not show it; cut to the millisecond before it, as it was, a
// move would leave the clock at another time than the one asked for. A
// finer spelling of a whole millisecond (".500000", an exponent) is fine.
func parseTime(raw json.RawMessage) (t time.Time, sent string, err error) {
	s, ok := scalar(raw)
	if !ok {
		return time.Time{}, "", api.ErrValidation("1 validation error detected: Value null at 'time' failed to satisfy constraint: Member must not be null")
	}
	fine := false
	if t, err = time.Parse(time.RFC3339Nano, s); err == nil {
		// RFC 3339 has one fraction, the seconds'; nothing else has a dot.
		_, frac, _ := strings.Cut(s, ".")
		fine = finerThanMillis(frac[:len(frac)-len(strings.TrimLeft(frac, "0123456789"))])
	} else if t, fine, ok = epochSeconds(s); !ok {
		return time.Time{}, s, api.ErrValidation("1 validation error detected: Value '%s' at 'time' failed to satisfy constraint: "+
			"Member must be an RFC 3339 time such as 2030-01-02T15:04:05Z, or epoch seconds", s)
	}
	if fine {
		return time.Time{}, s, api.ErrValidation("1 validation error detected: Value '%s' at 'time' failed to satisfy constraint: "+
			"Member must be a whole number of milliseconds (swfd's clock counts milliseconds, as SWF's timestamps do)", s)
	}
	return t, s, nil
}

// finerThanMillis reports whether the digits of a fraction of a second
// name a part below a millisecond: any but zeros past the third.
func finerThanMillis(frac string) bool {
	return len(frac) > 3 && strings.Trim(frac[3:], "0") != ""
}

// epochSeconds reads epoch seconds before the year 10000, exactly, and
// reports whether they name a part of a millisecond (fine). Read through
// a float64, the fraction came out a hair off (.626 as .625999927), which
// the clock, keeping milliseconds, turned into the millisecond before, so
// a time the clock itself reported (unixMillis / 1000) was one it could not
// be set to. Decimal digits ("1896177600", "1896177600.626") and a number
// with an exponent ("1.896177600626e9", as a JSON encoder may write it) are
// both read as the exact decimal they spell.
func epochSeconds(s string) (t time.Time, fine, ok bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0 && f < 253402300800) || strings.Trim(s, "0123456789.eE+-") != "" {
		return time.Time{}, false, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if digits(whole) && (frac == "" || digits(frac)) {
		sec, err := strconv.ParseInt(whole, 10, 64)
		ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err == nil {
			return time.Unix(sec, ns).UTC(), finerThanMillis(frac), true
		}
	}
	// A number with an exponent: big.Rat reads the decimal it spells
	// exactly (the characters checked above rule out its other forms,
	// a fraction "a/b" among them).
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return time.Time{}, false, false
	}
	ms := new(big.Rat).Mul(r, big.NewRat(1000, 1))
	millis := new(big.Int).Quo(ms.Num(), ms.Denom()) // not negative: truncates
	sec, rest := new(big.Int).QuoRem(millis, big.NewInt(1000), new(big.Int))
	return time.Unix(sec.Int64(), rest.Int64()*int64(time.Millisecond)).UTC(), !ms.IsInt(), true
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isNumber reports whether raw, a JSON value, is a number.
func isNumber(raw json.RawMessage) bool {
	b := strings.TrimSpace(string(raw))
	return b != "" && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
}

// scalar returns a JSON string's value, or a number's text; ok is false
// for null or a missing member.
func scalar(raw json.RawMessage) (string, bool) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true
}
