//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package accesslog

import (
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// writerOf returns what the log writes f with. A regular file is written
// as usual. Anything else (a named pipe, a terminal, a socket or pipe
// behind /dev/stdout) is written without waiting: a write to a pipe its
// reader does not drain would wait, with the log's lock held, and every
// call being answered with it. Such a write fails instead (EAGAIN), and
// the lines wait in the buffer, tried again every FlushEvery, like those
// of any write that fails.
func writerOf(f *os.File) io.Writer {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		return f
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	return nowait{rc}
}

// stdoutWriter returns what the log writes standard output f with, and
// the file it opened for it, if any, to be closed with the log (f itself
// never is).
//
// A regular file is written as usual. Anything else is written without
// waiting, as a named pipe is (see writerOf): a pipe whose reader stalls,
// a terminal held by a flow control stop, a socket whose peer reads no
// more (systemd's journal, busy) would hold every call being answered.
// Standard output is shared with the process that started swfd (and with
// swfd's own standard error, often), so its mode is left as it is: making
// it non-blocking would make their writes fail instead of wait.
//
//   - One already in non-blocking mode is written as it is.
//   - A socket is written with send(2)'s MSG_DONTWAIT, which waits for
//     nothing on this call alone (and MSG_NOSIGNAL: a peer gone is an
//     error, not a signal).
//   - A pipe or a character device (a terminal) is opened again through
//     /proc/self/fd, which gives the log an open file of its own, with
//     O_NONBLOCK set on it alone. A reader gone is then an error (EPIPE),
//     not the end of swfd, as a write to a broken standard output is for
//     a Go program.
//
// Where that cannot be done (no /proc, or the pipe's reader gone
// already), standard output is written with write(2) as it is, and waits
// when its mode has it wait; a reader gone is an error there too.
func stdoutWriter(f *os.File) (io.Writer, io.Closer) {
	fi, err := f.Stat()
	if err != nil || fi.Mode().IsRegular() {
		return f, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f, nil
	}
	var fd, flags int
	var ferr error
	if err := rc.Control(func(d uintptr) {
		fd = int(d)
		flags, ferr = unix.FcntlInt(d, unix.F_GETFL, 0)
	}); err != nil || ferr != nil {
		return f, nil
	}
	switch {
	case flags&unix.O_NONBLOCK != 0:
		return nowait{rc}, nil
	case fi.Mode()&fs.ModeSocket != 0:
		return sendNowait{rc}, nil
	}
	g, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nowait{rc}, nil
	}
	grc, err := g.SyscallConn()
	if gi, serr := g.Stat(); err != nil || serr != nil || !os.SameFile(fi, gi) {
		g.Close()
		return nowait{rc}, nil
	}
	return nowait{grc}, g
}

// sendNowait writes to a socket with send(2) and MSG_DONTWAIT: it never
// waits for the socket to take more, whatever the socket's mode.
type sendNowait struct{ rc syscall.RawConn }

func (w sendNowait) Write(p []byte) (int, error) {
	return writeNowait(w.rc, p, func(fd int, p []byte) (int, error) {
		return unix.SendmsgN(fd, p, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	})
}

// nowait writes to a file descriptor with one write(2) at a time, and
// never waits for it to take more.
type nowait struct{ rc syscall.RawConn }

func (w nowait) Write(p []byte) (int, error) {
	return writeNowait(w.rc, p, syscall.Write)
}

// writeNowait writes p to rc's descriptor with write, one call after
// another until all of p is taken or a call fails (EINTR is tried again):
// rc's readiness is never waited for, so a full descriptor fails the write
// (EAGAIN) instead of holding it.
func writeNowait(rc syscall.RawConn, p []byte, write func(fd int, p []byte) (int, error)) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			k, err := write(int(fd), p[n:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				werr = err
				return true
			}
			if k <= 0 {
				werr = io.ErrShortWrite
				return true
			}
			n += k
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}
