//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package accesslog

import (
	"io"
	"os"
)

// writerOf returns what the log writes f with: f itself. Here (Windows)
// a write to a pipe or a console cannot be made not to wait, so a log
// whose reader stalls holds every call being answered until it reads
// again; a regular file never does.
func writerOf(f *os.File) io.Writer {
	return f
}

// stdoutWriter returns what the log writes standard output f with: f
// itself, as writerOf, and no file of its own.
func stdoutWriter(f *os.File) (io.Writer, io.Closer) {
	return f, nil
}
