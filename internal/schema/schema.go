// Package schema reads the numbered SQL migrations that each store embeds
// (NNNN_description.sql, versions 1, 2, 3, … without gaps). Applying them is
// each store's own business.
package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in dir of fsys in version order, or an error
// for a badly named file, a gap, or none at all.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name is not NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: bad version number", name)
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return ms, nil
}

// Check says what a database whose schema is at version keeps this swfd,
// whose migrations end at latest, from doing: a newer schema is never
// served (another swfd, a later one, made it); an older one is brought up
// to date when the store may migrate, and refused when it opens the database
// only to read it (swfd migrate's source). nil when neither holds.
func Check(version, latest int, readOnly bool) error {
	switch {
	case version > latest:
		return fmt.Errorf("database schema version %d is newer than this swfd supports (%d); upgrade swfd", version, latest)
	case version < latest && readOnly:
		return fmt.Errorf("database schema version %d is older than this swfd's (%d), and it is opened only to be read: start this swfd on it once to bring it up to date", version, latest)
	}
	return nil
}
