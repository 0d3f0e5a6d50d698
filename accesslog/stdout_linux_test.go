package accesslog_test

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/swfd/swfd/accesslog"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/internal/ptytest"
)

// asStdout makes f the process's standard output for the rest of the test
// (which must not run in parallel with others).
func asStdout(t *testing.T, f *os.File) {
	t.Helper()
	old := os.Stdout
	os.Stdout = f
	t.Cleanup(func() { os.Stdout = old })
}

// blockingPipe is a pipe whose write end is in blocking mode, as the
// standard output a shell or a supervisor gives a process is.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Skipf("no pipe: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")
}

// blockingSocket is a connected pair of Unix stream sockets in blocking
// mode, as systemd gives a service whose output goes to the journal.
func blockingSocket(t *testing.T) (r, w *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no socket pair: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "sock-r"), os.NewFile(uintptr(fds[1]), "sock-w")
}

// blockingTerminal is a pseudo-terminal: r its master side, w its
// terminal side in blocking mode, as a process started in a terminal
// has for its standard output. A terminal whose master is not read fills
// like a pipe.
func blockingTerminal(t *testing.T) (r, w *os.File) {
	t.Helper()
	m, path := ptytest.Open(t)
	s, err := unix.Open(path, unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	return m, os.NewFile(uintptr(s), "pts")
}

// statusFlags are the file status flags of f's open file description
// (O_NONBLOCK among them), read without changing f's mode.
func statusFlags(t *testing.T, f *os.File) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
		t.Fatal(err)
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	return flags
}

// A standard output nobody reads (--access-log -, its pipe's reader
// stalled) never holds up a call, whatever it is: a pipe (in blocking
// mode, as given by a shell, or not), a socket (systemd's journal), a
// terminal. Once
// it is full, lines wait in the log's buffer, and past it are dropped
// whole and counted, as for a named pipe. Writing to it used to wait for
// the reader with the log's lock held, and every API call waited with
// it. The mode of standard output, which swfd shares with the process
// that gave it, is left as it was, and closing the log leaves it open.
// Once the reader reads again, the lines kept come out whole.
func TestStalledStdoutHoldsNoCall(t *testing.T) {
	cases := []struct {
		name string
		open func(t *testing.T) (r, w *os.File)
	}{
		{"os.Pipe", func(t *testing.T) (r, w *os.File) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			return r, w
		}},
		{"blocking pipe", blockingPipe},
		{"blocking socket", blockingSocket},
		{"blocking terminal", blockingTerminal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w := c.open(t)
			defer r.Close()
			defer w.Close()
			flags := statusFlags(t, w)
			asStdout(t, w)
			l, err := accesslog.Open("-")
			if err != nil {
				t.Fatal(err)
			}
			stalled(t, l, r)
			if got := statusFlags(t, w); got != flags {
				t.Errorf("standard output's flags went from %#x to %#x", flags, got)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			// Standard output is still open for the rest of the process.
			if _, err := w.Write([]byte("after\n")); err != nil {
				t.Fatalf("standard output after the log's Close: %v", err)
			}
		})
	}
}

// A pipe given by its path in /proc (a standard output named
// /dev/stdout, say) holds up no call either.
func TestStalledPipeByPathHoldsNoCall(t *testing.T) {
	r, w := blockingPipe(t)
	defer r.Close()
	defer w.Close()
	var path string
	rc, err := w.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { path = "/proc/self/fd/" + strconv.Itoa(int(fd)) })
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var l *accesslog.Log
	err = within(t, "Open of a pipe's path", func() (err error) {
		l, err = accesslog.Open(path)
		return err
	}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	stalled(t, l, r)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// stalled logs calls to l, whose output r reads but does not yet: they
// must all return, and Flush must say the write failed, with lines
// dropped. Then r reads: the lines kept, then a last one, come out whole
// (a terminal ends each with "\r\n", which JSON takes as white space).
func stalled(t *testing.T, l *accesslog.Log, r *os.File) {
	t.Helper()
	reading := make(chan struct{})
	got := readUntilEnd(r, reading)
	// Far more than a pipe or a socket's buffers hold, and the log's
	// buffer, together.
	const calls = 40000
	err := within(t, "logging calls to a stalled output", func() error {
		for i := range calls {
			l.Call(&frontend.Call{RequestID: "request-" + strconv.Itoa(i), Operation: "PollForActivityTask", Domain: "orders", Status: 200})
		}
		return l.Flush()
	}, func() { close(reading) })
	if err == nil {
		t.Fatal("Flush into a stalled output reported no error")
	}
	if l.Dropped() == 0 {
		t.Fatal("no line dropped for a stalled output")
	}
	close(reading)
	catchUp(t, l, got)
}
