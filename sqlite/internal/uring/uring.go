// Package uring flushes a file to the disk (fdatasync) through a Linux
// io_uring, so that the goroutine waiting for the disk is parked like one
// waiting for the network, instead of holding an operating system thread and
// its share of the Go scheduler in a blocking system call.
//
// That matters most where Go runs with one processor (GOMAXPROCS=1, which Go
// picks for a container limited to one CPU). A goroutine in a blocking
// system call keeps its processor until the runtime's monitor takes it back,
// which can take from 20 µs to 10 ms; meanwhile no other goroutine runs. The
// SQLite store syncs its write-ahead log after every commit, so with one
// processor every sync stalled the whole server, and the writes that arrived
// meanwhile could not be gathered into the next commit. Through the ring the
// sync is carried out by the kernel's own worker, its completion is signalled
// on an eventfd, and the goroutine waits for that eventfd through Go's network
// poller.
//
// A Ring is for one waiter at a time (the store's one syncer); its methods
// are safe to call from several goroutines, which then take turns. Where the
// kernel offers no io_uring (before Linux 5.4, or refused by a seccomp
// profile, as Docker's default one does, or by the kernel.io_uring_disabled
// setting) New fails, and the caller syncs as before.
package uring

import (
	"errors"
	"fmt"
	"os"
)

// ErrUnsupported is New's error where this platform has no io_uring.
var ErrUnsupported = errors.New("uring: io_uring is not available on this platform")

// A Ring flushes files through one io_uring. The zero value is not usable:
// make one with New, and Close it when done.
type Ring struct {
	ring // the platform's part
}

// New sets up a ring. It fails where the kernel offers no io_uring, or
// refuses it to this process.
func New() (*Ring, error) {
	r := &Ring{}
	if err := r.setup(); err != nil {
		return nil, err
	}
	return r, nil
}

// Fdatasync flushes f's data (and the size that reaches it) to the disk, as
// the fdatasync system call does, and waits for it without holding a thread.
// Its error is the system call's (a syscall.Errno: EIO when the disk failed
// the write), wrapped.
func (r *Ring) Fdatasync(f *os.File) error {
	if err := r.datasync(f); err != nil {
		return fmt.Errorf("fdatasync through io_uring: %w", err)
	}
	return nil
}

// Close releases the ring. It must not be called while a sync is waiting.
func (r *Ring) Close() error { return r.close() }
