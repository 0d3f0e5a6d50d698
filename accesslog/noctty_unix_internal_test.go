//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package accesslog

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Every path the log opens, a named pipe's included (opened for reading
// too), is opened O_NOCTTY: a terminal named there must not become the
// controlling terminal of a swfd that has none. (A Linux kernel such as
// 6.18 makes no terminal opened for writing alone a process's controlling
// terminal, one opened for reading too it does: there only the flag tells
// the write-only open apart; TestOpenTerminalIsNotControlling opens a
// terminal itself.)
func TestOpenFileFlags(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "access.log"), fifo} {
		var flags int
		open := func(name string, flag int, perm fs.FileMode) (*os.File, error) {
			flags = flag
			return os.OpenFile(name, flag, perm)
		}
		f, err := openFileWith(open, path)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if flags&syscall.O_NOCTTY == 0 {
			t.Errorf("%s opened with flags %#x, without O_NOCTTY", path, flags)
		}
	}
}
