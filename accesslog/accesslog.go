// Package accesslog writes swfd's access log: one JSON object per line
// for every API call answered, with when it arrived, its request id, the
// principal that signed it (with --auth), the operation, the domain, the
// HTTP status, the fault's name, how long it took and the bytes in and out
// (a client that went away before its answer: status 499 and fault
// ClientClosed, which is not a fault; see frontend.ClientClosed):
//
//	{"time":"2026-12-05T04:10:00.123456Z","request_id":"5f0c…","principal":"orders-decider","operation":"PollForDecisionTask","domain":"orders","status":200,"fault":"","latency_ms":1843.2,"bytes_in":93,"bytes_out":2311}
//
// It never writes a call's input or result, a task token, a key or a
// signature: only the fields of frontend.Call, which holds none of them.
//
// Lines are buffered and written within FlushEvery, or when the buffer
// fills; Close writes what is left. Reopen closes and opens the file again,
// for log rotation (swfd does it on SIGHUP).
//
// A write that fails (a full disk, say) loses nothing it can keep: what was
// not written stays in the buffer and is tried again every FlushEvery, and
// the log carries on once a write succeeds. While the buffer is full of
// such lines, new lines are dropped whole, so that the file never holds
// part of a line followed by another. OnError is told of each failure.
//
// Anything but a regular file (a named pipe, a terminal, standard output
// that is a pipe or a socket) is written without waiting: a reader that
// stalls makes writes fail, as a full disk does, and never holds up the
// call whose line it is.
package accesslog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/frontend"
)

// UnknownOperation is the operation of a line whose request named no SWF
// operation, as in the metrics' operation label: the target the client
// sent is its own to choose, and is not written.
const UnknownOperation = "unknown"

// FlushEvery bounds how long a line may wait in the buffer, and is how
// often a failed write is tried again.
const FlushEvery = 200 * time.Millisecond

// bufferSize is how many bytes of lines the log holds before it writes
// them, and at most while its writes fail.
const bufferSize = 64 << 10

// Log is an access log. Its methods are safe for concurrent use.
type Log struct {
	path string // "" for a writer given to New, "-" for standard output

	mu      sync.Mutex
	f       io.WriteCloser // the file at path; nil for standard output and New's writer
	own     io.Closer      // standard output opened again for the log alone (see stdoutWriter), or nil
	w       io.Writer      // where lines go: f, standard output or New's writer
	buf     []byte         // lines not yet written (a line's end, after a short write)
	line    []byte
	pending *time.Timer // a flush is scheduled
	failing bool        // the last write failed
	err     error       // the first write error since the last report
	dropped int64       // lines dropped, in all, for a full buffer that could not be written
	onError func(err error, dropped int64)
}

// Open opens the access log at path (appending, creating it with mode 0640
// if need be); "-" is standard output, which is written without waiting
// unless it is a regular file, its mode left as it is (see stdoutWriter).
// A named pipe is opened at once, whether or not a process reads it yet
// (see openFile).
func Open(path string) (*Log, error) {
	l := &Log{path: path, buf: make([]byte, 0, bufferSize)}
	if path == "-" {
		l.w, l.own = stdoutWriter(os.Stdout)
		return l, nil
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	l.f, l.w = f, writerOf(f)
	return l, nil
}

// New returns an access log that writes to w.
func New(w io.Writer) *Log {
	return &Log{w: w, buf: make([]byte, 0, bufferSize)}
}

// openFile opens the file at path for appending, creating it if need be.
//
// A named pipe is opened for reading and writing, which never waits: opened
// for writing alone, it would wait until some process opened it for
// reading, holding swfd's start (or a SIGHUP's reopen) for as long as none
// did, as when the log shipper that reads it starts after swfd or is down.
// Holding both ends, swfd's lines wait in the pipe until a reader comes,
// and a reader that stops and starts again (a shipper restarted) finds the
// pipe still open, with no SIGHUP. Every path is opened O_NONBLOCK too, so
// that one swapped for a named pipe after the look is refused (ENXIO, no
// reader) rather than waited on; the flag does nothing to a regular file.
// And O_NOCTTY: a terminal given by its path (/dev/pts/N) is written as any
// other, but never becomes the controlling terminal of a swfd that has
// none (a daemon's), which would have a hang-up there send swfd SIGHUP
// and a ^C typed there SIGINT.
func openFile(path string) (*os.File, error) {
	return openFileWith(os.OpenFile, path)
}

// openFileWith is openFile, opening with open.
func openFileWith(open func(string, int, fs.FileMode) (*os.File, error), path string) (*os.File, error) {
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		flags = os.O_RDWR
	}
	f, err := open(path, flags|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return f, nil
}

// OnError has fn told of each write that fails, with the error and the
// number of lines dropped so far (in all) for want of room in the buffer.
// fn is called with the log's lock held: it must not call the Log's
// methods, and should be quick (swfd counts it and logs it, rate-limited).
func (l *Log) OnError(fn func(err error, dropped int64)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onError = fn
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
	if c.Operation == "" {
		b = append(b, `"`+UnknownOperation+`"`...)
	} else {
		b = appendString(b, c.Operation)
	}
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
	if len(l.buf)+len(b) > bufferSize && len(l.buf) > 0 && !l.failing {
		l.flushLocked()
	}
	if len(l.buf)+len(b) > bufferSize && len(l.buf) > 0 {
		// Full of lines that could not be written: this one is lost (the
		// next try is the scheduled flush's, not one per call).
		l.dropped++
	} else {
		l.buf = append(l.buf, b...)
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
	if len(l.buf) > 0 && l.w != nil {
		// The write failed: try again later.
		l.pending = time.AfterFunc(FlushEvery, l.flushLater)
	}
}

// flushLocked writes the buffer. What a failed or short write left
// unwritten stays in it, to be written next time.
func (l *Log) flushLocked() {
	if len(l.buf) == 0 || l.w == nil {
		return
	}
	n, err := l.w.Write(l.buf)
	if err == nil && n < len(l.buf) {
		err = io.ErrShortWrite
	}
	n = max(0, min(n, len(l.buf)))
	l.buf = l.buf[:copy(l.buf, l.buf[n:])]
	l.failing = err != nil
	if err == nil {
		return
	}
	err = fmt.Errorf("access log: %w", err)
	if l.err == nil {
		l.err = err
	}
	if l.onError != nil {
		l.onError(err, l.dropped)
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

// Dropped returns how many lines were dropped, in all, because the buffer
// was full of lines that could not be written.
func (l *Log) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Flush writes the buffered lines now, and returns the first error
// writing the log met since the last report.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	err := l.err
	l.err = nil
	return err
}

// Reopen writes the buffered lines, closes the file and opens it again at
// its path (after a log rotator moved it away). Lines the old file could
// not take go to the new one. On failure the log goes on writing to the
// file it had. Standard output and New's writer are left as they are.
func (l *Log) Reopen() error {
	l.mu.Lock()
	open := l.f != nil
	l.mu.Unlock()
	if !open {
		return nil
	}
	// The file is opened without the lock, so that lines go on being
	// buffered meanwhile; the log may have been closed by then (a SIGHUP
	// as the server stops), and then the new file is not kept.
	f, err := openFile(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return f.Close()
	}
	l.flushLocked()
	old := l.f
	l.f, l.w = f, writerOf(f)
	return old.Close()
}

// Close writes the buffered lines and closes the file. Lines that cannot
// be written then are lost, and the error says so.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != nil {
		l.pending.Stop()
		l.pending = nil
	}
	l.flushLocked()
	err := l.err
	if len(l.buf) > 0 {
		err = errors.Join(err, fmt.Errorf("access log: %d bytes of lines not written", len(l.buf)))
		l.buf = l.buf[:0]
	}
	if l.f != nil {
		err = errors.Join(err, l.f.Close())
		l.f = nil
	}
	if l.own != nil {
		err = errors.Join(err, l.own.Close())
		l.own = nil
	}
	l.w = nil
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
