package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// --addr-file PATH: once swfd serves, it writes there the addresses it
// listens on, so that a script or a test can start it on port 0 (a port
// the kernel picks, never one another process may take first) and learn
// the port. The file is KEY=VALUE lines, each value as it is, with no
// quotes (a shell may source the file):
//
//	addr=127.0.0.1:41234
//	url=http://127.0.0.1:41234
//	metrics_addr=127.0.0.1:41235
//	pprof_addr=127.0.0.1:6060
//
// addr and url always; metrics_addr with --metrics-addr, pprof_addr with
// --pprof-addr. The file appears whole (it is written beside PATH and
// renamed), only once swfd answers calls; a file left by an earlier run
// is removed at start, once swfd holds its addresses, and swfd removes its
// own when it stops, if the path still names it as swfd left it (after a
// kill -9 it stays until the next start).

// addrFileContent is the file's text.
func addrFileContent(addr string, tls bool, metricsAddr, pprofAddr string) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "addr=%s\nurl=%s://%s\n", addr, scheme, addr)
	if metricsAddr != "" {
		fmt.Fprintf(&b, "metrics_addr=%s\n", metricsAddr)
	}
	if pprofAddr != "" {
		fmt.Fprintf(&b, "pprof_addr=%s\n", pprofAddr)
	}
	return b.String()
}

// prepareAddrFile checks that swfd may remove what is at path, a file
// left by an earlier run, and can write a file there: a path it cannot
// write stops it before it opens the database, not after. Only an address
// file, or an empty file (a script may make the path with mktemp), may be
// removed: a directory or any other file at path is refused and left
// alone, as the path is more likely a slip than an earlier run's.
// removeStaleAddrFile removes it later, once swfd has taken its address.
func prepareAddrFile(path string) error {
	if err := removableAddrFile(path); err != nil {
		return usageError{fmt.Errorf("--addr-file %s: %w", path, err)}
	}
	f, err := createBeside(path)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// removeStaleAddrFile removes the file an earlier run left at path, so
// that a script waiting for the file to appear does not read that run's
// addresses. It is called once swfd holds its addresses, not before: a
// swfd started on the address of one that still runs stops before this,
// and leaves the running one's file alone.
func removeStaleAddrFile(path string) error {
	if err := removableAddrFile(path); err != nil {
		return usageError{fmt.Errorf("--addr-file %s: %w", path, err)}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--addr-file: %w", err)
	}
	return nil
}

// createBeside creates a new file in path's directory, to be renamed to
// path. Its error names path and the directory, not the hidden file's
// name, which the operator never gave.
func createBeside(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--addr-file %s: cannot create a file in %s: %w", path, filepath.Clean(dir), err)
	}
	return f, nil
}

// writtenAddrFile is an address file swfd wrote: its path, its text, and
// the file itself as it was renamed into place, to know it again.
type writtenAddrFile struct {
	path, content string
	file          fs.FileInfo
}

// writeAddrFile writes content to path at once: a reader sees no file or
// the whole of it.
func writeAddrFile(path, content string) (*writtenAddrFile, error) {
	f, err := createBeside(path)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Chmod(0o644)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		// Named by the path given: the hidden file is gone.
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return nil, fmt.Errorf("--addr-file %s: writing it: %w", path, err)
	}
	return &writtenAddrFile{path: path, content: content, file: fi}, nil
}

// remove removes the address file swfd wrote, if its path still names it
// as swfd left it, and otherwise nothing: whatever has since been put at
// the path (another process's file, even one with the same text, a
// directory, a symbolic link, to a copy or to swfd's own file moved
// away), or a file another process has written in, is not swfd's to
// remove. The file is known by its device and inode, its modification time
// and size (an inode swfd's file freed may be given to a file made after
// it) and its text.
func (w *writtenAddrFile) remove() {
	if w.is(os.Lstat(w.path)) && w.hasContent() {
		os.Remove(w.path)
	}
}

// is reports whether fi, err is the file w wrote, unchanged.
func (w *writtenAddrFile) is(fi fs.FileInfo, err error) bool {
	return err == nil && fi.Mode().IsRegular() && os.SameFile(fi, w.file) &&
		fi.ModTime().Equal(w.file.ModTime()) && fi.Size() == w.file.Size()
}

// hasContent reports whether the file at w's path, read through a
// descriptor known to be w's file, holds the text swfd wrote. The open
// follows no symbolic link and waits for no writer (a named pipe put at
// the path after the look), and no terminal becomes swfd's.
func (w *writtenAddrFile) hasContent() bool {
	f, err := os.OpenFile(w.path, os.O_RDONLY|noFollow|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if !w.is(f.Stat()) {
		return false
	}
	b := make([]byte, len(w.content)+1)
	n, err := io.ReadFull(f, b)
	return errors.Is(err, io.ErrUnexpectedEOF) && string(b[:n]) == w.content
}

// maxAddrFile is more than an address file ever holds.
const maxAddrFile = 4 << 10

// addrFileKeys are the keys an address file's lines have.
var addrFileKeys = map[string]bool{"addr": true, "url": true, "metrics_addr": true, "pprof_addr": true}

// removableAddrFile returns nil if there is nothing at path, or what is
// there may be removed: an empty file or an address file. Otherwise it
// says what is there.
func removableAddrFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory; give the path of the file to write, such as DIR/swfd.addr")
	case !fi.Mode().IsRegular() || fi.Size() > maxAddrFile:
		return errors.New("holds something that is not an address file swfd wrote, which it would replace and then remove; remove it or give another path")
	case fi.Size() == 0:
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, line := range lines {
		k, v, ok := strings.Cut(line, "=")
		if !ok || v == "" || !addrFileKeys[k] || i == 0 && k != "addr" {
			return errors.New("holds a file that is not an address file swfd wrote, which it would replace and then remove; remove it or give another path")
		}
	}
	return nil
}
