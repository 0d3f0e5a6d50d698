//go:build linux

// Package ptytest helps test that swfd, opening a path it is given, does
// not take a terminal there for its controlling terminal: it opens
// pseudo-terminals, runs a test again in a session of its own (with no
// controlling terminal, as a daemon started by systemd or setsid has), and
// says whether the process has a controlling terminal.
//
// A session leader with no controlling terminal that opens a terminal
// without O_NOCTTY makes it its controlling terminal: from then on a
// hang-up of that terminal sends the process SIGHUP, and a ^C typed there
// SIGINT.
package ptytest

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Open opens a new pseudo-terminal and returns its master side (closed
// when the test ends) and the path of its other side, "/dev/pts/N". It
// skips the test when the system gives none.
func Open(t testing.TB) (master *os.File, path string) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		unix.Close(m)
		t.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(m), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	return master, "/dev/pts/" + strconv.Itoa(n)
}

// InNewSession runs the tests of the running test binary that match the
// pattern run again, in a new session (setsid: with no controlling
// terminal), their environment this process's with env added, and returns
// what they wrote and how they ended.
func InNewSession(t testing.TB, run string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ControllingTerminal reports whether this process has a controlling
// terminal: /dev/tty opens only then.
func ControllingTerminal() bool {
	fd, err := unix.Open("/dev/tty", unix.O_RDONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}
