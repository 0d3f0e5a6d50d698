package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
// is removed at start, and swfd removes its own when it stops (after a
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

// prepareAddrFile removes a file left at path by an earlier run, and
// checks that swfd can write one there: a path it cannot write stops it
// before it opens the database, not after. Only an address file, or an
// empty file (a script may make the path with mktemp), is removed: a
// directory or any other file at path is refused and left alone, as the
// path is more likely a slip than an earlier run's.
func prepareAddrFile(path string) error {
	if err := removableAddrFile(path); err != nil {
		return usageError{fmt.Errorf("--addr-file %s: %w", path, err)}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--addr-file: %w", err)
	}
	f, err := createBeside(path)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
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

// writeAddrFile writes content to path at once: a reader sees no file or
// the whole of it.
func writeAddrFile(path, content string) error {
	f, err := createBeside(path)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Chmod(0o644)
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
		return fmt.Errorf("--addr-file %s: writing it: %w", path, err)
	}
	return nil
}

// removeAddrFile removes the file swfd wrote at path, unless another
// process has since put a file of its own there.
func removeAddrFile(path, content string) {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		os.Remove(path)
	}
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
