// Package lograte bounds how many lines a storm of alike events may write
// to the log: a token bucket allows a burst and then a steady rate, and
// the next line allowed says how many were left out since the last one.
// swfd logs each refused signature and each denied call at warn level
// through one; a client that sends thousands of bad requests a second
// then costs the log a few lines a second.
package lograte

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Limiter allows at most Burst lines at once and PerSecond lines a second
// on average; the rest are counted and left out. The zero value is not
// usable: call New. A nil *Limiter allows everything.
type Limiter struct {
	log       *slog.Logger
	perSecond float64
	burst     float64
	now       func() time.Time

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int64
}

// New returns a Limiter that writes to log at most burst lines at once and
// perSecond lines a second on average. now is the clock (nil: time.Now).
func New(log *slog.Logger, perSecond float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{log: log, perSecond: perSecond, burst: float64(burst), tokens: float64(burst), now: now}
}

// Allow takes a token if one is there. It reports whether a line may be
// written now and, if so, how many were left out before it (which it then
// forgets).
func (l *Limiter) Allow() (ok bool, suppressed int64) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.perSecond
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// Log writes msg with args at level if the limiter allows a line now,
// adding "suppressed"=N when N alike lines were left out before it.
func (l *Limiter) Log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if l == nil || l.log == nil || !l.log.Enabled(ctx, level) {
		return
	}
	ok, n := l.Allow()
	if !ok {
		return
	}
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(ctx, level, msg, args...)
}

// Writer returns an io.Writer that logs each write, a line of text such
// as net/http's ErrorLog writes, as one record at level through l: a
// storm of TLS handshake failures or accept errors writes a few lines.
func (l *Limiter) Writer(level slog.Level) io.Writer { return lineWriter{l, level} }

type lineWriter struct {
	l     *Limiter
	level slog.Level
}

func (w lineWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), w.level, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
