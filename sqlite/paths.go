package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// resolvePath returns the database path path with its symbolic links
// resolved: the real file's path when the file exists, else the path of
// the name in its directory's real place. SQLite opens the file through
// the link but keeps its write-ahead log and its index (-wal, -shm) beside
// the real file, and a restore renames its copy onto the path: both work
// on the real file only once the path names it. A directory that does not
// exist yet is left as it is (there is no link in it to resolve); a link
// to a file that does not exist is an error, since creating the file
// would put the database beside the link's target and its log elsewhere.
func resolvePath(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%s is a symbolic link to a file that does not exist: create the file it names (or link to an existing database): %w", path, err)
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}
