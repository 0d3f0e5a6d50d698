package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// The infixes of the temporary files beside a database or a backup
// (createTemp): ".NAME" + infix + digits.
const (
	partialInfix = ".partial-" // Backup's copy, beside its target
	restoreInfix = ".restore-" // Restore's copy, beside the database
	// readyInfix names Restore's checked copy once Restore has begun to
	// remove the database's log (replace): found without its Restore,
	// it says that restore was interrupted and the database may lack
	// its log.
	readyInfix = ".restore-ready-"
)

// companions are the files SQLite may create beside a database file.
var companions = []string{"-journal", "-wal", "-shm"}

// ErrRestoreInterrupted is Open's error for a database whose swfd restore
// was interrupted while it replaced the database: the log may already be
// removed and the backup not yet in place.
var ErrRestoreInterrupted = errors.New("a swfd restore into the database was interrupted while it replaced the database")

// createTemp creates an empty file, mode 0600, in the directory of name,
// named "." + name's base + infix + random digits, and takes its owner's
// lock (lockOwner): hold keeps it until closed, so that removeStale, in
// this process or another, never takes the file for one a dead process
// left. hold is nil on a file system that cannot lock.
func createTemp(name, infix string) (tmp string, hold *os.File, err error) {
	for {
		f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+infix+"*")
		if err != nil {
			return "", nil, err
		}
		tmp = f.Name()
		err = f.Chmod(0o600)
		f.Close()
		if err != nil {
			os.Remove(tmp)
			return "", nil, err
		}
		hold, err = lockOwner(tmp)
		switch {
		case errors.Is(err, errNoOwnerLock):
			return tmp, nil, nil
		case errors.Is(err, fs.ErrNotExist):
			// Taken for a dead one's and removed before it was
			// locked: make another.
			continue
		case err != nil:
			os.Remove(tmp)
			return "", nil, err
		}
		// Locked, but is it still the file at tmp?
		hi, herr := hold.Stat()
		ti, terr := os.Stat(tmp)
		if herr == nil && terr == nil && os.SameFile(hi, ti) {
			return tmp, hold, nil
		}
		hold.Close()
	}
}

// stale lists the temporary files in dir whose names are "." + base +
// infix + digits (base "": any name): the files createTemp made for a
// database or backup named base. (".restore-" does not find
// ".restore-ready-" names: "ready-…" is no digits.)
func stale(dir, base, infix string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var found []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, ".") {
			continue
		}
		i := strings.LastIndex(name, infix)
		if i < 0 || (base != "" && name[:i] != "."+base) || !digits(name[i+len(infix):]) {
			continue
		}
		found = append(found, filepath.Join(dir, name))
	}
	return found
}

// digits reports whether s is one or more decimal digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStale removes the temporary files of the given names (and the
// files SQLite left beside them) that no live process holds: each is
// removed under its owner's lock, which its creator holds until it is
// done (createTemp), so only those of a process that died (killed with
// kill -9, say) are removed. On a file system that cannot lock, none is:
// whether its creator lives cannot be told. Each removal is logged; the
// names removed are returned.
func removeStale(names []string, logger *slog.Logger) (removed []string) {
	for _, name := range names {
		f, err := lockOwner(name)
		if err != nil {
			continue // live (ErrInUse), gone, or no lock to tell by
		}
		for _, suffix := range companions {
			os.Remove(name + suffix)
		}
		err = os.Remove(name)
		f.Close()
		if err != nil {
			continue
		}
		removed = append(removed, name)
		if logger != nil {
			logger.Warn("sqlite: removed a temporary file a killed swfd backup or restore left", "file", name)
		}
	}
	return removed
}

// interruptedRestore returns an error wrapping ErrRestoreInterrupted if a
// restore into the database at path was interrupted while it replaced the
// database (it left its checked copy under its ready name, and no live
// restore holds it); nil otherwise.
func interruptedRestore(path string) error {
	for _, ready := range stale(filepath.Dir(path), filepath.Base(path), readyInfix) {
		f, err := lockOwner(ready)
		if errors.Is(err, ErrInUse) || errors.Is(err, fs.ErrNotExist) {
			continue // its restore is under way, or has just finished
		}
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("%w (it left the backup's checked copy as %s; %s may lack its write-ahead log): run swfd restore again with the same backup, or, to serve %s as it is, delete %s",
			ErrRestoreInterrupted, ready, path, path, ready)
	}
	return nil
}
