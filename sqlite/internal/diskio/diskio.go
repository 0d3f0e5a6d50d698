// Package diskio is the file layer under the SQLite store: a SQLite VFS
// (registered as "swfd") that passes every file operation through to the
// operating system's VFS and changes one thing, how the write-ahead log is
// written.
//
// SQLite appends a commit to the WAL one frame at a time, and each frame with
// two writes (its 24-byte header, then the page), so a commit that touches 30
// pages costs 60 system calls. Here the frames of a commit are gathered in a
// buffer and written with one call when the commit's last frame arrives, and
// the commit fails, as it would have, if that write fails (a full disk fails
// it with SQLITE_FULL). Nothing is ever published unwritten: SQLite makes a
// commit's frames visible to other connections only by writing the WAL
// index header, which it does after the last frame is written and after
// calling the shared-memory barrier, and the barrier writes out anything
// still buffered. Reads, syncs, truncations and size queries of the WAL
// write out the buffer first too, so SQLite never sees a WAL other than the
// one it wrote.
//
// Durability is unchanged: the VFS syncs exactly when SQLite asks, and the
// store syncs the WAL itself after every commit (see package sqlite).
package diskio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Name is the name the VFS is registered under: open a database through it
// with the URI parameter vfs=swfd.
const Name = "swfd"

var (
	registerOnce sync.Once
	registerErr  error

	// base is the operating system's VFS (SQLite's default), which does
	// the work.
	base uintptr
	// swfdVFS is the VFS registered as Name; methods the I/O methods of
	// every file it opens. Both live for the whole process, where SQLite
	// can always reach them.
	swfdVFS sqlite3.Tsqlite3_vfs
	methods sqlite3.Tsqlite3_io_methods
)

// hdrSize is the part of each sqlite3_file this VFS allocates for itself:
// the methods pointer SQLite calls through, and the file's handle in the
// registry. The base VFS's own file object follows it.
const hdrSize = 16

// Register registers the VFS with SQLite (once per process; later calls
// return the first call's result).
func Register() error {
	registerOnce.Do(func() { registerErr = register() })
	return registerErr
}

func register() error {
	tls := libc.NewTLS()
	defer tls.Close()
	base = sqlite3.Xsqlite3_vfs_find(tls, 0)
	if base == 0 {
		return errors.New("diskio: SQLite has no default VFS")
	}
	b := (*sqlite3.Tsqlite3_vfs)(ptr(base))
	swfdVFS = *b
	swfdVFS.FszOsFile = b.FszOsFile + hdrSize
	swfdVFS.FpNext = 0
	name, err := libc.CString(Name)
	if err != nil {
		return fmt.Errorf("diskio: %w", err)
	}
	swfdVFS.FzName = name // never freed: SQLite keeps the name for good
	*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&swfdVFS.FxOpen)) = xOpen

	methods.FiVersion = 3
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&methods.FxClose)) = xClose
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&methods.FxRead)) = xRead
	*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&methods.FxWrite)) = xWrite
	*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&methods.FxTruncate)) = xTruncate
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&methods.FxSync)) = xSync
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&methods.FxFileSize)) = xFileSize
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&methods.FxLock)) = xLock
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&methods.FxUnlock)) = xUnlock
	*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&methods.FxCheckReservedLock)) = xCheckReservedLock
	*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&methods.FxFileControl)) = xFileControl
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&methods.FxSectorSize)) = xSectorSize
	*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&methods.FxDeviceCharacteristics)) = xDeviceCharacteristics
	*(*func(*libc.TLS, uintptr, int32, int32, int32, uintptr) int32)(unsafe.Pointer(&methods.FxShmMap)) = xShmMap
	*(*func(*libc.TLS, uintptr, int32, int32, int32) int32)(unsafe.Pointer(&methods.FxShmLock)) = xShmLock
	*(*func(*libc.TLS, uintptr))(unsafe.Pointer(&methods.FxShmBarrier)) = xShmBarrier
	*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&methods.FxShmUnmap)) = xShmUnmap
	*(*func(*libc.TLS, uintptr, int64, int32, uintptr) int32)(unsafe.Pointer(&methods.FxFetch)) = xFetch
	*(*func(*libc.TLS, uintptr, int64, uintptr) int32)(unsafe.Pointer(&methods.FxUnfetch)) = xUnfetch

	if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&swfdVFS)), 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("diskio: register VFS: SQLite error %d", rc)
	}
	return nil
}

// file is this VFS's state of one open file.
type file struct {
	under uintptr // the base VFS's file object
	m     *sqlite3.Tsqlite3_io_methods

	// The main database file of a connection: the WAL file the same
	// connection opened, whose buffer its barrier writes out; and the
	// WAL's way back to it.
	wal *file
	db  *file

	// A WAL file: the frames not yet written, which belong at off.
	isWAL bool
	buf   []byte
	off   int64
	// commitNext: the header of a commit frame is in buf, so the next
	// write, its page, ends a commit. written: a commit has just been
	// written out and its header not yet published (the next barrier
	// comes first); writes till then go straight through.
	commitNext bool
	written    bool
	// failed is the error of a write out that could not report it.
	failed int32
}

// maxBuffer is how many bytes of frames are gathered at most before they
// are written out (a transaction larger than that is written in pieces, as
// SQLite writes it when its page cache spills).
const maxBuffer = 1 << 20

// maxWrite is the most the base VFS writes in one system call.
const maxWrite = 128<<10 - 1

// testHook, set only by tests (SetWriteFault), sees every write handed to
// the base VFS before it is made, and fails it by returning a SQLite error
// code.
var testHook atomic.Pointer[func(wal bool, n int32, off int64) int32]

// SetWriteFault is for tests of the layers above: fn sees every write
// handed to the operating system from then on (wal: to a write-ahead log;
// n bytes at off) before it is made, and a SQLite result code other than
// SQLITE_OK fails the write with that code, as the system's error would
// have (SQLITE_IOERR_WRITE for an I/O error or a file system gone
// read-only). SetWriteFault(nil) ends it.
func SetWriteFault(fn func(wal bool, n int32, off int64) int32) {
	if fn == nil {
		testHook.Store(nil)
		return
	}
	testHook.Store(&fn)
}

// shmHook, set only by tests (SetShmFault), sees every request to map a
// region of a shared-memory (-shm) file before it is passed on, and fails
// it by returning a SQLite error code.
var shmHook atomic.Pointer[func(region int32, extend bool) int32]

// SetShmFault is for tests of the layers above: fn sees every request to
// map region (counted from 0) of a WAL index's shared memory from then on,
// extend when the file may be grown to hold it, before it is passed on,
// and a SQLite result code other than SQLITE_OK fails the request with
// that code (SQLITE_IOERR_SHMSIZE, as when the -shm file cannot grow on
// a full file system). SetShmFault(nil) ends it.
func SetShmFault(fn func(region int32, extend bool) int32) {
	if fn == nil {
		shmHook.Store(nil)
		return
	}
	shmHook.Store(&fn)
}

// The registry of open files: a file's handle, stored in its sqlite3_file,
// is its index here plus one.
var (
	regMu sync.RWMutex
	reg   []*file
	free  []uintptr
)

func register1(f *file) uintptr {
	regMu.Lock()
	defer regMu.Unlock()
	if n := len(free); n > 0 {
		h := free[n-1]
		free = free[:n-1]
		reg[h-1] = f
		return h
	}
	reg = append(reg, f)
	return uintptr(len(reg))
}

func unregister(h uintptr) {
	regMu.Lock()
	defer regMu.Unlock()
	reg[h-1] = nil
	free = append(free, h)
}

// get returns the state of the file SQLite passed.
func get(p uintptr) *file {
	h := *(*uintptr)(ptr(p + 8))
	regMu.RLock()
	f := reg[h-1]
	regMu.RUnlock()
	return f
}

func xOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	under := pFile + hdrSize
	b := (*sqlite3.Tsqlite3_vfs)(ptr(base))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&b.FxOpen)))(tls, base, zName, under, flags, pOutFlags)
	uf := (*sqlite3.Tsqlite3_file)(ptr(under))
	if rc != sqlite3.SQLITE_OK || uf.FpMethods == 0 {
		(*sqlite3.Tsqlite3_file)(ptr(pFile)).FpMethods = 0
		if rc == sqlite3.SQLITE_OK {
			rc = sqlite3.SQLITE_CANTOPEN
		}
		return rc
	}
	f := &file{under: under, m: (*sqlite3.Tsqlite3_io_methods)(ptr(uf.FpMethods))}
	if flags&sqlite3.SQLITE_OPEN_WAL != 0 && zName != 0 {
		// The WAL's buffer is written out by its database file's
		// barrier; without that link, buffering would not be safe.
		if db := sqlite3.Xsqlite3_database_file_object(tls, zName); db != 0 &&
			(*sqlite3.Tsqlite3_file)(ptr(db)).FpMethods == uintptr(unsafe.Pointer(&methods)) {
			f.isWAL = true
			f.db = get(db)
			f.db.wal = f
		}
	}
	*(*uintptr)(ptr(pFile + 8)) = register1(f)
	(*sqlite3.Tsqlite3_file)(ptr(pFile)).FpMethods = uintptr(unsafe.Pointer(&methods))
	return sqlite3.SQLITE_OK
}

// ptr turns an address SQLite passed into a pointer. What it points to is
// SQLite's (C memory that modernc.org/libc allocates outside Go's heap) or
// this package's globals, so the collector never moves or frees it.
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// flush writes out the buffered frames. When that fails they are dropped:
// SQLite is told that its write failed and abandons the transaction (the
// frames were never published), so nothing will ask for them.
func (f *file) flush(tls *libc.TLS) int32 {
	if len(f.buf) == 0 {
		return sqlite3.SQLITE_OK
	}
	var rc int32 = sqlite3.SQLITE_OK
	for b, off := f.buf, f.off; len(b) > 0 && rc == sqlite3.SQLITE_OK; {
		// The base VFS writes less than 128 KiB per call (and fails a
		// write of exactly 128 KiB): hand it no more than it takes.
		n := min(len(b), maxWrite)
		rc = f.write(tls, uintptr(unsafe.Pointer(&b[0])), int32(n), off)
		b, off = b[n:], off+int64(n)
	}
	f.buf = f.buf[:0]
	f.commitNext = false
	return rc
}

// write writes through the base VFS.
func (f *file) write(tls *libc.TLS, p uintptr, n int32, off int64) int32 {
	if h := testHook.Load(); h != nil {
		if rc := (*h)(f.isWAL, n, off); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&f.m.FxWrite)))(tls, f.under, p, n, off)
}

func xWrite(tls *libc.TLS, pFile, p uintptr, n int32, off int64) int32 {
	f := get(pFile)
	if !f.isWAL {
		return f.write(tls, p, n, off)
	}
	if rc := f.failed; rc != sqlite3.SQLITE_OK {
		f.failed = sqlite3.SQLITE_OK
		return rc
	}
	data := unsafe.Slice((*byte)(ptr(p)), n)
	end := f.off + int64(len(f.buf))
	switch {
	case f.written:
		// A write after a commit and before it is published (SQLite
		// rewriting frame checksums): straight through.
	case len(f.buf) > 0 && off == end:
		// The next frame header or page of the commit being written.
		f.buf = append(f.buf, data...)
		if f.commitNext && n != 24 {
			// The commit's last page: write the commit out now, so
			// that a failure fails the commit.
			rc := f.flush(tls)
			if rc == sqlite3.SQLITE_OK {
				f.written = true
			}
			return rc
		}
		f.commitNext = n == 24 && binary.BigEndian.Uint32(data[4:8]) != 0
		if len(f.buf) >= maxBuffer {
			return f.flush(tls)
		}
		return sqlite3.SQLITE_OK
	case n == 24 || (n == 32 && off == 0):
		// The first frame header of a commit, or the WAL header
		// before it: start gathering.
		if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
		f.buf = append(f.buf[:0], data...)
		f.off = off
		f.commitNext = n == 24 && binary.BigEndian.Uint32(data[4:8]) != 0
		return sqlite3.SQLITE_OK
	}
	if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return f.write(tls, p, n, off)
}

func xRead(tls *libc.TLS, pFile, p uintptr, n int32, off int64) int32 {
	f := get(pFile)
	if len(f.buf) > 0 && off < f.off+int64(len(f.buf)) && off+int64(n) > f.off {
		if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&f.m.FxRead)))(tls, f.under, p, n, off)
}

func xClose(tls *libc.TLS, pFile uintptr) int32 {
	f := get(pFile)
	rc := f.flush(tls)
	rc2 := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&f.m.FxClose)))(tls, f.under)
	if f.wal != nil {
		f.wal.db = nil
	}
	if f.db != nil && f.db.wal == f {
		f.db.wal = nil
	}
	unregister(*(*uintptr)(ptr(pFile + 8)))
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return rc2
}

func xTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	f := get(pFile)
	if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&f.m.FxTruncate)))(tls, f.under, size)
}

func xSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	f := get(pFile)
	if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&f.m.FxSync)))(tls, f.under, flags)
}

func xFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	f := get(pFile)
	if rc := f.flush(tls); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&f.m.FxFileSize)))(tls, f.under, pSize)
}

func xLock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&f.m.FxLock)))(tls, f.under, lock)
}

func xUnlock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&f.m.FxUnlock)))(tls, f.under, lock)
}

func xCheckReservedLock(tls *libc.TLS, pFile, pOut uintptr) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&f.m.FxCheckReservedLock)))(tls, f.under, pOut)
}

func xFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&f.m.FxFileControl)))(tls, f.under, op, pArg)
}

func xSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	f := get(pFile)
	if f.m.FxSectorSize == 0 {
		return 4096
	}
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&f.m.FxSectorSize)))(tls, f.under)
}

func xDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&f.m.FxDeviceCharacteristics)))(tls, f.under)
}

func xShmMap(tls *libc.TLS, pFile uintptr, page, size, extend int32, pp uintptr) int32 {
	if h := shmHook.Load(); h != nil {
		if rc := (*h)(page, extend != 0); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32, int32, int32, uintptr) int32)(unsafe.Pointer(&f.m.FxShmMap)))(tls, f.under, page, size, extend, pp)
}

func xShmLock(tls *libc.TLS, pFile uintptr, offset, n, flags int32) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32, int32, int32) int32)(unsafe.Pointer(&f.m.FxShmLock)))(tls, f.under, offset, n, flags)
}

// xShmBarrier comes before SQLite publishes a commit in the WAL index: the
// connection's WAL must be written out by then. Its buffer is empty then
// (the commit's last frame wrote it out), or holds the frames of a
// transaction not yet committed, which are written out here on their way.
// A failure here, where none can be reported, is reported by the WAL's next
// write.
func xShmBarrier(tls *libc.TLS, pFile uintptr) {
	f := get(pFile)
	if w := f.wal; w != nil {
		if rc := w.flush(tls); rc != sqlite3.SQLITE_OK {
			w.failed = rc
		}
		w.written = false
	}
	(*(*func(*libc.TLS, uintptr))(unsafe.Pointer(&f.m.FxShmBarrier)))(tls, f.under)
}

func xShmUnmap(tls *libc.TLS, pFile uintptr, del int32) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&f.m.FxShmUnmap)))(tls, f.under, del)
}

func xFetch(tls *libc.TLS, pFile uintptr, off int64, n int32, pp uintptr) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int64, int32, uintptr) int32)(unsafe.Pointer(&f.m.FxFetch)))(tls, f.under, off, n, pp)
}

func xUnfetch(tls *libc.TLS, pFile uintptr, off int64, p uintptr) int32 {
	f := get(pFile)
	return (*(*func(*libc.TLS, uintptr, int64, uintptr) int32)(unsafe.Pointer(&f.m.FxUnfetch)))(tls, f.under, off, p)
}
