// Package cfgfile reads the small files swfd loads at start and again on
// SIGHUP (the auth file, the quota file, the TLS certificate and key).
// Only a regular file is read: a named pipe would hold start-up (or a
// reload) until some writer came, which may be never, a device such as
// /dev/zero would be read without end, and either has nothing left to
// read at the next reload. A file larger than MaxBytes is refused rather
// than read into memory. The SQLite store asks the same of a database's
// path (Regular) before it opens it.
package cfgfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxBytes is the most a file read by Read may hold: far more than any
// auth file, quota file, certificate chain or key needs.
const MaxBytes = 16 << 20

// Read returns the contents of the regular file at path. The error says
// what the path is when it is not a regular file (a directory, a named
// pipe, a socket, a device), and what to give instead, naming the file as
// what ("quota file", "TLS key"). An error from the file system (no such
// file, no permission) is returned wrapped, so that errors.Is still finds
// fs.ErrNotExist in it.
func Read(what, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Regular(what, path, fi); err != nil {
		return nil, err
	}
	// O_NOCTTY: a path swapped for a terminal since the look does not
	// become the controlling terminal of a swfd that has none.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The path may have been replaced between Stat and Open: judge what
	// was opened too. (Opening a named pipe for reading waits for a
	// writer, so such a swap can still hold the open; the first check
	// keeps out every path that is no regular file when swfd looks.)
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := Regular(what, path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > MaxBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d MiB the %s may hold", path, fi.Size(), MaxBytes>>20, what)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%s grew past the %d MiB the %s may hold while it was read", path, MaxBytes>>20, what)
	}
	return b, nil
}

// Regular refuses a path that is not a regular file (fi describes it),
// naming what it is instead and what should be given (what: "auth file",
// "database file"): reading a named pipe may wait for a writer that never
// comes, a device may never end.
func Regular(what, path string, fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%s is a directory; give the path of the %s", path, what)
	}
	return fmt.Errorf("%s is %s, not a file; give the path of the %s", path, kind(m), what)
}

// kind names what a path that is not a regular file is.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "no regular file"
}
