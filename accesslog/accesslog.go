// Package accesslog writes swfd's access log: one JSON object per line
// for every API call answered, with when it arrived, its request id, the
// principal that signed it (with --auth), the operation, the domain, the
// HTTP status, the fault's name, how long it took and the bytes in and out:
//
//	{"time":"2026-12-05T04:10:00.123456Z","request_id":"5f0c…","principal":"orders-decider","operation":"PollForDecisionTask","domain":"orders","status":200,"fault":"","latency_ms":1843.2,"bytes_in":93,"bytes_out":2311}
//
// It never writes a call's input or result, a task token, a key or a
// signature: only the fields of frontend.Call, which holds none of them.
//
// Lines are buffered and written within FlushEvery, or when the buffer
// fills; Close writes what is left. Reopen closes and opens the file again,
// for log rotation (swfd does it on SIGHUP).
package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/frontend"
)

// FlushEvery bounds how long a line may wait in the buffer.
const FlushEvery = 200 * time.Millisecond

// Log is an access log. Its methods are safe for concurrent use.
type Log struct {
	path string // "" for a writer given to New, "-" for standard output

	mu      sync.Mutex
	f       io.WriteCloser // nil for standard output and New's writer
	w       *bufio.Writer
	line    []byte
	pending *time.Timer // a flush is scheduled
	err     error       // the first write error since the last report
}

// Open opens the access log at path (appending, creating it with mode 0640
// if need be); "-" is standard output.
func Open(path string) (*Log, error) {
	l := &Log{path: path}
	if path == "-" {
		l.w = bufio.NewWriterSize(os.Stdout, 64<<10)
		return l, nil
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	l.f, l.w = f, bufio.NewWriterSize(f, 64<<10)
	return l, nil
}

// New returns an access log that writes to w.
func New(w io.Writer) *Log {
	return &Log{w: bufio.NewWriterSize(w, 64<<10)}
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return f, nil
}

// Call writes the line of one call.
func (l *Log) Call(c *frontend.Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.line[:0]
	b = append(b, `{"time":"`...)
	b = c.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","request_id":`...)
	b = appendString(b, c.RequestID)
	b = append(b, `,"principal":`...)
	b = appendString(b, c.Principal)
	b = append(b, `,"operation":`...)
	b = appendString(b, c.Operation)
	b = append(b, `,"domain":`...)
	b = appendString(b, c.Domain)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(c.Status), 10)
	b = append(b, `,"fault":`...)
	b = appendString(b, c.Fault)
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, float64(c.Duration.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendInt(b, c.BytesIn, 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendInt(b, c.BytesOut, 10)
	b = append(b, "}\n"...)
	l.line = b
	if _, err := l.w.Write(b); err != nil && l.err == nil {
		l.err = err
	}
	if l.pending == nil {
		l.pending = time.AfterFunc(FlushEvery, l.flushLater)
	}
}

func (l *Log) flushLater() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	l.flushLocked()
}

func (l *Log) flushLocked() {
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = err
	}
}

// Err returns the first error writing the log met since the last call,
// and forgets it.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	l.err = nil
	return err
}

// Flush writes the buffered lines now.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	err := l.err
	l.err = nil
	return err
}

// Reopen writes the buffered lines, closes the file and opens it again at
// its path (after a log rotator moved it away). On failure the log goes on
// writing to the file it had. Standard output and New's writer are left as
// they are.
func (l *Log) Reopen() error {
	if l.f == nil {
		return nil
	}
	f, err := openFile(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	old := l.f
	l.f = f
	l.w.Reset(f)
	return old.Close()
}

// Close writes the buffered lines and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != nil {
		l.pending.Stop()
		l.pending = nil
	}
	l.flushLocked()
	err := l.err
	if l.f != nil {
		err = errors.Join(err, l.f.Close())
		l.f = nil
	}
	return err
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
