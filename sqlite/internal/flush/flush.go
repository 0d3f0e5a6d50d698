// Package flush flushes a file to the disk (fdatasync) through Linux's
// asynchronous I/O (io_submit with IOCB_CMD_FDSYNC), so that the goroutine
// waiting for the disk is parked like one waiting for the network, instead of
// holding an operating system thread and its share of the Go scheduler in a
// blocking system call.
//
// That matters most where Go runs with one processor (GOMAXPROCS=1, which Go
// picks for a container limited to one CPU). A goroutine in a blocking
// system call keeps its processor until the runtime's monitor takes it back,
// which can take from 20 µs to 10 ms; meanwhile no other goroutine runs. The
// SQLite store flushes its write-ahead log after every commit, so with one
// processor every flush stalled the whole server, and the writes that
// arrived meanwhile could not be gathered into the next commit. Submitted
// this way the flush is carried out by one of the kernel's workers, its
// completion is signalled on an eventfd, and the goroutine waits for that
// eventfd through Go's network poller.
//
// Linux's asynchronous I/O was chosen over io_uring, which can do the same:
// the asynchronous I/O system calls are allowed where io_uring often is not
// (Docker's default seccomp profile, the kernel.io_uring_disabled setting),
// and measured side by side with one processor a flush through io_uring
// cost the process more CPU and wake-ups (io_uring's worker is a thread of
// the process, the kernel's workers are not, so part of the difference is
// only whose account the work goes to) for no more throughput. Flushes this way need Linux 4.18; where
// New or a flush fails for want of it, the caller flushes as before.
//
// The SQLite store flushes this way only where Go has one processor: with
// more, the others run on through a blocking fdatasync, whose thread goes
// on at once when the disk is done, while a completion through the poller
// waits until a processor is free to look (see package sqlite).
//
// A Flusher serves one flush at a time; its methods are safe to call from
// several goroutines, which then take turns.
package flush

import (
	"errors"
	"fmt"
	"os"
)

// ErrUnsupported wraps the errors of New and Fdatasync that mean this way
// of flushing is not available (this platform or kernel has none, or
// refuses it to this process), as against a flush the disk failed. The
// caller can then flush with fdatasync instead.
var ErrUnsupported = errors.New("flush: asynchronous fdatasync is not available")

// A Flusher flushes files through one asynchronous I/O context. Make one
// with New, and Close it when done.
type Flusher struct {
	aio // the platform's part
}

// New sets up a Flusher. It fails, wrapping ErrUnsupported, where the
// platform has no asynchronous I/O or refuses it to this process.
func New() (*Flusher, error) {
	f := &Flusher{}
	if err := f.setup(); err != nil {
		return nil, err
	}
	return f, nil
}

// Fdatasync flushes file's data (and the size that reaches it) to the disk,
// as the fdatasync system call does, and waits for it without holding a
// thread. An error that wraps ErrUnsupported means the flush was not made
// (or may not have been): make it another way. Any other error is the
// flush's own (a syscall.Errno: EIO when the disk failed the write).
func (f *Flusher) Fdatasync(file *os.File) error {
	if err := f.datasync(file); err != nil {
		return fmt.Errorf("asynchronous fdatasync: %w", err)
	}
	return nil
}

// Close releases the Flusher; later flushes fail with ErrUnsupported.
func (f *Flusher) Close() error { return f.close() }
