// Package memvfs is the file layer under the SQLite store's in-memory mode:
// a SQLite VFS (registered as "swfd-memory") that is SQLite's own memdb VFS,
// which keeps a database in one growable block of memory, with its 1 GiB
// cap lifted.
//
// It exists because of how SQLite treats a ":memory:" database: its pages
// live in the page cache itself, which never evicts them, so the cache holds
// the whole database. At the end of many write transactions SQLite walks
// every slot of that cache (after a b-tree split has renumbered a page
// through a spare page number past the end of the database), and so each
// commit cost more the larger the store grew: measured under a steady
// workload, the CPU per workflow rose by half over 30,000 workflows, where
// through this VFS it stays flat (see BENCHMARKS.md). A database in memdb is an ordinary file to SQLite's pager, whose
// cache is bounded like any file's, and the walk stays as small as the
// cache.
//
// memdb refuses to grow a database past 1 GiB unless the file is told a
// larger limit; a store kept in memory is bounded by the memory of the
// machine instead, so every main database this VFS opens is given
// sizeLimit. The database is private to the connection that opens it (its
// name does not begin with "/"), and is freed when that connection closes.
// A rollback journal would go to memdb's underlying disk VFS: connections
// must use journal_mode=MEMORY (or OFF).
package memvfs

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Name is the VFS's name, for the vfs= parameter of a database URI.
const Name = "swfd-memory"

// sizeLimit is the size past which a database refuses to grow (SQLITE_FULL):
// 64 TiB, more than any machine's memory.
const sizeLimit = 1 << 46

var (
	registerOnce sync.Once
	registerErr  error

	// memdb is SQLite's memdb VFS, which does the work; memoryVFS is the
	// VFS registered as Name. Both live for the whole process.
	memdb     uintptr
	memoryVFS sqlite3.Tsqlite3_vfs
)

// Register registers the VFS with SQLite, once per process.
func Register() error {
	registerOnce.Do(func() { registerErr = register() })
	return registerErr
}

func register() error {
	tls := libc.NewTLS()
	defer tls.Close()
	zMemdb, err := libc.CString("memdb")
	if err != nil {
		return fmt.Errorf("memvfs: %w", err)
	}
	defer libc.Xfree(tls, zMemdb)
	memdb = sqlite3.Xsqlite3_vfs_find(tls, zMemdb)
	if memdb == 0 {
		return errors.New("memvfs: SQLite has no memdb VFS")
	}
	memoryVFS = *(*sqlite3.Tsqlite3_vfs)(ptr(memdb))
	memoryVFS.FpNext = 0
	name, err := libc.CString(Name)
	if err != nil {
		return fmt.Errorf("memvfs: %w", err)
	}
	memoryVFS.FzName = name // never freed: SQLite keeps the name for good
	*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&memoryVFS.FxOpen)) = xOpen
	if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&memoryVFS)), 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("memvfs: register VFS: SQLite error %d", rc)
	}
	return nil
}

// xOpen opens a file with memdb and gives a main database sizeLimit. The
// VFS's other methods, and every method of the files it opens, are memdb's.
func xOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	m := (*sqlite3.Tsqlite3_vfs)(ptr(memdb))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxOpen)))(tls, pVfs, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_MAIN_DB == 0 {
		return rc
	}
	f := (*sqlite3.Tsqlite3_file)(ptr(pFile))
	io := (*sqlite3.Tsqlite3_io_methods)(ptr(f.FpMethods))
	limit := tls.Alloc(8)
	defer tls.Free(8)
	*(*int64)(ptr(limit)) = sizeLimit
	if rc := (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&io.FxFileControl)))(tls, pFile, sqlite3.SQLITE_FCNTL_SIZE_LIMIT, limit); rc != sqlite3.SQLITE_OK {
		(*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&io.FxClose)))(tls, pFile)
		f.FpMethods = 0
		return rc
	}
	return sqlite3.SQLITE_OK
}

// ptr turns an address SQLite passed into a pointer. What it points to is
// SQLite's (C memory that modernc.org/libc allocates outside Go's heap), so
// the collector never moves or frees it.
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
